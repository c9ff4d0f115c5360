//! Department grids (部门网格): a department's own grids come in from its GIS layer, all or
//! nothing, are laid over the unified grids, and are revoked and folded into them, keeping
//! the history true when the unified grids change later.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};
use wangge_domain::access::{Grant, Permission, Role, Scope, ScopeKind};

const COMMUNITY: &str = "370725002003";

fn square(x: i64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x, 50000], [x + 100, 50000], [x + 100, 50100], [x, 50100], [x, 50000]]]})
}

async fn department(app: &TestApp, name: &str) -> String {
    let list = app.get("/api/departments").await.json();
    list.as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A new department (the demo's 县公安局 comes with its own grids).
async fn new_department(app: &TestApp, name: &str) -> String {
    let r = app
        .json("POST", "/api/departments", json!({"name": name}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["key"].as_str().unwrap().to_string()
}

/// Registers a compound of `households` in `grid` (or none), its boundary the square at `x`.
async fn compound(
    app: &TestApp,
    name: &str,
    grid: Option<&str>,
    households: i64,
    x: i64,
) -> String {
    let mut body = json!({"name": name, "households": households, "population": households * 3,
        "geometry": square(x).to_string()});
    if let Some(g) = grid {
        body["grid"] = json!(g);
    }
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{COMMUNITY}/compounds"),
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["key"].as_str().unwrap().to_string()
}

fn layer(features: Vec<Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

async fn put_layer(app: &TestApp, dept: &str, body: String) -> common::Reply {
    app.send_bytes(
        "PUT",
        &format!("/api/departments/{dept}/grids"),
        Some(body.into_bytes()),
        "application/geo+json",
    )
    .await
}

/// The department's grids as the API gives them (`in_force`, `folded`).
async fn grids_of(app: &TestApp, dept: &str) -> Value {
    app.get(&format!("/api/departments/{dept}/grids"))
        .await
        .json()
}

/// Folds the department's grids in through the API.
async fn fold(app: &TestApp, dept: &str) -> common::Reply {
    app.send(
        "POST",
        &format!("/api/departments/{dept}/grids/fold"),
        None,
        "application/json",
    )
    .await
}

/// The compound ids of each department grid in a list of the API's answer.
fn members(grids: &Value) -> Vec<(String, Vec<String>)> {
    grids
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let mut ids: Vec<String> = g["compounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["compound_id"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            (g["name"].as_str().unwrap().to_string(), ids)
        })
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn a_departments_grids_are_laid_over_the_unified_grids_and_folded_into_them() {
    let app = TestApp::demo().await;
    let police = new_department(&app, "县城市管理局").await;
    let grids: Vec<String> = app
        .get(&format!("/api/communities/{COMMUNITY}"))
        .await
        .json()["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_string())
        .collect();
    let (g1, g2) = (grids[0].as_str(), grids[1].as_str());
    let x0 = 300_000;
    let a = compound(&app, "甲院", Some(g1), 300, x0).await;
    let b = compound(&app, "乙院", Some(g1), 200, x0 + 100).await;
    let c = compound(&app, "丙院", Some(g2), 250, x0 + 200).await;
    let d = compound(&app, "丁院", Some(g2), 100, x0 + 300).await;
    let e = compound(&app, "戊院", None, 50, x0 + 400).await;

    // Another 甲院, in 宝昌社区 (宝都街道): a name alone no longer says which.
    let r = app
        .json(
            "POST",
            "/api/communities/370725001001/compounds",
            json!({"name": "甲院", "households": 80, "population": 200}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // A layer with an unknown compound, a compound in two grids, an outline around nothing,
    // one in longitude/latitude and a name two compounds have: every problem named by its
    // feature, nothing written. A name with its community is fine.
    let bad = layer(vec![
        json!({"type": "Feature", "properties": {"name": "警格一", "compounds": [a, "不存在"]}, "geometry": null}),
        json!({"type": "Feature", "properties": {"name": "警格二"}, "geometry": square(x0)}),
        json!({"type": "Feature", "properties": {"name": "警格三"}, "geometry": square(x0 + 10_000)}),
        json!({"type": "Feature", "properties": {"name": "警格四"}, "geometry": {"type": "Polygon",
               "coordinates": [[[118.8, 36.7], [118.81, 36.7], [118.81, 36.71], [118.8, 36.7]]]}}),
        json!({"type": "Feature", "properties": {"name": "警格五", "compounds": ["甲院"]}}),
        json!({"type": "Feature", "properties": {"name": "警格六", "compounds": ["甲院"], "community": "宝昌社区"}}),
    ]);
    let r = put_layer(&app, &police, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let problems: Vec<String> = serde_json::from_value(r.json()["problems"].clone()).unwrap();
    assert_eq!(problems.len(), 5, "{problems:?}");
    assert_eq!(
        problems[0],
        "第 1 个要素“警格一”：本县没有编号或名称为“不存在”的在册小区"
    );
    assert!(
        problems[1].starts_with("第 5 个要素“警格五”：名为“甲院”的在册小区有 2 个（")
            && problems[1].contains("宝昌社区"),
        "{problems:?}"
    );
    assert!(
        problems[2].starts_with("第 3 个要素“警格三”：边界内没有找到在册小区"),
        "{problems:?}"
    );
    assert_eq!(
        problems[3],
        "第 4 个要素“警格四”：边界的坐标系与小区边界不一致（小区为平面坐标，此边界为经纬度）"
    );
    assert_eq!(
        problems[4],
        format!(
            "小区“甲院”（编号 {a}）同时在第 1 个要素“警格一”和第 2 个要素“警格二”中：一个小区只能属于本部门的一个网格"
        )
    );
    let now = grids_of(&app, &police).await;
    assert_eq!(now["in_force"], json!([]));

    // The right layer: one grid by its list, one by an outline (two squares, around 乙 and
    // 丁, each a little larger than the compound).
    let around = |x: i64| {
        json!([[
            [x - 5, 49995],
            [x + 105, 49995],
            [x + 105, 50105],
            [x - 5, 50105],
            [x - 5, 49995]
        ]])
    };
    let good = layer(vec![
        json!({"type": "Feature", "properties": {"name": "警格一", "code": "JG-01", "compounds": [a, "丙院", e]}, "geometry": null}),
        json!({"type": "Feature", "properties": {"name": "警格二", "code": "JG-02"},
               "geometry": {"type": "MultiPolygon", "coordinates": [around(x0 + 100), around(x0 + 300)]}}),
    ]);
    let r = put_layer(&app, &police, good.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["grids"], 2);
    let now = grids_of(&app, &police).await;
    assert_eq!(
        members(&now["in_force"]),
        vec![
            (
                "警格一".to_string(),
                sorted(vec![a.clone(), c.clone(), e.clone()])
            ),
            ("警格二".to_string(), sorted(vec![b.clone(), d.clone()])),
        ]
    );
    let first = &now["in_force"][0];
    assert_eq!(
        first["shares"],
        json!([{"grid": g1, "compounds": 1, "households": 300}, {"grid": g2, "compounds": 1, "households": 250}])
    );
    assert_eq!(first["unplaced"], 1);
    assert_eq!(first["households"], 600);
    let page = app
        .get(&format!("/departments/{police}/grids"))
        .await
        .text();
    assert!(
        page.contains("这些部门网格的小区现属 2 个统一网格；2 个部门网格跨多个统一网格；<strong>1 个小区尚未划入统一网格</strong>"),
        "{page}"
    );
    // Both maps draw the compounds (by department grid, then by unified grid), and the
    // outline the department gave is drawn over them.
    assert_eq!(page.matches("<title>甲院：300 户").count(), 2, "{page}");
    assert_eq!(
        page.matches("<title>警格二（部门网格边界）</title>")
            .count(),
        4,
        "{page}"
    );
    // Folding would be refused: the page says why instead of offering it.
    assert!(
        page.contains("<strong>未划入网格 1 个</strong>")
            && page.contains("还有 1 个小区尚未划入统一网格，暂不能撤销并入")
            && !page.contains("撤销并入统一网格</button>"),
        "{page}"
    );

    // A layer put in by mistake can be withdrawn (kept as history, not shown), then put in
    // again.
    let r = app
        .send(
            "DELETE",
            &format!("/api/departments/{police}/grids"),
            None,
            "application/json",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let now = grids_of(&app, &police).await;
    assert_eq!(now["in_force"], json!([]));
    let r = put_layer(&app, &police, good.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // 戊院 is in no unified grid: folding is refused, naming it, and nothing changes.
    let r = fold(&app, &police).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(
        r.text()
            .contains("1 个小区尚未划入统一网格，无法并入：戊院"),
        "{}",
        r.text()
    );
    let page = app
        .form(&format!("/departments/{police}/grids/fold"), &[])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(
        page.text().contains("未撤销：1 个小区尚未划入统一网格"),
        "{}",
        page.text()
    );
    let now = grids_of(&app, &police).await;
    assert_eq!(now["in_force"].as_array().unwrap().len(), 2);
    assert_eq!(now["folded"], json!([]));
    let seen = now["in_force"][0]["layer"].as_str().unwrap().to_string();

    // The same layer again replaces the grids in force (two, not four). 戊院 is pulled
    // down: it leaves the grid in force, and folding records where each of the rest went.
    let r = put_layer(&app, &police, good.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .json("POST", &format!("/api/compounds/{e}/retire"), json!({}))
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let now = grids_of(&app, &police).await;
    assert_eq!(
        members(&now["in_force"])[0],
        ("警格一".to_string(), sorted(vec![a.clone(), c.clone()]))
    );
    assert_eq!(now["in_force"].as_array().unwrap().len(), 2);
    assert_eq!(now["in_force"][0]["unplaced"], 0);
    // Folding takes the layer the user looked at, or nothing: the one before is gone.
    let r = app
        .json(
            "POST",
            &format!("/api/departments/{police}/grids/fold"),
            json!({"layer": seen}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("已重新导入"), "{}", r.text());
    let page = app
        .get(&format!("/departments/{police}/grids"))
        .await
        .text();
    let layer_now = page
        .split("name=\"layer\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_string();
    assert_ne!(layer_now, seen);
    let page = app
        .form(
            &format!("/departments/{police}/grids/fold"),
            &[("layer", layer_now.as_str())],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        page.text()
            .contains("已撤销 2 个部门网格，并入 2 个统一网格（涉及 4 个小区、850 户）"),
        "{}",
        page.text()
    );
    let now = grids_of(&app, &police).await;
    assert_eq!(now["in_force"], json!([]));
    let folded = &now["folded"];
    assert_eq!(
        members(folded),
        vec![
            ("警格一".to_string(), sorted(vec![a.clone(), c.clone()])),
            ("警格二".to_string(), sorted(vec![b.clone(), d.clone()])),
        ]
    );
    assert_eq!(folded[0]["folded_into"], g1);
    assert_eq!(folded[1]["folded_into"], g1);
    assert!(folded[0]["folded_on"].is_string());
    // Nothing is left to fold.
    let r = fold(&app, &police).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // The unified grids change later (甲院 moves to the other grid): the record keeps the
    // grid each compound was in the day its department grid was folded.
    let m = app.get(&format!("/api/compounds/{a}")).await.json()["compound"].clone();
    let r = app
        .json(
            "PUT",
            &format!("/api/compounds/{a}"),
            json!({"name": m["name"], "grid": g2, "households": 300, "population": 900}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let now = grids_of(&app, &police).await;
    assert_eq!(
        now["folded"][0]["shares"],
        json!([{"grid": g1, "compounds": 1, "households": 300}, {"grid": g2, "compounds": 1, "households": 250}])
    );
    // The table to hand out: one row per compound, with the grid it went to.
    let csv = app
        .get(&format!("/departments/{police}/grids/export.csv"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.text();
    let rows: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(rows[0], "县城市管理局部门网格与统一网格对照表");
    assert_eq!(
        rows[1],
        "序号,部门网格,部门编码,状态,小区（村庄）,社区,统一网格编码,统一网格,户数"
    );
    assert_eq!(rows.len(), 2 + 4, "{text}");
    let jia = rows.iter().find(|r| r.contains(",甲院,")).unwrap();
    assert!(
        jia.starts_with("1,警格一,JG-01,已于 ")
            && jia.contains(&format!(",{g1},"))
            && jia.ends_with(",300"),
        "{jia}"
    );
    // The unified grid names what was folded into it.
    let page = app.get(&format!("/grids/{g1}")).await.text();
    assert!(
        page.contains("县城市管理局：警格一（JG-01）")
            && page.contains("县城市管理局：警格二（JG-02）"),
        "{page}"
    );
}

#[tokio::test]
async fn department_staff_see_their_grids_and_street_readers_only_their_part() {
    let app = TestApp::demo().await;
    let police = new_department(&app, "县城市管理局").await;
    // One grid in each street, 宝都 (370725001…) and 宝城 (370725002…), and one across both
    // whose larger part is in 宝都.
    let compounds = |community: &'static str| {
        let app = &app;
        async move {
            let mut v: Vec<(String, i64)> = app
                .get(&format!("/api/communities/{community}"))
                .await
                .json()["compounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["id"].as_str().unwrap().to_string(),
                        m["households"].as_i64().unwrap(),
                    )
                })
                .collect();
            v.sort_by_key(|m| m.1);
            v
        }
    };
    let (baodu, baocheng) = (compounds("370725001001").await, compounds(COMMUNITY).await);
    let (in_baodu, in_baocheng) = (baodu[0].0.clone(), baocheng[0].0.clone());
    let (big, small) = (baodu.last().unwrap(), &baocheng[1]);
    assert!(big.1 > small.1, "{big:?} {small:?}");
    let r = put_layer(
        &app,
        &police,
        layer(vec![
            json!({"type": "Feature", "properties": {"name": "宝都警格", "compounds": [in_baodu]}}),
            json!({"type": "Feature", "properties": {"name": "宝城警格", "compounds": [in_baocheng]}}),
            json!({"type": "Feature", "properties": {"name": "跨街警格", "compounds": [big.0, small.0]}}),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let whole = grids_of(&app, &police).await;
    assert_eq!(whole["in_force"].as_array().unwrap().len(), 3);

    // Staff of the department see both; a street administrator of 宝城 sees the department
    // grid in 宝城 only, and may neither register nor fold the county's department grids.
    let mut app = app;
    let hash = wangge_web::hash_password("matrix-pass-1").unwrap();
    for (name, role, kind, scope) in [
        (
            "dept_police",
            Role::DepartmentStaff,
            ScopeKind::Department,
            police.as_str(),
        ),
        (
            "st_baocheng",
            Role::StreetAdmin,
            ScopeKind::Street,
            "370725002",
        ),
    ] {
        let id = app
            .store
            .create_user(name, None, &hash, false)
            .await
            .unwrap();
        let grant = Grant::new(role, Scope::parse(kind, scope).unwrap()).unwrap();
        app.store.set_grants(&id, &[grant]).await.unwrap();
    }
    // Department staff hold no permission by default: the grids are refused them until the
    // security administrator gives the role the right to read the registry.
    app.login_as("dept_police", "matrix-pass-1", "").await;
    let r = app.get(&format!("/api/departments/{police}/grids")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let mut table = app.store.permission_table().await.unwrap();
    table.push((Role::DepartmentStaff, Permission::RegistryRead));
    app.store.set_permission_table(&table).await.unwrap();
    app.login_as("dept_police", "matrix-pass-1", "").await;
    let own = grids_of(&app, &police).await;
    assert_eq!(own["in_force"].as_array().unwrap().len(), 3);
    let page = app
        .get(&format!("/departments/{police}/grids"))
        .await
        .text();
    assert!(
        page.contains("宝都警格") && !page.contains("导入部门网格"),
        "{page}"
    );
    app.login_as("st_baocheng", "matrix-pass-1", "").await;
    let part = grids_of(&app, &police).await;
    assert_eq!(
        members(&part["in_force"]),
        vec![
            ("宝城警格".to_string(), vec![in_baocheng.clone()]),
            ("跨街警格".to_string(), vec![small.0.clone()]),
        ]
    );
    let csv = app
        .get(&format!("/departments/{police}/grids/export.csv"))
        .await
        .text();
    assert!(
        csv.contains("宝城警格") && !csv.contains("宝都警格"),
        "{csv}"
    );
    let r = put_layer(&app, &police, layer(vec![])).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = fold(&app, &police).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Once folded in, the 宝城 reader sees where 宝城's compounds went, but not the 宝都 grid
    // that took most of the grid across both streets.
    app.login().await;
    let r = fold(&app, &police).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let whole = grids_of(&app, &police).await;
    assert!(
        whole["folded"][2]["folded_into"]
            .as_str()
            .unwrap()
            .starts_with("370725001")
    );
    app.login_as("st_baocheng", "matrix-pass-1", "").await;
    let part = grids_of(&app, &police).await;
    let folded = part["folded"].as_array().unwrap();
    assert_eq!(folded.len(), 2);
    assert!(
        folded[0]["folded_into"]
            .as_str()
            .unwrap()
            .starts_with("370725002")
    );
    assert_eq!(folded[1]["name"], "跨街警格");
    assert_eq!(folded[1]["folded_into"], Value::Null);
    assert_eq!(folded[1]["compounds"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_demo_county_comes_with_the_polices_own_grids_to_fold_in() {
    let app = TestApp::demo().await;
    let police = department(&app, "县公安局").await;
    let now = grids_of(&app, &police).await;
    let grids = now["in_force"].as_array().unwrap();
    // One a community of 宝都街道, each with a compound of the next community.
    assert_eq!(grids.len(), 18);
    for g in &grids[..17] {
        let communities: std::collections::BTreeSet<&str> = g["compounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["community_code"].as_str().unwrap())
            .collect();
        assert_eq!(communities.len(), 2, "{g}");
        assert!(g["shares"].as_array().unwrap().len() > 1, "{g}");
    }
    // Every compound of 宝都 is in exactly one of them.
    let mut ids: Vec<&str> = grids
        .iter()
        .flat_map(|g| g["compounds"].as_array().unwrap())
        .map(|m| m["compound_id"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
    let overview = app.overview().await;
    let baodu: i64 = overview["streets"][0]["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["figures"]["compounds"].as_i64().unwrap())
        .sum();
    assert_eq!(n as i64, baodu);
    // They fold in.
    let r = fold(&app, &police).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["folded"], 18);
}
