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
