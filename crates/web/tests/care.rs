//! What grid workers do with people, end to end: special-group records visible per class as
//! the permission table says, follow-ups, visits from the phone page, moves with history,
//! new members, statistics on the place pages, and imports placed by compound and building —
//! on SQLite, or on PostgreSQL with WANGGE_TEST_DATABASE_URL.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::{Value, json};
use wangge_domain::people::{IdNumber, SpecialGroupKind};

const PW: &str = "Care-Pass-42";
/// The demo's first grid: a care record, and (every fifth grid) a key person.
const GRID: &str = "370725001001001";

async fn demo() -> TestApp {
    let app = TestApp::demo().await;
    wangge_web::people::load_demo_residents(&app.store, 10)
        .await
        .unwrap();
    app
}

/// Creates a user with these grants ("role@scope, …") and logs in as him.
/// The first page of the demo grid's residents, as the API lists them.
async fn grid_residents(app: &TestApp) -> Vec<Value> {
    app.get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json()["residents"]
        .as_array()
        .unwrap()
        .clone()
}

async fn login_as(app: &mut TestApp, name: &str, grants: &str) {
    app.login_new(name, PW, grants).await;
}

/// The first special-group record of the demo's first grid that `pick` takes, and the id of
/// its person's household.
async fn record_and_household(app: &TestApp, pick: impl Fn(&Value) -> bool) -> (Value, String) {
    let records = app
        .get(&format!("/api/grids/{GRID}/special-records"))
        .await
        .json();
    let record = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| pick(r))
        .expect("the demo's first grid has such a record")
        .clone();
    let person = app
        .get(&format!(
            "/api/residents/{}",
            record["resident_id"].as_str().unwrap()
        ))
        .await
        .json();
    let household = person["household_id"].as_str().unwrap().to_string();
    (record, household)
}

fn kinds(records: &Value) -> Vec<String> {
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_string())
        .collect()
}

