//! People: encrypted at rest, found by blind index, masked unless revealed with a reason
//! (one audit row, without the number), and seen only inside the user's scope.

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;
use wangge_domain::people::import::ResidentRow;

async fn demo_with_people() -> (TestApp, Vec<ResidentRow>) {
    let app = TestApp::demo().await;
    let n = wangge_web::people::load_demo_residents(&app.store, 10)
        .await
        .unwrap();
    assert!(n >= 1500, "{n}");
    // The same rows the loader made (deterministic), to know what was stored.
    let grids: Vec<String> = {
        let mut g = Vec::new();
        for st in app.overview().await["streets"].as_array().unwrap() {
            for c in st["communities"].as_array().unwrap() {
                let page = app
                    .get(&format!("/api/communities/{}", c["code"].as_str().unwrap()))
                    .await
                    .json();
                g.extend(
                    page["grids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x["code"].as_str().unwrap().to_string()),
                );
            }
        }
        g
    };
    let rows =
        wangge_web::people::synth_rows(2020, 10 * grids.len(), &grids, wangge_store::today());
    (app, rows)
}

/// The first row's grid, a person registered there and one registered in another grid.
fn here_and_elsewhere(rows: &[ResidentRow]) -> (String, &ResidentRow, &ResidentRow) {
    let mine = rows[0].grid.clone().unwrap();
    let in_grid = |r: &&ResidentRow| r.grid.as_deref() == Some(mine.as_str());
    let here = rows.iter().find(in_grid).unwrap();
    let elsewhere = rows.iter().find(|r| !in_grid(r)).unwrap();
    (mine, here, elsewhere)
}

#[tokio::test]
async fn numbers_are_stored_encrypted_and_found_by_blind_index() {
    let (app, rows) = demo_with_people().await;
    // No plaintext ID number or phone anywhere in the database.
    let haystack: Vec<u8> = match app.store.backend() {
        wangge_store::Backend::Sqlite => {
            let mut bytes = Vec::new();
            for f in std::fs::read_dir(app.dir.path()).unwrap() {
                bytes.extend(std::fs::read(f.unwrap().path()).unwrap_or_default());
            }
            bytes
        }
        wangge_store::Backend::Postgres => {
            let mut t = String::new();
            for table in [
                "resident",
                "household",
                "special_record",
                "visit",
                "audit_log",
            ] {
                t.push_str(&app.store.table_as_text(table).await.unwrap());
            }
            t.into_bytes()
        }
    };
    assert!(haystack.len() > 100_000);
    let contains = |needle: &str| {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    for r in rows.iter().step_by(97) {
        assert!(!contains(r.id_number.as_str()), "plaintext ID number found");
        if let Some(p) = &r.phone {
            assert!(!contains(p.as_str()), "plaintext phone found");
        }
    }
    // Search by the full number finds the person; the answer is masked.
    let who = &rows[5];
    let found = app
        .json(
            "POST",
            "/api/people/search",
            json!({"id_number": who.id_number.as_str()}),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let found = found.json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["name"], who.name.as_str());
    assert_eq!(found[0]["id_number_masked"], who.id_number.mask());
    assert!(!found.to_string().contains(who.id_number.as_str()));
    let bad = app
        .json(
            "POST",
            "/api/people/search",
            json!({"id_number": "370725198001011230"}),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a wrong check digit is refused"
    );
}

#[tokio::test]
async fn masked_unless_revealed_and_a_reveal_is_audited_once() {
    let (mut app, rows) = demo_with_people().await;
    let who = &rows[0];
    let grid = who.grid.clone().unwrap();
    let list = app
        .get(&format!("/api/grids/{grid}/residents"))
        .await
        .json();
    let person = list["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == who.name.as_str())
        .unwrap()
        .clone();
    let id = person["id"].as_str().unwrap().to_string();
    assert!(!list.to_string().contains(who.id_number.as_str()));
    let page = app.get(&format!("/grids/{grid}")).await.text();
    assert!(page.contains(&who.id_number.mask()) && !page.contains(who.id_number.as_str()));

    // A county administrator has no reveal permission by default.
    let r = app
        .json(
            "POST",
            &format!("/api/residents/{id}/reveal"),
            json!({"reason": "核实"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Community staff may reveal, with a reason: exactly one audit row, without the number.
    let hash = wangge_web::hash_password("People-Pass-42").unwrap();
    let uid = app
        .store
        .create_user("clerk", None, &hash, false)
        .await
        .unwrap();
    let community = &grid[..12];
    app.store
        .set_grants(
            &uid,
            &wangge_web::admin::parse_grants(&format!("community_staff@{community}")).unwrap(),
        )
        .await
        .unwrap();
    app.login_as("clerk", "People-Pass-42", "").await;
    let r = app
        .json(
            "POST",
            &format!("/api/residents/{id}/reveal"),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let before = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    let r = app
        .json(
            "POST",
            &format!("/api/residents/{id}/reveal"),
            json!({"reason": "入户走访核实身份"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["id_number"], who.id_number.as_str());
    let rows_after = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows_after.len(), before + 1, "exactly one audit row");
    let row = &rows_after[0];
    assert_eq!(
        (row.user.as_str(), row.action.as_str(), row.result.as_str()),
        ("clerk", "reveal", "ok")
    );
    assert!(row.object.contains(&id) && row.object.contains("入户走访核实身份"));
    let all_audit: String = rows_after.iter().map(|r| format!("{r:?}")).collect();
    assert!(
        !all_audit.contains(who.id_number.as_str()),
        "the number is never in the log"
    );
    // The page form does the same.
    let page = app
        .form(
            &format!("/residents/{id}/reveal"),
            &[("reason", "办理低保")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(who.id_number.as_str()));
    assert_eq!(page.headers["cache-control"], "no-store");
    // Someone who may not reveal this person is refused and audited, whatever reason he
    // gives or leaves out.
    app.login_new("outsider", "People-Pass-43", "observer@370725")
        .await;
    for reason in ["", "x", "核实"] {
        let r = app
            .json(
                "POST",
                &format!("/api/residents/{id}/reveal"),
                json!({ "reason": reason }),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{reason}: {}", r.text());
    }
    let refused = audit_of(&app, "outsider", "reveal").await;
    assert_eq!(refused.len(), 3);
    assert!(refused.iter().all(|r| r.result == "denied"));
}

/// Whoever resets a password knows the one-time password and could log in as the user: the
/// account's reveal waits until the security administrator confirms the person. The user's own
/// password change does not end the hold; nobody confirms himself.
#[tokio::test]
async fn a_password_reset_by_someone_else_holds_reveal_until_the_person_is_confirmed() {
    let (mut app, rows) = demo_with_people().await;
    let who = &rows[0];
    let grid = who.grid.clone().unwrap();
    let id = app
        .get(&format!("/api/grids/{grid}/residents"))
        .await
        .json()["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == who.name.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = wangge_web::hash_password("People-Pass-42").unwrap();
    let uid = app
        .store
        .create_user("wang", None, &hash, false)
        .await
        .unwrap();
    app.store
        .set_grants(
            &uid,
            &wangge_web::admin::parse_grants(&format!("grid_worker@{grid}")).unwrap(),
        )
        .await
        .unwrap();
    let reveal = json!({"reason": "入户核实"});
    let reveal_path = format!("/api/residents/{id}/reveal");

    // The system administrator resets the password and logs in with it.
    let one_time = app
        .json("POST", &format!("/api/users/{uid}/password"), json!({}))
        .await
        .json()["one_time_password"]
        .as_str()
        .unwrap()
        .to_string();
    let user = app.get(&format!("/api/users/{uid}")).await.json();
    assert_eq!(user["reveal_held"], true, "{user}");
    app.login_as("wang", &one_time, "").await;
    let r = app
        .form(
            "/account/password",
            &[("current", &one_time), ("new", "Taken-Over-77")],
        )
        .await;
    assert!(r.text().contains("密码已修改"), "{}", r.text());
    assert_eq!(app.get("/api/session").await.json()["reveal_held"], true);
    let r = app.json("POST", &reveal_path, reveal.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(!r.text().contains(who.id_number.as_str()));
    let page = app.get(&format!("/residents/{id}")).await.text();
    assert!(
        page.contains("查看完整证件号、电话已暂停") && !page.contains("/reveal\""),
        "the page says why there is no reveal form"
    );
    // Reading masked records goes on as before.
    assert_eq!(
        app.get(&format!("/api/grids/{grid}/residents"))
            .await
            .status,
        StatusCode::OK
    );
    // Nobody confirms himself; nor may the grid worker ask for it.
    let r = app
        .json(
            "POST",
            &format!("/api/users/{uid}/release-reveal"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The first administrator, who reset the password and still holds the setup roles, may
    // not confirm the person; another security administrator does, and the hold ends on the
    // user's next request.
    let worker = (app.cookie.clone(), app.csrf.clone());
    app.login().await;
    let admin = app.store.user_by_name("admin").await.unwrap().unwrap().id;
    let r = app
        .json(
            "POST",
            &format!("/api/users/{admin}/release-reveal"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "not for oneself");
    // Nor by whoever set the one-time password: he may not vouch for the account, or clear
    // its second factor, alone.
    for path in ["release-reveal", "totp-reset"] {
        let r = app
            .json("POST", &format!("/api/users/{uid}/{path}"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text());
        assert!(r.text().contains("设置了一次性密码"), "{}", r.text());
    }
    // Another security administrator checks the person and releases the hold.
    let sec = app
        .login_new_with_totp(
            "sec9",
            "People-Pass-42",
            "security_admin@370725",
            common::TOTP,
        )
        .await;
    // Not while the first administrator still holds the administrators' roles together: he
    // could have made sec9 himself to vouch for his own account.
    let r = app.form(&format!("/users/{uid}/release-reveal"), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("三员分立完成"), "{}", r.text());
    // Disabling that account for a moment is no way round: it keeps its roles.
    app.store.set_disabled(&admin, true).await.unwrap();
    let r = app.form(&format!("/users/{uid}/release-reveal"), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    app.store.set_disabled(&admin, false).await.unwrap();
    app.store
        .set_grants(
            &admin,
            &wangge_web::admin::parse_grants("county_admin@370725\nsystem_admin@370725").unwrap(),
        )
        .await
        .unwrap();
    // Nor by a security administrator whose own one-time password came from the person who
    // gave the account its own: both accounts may be his.
    app.store.set_reset_by(&sec, &admin).await.unwrap();
    let r = app.form(&format!("/users/{uid}/release-reveal"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("出自同一人"), "{}", r.text());
    app.store.set_reset_by(&sec, "console").await.unwrap();
    let r = app.form(&format!("/users/{uid}/release-reveal"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app
        .json(
            "POST",
            &format!("/api/users/{uid}/release-reveal"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "nothing is held any more");
    (app.cookie, app.csrf) = worker;
    let r = app.json("POST", &reveal_path, reveal).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["id_number"], who.id_number.as_str());
}

/// A lost phone: the security administrator removes the second factor, the sessions end, and
/// the next login enrols a new one.
#[tokio::test]
async fn the_security_administrator_clears_a_lost_second_factor() {
    let mut app = TestApp::demo().await;
    let hash = wangge_web::hash_password("People-Pass-42").unwrap();
    let uid = app
        .store
        .create_user("boss", None, &hash, false)
        .await
        .unwrap();
    app.store
        .set_grants(
            &uid,
            &wangge_web::admin::parse_grants("county_admin@370725").unwrap(),
        )
        .await
        .unwrap();
    app.store
        .set_totp(&uid, Some("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), true)
        .await
        .unwrap();
    let r = app
        .json("POST", &format!("/api/users/{uid}/totp-reset"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["totp_enabled"], false);
    // Whoever cleared it may not now also choose the account's password.
    let r = app
        .json("POST", &format!("/api/users/{uid}/password"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("不能再由您重置其密码"), "{}", r.text());
    // The password alone now reaches only the enrolment page.
    app.login_as("boss", "People-Pass-42", "").await;
    assert_eq!(app.get("/api/session").await.json()["two_factor_ok"], false);
    let r = app.get("/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/account"), "{}", r.location());
    // Once the owner has enrolled again, the administrator may reset the password again.
    app.store
        .set_totp(&uid, Some("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), true)
        .await
        .unwrap();
    app.login().await;
    let r = app
        .json("POST", &format!("/api/users/{uid}/password"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn a_grid_worker_sees_only_his_grid() {
    let (mut app, rows) = demo_with_people().await;
    let mine = rows[0].grid.clone().unwrap();
    let other = rows
        .iter()
        .find(|r| r.grid.as_deref() != Some(mine.as_str()))
        .unwrap();
    // The other person's id, as the county administrator sees it.
    let theirs = other.grid.clone().unwrap();
    let other_id = app
        .get(&format!("/api/grids/{theirs}/residents"))
        .await
        .json()["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == other.name.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = wangge_web::hash_password("People-Pass-42").unwrap();
    let uid = app
        .store
        .create_user("wang", None, &hash, false)
        .await
        .unwrap();
    app.store
        .set_grants(
            &uid,
            &wangge_web::admin::parse_grants(&format!("grid_worker@{mine}")).unwrap(),
        )
        .await
        .unwrap();
    app.login_as("wang", "People-Pass-42", "").await;
    let list = app.get(&format!("/api/grids/{mine}/residents")).await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json();
    let expected = rows
        .iter()
        .filter(|r| r.grid.as_deref() == Some(mine.as_str()))
        .count();
    assert_eq!(list["residents"].as_array().unwrap().len(), expected);
    assert_eq!(
        list["counts"]["residents"].as_i64().unwrap() as usize,
        expected,
        "counts are his grid's"
    );
    // His export holds his grid only, masked.
    let csv = app.get("/export/residents.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let sheets = wangge_sheets::read("r.csv", &csv.body).unwrap();
    assert_eq!(sheets[0].rows.len() - 1, expected);
    assert!(sheets[0].rows[1..].iter().all(|r| r[0] == mine));
    assert!(!String::from_utf8_lossy(&csv.body).contains(rows[0].id_number.as_str()));
    // Asking to reveal someone outside his grid, from the page: refused, and the refusal is
    // in the audit log as the API's is.
    let r = app
        .form(
            &format!("/residents/{other_id}/reveal"),
            &[("reason", "核实身份")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.text().contains(other.id_number.as_str()));
    let last = &app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(
        (
            last.user.as_str(),
            last.action.as_str(),
            last.result.as_str()
        ),
        ("wang", "reveal", "denied")
    );
    assert!(last.object.contains(&other_id));
    assert_eq!(
        app.get(&format!("/api/grids/{theirs}/residents"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let found = app
        .json(
            "POST",
            "/api/people/search",
            json!({"id_number": other.id_number.as_str()}),
        )
        .await
        .json();
    assert!(
        found.as_array().unwrap().is_empty(),
        "search finds nobody outside his grid"
    );
    let found = app
        .json(
            "POST",
            "/api/people/search",
            json!({"id_number": rows[0].id_number.as_str()}),
        )
        .await
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
}

/// The birth date in full only for those who may reveal the number: with the masked number's
/// region and the sex it would leave a few hundred candidates for the whole ID number.
#[tokio::test]
async fn the_birth_date_is_shown_in_full_only_to_those_who_may_reveal() {
    let mut app = TestApp::demo().await;
    wangge_web::people::load_demo_residents(&app.store, 3)
        .await
        .unwrap();
    let grid = "370725001001001";
    let path = format!("/api/grids/{grid}/residents?page=0");
    app.login_new("street", "街道管理员的密码-1", "street_admin@370725001")
        .await;
    let masked = app.get(&path).await.json()["residents"][0].clone();
    let birth = masked["birth_date"].as_str().unwrap().to_string();
    assert!(birth.ends_with("-**-**") && birth.len() == 10, "{birth}");
    let id = masked["id"].as_str().unwrap().to_string();
    let page = app.get(&format!("/residents/{id}")).await.text();
    assert!(page.contains(&format!("<dd>{birth}</dd>")), "{page}");
    app.login_new("worker", "网格员的密码-1", &format!("grid_worker@{grid}"))
        .await;
    let full = app.get(&path).await.json()["residents"][0].clone();
    assert_eq!(full["id"], id.as_str());
    let date = full["birth_date"].as_str().unwrap();
    assert!(wangge_domain::Date::parse(date).is_ok(), "{date}");
    assert!(date.starts_with(&birth[..5]));
    assert_eq!(full["age"], masked["age"]);

    // A baby registered at birth moved in on its birthday: that date is masked too, in the
    // record and in its moves, for whoever may not reveal.
    let household = full["household_id"].as_str().unwrap().to_string();
    let born = wangge_domain::people::calendar::add_days(wangge_store::today(), -40).unwrap();
    let baby = wangge_domain::people::IdNumber::from_parts("370725", born, 911).unwrap();
    let r = app
        .json(
            "POST",
            &format!("/api/households/{household}/residents"),
            json!({"kind": "birth", "name": "小暑", "id_number": baby.as_str()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let baby_id = r.json()["id"].as_str().unwrap().to_string();
    let day = born.to_string();
    let seen = app.get(&format!("/api/residents/{baby_id}")).await.json();
    assert_eq!(seen["moved_in"], day.as_str(), "the grid worker may reveal");
    app.login_new("street2", "街道管理员的密码-2", "street_admin@370725001")
        .await;
    let seen = app.get(&format!("/api/residents/{baby_id}")).await.json();
    let moves = app
        .get(&format!("/api/residents/{baby_id}/moves"))
        .await
        .text();
    let page = app.get(&format!("/residents/{baby_id}")).await.text();
    let list = app.get(&path).await.text();
    for (what, text) in [
        ("record", seen.to_string()),
        ("moves", moves),
        ("page", page),
        ("list", list),
    ] {
        assert!(!text.contains(&day), "{what} shows {day}: {text}");
    }
    assert_eq!(seen["moved_in"], format!("{}-**-**", &day[..4]));
}

/// A grid worker finds people by name (or part of it) and by household number, those who
/// moved away too, but only in his grid; wildcards are read as characters.
#[tokio::test]
async fn residents_are_found_by_name_or_household_within_the_scope() {
    let (mut app, rows) = demo_with_people().await;
    let (mine, here, elsewhere) = here_and_elsewhere(&rows);
    app.login_new("finder", "网格员的密码-1", &format!("grid_worker@{mine}"))
        .await;
    let find = |q: &str| serde_json::json!({ "name": q });
    let r = app
        .json("POST", "/api/people/search", find(&here.name))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let found = r.json();
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == here.name.as_str()),
        "{found}"
    );
    assert!(!found.to_string().contains(here.id_number.as_str()));
    // The household number finds its members.
    let by_household = app
        .json("POST", "/api/people/search", find(&here.household))
        .await
        .json();
    assert!(
        by_household
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["household"] == here.household.as_str()),
        "{by_household}"
    );
    assert!(!by_household.as_array().unwrap().is_empty());
    // Someone of another grid is not found, nor is anyone by "%".
    let other = app
        .json("POST", "/api/people/search", find(&elsewhere.name))
        .await
        .json();
    assert!(
        other
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["grid_code"] == mine.as_str()),
        "{other}"
    );
    let wild = app
        .json("POST", "/api/people/search", find("%"))
        .await
        .json();
    assert_eq!(wild, serde_json::json!([]));
    // The page form does the same.
    let page = app
        .form("/people/search", &[("name", here.name.as_str())])
        .await
        .text();
    assert!(page.contains(&here.name) && page.contains("在册"), "{page}");
    assert!(
        page.contains(&format!("value=\"{}\"", here.name)),
        "the name asked stays in its field"
    );
}

/// "已登记" for a number registered outside the user's scope tells whether anyone is on the
/// county's rolls: such answers are audited and limited to 20 requests a day per user; a
/// duplicate inside the user's own scope is answered as always.
/// Imports one household a number into `grid`, by the API.
async fn import_ids(app: &TestApp, grid: &str, ids: &[&str]) -> common::Reply {
    let mut t = String::from("户号,与户主关系,姓名,公民身份号码,网格编码\n");
    for (k, id) in ids.iter().enumerate() {
        t.push_str(&format!("PROBE{k},户主,试探{k},{id},{grid}\n"));
    }
    app.send(
        "POST",
        "/api/import/residents?filename=p.csv",
        Some(&t),
        "text/csv",
    )
    .await
}

/// A user's audit rows of one action, latest first.
async fn audit_of(app: &TestApp, user: &str, action: &str) -> Vec<wangge_store::AuditRow> {
    app.store
        .audit_rows(&wangge_store::AuditFilter {
            user: Some(user.into()),
            action: Some(action.into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// How many "already registered" answers about numbers he may not reveal a user got.
async fn answered(app: &TestApp, user: &str) -> usize {
    audit_of(app, user, "id-elsewhere")
        .await
        .iter()
        .filter(|r| r.result == "conflict")
        .count()
}

#[tokio::test]
async fn answers_about_numbers_registered_elsewhere_are_audited_and_limited() {
    let (mut app, rows) = demo_with_people().await;
    let (mine, here, elsewhere) = here_and_elsewhere(&rows);
    app.login_new("prober", "网格员的密码-1", &format!("grid_worker@{mine}"))
        .await;
    let household = app
        .get(&format!("/api/grids/{mine}/residents"))
        .await
        .json()["residents"][0]["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    let add = |id: &str| serde_json::json!({"kind": "move_in", "name": "试探", "id_number": id});
    let path = format!("/api/households/{household}/residents");
    for i in 0..20 {
        let r = app
            .json("POST", &path, add(elsewhere.id_number.as_str()))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "try {i}: {}",
            r.text()
        );
        assert!(r.text().contains("已登记"));
    }
    // The 21st is refused; and from then on, so is every registration of his today, of a
    // number registered or not, in his grid or not: were only those meeting a registered
    // number refused, the refusal would itself be the answer.
    let fresh = wangge_domain::people::IdNumber::from_parts(
        "370725",
        wangge_domain::Date::new(1990, 1, 1).unwrap(),
        997,
    )
    .unwrap();
    for id in [
        elsewhere.id_number.as_str(),
        here.id_number.as_str(),
        fresh.as_str(),
    ] {
        let r = app.json("POST", &path, add(id)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        assert!(r.text().contains("明天恢复"), "{}", r.text());
    }
    assert_eq!(
        import_ids(&app, &mine, &[fresh.as_str()]).await.status,
        StatusCode::FORBIDDEN
    );
    let audit = audit_of(&app, "prober", "id-elsewhere").await;
    assert_eq!(audit.len(), 20);
    assert!(audit.iter().all(|r| r.result == "conflict"));
    assert!(!format!("{audit:?}").contains(elsewhere.id_number.as_str()));

    // A file is no way round the limit: each number it meets counts, and a file that would go
    // over is refused whole, naming no row, and closes registration for the day.
    let others: Vec<&str> = rows
        .iter()
        .filter(|r| r.grid.as_deref() != Some(mine.as_str()))
        .map(|r| r.id_number.as_str())
        .take(21)
        .collect();
    app.login_new("prober2", "网格员的密码-2", &format!("grid_worker@{mine}"))
        .await;
    let r = import_ids(&app, &mine, &others[..2]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        r.json()["cells"].as_array().unwrap().len(),
        2,
        "{}",
        r.text()
    );
    assert_eq!(answered(&app, "prober2").await, 2);
    let r = import_ids(&app, &mine, &others[2..21]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(!r.text().contains("第 "), "{}", r.text());
    assert_eq!(
        import_ids(&app, &mine, &others[2..3]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(answered(&app, "prober2").await, 2);
    // A search by full number finds the person, and counts alike for one he may not reveal.
    app.login_new(
        "searcher",
        "街道管理员密码-4",
        &format!("street_admin@{}", &mine[..9]),
    )
    .await;
    let found = app
        .json(
            "POST",
            "/api/people/search",
            json!({"id_number": here.id_number.as_str()}),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    assert_eq!(found.json().as_array().unwrap().len(), 1);
    assert_eq!(answered(&app, "searcher").await, 1);
    // Requests at once find no more room under the limit than one after another.
    app.login_new("racer", "网格员的密码-5", &format!("grid_worker@{mine}"))
        .await;
    let household = app
        .get(&format!("/api/grids/{mine}/residents"))
        .await
        .json()["residents"][0]["household_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/households/{household}/residents");
    let tries: Vec<_> = others
        .iter()
        .chain(others.iter())
        .map(|id| {
            app.json(
                "POST",
                &path,
                serde_json::json!({"kind": "move_in", "name": "并发", "id_number": id}),
            )
        })
        .collect();
    let replies = futures_util::future::join_all(tries).await;
    assert!(replies.iter().all(|r| r.status.is_client_error()));
    assert_eq!(answered(&app, "racer").await, 20);
    // Without reveal the age is by years only: the exact age would tell the birthday.
    let born = here.id_number.birth_date();
    let today = wangge_store::today();
    assert_eq!(
        found.json()[0]["age"].as_i64().unwrap(),
        i64::from(today.year() - born.year())
    );

    // A reader who may not reveal the numbers of his own street is no more told that a
    // number is registered there than one outside it.
    app.login_new(
        "street_reader",
        "街道管理员密码-3",
        &format!("street_admin@{}", &mine[..9]),
    )
    .await;
    let r = import_ids(&app, &mine, &[here.id_number.as_str()]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(answered(&app, "street_reader").await, 1);
}
