//! The account's own security: a TOTP code is accepted once.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, TOTP, TestApp, totp_now};

/// The code of a base32 secret `steps` time steps from now.
fn totp_at(secret: &str, steps: i64) -> String {
    let raw = wangge_web::totp::base32_decode(secret).unwrap();
    wangge_web::totp::code_at(&raw, wangge_store::now_secs() + steps * 30)
}

fn login_form<'a>(user: &'a str, password: &'a str, code: &'a str) -> [(&'a str, &'a str); 3] {
    [("username", user), ("password", password), ("totp", code)]
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
