//! The account's own security: a one-time password must be changed before anything else, a
//! failed login does not say which of password and code was wrong, and a TOTP code is
//! accepted once.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, TOTP, TestApp, totp_now};
use serde_json::json;

const NEW_PW: &str = "Neues-Passwort-9";

/// The code of a base32 secret `steps` time steps from now.
fn totp_at(secret: &str, steps: i64) -> String {
    let raw = wangge_web::totp::base32_decode(secret).unwrap();
    wangge_web::totp::code_at(&raw, wangge_store::now_secs() + steps * 30)
}

/// A six-digit code that is not the current one (nor its neighbours').
fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-1..=1).map(|d| totp_at(secret, d)).collect();
    (0..10)
        .map(|d| format!("{d}{d}{d}{d}{d}{d}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// The error message of a refused login page.
fn login_error(page: &str) -> String {
    page.split("<p class=\"error\" role=\"alert\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_else(|| panic!("no error on the page: {page}"))
        .to_string()
}

fn login_form<'a>(user: &'a str, password: &'a str, code: &'a str) -> [(&'a str, &'a str); 3] {
    [("username", user), ("password", password), ("totp", code)]
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_before_anything_else() {
    let mut app = TestApp::demo().await;
    let r = app
        .json("POST", "/api/users", json!({"username": "newbie"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let one_time = r.json()["one_time_password"].as_str().unwrap().to_string();
    app.store
        .set_grants(
            &id,
            &wangge_web::admin::parse_grants("community_staff@370725001001").unwrap(),
        )
        .await
        .unwrap();
    app.login_as("newbie", &one_time, "").await;
    assert_eq!(
        app.get("/api/session").await.json()["must_change_password"],
        true
    );

    // Every page sends the user to the password change, every API route but the session's
    // says 403 in Chinese.
    for path in [
        "/",
        "/account",
        "/communities/370725001001",
        "/grids/370725001001001",
        "/search?q=a",
        "/people/search",
    ] {
        let r = app.get(path).await;
        assert_eq!(
            (r.status, r.location()),
            (StatusCode::SEE_OTHER, "/account/password".to_string()),
            "GET {path}"
        );
    }
    let r = app
        .form("/new/streets", &[("code", "370725009"), ("name", "偷偷建")])
        .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/account/password".to_string())
    );
    for (method, path) in [
        ("GET", "/api/overview"),
        ("GET", "/api/communities/370725001001"),
        ("POST", "/api/streets"),
        ("GET", "/api/openapi.json"),
    ] {
        let r = app.send(method, path, Some("{}"), "application/json").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        let msg = r.json()["error"].as_str().unwrap().to_string();
        assert!(msg.contains("须先修改密码"), "{method} {path}: {msg}");
    }
    assert_eq!(app.get("/api/session").await.status, StatusCode::OK);
    assert!(
        !app.store
            .audit_rows(&wangge_store::AuditFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .iter()
            .any(|r| r.user == "newbie" && r.object == "/api/streets" && r.result == "201"),
        "nothing was created"
    );

    // The password change page is open; the same password again is refused, nothing changes.
    let page = app.get("/account/password").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("name=\"new\""), "{}", page.text());
    let r = app
        .form(
            "/account/password",
            &[("current", &one_time), ("new", &one_time)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains("新密码不能与当前密码相同"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("name=\"new\""), "the form is shown again");
    // A typo in the repeated password: refused before anything is checked or changed.
    let r = app
        .form(
            "/account/password",
            &[
                ("current", &one_time),
                ("new", NEW_PW),
                ("again", "Neues-Passwort-8"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("两次输入的新密码不一致"), "{}", r.text());
    assert_eq!(
        app.get("/api/session").await.json()["must_change_password"],
        true
    );
    assert_eq!(app.get("/api/overview").await.status, StatusCode::FORBIDDEN);

    // Logout still works, and ends the session.
    let r = app.form("/logout", &[]).await;
    assert_eq!(r.location(), "/login");
    assert_eq!(
        app.get("/api/session").await.status,
        StatusCode::UNAUTHORIZED
    );
    app.login_as("newbie", &one_time, "").await;

    // A real change opens everything; the one-time password is gone.
    let r = app
        .form(
            "/account/password",
            &[("current", &one_time), ("new", NEW_PW)],
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.text()
    );
    assert_eq!(
        app.get("/api/session").await.json()["must_change_password"],
        false
    );
    assert_eq!(app.get("/api/overview").await.status, StatusCode::OK);
    assert_eq!(
        app.get("/communities/370725001001").await.status,
        StatusCode::OK
    );
    app.cookie = None;
    let r = app
        .form_raw("/login", &login_form("newbie", &one_time, ""))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    app.login_as("newbie", NEW_PW, "").await;

    // The same password as the current one is refused for anyone, not only at first login.
    let r = app
        .form("/account/password", &[("current", NEW_PW), ("new", NEW_PW)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("新密码不能与当前密码相同"));
}

#[tokio::test]
async fn a_failed_login_does_not_say_whether_the_password_was_right() {
    let app = TestApp::demo_logged_out().await;
    let wrong = wrong_code(TOTP);
    let bad_password = app
        .form_raw("/login", &login_form("admin", "wrong", &totp_now(TOTP)))
        .await;
    let bad_code = app
        .form_raw("/login", &login_form("admin", PASSWORD, &wrong))
        .await;
    let no_code = app
        .form_raw("/login", &login_form("admin", PASSWORD, ""))
        .await;
    let nobody = app
        .form_raw("/login", &login_form("nobody", "wrong", &wrong))
        .await;
    for r in [&bad_password, &bad_code, &no_code, &nobody] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(login_error(&r.text()), "用户名、密码或动态验证码不正确");
    }
    assert_eq!(bad_password.text(), bad_code.text(), "the same page");
    assert_eq!(bad_password.text(), no_code.text(), "the same page");

    // Both kinds of failure count alike: five in a row, mixed, lock the account.
    let admin = app.store.user_by_name("admin").await.unwrap().unwrap();
    assert_eq!(admin.failed_logins, 3);
    app.form_raw("/login", &login_form("admin", "wrong", &wrong))
        .await;
    let r = app
        .form_raw("/login", &login_form("admin", PASSWORD, &wrong))
        .await;
    assert_eq!(login_error(&r.text()), "用户名、密码或动态验证码不正确");
    let r = app
        .form_raw("/login", &login_form("admin", PASSWORD, &totp_now(TOTP)))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().contains("账号已锁定"));
}

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let app = TestApp::demo_logged_out().await;
    let now = totp_now(TOTP);
    let earlier = totp_at(TOTP, -1);
    let r = app
        .form_raw("/login", &login_form("admin", PASSWORD, &now))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // The same code again, and the one before it, are refused like any wrong code.
    for code in [&now, &now, &earlier] {
        let r = app
            .form_raw("/login", &login_form("admin", PASSWORD, code))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{code}");
        assert_eq!(login_error(&r.text()), "用户名、密码或动态验证码不正确");
    }
    // The next code (one step of clock drift is allowed) is new, so it is accepted once.
    let next = totp_at(TOTP, 1);
    let r = app
        .form_raw("/login", &login_form("admin", PASSWORD, &next))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app
        .form_raw("/login", &login_form("admin", PASSWORD, &next))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_code_that_confirms_enrolment_cannot_log_in_again() {
    let mut app = TestApp::demo().await;
    let pw = "Boss-Passwort-7";
    let hash = wangge_web::hash_password(pw).unwrap();
    let id = app
        .store
        .create_user("boss", None, &hash, false)
        .await
        .unwrap();
    app.store
        .set_grants(
            &id,
            &wangge_web::admin::parse_grants("county_admin@370725").unwrap(),
        )
        .await
        .unwrap();
    // First login: the password alone, then enrolment on the account page.
    app.login_as("boss", pw, "").await;
    let page = app.form("/account/totp", &[]).await.text();
    let secret = page
        .split("<code class=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let code = totp_now(&secret);
    let r = app.form("/account/totp/confirm", &[("code", &code)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(app.get("/api/overview").await.status, StatusCode::OK);

    // The code that confirmed enrolment was used: it does not log in.
    app.cookie = None;
    let r = app.form_raw("/login", &login_form("boss", pw, &code)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .form_raw("/login", &login_form("boss", pw, &totp_at(&secret, 1)))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
}

#[tokio::test]
async fn a_refused_login_does_not_tell_which_usernames_exist() {
    let app = TestApp::demo_logged_out().await;
    const PW: &str = "Ein-Passwort-42";
    let hash = wangge_web::hash_password(PW).unwrap();
    let id = app
        .store
        .create_user("retired", None, &hash, false)
        .await
        .unwrap();
    app.store.set_disabled(&id, true).await.unwrap();
    // A disabled account answers a wrong password like any other; only its own password
    // hears that it is disabled.
    let r = app
        .form_raw("/login", &login_form("retired", "wrong", ""))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login_error(&r.text()), "用户名、密码或动态验证码不正确");
    let r = app.form_raw("/login", &login_form("retired", PW, "")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("已停用"), "{}", r.text());
    // Five failures lock a name whether or not an account has it: the sixth try looks the
    // same for both.
    let mut sixth = Vec::new();
    for name in ["admin", "nobody-here"] {
        for _ in 0..5 {
            let r = app
                .form_raw("/login", &login_form(name, "wrong", "000000"))
                .await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
        }
        let r = app
            .form_raw("/login", &login_form(name, "wrong", "000000"))
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
        sixth.push(login_error(&r.text()));
    }
    assert!(sixth[0].contains("账号已锁定"), "{sixth:?}");
    assert_eq!(sixth[0], sixth[1], "a lock does not tell which name exists");
}

/// A user with a password and no second factor, logged in on `app`.
async fn user_logged_in(app: &mut TestApp, name: &str) {
    app.login_new(name, NEW_PW, "community_staff@370725001001")
        .await;
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_guessing_the_current_one_is_limited() {
    let mut app = TestApp::demo_logged_out().await;
    user_logged_in(&mut app, "zhao").await;
    // A second login elsewhere (a lost phone, say), then the change from the first.
    let first = (app.cookie.clone(), app.csrf.clone());
    app.login_as("zhao", NEW_PW, "").await;
    let elsewhere = app.cookie.clone();
    (app.cookie, app.csrf) = first;
    let r = app
        .form(
            "/account/password",
            &[("current", NEW_PW), ("new", "Ganz-Neues-Wort-7")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("其他设备上的登录已退出"));
    assert_eq!(app.get("/api/session").await.status, StatusCode::OK);
    let mine = app.cookie.clone();
    app.cookie = elsewhere;
    assert_eq!(
        app.get("/api/session").await.status,
        StatusCode::UNAUTHORIZED,
        "the other session is over"
    );
    app.cookie = mine;

    // Whoever holds the session gets five guesses at the current password, as at login.
    for _ in 0..5 {
        let r = app
            .form(
                "/account/password",
                &[("current", "not-it-123"), ("new", "Noch-Ein-Wort-8")],
            )
            .await;
        assert!(r.text().contains("当前密码不正确"), "{}", r.text());
    }
    let r = app
        .form(
            "/account/password",
            &[("current", "Ganz-Neues-Wort-7"), ("new", "Noch-Ein-Wort-8")],
        )
        .await;
    assert!(r.text().contains("错误次数过多"), "{}", r.text());
    app.cookie = None;
    let r = app
        .form_raw("/login", &login_form("zhao", "Noch-Ein-Wort-8", ""))
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the account is locked, unchanged"
    );
}

#[tokio::test]
async fn logins_sent_at_once_try_no_more_passwords_than_the_lock_allows() {
    let mut app = TestApp::demo_logged_out().await;
    user_logged_in(&mut app, "sun").await;
    app.cookie = None;
    let tries: Vec<_> = (0..12)
        .map(|i| {
            let app = &app;
            async move {
                let pw = format!("guess-{i}-xyz");
                app.form_raw("/login", &login_form("sun", &pw, ""))
                    .await
                    .status
            }
        })
        .collect();
    let statuses = futures_util::future::join_all(tries).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let locked = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, locked), (5, 7), "{statuses:?}");
}

#[tokio::test]
async fn a_huge_username_is_cut_in_the_audit_log_and_a_formula_is_defused_in_its_export() {
    let app = TestApp::demo_logged_out().await;
    let huge = format!("=HYPERLINK(\"http://evil.example\"){}", "x".repeat(100_000));
    let r = app
        .form_raw("/login", &login_form(&huge, "whatever", ""))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let rows = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let row = rows
        .iter()
        .find(|r| r.user.starts_with("=HYPERLINK"))
        .expect("the failed login is audited");
    assert_eq!(
        row.user.chars().count(),
        33,
        "32 characters and an ellipsis"
    );
    // The audit export writes its cells with write_csv, which keeps this one text.
    let csv = wangge_sheets::write_csv(&[vec![row.user.clone()]], false).unwrap();
    assert!(String::from_utf8_lossy(&csv).contains("'=HYPERLINK"));
}

#[tokio::test]
async fn roles_name_only_places_and_departments_there_are_and_a_repeat_is_one() {
    let app = TestApp::demo().await;
    let r = app
        .json("POST", "/api/users", json!({"username": "qian"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let path = format!("/api/users/{id}/roles");
    // The same line twice: one grant (it used to fail on the database's unique key, 500).
    let r = app
        .json(
            "PUT",
            &path,
            json!({"grants": "community_staff@370725001001\ncommunity_staff@370725001001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json()["grants"].as_array().unwrap().len(),
        1,
        "{}",
        r.text()
    );
    // A street, grid or department that is not in the registry is refused, named.
    for (grants, says) in [
        (
            "street_admin@370725009",
            "“street_admin@370725009”：没有这个街道",
        ),
        ("grid_worker@370725001001999", "没有这个网格"),
        (
            "department_staff@县人社局",
            "“department_staff@县人社局”：没有这个部门",
        ),
    ] {
        let r = app.json("PUT", &path, json!({ "grants": grants })).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{grants}: {}",
            r.text()
        );
        assert!(r.text().contains(says), "{grants}: {}", r.text());
    }
    let user = app.store.user(&id).await.unwrap();
    assert_eq!(user.grants.len(), 1, "nothing changed by a refused list");
}

#[tokio::test]
async fn a_role_bound_to_a_department_shows_its_name() {
    let mut app = TestApp::demo().await;
    let names = app.store.department_names().await.unwrap();
    let (id, name) = names.iter().next().expect("the demo has departments");
    let r = app
        .json("POST", "/api/users", json!({"username": "bm1"}))
        .await;
    let user = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .json(
            "PUT",
            &format!("/api/users/{user}/roles"),
            json!({ "grants": format!("department_staff@{id}") }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let users = app.get("/users").await.text();
    assert!(
        users.contains(&format!("部门工作人员（部门 {name}）")),
        "{users}"
    );
    // The roles form lists the departments' numbers to bind to.
    let page = app.get(&format!("/users/{user}")).await.text();
    assert!(
        page.contains(&format!("{name} <code>{id}</code>")),
        "{page}"
    );
    // Its staff, whose role opens nothing yet, are told why on their home page.
    app.login_new("bm2", "部门人员的密码-1", &format!("department_staff@{id}"))
        .await;
    let home = app.get("/").await.text();
    assert!(
        home.contains(&format!("您的角色：部门工作人员（部门 {name}）。")),
        "{home}"
    );
    assert!(home.contains("请联系本县（区）的安全管理员"), "{home}");
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_browsers_are_told_to_stay_on_https() {
    let mut app = TestApp::empty().await;
    let plain = app.get("/login").await;
    assert!(plain.headers.get("strict-transport-security").is_none());
    app.router = wangge_web::router(wangge_web::AppState::new(app.store.clone(), true));
    let page = app.get("/login").await;
    assert_eq!(
        page.headers.get("strict-transport-security").unwrap(),
        "max-age=31536000"
    );
    app.store
        .age_totp_step(
            &app.store.user_by_name("admin").await.unwrap().unwrap().id,
            2,
        )
        .await
        .unwrap();
    let r = app
        .form_raw("/login", &login_form("admin", PASSWORD, &totp_now(TOTP)))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let cookie = r
        .headers
        .get(axum::http::header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}

/// The account list marks a hold on revealing numbers only where it holds anything back:
/// an administrator's account sees no numbers anyway.
#[tokio::test]
async fn the_account_list_marks_only_holds_that_matter() {
    let app = TestApp::demo().await;
    for (name, grants) in [
        ("sec_new", "security_admin@370725"),
        ("grid_new", "grid_worker@370725001001001"),
    ] {
        let r = app
            .json("POST", "/api/users", json!({"username": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        let r = app
            .json(
                "PUT",
                &format!("/api/users/{id}/roles"),
                json!({ "grants": grants }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let page = app.get("/users").await.text();
    let row = |name: &str| {
        let at = page.find(&format!(">{name}</a>")).unwrap();
        page[at..at + page[at..].find("</tr>").unwrap()].to_string()
    };
    assert!(!row("sec_new").contains("核实本人"), "{}", row("sec_new"));
    assert!(
        row("grid_new").contains("待另一位安全管理员核实本人"),
        "{}",
        row("grid_new")
    );
}
