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
    let out = db.run(&[
        "user",
        "create",
        "li",
        "--role",
        "grid_worker@370725001001099",
    ]);
    // A role on a grid that is not there creates nothing: the command corrected, it works.
    assert!(!out.status.success());
    assert!(!text(&out.stdout).contains("一次性密码"));
    assert!(
        text(&out.stderr).contains("没有这个网格"),
        "{}",
        text(&out.stderr)
    );
    let out = db.run(&[
        "user",
        "create",
        "li",
        "--role",
        "grid_worker@370725001001002",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
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
    // A reset from the console holds the grid worker's reveal like one from the web; two resets
    // give two different passwords (random, not from the clock).
    let reset = |db: &common::Db| {
        let out = db.run(&["user", "reset-password", "wang"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let (first, second) = (reset(&db), reset(&db));
    assert!(
        first.contains("待安全管理员在账号页核实本人后恢复"),
        "{first}"
    );
    assert_ne!(first, second);
    let out = db.run(&["user", "reset-totp", "wang"]);
    assert!(text(&out.stdout).contains("已清除 wang 的两步验证"));
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
    // The console's account changes are in the log too, as the operator's.
    let console: Vec<String> = rt
        .block_on(store.audit_rows(&wangge_store::AuditFilter {
            user: Some("console".into()),
            limit: 100,
            ..Default::default()
        }))
        .unwrap()
        .into_iter()
        .rev()
        .map(|r| format!("{} {}", r.action, r.object))
        .collect();
    assert_eq!(
        console,
        [
            "cli user create user:wang",
            "cli user roles user:wang 无 → grid_worker@370725001001001",
            "cli user create user:li",
            "cli user roles user:li 无 → grid_worker@370725001001002",
            "cli user reset-password user:wang",
            "cli user reset-password user:wang",
            "cli user reset-totp user:wang",
            "cli user disable user:wang",
        ]
    );
    let out = db.run(&["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("共 13 行，哈希链校验通过"),
        "{}",
        text(&out.stdout)
    );

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
        "--star-sizes",
        "100",
        "--write-towns",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("| 300 | 500–600 |"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("Hub stars") && text(&out.stdout).contains("| 100 | 200–300 |"),
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

/// A 100 m square parcel whose west side is at `x`.
fn square(x: i64) -> serde_json::Value {
    serde_json::json!({"type": "Polygon", "coordinates": [[[x, 0], [x + 100, 0], [x + 100, 100], [x, 100], [x, 0]]]})
}

/// Runs `wangge plan --input <input> <extra> --out …`, which must succeed: the plan written,
/// and what it printed.
fn plan_file(db: &Db, input: &std::path::Path, extra: &[&str]) -> (serde_json::Value, String) {
    let out_file = db.path("plan-out.geojson");
    let mut args = vec!["plan", "--input", input.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", out_file.to_str().unwrap()]);
    let out = db.run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    (doc, text(&out.stdout))
}

#[test]
fn plan_across_a_lane_with_gap_but_never_across_a_barrier() {
    let db = Db::new();
    // Two 260-household compounds 100 m wide, a 12 m lane between them.
    let input = db.path("pair.geojson");
    let doc = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "west", "households": 260}, "geometry": square(0)},
        {"type": "Feature", "properties": {"id": "east", "households": 260}, "geometry": square(112)}]});
    std::fs::write(&input, doc.to_string()).unwrap();
    let road = db.path("road.geojson");
    let lines = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "新华路"}, "geometry": {"type": "LineString", "coordinates": [[106, -500], [106, 500]]}}]});
    std::fs::write(&road, lines.to_string()).unwrap();
    let grids = |extra: &[&str]| {
        let mut args = vec!["--min", "500", "--max", "600"];
        args.extend_from_slice(extra);
        plan_file(&db, &input, &args).0["features"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        grids(&[]),
        2,
        "boundaries that do not touch are not neighbours"
    );
    assert_eq!(
        grids(&["--gap", "15"]),
        1,
        "15 m bridges the lane: one grid of 520"
    );
    assert_eq!(grids(&["--gap", "8"]), 2, "8 m does not");
    let road = road.to_str().unwrap();
    assert_eq!(
        grids(&["--gap", "15", "--barriers", road]),
        2,
        "no grid crosses the road"
    );
    // The two as current grids, one kept as it is: they stay apart even across the lane. The
    // file was saved with a byte-order mark, as Windows tools do.
    let current = db.path("current.geojson");
    let grids_doc = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "001", "compounds": ["west"]}, "geometry": null},
        {"type": "Feature", "properties": {"code": "002", "compounds": ["east"]}, "geometry": null}]});
    std::fs::write(
        &current,
        [b"\xEF\xBB\xBF".as_slice(), grids_doc.to_string().as_bytes()].concat(),
    )
    .unwrap();
    let current = current.to_str().unwrap();
    assert_eq!(grids(&["--gap", "15", "--current", current]), 1);
    let (doc, printed) = plan_file(
        &db,
        &input,
        &[
            "--min",
            "500",
            "--max",
            "600",
            "--gap",
            "15",
            "--current",
            current,
            "--keep",
            "001",
        ],
    );
    let kept = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["properties"]["code"] == "001")
        .expect("001 kept")["properties"]
        .clone();
    assert_eq!(kept["compounds"], serde_json::json!(["west"]));
    assert_eq!(kept["reason"], "fixed");
    assert!(printed.contains("按要求保持不变的网格 | 1"), "{printed}");
    // Refused, naming what is wrong, and nothing written.
    for (extra, expected) in [
        (vec!["--keep", "001"], "--current"),
        (vec!["--current", current, "--keep", "009"], "009"),
        (vec!["--gap", "900"], "--gap"),
    ] {
        let mut args = vec![
            "plan",
            "--input",
            input.to_str().unwrap(),
            "--min",
            "500",
            "--max",
            "600",
        ];
        args.extend(extra);
        let never = db.path("never.geojson");
        args.extend(["--out", never.to_str().unwrap()]);
        let out = db.run(&args);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains(expected),
            "{}",
            text(&out.stderr)
        );
        assert!(!never.exists());
    }
    assert!(!db.path("never.geojson").exists());
}

