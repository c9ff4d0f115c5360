//! Create, edit and retire every level of the registry, through the JSON API and through form
//! posts, with code validation — on SQLite, or on PostgreSQL with WANGGE_TEST_DATABASE_URL.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn every_level_through_the_api() {
    let app = TestApp::with_county().await;

    // Street: a code outside the county is refused, next to its field.
    let r = app
        .json(
            "POST",
            "/api/streets",
            json!({"code": "370726001", "name": "外县街道"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["fields"]["code"],
        "街道代码应以本县代码“370725”开头"
    );
    let r = app
        .json(
            "POST",
            "/api/streets",
            json!({"code": "37072500A", "name": "宝都街道"}),
        )
        .await;
    assert_eq!(
        r.json()["fields"]["code"],
        "街道代码只能由数字组成，现为“37072500A”"
    );
    let r = app
        .json(
            "POST",
            "/api/streets",
            json!({"code": "370725001", "name": "宝都街道"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["key"], "370725001");

    // Community: must lie under its street.
    let r = app
        .json(
            "POST",
            "/api/streets/370725001/communities",
            json!({"code": "370725002001", "name": "宝昌社区"}),
        )
        .await;
    assert_eq!(
        r.json()["fields"]["code"],
        "社区代码应以所属街道代码“370725001”开头"
    );
    let r = app
        .json(
            "POST",
            "/api/streets/370725001/communities",
            json!({"code": "370725001001", "name": "宝昌社区", "kind": "converted_village",
                   "tier": "示范", "centre_area": 650, "hall_area": 180, "boundary_east": "车站村东"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let c = &r.json()["record"]["community"];
    assert_eq!(c["kind"], "converted_village");
    assert_eq!(c["tier"], "demonstration");
    assert_eq!(c["boundary_text"], "东至车站村东");

    // Grid: an empty code takes the next sequence; a code of another community is refused.
    let r = app
        .json(
            "POST",
            "/api/communities/370725001001/grids",
            json!({"name": "第一网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["key"], "370725001001001");
    let r = app
        .json(
            "POST",
            "/api/communities/370725001001/grids",
            json!({"code": "370725001002005", "name": "第五网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["fields"]["code"]
            .as_str()
            .unwrap()
            .contains("开头")
    );

    // Compound in that grid, then a building.
    let r = app
        .json(
            "POST",
            "/api/communities/370725001001/compounds",
            json!({"name": "车站小区", "grid": "370725001001001", "households": 520,
                   "population": 1800, "has_property_management": true, "property_company": "宝都物业"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let compound = r.json()["key"].as_str().unwrap().to_string();
    let r = app
        .json(
            "POST",
            &format!("/api/compounds/{compound}/buildings"),
            json!({"name": "1号楼", "entrances": 2, "floors": 6, "households": 24}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let building = r.json()["key"].as_str().unwrap().to_string();

    // The figures follow the registry.
    let o = app.overview().await;
    let f = &o["streets"][0]["communities"][0]["figures"];
    assert_eq!(
        (
            f["grids"].as_i64(),
            f["compounds"].as_i64(),
            f["households"].as_i64()
        ),
        (Some(1), Some(1), Some(520))
    );

    // Edits.
    let r = app
        .json(
            "PUT",
            "/api/streets/370725001",
            json!({"name": "宝都街道办事处"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["street"]["name"], "宝都街道办事处");
    let r = app
        .json(
            "PUT",
            "/api/communities/370725001001",
            json!({"name": "宝昌社区", "tier": "standard"}),
        )
        .await;
    assert_eq!(r.json()["community"]["tier"], "standard");
    let r = app
        .json(
            "PUT",
            "/api/grids/370725001001001",
            json!({"name": "车站网格", "kind": "rural"}),
        )
        .await;
    assert_eq!(r.json()["grid"]["kind"], "rural");
    let r = app
        .json(
            "PUT",
            &format!("/api/compounds/{compound}"),
            json!({"name": "车站小区", "households": "很多", "population": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["fields"]["households"], "应为非负整数，现为“很多”");
    let r = app
        .json("PUT", &format!("/api/compounds/{compound}"), json!({"name": "车站小区", "grid": "370725001001001", "households": 600, "population": 2000}))
        .await;
    assert_eq!(r.json()["compound"]["households"], 600);
    let r = app
        .json(
            "PUT",
            &format!("/api/buildings/{building}"),
            json!({"name": "1号楼", "floors": 7}),
        )
        .await;
    assert_eq!(r.json()["floors"], 7);

    // Retiring: a grid with compounds is refused; history is kept; codes are never reused.
    let r = app
        .json("POST", "/api/grids/370725001001001/retire", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("请先将这些小区划入其他网格")
    );
    let r = app
        .json(
            "POST",
            &format!("/api/buildings/{building}/retire"),
            json!({}),
        )
        .await;
    assert!(r.json()["valid_to"].is_string());
    let r = app
        .json(
            "POST",
            &format!("/api/compounds/{compound}/retire"),
            json!({"valid_to": "2021-06-30"}),
        )
        .await;
    assert_eq!(r.json()["compound"]["valid_to"], "2021-06-30");
    // Not before it began, nor ahead of today.
    for day in ["2021-06-30", "2099-01-01"] {
        let r = app
            .json(
                "POST",
                "/api/grids/370725001001001/retire",
                json!({ "valid_to": day }),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{day}: {}",
            r.text()
        );
        assert!(r.json()["fields"]["valid_to"].is_string());
    }
    let r = app
        .json("POST", "/api/grids/370725001001001/retire", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .json(
            "POST",
            "/api/communities/370725001001/grids",
            json!({"code": "370725001001001", "name": "新网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["fields"]["code"]
            .as_str()
            .unwrap()
            .contains("不得重复使用")
    );
    let r = app
        .json(
            "POST",
            "/api/communities/370725001001/grids",
            json!({"name": "新网格"}),
        )
        .await;
    assert_eq!(
        r.json()["key"],
        "370725001001002",
        "the retired sequence is skipped"
    );
    let page = app.get("/api/communities/370725001001").await.json();
    assert_eq!(page["retired_grids"][0]["code"], "370725001001001");
    let r = app
        .json("POST", "/api/grids/370725001001002/retire", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .json("POST", "/api/communities/370725001001/retire", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .json(
            "PUT",
            "/api/communities/370725001001",
            json!({"name": "复活"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .json("POST", "/api/streets/370725001/retire", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        app.overview().await["streets"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Departments.
    let r = app
        .json(
            "POST",
            "/api/departments",
            json!({"name": "县公安局", "duties": "网格警务"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["key"].as_str().unwrap().to_string();
    let r = app
        .json(
            "PUT",
            &format!("/api/departments/{id}"),
            json!({"name": "县公安局", "phone": "0536-1234567"}),
        )
        .await;
    assert_eq!(r.json()["phone"], "0536-1234567");
    let r = app
        .json("POST", &format!("/api/departments/{id}/retire"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        app.get("/api/departments")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn every_level_through_form_posts() {
    let app = TestApp::with_county().await;
    let r = app
        .form("/new/streets", &[("code", "3707250"), ("name", "宝都街道")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text();
    assert!(page.contains("街道代码应为 9 位数字，现为 7 位"), "{page}");
    assert!(
        page.contains("value=\"3707250\""),
        "the form keeps what was typed"
    );

    let r = app
        .form(
            "/new/streets",
            &[("code", "370725001"), ("name", "宝都街道")],
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/streets/370725001".into())
    );
    let r = app
        .form(
            "/new/communities?parent=370725001",
            &[
                ("code", "370725001001"),
                ("name", "宝昌社区"),
                ("kind", "urban"),
                ("centre_location", "车站村委"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/communities/370725001001", "{}", r.text());
    let r = app
        .form(
            "/new/grids?parent=370725001001",
            &[("name", "第一网格"), ("kind", "urban"), ("tier", "")],
        )
        .await;
    assert_eq!(r.location(), "/grids/370725001001001");
    let r = app
        .form(
            "/new/compounds?parent=370725001001",
            &[
                ("name", "车站小区"),
                ("grid", "370725001001001"),
                ("households", "480"),
                ("population", "1500"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let compound_page = r.location();
    let compound = compound_page.trim_start_matches("/compounds/").to_string();
    let r = app
        .form(
            &format!("/new/buildings?parent={compound}"),
            &[("name", "1号楼")],
        )
        .await;
    assert_eq!(r.location(), compound_page);
    let r = app.form("/new/departments", &[("name", "县民政局")]).await;
    assert_eq!(r.location(), "/departments");

    // The pages show what was entered.
    let page = app.get("/communities/370725001001").await.text();
    assert!(page.contains("车站小区") && page.contains("第一网格") && page.contains("车站村委"));
    let page = app.get(&compound_page).await.text();
    assert!(page.contains("1号楼"));

    // Edit forms carry the current values, and errors stay next to their field.
    let page = app.get("/edit/communities/370725001001").await.text();
    assert!(page.contains("value=\"宝昌社区\""));
    let r = app
        .form(
            "/edit/communities/370725001001",
            &[("name", ""), ("kind", "urban")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .contains("<p class=\"field-error\" id=\"e-name\">不能为空</p>")
    );
    // A screen reader hears the field is wrong, and why.
    assert!(
        r.text()
            .contains("name=\"name\" value=\"\" aria-invalid=\"true\" aria-describedby=\"e-name\""),
        "{}",
        r.text()
    );
    let r = app
        .form(
            "/edit/communities/370725001001",
            &[("name", "宝昌新社区"), ("kind", "urban")],
        )
        .await;
    assert_eq!(r.location(), "/communities/370725001001");
    let r = app
        .form(
            "/edit/grids/370725001001001",
            &[("name", "车站网格"), ("kind", "urban"), ("tier", "basic")],
        )
        .await;
    assert_eq!(r.location(), "/grids/370725001001001");
    let r = app
        .form(
            &format!("/edit/compounds/{compound}"),
            &[
                ("name", "车站小区"),
                ("households", "500"),
                ("population", "1600"),
                ("grid", "370725001001001"),
            ],
        )
        .await;
    assert_eq!(r.location(), compound_page);
    let grid = app.get("/api/grids/370725001001001").await.json();
    assert_eq!(
        (
            grid["grid"]["name"].as_str(),
            grid["grid"]["households"].as_i64()
        ),
        (Some("车站网格"), Some(500))
    );
    let r = app
        .form("/edit/streets/370725001", &[("name", "宝都街道办")])
        .await;
    assert_eq!(r.location(), "/streets/370725001");

    // Retire, from the bottom up; a community with places is refused with a reason.
    let r = app.form("/retire/communities/370725001001", &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("还有 1 个在册网格、1 个在册小区"));
    let buildings = app.get(&format!("/api/compounds/{compound}")).await.json();
    let building = buildings["buildings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .form(
            &format!("/retire/buildings/{building}"),
            &[("valid_to", "")],
        )
        .await;
    assert_eq!(r.location(), compound_page);
    let r = app
        .form(
            &format!("/retire/compounds/{compound}"),
            &[("valid_to", "2022-01-01")],
        )
        .await;
    assert_eq!(r.location(), "/communities/370725001001");
    let r = app
        .form(
            "/retire/grids/370725001001001",
            &[("valid_to", "2022-13-01")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.form("/retire/grids/370725001001001", &[]).await;
    assert_eq!(r.location(), "/communities/370725001001");
    let r = app.form("/retire/communities/370725001001", &[]).await;
    assert_eq!(r.location(), "/streets/370725001");
    let r = app.form("/retire/streets/370725001", &[]).await;
    assert_eq!(r.location(), "/");
    let departments = app.get("/api/departments").await.json();
    let id = departments[0]["id"].as_str().unwrap().to_string();
    let r = app
        .form(
            &format!("/edit/departments/{id}"),
            &[("name", "县民政局"), ("duties", "社区布局")],
        )
        .await;
    assert_eq!(r.location(), "/departments");
    let r = app.form(&format!("/retire/departments/{id}"), &[]).await;
    assert_eq!(r.location(), "/departments");
}

#[tokio::test]
async fn search_finds_places_by_name_and_code() {
    let app = TestApp::demo().await;
    let hits = app.get("/api/search?q=%E5%AE%9D%E6%98%8C").await.json(); // 宝昌
    let names: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["name"].as_str())
        .collect();
    assert!(names.contains(&"宝昌社区"), "{names:?}");
    let hits = app.get("/api/search?q=370725002").await.json();
    assert_eq!(hits[0]["level"], "street");
    assert_eq!(hits[0]["name"], "宝城街道");
    let page = app
        .get("/search?q=%E8%93%9D%E5%AE%9D%E7%9F%B3")
        .await
        .text(); // 蓝宝石
    assert!(page.contains("蓝宝石花园网格"), "{page}");
    let none = app.get("/api/search?q=%25").await.json();
    assert!(
        none.as_array().unwrap().is_empty(),
        "% is a character, not a wildcard"
    );
}

#[tokio::test]
async fn malformed_requests_and_unknown_addresses_are_answered_in_chinese() {
    let app = TestApp::demo().await;
    // A query string the handler cannot read: a page, in Chinese, with the status kept.
    let r = app.get("/budget?year=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("地址中的参数有误"), "{}", r.text());
    assert!(r.text().contains("<html"), "{}", r.text());
    // The same under /api/: JSON.
    let r = app.get("/api/search?limit=-1").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("地址中的参数有误")
    );
    // A parameter given twice is named, in Chinese.
    let r = app
        .get("/api/plan/communities/370725001002?min=500&max=600&min=400")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["error"],
        "地址中的参数有误：参数「户数下限」（min）出现了不止一次"
    );
    // Serde's causes in Chinese, the field named; its English only as the API's detail.
    let r = app.get("/budget?year=2025%E5%B9%B4").await;
    assert!(
        r.text()
            .contains("地址中的参数有误：「年份」（year）应为整数"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("invalid digit"), "{}", r.text());
    let r = app
        .get("/api/grids/370725001001001/residents?page=abc")
        .await;
    assert_eq!(
        r.json()["error"],
        "地址中的参数有误：「页码」（page）应为整数"
    );
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("invalid digit")
    );
    let r = app
        .send_bytes("PUT", "/api/county", Some(b"{}".to_vec()), "text/plain")
        .await;
    assert_eq!(
        r.json()["error"],
        "请求内容的类型不对（Content-Type）：请以 application/json 发送",
        "{}",
        r.text()
    );
    // A JSON body that is not JSON.
    let r = app
        .send_bytes(
            "POST",
            "/api/plan/communities/370725001001/adopt",
            Some(b"{".to_vec()),
            "application/json",
        )
        .await;
    assert!(r.status.is_client_error());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("JSON 内容有误"),
        "{}",
        r.text()
    );
    // Unknown addresses.
    let r = app.get("/nonexistent").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("没有这个地址"), "{}", r.text());
    let r = app.get("/api/nonexistent").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].as_str().unwrap().contains("没有这个地址"));
    // A place code that is no code at all is a place that does not exist, not one refused.
    for path in [
        "/communities/abc",
        "/grids/x",
        "/streets/12",
        "/api/grids/abc",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
        assert!(
            r.text().contains("没有这个编码的地方"),
            "{path}: {}",
            r.text()
        );
    }
    // A well-formed code of another county stays refused.
    let r = app.get("/communities/110101001001").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
}

#[tokio::test]
async fn after_grid_999_new_grids_take_the_lowest_code_never_used() {
    let app = TestApp::demo().await;
    let community = "370725002004";
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{community}/grids"),
            json!({"name": "末号网格", "code": "370725002004999"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let page = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json();
    let mut used: Vec<String> = ["grids", "retired_grids"]
        .iter()
        .flat_map(|k| page[k].as_array().cloned().unwrap_or_default())
        .map(|g| g["code"].as_str().unwrap().to_string())
        .collect();
    used.sort();
    let lowest_free = (1..=999)
        .map(|s| format!("{community}{s:03}"))
        .find(|c| !used.contains(c))
        .unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{community}/grids"),
            json!({"name": "新网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["key"], lowest_free.as_str());
    // The planner proposes codes the same way: three digits, never a 16-digit code.
    let plan = app
        .get(&format!(
            "/api/plan/communities/{community}?min=300&max=400"
        ))
        .await
        .json();
    for g in plan["features"].as_array().unwrap() {
        assert_eq!(g["properties"]["code"].as_str().unwrap().len(), 15);
    }
}

#[tokio::test]
async fn a_search_that_finds_more_than_it_lists_says_so() {
    let app = TestApp::demo().await;
    // "网格" is in every grid's name: 152 of them, more than a page lists.
    let page = app.get("/search?q=%E7%BD%91%E6%A0%BC").await.text();
    assert!(page.contains("只列出前 100 条"), "{page}");
    assert_eq!(
        page.matches("<tr").count() - 1,
        100,
        "a header row and 100 results"
    );
    let page = app.get("/search?q=%E5%AE%9D%E6%98%8C").await.text();
    assert!(
        page.contains("找到 ") && !page.contains("只列出前"),
        "{page}"
    );
}

#[tokio::test]
async fn the_third_tier_is_basic_for_communities_and_basic_level_for_grids() {
    // The sources name the tiers 示范/规范/基本社区 and 示范性/规范性/基础性网格.
    let app = TestApp::demo().await;
    let page = app.get("/communities/370725001001").await.text();
    assert!(page.contains("<dt>建设标准</dt><dd>基本</dd>"), "{page}");
    let api = app.get("/api/communities/370725001001").await.json();
    assert_eq!(api["community"]["tier_label"], "基本");
    let street = app.get("/api/streets/370725001").await.json();
    let mut basic_grids = 0;
    for c in street["communities"].as_array().unwrap() {
        let path = format!("/api/communities/{}", c["code"].as_str().unwrap());
        for g in app.get(&path).await.json()["grids"].as_array().unwrap() {
            if g["tier"] == "basic" {
                assert_eq!(g["tier_label"], "基础", "{g}");
                basic_grids += 1;
            }
        }
    }
    assert_eq!(basic_grids, 48, "附件4: 48 basic urban grids in 宝都");
    let edit = app.get("/edit/communities/370725001001").await.text();
    assert!(edit.contains(">基本</option>"), "{edit}");
    assert!(!edit.contains(">基础</option>"), "{edit}");
}

#[tokio::test]
async fn a_put_keeps_what_it_leaves_out_and_refuses_fields_a_record_does_not_have() {
    let app = TestApp::demo().await;
    let community = app.get("/api/communities/370725001001").await.json();
    let c = &community["compounds"][0];
    let id = c["id"].as_str().unwrap().to_string();
    let path = format!("/api/compounds/{id}");
    let before = app.get(&path).await.json();
    let grid = before["compound"]["grid_code"]
        .as_str()
        .unwrap()
        .to_string();
    let pm = before["compound"]["has_property_management"].clone();
    // Only the name: the grid, the households and property management stay.
    let r = app.json("PUT", &path, json!({"name": "改名小区"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = app.get(&path).await.json();
    assert_eq!(after["compound"]["name"], "改名小区");
    assert_eq!(after["compound"]["grid_code"], grid.as_str());
    assert_eq!(
        after["compound"]["households"],
        before["compound"]["households"]
    );
    assert_eq!(after["compound"]["has_property_management"], pm);
    // A field the record does not have is named, and nothing is written.
    let r = app
        .json("PUT", &path, json!({"name": "又改名", "househlods": 5}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.json()["fields"]["househlods"]
            .as_str()
            .unwrap()
            .starts_with("小区（村庄）没有这一项；可填：name、kind、grid、households"),
        "{}",
        r.text()
    );
    assert_eq!(app.get(&path).await.json()["compound"]["name"], "改名小区");
    // The record's own name for its grid is understood.
    let r = app
        .json("PUT", &path, json!({"grid_code": "370725001001999"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        app.get(&path).await.json()["compound"]["grid_code"],
        grid.as_str()
    );
}

#[tokio::test]
async fn a_retired_record_offers_no_edit_form() {
    let app = TestApp::demo().await;
    let r = app
        .json(
            "POST",
            "/api/communities/370725001001/grids",
            json!({"name": "临时网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let code = r.json()["key"].as_str().unwrap().to_string();
    assert_eq!(
        app.get(&format!("/edit/grids/{code}")).await.status,
        StatusCode::OK
    );
    let r = app
        .json("POST", &format!("/api/grids/{code}/retire"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.get(&format!("/edit/grids/{code}")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("已于"), "{}", r.text());
    assert!(
        r.text().contains("撤销，仅作历史记录，不能修改"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("<form method=\"post\" action=\"/edit/"));
}

/// Every place page's trail leads up through its parents, each a link, and ends with the
/// page itself; a skip link leads past the menus.
#[tokio::test]
async fn the_trail_leads_up_through_every_parent() {
    let app = TestApp::demo().await;
    let grid = app.get("/api/grids/370725001001001").await.json();
    let name = grid["grid"]["name"].as_str().unwrap().to_string();
    let page = app.get("/grids/370725001001001").await.text();
    let trail = &page[page.find("class=\"crumbs\"").unwrap()..page.find("<main").unwrap()];
    assert!(trail.contains("<a href=\"/streets/370725001\">"), "{trail}");
    assert!(
        trail.contains("<a href=\"/communities/370725001001\">"),
        "{trail}"
    );
    assert!(
        trail.contains(&format!("<span aria-current=\"page\">{name}</span>")),
        "{trail}"
    );
    assert!(
        page.contains("<a class=\"skip\" href=\"#main\">") && page.contains("<main id=\"main\">")
    );
    let page = app.get("/communities/370725001001").await.text();
    let trail = &page[page.find("class=\"crumbs\"").unwrap()..page.find("<main").unwrap()];
    assert!(trail.contains("<a href=\"/streets/370725001\">"), "{trail}");
    assert!(trail.contains("aria-current=\"page\""), "{trail}");
    // The chart's figures are printed and listed, not only in hover titles.
    let home = app.get("/").await.text();
    assert!(home.contains("<summary>户数表</summary>"), "{home}");
    assert!(home.contains("aria-label=\"宝都街道：98161 户\""), "{home}");
    assert!(
        !home.contains("role=\"img\" aria-label=\"户数分布\""),
        "{home}"
    );
    // Ending a posting asks first, with JavaScript or without (a tick the browser requires).
    assert!(
        page.contains("<noscript><label class=\"confirm\"><input type=\"checkbox\" name=\"confirmed\" required> 结束该人员的这项配备？"),
        "{page}"
    );
    let staff = app.get("/api/communities/370725001001/staff").await.json();
    let id = staff[0]["id"].as_str().unwrap().to_string();
    let r = app
        .form(&format!("/staff/{id}/end"), &[("confirmed", "on")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}
