//! "Propose a grid plan" on the demo county: every 宝都 community gets a valid plan inside its
//! own boundary, shown in the UI; adopting one retires and creates grids, keeping history.

mod common;

use std::collections::HashSet;

use axum::http::StatusCode;
use common::TestApp;

#[tokio::test]
async fn every_baodu_community_gets_a_valid_plan_and_one_is_adopted() {
    let app = TestApp::demo().await;
    let overview = app.overview().await;
    let baodu = &overview["streets"][0];
    assert_eq!(baodu["street"]["name"], "宝都街道");
    for c in baodu["communities"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let page = app.get(&format!("/api/communities/{code}")).await.json();
        let compounds: HashSet<String> = page["compounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();
        let plan = app
            .get(&format!("/api/plan/communities/{code}?min=500&max=600"))
            .await;
        assert_eq!(plan.status, StatusCode::OK, "{code}: {}", plan.text());
        let plan = plan.json();
        let mut seen = HashSet::new();
        let mut codes = HashSet::new();
        for g in plan["features"].as_array().unwrap() {
            let p = &g["properties"];
            let gc = p["code"].as_str().unwrap();
            assert!(
                gc.starts_with(code) && gc.len() == 15,
                "{gc} lies inside {code}"
            );
            assert!(codes.insert(gc.to_string()), "codes are unique");
            let h = p["households"].as_i64().unwrap();
            assert_eq!(p["in_band"].as_bool().unwrap(), (500..=600).contains(&h));
            if !p["in_band"].as_bool().unwrap() {
                assert!(p["reason"].is_string(), "{gc}: a grid out of band says why");
            }
            for m in p["compounds"].as_array().unwrap() {
                let m = m.as_str().unwrap().to_string();
                assert!(compounds.contains(&m), "only the community's own compounds");
                assert!(seen.insert(m), "no compound in two grids");
            }
        }
        assert_eq!(
            seen, compounds,
            "{code}: every compound in exactly one grid"
        );
        let html = app.get(&format!("/plan/communities/{code}")).await;
        assert_eq!(html.status, StatusCode::OK);
        assert!(html.text().contains("现有网格") && html.text().contains("方案网格"));
    }

    // The street page plans every community at once.
    let page = app.get("/plan/streets/370725001?min=500&max=600").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("宝昌社区") && text.contains("流泉社区") && text.contains("理论上限"));

    // Adopt 宝昌社区's plan.
    let code = "370725001001";
    let before = app.get(&format!("/api/communities/{code}")).await.json();
    let old: Vec<String> = before["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_string())
        .collect();
    let plan = app
        .get(&format!("/api/plan/communities/{code}?min=500&max=600"))
        .await
        .json();
    let planned: HashSet<String> = plan["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    let r = app
        .form(
            &format!("/plan/communities/{code}/adopt"),
            &[("min", "500"), ("max", "600")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let after = app.get(&format!("/api/communities/{code}")).await.json();
    let live: HashSet<String> = after["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(live, planned, "the live grids are the plan's");
    let retired: HashSet<String> = after["retired_grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_string())
        .collect();
    for g in &old {
        assert!(
            live.contains(g) || retired.contains(g),
            "{g} is kept or retired, never lost"
        );
    }
    assert!(
        !retired.is_empty()
            || live.len() != old.len()
            || live != old.iter().cloned().collect::<HashSet<_>>()
    );
    // Every compound is in a live grid of the plan; the figures follow.
    for m in after["compounds"].as_array().unwrap() {
        assert!(live.contains(m["grid_code"].as_str().unwrap()));
    }
    assert_eq!(
        after["community"]["figures"]["grids"].as_i64().unwrap() as usize,
        live.len()
    );
    assert_eq!(after["community"]["figures"]["households"], 4350);
    // Planning again proposes no change; retired codes are never given again.
    let again = app
        .get(&format!("/api/plan/communities/{code}?min=500&max=600"))
        .await
        .json();
    let again_codes: HashSet<String> = again["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        again_codes, live,
        "re-planning an adopted plan changes nothing"
    );
    assert!(again_codes.is_disjoint(&retired));
}