fn special_count(stats: &Value, kind: SpecialGroupKind) -> i64 {
    stats["total"]["special_groups"][kind.index()]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn special_groups_are_visible_only_to_the_roles_the_table_names() {
    let mut app = demo().await;
    // The grid worker keeps both classes on his grid.
    login_as(&mut app, "grid_wang", &format!("grid_worker@{GRID}")).await;
    let mine = app
        .get(&format!("/api/grids/{GRID}/special-records"))
        .await
        .json();
    let k = kinds(&mine);
    assert!(k.contains(&"released".to_string()), "{k:?}");
    assert!(
        k.iter().any(|k| k == "elderly_alone" || k == "low_income"),
        "{k:?}"
    );
    let key_person = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "released")
        .unwrap()["resident_id"]
        .as_str()
        .unwrap()
        .to_string();
    let page = app.get(&format!("/grids/{GRID}")).await.text();
    assert!(page.contains("刑满释放人员"));
    let stats = app.get(&format!("/api/people/stats/{GRID}")).await.json();
    assert_eq!(special_count(&stats, SpecialGroupKind::Released), 1);

    // The street administrator: care groups only, by the shipped table.
    login_as(&mut app, "street_li", "street_admin@370725001").await;
    let theirs = app
        .get(&format!("/api/grids/{GRID}/special-records"))
        .await
        .json();
    let k = kinds(&theirs);
    assert!(!k.contains(&"released".to_string()), "{k:?}");
    assert!(!k.is_empty(), "care groups are his to see");
    for path in [
        format!("/grids/{GRID}"),
        format!("/residents/{key_person}"),
        "/streets/370725001".to_string(),
    ] {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.text().contains("刑满释放人员"),
            "{path} shows a key person"
        );
    }
    assert!(
        kinds(
            &app.get(&format!("/api/residents/{key_person}/special-records"))
                .await
                .json()
        )
        .is_empty()
    );
    let stats = app.get(&format!("/api/people/stats/{GRID}")).await.json();
    assert_eq!(special_count(&stats, SpecialGroupKind::Released), 0);
    assert!(
        !stats["visible_kinds"]
            .as_array()
            .unwrap()
            .contains(&json!("released"))
    );
    // He may not record a key person, but may record a care group.
    let refused = app
        .json(
            "POST",
            &format!("/api/residents/{key_person}/special-records"),
            json!({"kind": "吸毒人员", "risk": "high", "helper": "李"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let ok = app
        .json(
            "POST",
            &format!("/api/residents/{key_person}/special-records"),
            json!({"kind": "残疾人", "helper": "李"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text());

    // The county administrator sees neither class.
    app.login().await;
    assert!(
        kinds(
            &app.get(&format!("/api/grids/{GRID}/special-records"))
                .await
                .json()
        )
        .is_empty()
    );
    assert!(
        !app.get(&format!("/grids/{GRID}"))
            .await
            .text()
            .contains("特殊人群与重点人员（在管）")
    );

    // The security administrator grants key persons to street administrators: now he sees.
    let mut table: Vec<Value> = app
        .get("/api/permissions")
        .await
        .json()
        .as_array()
        .unwrap()
        .clone();
    assert!(!table.contains(&json!({"role": "street_admin", "permission": "special.security"})));
    table.push(json!({"role": "street_admin", "permission": "special.security"}));
    let put = app
        .json("PUT", "/api/permissions", Value::Array(table))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    app.login_as("street_li", PW, "").await;
    let k = kinds(
        &app.get(&format!("/api/grids/{GRID}/special-records"))
            .await
            .json(),
    );
    assert!(k.contains(&"released".to_string()), "{k:?}");
}

#[tokio::test]
async fn a_visit_from_the_phone_page_is_counted_and_follows_a_record_up() {
    let mut app = demo().await;
    login_as(&mut app, "grid_zhao", &format!("grid_worker@{GRID}")).await;
    let (care, household) = record_and_household(&app, |r| r["kind"] != "released").await;
    let rid = care["id"].as_str().unwrap();
    let before =
        app.get(&format!("/api/people/stats/{GRID}")).await.json()["total"]["visits_this_month"]
            .as_i64()
            .unwrap();
    // The community's figure as its staff (who see care records) and as the county
    // administrator (who does not) read it.
    let community = |a| {
        let store = app.store.clone();
        async move {
            store
                .people_stats(&a, "370725001001")
                .await
                .unwrap()
                .total
                .visits_this_month
        }
    };
    let community_before = community(staff_access("community_staff", "370725001001")).await;
    let county_before = community(operator(&app).await).await;

    // The phone page: one column, the household's open records to follow up.
    let page = app.get(&format!("/households/{household}/visit")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("name=\"viewport\""));
    assert!(html.contains("class=\"phone\""));
    assert!(html.contains(&format!("action=\"/households/{household}/visits\"")));
    assert!(html.contains(&format!("value=\"{rid}\"")));

    // Missing findings: the form comes back with the message, nothing is written.
    let bad = app
        .form(
            &format!("/households/{household}/visits"),
            &[("met", "户主本人"), ("findings", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("走访情况"));

    let saved = app
        .form(
            &format!("/households/{household}/visits"),
            &[
                ("met", "老人本人"),
                ("findings", "屋内取暖炉烟道松动，已提醒更换"),
                ("follow_up", "三日内复查"),
                ("special_record", rid),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(
        saved.location(),
        format!("/households/{household}/visit?saved=1"),
        "no personal data in the address"
    );
    assert!(app.get(&saved.location()).await.text().contains("已保存"));
    let after =
        app.get(&format!("/api/people/stats/{GRID}")).await.json()["total"]["visits_this_month"]
            .as_i64()
            .unwrap();
    assert_eq!(after, before + 1);
    let community_after = community(staff_access("community_staff", "370725001001")).await;
    assert_eq!(community_after, community_before + 1);
    // A follow-up of a care record is not counted for whom care records are closed, as it
    // is not listed for him.
    assert_eq!(community(operator(&app).await).await, county_before);
    // On the household, the grid page, and as the record's latest follow-up.
    assert!(
        app.get(&format!("/households/{household}"))
            .await
            .text()
            .contains("烟道松动")
    );
    assert!(
        app.get(&format!("/grids/{GRID}"))
            .await
            .text()
            .contains("烟道松动")
    );
    let mine = app
        .get(&format!(
            "/api/residents/{}/special-records",
            care["resident_id"].as_str().unwrap()
        ))
        .await
        .json();
    let rec = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rid)
        .unwrap();
    let last = rec["follow_ups"].as_array().unwrap().last().unwrap();
    assert!(last["content"].as_str().unwrap().contains("烟道松动"));

    // Another grid's household is not his to visit.
    let other = app.store_household_elsewhere(GRID).await;
    let refused = app
        .form(
            &format!("/households/{other}/visits"),
            &[("met", "户主"), ("findings", "越权")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// A household outside `grid`, found with the store directly.
trait Elsewhere {
    async fn store_household_elsewhere(&self, grid: &str) -> String;
}

impl Elsewhere for TestApp {
    async fn store_household_elsewhere(&self, grid: &str) -> String {
        use wangge_domain::access::{Access, Grant, Permission, Role, Scope, ScopeKind};
        let table: Vec<(Role, Permission)> = Permission::ALL
            .iter()
            .map(|p| (Role::CountyAdmin, *p))
            .collect();
        let a = Access::new(
            vec![
                Grant::new(
                    Role::CountyAdmin,
                    Scope::parse(ScopeKind::County, "370725").unwrap(),
                )
                .unwrap(),
            ],
            &table,
        );
        let other = if grid == "370725002001001" {
            "370725001001001"
        } else {
            "370725002001001"
        };
        self.store.grid_residents(&a, other, 0).await.unwrap()[0]
            .household_id
            .clone()
    }
}

#[tokio::test]
async fn a_key_persons_follow_up_visit_is_not_shown_to_whom_the_class_is_closed() {
    let mut app = demo().await;
    login_as(&mut app, "grid_wu", &format!("grid_worker@{GRID}")).await;
    let (key, household) = record_and_household(&app, |r| {
        SpecialGroupKind::parse(r["kind"].as_str().unwrap()).is_ok_and(|k| k.is_key_person())
    })
    .await;
    let saved = app
        .form(
            &format!("/households/{household}/visits"),
            &[
                ("met", "本人"),
                ("findings", "情绪稳定，按时报到"),
                ("follow_up", "下周再访"),
                ("special_record", key["id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let seen = |v: &Value| v.to_string().contains("情绪稳定，按时报到");
    assert!(seen(
        &app.get(&format!("/api/grids/{GRID}/visits")).await.json()
    ));
    // The street's administrator reads people but not key persons (special.security).
    login_as(&mut app, "street_feng", "street_admin@370725001").await;
    assert!(!seen(
        &app.get(&format!("/api/grids/{GRID}/visits")).await.json()
    ));
    for path in [format!("/grids/{GRID}"), format!("/households/{household}")] {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.text().contains("情绪稳定，按时报到"), "{path}");
    }
}

#[tokio::test]
async fn a_visit_names_who_made_it() {
    let mut app = demo().await;
    let hash = wangge_web::hash_password(PW).unwrap();
    let id = app
        .store
        .create_user("wg_li", Some("李网格"), &hash, false)
        .await
        .unwrap();
    app.store
        .set_grants(
            &id,
            &wangge_web::admin::parse_grants(&format!("grid_worker@{GRID}")).unwrap(),
        )
        .await
        .unwrap();
    app.login_as("wg_li", PW, "").await;
    let list = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    let household = list["residents"][0]["household_id"].as_str().unwrap();
    let r = app
        .form(
            &format!("/households/{household}/visits"),
            &[("met", "户主"), ("findings", "宣传防汛知识")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let visits = app.get(&format!("/api/grids/{GRID}/visits")).await.json();
    let mine = visits
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["findings"] == "宣传防汛知识")
        .unwrap();
    assert_eq!(mine["recorded_by"], "李网格（wg_li）");
}

#[tokio::test]
async fn follow_ups_reassess_risk_and_set_the_next_due_date() {
    let mut app = demo().await;
    login_as(&mut app, "grid_sun", &format!("grid_worker@{GRID}")).await;
    let records = app
        .get(&format!("/api/grids/{GRID}/special-records"))
        .await
        .json();
    let key = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "released")
        .unwrap()
        .clone();
    // The demo's key person was last followed up 90 days ago at medium risk: overdue.
    assert_eq!(key["overdue"], true);
    let id = key["id"].as_str().unwrap();
    let today = wangge_store::today();
    let r = app
        .form(
            &format!("/special-records/{id}/follow-ups"),
            &[
                ("date", &today.to_string()),
                ("content", "酒后与邻居争执，已调解"),
                ("risk", "high"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        r.location().ends_with("?saved=follow#records"),
        "{}",
        r.location()
    );
    let page = app.get(&r.location()).await.text();
    assert!(
        page.contains("<p class=\"ok\" role=\"status\">跟进已记录。</p>"),
        "{page}"
    );
    // A form refused keeps what was typed, in its own form only, and the page opens at it.
    let r = app
        .form(
            &format!("/special-records/{id}/follow-ups"),
            &[
                ("date", "2001-02-03"),
                ("content", "电话回访，情绪稳定"),
                ("risk", "low"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let page = r.text();
    assert!(page.contains("电话回访，情绪稳定</textarea>"), "{page}");
    assert!(page.contains("value=\"2001-02-03\""), "{page}");
    assert!(page.contains(&format!(
        "action=\"/special-records/{id}/follow-ups#f-follow-{id}\" id=\"f-follow-{id}\""
    )));
    assert!(page.contains("<option value=\"low\" selected>"), "{page}");
    // The move form below keeps its own defaults: today, nothing typed.
    let move_form = &page[page.find("id=\"f-move\"").unwrap()..];
    assert!(
        move_form.contains(&format!("value=\"{today}\"")),
        "{move_form}"
    );
    let list = app
        .get(&format!(
            "/api/residents/{}/special-records",
            key["resident_id"].as_str().unwrap()
        ))
        .await
        .json();
    let rec = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert_eq!(rec["risk"], "high");
    assert_eq!(rec["overdue"], false);
    let due = wangge_domain::people::calendar::add_days(today, 7).unwrap();
    assert_eq!(rec["next_due"], due.to_string(), "high risk: weekly");
    assert_eq!(
        rec["follow_ups"].as_array().unwrap().last().unwrap()["risk"],
        "高风险"
    );
    // A follow-up dated before the record began is refused, with the field named.
    let early = app
        .json(
            "POST",
            &format!("/api/special-records/{id}/follow-ups"),
            json!({"date": "2000-01-01", "content": "补记"}),
        )
        .await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.text().contains("列管日期"), "{}", early.text());
}

#[tokio::test]
async fn moves_keep_history_and_nothing_is_deleted() {
    let mut app = demo().await;
    let theirs = app
        .store
        .grid_residents(&operator_access(), "370725001001002", 0)
        .await
        .unwrap()[0]
        .household
        .clone();
    login_as(&mut app, "grid_qian", &format!("grid_worker@{GRID}")).await;
    let list = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    let residents = list["residents"].as_array().unwrap().clone();
    let records = app
        .get(&format!("/api/grids/{GRID}/special-records"))
        .await
        .json();
    // The person of a care record: his record closes when he moves out.
    let care = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] != "released")
        .unwrap()
        .clone();
    let who = care["resident_id"].as_str().unwrap().to_string();
    let me = residents.iter().find(|r| r["id"] == who.as_str()).unwrap();
    let target = residents
        .iter()
        .find(|r| r["household_id"] != me["household_id"])
        .unwrap();
    let target_number = target["household"].as_str().unwrap();
    let count = |v: &Value| v["total"]["residents"].as_i64().unwrap();
    let before = count(&app.get(&format!("/api/people/stats/{GRID}")).await.json());
    let today = wangge_store::today().to_string();
    // The street's figures are cached per people version: a move must show there too.
    let street = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            let a = operator_access();
            store
                .people_stats(&a, "370725001")
                .await
                .unwrap()
                .total
                .residents
        }
    };
    let street_before = street(&app).await;
    assert_eq!(street(&app).await, street_before, "read twice, the same");

    // To another household of the grid.
    let r = app
        .form(
            &format!("/residents/{who}/moves"),
            &[
                ("kind", "transfer"),
                ("date", &today),
                ("household", target_number),
                ("reason", "投靠子女"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        app.get(&format!("/api/residents/{who}")).await.json()["household"],
        target_number
    );
    // A transfer to a household that does not exist names the field.
    let bad = app
        .form(
            &format!("/residents/{who}/moves"),
            &[
                ("kind", "transfer"),
                ("date", &today),
                ("household", "没有这户"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("迁入户户号"));
    // A household of another grid is answered the same as one that does not exist: the
    // answers do not list the county's household numbers.
    let mut answers = Vec::new();
    for n in [theirs.as_str(), "SH99999999"] {
        let body = json!({"kind": "transfer", "date": today, "household": n});
        let r = app
            .json("POST", &format!("/api/residents/{who}/moves"), body)
            .await;
        let says = r.json()["fields"]["household"]
            .as_str()
            .unwrap_or("")
            .replace(n, "…");
        answers.push((r.status, says));
    }
    assert_eq!(answers[0].0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answers[0], answers[1]);

    // Out of the county: no longer listed or counted, still on record with the date.
    let r = app
        .json(
            "POST",
            &format!("/api/residents/{who}/moves"),
            json!({"kind": "move_out", "date": today, "place": "外省", "reason": "随子女迁居"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let moves = r.json();
    assert_eq!(
        moves
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["kind"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["户间迁移", "迁出"]
    );
    let listed = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    assert!(
        !listed["residents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == who.as_str())
    );
    assert_eq!(
        count(&app.get(&format!("/api/people/stats/{GRID}")).await.json()),
        before - 1
    );
    assert_eq!(street(&app).await, street_before - 1);
    let person = app.get(&format!("/api/residents/{who}")).await.json();
    assert_eq!(person["left"], today);
    let records = app
        .get(&format!("/api/residents/{who}/special-records"))
        .await
        .json();
    assert_eq!(
        records[0]["until"], today,
        "open records close on moving out"
    );
    let household = app
        .get(&format!(
            "/api/households/{}",
            target["household_id"].as_str().unwrap()
        ))
        .await
        .json();
    assert!(
        household["former"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == who.as_str())
    );
    let page = app.get(&format!("/residents/{who}")).await.text();
    assert!(page.contains("迁出或死亡"));
    assert!(page.contains("投靠子女"));
    // Moving out twice is refused; moving back in restores him.
    let again = app
        .json(
            "POST",
            &format!("/api/residents/{who}/moves"),
            json!({"kind": "move_out", "date": today}),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A return names no other household: that would be a transfer, made after it.
    let r = app
        .json(
            "POST",
            &format!("/api/residents/{who}/moves"),
            json!({"kind": "move_in", "date": today, "household": "SH99999999"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("迁回只能回到原户"), "{}", r.text());
    let back = app
        .json(
            "POST",
            &format!("/api/residents/{who}/moves"),
            json!({"kind": "move_in", "date": today, "place": "外省"}),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text());
    assert_eq!(back.json().as_array().unwrap().len(), 3);
    assert_eq!(
        count(&app.get(&format!("/api/people/stats/{GRID}")).await.json()),
        before
    );
}

#[tokio::test]
async fn new_members_are_registered_with_their_move() {
    let mut app = demo().await;
    login_as(&mut app, "grid_zhou", &format!("grid_worker@{GRID}")).await;
    let list = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    let household = list["residents"][0]["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    let today = wangge_store::today();
    let born = wangge_domain::people::calendar::add_days(today, -40).unwrap();
    let baby = IdNumber::from_parts("370725", born, 901).unwrap();
    let r = app
        .form(
            &format!("/households/{household}/residents"),
            &[
                ("kind", "birth"),
                ("name", "小满"),
                ("id_number", baby.as_str()),
                ("relation", "孙子"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let id = r.location().trim_start_matches("/residents/").to_string();
    let person = app.get(&format!("/api/residents/{id}")).await.json();
    assert_eq!(person["id_number_masked"], baby.mask());
    assert_eq!(person["sex"], "男");
    let moves = app.get(&format!("/api/residents/{id}/moves")).await.json();
    assert_eq!(moves[0]["kind"], "出生");
    assert_eq!(moves[0]["date"], born.to_string());
    // The same person again, a wrong check digit, an adult "born": refused, named.
    let again = app
        .form(
            &format!("/households/{household}/residents"),
            &[
                ("kind", "birth"),
                ("name", "小满"),
                ("id_number", baby.as_str()),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.text().contains("已登记"));
    // What was typed stays, the number too: one wrong digit is corrected, not all 18 retyped.
    assert!(
        again
            .text()
            .contains(&format!("value=\"{}\"", baby.as_str())),
        "{}",
        again.text()
    );
    assert!(again.text().contains("#f-member\" id=\"f-member\""));
    let mut wrong = baby.as_str()[..17].to_string();
    wrong.push(if baby.as_str().ends_with('0') {
        '1'
    } else {
        '0'
    });
    let bad = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"name": "某", "id_number": wrong}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.json()["fields"]["id_number"].is_string());
    let adult =
        IdNumber::from_parts("370725", wangge_domain::Date::new(1980, 5, 5).unwrap(), 903).unwrap();
    let bad = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"kind": "birth", "name": "某", "id_number": adult.as_str()}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A key the registration does not take (`date` for `moved_in`) is refused, not dropped.
    let bad = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"name": "某", "id_number": adult.as_str(), "date": "2020-01-01"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    assert!(bad.text().contains("没有字段“date”"), "{}", bad.text());
    // A second head of the household: refused, naming the one it has, by form and by edit.
    let head = list["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["household_id"] == household.as_str() && r["relation"] == "户主")
        .expect("the demo household has a head");
    let newcomer =
        IdNumber::from_parts("370725", wangge_domain::Date::new(1985, 6, 6).unwrap(), 907).unwrap();
    let bad = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"name": "某乙", "id_number": newcomer.as_str(), "relation": "户主"}),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    let says = bad.json()["fields"]["relation"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        says.contains(&format!(
            "该户已有户主（{}）",
            head["name"].as_str().unwrap()
        )),
        "{says}"
    );
    let bad = app
        .json(
            "PUT",
            &format!("/api/residents/{id}/basic"),
            json!({"name": "小满", "relation": "户主"}),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    // The household page lists the baby.
    assert!(
        app.get(&format!("/households/{household}"))
            .await
            .text()
            .contains("小满")
    );
}

#[tokio::test]
async fn a_person_cannot_be_put_to_live_in_a_household_of_another_grid() {
    let mut app = demo().await;
    // A household of the next grid, which this grid's worker may not register people in.
    let other = "370725001001002";
    let theirs = app
        .store
        .grid_residents(&operator_access(), other, 0)
        .await
        .unwrap()[0]
        .household
        .clone();
    login_as(&mut app, "grid_qian", &format!("grid_worker@{GRID}")).await;
    let list = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    let registered = wangge_domain::people::HouseholdKind::Registered.label();
    let mine = list["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["household_kind"] == registered)
        .unwrap();
    let household = mine["household_id"].as_str().unwrap();
    let who =
        IdNumber::from_parts("370725", wangge_domain::Date::new(1990, 3, 3).unwrap(), 905).unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"name": "某甲", "id_number": who.as_str(), "residing_household": theirs}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        r.json()["fields"]["residing_household"],
        format!("在您可登记的网格中没有户号为“{theirs}”的在册户")
    );
    // Nobody was written: the other grid shows no such person.
    let there = app
        .store
        .grid_residents(&operator_access(), other, 0)
        .await
        .unwrap();
    assert!(there.iter().all(|p| p.name != "某甲"));
}

#[tokio::test]
async fn a_compound_or_building_with_households_is_not_retired() {
    let app = demo().await;
    let list = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    let household = list["residents"][0]["household_id"].as_str().unwrap();
    // Put the household in one of its grid's compounds.
    let community = app.get("/api/communities/370725001001").await.json();
    let compound = community["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["grid_code"] == GRID)
        .unwrap_or_else(|| panic!("a compound of {GRID} in {community}"));
    let (id, name) = (
        compound["id"].as_str().unwrap(),
        compound["name"].as_str().unwrap(),
    );
    let r = app
        .form(
            &format!("/households/{household}/place"),
            &[("compound", id)],
        )
        .await;
    assert!(r.status.is_redirection(), "{}", r.text());
    let r = app.form(&format!("/retire/compounds/{id}"), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(
        r.text().contains(&format!("小区“{name}”还有")),
        "{}",
        r.text()
    );
    assert!(r.text().contains("户在册"), "{}", r.text());
    // Still there, with its buildings.
    let after = app.get("/api/communities/370725001001").await.json();
    assert!(
        after["compounds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id)
    );
}

#[tokio::test]
async fn a_person_living_in_another_grid_of_the_community_counts_once_there() {
    let app = demo().await;
    let community = "370725001001";
    let figures = |v: &Value| {
        let t = &v["total"];
        (
            t["residents"].as_i64().unwrap(),
            t["separated"].as_i64().unwrap(),
        )
    };
    let street_row = |v: &Value| {
        v["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p[0] == community)
            .map(|p| p[1]["residents"].as_i64().unwrap())
            .unwrap()
    };
    let before = figures(
        &app.get(&format!("/api/people/stats/{community}"))
            .await
            .json(),
    );
    // Registered in a household of the first grid, living in one of the second.
    let registered = wangge_domain::people::HouseholdKind::Registered.label();
    let first = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    let household = first["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["household_kind"] == registered)
        .unwrap()["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    let there = app.get("/api/grids/370725001001002/residents").await.json();
    let living = there["residents"][0]["household"]
        .as_str()
        .unwrap()
        .to_string();
    let who =
        IdNumber::from_parts("370725", wangge_domain::Date::new(1985, 6, 6).unwrap(), 907).unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"kind": "move_in", "name": "某乙", "id_number": who.as_str(), "residing_household": living}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    // One more resident of the community, not 人户分离 there (both households are in it); the
    // street's row for the community says the same.
    let after = figures(
        &app.get(&format!("/api/people/stats/{community}"))
            .await
            .json(),
    );
    assert_eq!(
        after,
        (before.0 + 1, before.1),
        "counted once in the community"
    );
    let street = app.get("/api/people/stats/370725001").await.json();
    assert_eq!(street_row(&street), after.0);
    // The grids each count him, as registered there or living there.
    let grid_separated = |code: &str| {
        let app = &app;
        let code = code.to_string();
        async move {
            app.get(&format!("/api/people/stats/{code}")).await.json()["total"]["separated"]
                .as_i64()
                .unwrap()
        }
    };
    assert!(grid_separated(GRID).await > 0);
    assert!(grid_separated("370725001001002").await > 0);
    // And the county counts everyone once: its total is its streets' sum.
    let county = app.get("/api/people/stats/370725").await.json();
    let streets: i64 = county["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1]["residents"].as_i64().unwrap())
        .sum();
    assert_eq!(county["total"]["residents"].as_i64().unwrap(), streets);
}

#[tokio::test]
async fn statistics_add_up_from_grids_to_the_county() {
    let app = demo().await;
    // The county administrator reads people in the whole county (masked), not special groups.
    let county = app.get("/api/people/stats/370725").await;
    assert_eq!(county.status, StatusCode::OK, "{}", county.text());
    let county = county.json();
    let total = &county["total"];
    let residents = total["residents"].as_i64().unwrap();
    assert!(residents >= 1500);
    let bands: i64 = total["age_bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(bands, residents, "every person is in one age band");
    assert_eq!(
        total["male"].as_i64().unwrap() + total["female"].as_i64().unwrap(),
        residents
    );
    assert!(total["visits_this_month"].as_i64().unwrap() > 0);
    let parts: i64 = county["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1]["residents"].as_i64().unwrap())
        .sum();
    assert_eq!(parts, residents, "the streets add up to the county");
    let street = app.get("/api/people/stats/370725001").await.json();
    let street_row = county["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "370725001")
        .unwrap();
    assert_eq!(street["total"], street_row[1]);
    // The pages show it.
    for path in [
        "/",
        "/streets/370725001",
        "/communities/370725001001",
        &format!("/grids/{GRID}"),
    ] {
        let page = app.get(path).await.text();
        assert!(page.contains("人口与走访"), "{path}");
        assert!(page.contains("80岁及以上"), "{path}");
        assert!(page.contains("本月走访"), "{path}");
    }
}

#[tokio::test]
async fn the_home_page_leads_a_grid_worker_to_his_grid_and_offers_nothing_he_may_not_do() {
    let mut app = demo().await;
    login_as(&mut app, "grid_zheng", &format!("grid_worker@{GRID}")).await;
    let home = app.get("/").await.text();
    assert!(home.contains("我的工作范围"), "{home}");
    assert!(home.contains(&format!("href=\"/grids/{GRID}\"")), "{home}");
    assert!(home.contains(&format!("：宝昌第1网格（{GRID}）")), "{home}");
    assert!(
        !home.contains("<dt>街道</dt><dd>0</dd>"),
        "no county of zeros: {home}"
    );
    for refused in [
        "/new/streets",
        "/export/communities.xlsx",
        "/export/communities.csv",
    ] {
        assert!(!home.contains(refused), "{refused} is offered");
        assert!(app.get(refused).await.status.is_client_error(), "{refused}");
    }
    // His grid's page names its community and street without linking to pages that would
    // refuse him, and offers no edit he may not make.
    let page = app.get(&format!("/grids/{GRID}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.text();
    assert!(page.contains("宝昌社区"), "the trail names the community");
    for refused in [
        "href=\"/communities/370725001001\"",
        "href=\"/streets/370725001\"",
        "/edit/grids/",
    ] {
        assert!(!page.contains(refused), "{refused} on the grid page");
    }
    // A community's staff: the street's name, not a link to its page that would refuse them;
    // buildings and departments without edit links.
    login_as(&mut app, "sq_wu", "community_staff@370725001001").await;
    let home = app.get("/").await.text();
    assert!(home.contains("宝都街道") && !home.contains("href=\"/streets/370725001\""));
    let departments = app.get("/departments").await.text();
    assert!(
        !departments.contains("/edit/departments/") && !departments.contains("/new/departments")
    );
    // A street's administrator: his street, and the export he may make.
    login_as(&mut app, "street_wu", "street_admin@370725001").await;
    let home = app.get("/").await.text();
    assert!(home.contains("href=\"/streets/370725001\""), "{home}");
    assert!(home.contains("/export/communities.xlsx") && !home.contains("/new/streets"));
}

#[tokio::test]
async fn odd_codes_and_pages_read_nothing_outside_the_scope() {
    let mut app = demo().await;
    // Community staff of 宝都's first community. Their code with a letter after it passes
    // the prefix check; it used to count every later community and street in the county.
    login_as(&mut app, "c_li", "community_staff@370725001001").await;
    let own = app.get("/api/people/stats/370725001001").await.json();
    assert!(own["total"]["residents"].as_i64().unwrap() > 0);
    for path in [
        "/api/people/stats/370725001001a".to_string(),
        "/api/people/stats/370725001001001x".to_string(),
        "/api/grids/370725001001001x/residents".to_string(),
    ] {
        let r = app.get(&path).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
        assert!(!r.text().contains("370725001002"), "{path}");
        assert!(!r.text().contains("370725002"), "{path}");
    }
    // A page number too large to multiply is an empty page, not a crash.
    let far = u64::MAX;
    let r = app
        .get(&format!("/api/grids/{GRID}/residents?page={far}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["residents"], json!([]));
    let r = app.get(&format!("/grids/{GRID}?page={far}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text().contains("下一页"));
}

#[tokio::test]
async fn an_import_is_placed_by_compound_and_building_and_counts_separation() {
    let app = demo().await;
    // A compound of the grid and one of its buildings, by name.
    let community = app.get("/api/communities/370725001001").await.json();
    let compound = community["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["grid_code"] == GRID)
        .unwrap()
        .clone();
    let page = app
        .get(&format!(
            "/api/compounds/{}",
            compound["id"].as_str().unwrap()
        ))
        .await
        .json();
    let building = page["buildings"][0]["name"].as_str().unwrap().to_string();
    let compound_name = compound["name"].as_str().unwrap().to_string();
    let other_grid = "370725001001002";
    let id = |k: u16, y: i32| {
        IdNumber::from_parts(
            "370725",
            wangge_domain::Date::new(y, 3, 3).unwrap(),
            500 + k,
        )
        .unwrap()
        .as_str()
        .to_string()
    };
    let header = "户号,户类型,与户主关系,姓名,公民身份号码,网格编码,小区,楼栋,门牌号,现居住户号";
    let good = format!(
        "{header}\nI-1,户籍户,户主,甲,{},,{compound_name},{building},1单元101,\n\
         I-1,户籍户,配偶,乙,{},,{compound_name},{building},1单元101,I-2\n\
         I-2,居住户,户主,丙,{},{other_grid},,,,\n",
        id(1, 1950),
        id(2, 1952),
        id(3, 1990)
    );
    let unknown = good.replace(&format!(",{building},1单元101,"), ",没有这栋楼,1单元101,");
    let a = operator(&app).await;
    // An unknown building: named by row and column; nothing written.
    let sheets = wangge_sheets::read("r.csv", unknown.as_bytes()).unwrap();
    let rows = wangge_domain::people::import::read(&sheets, wangge_store::today()).unwrap();
    let before = app.get(&format!("/api/people/stats/{GRID}")).await.json();
    let errors = app
        .store
        .import_residents(&a, "test", &rows, &|_, _| {})
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0].0, errors[0].1), (0, "楼栋"));
    assert!(errors[0].2.contains("没有这栋楼"));
    let cell = wangge_domain::people::import::cell_error(
        &sheets,
        &rows[errors[0].0],
        Some(wangge_domain::people::import::Column::Building),
        errors[0].2.clone(),
    )
    .to_string();
    assert!(cell.contains("第 2 行") && cell.contains("楼栋"), "{cell}");
    assert_eq!(
        app.get(&format!("/api/people/stats/{GRID}")).await.json(),
        before
    );

    // The good file: the grid comes from the compound; 乙 lives in I-2 in another grid.
    let sheets = wangge_sheets::read("r.csv", good.as_bytes()).unwrap();
    let rows = wangge_domain::people::import::read(&sheets, wangge_store::today()).unwrap();
    let n = app
        .store
        .import_residents(&a, "test", &rows, &|_, _| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 3);
    let after = app.get(&format!("/api/people/stats/{GRID}")).await.json();
    let d = |k: &str| after["total"][k].as_i64().unwrap() - before["total"][k].as_i64().unwrap();
    assert_eq!(d("residents"), 2);
    assert_eq!(d("registered_residents"), 2);
    assert_eq!(d("living_residents"), 1, "乙 lives elsewhere");
    assert_eq!(d("separated"), 1);
    let there = app
        .get(&format!("/api/grids/{other_grid}/residents"))
        .await
        .json();
    let names: Vec<&str> = there["residents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"乙") && names.contains(&"丙"), "{names:?}");
    let household = there["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "甲");
    assert!(household.is_none());
    let first = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    let jia = first["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "甲")
        .unwrap();
    let h = app
        .get(&format!(
            "/api/households/{}",
            jia["household_id"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(h["compound"], compound_name.as_str());
    assert_eq!(h["building"], building.as_str());
}

/// The county administrator's access, as the CLI acts.
async fn operator(app: &TestApp) -> wangge_domain::access::Access {
    let _ = app;
    operator_access()
}

/// The access of a role (its key) on a place, with the default permissions.
fn staff_access(role: &str, code: &str) -> wangge_domain::access::Access {
    let grants = wangge_web::admin::parse_grants(&format!("{role}@{code}")).unwrap();
    wangge_domain::access::Access::new(grants, &wangge_domain::access::default_permissions())
}

fn operator_access() -> wangge_domain::access::Access {
    wangge_domain::access::Access::new(
        vec![
            wangge_domain::access::Grant::new(
                wangge_domain::access::Role::CountyAdmin,
                wangge_domain::access::Scope::parse(
                    wangge_domain::access::ScopeKind::County,
                    "370725",
                )
                .unwrap(),
            )
            .unwrap(),
        ],
        &wangge_domain::access::default_permissions(),
    )
}

#[tokio::test]
async fn community_staff_upload_residents_for_their_own_grids_only() {
    let mut app = demo().await;
    login_as(&mut app, "staff_he", "community_staff@370725001001").await;
    let page = app.get("/import/residents").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("现居住户号"));
    let id = |k: u16| {
        IdNumber::from_parts(
            "370725",
            wangge_domain::Date::new(1975, 6, 1).unwrap(),
            600 + k,
        )
        .unwrap()
        .as_str()
        .to_string()
    };
    let upload = |csv: String| {
        let boundary = "UPLOAD";
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"居民.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n",
            app.csrf.clone().unwrap_or_default()
        )
    };
    // One row in another community's grid: refused, named, nothing written.
    let csv = format!(
        "户号,户类型,与户主关系,姓名,公民身份号码,网格编码\nU-1,户籍户,户主,甲,{},{GRID}\nU-2,户籍户,户主,乙,{},370725002001001\n",
        id(1),
        id(2)
    );
    let r = app
        .send_bytes(
            "POST",
            "/import/residents",
            Some(upload(csv).into_bytes()),
            "multipart/form-data; boundary=UPLOAD",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("未导入任何数据"), "{html}");
    assert!(
        html.contains("无权向网格“370725002001001”登记人员"),
        "{html}"
    );
    let found = app
        .json("POST", "/api/people/search", json!({"id_number": id(1)}))
        .await
        .json();
    assert!(found.as_array().unwrap().is_empty(), "nothing was written");
    // His own grid only: imported.
    let csv = format!(
        "户号,户类型,与户主关系,姓名,公民身份号码,网格编码\nU-1,户籍户,户主,甲,{},{GRID}\n",
        id(1)
    );
    let r = app
        .send_bytes(
            "POST",
            "/import/residents",
            Some(upload(csv).into_bytes()),
            "multipart/form-data; boundary=UPLOAD",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("1 名居民"));
    let found = app
        .json("POST", "/api/people/search", json!({"id_number": id(1)}))
        .await
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_import_template_is_filled_in_and_read_back() {
    let mut app = demo().await;
    login_as(&mut app, "staff_he", "community_staff@370725001001").await;
    let page = app.get("/import/residents").await;
    assert!(page.text().contains("/import/residents/template.xlsx"));
    let r = app.get("/import/residents/template.xlsx").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("residents-template.xlsx")
    );
    let sheets = wangge_sheets::read("模板.xlsx", &r.body).unwrap();
    assert_eq!(sheets.len(), 2);
    assert_eq!(sheets[0].name.as_deref(), Some("居民信息"));
    assert_eq!(sheets[1].name.as_deref(), Some("填写说明"));
    let header = &sheets[0].rows[0];
    assert_eq!(header.len(), 17);
    assert!(header.contains(&"*公民身份号码".to_string()));
    assert!(
        sheets[1]
            .rows
            .iter()
            .any(|r| r[0] == "与户主关系" && r[2].contains("户主"))
    );
    // The template's header, filled in with one household: imported.
    let id = IdNumber::from_parts("370725", wangge_domain::Date::new(1990, 2, 3).unwrap(), 811)
        .unwrap()
        .as_str()
        .to_string();
    let mut row = vec![String::new(); header.len()];
    let mut put = |h: &str, v: &str| {
        let i = header
            .iter()
            .position(|x| x.trim_start_matches('*') == h)
            .unwrap();
        row[i] = v.to_string();
    };
    put("户号", "T-1");
    put("与户主关系", "户主");
    put("姓名", "模板");
    put("公民身份号码", &id);
    put("网格编码", GRID);
    let csv = String::from_utf8(wangge_sheets::write_csv(&[header.clone(), row], false).unwrap())
        .unwrap();
    let body = format!(
        "--UPLOAD\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--UPLOAD\r\nContent-Disposition: form-data; name=\"file\"; filename=\"居民.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--UPLOAD--\r\n",
        app.csrf.clone().unwrap_or_default()
    );
    let r = app
        .send_bytes(
            "POST",
            "/import/residents",
            Some(body.into_bytes()),
            "multipart/form-data; boundary=UPLOAD",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("1 名居民"), "{}", r.text());
    // Nobody without the right to register residents gets it.
    login_as(&mut app, "observer_x", "observer@370725").await;
    let r = app.get("/import/residents/template.xlsx").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn basic_facts_are_corrected_and_the_new_phone_is_stored_encrypted() {
    let mut app = demo().await;
    login_as(&mut app, "grid_wu", &format!("grid_worker@{GRID}")).await;
    let list = app
        .get(&format!("/api/grids/{GRID}/residents"))
        .await
        .json();
    let woman = list["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sex"] == "女")
        .unwrap()
        .clone();
    let id = woman["id"].as_str().unwrap();
    // 子 is a man's relation: refused, named, nothing changed.
    let bad = app
        .form(
            &format!("/residents/{id}/edit"),
            &[("name", "改名甲"), ("relation", "子")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("与户主关系"));
    assert_eq!(
        app.get(&format!("/api/residents/{id}")).await.json()["name"],
        woman["name"]
    );
    let ok = app
        .form(
            &format!("/residents/{id}/edit"),
            &[
                ("name", "改名甲"),
                ("phone", "13912345678"),
                ("employment", "离退休"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let now = app.get(&format!("/api/residents/{id}")).await.json();
    assert_eq!(now["name"], "改名甲");
    assert_eq!(now["phone_masked"], "139****5678");
    // The API's PUT of one field keeps the others; an unknown field is refused.
    let put = app
        .json(
            "PUT",
            &format!("/api/residents/{id}/basic"),
            json!({"name": "改名乙"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    let after = put.json();
    assert_eq!(after["name"], "改名乙");
    for k in ["employment", "ethnicity", "relation", "political_status"] {
        assert_eq!(after[k], now[k], "{k} kept");
    }
    assert_eq!(after["employment"], "离退休");
    let put = app
        .json(
            "PUT",
            &format!("/api/residents/{id}/basic"),
            json!({"nmae": "错字"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::BAD_REQUEST, "{}", put.text());
    assert!(put.text().contains("没有字段“nmae”"), "{}", put.text());
    // The reveal shows the new number; the database holds it only encrypted.
    let shown = app
        .json(
            "POST",
            &format!("/api/residents/{id}/reveal"),
            json!({"reason": "核对新号码"}),
        )
        .await
        .json();
    assert_eq!(shown["phone"], "13912345678");
    if app.store.backend() == wangge_store::Backend::Postgres {
        let text = app.store.table_as_text("resident").await.unwrap();
        assert!(!text.contains("13912345678"));
    }
    // Outside his grid: refused.
    let other = app.store_household_elsewhere(GRID).await;
    let someone = app
        .store
        .household(&operator_access(), &other)
        .await
        .unwrap()
        .members[0]
        .id
        .clone();
    let refused = app
        .json(
            "PUT",
            &format!("/api/residents/{someone}/basic"),
            json!({"name": "越权"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_new_household_is_registered_in_its_compound_and_filled() {
    let mut app = demo().await;
    let community = app.get("/api/communities/370725001001").await.json();
    let compound = community["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["grid_code"] == GRID)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let page = app.get(&format!("/api/compounds/{compound}")).await.json();
    let building = page["buildings"][0]["id"].as_str().unwrap().to_string();
    // A building of another compound is refused, named.
    let elsewhere = app.get("/api/communities/370725001001").await.json()["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] != compound.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_building = app.get(&format!("/api/compounds/{elsewhere}")).await.json()["buildings"]
        [0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    login_as(&mut app, "grid_xu", &format!("grid_worker@{GRID}")).await;
    let html = app.get(&format!("/compounds/{compound}")).await.text();
    assert!(html.contains("登记新户"));
    let bad = app
        .form(
            &format!("/compounds/{compound}/households"),
            &[("kind", "registered"), ("building", &other_building)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("该楼栋不在本小区"));
    let r = app
        .form(
            &format!("/compounds/{compound}/households"),
            &[
                ("kind", "registered"),
                ("building", &building),
                ("address", "3单元402室"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let household = r.location().trim_start_matches("/households/").to_string();
    let h = app
        .get(&format!("/api/households/{household}"))
        .await
        .json();
    assert!(
        h["number"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{GRID}-"))
    );
    assert_eq!(h["address"], "3单元402室");
    assert_eq!(h["grid_code"], GRID);
    // The same number twice is refused.
    let dup = app
        .json(
            "POST",
            &format!("/api/compounds/{compound}/households"),
            json!({"kind": "registered", "number": h["number"]}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The message names the field in Chinese, as the form does.
    let said = dup.json()["error"].as_str().unwrap().to_string();
    assert!(
        said.contains("户号：") && !said.contains("number"),
        "{said}"
    );
    // A head moves in; the compound lists the household with one member.
    let head =
        IdNumber::from_parts("370725", wangge_domain::Date::new(1988, 8, 8).unwrap(), 771).unwrap();
    let m = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"kind": "move_in", "name": "新住户", "id_number": head.as_str(), "relation": "户主"}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.text());
    let list = app
        .get(&format!("/api/compounds/{compound}/households"))
        .await
        .json();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == household.as_str())
        .unwrap();
    assert_eq!(row["members"], 1);
}

#[tokio::test]
async fn a_compound_put_in_another_grid_takes_its_households_and_people() {
    let app = demo().await;
    let community = &GRID[..12];
    let page = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json();
    let compound = page["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["grid_code"] == GRID)
        .unwrap()
        .clone();
    let other = page["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap().to_string())
        .find(|g| g != GRID)
        .unwrap();
    let m = compound["id"].as_str().unwrap();
    // A household in the compound with one member (registered in 1985).
    let r = app
        .json(
            "POST",
            &format!("/api/compounds/{m}/households"),
            json!({"kind": "registered", "address": "2号楼101"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let household = r.json()["id"].as_str().unwrap().to_string();
    let id =
        IdNumber::from_parts("370725", wangge_domain::Date::new(1985, 3, 3).unwrap(), 615).unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"kind": "move_in", "name": "迁格", "id_number": id.as_str(), "relation": "户主"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let person = r.json()["id"].as_str().unwrap().to_string();
    let count = |v: &Value| {
        (
            v["total"]["households"].as_i64().unwrap(),
            v["total"]["residents"].as_i64().unwrap(),
        )
    };
    let here = count(&app.get(&format!("/api/people/stats/{GRID}")).await.json());
    let there = count(&app.get(&format!("/api/people/stats/{other}")).await.json());
    let street = count(
        &app.get(&format!("/api/people/stats/{}", &GRID[..9]))
            .await
            .json(),
    );

    // The registry puts the compound in the other grid.
    let r = app
        .json(
            "PUT",
            &format!("/api/compounds/{m}"),
            json!({
                "name": compound["name"],
                "households": compound["households"],
                "population": compound["population"],
                "grid": other,
            }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    // Both grids' pages keep the move.
    for g in [GRID, other.as_str()] {
        let page = app.get(&format!("/api/grids/{g}")).await.json();
        let mv = page["moves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["compound_id"] == *m)
            .unwrap_or_else(|| panic!("{g}: {page}"))
            .clone();
        assert_eq!(
            (mv["from_grid"].as_str(), mv["to_grid"].as_str()),
            (Some(GRID), Some(other.as_str()))
        );
        assert_eq!(mv["reason"], "edit");
    }
    let h = app
        .get(&format!("/api/households/{household}"))
        .await
        .json();
    assert_eq!(h["grid_code"], other.as_str());
    let p = app.get(&format!("/api/residents/{person}")).await.json();
    assert_eq!(p["grid_code"], other.as_str());
    let moved = app.get(&format!("/api/people/stats/{GRID}")).await.json();
    assert!(
        count(&moved).0 < here.0 && count(&moved).1 < here.1,
        "{here:?} → {:?}",
        count(&moved)
    );
    let arrived = app.get(&format!("/api/people/stats/{other}")).await.json();
    assert!(count(&arrived).0 > there.0 && count(&arrived).1 > there.1);
    // Within the street nothing is lost; a new household is counted at once in the street's
    // and the county's figures (both were read, and cached, before).
    let after = count(
        &app.get(&format!("/api/people/stats/{}", &GRID[..9]))
            .await
            .json(),
    );
    assert_eq!(after, street);
    let county = count(&app.get("/api/people/stats/370725").await.json());
    let r = app
        .json(
            "POST",
            &format!("/api/compounds/{m}/households"),
            json!({"kind": "registered", "address": "2号楼102"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let street_now = count(
        &app.get(&format!("/api/people/stats/{}", &GRID[..9]))
            .await
            .json(),
    );
    assert_eq!(street_now, (street.0 + 1, street.1));
    let county_now = count(&app.get("/api/people/stats/370725").await.json());
    assert_eq!(county_now, (county.0 + 1, county.1));
}

/// A grid whose compounds have all moved away still has the households registered by grid
/// alone: retiring it would leave them, their people and their care records in a grid that is
/// gone. Refused until they are moved.
#[tokio::test]
async fn a_grid_with_households_left_is_not_retired() {
    let app = demo().await;
    let community = &GRID[..12];
    let other = format!("{community}002");
    let compounds: Vec<String> = app
        .get(&format!("/api/communities/{community}"))
        .await
        .json()["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["grid_code"] == GRID)
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!compounds.is_empty());
    for id in &compounds {
        let r = app
            .json(
                "PUT",
                &format!("/api/compounds/{id}"),
                json!({"grid": other}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = app
        .json("POST", &format!("/api/grids/{GRID}/retire"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("户在册住户"), "{}", r.text());
    // Nor while an account's role is bound to it.
    let hash = wangge_web::hash_password(PW).unwrap();
    let worker = app
        .store
        .create_user("bound", None, &hash, false)
        .await
        .unwrap();
    app.store
        .set_grants(
            &worker,
            &wangge_web::admin::parse_grants(&format!("grid_worker@{GRID}")).unwrap(),
        )
        .await
        .unwrap();
    let r = app
        .json("POST", &format!("/api/grids/{GRID}/retire"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("还绑定着账号 bound"), "{}", r.text());
    let grid = app.get(&format!("/api/grids/{GRID}")).await.json();
    assert!(grid["valid_to"].is_null(), "{grid}");
}

/// A record entered by mistake, or one whose time is over, is ended with its day and reason:
/// it leaves the statistics, keeps its history, and takes no more follow-ups. Kinds defined
/// by age refuse people of another age; nothing begins before the person was born.
#[tokio::test]
async fn records_are_ended_with_a_reason_and_kinds_fit_the_person() {
    let mut app = demo().await;
    login_as(&mut app, "grid_zheng", &format!("grid_worker@{GRID}")).await;
    let residents = grid_residents(&app).await;
    let aged = |lo: i64, hi: i64| {
        residents
            .iter()
            .find(|r| (lo..hi).contains(&r["age"].as_i64().unwrap()))
            .unwrap()
            .clone()
    };
    let adult = aged(30, 55);
    let id = adult["id"].as_str().unwrap();
    let path = format!("/api/residents/{id}/special-records");
    for (body, field, says) in [
        (
            json!({"kind": "left_behind_child"}),
            "kind",
            "留守儿童指未满 16 周岁",
        ),
        (
            json!({"kind": "elderly_alone"}),
            "kind",
            "独居老人指年满 60 周岁",
        ),
        (
            json!({"kind": "low_income", "since": "1950-01-01"}),
            "since",
            "不能早于出生日期",
        ),
    ] {
        let r = app.json("POST", &path, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        let msg = r.json()["fields"][field].as_str().unwrap_or("").to_string();
        assert!(msg.contains(says), "{body}: {msg}");
    }

    // 低保 entered for the wrong person: ended as a mistake.
    let before = low_income(&app).await;
    let days_ago =
        |n: i64| wangge_domain::people::calendar::add_days(wangge_store::today(), -n).unwrap();
    let r = app
        .json(
            "POST",
            &path,
            json!({"kind": "low_income", "since": days_ago(10).to_string()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let record = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(low_income(&app).await, before + 1);
    let end = format!("/api/special-records/{record}/end");
    let r = app.json("POST", &end, json!({"reason": ""})).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is asked"
    );
    // Not ended before its last follow-up.
    let r = app
        .json(
            "POST",
            &format!("/api/special-records/{record}/follow-ups"),
            json!({"content": "上门核实"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .json(
            "POST",
            &end,
            json!({"reason": "登记有误", "until": days_ago(5).to_string()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("不能早于最近一次跟进"), "{}", r.text());
    let page = app
        .form(
            &format!("/special-records/{record}/end"),
            &[("reason", "登记有误")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(low_income(&app).await, before, "out of the statistics");
    let shown = app.get(&path).await.json();
    let it = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == record.as_str())
        .unwrap()
        .clone();
    let today = wangge_store::today().to_string();
    assert_eq!(it["until"], today.as_str());
    assert!(
        it["follow_ups"].to_string().contains("解除：登记有误"),
        "{it}"
    );
    let r = app.json("POST", &end, json!({"reason": "再次"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .json(
            "POST",
            &format!("/api/special-records/{record}/follow-ups"),
            json!({"content": "还在跟进"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn low_income(app: &TestApp) -> i64 {
    special_count(
        &app.get(&format!("/api/people/stats/{GRID}")).await.json(),
        SpecialGroupKind::LowIncome,
    )
}

/// A head who moved away and comes back finds the household has a new head: the return says
/// so instead of making two; the new head's own edits go on.
#[tokio::test]
async fn a_returning_head_does_not_make_a_second_head() {
    let mut app = demo().await;
    login_as(&mut app, "grid_feng", &format!("grid_worker@{GRID}")).await;
    let residents = grid_residents(&app).await;
    let (head, other) = residents
        .iter()
        .filter(|r| r["relation"] == "户主")
        .find_map(|h| {
            residents
                .iter()
                .find(|m| m["household_id"] == h["household_id"] && m["id"] != h["id"])
                .map(|m| (h.clone(), m.clone()))
        })
        .expect("a household of two");
    let today = wangge_store::today().to_string();
    let moves = |id: &Value| format!("/api/residents/{}/moves", id.as_str().unwrap());
    let r = app
        .json(
            "POST",
            &moves(&head["id"]),
            json!({"kind": "move_out", "date": today, "place": "外省"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let basic = format!("/api/residents/{}/basic", other["id"].as_str().unwrap());
    let r = app.json("PUT", &basic, json!({"relation": "户主"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .json("PUT", &basic, json!({"phone": "13912340000"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the new head edits on: {}",
        r.text()
    );
    let r = app
        .json(
            "POST",
            &moves(&head["id"]),
            json!({"kind": "move_in", "date": today}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("该户已有户主"), "{}", r.text());
}

/// A record begun on the birthday shows that day only to those who may reveal; to others it
/// is masked like the birth date.
#[tokio::test]
async fn a_record_begun_on_the_birthday_does_not_give_the_birth_date_away() {
    let mut app = demo().await;
    login_as(&mut app, "grid_chu", &format!("grid_worker@{GRID}")).await;
    let residents = grid_residents(&app).await;
    let child = residents
        .iter()
        .find(|r| r["age"].as_i64().unwrap() < 12)
        .expect("a child")
        .clone();
    let born = child["birth_date"].as_str().unwrap().to_string();
    let id = child["id"].as_str().unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/residents/{id}/special-records"),
            json!({"kind": "left_behind_child", "since": born}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let record = r.json()["id"].as_str().unwrap().to_string();
    // Its first follow-up is due a fixed time after it: that day would give it away too.
    let seen = app
        .get(&format!("/api/residents/{id}/special-records"))
        .await
        .json();
    let due = seen[0]["next_due"].as_str().unwrap().to_string();
    // Begun years ago and never followed up: overdue, for those who may see its days.
    assert_eq!(seen[0]["overdue"], true);
    login_as(&mut app, "street_chu", "street_admin@370725001").await;
    let records = app
        .get(&format!("/api/residents/{id}/special-records"))
        .await
        .text();
    assert!(!records.contains(&born), "{records}");
    assert!(!records.contains(&due), "{records}");
    assert!(records.contains("\"overdue\":false"), "{records}");
    assert!(
        records.contains(&format!("{}-**-**", &born[..4])),
        "{records}"
    );
    // Nor does the page show it, nor the grid's list of people in care.
    let page = app.get(&format!("/residents/{id}")).await.text();
    assert!(!page.contains(&born) && !page.contains(&due));
    let grid = app.get(&format!("/grids/{GRID}")).await.text();
    assert!(!grid.contains(&due), "{grid}");
    // Nor an error about a follow-up or an end before it; and any day of the birth year is
    // refused alike, before the start or after it: answering day by day would find the
    // birthday.
    let year = &born[..4];
    for (date, says) in [
        ("2000-01-01".to_string(), "-**-**"),
        (format!("{year}-01-01"), "对您隐去"),
        (format!("{year}-12-31"), "对您隐去"),
    ] {
        for (path, body) in [
            (
                format!("/api/special-records/{record}/follow-ups"),
                json!({"date": date, "content": "走访"}),
            ),
            (
                format!("/api/special-records/{record}/end"),
                json!({"until": date, "reason": "误录"}),
            ),
        ] {
            let r = app.json("POST", &path, body).await;
            let text = r.text();
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {text}");
            assert!(!text.contains(&born), "{path}: {text}");
            assert!(text.contains(says), "{path} {date}: {text}");
        }
    }
    // Nor may he give any other day of that year for the child: a new record, a move.
    let r = app
        .json(
            "POST",
            &format!("/api/residents/{id}/special-records"),
            json!({"kind": "disabled", "since": format!("{year}-06-01"), "until": format!("{year}-06-02")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("对您隐去"), "{}", r.text());
    let r = app
        .json(
            "POST",
            &format!("/api/residents/{id}/moves"),
            json!({"kind": "move_out", "date": format!("{year}-06-01")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("对您隐去"), "{}", r.text());
}

/// Members are listed by age only to those who may see birth dates: to others the order
/// would tell which known birthdays a masked one lies between.
#[tokio::test]
async fn household_members_are_in_age_order_only_for_those_who_may_reveal() {
    let mut app = demo().await;
    login_as(&mut app, "grid_ma", &format!("grid_worker@{GRID}")).await;
    let residents = grid_residents(&app).await;
    let head = residents
        .iter()
        .find(|r| r["relation"] == "户主" && r["age"].as_i64().unwrap() < 70)
        .unwrap();
    let household = head["household_id"].as_str().unwrap().to_string();
    // A parent older than the head moves in.
    let parent =
        IdNumber::from_parts("370725", wangge_domain::Date::new(1935, 3, 3).unwrap(), 915).unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"name": "老人", "id_number": parent.as_str(), "relation": "父母"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let first = |v: Value| v["members"][0]["name"].as_str().unwrap().to_string();
    let path = format!("/api/households/{household}");
    assert_eq!(first(app.get(&path).await.json()), "老人");
    login_as(&mut app, "street_ma", "street_admin@370725001").await;
    let view = app.get(&path).await.json();
    assert_eq!(view["members"][0]["relation"], "户主", "{view}");
    let names: Vec<&str> = view["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.last(), Some(&"老人"), "{names:?}");
}

/// A household everyone has left is closed (注销): it stops counting, takes nobody new, and
/// keeps its history. One with people in it is not.
#[tokio::test]
async fn an_empty_household_is_closed_and_keeps_its_history() {
    let mut app = demo().await;
    login_as(&mut app, "grid_wei", &format!("grid_worker@{GRID}")).await;
    let residents = grid_residents(&app).await;
    let household = residents[0]["household_id"].as_str().unwrap().to_string();
    let close = format!("/api/households/{household}/close");
    let r = app.json("POST", &close, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("位在册或现居的居民"), "{}", r.text());
    let today = wangge_store::today().to_string();
    let view = app
        .get(&format!("/api/households/{household}"))
        .await
        .json();
    for m in view["members"].as_array().unwrap() {
        let r = app
            .json(
                "POST",
                &format!("/api/residents/{}/moves", m["id"].as_str().unwrap()),
                json!({"kind": "move_out", "date": today, "place": "外省"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let page = app.get(&format!("/households/{household}")).await.text();
    assert!(page.contains("注销本户"), "{page}");
    let r = app
        .form(&format!("/households/{household}/close"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let view = app
        .get(&format!("/api/households/{household}"))
        .await
        .json();
    assert_eq!(view["closed"], today.as_str());
    assert!(
        !view["former"].as_array().unwrap().is_empty(),
        "history kept"
    );
    let r = app.json("POST", &close, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let newcomer =
        IdNumber::from_parts("370725", wangge_domain::Date::new(1990, 2, 2).unwrap(), 913).unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"name": "新来", "id_number": newcomer.as_str()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("注销，不能再登记居民"), "{}", r.text());
}
