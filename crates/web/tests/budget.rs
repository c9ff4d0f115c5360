//! Budgets and findings from registry + policy, through the pages and the API.

mod common;

use axum::http::StatusCode;
use common::TestApp;

#[tokio::test]
async fn the_streets_recruited_social_workers_are_at_its_communities() {
    let app = TestApp::demo().await;
    // 附件3 宝都 社会招聘人员: 11 in 2020, 64 in 2021, 63 in 2022 — the people the registry
    // holds at its communities, counted against each community's need.
    for (year, recruited) in [(2020, 11), (2021, 64), (2022, 63)] {
        let e = app.get(&format!("/api/budget?year={year}")).await.json();
        let baodu = &e["streets"][0];
        assert_eq!(
            baodu["money"]["social_workers_present"], recruited,
            "{year}"
        );
        let communities = baodu["communities"].as_array().unwrap();
        let present: i64 = communities
            .iter()
            .map(|c| c["money"]["social_workers_present"].as_i64().unwrap())
            .sum();
        assert_eq!(present, recruited, "{year}");
        if year == 2021 {
            // Shared out by need: no community with none while another has more than it needs.
            assert!(
                communities
                    .iter()
                    .all(|c| c["money"]["social_workers_present"].as_i64().unwrap() > 0),
                "every community has its social workers"
            );
        }
    }
}

