//! The demo county against 附件2, the 附件2 table out and back in, refused files, login and
//! the pages' and API's answers without a session.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};

/// (name, grids, compounds, households, population) of a community.
type Row = (String, i64, i64, i64, i64);

/// Every community's row, per street.
fn table(o: &Value) -> Vec<(String, Vec<Row>)> {
    o["streets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let rows = s["communities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let f = &c["figures"];
                    (
                        c["name"].as_str().unwrap().to_string(),
                        f["grids"].as_i64().unwrap(),
                        f["compounds"].as_i64().unwrap(),
                        f["households"].as_i64().unwrap(),
                        f["population"].as_i64().unwrap(),
                    )
                })
                .collect();
            (s["street"]["name"].as_str().unwrap().to_string(), rows)
        })
        .collect()
}

#[tokio::test]
async fn the_demo_county_is_annex2() {
    let app = TestApp::demo().await;
    let o = app.overview().await;
    let t = table(&o);
    assert_eq!(t[0].0, "宝都街道");
    assert_eq!(t[0].1.len(), 18);
    assert_eq!(t[0].1[0], ("宝昌社区".into(), 9, 10, 4350, 15225));
    assert_eq!(t[0].1[17], ("流泉社区".into(), 4, 8, 3500, 12250));
    assert_eq!(t[1].1[0], ("昌明社区".into(), 8, 11, 7633, 10001));
    let baodu = &o["streets"][0]["street"]["figures"];
    assert_eq!(
        (
            baodu["grids"].as_i64(),
            baodu["compounds"].as_i64(),
            baodu["households"].as_i64(),
            baodu["population"].as_i64()
        ),
        (Some(132), Some(294), Some(98161), Some(343567))
    );
    assert_eq!(o["streets"][1]["street"]["figures"]["grids"], 20);
    // The page says what a person needs: the figures, and that codes are placeholders.
    let page = app.get("/").await.text();
    for s in [
        "宝都街道",
        "宝昌社区",
        "98161",
        "343567",
        "占位代码",
        "车站村委",
    ] {
        assert!(page.contains(s), "overview lacks {s}");
    }
    let c = app.get("/communities/370725001001").await.text();
    for s in ["宝昌社区", "东至", "车站村东", "宝昌第1网格", "4350"] {
        assert!(c.contains(s), "community page lacks {s}");
    }
}

