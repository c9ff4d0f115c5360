//! "Propose a grid plan" on the demo county: every 宝都 community gets a valid plan inside its
//! own boundary, shown in the UI; adopting one retires and creates grids, keeping history.

mod common;

use std::collections::{HashMap, HashSet};

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
        let (mut merged, mut excess) = (0, 0);
        for g in plan["features"].as_array().unwrap() {
            let p = &g["properties"];
            let gc = p["code"].as_str().unwrap();
            if p["reason"] == "merged_over_ceiling" {
                merged += 1;
                excess += p["households"].as_i64().unwrap() - 600;
            }
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
        assert_eq!(plan["summary"]["merged_over_ceiling"], merged, "{code}");
        assert_eq!(plan["summary"]["merged_excess"], excess, "{code}");
        let html = app.get(&format!("/plan/communities/{code}")).await;
        assert_eq!(html.status, StatusCode::OK);
        assert!(html.text().contains("现有网格") && html.text().contains("方案网格"));
    }

    // The street page plans every community at once.
    let page = app.get("/plan/streets/370725001?min=500&max=600").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("宝昌社区") && text.contains("流泉社区") && text.contains("理论上限"));
    assert!(text.contains("<tfoot><tr><th>合计</th>"), "a row of sums");
    // Both maps of the whole street: every compound of every community drawn twice.
    assert!(text.contains("aria-label=\"现有网格\"") && text.contains("aria-label=\"方案网格\""));
    let mut compounds = 0;
    for c in baodu["communities"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let page = app.get(&format!("/api/communities/{code}")).await.json();
        for m in page["compounds"].as_array().unwrap() {
            compounds += 1;
            let title = format!("<title>{}：", m["name"].as_str().unwrap());
            assert_eq!(text.matches(&title).count() % 2, 0, "{title} on both maps");
            assert!(text.contains(&title), "{title}");
        }
    }
    assert_eq!(
        text.matches("<path d=\"M").count() - text.matches("class=\"barrier\"").count(),
        2 * compounds,
        "each compound once on each map"
    );
    // The roads around the communities are drawn on both maps.
    assert!(text.matches("<title>北海路（道路）</title>").count() >= 2);
    // Per community, every proposed grid is counted once; and the street's sums say what
    // adopting will do (the page's own check of the adoption).
    let count = |cell: &str, what: &str| -> usize {
        cell.split(&format!("{what} "))
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{what} in {cell}"))
    };
    let number = |cell: &str| -> usize {
        cell.split('>')
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("a number in {cell}"))
    };
    let body = text
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    let mut rows_checked = 0;
    for row in body.split("<tr>").skip(1) {
        let cells: Vec<&str> = row.split("<td").skip(1).collect();
        if let Some(changes) = cells.iter().find(|c| c.contains("保留 ")) {
            // 社区 | 户数 | 现有网格 | 方案网格 | …
            let proposed = number(cells[3]);
            let parts: usize = ["保留", "合并", "拆分", "新建"]
                .iter()
                .map(|w| count(changes, w))
                .sum();
            assert_eq!(parts, proposed, "{row}");
            rows_checked += 1;
        }
    }
    assert!(rows_checked > 10, "every community's row: {rows_checked}");
    let foot = text.split("<tfoot>").nth(1).unwrap();
    let (kept, created, retired) = (
        count(foot, "保留"),
        ["合并", "拆分", "新建"]
            .iter()
            .map(|w| count(foot, w))
            .sum::<usize>(),
        count(foot, "撤销"),
    );
    assert!(
        text.contains(&format!(
            "采用后：保留网格 {kept} 个，启用新编码的网格 {created} 个（合并、拆分和新建的），撤销 {retired} 个"
        )),
        "the street's sums agree with what adopting does: 保留 {kept} 新建 {created} 撤销 {retired}"
    );

    // Adopt 宝昌社区's plan.
    let code = "370725001001";
    let before = app.get(&format!("/api/communities/{code}")).await.json();
    let old: Vec<String> = before["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_string())
        .collect();
    let planned = planned_grids(&app, code).await;
    // The diff: where every current grid goes, and where every proposed grid comes from.
    let page = app
        .get(&format!("/plan/communities/{code}?min=500&max=600"))
        .await
        .text();
    for g in &old {
        assert!(
            page.contains(&format!("<tr><td>{g}</td><td>")),
            "{g} has a fate"
        );
    }
    assert!(
        page.contains("<td>拆分到 370725001001010、370725001001011</td>")
            && page.contains("<td>并入 370725001001012</td>")
            && page.contains("<td>合并：370725001001002、370725001001003、370725001001004</td>")
            && page.contains("<td>拆分自 370725001001001</td>")
            // Its villages' rural grids stay as they are: the band is for urban grids.
            && page.contains("<td>保持不变（农村网格）</td>"),
        "{page}"
    );
    let r = app
        .form(
            &format!("/plan/communities/{code}/adopt"),
            &[("min", "500"), ("max", "600")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Back on the community's page, which says what adopting did.
    let to = r.headers["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("/communities/{code}?adopted=")),
        "{to}"
    );
    let page = app.get(&to).await.text();
    assert!(page.contains("网格划分方案已采用：保留网格"), "{page}");
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
    // A retired grid's page still says what it held, and where each compound went.
    for g in &retired {
        let page = app.get(&format!("/api/grids/{g}")).await.json();
        let moves = page["moves"].as_array().unwrap();
        assert!(!moves.is_empty(), "{g}: {page}");
        for m in moves {
            assert_eq!(m["from_grid"], g.as_str());
            assert!(live.contains(m["to_grid"].as_str().unwrap()));
            assert_eq!(m["reason"], "plan");
        }
        let html = app.get(&format!("/grids/{g}")).await.text();
        assert!(
            html.contains("小区变动") && html.contains("迁出至"),
            "{html}"
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
    let again_codes = planned_grids(&app, code).await;
    assert_eq!(
        again_codes, live,
        "re-planning an adopted plan changes nothing"
    );
    assert!(again_codes.is_disjoint(&retired));
}

/// The grid codes the planner proposes for a community at 500–600.
async fn planned_grids(app: &TestApp, community: &str) -> HashSet<String> {
    app.get(&format!(
        "/api/plan/communities/{community}?min=500&max=600"
    ))
    .await
    .json()["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["properties"]["code"].as_str().unwrap().to_string())
        .collect()
}

/// A community's live grid codes.
async fn live_grids(app: &TestApp, community: &str) -> HashSet<String> {
    app.get(&format!("/api/communities/{community}"))
        .await
        .json()["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_street_adopts_every_plan_at_once_and_people_follow_their_grids() {
    let app = TestApp::demo().await;
    wangge_web::people::load_demo_residents(&app.store, 3)
        .await
        .unwrap();
    let street = "370725001";
    // One person of each of the street's first grids has moved away: their records must
    // follow their household too, or the grid worker loses them.
    let mut gone = Vec::new();
    for c in ["370725001001", "370725001002", "370725001003"] {
        let list = app
            .get(&format!("/api/grids/{c}001/residents"))
            .await
            .json();
        let id = list["residents"][0]["id"].as_str().unwrap().to_string();
        let r = app
            .json(
                "POST",
                &format!("/api/residents/{id}/moves"),
                serde_json::json!({"kind": "move_out", "place": "外省", "date": wangge_store::today().to_string()}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        gone.push(id);
    }
    let overview = app.overview().await;
    let communities: Vec<(String, String)> = overview["streets"][0]["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let people = |v: &serde_json::Value| {
        (
            v["total"]["residents"].as_i64().unwrap(),
            v["total"]["households"].as_i64().unwrap(),
        )
    };
    let before = app.get(&format!("/api/people/stats/{street}")).await.json();
    assert!(people(&before).0 > 0);
    let mut grids_before = Vec::new();
    for (c, _) in &communities {
        grids_before.push(live_grids(&app, c).await);
    }

    // All or none: a compound without a location in the last community stops the whole street.
    let (last, last_name) = communities.last().unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{last}/compounds"),
            serde_json::json!({"name": "无边界小区", "households": 10, "population": 30}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let blocker = r.json()["key"].as_str().unwrap().to_string();
    let adopt = serde_json::json!({"min": 500, "max": 600});
    let r = app
        .json(
            "POST",
            &format!("/api/plan/streets/{street}/adopt"),
            adopt.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains(last_name.as_str()) && r.text().contains("无边界小区"));
    let page = app
        .get(&format!("/plan/streets/{street}?min=500&max=600"))
        .await
        .text();
    assert!(
        page.contains(&format!("未画入地图（方案无法生成，见下表）：{last_name}")),
        "the map says which community it leaves out"
    );
    for ((c, _), was) in communities.iter().zip(&grids_before) {
        assert_eq!(&live_grids(&app, c).await, was, "{c}: nothing adopted");
    }

    // The street's proposal as JSON names the community and its problem too.
    let proposal = app
        .get(&format!("/api/plan/streets/{street}?min=500&max=600"))
        .await;
    assert_eq!(proposal.status, StatusCode::OK, "{}", proposal.text());
    let proposal = proposal.json();
    let blocked = proposal["communities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| !r["problem"].is_null())
        .expect("a row with its problem");
    assert_eq!(blocked["name"], last_name.as_str());
    assert!(blocked["problem"].as_str().unwrap().contains("无边界小区"));

    // Without it, the street's plans are adopted together (the page offers it).
    let r = app
        .json(
            "POST",
            &format!("/api/compounds/{blocker}/retire"),
            serde_json::json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    // A household registered in a compound the plan puts in another grid goes with it.
    let (first, _) = &communities[0];
    let plan = app
        .get(&format!("/api/plan/communities/{first}?min=500&max=600"))
        .await
        .json();
    let page = app.get(&format!("/api/communities/{first}")).await.json();
    let (compound, to) = plan["features"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            let code = g["properties"]["code"].as_str().unwrap().to_string();
            g["properties"]["compounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |m| (m.as_str().unwrap().to_string(), code.clone()))
        })
        .find(|(m, code)| {
            page["compounds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == m.as_str() && c["grid_code"] != code.as_str())
        })
        .expect("the plan moves some compound");
    let r = app
        .json(
            "POST",
            &format!("/api/compounds/{compound}/households"),
            serde_json::json!({"kind": "residing", "address": "1号楼101"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let household = r.json()["id"].as_str().unwrap().to_string();
    let page = app
        .get(&format!("/plan/streets/{street}?min=500&max=600"))
        .await;
    let text = page.text();
    assert!(
        text.contains("采用全部方案")
            && text.contains(&format!(r#"action="/plan/streets/{street}/adopt""#))
    );
    let form = text
        .split(&format!(r#"action="/plan/streets/{street}/adopt""#))
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .unwrap();
    assert!(
        form.contains(r#"name="csrf""#),
        "the form carries its CSRF token"
    );
    let api = app
        .get(&format!("/api/plan/streets/{street}?min=500&max=600"))
        .await
        .json();
    assert_eq!(
        api["plan"].as_str().unwrap(),
        shown_plan(form),
        "the API's fingerprint is the page's"
    );
    assert_eq!(
        api["communities"].as_array().unwrap().len(),
        communities.len()
    );
    let mut shown = Vec::new();
    for (c, _) in &communities {
        shown.push(planned_grids(&app, c).await);
    }
    let r = app
        .form(
            &format!("/plan/streets/{street}/adopt"),
            &[("min", "500"), ("max", "600")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let back = r.headers["location"].to_str().unwrap().to_string();
    let page = app.get(&back).await.text();
    assert!(
        back.starts_with(&format!("/streets/{street}?adopted="))
            && page.contains("网格划分方案已采用"),
        "{back}"
    );
    for ((c, _), planned) in communities.iter().zip(shown) {
        let live = live_grids(&app, c).await;
        assert_eq!(live, planned, "{c}: the live grids are the plan's");
        // Every resident is counted in a live grid of his community: none left behind in a
        // retired one.
        let stats = app.get(&format!("/api/people/stats/{c}")).await.json();
        for part in stats["parts"].as_array().unwrap() {
            let g = part[0].as_str().unwrap();
            let n = part[1]["residents"].as_i64().unwrap();
            assert!(
                n == 0 || live.contains(g),
                "{c}: {n} residents in retired grid {g}"
            );
        }
    }
    let h = app
        .get(&format!("/api/households/{household}"))
        .await
        .json();
    assert_eq!(
        h["grid_code"],
        to.as_str(),
        "the household follows its compound"
    );
    let after = app.get(&format!("/api/people/stats/{street}")).await.json();
    let (residents, households) = people(&before);
    assert_eq!(
        people(&after),
        (residents, households + 1),
        "nobody lost or counted twice"
    );
    let mut live_now = HashSet::new();
    for (c, _) in &communities {
        live_now.extend(live_grids(&app, c).await);
    }
    for id in &gone {
        let who = app.get(&format!("/api/residents/{id}")).await.json();
        let g = who["grid_code"].as_str().unwrap();
        assert!(live_now.contains(g), "{id} who moved away is left in {g}");
    }

    // Adopting again changes nothing.
    let r = app
        .json("POST", &format!("/api/plan/streets/{street}/adopt"), adopt)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = r.json();
    assert_eq!(
        (
            s["created"].as_i64(),
            s["retired"].as_i64(),
            s["moved"].as_i64()
        ),
        (Some(0), Some(0), Some(0)),
        "{s}"
    );
}

#[tokio::test]
async fn a_plan_that_would_orphan_households_is_refused() {
    let app = TestApp::demo().await;
    let community = "370725001001";
    // A grid with no compound, and a household registered in it by grid code alone.
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{community}/grids"),
            serde_json::json!({"name": "空网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let empty = r.json()["key"].as_str().unwrap().to_string();
    let id = wangge_domain::people::IdNumber::from_parts(
        "370725",
        wangge_domain::Date::new(1970, 7, 7).unwrap(),
        33,
    )
    .unwrap();
    let csv = format!(
        "户号,户类型,与户主关系,姓名,公民身份号码,网格编码\nO-1,户籍户,户主,孤户,{},{empty}\n",
        id.as_str()
    );
    let r = app
        .send_bytes(
            "POST",
            "/api/import/residents?filename=o.csv",
            Some(csv.into_bytes()),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The plan has no grid for them to go to: nothing is adopted, and the message says why.
    let before = live_grids(&app, community).await;
    let r = app
        .json(
            "POST",
            &format!("/api/plan/communities/{community}/adopt"),
            serde_json::json!({"min": 500, "max": 600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(
        r.text().contains(&empty) && r.text().contains("不再有小区"),
        "{}",
        r.text()
    );
    assert_eq!(live_grids(&app, community).await, before);
    // The proposal page says so before anyone presses the button, and offers no button;
    // checking it wrote nothing either.
    let page = app
        .get(&format!("/plan/communities/{community}?min=500&max=600"))
        .await
        .text();
    assert!(
        page.contains("此方案暂不能采用") && page.contains("不再有小区"),
        "{page}"
    );
    assert!(!page.contains("采用此方案</button>"));
    assert_eq!(live_grids(&app, community).await, before);

    // The fix: put the household in a compound, from its page.
    let people = app
        .get(&format!("/api/grids/{empty}/residents"))
        .await
        .json();
    let household = people["residents"][0]["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    let page = app.get(&format!("/households/{household}")).await.text();
    assert!(page.contains("调整所在小区"), "{page}");
    let detail = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json();
    let compound = &detail["compounds"][0];
    let (compound_id, compound_grid) = (
        compound["id"].as_str().unwrap().to_string(),
        compound["grid_code"].as_str().unwrap().to_string(),
    );
    let r = app
        .form(
            &format!("/households/{household}/place"),
            &[("compound", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请选择小区"), "{}", r.text());
    let r = app
        .form(
            &format!("/households/{household}/place"),
            &[("compound", &compound_id), ("address", "3 号楼 2 单元 101")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let h = app
        .get(&format!("/api/households/{household}"))
        .await
        .json();
    assert_eq!(
        h["grid_code"],
        compound_grid.as_str(),
        "the household takes the compound's grid"
    );
    assert_eq!(h["address"], "3 号楼 2 单元 101");
    assert!(
        h["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["grid_code"] == compound_grid.as_str()),
        "{h}"
    );
    // An API call that leaves the address out keeps it; another community's compound is
    // not a place for it (that is a move of its people).
    let r = app
        .json(
            "PUT",
            &format!("/api/households/{household}/place"),
            serde_json::json!({"compound": compound_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["address"], "3 号楼 2 单元 101");
    let elsewhere = app.get("/api/communities/370725002001").await.json()["compounds"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .json(
            "PUT",
            &format!("/api/households/{household}/place"),
            serde_json::json!({"compound": elsewhere}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("只能调整到本社区的小区"), "{}", r.text());
    // Now the plan can be adopted.
    let r = app
        .json(
            "POST",
            &format!("/api/plan/communities/{community}/adopt"),
            serde_json::json!({"min": 500, "max": 600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// The fingerprint of the plan a page shows, from its adopt form.
fn shown_plan(page: &str) -> String {
    let at = page.find("name=\"plan\" value=\"").expect("an adopt form") + 19;
    page[at..at + 16].to_string()
}

#[tokio::test]
async fn adopting_takes_the_plan_the_page_showed_or_nothing() {
    let app = TestApp::demo().await;
    let community = "370725001001";
    let page = app
        .get(&format!("/plan/communities/{community}?min=500&max=600"))
        .await
        .text();
    assert!(
        page.contains("采用后：保留网格"),
        "the page says what adopting does"
    );
    let seen = shown_plan(&page);
    // Someone changes a compound's households meanwhile: one that shares a grid in the plan
    // becomes too big to share one, so the plan is not the one shown.
    let proposal = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await
        .json();
    assert_eq!(proposal["summary"]["plan"].as_str().unwrap(), seen);
    let shared = proposal["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["properties"]["compounds"].as_array().unwrap().len() > 1)
        .unwrap();
    let id = shared["properties"]["compounds"][0].as_str().unwrap();
    let m = app.get(&format!("/api/compounds/{id}")).await.json()["compound"].clone();
    let body = serde_json::json!({
        "name": m["name"],
        "grid": m["grid_code"],
        "households": 1500,
        "population": 4000,
    });
    let r = app.json("PUT", &format!("/api/compounds/{id}"), body).await;
    assert!(r.status.is_success(), "{}", r.text());
    let before = live_grids(&app, community).await;
    let r = app
        .form(
            &format!("/plan/communities/{community}/adopt"),
            &[("min", "500"), ("max", "600"), ("plan", &seen)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("方案已变化"), "{}", r.text());
    assert_eq!(live_grids(&app, community).await, before, "nothing adopted");
    // The page as it is now is adopted.
    let page = app
        .get(&format!("/plan/communities/{community}?min=500&max=600"))
        .await
        .text();
    let now = shown_plan(&page);
    assert_ne!(now, seen);
    let r = app
        .form(
            &format!("/plan/communities/{community}/adopt"),
            &[
                ("min", "500"),
                ("max", "600"),
                ("plan", &now),
                ("staff_follow", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let live = live_grids(&app, community).await;
    assert_eq!(live, planned_grids(&app, community).await);
    // With the box ticked, every grid posting still open is on a live grid.
    let staff = app
        .get(&format!("/api/communities/{community}/staff"))
        .await
        .json();
    for a in staff.as_array().unwrap() {
        if a["valid_to"].is_null() && a["post_level"] == "grid" {
            assert!(live.contains(a["post_code"].as_str().unwrap()), "{a}");
        }
    }
    assert!(
        staff
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["valid_to"].is_null()
                && a["valid_from"] == wangge_store::today().to_string().as_str()),
        "someone followed their households"
    );
}

#[tokio::test]
async fn a_band_that_is_not_a_number_is_refused_in_chinese_and_nothing_is_adopted() {
    let app = TestApp::demo().await;
    let community = "370725002004";
    let before = live_grids(&app, community).await;
    for body in [
        serde_json::json!({"min": "x", "max": 600}),
        serde_json::json!({"min": 500.5, "max": 600}),
        serde_json::json!({"min": [500], "max": 600}),
        serde_json::json!([]),
    ] {
        let r = app
            .json(
                "POST",
                &format!("/api/plan/communities/{community}/adopt"),
                body.clone(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text());
        assert_eq!(live_grids(&app, community).await, before, "{body}");
    }
    let r = app
        .get(&format!("/plan/communities/{community}?min=abc&max=600"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("户数下限应为正整数"), "{}", r.text());
    // Blank means the policy's band; full-width digits are digits.
    let r = app
        .get(&format!("/plan/communities/{community}?min=&max="))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .get(&format!(
            "/api/plan/communities/{community}?min=%EF%BC%94%EF%BC%90%EF%BC%90&max=700"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["summary"]["band"], serde_json::json!([400, 700]));
    // A form without the band at all is refused with the field named, not a raw parser error.
    let r = app
        .form(
            &format!("/plan/communities/{community}/adopt"),
            &[("min", "abc")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("户数下限"), "{}", r.text());
    assert_eq!(live_grids(&app, community).await, before);
}

#[tokio::test]
async fn a_compound_added_by_hand_is_planned_once_its_boundary_is_registered() {
    let app = TestApp::demo().await;
    let community = "370725002003";
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{community}/compounds"),
            serde_json::json!({"name": "新建小区", "households": 520, "population": 1500}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["key"].as_str().unwrap().to_string();
    // Without a boundary the plan names it and says where to fix it.
    let r = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text().contains("新建小区") && r.text().contains("修改"),
        "{}",
        r.text()
    );
    // A boundary that is not a polygon is refused with the field named; nothing changes.
    let base = serde_json::json!({"name": "新建小区", "households": 520, "population": 1500});
    let mut bad = base.clone();
    bad["geometry"] = serde_json::json!({"type": "Point", "coordinates": [1, 2]});
    let r = app.json("PUT", &format!("/api/compounds/{id}"), bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.json()["fields"]["geometry"]
            .as_str()
            .unwrap()
            .contains("Point")
    );
    // Through the edit form, as a GIS export pasted in (an open ring is closed).
    let r = app
        .form(
            &format!("/edit/compounds/{id}"),
            &[
                ("name", "新建小区"),
                ("households", "520"),
                ("population", "1500"),
                (
                    "geometry",
                    r#"{"type":"Polygon","coordinates":[[[90000,90000],[90100,90000],[90100,90100],[90000,90100]]]}"#,
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let m = app.get(&format!("/api/compounds/{id}")).await.json();
    assert_eq!(m["compound"]["has_boundary"], true);
    // An API edit that leaves the boundary out keeps it.
    let r = app.json("PUT", &format!("/api/compounds/{id}"), base).await;
    assert!(r.status.is_success(), "{}", r.text());
    let plan = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text());
    let planned = plan.json()["features"].as_array().unwrap().iter().any(|g| {
        g["properties"]["compounds"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(id))
    });
    assert!(planned, "the new compound is in a grid of the plan");
    // The edit form shows the boundary again, and an empty one clears it.
    let form = app.get(&format!("/edit/compounds/{id}")).await.text();
    assert!(form.contains("90100"), "{form}");
    let mut clear = serde_json::json!({"name": "新建小区", "households": 520, "population": 1500});
    clear["geometry"] = serde_json::json!("");
    let r = app
        .json("PUT", &format!("/api/compounds/{id}"), clear)
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let m = app.get(&format!("/api/compounds/{id}")).await.json();
    assert_eq!(m["compound"]["has_boundary"], false);
}

#[tokio::test]
async fn boundaries_come_in_from_a_gis_file_all_or_none() {
    let app = TestApp::demo().await;
    let community = "370725002003";
    for name in ["东区一号院", "东区二号院"] {
        let r = app
            .json(
                "POST",
                &format!("/api/communities/{community}/compounds"),
                serde_json::json!({"name": name, "households": 260, "population": 700}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let page = app
        .get(&format!("/communities/{community}/boundaries"))
        .await
        .text();
    assert!(page.contains("未登记：东区一号院、东区二号院"), "{page}");
    let square = |x: i64| serde_json::json!({"type": "Polygon", "coordinates": [[[x, 90000], [x + 100, 90000], [x + 100, 90100], [x, 90100], [x, 90000]]]});
    let file = |names: &[&str]| {
        let features: Vec<serde_json::Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                serde_json::json!({"type": "Feature", "properties": {"name": n}, "geometry": square(90000 + 100 * i as i64)})
            })
            .collect();
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()
    };
    // One unknown name: every problem named, nothing written.
    let r = send_geojson(
        &app,
        "POST",
        &format!("/api/communities/{community}/boundaries"),
        file(&["东区一号院", "西区"]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        r.json()["problems"],
        serde_json::json!(["第 2 个要素：本社区没有小区“西区”"])
    );
    assert_eq!(
        app.get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await
        .status,
        StatusCode::CONFLICT
    );
    // The right file: both set, and the two neighbours (260 + 260) make one grid in band.
    let r = send_geojson(
        &app,
        "POST",
        &format!("/api/communities/{community}/boundaries"),
        file(&["东区一号院", "东区二号院"]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["updated"], 2);
    let plan = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text());
    let detail = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json();
    let ids: Vec<serde_json::Value> = detail["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"].as_str().unwrap().starts_with("东区"))
        .map(|m| m["id"].clone())
        .collect();
    let together = plan.json()["features"].as_array().unwrap().iter().any(|g| {
        let members = g["properties"]["compounds"].as_array().unwrap();
        ids.iter().all(|id| members.contains(id)) && g["properties"]["households"] == 520
    });
    assert!(
        together,
        "the two new neighbours form one grid of 520 households"
    );
    // A boundary in longitude/latitude among planar ones: planning refuses, naming why.
    let lonlat = serde_json::json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"name": "东区二号院"},
        "geometry": {"type": "Polygon", "coordinates": [[[118.8, 36.7], [118.801, 36.7], [118.801, 36.701], [118.8, 36.7]]]}}]});
    let r = send_geojson(
        &app,
        "POST",
        &format!("/api/communities/{community}/boundaries"),
        lonlat,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("坐标系不一致"), "{}", r.text());
    let r = send_geojson(
        &app,
        "POST",
        &format!("/api/communities/{community}/boundaries"),
        file(&["东区二号院"]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The maps draw each compound's outline, named in its tooltip.
    let page = app
        .get(&format!("/plan/communities/{community}?min=500&max=600"))
        .await
        .text();
    assert!(page.contains("<path d=\"M"), "{page}");
    assert!(page.contains("<title>东区一号院：260 户"), "{page}");
}

/// A community drawn with more boundary points than planning can compare in reasonable time is
/// refused with what to do, instead of holding the server.
#[tokio::test]
async fn a_community_drawn_too_finely_is_refused_with_what_to_do() {
    let app = TestApp::demo().await;
    let community = "370725002003";
    let names = ["细一号院", "细二号院", "细三号院"];
    let mut features = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let r = app
            .json(
                "POST",
                &format!("/api/communities/{community}/compounds"),
                serde_json::json!({"name": name, "households": 260, "population": 700}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        // A circle of 15,000 points (under the 20,000 a compound may have).
        let n = 15_000;
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|k| {
                let a = k as f64 / n as f64 * std::f64::consts::TAU;
                [
                    90_000.0 + 300.0 * i as f64 + 100.0 * a.cos(),
                    90_000.0 + 100.0 * a.sin(),
                ]
            })
            .collect();
        ring.push(ring[0]);
        features.push(
            serde_json::json!({"type": "Feature", "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}),
        );
    }
    let upload = |features: &[serde_json::Value]| serde_json::json!({"type": "FeatureCollection", "features": features});
    let path = format!("/api/communities/{community}/boundaries");
    // All three in one file: refused at once, nothing written.
    let r = send_geojson(&app, "POST", &path, upload(&features)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("简化边界"), "{}", r.text());
    // In two files each under the limit: taken, and planning says what to do.
    for part in [&features[..2], &features[2..]] {
        let r = send_geojson(&app, "POST", &path, upload(part)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(
        r.text().contains("超过自动划分可处理的 40000 个") && r.text().contains("简化边界"),
        "{}",
        r.text()
    );
}

/// Sends a GeoJSON document (a boundary or barrier file) as the body.
async fn send_geojson(
    app: &TestApp,
    method: &str,
    path: &str,
    doc: impl std::fmt::Display,
) -> common::Reply {
    app.send_bytes(
        method,
        path,
        Some(doc.to_string().into_bytes()),
        "application/geo+json",
    )
    .await
}

/// The grids of a plan (API, with `query`), each as its set of compound ids.
async fn plan_groups(app: &TestApp, community: &str, query: &str) -> Vec<HashSet<String>> {
    let r = app
        .get(&format!("/api/plan/communities/{community}?{query}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g["properties"]["compounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn a_lane_may_be_crossed_when_asked_and_a_registered_road_never() {
    let app = TestApp::demo().await;
    let (street, community) = ("370725002", "370725002003");
    let mut ids = Vec::new();
    for name in ["东区一号院", "东区二号院"] {
        let r = app
            .json(
                "POST",
                &format!("/api/communities/{community}/compounds"),
                serde_json::json!({"name": name, "households": 260, "population": 700}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["key"].as_str().unwrap().to_string());
    }
    // Two compounds 100 m wide with a 12 m lane between them: their boundaries do not touch.
    let square = |x: i64| serde_json::json!({"type": "Polygon", "coordinates": [[[x, 90000], [x + 100, 90000], [x + 100, 90100], [x, 90100], [x, 90000]]]});
    let file = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "东区一号院"}, "geometry": square(90000)},
        {"type": "Feature", "properties": {"name": "东区二号院"}, "geometry": square(90112)}]});
    let r = send_geojson(
        &app,
        "POST",
        &format!("/api/communities/{community}/boundaries"),
        file,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let both: HashSet<String> = ids.iter().cloned().collect();
    let together = |groups: &[HashSet<String>]| groups.iter().any(|g| g.is_superset(&both));
    // Touching only: two small groups. Across up to 15 m: one grid of 520.
    let plain = plan_groups(&app, community, "min=500&max=600").await;
    assert!(!together(&plain), "a lane keeps them apart by default");
    let across = plan_groups(&app, community, "min=500&max=600&gap=15").await;
    assert!(together(&across), "15 m bridges the 12 m lane");
    let narrow = plan_groups(&app, community, "min=500&max=600&gap=%EF%BC%98").await;
    assert!(!together(&narrow), "8 m (typed full-width) does not");
    for bad in ["abc", "500", "-3"] {
        let r = app
            .get(&format!(
                "/api/plan/communities/{community}?min=500&max=600&gap={bad}"
            ))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().contains("相邻距离"), "{}", r.text());
    }
    // The demo registers the roads 附件2 names around each community (北海路…): they frame
    // communities and cut nothing inside one.
    let demo_lines = app
        .get(&format!("/api/streets/{street}/barriers"))
        .await
        .json();
    assert!(!demo_lines["features"].as_array().unwrap().is_empty());
    // A barrier file with a bad feature: every problem named, nothing registered.
    let road =
        serde_json::json!({"type": "LineString", "coordinates": [[90106, 89000], [90106, 91000]]});
    let bad = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "广场"}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
        {"type": "Feature", "properties": {"name": "新华路"}, "geometry": road}]});
    // Saved by a Windows tool: UTF-8 with a byte-order mark, read as the JSON it is.
    let r = app
        .send_bytes(
            "PUT",
            &format!("/api/streets/{street}/barriers"),
            Some([b"\xEF\xBB\xBF".as_slice(), bad.to_string().as_bytes()].concat()),
            "application/geo+json",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let problems = r.json()["problems"].clone();
    assert_eq!(problems.as_array().unwrap().len(), 1, "{problems}");
    assert!(problems[0].as_str().unwrap().starts_with("第 1 个要素"));
    let listed = app.get(&format!("/api/streets/{street}/barriers")).await;
    assert_eq!(
        listed.json()["features"],
        demo_lines["features"],
        "the demo's lines, unchanged"
    );
    // The road registered (with one far away, in another community's part of the street):
    // even at 15 m the two are never in one grid.
    let good = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "新华路"}, "geometry": road},
        {"type": "Feature", "properties": {"name": "远郊路"},
         "geometry": {"type": "LineString", "coordinates": [[-1000000, -1000000], [-1000000, -990000]]}}]});
    // In GBK, as GIS tools on Chinese Windows write it: the names arrive intact.
    let good_text = good.to_string();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&good_text);
    assert!(!unmappable);
    let r = app
        .send_bytes(
            "PUT",
            &format!("/api/streets/{street}/barriers"),
            Some(gbk.into_owned()),
            "application/geo+json",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["barriers"], 2);
    let listed = app
        .get(&format!("/api/streets/{street}/barriers"))
        .await
        .json();
    assert_eq!(listed["features"][0]["properties"]["name"], "新华路");
    assert_eq!(listed["features"][0]["properties"]["kind"], "道路");
    assert_eq!(listed["features"][1]["properties"]["name"], "远郊路");
    let cut = plan_groups(&app, community, "min=500&max=600&gap=15").await;
    assert!(!together(&cut), "no grid crosses 新华路");
    let page = app
        .get(&format!(
            "/plan/communities/{community}?min=500&max=600&gap=15"
        ))
        .await
        .text();
    assert!(page.contains("class=\"barrier\""), "the road is drawn");
    assert!(page.contains("<title>新华路（道路）</title>"), "{page}");
    assert!(
        !page.contains("远郊路"),
        "a road far from the community is not drawn on its map"
    );
    assert!(page.contains("不超过 15 米") && page.contains("2 条街路河界线"));
    assert!(
        page.contains("name=\"gap\" value=\"15\""),
        "the adopt form keeps the gap"
    );
    assert!(
        page.contains(&format!(
            "href=\"/api/plan/communities/{community}?min=500&amp;max=600&amp;gap=15&amp;keep=\""
        )),
        "the plan shown can be downloaded for GIS"
    );
    let listing = app.get(&format!("/streets/{street}/barriers")).await.text();
    assert!(
        listing.contains("新华路") && listing.contains("导入界线"),
        "{listing}"
    );
    // A road in longitude/latitude beside planar compounds is not silently ignored.
    let lonlat = serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "滨河路", "kind": "河流"},
         "geometry": {"type": "LineString", "coordinates": [[118.8, 36.7], [118.81, 36.71]]}}]});
    let r = send_geojson(
        &app,
        "PUT",
        &format!("/api/streets/{street}/barriers"),
        lonlat,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text().contains("滨河路") && r.text().contains("坐标系"),
        "{}",
        r.text()
    );
    // Cleared from the page; then the plan across the lane is adopted as shown.
    let r = app
        .form(&format!("/streets/{street}/barriers/clear"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("已清除"));
    let page = app
        .get(&format!(
            "/plan/communities/{community}?min=500&max=600&gap=15"
        ))
        .await
        .text();
    let seen = shown_plan(&page);
    let r = app
        .form(
            &format!("/plan/communities/{community}/adopt"),
            &[
                ("min", "500"),
                ("max", "600"),
                ("gap", "15"),
                ("plan", &seen),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let mut grids = HashSet::new();
    for id in &ids {
        let m = app.get(&format!("/api/compounds/{id}")).await.json();
        grids.insert(m["compound"]["grid_code"].as_str().unwrap().to_string());
    }
    assert_eq!(
        grids.len(),
        1,
        "both compounds now share one grid: {grids:?}"
    );
}

#[tokio::test]
async fn new_grids_carry_on_the_kind_and_tier_of_the_grids_they_replace() {
    let app = TestApp::demo().await;
    let street = "370725001";
    let overview = app.overview().await;
    let communities: Vec<String> = overview["streets"][0]["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect();
    // Before: every live grid's kind and tier, and every compound's grid.
    let mut traits = std::collections::HashMap::new();
    let mut grid_of = std::collections::HashMap::new();
    let mut demonstration_before = 0;
    for c in &communities {
        let page = app.get(&format!("/api/communities/{c}")).await.json();
        for g in page["grids"].as_array().unwrap() {
            if g["tier"] == "demonstration" {
                demonstration_before += 1;
            }
            traits.insert(
                g["code"].as_str().unwrap().to_string(),
                (g["kind"].clone(), g["tier"].clone()),
            );
        }
        for m in page["compounds"].as_array().unwrap() {
            grid_of.insert(
                m["id"].as_str().unwrap().to_string(),
                m["grid_code"].clone(),
            );
        }
    }
    // Staff in post on every grid, as “姓名（角色，网格）”.
    let mut staff_before = Vec::new();
    for c in &communities {
        let staff = app.get(&format!("/api/communities/{c}/staff")).await.json();
        for a in staff.as_array().unwrap() {
            if a["valid_to"].is_null() && a["post_level"] == "grid" {
                staff_before.push((
                    a["post_code"].as_str().unwrap().to_string(),
                    format!(
                        "{}（{}，{}）",
                        a["person_name"].as_str().unwrap(),
                        a["role_label"].as_str().unwrap(),
                        a["post_code"].as_str().unwrap()
                    ),
                ));
            }
        }
    }
    assert!(!staff_before.is_empty(), "the demo has grid staff");
    // The page says, before adopting, whose posts end.
    let page = app
        .get(&format!("/plan/streets/{street}?min=500&max=600"))
        .await
        .text();
    assert!(page.contains("项人员配备同日结束"), "{page}");
    let r = app
        .json(
            "POST",
            &format!("/api/plan/streets/{street}/adopt"),
            serde_json::json!({"min": 500, "max": 600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let summary = r.json();
    let mut ended: Vec<String> = summary["staff_ended"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    ended.sort();
    let mut expected: Vec<String> = Vec::new();
    for c in &communities {
        let live = live_grids(&app, c).await;
        let retired_here = |g: &str| g.starts_with(c.as_str()) && !live.contains(g);
        expected.extend(
            staff_before
                .iter()
                .filter(|(g, _)| retired_here(g))
                .map(|(_, who)| who.clone()),
        );
    }
    expected.sort();
    assert!(!expected.is_empty(), "the plan retires staffed grids");
    assert_eq!(
        ended, expected,
        "every post on a retired grid is named, and no other"
    );
    let (mut new_grids, mut with_tier, mut demonstration_after) = (0, 0, 0);
    for c in &communities {
        let page = app.get(&format!("/api/communities/{c}")).await.json();
        for g in page["grids"].as_array().unwrap() {
            if g["tier"] == "demonstration" {
                demonstration_after += 1;
            }
            let code = g["code"].as_str().unwrap();
            if traits.contains_key(code) {
                assert_eq!(
                    g["valid_from"], "2020-01-01",
                    "{code}: the demo's grids are old"
                );
                continue;
            }
            assert_eq!(
                g["valid_from"],
                wangge_store::today().to_string(),
                "{code} starts the day it is adopted"
            );
            new_grids += 1;
            // Its predecessors: the grids its compounds were in.
            let members: Vec<&serde_json::Value> = page["compounds"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["grid_code"] == code)
                .collect();
            let from: Vec<&(serde_json::Value, serde_json::Value)> = members
                .iter()
                .filter_map(|m| grid_of[m["id"].as_str().unwrap()].as_str())
                .map(|f| &traits[f])
                .collect();
            assert!(!from.is_empty(), "{code} comes from current grids");
            assert!(
                from.iter().any(|(kind, _)| kind == &g["kind"]),
                "{code} is of a kind one of its predecessors had"
            );
            if !g["tier"].is_null() {
                with_tier += 1;
                // 示范 goes to one heir only: another part of a 示范 grid is 规范.
                assert!(
                    from.iter().any(|(_, tier)| tier == &g["tier"]
                        || (tier == "demonstration" && g["tier"] == "standard")),
                    "{code}: a tier is handed on, never made up"
                );
            }
        }
    }
    assert!(new_grids > 0, "the plan creates grids");
    assert!(
        with_tier > 0,
        "new grids take over their predecessors' tiers"
    );
    assert!(
        demonstration_after <= demonstration_before,
        "splitting a 示范 grid does not make two: {demonstration_before} → {demonstration_after}"
    );
}

#[tokio::test]
async fn visits_count_in_the_grid_that_took_their_household() {
    let mut app = TestApp::demo().await;
    wangge_web::people::load_demo_residents(&app.store, 2)
        .await
        .unwrap();
    let street = "370725001";
    // The street's administrator, who sees the care records the demo's visits follow up
    // (a follow-up of a class closed to the reader is neither listed nor counted).
    app.login_new(
        "street_he",
        "Street-Pass-42",
        &format!("street_admin@{street}"),
    )
    .await;
    let visits = |v: &serde_json::Value| v["total"]["visits_this_month"].as_i64().unwrap();
    let street_before = visits(&app.get(&format!("/api/people/stats/{street}")).await.json());
    assert!(street_before > 0, "the demo has visits this month");
    let r = app
        .json(
            "POST",
            &format!("/api/plan/streets/{street}/adopt"),
            serde_json::json!({"min": 500, "max": 600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        visits(&app.get(&format!("/api/people/stats/{street}")).await.json()),
        street_before,
        "adopting a plan moves no visit in or out of the street"
    );
    let overview = app.overview().await;
    let mut retired_with_visits = 0;
    for c in overview["streets"][0]["communities"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let stats = app.get(&format!("/api/people/stats/{code}")).await.json();
        let live = live_grids(&app, code).await;
        let mut by_live_grids = 0;
        for part in stats["parts"].as_array().unwrap() {
            let (grid, n) = (
                part[0].as_str().unwrap(),
                visits(&serde_json::json!({"total": part[1]})),
            );
            if live.contains(grid) {
                by_live_grids += n;
            } else if n > 0 {
                retired_with_visits += 1;
            }
        }
        assert_eq!(
            by_live_grids,
            visits(&stats),
            "{code}: the live grids' visits add up to the community's"
        );
        // A grid's own figure is the same as its row in the community's.
        for grid in &live {
            let own = visits(&app.get(&format!("/api/people/stats/{grid}")).await.json());
            let row = stats["parts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p[0] == grid.as_str())
                .map(|p| visits(&serde_json::json!({"total": p[1]})))
                .unwrap_or(0);
            assert_eq!(own, row, "{grid}");
        }
    }
    assert_eq!(retired_with_visits, 0, "no visit is left on a retired grid");
    // A grid's visit list shows the visits to its households, those made before included.
    let month_start = format!("{}-01", &wangge_store::today().to_string()[..7]);
    let mut listed = 0;
    for c in overview["streets"][0]["communities"].as_array().unwrap() {
        for grid in live_grids(&app, c["code"].as_str().unwrap()).await {
            let list = app.get(&format!("/api/grids/{grid}/visits")).await.json();
            let this_month = list
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v["date"].as_str().unwrap() >= month_start.as_str())
                .count() as i64;
            assert_eq!(
                this_month,
                visits(&app.get(&format!("/api/people/stats/{grid}")).await.json()),
                "{grid}: the list and the figure agree"
            );
            listed += this_month;
        }
    }
    assert_eq!(listed, street_before);
}

#[tokio::test]
async fn a_community_without_compounds_is_told_what_to_do_first() {
    let app = TestApp::demo().await;
    let r = app
        .json(
            "POST",
            "/api/streets/370725001/communities",
            serde_json::json!({"name": "新设社区", "kind": "urban", "code": "370725001099"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let page = app
        .get("/plan/communities/370725001099?min=500&max=600")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("本社区还没有登记小区"),
        "{}",
        page.text()
    );
    // The street's page plans the others and leaves it out of the maps without complaint.
    let street = app.get("/plan/streets/370725001?min=500&max=600").await;
    assert_eq!(street.status, StatusCode::OK);
    assert!(!street.text().contains("未画入地图"));
}

#[tokio::test]
async fn staff_may_follow_their_households_into_the_new_grids() {
    let app = TestApp::demo().await;
    let street = "370725001";
    let overview = app.overview().await;
    let communities: Vec<String> = overview["streets"][0]["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_string())
        .collect();
    // A leader on every grid that has none, so a leader who follows may find one.
    for c in &communities {
        let staff = app.get(&format!("/api/communities/{c}/staff")).await.json();
        for g in live_grids(&app, c).await {
            let led = staff.as_array().unwrap().iter().any(|a| {
                a["valid_to"].is_null()
                    && a["role"] == "grid_leader"
                    && a["post_code"] == g.as_str()
            });
            if !led {
                let name = format!("网格长{}", &g[12..]);
                let r = app
                    .form(
                        &format!("/communities/{c}/staff"),
                        &[
                            ("person_name", name.as_str()),
                            ("role", "grid_leader"),
                            ("grid", g.as_str()),
                            ("from", "2021-01-01"),
                        ],
                    )
                    .await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
            }
        }
    }
    // Every compound's grid and households, and every grid posting, before.
    let mut compounds = Vec::new();
    let mut postings = Vec::new();
    for c in &communities {
        let page = app.get(&format!("/api/communities/{c}")).await.json();
        for m in page["compounds"].as_array().unwrap() {
            compounds.push((
                m["id"].as_str().unwrap().to_string(),
                m["grid_code"].as_str().unwrap_or("").to_string(),
                m["households"].as_i64().unwrap(),
            ));
        }
        let staff = app.get(&format!("/api/communities/{c}/staff")).await.json();
        for a in staff.as_array().unwrap() {
            if a["valid_to"].is_null() && a["post_level"] == "grid" {
                postings.push((
                    a["person_name"].as_str().unwrap().to_string(),
                    a["role"].as_str().unwrap().to_string(),
                    a["post_code"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    let page = app
        .get(&format!("/plan/streets/{street}?min=500&max=600"))
        .await
        .text();
    assert!(page.contains("勾选“人员随网格调入”则其中"), "{page}");
    assert!(page.contains(r#"name="staff_follow""#));
    let r = app
        .json(
            "POST",
            &format!("/api/plan/streets/{street}/adopt"),
            serde_json::json!({"min": 500, "max": 600, "staff_follow": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let summary = r.json();
    assert!(
        !summary["staff_moved"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    // Where each compound went now.
    let mut now = std::collections::HashMap::new();
    let mut live = HashSet::new();
    let mut after = Vec::new();
    for c in &communities {
        let page = app.get(&format!("/api/communities/{c}")).await.json();
        for m in page["compounds"].as_array().unwrap() {
            now.insert(
                m["id"].as_str().unwrap().to_string(),
                m["grid_code"].as_str().unwrap().to_string(),
            );
        }
        live.extend(live_grids(&app, c).await);
        let staff = app.get(&format!("/api/communities/{c}/staff")).await.json();
        after.extend(staff.as_array().unwrap().iter().cloned());
    }
    let today = wangge_store::today().to_string();
    let mut followed = 0;
    for (name, role, post) in &postings {
        if live.contains(post) {
            continue;
        }
        // The grid that took most of the retired grid's households (lowest code on a tie).
        let mut shares: std::collections::BTreeMap<&str, i64> = Default::default();
        for (id, from, h) in &compounds {
            if from == post {
                *shares.entry(now[id].as_str()).or_default() += h;
            }
        }
        let heir = shares
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(g, _)| g.to_string())
            .unwrap();
        let at = |p: &str, open: bool| {
            after.iter().any(|a| {
                a["person_name"] == name.as_str()
                    && a["role"] == role.as_str()
                    && a["post_code"] == p
                    && (a["valid_to"].is_null() == open)
            })
        };
        assert!(at(post, false), "{name}'s posting at {post} ended");
        assert!(at(&heir, true), "{name} ({role}) now posted at {heir}");
        assert!(after.iter().any(|a| a["person_name"] == name.as_str()
            && a["post_code"] == heir.as_str()
            && a["valid_from"] == today.as_str()));
        followed += 1;
    }
    assert!(followed > 0);
    assert_eq!(
        summary["staff_moved"].as_array().unwrap().len()
            + summary["staff_ended"].as_array().unwrap().len(),
        followed,
        "every posting on a retired grid is either moved or ended"
    );
    // A grid has one leader: where leaders who followed make two, every one of their lines
    // says so, naming the other, and no other line does.
    let mut leaders: std::collections::BTreeMap<&str, usize> = Default::default();
    for a in &after {
        if a["valid_to"].is_null() && a["role"] == "grid_leader" {
            *leaders.entry(a["post_code"].as_str().unwrap()).or_default() += 1;
        }
    }
    let mut warned: HashSet<String> = HashSet::new();
    for line in summary["staff_moved"].as_array().unwrap() {
        let line = line.as_str().unwrap();
        if line.contains("（网格长）") {
            let to = line.rsplit("→ ").next().unwrap()[..15].to_string();
            assert_eq!(
                line.contains("另有网格长"),
                leaders[to.as_str()] > 1,
                "{line}"
            );
            if leaders[to.as_str()] > 1 {
                warned.insert(to);
            }
        } else {
            assert!(!line.contains("另有网格长"), "{line}");
        }
    }
    let doubled = warned.len();
    assert!(doubled > 0, "some leader follows into a grid that has one");
}

#[tokio::test]
async fn under_weidu_2017_each_residents_group_is_a_grid_of_its_own() {
    // 魏都区 (411002): its 2017 policy plans urban grids at 200–300 households, and in a
    // converted-village community one residents' group is one grid.
    let mut app = TestApp::empty().await;
    app.login().await;
    for (path, body) in [
        ("/api/county", r#"{"code":"411002","name":"魏都区"}"#),
        (
            "/api/streets",
            r#"{"code":"411002001","name":"西大街街道"}"#,
        ),
        (
            "/api/streets/411002001/communities",
            r#"{"code":"411002001001","name":"五一社区","kind":"converted_village"}"#,
        ),
    ] {
        let method = if path == "/api/county" { "PUT" } else { "POST" };
        let r = app.send(method, path, Some(body), "application/json").await;
        assert!(r.status.is_success(), "{path}: {}", r.text());
    }
    let community = "411002001001";
    // Six parcels in a row, 100 m each, touching: 幸福 | 一组 | 和平 | 安居 | 二组 | 三组.
    let row = [
        ("幸福小区", "compound", 150),
        ("一组", "residents_group", 120),
        ("和平小区", "compound", 150),
        ("安居小区", "compound", 100),
        ("二组", "居民小组", 260),
        ("三组", "residents_group", 80),
    ];
    let mut id = HashMap::new();
    for (i, (name, kind, households)) in row.iter().enumerate() {
        let x = 100 * i as i64;
        let r = app
            .json(
                "POST",
                &format!("/api/communities/{community}/compounds"),
                serde_json::json!({"name": name, "kind": kind, "households": households,
                    "population": households * 3,
                    "geometry": {"type": "Polygon", "coordinates":
                        [[[x, 0], [x + 100, 0], [x + 100, 100], [x, 100], [x, 0]]]}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        id.insert(r.json()["key"].as_str().unwrap().to_string(), *name);
    }
    // The plan at the policy's band: each group alone; 幸福小区 is cut off by 一组 and stays a
    // small group; 和平 and 安居 make one grid in band.
    let r = app.get(&format!("/api/plan/communities/{community}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["summary"]["band"], serde_json::json!([200, 300]));
    let mut grids: Vec<(Vec<&str>, Option<&str>)> = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let mut names: Vec<&str> = g["properties"]["compounds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| id[m.as_str().unwrap()])
                .collect();
            names.sort();
            (names, g["properties"]["reason"].as_str())
        })
        .collect();
    grids.sort();
    assert_eq!(
        grids,
        vec![
            (vec!["一组"], Some("own_grid")),
            (vec!["三组"], Some("own_grid")),
            (vec!["二组"], Some("own_grid")),
            (vec!["和平小区", "安居小区"], None),
            (vec!["幸福小区"], Some("small_group")),
        ]
    );
    assert_eq!(doc["summary"]["own_grid"], 3);
    assert_eq!(doc["summary"]["eligible"], 2);
    // Asking for another band does not merge the groups either.
    let wide = plan_groups(&app, community, "min=300&max=500").await;
    assert_eq!(wide.len(), 5, "{wide:?}");
    // The page says why the groups stand alone.
    let page = app
        .get(&format!("/plan/communities/{community}"))
        .await
        .text();
    assert!(page.contains("涉农社区以居民小组为一个网格"), "{page}");

    // Adopted, the groups' grids are rural grids of one residents' group each, and the
    // policy's check finds no rural grid that is not one group.
    let r = app
        .json(
            "POST",
            &format!("/api/plan/communities/{community}/adopt"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json();
    let grids = page["grids"].as_array().unwrap();
    assert_eq!(grids.len(), 5);
    let rural = grids.iter().filter(|g| g["kind"] == "rural").count();
    assert_eq!(rural, 3, "{grids:?}");
    let year = &wangge_store::today().to_string()[..4];
    let findings = app.get(&format!("/api/budget/findings?year={year}")).await;
    assert_eq!(findings.status, StatusCode::OK, "{}", findings.text());
    let findings = findings.json();
    let kinds: HashSet<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    // The grids were checked (none has its staff yet), and none is a rural grid of several.
    assert!(kinds.contains("leader_missing"), "{kinds:?}");
    assert!(!kinds.contains("rural_grid_not_one_group"), "{findings}");
}

#[tokio::test]
async fn a_grid_kept_as_asked_stays_as_it_is_through_the_plan_and_its_adoption() {
    let app = TestApp::demo().await;
    let community = "370725001003";
    let kept = format!("{community}002");
    // The compounds of current grid 002 (in the demo its compounds are scattered, so it is
    // neither contiguous nor, planned freely, kept).
    let members = |page: &serde_json::Value| -> Vec<String> {
        let mut m: Vec<String> = page["compounds"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["grid_code"] == kept.as_str())
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        m.sort();
        m
    };
    let before = members(
        &app.get(&format!("/api/communities/{community}"))
            .await
            .json(),
    );
    assert!(before.len() > 1, "{before:?}");
    let grid_in = |plan: &serde_json::Value| -> Option<serde_json::Value> {
        plan["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["properties"]["code"] == kept.as_str())
            .map(|g| g["properties"].clone())
    };
    let compounds_of = |g: &serde_json::Value| -> Vec<String> {
        let mut m: Vec<String> = g["compounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        m.sort();
        m
    };
    let free = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await
        .json();
    assert!(
        grid_in(&free).is_none_or(|g| compounds_of(&g) != before),
        "planned freely, 002 does not stay as it is"
    );
    // Kept (by its last 3 digits, typed full-width): exactly as it is, under its code.
    let plan = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600&keep=%EF%BC%90%EF%BC%90%EF%BC%92"
        ))
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text());
    let plan = plan.json();
    let g = grid_in(&plan).expect("002 kept");
    assert_eq!(compounds_of(&g), before);
    if g["in_band"] == false {
        assert_eq!(g["reason"], "fixed");
        assert_eq!(g["reason_text"], "按要求保持原网格不变");
    }
    assert_eq!(plan["summary"]["keep"], serde_json::json!([kept]));
    // Kept: this one as asked, and the community's rural grids, whose band the policy does
    // not set.
    let rural = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json()["grids"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["kind"] == "rural")
        .count();
    assert_eq!(plan["summary"]["fixed"], 1 + rural);
    // No other grid takes any of its compounds; every compound is in one grid.
    let mut seen = HashSet::new();
    for f in plan["features"].as_array().unwrap() {
        for m in f["properties"]["compounds"].as_array().unwrap() {
            assert!(seen.insert(m.as_str().unwrap().to_string()));
        }
    }
    // The page: the choice in the form, in the table, and a link to turn it round.
    let page = app
        .get(&format!(
            "/plan/communities/{community}?min=500&max=600&keep=002"
        ))
        .await
        .text();
    assert!(page.contains("name=\"keep\" value=\"002\""), "{page}");
    assert!(
        page.contains("保持不变（按要求）")
            && page.contains(&format!(
                "；{} 个网格保持不变（按要求，或是户数标准不适用的农村网格）",
                1 + rural
            )),
        "{page}"
    );
    assert!(page.contains(&format!(
        "href=\"/plan/communities/{community}?min=500&#38;max=600&#38;gap=&#38;keep=\">不再保持，参与划分"
    )));
    assert!(page.contains(&format!(
        "href=\"/plan/communities/{community}?min=500&#38;max=600&#38;gap=&#38;keep=001,002\">保持不变"
    )));
    // Bad choices are named, and nothing is planned.
    for (keep, says) in [
        ("abc", "保持不变的网格应为本社区网格的编码"),
        ("370725001001001", "保持不变的网格应为本社区网格的编码"),
        ("999", "不是有小区的现有网格"),
    ] {
        let r = app
            .get(&format!(
                "/api/plan/communities/{community}?min=500&max=600&keep={keep}"
            ))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{keep}");
        assert!(r.text().contains(says), "{keep}: {}", r.text());
    }
    // The JSON API takes the grids kept as a list of codes, and nothing else.
    let r = app
        .json(
            "POST",
            &format!("/api/plan/communities/{community}/adopt"),
            serde_json::json!({"min": 500, "max": 600, "keep": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("keep 应为网格编码的数组"), "{}", r.text());
    let r = app
        .json(
            "POST",
            &format!("/api/plan/communities/{community}/adopt"),
            serde_json::json!({"min": 500, "max": 600, "keep": [kept, "999"], "plan": "0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.text().contains("999") && r.text().contains("不是有小区的现有网格"),
        "{}",
        r.text()
    );
    // Adopted from the page as shown: 002 keeps its compounds and stays live.
    let seen = shown_plan(&page);
    let r = app
        .form(
            &format!("/plan/communities/{community}/adopt"),
            &[
                ("min", "500"),
                ("max", "600"),
                ("keep", "002"),
                ("plan", &seen),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let after = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json();
    assert_eq!(members(&after), before);
    // The workbook for review: the same plan as the page, title, grids and fates.
    let page = app
        .get(&format!(
            "/plan/communities/{community}?min=500&max=600&keep=002"
        ))
        .await
        .text();
    let xlsx = app
        .get(&format!(
            "/plan/communities/{community}/export.xlsx?min=500&max=600&keep=002"
        ))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(page.contains(&format!(
        "/plan/communities/{community}/export.xlsx?min=500&amp;max=600&amp;gap=&amp;keep=002"
    )));
    let sheets = wangge_sheets::read("方案.xlsx", &xlsx.body).unwrap();
    assert_eq!(sheets[0].name.as_deref(), Some("网格划分方案"));
    assert_eq!(sheets[1].name.as_deref(), Some("现有网格去向"));
    let rows = &sheets[0].rows;
    assert!(rows[0][0].starts_with("故城社区网格划分方案（每格 500–600 户，保持不变：002；"));
    // The plan is now the registry as it is: no form, but the page still shows its
    // fingerprint, the one the workbook's title carries.
    let fp = rows[0][0]
        .rsplit("方案指纹 ")
        .next()
        .unwrap()
        .trim_end_matches('）');
    assert!(
        page.contains(&format!("方案指纹 <code>{fp}</code>")),
        "the fingerprint adopting checks: {fp}"
    );
    assert_eq!(rows[1][2], "网格编码");
    let listed: Vec<&str> = rows[2..].iter().map(|r| r[2].as_str()).collect();
    let shown: Vec<String> = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600&keep=002"
        ))
        .await
        .json()["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, shown, "every grid of the plan, in order");
    let row = rows.iter().find(|r| r[2] == kept).unwrap();
    assert_eq!(row[3], "保持不变（按要求）");
    assert_eq!(row[7], before.len().to_string());
    let households: i64 = rows[2..].iter().map(|r| r[4].parse::<i64>().unwrap()).sum();
    let registered: i64 = after["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["households"].as_i64().unwrap())
        .sum();
    assert_eq!(households, registered);
    assert!(
        sheets[1]
            .rows
            .iter()
            .any(|r| r[1] == kept && r[2] == "保持不变（按要求）")
    );
    let street = app
        .get(&format!(
            "/plan/streets/370725001/export.xlsx?min=500&max=600&keep={kept}"
        ))
        .await;
    assert_eq!(street.status, StatusCode::OK);
    let sheets = wangge_sheets::read("街道.xlsx", &street.body).unwrap();
    assert_eq!(sheets[0].name.as_deref(), Some("社区汇总"));
    let last = sheets[0].rows.last().unwrap();
    assert_eq!(last[0], "合计");
    assert!(sheets[1].rows.iter().any(|r| r[1] == "宝昌社区"));
    assert!(
        sheets[1]
            .rows
            .iter()
            .any(|r| r[2] == kept && r[1] == "故城社区")
    );
    // A live grid without compounds has nothing to keep: no link, and a clear refusal.
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{community}/grids"),
            serde_json::json!({"name": "空网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let empty = r.json()["key"].as_str().unwrap().to_string();
    let free_page = app
        .get(&format!("/plan/communities/{community}?min=500&max=600"))
        .await
        .text();
    let row = free_page
        .split(&format!("<tr><td>{empty}</td>"))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(row.contains("<td>—</td>") && !row.contains("href"), "{row}");
    let r = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600&keep={empty}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("不是有小区的现有网格"), "{}", r.text());
    // The street's plan takes full codes only, and says which were kept.
    let street = app
        .get(&format!(
            "/api/plan/streets/370725001?min=500&max=600&keep={kept}"
        ))
        .await;
    assert_eq!(street.status, StatusCode::OK, "{}", street.text());
    assert_eq!(street.json()["keep"], serde_json::json!([kept]));
    let page = app
        .get(&format!(
            "/plan/streets/370725001?min=500&max=600&keep={kept}"
        ))
        .await
        .text();
    assert!(page.contains(&format!("name=\"keep\" value=\"{kept}\"")));
    assert!(
        page.contains(&format!(
            "/plan/communities/{community}?min=500&amp;max=600&amp;gap=&amp;keep=002\""
        )),
        "the community's own plan keeps it too"
    );
    assert!(
        page.contains("/plan/communities/370725001001?min=500&amp;max=600&amp;gap=&amp;keep=\"")
    );
    // A code in no community of the street (a mistyped community) is refused, not passed
    // over.
    for path in [
        "/api/plan/streets/370725001?min=500&max=600&keep=370725001030002",
        "/api/plan/streets/370725001/compare?bands=500-600&keep=370725001030002",
        "/api/plan/compare?bands=500-600&keep=370725001030002",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            r.text().contains("370725001030002 不在本"),
            "{path}: {}",
            r.text()
        );
    }
    let r = app
        .get("/api/plan/streets/370725001?min=500&max=600&keep=002")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("15 位编码"), "{}", r.text());
}

#[tokio::test]
async fn household_standards_are_compared_over_a_street() {
    let app = TestApp::demo().await;
    // By default, every policy's band, the one in force first: 昌乐 2020's 500–600, its
    // "about 500–1000", 魏都 2013's 300–500 and 2017's 200–300.
    let r = app.get("/api/plan/streets/370725001/compare").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let doc = r.json();
    let bands: Vec<(i64, i64, String)> = doc["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["band"]["min"].as_i64().unwrap(),
                b["band"]["max"].as_i64().unwrap(),
                b["band"]["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let pairs: Vec<(i64, i64)> = bands.iter().map(|b| (b.0, b.1)).collect();
    assert_eq!(pairs, vec![(500, 600), (500, 1000), (300, 500), (200, 300)]);
    assert!(
        bands[0].2.contains("昌乐县") && bands[0].2.contains("现行"),
        "{bands:?}"
    );
    assert!(bands[2].2.contains("魏都区 2013"), "{bands:?}");
    // Each band's sums are the street plan's at that band.
    for b in doc["bands"].as_array().unwrap() {
        let (min, max) = (
            b["band"]["min"].as_i64().unwrap(),
            b["band"]["max"].as_i64().unwrap(),
        );
        let plan = app
            .get(&format!("/api/plan/streets/370725001?min={min}&max={max}"))
            .await
            .json();
        assert_eq!(b["total"], plan["total"], "{min}–{max}");
        let (households, grids) = (
            plan["total"]["planned_households"].as_i64().unwrap(),
            plan["total"]["proposed"].as_i64().unwrap(),
        );
        assert_eq!(
            b["mean_households"].as_i64().unwrap(),
            (households as f64 / grids as f64).round() as i64
        );
    }
    // Smaller grids, more of them.
    let grids = |i: usize| doc["bands"][i]["total"]["proposed"].as_i64().unwrap();
    assert!(grids(3) > grids(2) && grids(2) > grids(0) && grids(0) > grids(1));
    // Asked for (full-width digits and dashes are read); the page links each to its plan.
    let page = app
        .get("/plan/streets/370725001/compare?bands=%EF%BC%94%EF%BC%90%EF%BC%90%E2%80%94600%EF%BC%8C200-300")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let page = page.text();
    assert!(
        page.contains("name=\"bands\" value=\"400-600,200-300\""),
        "{page}"
    );
    assert!(
        page.contains("/plan/streets/370725001?min=400&amp;max=600&amp;gap=&amp;keep=\">查看方案")
    );
    assert!(page.contains("按输入"));
    for (bad, says) in [
        ("500", "下限-上限"),
        ("600-500", "户数标准无效"),
        ("a-b", "「a-b」"),
    ] {
        let r = app
            .get(&format!("/api/plan/streets/370725001/compare?bands={bad}"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().contains(says), "{bad}: {}", r.text());
    }
    let many = (1..=9)
        .map(|k| format!("{}-{}", k * 100, k * 100 + 50))
        .collect::<Vec<_>>()
        .join(",");
    let r = app
        .get(&format!("/api/plan/streets/370725001/compare?bands={many}"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("最多比较 8 个"));
    // The county: the streets' sums add up, street by street, and each links to its plan
    // with only its own kept grids.
    let county = app
        .get("/api/plan/compare?bands=500-600&keep=370725001003002")
        .await;
    assert_eq!(county.status, StatusCode::OK, "{}", county.text());
    let county = county.json();
    let band = &county["bands"][0];
    let streets = band["streets"].as_array().unwrap();
    assert_eq!(streets.len(), 2);
    let sum = |key: &str| -> i64 {
        streets
            .iter()
            .map(|s| s["total"][key].as_i64().unwrap())
            .sum()
    };
    assert_eq!(band["total"]["proposed"].as_i64().unwrap(), sum("proposed"));
    assert_eq!(
        band["total"]["households"].as_i64().unwrap(),
        sum("households")
    );
    let baodu = app
        .get("/api/plan/streets/370725001/compare?bands=500-600&keep=370725001003002")
        .await
        .json();
    assert_eq!(streets[0]["total"], baodu["bands"][0]["total"]);
    let page = app
        .get("/plan/compare?bands=500-600&keep=370725001003002")
        .await
        .text();
    assert!(
        page.contains("其中宝都街道") && page.contains("其中宝城街道"),
        "{page}"
    );
    assert!(page.contains(
        "/plan/streets/370725001?min=500&amp;max=600&amp;gap=&amp;keep=370725001003002\">宝都街道"
    ));
    assert!(
        page.contains("/plan/streets/370725002?min=500&amp;max=600&amp;gap=&amp;keep=\">宝城街道")
    );
    assert!(app.get("/").await.text().contains("href=\"/plan/compare\""));
    // Reached from the street's page and its plan.
    for page in ["/streets/370725001", "/plan/streets/370725001"] {
        let text = app.get(page).await.text();
        assert!(
            text.contains("href=\"/plan/streets/370725001/compare"),
            "{page}"
        );
    }
}

#[tokio::test]
async fn a_standard_s_posts_and_money_are_reckoned_under_the_policy_in_force() {
    let app = TestApp::demo().await;
    let doc = app
        .get("/api/plan/streets/370725001/compare?bands=500-600,200-300")
        .await
        .json();
    assert_eq!(doc["needs_policy"], "昌乐县 2020 年");
    let needs = |i: usize, key: &str| doc["bands"][i]["total"]["needs"][key].as_i64().unwrap();
    for i in 0..2 {
        let grids = doc["bands"][i]["total"]["proposed"].as_i64().unwrap();
        // 昌乐: one instructor a grid, 5,000 元 of equipment a budgeted (urban) grid, a station
        // of 15 m² at least.
        assert_eq!(needs(i, "grids"), grids);
        assert_eq!(needs(i, "instructors"), grids);
        assert_eq!(needs(i, "station_min_m2"), 15);
        assert_eq!(
            needs(i, "equipment_fen"),
            500_000 * needs(i, "budgeted_grids")
        );
        assert!(needs(i, "budgeted_grids") <= grids && needs(i, "leaders_allowed") <= grids);
        assert_eq!(needs(i, "leaders_required"), 0);
    }
    // Smaller grids: more instructors and equipment; the workers follow the compounds, so
    // their number does not change (their subsidies only as far as grids turn urban or
    // rural).
    assert!(needs(1, "instructors") > needs(0, "instructors"));
    assert!(needs(1, "equipment_fen") > needs(0, "equipment_fen"));
    assert_eq!(needs(1, "workers"), needs(0, "workers"));
    assert!(needs(0, "worker_monthly_fen") > 0 && needs(1, "worker_monthly_fen") > 0);

    // A community's plan: the same figures, checked against its grids: every compound has a
    // worker (two where the two-worker rule applies), a grid of two or more compounds may
    // have a leader.
    let street = app
        .get("/api/plan/streets/370725001?min=500&max=600")
        .await
        .json();
    let row = street["communities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "370725001002")
        .unwrap()
        .clone();
    let plan = app
        .get("/api/plan/communities/370725001002?min=500&max=600")
        .await
        .json();
    assert_eq!(plan["summary"]["needs"], row["needs"]);
    assert_eq!(plan["summary"]["needs_policy"], "昌乐县 2020 年");
    let features = plan["features"].as_array().unwrap();
    let compounds: usize = features
        .iter()
        .map(|f| f["properties"]["compounds"].as_array().unwrap().len())
        .sum();
    let multi = features
        .iter()
        .filter(|f| f["properties"]["compounds"].as_array().unwrap().len() >= 2)
        .count() as i64;
    let n = &plan["summary"]["needs"];
    assert!(n["workers"].as_i64().unwrap() >= compounds as i64);
    assert!(n["leaders_allowed"].as_i64().unwrap() >= multi);
    assert_eq!(n["grids"].as_i64().unwrap(), features.len() as i64);

    // The street's workbook carries them community by community.
    let book = app
        .get("/plan/streets/370725001/export.xlsx?min=500&max=600")
        .await;
    let sheets = wangge_sheets::read("街道.xlsx", &book.body).unwrap();
    let head = &sheets[0].rows[1];
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let total = sheets[0].rows.last().unwrap();
    let cell = |name: &str| total[col(name)].parse::<f64>().unwrap();
    assert_eq!(cell("网格指导员岗位") as i64, needs(0, "instructors"));
    assert_eq!(
        cell("网格员（网格长以外的网格工作人员）") as i64,
        needs(0, "workers")
    );
    assert_eq!(cell("计补贴的网格") as i64, needs(0, "budgeted_grids"));
    assert!(sheets[0].rows[0][0].contains("人员和经费按昌乐县 2020 年政策测算"));
    assert_eq!(
        (cell("办公设施设备费用（万元）") * 1_000_000.0).round() as i64,
        needs(0, "equipment_fen")
    );
    // Adopted, the grids are budgeted as reckoned: next year's budget (the old grids
    // retired) has as many subsidised grids, and as much equipment, as the plan said.
    let predicted = &street["total"]["needs"];
    let r = app
        .json(
            "POST",
            "/api/plan/streets/370725001/adopt",
            serde_json::json!({"min": 500, "max": 600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let next_year = wangge_store::today().year() + 1;
    let budget = app
        .get(&format!("/api/budget?year={next_year}"))
        .await
        .json();
    let baodu = budget["streets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "370725001")
        .unwrap();
    assert_eq!(baodu["subsidy"]["grids"], predicted["budgeted_grids"]);
    assert_eq!(
        baodu["subsidy"]["equipment_fen"],
        predicted["equipment_fen"]
    );
    // The pages say it in words, naming the policy.
    let page = app
        .get("/plan/streets/370725001/compare?bands=500-600,200-300")
        .await
        .text();
    assert!(page.contains("按现行政策测算的人员和经费"), "{page}");
    assert!(page.contains("按昌乐县 2020 年政策文件"), "{page}");
    for url in [
        "/plan/streets/370725001?min=500&max=600",
        "/plan/communities/370725001002?min=500&max=600",
    ] {
        let text = app.get(url).await.text();
        assert!(
            text.contains("按昌乐县 2020 年政策测算") && text.contains("网格指导员"),
            "{url}: {text}"
        );
    }
}

#[tokio::test]
async fn a_street_s_plan_downloads_as_one_geojson() {
    let app = TestApp::demo().await;
    let q = "min=500&max=600&keep=370725001003002";
    let doc = app
        .get(&format!("/api/plan/streets/370725001/geojson?{q}"))
        .await;
    assert_eq!(doc.status, StatusCode::OK, "{}", doc.text());
    let doc = doc.json();
    assert_eq!(doc["type"], "FeatureCollection");
    let street = app
        .get(&format!("/api/plan/streets/370725001?{q}"))
        .await
        .json();
    // One feature per proposed grid of the street, the same fingerprint as the street's plan.
    let features = doc["features"].as_array().unwrap();
    assert_eq!(
        features.len() as i64,
        street["total"]["proposed"].as_i64().unwrap()
    );
    assert_eq!(doc["summary"]["plan"], street["plan"]);
    assert_eq!(doc["summary"]["keep"][0], "370725001003002");
    assert!(doc["summary"]["not_planned"].as_array().unwrap().is_empty());
    // Each community's features are its own plan's, named.
    for row in street["communities"].as_array().unwrap() {
        let code = row["code"].as_str().unwrap();
        let keep = if code == "370725001003" { "002" } else { "" };
        let own = app
            .get(&format!(
                "/api/plan/communities/{code}?min=500&max=600&keep={keep}"
            ))
            .await
            .json();
        let mine: Vec<&serde_json::Value> = features
            .iter()
            .filter(|f| f["properties"]["community"] == code)
            .collect();
        let theirs = own["features"].as_array().unwrap();
        assert_eq!(mine.len(), theirs.len(), "{code}");
        for (a, b) in mine.iter().zip(theirs) {
            assert_eq!(a["properties"]["code"], b["properties"]["code"]);
            assert_eq!(a["properties"]["compounds"], b["properties"]["compounds"]);
            assert_eq!(a["geometry"], b["geometry"]);
            assert_eq!(a["properties"]["community_name"], row["name"]);
        }
    }
    // The street's plan page links to it with the same query.
    let page = app
        .get(&format!("/plan/streets/370725001?{q}"))
        .await
        .text();
    assert!(
        page.contains(
            "/api/plan/streets/370725001/geojson?min=500&amp;max=600&amp;gap=&amp;keep=370725001003002"
        ),
        "{page}"
    );
    // Bad input is refused as on the plan page.
    let r = app
        .get("/api/plan/streets/370725001/geojson?min=600&max=500")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wider_bands_and_wider_gaps_never_make_a_plan_worse() {
    let app = TestApp::demo().await;
    let summary = |doc: &serde_json::Value, key: &str| doc["summary"][key].as_i64().unwrap();
    for community in ["370725001001", "370725001002", "370725001003"] {
        // A plan in band at 500–1,000 is a plan at 500–3,000 too: the wider band's plan has
        // at least as many grids in band, and its bound is no lower.
        let narrow = app
            .get(&format!(
                "/api/plan/communities/{community}?min=500&max=1000"
            ))
            .await
            .json();
        let wide = app
            .get(&format!(
                "/api/plan/communities/{community}?min=500&max=3000"
            ))
            .await
            .json();
        assert!(
            summary(&wide, "in_band") >= summary(&narrow, "in_band"),
            "{community}: {} < {}",
            summary(&wide, "in_band"),
            summary(&narrow, "in_band")
        );
        assert!(summary(&wide, "upper_bound") >= summary(&narrow, "in_band"));
        // The demo's compounds are 100 m squares: a neighbour distance of half a side or more
        // joins at least what touching does (it used to part them all, each compound a
        // small group of its own).
        let touching = app
            .get(&format!(
                "/api/plan/communities/{community}?min=500&max=600"
            ))
            .await
            .json();
        for gap in [49, 50, 60, 150] {
            let near = app
                .get(&format!(
                    "/api/plan/communities/{community}?min=500&max=600&gap={gap}"
                ))
                .await
                .json();
            // More neighbours only ever join groups too small for a grid: never more of them.
            let small = |doc: &serde_json::Value| {
                doc["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["properties"]["reason"] == "small_group")
                    .count()
            };
            assert!(
                small(&near) <= small(&touching),
                "{community} at {gap} m: {} small groups, touching {}",
                small(&near),
                small(&touching)
            );
        }
    }
}

#[tokio::test]
async fn what_planners_type_is_read_or_refused_plainly() {
    let app = TestApp::demo().await;
    // A mistyped field in the adopt API is refused, not passed over for the policy's band.
    let r = app
        .json(
            "POST",
            "/api/plan/communities/370725001006/adopt",
            serde_json::json!({"minimum": 200, "maximum": 300}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("不认识的字段「maximum」")
            || r.text().contains("不认识的字段「minimum」")
    );
    let before = app.get("/api/communities/370725001006").await.json();
    assert!(
        before["retired_grids"].as_array().unwrap().is_empty(),
        "nothing adopted"
    );

    // A kept grid that is no live grid with compounds is refused on street and county pages
    // as on the community's (it used to set the community aside and sum the rest).
    for url in [
        "/api/plan/streets/370725001?min=500&max=600&keep=370725001002099",
        "/plan/streets/370725001?min=500&max=600&keep=370725001002099",
        "/api/plan/streets/370725001/compare?bands=500-600&keep=370725001002099",
        "/api/plan/compare?bands=500-600&keep=370725001002099",
        "/api/plan/streets/370725001/geojson?min=500&max=600&keep=370725001002099",
    ] {
        let r = app.get(url).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}");
        assert!(
            r.text().contains("370725001002099 不是有小区的现有网格"),
            "{url}"
        );
    }
    // A grid of the other street is fine on the county's comparison.
    let r = app
        .get("/api/plan/compare?bands=500-600&keep=370725002001001")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Bands with spaces round the dash; a count too large to be one says so; a gap finer
    // than a centimetre is touching.
    let r = app
        .get("/api/plan/streets/370725001/compare?bands=500%20-%20600,%20200%20-300")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let bands: Vec<i64> = r.json()["bands"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| {
            [
                b["band"]["min"].as_i64().unwrap(),
                b["band"]["max"].as_i64().unwrap(),
            ]
        })
        .collect();
    assert_eq!(bands, vec![500, 600, 200, 300]);
    // One band a line, as pasted from a list.
    let r = app
        .get("/api/plan/streets/370725001/compare?bands=500-600%0D%0A200-300")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["bands"].as_array().unwrap().len(), 2);
    let r = app
        .get("/api/plan/communities/370725001002?min=500&max=99999999999999999999")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("户数上限过大"), "{}", r.text());
    let r = app
        .get("/api/plan/communities/370725001002?min=500&max=600&gap=1e-300")
        .await
        .json();
    assert!(r["summary"]["gap"].is_null(), "{}", r["summary"]);

    // A plan page refused for what was typed says why and offers the page afresh.
    for (url, again) in [
        (
            "/plan/communities/370725001002?min=600&max=500",
            "/plan/communities/370725001002",
        ),
        ("/plan/streets/370725001?gap=abc", "/plan/streets/370725001"),
        (
            "/plan/streets/370725001/compare?bands=x",
            "/plan/streets/370725001/compare",
        ),
        ("/plan/compare?keep=1", "/plan/compare"),
    ] {
        let r = app.get(url).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}");
        assert!(
            r.text().contains(&format!(
                "<a href=\"{again}\">重新填写（按现行政策的默认值打开）</a>"
            )),
            "{url}: {}",
            r.text()
        );
    }
    // The community's plan page leads back to the street's plan, and the street's plan to
    // the comparison with its gap and kept grids.
    let page = app
        .get("/plan/communities/370725001002?min=500&max=600")
        .await
        .text();
    assert!(
        page.contains("href=\"/plan/streets/370725001\">宝都街道网格划分方案</a>"),
        "{page}"
    );
    let page = app
        .get("/plan/streets/370725001?min=500&max=600&gap=15&keep=370725001003002")
        .await
        .text();
    assert!(page.contains(
        "/plan/streets/370725001/compare?gap=15&amp;keep=370725001003002\">比较不同户数标准"
    ));

    // Adopted, the same plan is offered no more: the page says it is the registry as it is.
    let r = app
        .json(
            "POST",
            "/api/plan/communities/370725001002/adopt",
            serde_json::json!({"min": 500, "max": 600}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["band"], serde_json::json!([500, 600]));
    let page = app
        .get("/plan/communities/370725001002?min=500&max=600")
        .await
        .text();
    assert!(
        page.contains("方案与现有网格一致，采用不会改变任何登记"),
        "{page}"
    );
    assert!(!page.contains("action=\"/plan/communities/370725001002/adopt\""));
}

/// A year's budget uses the grids and postings in force during that year: redrawing a street
/// leaves past years as they were, and this year pays every month its staff served — at the
/// old grids until the redraw, at the new ones after.
#[tokio::test]
async fn a_redraw_leaves_past_budgets_as_they_were_and_pays_every_month_served() {
    let app = TestApp::demo().await;
    let year = wangge_store::today().year();
    let street = |e: &serde_json::Value| {
        e["streets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == "370725002")
            .unwrap()
            .clone()
    };
    let last_year = format!("/api/budget?year={}", year - 1);
    let this_year = format!("/api/budget?year={year}");
    let before_last = app.get(&last_year).await.json();
    let before = street(&app.get(&this_year).await.json());
    // A grid worker's account on every grid of the street: those on retired grids follow
    // their households to the new grids.
    let mut grids_then = Vec::new();
    for c in before["communities"].as_array().unwrap() {
        for g in c["grids"].as_array().unwrap() {
            grids_then.push(format!("grid_worker@{}", g["code"].as_str().unwrap()));
        }
    }
    let worker = app
        .json(
            "POST",
            "/api/users",
            serde_json::json!({"username": "roamer"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .json(
            "PUT",
            &format!("/api/users/{worker}/roles"),
            serde_json::json!({ "grants": grids_then }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .json(
            "POST",
            "/api/plan/streets/370725002/adopt",
            serde_json::json!({"min": 500, "max": 600, "staff_follow": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["retired"].as_i64().unwrap() > 0, "{}", r.text());
    let moved = r.json()["accounts_moved"].as_array().unwrap().clone();
    assert!(
        !moved.is_empty()
            && moved
                .iter()
                .all(|x| x.as_str().unwrap().starts_with("roamer：")),
        "{}",
        r.text()
    );
    let audited = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            action: Some("roles".into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.object.contains("采用网格划分方案"))
        .count();
    assert_eq!(audited, moved.len(), "each account moved is audited");
    let held = app.get(&format!("/api/users/{worker}")).await.json();
    for g in held["grants"].as_array().unwrap() {
        let code = g["scope"]["key"].as_str().unwrap();
        let grid = app.get(&format!("/api/grids/{code}")).await.json();
        assert!(grid["valid_to"].is_null(), "{code} is retired: {grid}");
    }
    // Last year: the same evaluation, to the fen, grid by grid.
    let after_last = app.get(&last_year).await.json();
    assert_eq!(after_last["streets"], before_last["streets"]);
    assert_eq!(after_last["findings"], before_last["findings"]);
    // This year: a retired grid's staff are paid at it for every month before the redraw,
    // as they were before it.
    let grids = |s: &serde_json::Value| -> Vec<serde_json::Value> {
        s["communities"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["grids"].as_array().unwrap().clone())
            .collect()
    };
    let today = wangge_store::today();
    let after_eval = app.get(&this_year).await.json();
    let after = street(&after_eval);
    let mut compared = 0;
    for g in grids(&after).iter().filter(|g| !g["retired_on"].is_null()) {
        let was = grids(&before)
            .into_iter()
            .find(|b| b["code"] == g["code"])
            .unwrap();
        assert_eq!(g["households"], was["households"], "{}", g["code"]);
        for m in 0..(today.month() as usize - 1) {
            assert_eq!(
                g["subsidy"]["monthly_fen"][m],
                was["subsidy"]["monthly_fen"][m],
                "{} month {}",
                g["code"],
                m + 1
            );
            compared += 1;
        }
    }
    assert!(compared > 0 || today.month() == 1);
    // The retired grids are listed with their day, not counted among the year's grids.
    let retired: Vec<&serde_json::Value> = after["communities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["grids"].as_array().unwrap())
        .filter(|g| !g["retired_on"].is_null())
        .collect();
    assert!(!retired.is_empty());
    // Nobody is given a role on a retired grid: it has nothing left to work on.
    let user = app
        .json(
            "POST",
            "/api/users",
            serde_json::json!({"username": "late"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let old = retired[0]["code"].as_str().unwrap();
    let r = app
        .json(
            "PUT",
            &format!("/api/users/{user}/roles"),
            serde_json::json!({"grants": [format!("grid_worker@{old}")]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("撤销，请改为现行的网格"), "{}", r.text());
    let counted = after["communities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["grids"].as_array().unwrap())
        .filter(|g| g["retired_on"].is_null() && g["budgeted"] == true)
        .count() as i64;
    assert_eq!(after["subsidy"]["grids"], counted);
    // The staff who followed their households are the same people: counted once (附件4's
    // 网格工作人员数量 stays), and paid once this month, at their new grid.
    assert_eq!(after["subsidy"]["staff"], before["subsidy"]["staff"]);
    assert_eq!(
        after["subsidy"]["existing_assistants"],
        before["subsidy"]["existing_assistants"]
    );
    let month = today.month() as usize - 1;
    let mut paid_now = HashSet::new();
    for g in grids(&after) {
        for p in g["persons"].as_array().unwrap() {
            if p["monthly_fen"][month].as_i64().unwrap() > 0 {
                let who = p["person_id"].as_str().unwrap().to_string();
                assert!(paid_now.insert(who.clone()), "{who} paid twice this month");
            }
        }
    }
    assert!(!paid_now.is_empty());
    // No compound is reported split between its old and new grid, and no posting points
    // at a grid the budget does not know.
    for f in after_eval["findings"].as_array().unwrap() {
        let m = f["message"].as_str().unwrap();
        assert!(!m.contains("被拆分到"), "{m}");
        assert!(!m.contains("指向不存在的网格"), "{m}");
    }
}

/// The plan a page showed is the plan adopted: a grid added to the community since (which
/// adopting would retire, with whoever was posted there) makes the page stale.
#[tokio::test]
async fn a_grid_added_after_the_page_was_drawn_makes_its_plan_stale() {
    let app = TestApp::demo().await;
    let community = "370725002001";
    let seen = app
        .get(&format!(
            "/api/plan/communities/{community}?min=500&max=600"
        ))
        .await
        .json()["summary"]["plan"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{community}/grids"),
            serde_json::json!({"name": "新设网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .json(
            "POST",
            &format!("/api/plan/communities/{community}/adopt"),
            serde_json::json!({"min": 500, "max": 600, "plan": seen}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("方案已变化"), "{}", r.text());
    // The page says so and leads back to the plan as asked.
    let r = app
        .form(
            &format!("/plan/communities/{community}/adopt"),
            &[("min", "500"), ("max", "600"), ("plan", &seen)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let page = r.text();
    assert!(page.contains("方案已变化"), "{page}");
    assert!(
        page.contains(&format!(
            r#"href="/plan/communities/{community}?min=500&#38;max=600""#
        )) && page.contains("重新查看方案"),
        "{page}"
    );
}

/// Re-planning an adopted plan gives the same plan and proves the same bound: the bound is
/// the instance's, not the run's (it used to fall back to the weak bound once current grids
/// were kept, 2 proven → 4).
#[tokio::test]
async fn an_adopted_plan_keeps_its_proven_bound() {
    let app = TestApp::demo().await;
    for c in ["370725001001", "370725002001", "370725002004"] {
        let url = format!("/api/plan/communities/{c}?min=500&max=600");
        let before = app.get(&url).await.json()["summary"].clone();
        let r = app
            .json(
                "POST",
                &format!("/api/plan/communities/{c}/adopt"),
                serde_json::json!({"min": 500, "max": 600}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let after = app.get(&url).await.json()["summary"].clone();
        for k in [
            "upper_bound",
            "proven_groups",
            "groups",
            "in_band",
            "eligible",
        ] {
            assert_eq!(after[k], before[k], "{c} {k}");
        }
    }
}

/// A street's maps show its communities large: the demo draws each street's communities in a
/// near-square array (宝城's four, 2 × 2), not one long row with the map mostly empty.
#[tokio::test]
async fn a_street_map_is_not_a_thin_strip() {
    let app = TestApp::demo().await;
    for street in ["370725001", "370725002"] {
        let page = app
            .get(&format!("/plan/streets/{street}?min=500&max=600"))
            .await
            .text();
        let height: f64 = page
            .split(r#"<svg viewBox="0 0 384 "#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|h| h.parse().ok())
            .expect("a map");
        assert!(height > 200.0, "{street}: 384 × {height}");
    }
    // Each community is named on the street's maps (current and proposed).
    let page = app
        .get("/plan/streets/370725002?min=500&max=600")
        .await
        .text();
    for name in ["昌明", "艳阳天", "学府", "宝石城"] {
        let label = format!(r#"class="maplabel">{name}</text>"#);
        assert_eq!(page.matches(&label).count(), 2, "{name}");
    }
}

/// A plan that would change grids without bringing more of them into the band says so.
#[tokio::test]
async fn a_plan_that_brings_no_grid_into_the_band_says_so() {
    let app = TestApp::demo().await;
    let page = app
        .get("/plan/communities/370725001002?min=500&max=600")
        .await
        .text();
    assert!(page.contains("理论上限：这些小区无论怎样划分"), "{page}");
    // Every compound on both maps carries its grid's number.
    let compounds = app.get("/api/communities/370725001002").await.json()["compounds"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        page.matches("class=\"maplabel\"").count(),
        2 * compounds,
        "{page}"
    );
    let plan = app
        .get("/api/plan/communities/370725001002?min=500&max=600")
        .await
        .json();
    let in_band = plan["summary"]["in_band"].as_i64().unwrap();
    let warned = page.contains("采用不会增加符合户数标准的网格");
    // 三和's current grids: none in 500–600 (the demo's figures).
    assert_eq!(warned, in_band == 0, "in band {in_band}: {page}");
    // The street's table says it per community: current and proposed grids in the band.
    let street = app
        .get("/plan/streets/370725001?min=500&max=600")
        .await
        .text();
    let at = street.find("/plan/communities/370725001002?").unwrap();
    let row = &street[at..at + street[at..].find("</tr>").unwrap()];
    assert_eq!(row.contains("不增加"), warned, "{row}");
    assert!(row.contains(&format!("→ {in_band} /")), "{row}");
    // A band its grids already meet, as they are: nothing to adopt, nothing to warn of.
    let page = app
        .get("/plan/communities/370725001002?min=1&max=100000")
        .await
        .text();
    assert!(!page.contains("采用不会增加符合户数标准的网格"), "{page}");
}