#[tokio::test]
async fn the_demo_budget_shows_annex4s_figures() {
    let app = TestApp::demo().await;
    let e = app.get("/api/budget?year=2021").await.json();
    assert_eq!(e["policy_file"], "370725-changle-2020.toml");
    let baodu = &e["streets"][0];
    assert_eq!(baodu["name"], "宝都街道");
    let s = &baodu["subsidy"];
    assert_eq!(s["grids"], 101);
    assert_eq!(s["staff"], 268);
    // Fen: 196.2万, 50.4万, 145.8万, 50.5万.
    assert_eq!(s["year_fen"], 196_200_000i64);
    assert_eq!(s["existing_assistants_fen"], 50_400_000i64);
    assert_eq!(s["increase_fen"], 145_800_000i64);
    assert_eq!(s["equipment_fen"], 50_500_000i64);
    assert_eq!(e["streets"][1]["subsidy"]["equipment_fen"], 10_000_000i64);
    // The equipment is bought once: in 2020, when the policy took effect, not again in 2021.
    assert_eq!(s["equipment_due_fen"], 0);
    let e2020 = app.get("/api/budget?year=2020").await.json();
    assert_eq!(e2020["subsidy"]["equipment_due_fen"], 60_500_000i64);
    // The sum over streets is the county, to the fen.
    let sum: i64 = e["streets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subsidy"]["year_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(e["subsidy"]["year_fen"].as_i64().unwrap(), sum);

    let page = app.get("/budget?year=2021").await.text();
    assert!(page.contains("一次性配备，2021 年应付 0 万元"), "{page}");
    for x in [
        "196.2",
        "50.4",
        "145.8",
        "50.5",
        "宝都街道",
        "下载附件3、附件4",
    ] {
        assert!(page.contains(x), "budget page lacks {x}");
    }
    let c = app.get("/budget/communities/370725001009?year=2021").await;
    assert_eq!(c.status, StatusCode::OK);
    assert!(c.text().contains("南苑社区"));
    // Each fund says how its amount is reached, in words, not as a path into the policy file.
    assert!(
        c.text().contains("每户 ") && c.text().contains(" 户</span>"),
        "{}",
        c.text()
    );
    assert!(!c.text().contains("<code>community_money.funds"));

    // Findings, filtered.
    let all = app.get("/api/budget/findings?year=2021").await.json();
    assert!(!all.as_array().unwrap().is_empty());
    let over = app
        .get("/api/budget/findings?year=2021&kind=GridOverCeiling")
        .await
        .json();
    assert!(
        over.as_array()
            .unwrap()
            .iter()
            .all(|f| f["kind"] == "grid_over_ceiling" || f["kind"] == "GridOverCeiling")
    );
    let page = app
        .get("/budget/findings?year=2021&severity=violation")
        .await
        .text();
    assert!(page.contains("合规检查"));
    // Staff of a rural grid are listed with why nothing is paid.
    let grids = app.get("/api/communities/370725001001").await.json()["grids"].clone();
    let rural = grids
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "rural")
        .expect("宝昌 has rural grids")["code"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .form(
            "/communities/370725001001/staff",
            &[
                ("person_name", "乡网格"),
                ("role", "grid_worker"),
                ("grid", &rural),
                ("from", "2021-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let listed = app
        .get("/budget/communities/370725001001?year=2021")
        .await
        .text();
    assert!(listed.contains("农村网格不在政策的补贴范围"), "{listed}");
    // Each finding leads to its place; each category says how many it has.
    assert!(page.contains("<td><a href=\"/grids/370725"), "{page}");
    assert!(page.contains("网格户数超过上限（"), "{page}");
    // The demo's 70 existing police assistants were in post from the start: none is pointed
    // out as a late hire.
    let all = app.get("/api/budget/findings?year=2021").await.text();
    assert!(!all.contains("比政策施行"), "{all}");
    // The county's own 社区工作经费 (500万 a year, 2020–2022) is on the page, not only in
    // the API; 2023 has none.
    let page = app.get("/budget?year=2021").await.text();
    assert!(
        page.contains("<dt>社区工作经费（县级统筹）</dt><dd title=") && page.contains(">500<"),
        "{page}"
    );
    assert!(
        !app.get("/budget?year=2023")
            .await
            .text()
            .contains("社区工作经费（县级统筹）")
    );

    // The workbook: 附件3 and 附件4 sheets whose 合计 rows add up.
    let r = app.get("/export/budget.xlsx?year=2021").await;
    assert_eq!(r.status, StatusCode::OK);
    let sheets = wangge_sheets::read("b.xlsx", &r.body).unwrap();
    let names: Vec<String> = sheets.iter().filter_map(|s| s.name.clone()).collect();
    assert!(
        names.iter().any(|n| n.starts_with("附件3"))
            && names.iter().any(|n| n.starts_with("附件4")),
        "{names:?}"
    );
    let remarks = |sheets: &[wangge_domain::annex2::Sheet]| -> String {
        sheets
            .iter()
            .filter(|s| s.name.as_deref().is_some_and(|n| n.starts_with("附件4")))
            .flat_map(|s| s.rows.iter().flatten().cloned())
            .collect()
    };
    assert!(remarks(&sheets).contains("实际每年增加财政支出"));
    // 2020, the year the policy began: its months are said, not called a year's.
    let r = app.get("/export/budget.xlsx?year=2020").await;
    let text = remarks(&wangge_sheets::read("b.xlsx", &r.body).unwrap());
    assert!(
        text.contains("本年按") && text.contains("个月计") && !text.contains("实际每年"),
        "{text}"
    );
}

#[tokio::test]
async fn a_year_before_the_policy_has_no_budget() {
    let app = TestApp::demo().await;
    let r = app.get("/api/budget?year=2019").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("没有适用于本县")
    );
}

#[tokio::test]
async fn staff_appointed_in_the_ui_change_the_budget() {
    let app = TestApp::demo().await;
    let before = app.get("/api/budget?year=2021").await.json();
    let grid = "370725001009001"; // 南苑社区's first grid
    let grid_year = |e: &serde_json::Value| -> i64 {
        e["streets"][0]["communities"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["grids"].as_array().unwrap().iter())
            .find(|g| g["code"] == grid)
            .map(|g| g["subsidy"]["year_fen"].as_i64().unwrap())
            .unwrap()
    };
    // A grid leader who is also police assistant: 1000 a month under 昌乐 2020.
    let r = app
        .form(
            "/communities/370725001009/staff",
            &[
                ("person_name", "赵网格"),
                ("role", "grid_leader"),
                ("grid", grid),
                ("also_police_assistant", "on"),
                ("from", "2021-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let after = app.get("/api/budget?year=2021").await.json();
    assert_eq!(
        grid_year(&after) - grid_year(&before),
        12 * 1000 * 100,
        "12 months × 1000 yuan, in fen"
    );
    let page = app.get("/communities/370725001009").await.text();
    assert!(page.contains("赵网格") && page.contains("网格警务助理"));
    // The same person in the same post again is refused, next to the name; the budget is
    // unchanged.
    let r = app
        .form(
            "/communities/370725001009/staff",
            &[
                ("person_name", "赵网格"),
                ("role", "grid_leader"),
                ("grid", grid),
                ("from", "2021-03-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("不能重复配备"), "{}", r.text());
    let again = app.get("/api/budget?year=2021").await.json();
    assert_eq!(grid_year(&again), grid_year(&after));
    // A grid role without a grid is refused next to the form.
    let r = app
        .form(
            "/communities/370725001009/staff",
            &[("person_name", "钱"), ("role", "grid_worker")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("须指定所在网格"));
    // A start in 2099 is a typing error; the form says so and keeps what was typed.
    let r = app
        .form(
            "/communities/370725001009/staff",
            &[
                ("person_name", "孙未来"),
                ("role", "grid_worker"),
                ("grid", grid),
                ("from", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("不能晚于一年以后"), "{}", r.text());
    assert!(r.text().contains("孙未来"), "the form keeps the name");
    // Ending the assignment keeps it as history.
    let staff = app.get("/api/communities/370725001009/staff").await.json();
    let id = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["person_name"] == "赵网格")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The page's form takes the day too (empty is today).
    let page = app.get("/communities/370725001009").await.text();
    assert!(
        page.contains(&format!("action=\"/staff/{id}/end\""))
            && page.contains("name=\"valid_to\" aria-label=\"赵网格的结束日期（不填为今天）\""),
        "{page}"
    );
    let r = app
        .form(&format!("/staff/{id}/end"), &[("valid_to", "2021-06-30")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app.get("/api/communities/370725001009/staff").await;
    assert!(
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id.as_str() && x["valid_to"] == "2021-06-30")
    );
}

#[tokio::test]
async fn investment_and_recruitment_are_entered_and_counted() {
    let app = TestApp::demo().await;
    let r = app
        .json(
            "PUT",
            "/api/communities/370725001009/investment",
            serde_json::json!({"year": 2022, "amount_wan": "12.34"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .json(
            "PUT",
            "/api/communities/370725001009/investment",
            serde_json::json!({"year": 2022, "amount_wan": "约12"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json()["fields"]["amount_wan"]
            .as_str()
            .unwrap()
            .contains("万元")
    );
    // 元 typed into the 万元 field: refused, saying so.
    let r = app
        .json(
            "PUT",
            "/api/communities/370725001009/investment",
            serde_json::json!({"year": 2022, "amount_wan": "123400"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.json()["fields"]["amount_wan"]
            .as_str()
            .unwrap()
            .contains("单位是万元，不是元"),
        "{}",
        r.text()
    );
    let r = app
        .form(
            "/budget/streets/370725002/recruitment",
            &[("year", "2021"), ("social_workers", "12")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let sheets = wangge_sheets::read(
        "b.xlsx",
        &app.get("/export/budget.xlsx?year=2021").await.body,
    )
    .unwrap();
    let baocheng = sheets
        .iter()
        .find(|s| s.name.as_deref() == Some("附件3（宝城）"))
        .unwrap();
    let total = baocheng
        .rows
        .iter()
        .find(|r| r.first().is_some_and(|c| c == "合计"))
        .unwrap();
    assert!(
        total.iter().any(|c| c == "12"),
        "the recruits appear in 附件3: {total:?}"
    );
    let baodu = sheets
        .iter()
        .find(|s| s.name.as_deref() == Some("附件3（宝都）"))
        .unwrap();
    let nanyuan = baodu
        .rows
        .iter()
        .find(|r| r.iter().any(|c| c == "南苑社区"))
        .unwrap();
    assert!(nanyuan.iter().any(|c| c == "12.34"), "{nanyuan:?}");
}

#[tokio::test]
async fn staff_start_no_earlier_than_their_grid_and_its_start_can_be_corrected() {
    let app = TestApp::demo().await;
    let community = "370725001009";
    // A grid registered today, standing for one in use since 2019.
    let r = app
        .json(
            "POST",
            &format!("/api/communities/{community}/grids"),
            serde_json::json!({"name": "老城网格"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let grid = r.json()["key"].as_str().unwrap().to_string();
    let appoint = |from: &'static str| {
        let grid = grid.clone();
        let app = &app;
        async move {
            app.form(
                &format!("/communities/{community}/staff"),
                &[
                    ("person_name", "孙网格"),
                    ("role", "grid_worker"),
                    ("grid", &grid),
                    ("from", from),
                ],
            )
            .await
        }
    };
    let r = appoint("2019-05-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains("任职不能早于启用日期"),
        "refused next to the date: {}",
        r.text()
    );
    // The grid's start corrected on its edit form (which shows it), then the posting is taken.
    let form = app.get(&format!("/edit/grids/{grid}")).await.text();
    assert!(form.contains("name=\"valid_from\""), "{form}");
    assert!(
        form.contains(&wangge_store::today().to_string()),
        "prefilled"
    );
    let edit = |valid_from: &'static str| {
        let grid = grid.clone();
        let app = &app;
        async move {
            app.form(
                &format!("/edit/grids/{grid}"),
                &[
                    ("name", "老城网格"),
                    ("kind", "urban"),
                    ("valid_from", valid_from),
                ],
            )
            .await
        }
    };
    // Not before its community, which the demo starts on 2020-01-01: that is corrected first,
    // on the community's edit form, where community postings are held to it too.
    let r = edit("2019-01-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("2020-01-01"), "{}", r.text());
    let form = app
        .get(&format!("/edit/communities/{community}"))
        .await
        .text();
    assert!(
        form.contains("name=\"valid_from\"") && form.contains("2020-01-01"),
        "{form}"
    );
    let page = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json();
    let c = &page["community"];
    let edit_community = |valid_from: &str| {
        let fields: Vec<(String, String)> = [
            ("name", c["name"].as_str().unwrap()),
            ("kind", c["kind"].as_str().unwrap()),
            ("valid_from", valid_from),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let app = &app;
        async move {
            let f: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.form(&format!("/edit/communities/{community}"), &f)
                .await
        }
    };
    let staff_path = format!("/communities/{community}/staff");
    let social_worker = || {
        app.form(
            &staff_path,
            &[
                ("person_name", "钱社工"),
                ("role", "general_social_worker"),
                ("from", "2019-03-01"),
            ],
        )
    };
    let r = social_worker().await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("社区“"), "{}", r.text());
    let r = edit_community("2999-01-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // Later than its grids' start is refused; earlier is taken.
    let r = edit_community("2021-01-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("已有网格启用"), "{}", r.text());
    // Earlier than its street is refused too, until the street's start is corrected, which
    // in turn cannot pass its communities'.
    let r = edit_community("2018-01-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text()
            .contains("自 2020-01-01 启用，社区启用日期不能早于它"),
        "{}",
        r.text()
    );
    let street = &community[..9];
    let street_name = app.get(&format!("/api/streets/{street}")).await.json()["street"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let edit_street = |valid_from: &'static str| {
        let app = &app;
        let name = street_name.clone();
        async move {
            app.form(
                &format!("/edit/streets/{street}"),
                &[("name", name.as_str()), ("valid_from", valid_from)],
            )
            .await
        }
    };
    let r = edit_street("2020-06-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("已有社区启用"), "{}", r.text());
    let r = edit_street("2017-01-01").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = edit_community("2018-01-01").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json();
    assert_eq!(page["community"]["valid_from"], "2018-01-01");
    assert_eq!(page["community"]["name"], c["name"], "the rest unchanged");
    let r = social_worker().await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Now the community's start cannot pass that posting either.
    let r = edit_community("2019-06-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("2019-03-01"), "{}", r.text());

    let r = edit("2019-01-01").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let g = app.get(&format!("/api/grids/{grid}")).await.json();
    assert_eq!(g["grid"]["valid_from"], "2019-01-01");
    let r = appoint("2019-05-01").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Now the start cannot move past the posting, nor into the future.
    let r = edit("2020-01-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("2019-05-01"), "{}", r.text());
    let r = edit("2999-01-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("不能晚于今天"), "{}", r.text());
    // Renaming leaves the start as it is.
    let r = app
        .form(
            &format!("/edit/grids/{grid}"),
            &[
                ("name", "老城一网格"),
                ("kind", "urban"),
                ("valid_from", "2019-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}

#[tokio::test]
async fn a_county_wide_rule_is_not_checked_on_one_streets_part() {
    let mut app = TestApp::demo().await;
    let county = |e: &serde_json::Value| {
        e.as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "demonstration_grids_out_of_range")
            .count()
    };
    // The county's 29 示范 grids against "10—20": one notice, for the county.
    let all = app.get("/api/budget/findings?year=2021").await.json();
    assert_eq!(county(&all), 1, "{all}");
    // 宝城's administrator sees his 5 only: no false "全县示范网格 5 个" about the county.
    app.login_new("jd2", "Budget-Pass-42", "street_admin@370725002")
        .await;
    let mine = app.get("/api/budget/findings?year=2021").await.json();
    assert!(
        !mine.as_array().unwrap().is_empty(),
        "his own findings are there"
    );
    assert_eq!(county(&mine), 0, "{mine}");
    // His budget page is headed with his street, not the county.
    let page = app.get("/budget?year=2021").await.text();
    assert!(
        page.contains("<h1>宝城街道 2021 年预算与合规</h1>"),
        "{page}"
    );
}

#[tokio::test]
async fn entry_errors_name_the_field_in_chinese() {
    let app = TestApp::demo().await;
    let r = app
        .form(
            "/budget/streets/370725002/recruitment",
            &[("year", "2022"), ("social_workers", "abc")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = r.text();
    assert!(text.contains("招聘人数"), "{text}");
    assert!(!text.contains("social_workers："), "{text}");
    let r = app
        .form(
            "/budget/streets/370725002/recruitment",
            &[("year", "2022"), ("social_workers", "99999999999")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("不合常理"), "{}", r.text());
    // The staff form on a community page names each field it refuses.
    let r = app
        .form(
            "/communities/370725001001/staff",
            &[
                ("person_name", ""),
                ("role", "grid_worker"),
                ("grid", ""),
                ("from", "2026-13-01"),
            ],
        )
        .await;
    let text = r.text();
    assert!(text.contains("起始日期：应为日期"), "{text}");
    assert!(text.contains("姓名："), "{text}");
}

#[tokio::test]
async fn a_saved_entry_says_so_and_is_shown_on_its_page() {
    let mut app = TestApp::demo().await;
    let r = app
        .form(
            "/budget/communities/370725001002/investment",
            &[("year", "2021"), ("amount_wan", "33.3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = app.get(&r.location()).await.text();
    assert!(page.contains("已保存"), "{page}");
    assert!(page.contains("2021 年 33.3 万元"), "{page}");
    // 宝都's recruitment as recorded from 附件3, then a change to 2022's.
    let page = app.get("/budget?year=2022").await.text();
    assert!(
        page.contains("2020 年 11 人，2021 年 64 人，2022 年 63 人"),
        "{page}"
    );
    let r = app
        .form(
            "/budget/streets/370725001/recruitment",
            &[("year", "2022"), ("social_workers", "60")],
        )
        .await;
    let page = app.get(&r.location()).await.text();
    assert!(
        page.contains("已保存") && page.contains("2022 年 60 人"),
        "{page}"
    );
    assert!(
        page.contains("name=\"social_workers\" value=\"60\""),
        "{page}"
    );
    // An observer reads the figures and is offered no form to change them.
    app.login_new("ob1", "Budget-Pass-42", "observer@370725")
        .await;
    let page = app.get("/budget?year=2022").await.text();
    assert!(page.contains("2022 年 60 人") && !page.contains("name=\"social_workers\""));
    let page = app
        .get("/budget/communities/370725001002?year=2021")
        .await
        .text();
    assert!(page.contains("2021 年 33.3 万元") && !page.contains("name=\"amount_wan\""));
}

/// A refused staff form comes back as typed, its error beside it.
#[tokio::test]
async fn a_refused_staff_form_keeps_what_was_typed() {
    let app = TestApp::demo().await;
    let r = app
        .form(
            "/communities/370725001001/staff",
            &[
                ("person_name", "王小明"),
                ("role", "grid_worker"),
                ("grid", ""),
                ("also_police_assistant", "on"),
                ("from", "2026-11-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text();
    let form = &page[page.find(r#"id="staff-form""#).expect("the form")..];
    assert!(form.contains(r#"class="error" role="alert""#), "{form}");
    assert!(form.contains(r#"value="王小明""#), "{form}");
    assert!(
        form.contains(r#"<option value="grid_worker" selected>"#),
        "{form}"
    );
    assert!(form.contains(r#"value="on" checked"#), "{form}");
    assert!(form.contains(r#"value="2026-11-01""#), "{form}");
}

/// A finance officer's closed years stay closed: a compound's households or property
/// management changed today changes this year's budget, not 2021's — grid by grid, community
/// money included.
#[tokio::test]
async fn a_compound_edited_today_leaves_past_budgets_alone() {
    let app = TestApp::demo().await;
    let past = app.get("/api/budget?year=2021").await.json();
    let year = wangge_store::today().year();
    let now_before = app.get(&format!("/api/budget?year={year}")).await.json();
    let community = app.get("/api/communities/370725001002").await.json();
    let m = community["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["has_property_management"] == false && !m["grid_code"].is_null())
        .unwrap()
        .clone();
    let id = m["id"].as_str().unwrap();
    let r = app
        .json(
            "PUT",
            &format!("/api/compounds/{id}"),
            serde_json::json!({
                "has_property_management": true,
                "households": m["households"].as_i64().unwrap() + 700,
                "population": m["population"].as_i64().unwrap() + 2000,
            }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let past_after = app.get("/api/budget?year=2021").await.json();
    assert_eq!(past_after["streets"], past["streets"], "2021 is as it was");
    assert_eq!(past_after["money"], past["money"]);
    let now_after = app.get(&format!("/api/budget?year={year}")).await.json();
    assert_ne!(
        now_after["streets"], now_before["streets"],
        "this year reads the registry as it is"
    );
}

/// A county wangge ships no policy for: the budget says how to load one, plan pages ask for
/// the band; with its own policy file loaded, both work.
#[tokio::test]
async fn a_county_without_a_shipped_policy_loads_its_own() {
    let mut app = TestApp::empty().await;
    app.login().await;
    let put = |path: &'static str, body: serde_json::Value| {
        let app = &app;
        async move {
            app.json(
                if path == "/api/county" { "PUT" } else { "POST" },
                path,
                body,
            )
            .await
        }
    };
    let r = put(
        "/api/county",
        serde_json::json!({"code": "370781", "name": "青州市"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = put(
        "/api/streets",
        serde_json::json!({"code": "370781001", "name": "王府街道"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = put(
        "/api/streets/370781001/communities",
        serde_json::json!({"code": "370781001001", "name": "三和社区"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let year = wangge_store::today().year();
    let r = app.get(&format!("/budget?year={year}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("wangge serve --policies"), "{}", r.text());
    // The plan page asks for the band, and opens with it.
    let r = app.get("/plan/communities/370781001001").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("请填写网格户数区间"), "{}", r.text());
    assert!(
        r.text()
            .contains("<form method=\"get\" action=\"/plan/communities/370781001001\""),
        "{}",
        r.text()
    );
    let r = app
        .get("/plan/communities/370781001001?min=500&max=600")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Its own policy (昌乐's numbers under its own name) loaded: the budget is there.
    let text = include_str!("../../../policies/370725-changle-2020.toml")
        .replace(
            "jurisdiction_code = \"370725\"",
            "jurisdiction_code = \"370781\"",
        )
        .replace(
            "jurisdiction_name = \"昌乐县\"",
            "jurisdiction_name = \"青州市\"",
        );
    let own = wangge_domain::policy::Policy::parse("370781-qingzhou-2020.toml", &text).unwrap();
    app.router = wangge_web::router(
        wangge_web::AppState::new(app.store.clone(), false).with_policies(vec![own]),
    );
    let r = app.get(&format!("/api/budget?year={year}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.get("/plan/communities/370781001001").await;
    assert!(!r.text().contains("请填写网格户数区间"), "{}", r.text());
}
