//! The binary's table commands: export, import back, and a refused file.

mod common;

use common::{Db, text};

#[test]
fn export_and_import_communities_with_the_binary() {
    let db = Db::new();
    let out = db.run(&["demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let xlsx = db.path("annex2.xlsx");
    let out = db.run(&[
        "export",
        "communities",
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = db.path("annex2.csv");
    let out = db.run(&[
        "export",
        "communities",
        "--format",
        "csv",
        "--gbk",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Importing what was exported changes nothing: 22 communities updated, none created.
    let out = db.run(&["import", "communities", xlsx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 个街道，新建 0 个社区，更新 22 个社区"),
        "{}",
        text(&out.stdout)
    );
    let csv2 = db.path("again.csv");
    db.run(&[
        "export",
        "communities",
        "--format",
        "csv",
        "--gbk",
        "--out",
        csv2.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&csv).unwrap(), std::fs::read(&csv2).unwrap());

    // A wrong 合计: refused, every error printed with row and column, exit code 1.
    let bytes = std::fs::read(&csv).unwrap();
    let broken = wangge_sheets::decode(&bytes).replacen(",98161,", ",98160,", 1);
    let bad = db.path("bad.csv");
    std::fs::write(&bad, broken.as_bytes()).unwrap();
    let out = db.run(&["import", "communities", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("E 列「户数」：合计为 98160，但各社区之和为 98161"),
        "{err}"
    );
    assert!(err.contains("未导入任何数据"), "{err}");
}

#[test]
fn accounts_and_the_audit_chain_from_the_command_line() {
    let db = Db::new();
    assert!(db.run(&["demo"]).status.success());
    let out = db.run(&[
        "user",
        "create",
        "wang",
        "--name",
        "王网格",
        "--role",
        "grid_worker@370725001001001",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("一次性密码"));
    let out = db.run(&["user", "roles", "wang", "grid_worker@370725"]);
    assert!(!out.status.success(), "a grid worker is bound to a grid");
    assert!(
        text(&out.stderr).contains("只能绑定到网格"),
        "{}",
        text(&out.stderr)
    );
    let out = db.run(&["user", "list"]);
    assert!(
        text(&out.stdout).contains("wang\t正常\tgrid_worker@370725001001001"),
        "{}",
        text(&out.stdout)
    );
    assert!(db.run(&["user", "disable", "wang"]).status.success());
    assert!(text(&db.run(&["user", "list"]).stdout).contains("wang\t已停用"));

    // Rows to chain: a few logins against the real server are simpler through the store.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt
        .block_on(wangge_store::Store::open(&wangge_store::DbOptions {
            data_dir: db.dir.path().into(),
            database_url: db.url.clone(),
        }))
        .unwrap();
    for i in 0..5 {
        let e = wangge_store::AuditEntry {
            user: format!("u{i}"),
            action: "login".into(),
            object: "/login".into(),
            result: "ok".into(),
            ..Default::default()
        };
        rt.block_on(store.audit(&e)).unwrap();
    }
    let out = db.run(&["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("共 5 行，哈希链校验通过"));

    // One byte of row 3 changed directly in the database.
    let postgres = db.url.is_some();
    let unguard = if postgres {
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"
    } else {
        "DROP TRIGGER audit_log_no_update"
    };
    rt.block_on(store.execute_as_app(unguard)).unwrap();
    rt.block_on(store.execute_as_app("UPDATE audit_log SET user_name = 'v2' WHERE seq = 3"))
        .unwrap();
    let out = db.run(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("审计日志第 3 行校验失败"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_a_generated_town_from_files() {
    let db = Db::new();
    let dir = db.path("towns");
    let out = db.run(&[
        "bench",
        "plan",
        "--sizes",
        "300",
        "--write-towns",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("| 300 | 500–600 |"),
        "{}",
        text(&out.stdout)
    );
    let input = dir.join("town_300.compounds.geojson");
    let adjacency = dir.join("town_300.adjacency.json");
    let plan = db.path("plan.geojson");
    let out = db.run(&[
        "plan",
        "--input",
        input.to_str().unwrap(),
        "--adjacency",
        adjacency.to_str().unwrap(),
        "--min",
        "500",
        "--max",
        "600",
        "--out",
        plan.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    let grids = doc["features"].as_array().unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut compounds = 0;
    for g in grids {
        let p = &g["properties"];
        assert!(
            seen.insert(p["code"].as_str().unwrap().to_string()),
            "codes are unique"
        );
        let h = p["households"].as_i64().unwrap();
        assert_eq!(p["in_band"].as_bool().unwrap(), (500..=600).contains(&h));
        if !p["in_band"].as_bool().unwrap() {
            assert!(p["reason"].is_string());
        }
        compounds += p["compounds"].as_array().unwrap().len();
    }
    assert_eq!(compounds, 300, "every compound in exactly one grid");

    // The band from a policy file: 昌乐 2020 says 500–600.
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/370725-changle-2020.toml"
    );
    let plan2 = db.path("plan2.geojson");
    let out = db.run(&[
        "plan",
        "--input",
        input.to_str().unwrap(),
        "--policy",
        policy,
        "--out",
        plan2.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc2: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan2).unwrap()).unwrap();
    for g in doc2["features"].as_array().unwrap() {
        let p = &g["properties"];
        let h = p["households"].as_i64().unwrap();
        assert_eq!(
            p["in_band"].as_bool(),
            Some((500..=600).contains(&h)),
            "the band came from the policy file"
        );
    }

    // Bad input: named file, feature and field; nothing written.
    let bad = db.path("bad.geojson");
    std::fs::write(&bad, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a","households":"很多"},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#).unwrap();
    let out = db.run(&[
        "plan",
        "--input",
        bad.to_str().unwrap(),
        "--min",
        "500",
        "--max",
        "600",
        "--out",
        db.path("x.geojson").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("households"),
        "{}",
        text(&out.stderr)
    );
    assert!(!db.path("x.geojson").exists());
}