#[tokio::test]
async fn annex2_export_imports_back_to_identical_data() {
    let demo = TestApp::demo().await;
    let before = table(&demo.overview().await);
    for (format, extra) in [("xlsx", ""), ("csv", ""), ("csv", "&encoding=gbk")] {
        let r = demo
            .get(&format!("/api/export/communities?format={format}{extra}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let file = r.body;

        // A fresh registry that knows the county and its streets, and nothing else.
        let fresh = TestApp::with_county().await;
        for (code, name) in [("370725001", "宝都街道"), ("370725002", "宝城街道")] {
            let r = fresh
                .json("POST", "/api/streets", json!({"code": code, "name": name}))
                .await;
            assert_eq!(r.status, StatusCode::CREATED);
        }
        let r = fresh
            .send_bytes(
                "POST",
                &format!("/api/import/communities?filename=a.{format}"),
                Some(file.clone()),
                "application/octet-stream",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{format}: {}", r.text());
        assert_eq!(r.json()["created"], 22);
        assert_eq!(table(&fresh.overview().await), before, "{format}{extra}");
        // Codes came along, and a second import changes nothing.
        assert_eq!(
            fresh.get("/api/communities/370725001001").await.json()["community"]["name"],
            "宝昌社区"
        );
        let again = fresh
            .get(&format!("/api/export/communities?format={format}{extra}"))
            .await
            .body;
        if format == "csv" {
            assert_eq!(again, file, "re-export is byte-identical");
        }
        let r = fresh
            .send_bytes(
                "POST",
                "/api/import/communities",
                Some(again),
                "application/octet-stream",
            )
            .await;
        assert_eq!(
            (r.json()["created"].as_i64(), r.json()["updated"].as_i64()),
            (Some(0), Some(22))
        );
        assert_eq!(table(&fresh.overview().await), before);
    }
}

/// Communities an import creates start on the day it is given, not before their street;
/// by the form as by the API.
#[tokio::test]
async fn imported_communities_start_on_the_day_given() {
    let app = TestApp::with_county().await;
    let r = app
        .json(
            "POST",
            "/api/streets",
            json!({"code": "370725002", "name": "宝城街道", "valid_from": "2015-01-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let send = |query: &'static str| app.send("POST", query, Some(GOOD), "text/csv");
    // Before the street: refused, named, nothing written.
    let r = send("/api/import/communities?filename=a.csv&valid_from=2014-12-31").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains("早于宝城街道的启用日期 2015-01-01"),
        "{}",
        r.text()
    );
    let r = send("/api/import/communities?filename=a.csv&valid_from=2015-13-01").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = send("/api/import/communities?filename=a.csv&valid_from=2016-03-01").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let street = app.get("/api/streets/370725002").await.json();
    let code = street["communities"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let c = app.get(&format!("/api/communities/{code}")).await.json();
    assert_eq!(c["community"]["valid_from"], "2016-03-01");
    // The form takes it as a field beside the file.
    let form = app.get("/import").await.text();
    assert!(form.contains("name=\"valid_from\""), "{form}");
}

const GOOD: &str = "社区基本情况表（宝城街道）\n序号,社区名称,网格数量,小区数量,户数,人口,服务中心位置,社区范围\n\
1,昌明社区,8,11,7633,10001,北盛小区,北至新城街\n2,艳阳天社区,3,10,3244,6576,无,\n合计,,11,21,10877,16577,,\n";

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_rows_and_columns() {
    let app = TestApp::with_county().await;
    app.json(
        "POST",
        "/api/streets",
        json!({"code": "370725002", "name": "宝城街道"}),
    )
    .await;
    let before = app.overview().await;

    let bad = GOOD.replace("7633", "约7600").replace("16577", "16000");
    let r = app
        .send_bytes(
            "POST",
            "/api/import/communities?filename=b.csv",
            Some(bad.into_bytes()),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let msgs: Vec<String> = r.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        msgs,
        vec![
            "第 3 行 E 列「户数」：应为非负整数，现为“约7600”",
            "第 5 行 E 列「户数」：合计为 10877，但各社区之和为 3244",
            "第 5 行 F 列「人口」：合计为 16000，但各社区之和为 16577",
        ]
    );
    assert_eq!(app.overview().await, before, "nothing was written");

    // A street the county does not have: refused, nothing written (not even the good rows).
    let unknown = format!("{GOOD}\n{}", GOOD.replace("宝城街道", "宝山街道"));
    let r = app
        .send_bytes(
            "POST",
            "/api/import/communities",
            Some(unknown.into_bytes()),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["messages"][0]
            .as_str()
            .unwrap()
            .contains("未知街道“宝山街道”"),
        "{}",
        r.text()
    );
    assert_eq!(app.overview().await, before);

    // A code under another street.
    let wrong_code = GOOD
        .replace("社区范围\n", "社区范围,社区代码\n")
        .replace("北至新城街\n", "北至新城街,370725001001\n");
    let r = app
        .send_bytes(
            "POST",
            "/api/import/communities",
            Some(wrong_code.into_bytes()),
            "text/csv",
        )
        .await;
    assert_eq!(
        r.json()["messages"][0],
        "第 3 行 I 列「社区代码」：社区代码“370725001001”应以上级代码“370725002”开头"
    );
    assert_eq!(app.overview().await, before);

    // Through the upload form: the errors are listed with row and column.
    let boundary = "XBOUNDARY";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"坏表.csv\"\r\nContent-Type: text/csv\r\n\r\n{}\r\n--{boundary}--\r\n",
        app.csrf.clone().unwrap(),
        GOOD.replace("3244", "3244户")
    );
    let r = app
        .send_bytes(
            "POST",
            "/import",
            Some(body.into_bytes()),
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text();
    assert!(
        page.contains("未导入任何数据")
            && page.contains("坏表.csv")
            && page.contains("<td class=\"n\">4</td><td>E</td>"),
        "{page}"
    );
    assert_eq!(app.overview().await, before);

    // And the good file goes in.
    let r = app
        .send_bytes(
            "POST",
            "/api/import/communities",
            Some(GOOD.as_bytes().to_vec()),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let t = table(&app.overview().await);
    assert_eq!(t[0].1[0], ("昌明社区".into(), 8, 11, 7633, 10001));
}

#[tokio::test]
async fn without_a_session_pages_redirect_and_the_api_says_401() {
    let mut app = TestApp::demo().await;
    app.cookie = None;
    for path in [
        "/",
        "/communities/370725001001",
        "/departments",
        "/search?q=a",
        "/new/streets",
        "/export/communities.xlsx",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            r.location().starts_with("/login"),
            "{path}: {}",
            r.location()
        );
    }
    for (method, path) in [
        ("GET", "/api/overview"),
        ("GET", "/api/openapi.json"),
        ("POST", "/api/streets"),
        ("GET", "/api/communities/370725001001"),
        ("POST", "/api/import/communities"),
    ] {
        let r = app.send(method, path, Some("{}"), "application/json").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(r.json()["error"], "未登录或登录已过期，请先登录");
    }
    let r = app
        .form("/new/streets", &[("code", "370725009"), ("name", "偷偷建")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(app.get("/login").await.status, StatusCode::OK);
    assert_eq!(app.get("/static/style.css").await.status, StatusCode::OK);

    // A wrong password is refused; the right one opens a session; logout closes it.
    let r = app
        .form("/login", &[("username", "admin"), ("password", "wrong")])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("用户名、密码或动态验证码不正确"));
    app.login().await;
    let r = app.get("/api/overview").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["cache-control"], "no-store");
    let cookie = app.cookie.clone();
    let r = app.form("/logout", &[]).await;
    assert_eq!(r.location(), "/login");
    app.cookie = cookie;
    assert_eq!(
        app.get("/api/overview").await.status,
        StatusCode::UNAUTHORIZED,
        "the old cookie is dead"
    );
}

#[tokio::test]
async fn the_openapi_document_names_every_api_route() {
    let app = TestApp::demo().await;
    let doc = app.get("/api/openapi.json").await.json();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/overview",
        "/api/search",
        "/api/streets",
        "/api/streets/{key}",
        "/api/streets/{key}/communities",
        "/api/communities/{key}/grids",
        "/api/communities/{key}/compounds",
        "/api/compounds/{key}/buildings",
        "/api/grids/{key}/retire",
        "/api/departments",
        "/api/import/communities",
        "/api/export/communities",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(doc["components"]["schemas"]["Overview"].is_object());
    // Every API route of the router is documented, with its method.
    for (method, path) in wangge_web::protected_route_list() {
        if path.starts_with("/api/") {
            let item = paths
                .get(&path)
                .unwrap_or_else(|| panic!("{path} is not in the OpenAPI document"));
            assert!(
                item.get(method.to_lowercase()).is_some(),
                "{method} {path} is not documented"
            );
        }
    }
    // Every documented GET without a path parameter answers (or refuses: the administrator
    // is not the auditor; the authorization matrix checks who may).
    for (p, item) in paths {
        if item.get("get").is_some() && !p.contains('{') {
            let r = app.get(p).await;
            assert!(
                r.status == StatusCode::OK || r.status == StatusCode::FORBIDDEN,
                "{p}: {}",
                r.status
            );
        }
    }
}

#[tokio::test]
async fn an_old_excel_file_is_read_too() {
    let app = TestApp::with_county().await;
    app.json(
        "POST",
        "/api/streets",
        json!({"code": "370725002", "name": "宝城街道"}),
    )
    .await;
    let xls = include_bytes!("fixtures/baocheng-annex2.xls").to_vec();
    let r = app
        .send_bytes(
            "POST",
            "/api/import/communities?filename=baocheng.xls",
            Some(xls.clone()),
            "application/vnd.ms-excel",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let t = table(&app.overview().await);
    assert_eq!(t[0].1.len(), 4);
    assert_eq!(t[0].1[3], ("宝石城社区".into(), 4, 10, 3939, 8358));

    // The source's own 宝城 table prints 19994 households and 30293 people in its 合计 row;
    // its rows sum to 20594 and 32293. Such a file is refused, naming both cells.
    let fresh = TestApp::with_county().await;
    fresh
        .json(
            "POST",
            "/api/streets",
            json!({"code": "370725002", "name": "宝城街道"}),
        )
        .await;
    let sheets = wangge_sheets::read("baocheng.xls", &xls).unwrap();
    let mut rows = sheets[0].rows.clone();
    let last = rows.len() - 1;
    rows[last][4] = "19994".into();
    rows[last][5] = "30293".into();
    let csv = wangge_sheets::write_csv(&rows, true).unwrap();
    let r = fresh
        .send_bytes("POST", "/api/import/communities", Some(csv), "text/csv")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["messages"],
        json!([
            "第 7 行 E 列「户数」：合计为 19994，但各社区之和为 20594",
            "第 7 行 F 列「人口」：合计为 30293，但各社区之和为 32293"
        ])
    );
}