#[test]
fn a_policy_that_makes_each_residents_group_a_grid_is_followed() {
    let db = Db::new();
    // 一组 (120) – 二组 (150) – 三组 (100), residents' groups in a row, touching; and a
    // 100-household compound beside 三组.
    let input = db.path("groups.geojson");
    let doc = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "一组", "households": 120, "kind": "residents_group"}, "geometry": square(0)},
        {"type": "Feature", "properties": {"id": "二组", "households": 150, "kind": "居民小组"}, "geometry": square(100)},
        {"type": "Feature", "properties": {"id": "三组", "households": 100, "kind": "residents_group"}, "geometry": square(200)},
        {"type": "Feature", "properties": {"id": "新村", "households": 100, "kind": "compound"}, "geometry": square(300)}]});
    std::fs::write(&input, doc.to_string()).unwrap();
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/411002-weidu-2017.toml"
    );
    let run = |extra: &[&str]| {
        let (doc, stdout) = plan_file(&db, &input, extra);
        let mut grids: Vec<(String, String)> = doc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let p = &g["properties"];
                let ids: Vec<&str> = p["compounds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap())
                    .collect();
                (
                    ids.join("+"),
                    p["reason"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        grids.sort();
        (grids, stdout)
    };
    // The band alone merges them: 470 households at 200–300 make two grids.
    let (free, _) = run(&["--min", "200", "--max", "300"]);
    assert_eq!(free.len(), 2, "{free:?}");
    // Under 魏都区's 2017 policy (200–300, one residents' group a grid), each group stands
    // alone and the compound beside them is a small group of its own.
    let (grids, stdout) = run(&["--policy", policy]);
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        grids,
        vec![
            pair("一组", "own_grid"),
            pair("三组", "own_grid"),
            pair("二组", "own_grid"),
            pair("新村", "small_group"),
        ]
    );
    assert!(stdout.contains("| 按政策单独成格 | 3 |"), "{stdout}");
    // And what the plan needs under it: every grid a leader and four staff ("长四员").
    assert!(
        stdout.contains("按魏都区 2017 年政策测算，方案 4 个网格需网格长 4 名（每个网格应设）；网格长以外的网格工作人员 16 名。"),
        "{stdout}"
    );
}

/// Every cell of every sheet, as text: what a snapshot of a workbook's layout compares.
fn dump(sheets: &[wangge_domain::annex2::Sheet]) -> String {
    let mut out = String::new();
    for s in sheets {
        out.push_str(&format!("== {}\n", s.name.clone().unwrap_or_default()));
        for (i, row) in s.rows.iter().enumerate() {
            if row.iter().any(|c| !c.is_empty()) {
                out.push_str(&format!("{:>3} | {}\n", i + 1, row.join(" | ")));
            }
        }
    }
    out
}

#[test]
fn the_budget_workbook_of_the_demo_county() {
    let db = Db::new();
    assert!(db.run(&["demo"]).status.success());
    let xlsx = db.path("budget.xlsx");
    let out = db.run(&[
        "budget",
        "--year",
        "2021",
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("370725-changle-2020.toml"));
    let sheets = wangge_sheets::read("budget.xlsx", &std::fs::read(&xlsx).unwrap()).unwrap();
    let names: Vec<String> = sheets.iter().filter_map(|s| s.name.clone()).collect();
    assert_eq!(
        names,
        [
            "附件3（宝都）",
            "附件3（宝城）",
            "附件4（宝都）",
            "附件4（宝城）"
        ]
    );
    // Every 合计 row equals the sum of its rows, column by column.
    for s in &sheets {
        let total = s
            .rows
            .iter()
            .position(|r| r.first().is_some_and(|c| c == "合计"))
            .expect("合计 row");
        let width = s.rows[total].len();
        for col in 1..width {
            let Ok(t) = s.rows[total][col].parse::<f64>() else {
                continue;
            };
            let first = s
                .rows
                .iter()
                .position(|r| r.first().is_some_and(|c| c.parse::<i64>().is_ok()))
                .unwrap();
            let numbers: Vec<f64> = s.rows[first..total]
                .iter()
                .filter_map(|r| r.get(col)?.parse::<f64>().ok())
                .collect();
            if numbers.is_empty() {
                continue; // a text column whose 合计 cell counts the rows
            }
            let sum: f64 = numbers.iter().sum();
            assert!(
                (sum - t).abs() < 1e-6,
                "{:?} column {col}: 合计 {t} but rows sum to {sum}",
                s.name
            );
        }
    }
    insta::assert_snapshot!("budget_2021_workbook", dump(&sheets));

    // JSON and CSV too.
    let json = db.path("budget.json");
    assert!(
        db.run(&[
            "budget",
            "--year",
            "2021",
            "--format",
            "json",
            "--out",
            json.to_str().unwrap()
        ])
        .status
        .success()
    );
    let e: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(e["streets"][0]["subsidy"]["year_fen"], 196_200_000i64);

    // Change only the policy file: the band to 200–300 — findings and budgets follow.
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../policies/370725-changle-2020.toml"
    ))
    .unwrap();
    let changed = shipped
        .replacen("household_floor = 500", "household_floor = 200", 1)
        .replacen("household_ceiling = 600", "household_ceiling = 300", 1);
    assert_ne!(changed, shipped, "the policy file names its band");
    let policy = db.path("changed.toml");
    std::fs::write(&policy, &changed).unwrap();
    let json2 = db.path("budget2.json");
    let out = db.run(&[
        "budget",
        "--year",
        "2021",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        json2.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let e2: serde_json::Value = serde_json::from_slice(&std::fs::read(&json2).unwrap()).unwrap();
    let over = |e: &serde_json::Value| {
        e["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "grid_over_ceiling")
            .count()
    };
    assert!(
        over(&e2) > over(&e),
        "a lower ceiling finds more grids over it: {} vs {}",
        over(&e2),
        over(&e)
    );
    // A malformed policy is refused with the key named.
    std::fs::write(
        &policy,
        shipped.replacen("household_floor = 500", "household_flor = 500", 1),
    )
    .unwrap();
    let out = db.run(&[
        "budget",
        "--year",
        "2021",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        json2.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("household_flor"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn residents_in_and_out_and_keys_rotated() {
    let db = Db::new();
    let out = db.run(&["demo"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        db.dir.path().join("data.key").exists(),
        "the key file is made on first use"
    );

    // A table of generated residents for one grid, revealed (as an office would type it).
    let grid = "370725002001001".to_string();
    let rows =
        wangge_web::people::synth_rows(99, 40, std::slice::from_ref(&grid), wangge_store::today());
    let mut table = vec![wangge_domain::people::import::header_row()];
    let mut rows = rows;
    for (i, r) in rows.iter_mut().enumerate() {
        // Sequence numbers the demo's generator does not use, keeping each person's sex.
        let male = r.id_number.sex() == wangge_domain::people::Sex::Male;
        let seq = 800 + 2 * i as u16 + u16::from(male);
        r.id_number =
            wangge_domain::people::IdNumber::from_parts("370725", r.id_number.birth_date(), seq)
                .unwrap();
    }
    for r in &rows {
        let mut r = r.clone();
        r.household = format!("T{}", r.household);
        table.push(wangge_domain::people::import::export_row(&r, true));
    }
    let file = db.path("residents.csv");
    std::fs::write(&file, wangge_sheets::write_csv(&table, true).unwrap()).unwrap();
    let out = db.run(&["import", "residents", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("40 名居民"),
        "{}",
        text(&out.stdout)
    );
    // The same file again: every person is already registered; nothing is written.
    let out = db.run(&["import", "residents", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("已登记"),
        "{}",
        text(&out.stderr)
    );
    // A wrong check digit is named by row and column.
    let mut bad = table.clone();
    let id = bad[3][bad[0].iter().position(|h| h.contains("身份")).unwrap()].clone();
    let col = bad[0].iter().position(|h| h.contains("身份")).unwrap();
    let wrong = if id.ends_with('0') {
        format!("{}1", &id[..17])
    } else {
        format!("{}0", &id[..17])
    };
    bad[3][col] = wrong;
    std::fs::write(&file, wangge_sheets::write_csv(&bad, false).unwrap()).unwrap();
    let out = db.run(&["import", "residents", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("第 4 行"),
        "{}",
        text(&out.stderr)
    );

    // Export is masked.
    let csv = db.path("out.csv");
    let out = db.run(&[
        "export",
        "residents",
        "--grid",
        &grid,
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = wangge_sheets::decode(&std::fs::read(&csv).unwrap());
    assert!(exported.contains(&rows[0].id_number.mask()));
    assert!(!exported.contains(rows[0].id_number.as_str()));

    // Rotate: a second key; everything still reads back.
    let out = db.run(&["keys", "rotate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("k2"), "{}", text(&out.stdout));
    let keys = std::fs::read_to_string(db.dir.path().join("data.key")).unwrap();
    assert_eq!(keys.lines().count(), 2);
    let out = db.run(&[
        "export",
        "residents",
        "--grid",
        &grid,
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        wangge_sheets::decode(&std::fs::read(&csv).unwrap()),
        exported
    );
}

/// Six 100 m parcels in a row (ids a…), with these households, in community 370725001001.
fn row_of(households: &[i64]) -> serde_json::Value {
    let feats: Vec<serde_json::Value> = households
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let id = ((b'a' + i as u8) as char).to_string();
            serde_json::json!({"type": "Feature",
                "properties": {"id": id, "households": h, "community": "370725001001"},
                "geometry": square(100 * i as i64)})
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": feats})
}

#[test]
fn a_grid_code_retired_in_one_round_is_never_given_in_a_later_one() {
    let db = Db::new();
    let round = |n: usize, households: &[i64], current: Option<&str>| {
        let input = db.path(&format!("r{n}.geojson"));
        std::fs::write(&input, row_of(households).to_string()).unwrap();
        let out = db.path(&format!("p{n}.geojson"));
        let mut args = vec!["plan", "--input", input.to_str().unwrap()];
        args.extend_from_slice(&["--min", "500", "--max", "600"]);
        if let Some(c) = current {
            args.extend_from_slice(&["--current", c]);
        }
        args.extend_from_slice(&["--out", out.to_str().unwrap()]);
        let o = db.run(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        (out.to_str().unwrap().to_string(), doc)
    };
    let codes = |doc: &serde_json::Value| -> Vec<String> {
        doc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
            .collect()
    };
    let (p1, d1) = round(1, &[250; 6], None);
    assert_eq!(codes(&d1).len(), 3);
    assert!(d1.get("retired_codes").is_none());
    // Round 2: c…f shrink; two of round 1's grids become one, and a code is retired.
    let (p2, d2) = round(2, &[250, 250, 150, 150, 150, 100], Some(&p1));
    let retired: Vec<String> = d2["retired_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(!retired.is_empty(), "{d2}");
    // Round 3: two parcels more to the east; the retired code is not given again.
    let (_, d3) = round(3, &[250, 250, 150, 150, 150, 100, 260, 260], Some(&p2));
    for c in &retired {
        assert!(!codes(&d3).contains(c), "{c} reused: {:?}", codes(&d3));
    }
    assert_eq!(d3["retired_codes"], d2["retired_codes"]);
    // And by hand: --retired keeps a code out of a first plan too.
    let input = db.path("r1.geojson");
    let (doc, _) = plan_file(
        &db,
        &input,
        &[
            "--min",
            "500",
            "--max",
            "600",
            "--retired",
            "370725001001001",
        ],
    );
    assert!(!codes(&doc).contains(&"370725001001001".to_string()));
}

#[test]
fn a_parcel_left_in_another_coordinate_system_is_named_and_nothing_is_written() {
    let db = Db::new();
    let lonlat = |i: usize| {
        let x = 118.8 + 0.001 * i as f64;
        serde_json::json!({"type": "Feature", "properties": {"id": format!("c{i}"), "households": 260},
            "geometry": {"type": "Polygon", "coordinates": [[[x, 36.7], [x + 0.001, 36.7], [x + 0.001, 36.701], [x, 36.701], [x, 36.7]]]}})
    };
    let mut feats: Vec<serde_json::Value> = (0..5).map(lonlat).collect();
    feats.push(
        serde_json::json!({"type": "Feature", "properties": {"id": "BAD", "households": 100},
        "geometry": square(39_500_000)}),
    );
    let input = db.path("mixed.geojson");
    std::fs::write(
        &input,
        serde_json::json!({"type": "FeatureCollection", "features": feats}).to_string(),
    )
    .unwrap();
    let out = db.path("mixed-plan.geojson");
    std::fs::write(&out, "an earlier plan").unwrap();
    let o = db.run(&[
        "plan",
        "--input",
        input.to_str().unwrap(),
        "--min",
        "500",
        "--max",
        "600",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("mixed.geojson 第 6 个要素「geometry」小区「BAD」的坐标（39500000, 0）不是经纬度，而文件中另有 5 个小区是经纬度"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "an earlier plan");
    // A folder that does not exist is named, in Chinese.
    std::fs::write(db.path("r1.geojson"), row_of(&[250; 6]).to_string()).unwrap();
    let o = db.run(&[
        "plan",
        "--input",
        db.path("r1.geojson").to_str().unwrap(),
        "--min",
        "500",
        "--max",
        "600",
        "--out",
        "/nonexistent-folder/p.geojson",
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("无法写入 /nonexistent-folder/p.geojson：找不到该文件或其所在的文件夹"),
        "{err}"
    );
}

#[test]
fn a_command_line_it_cannot_read_is_explained_in_chinese() {
    let db = Db::new();
    for (args, says) in [
        (
            &[
                "plan", "--input", "x", "--min", "-5", "--max", "600", "--out", "o",
            ][..],
            "错误：「-5」不是可用的值（户数、米数等不能为负）",
        ),
        (
            &[
                "plan", "--input", "x", "--min", "abc", "--max", "600", "--out", "o",
            ][..],
            "错误：参数 --min <MIN> 的值「abc」无效",
        ),
        (
            &["plan", "--input", "x", "--min", "5"][..],
            "错误：缺少必需的参数：--out <OUT>",
        ),
        (&["planx"][..], "错误：没有这个命令「planx」"),
    ] {
        let o = db.run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = text(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("error:"), "{err}");
    }
    let help = db.run(&["plan", "--help"]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("--min"));
}

#[test]
fn serve_checks_the_county_s_policy_files_before_it_starts() {
    let db = Db::new();
    // A directory that is not there, then a file that does not parse: named, no server.
    let out = db.run(&[
        "serve",
        "--policies",
        &db.path("none").display().to_string(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("无法读取政策目录"),
        "{}",
        text(&out.stderr)
    );
    let dir = db.path("policies");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("370781-qingzhou-2020.toml"),
        "jurisdiction_code = 1",
    )
    .unwrap();
    let out = db.run(&["serve", "--policies", &dir.display().to_string()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("370781-qingzhou-2020.toml"),
        "{}",
        text(&out.stderr)
    );
}
