//! The real router on a real database per test: SQLite in a temporary directory, or a scratch
//! PostgreSQL database when `WANGGE_TEST_DATABASE_URL` is set (dropped when the test ends).

#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wangge_store::{DbOptions, Store};

pub const PASSWORD: &str = "test-password-1";
/// The first administrator's TOTP secret (as WANGGE_ADMIN_TOTP_SECRET would set it).
pub const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The current code of a base32 secret.
pub fn totp_now(secret: &str) -> String {
    let raw = wangge_web::totp::base32_decode(secret).unwrap();
    wangge_web::totp::code_at(&raw, wangge_store::now_secs())
}

pub struct TestApp {
    pub store: Store,
    pub router: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub dir: tempfile::TempDir,
    scratch: Option<(String, String)>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

impl TestApp {
    /// An empty registry with the administrator account, not logged in.
    pub async fn empty() -> TestApp {
        TestApp::with(false).await
    }

    async fn with(demo: bool) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (url, scratch) = match std::env::var("WANGGE_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => {
                let (url, name) = wangge_store::scratch::create(&base, "wangge_test")
                    .await
                    .expect("create scratch database");
                (Some(url), Some((base, name)))
            }
            _ => (None, None),
        };
        let store = Store::open(&DbOptions {
            data_dir: dir.path().into(),
            database_url: url,
        })
        .await
        .expect("open store")
        .with_keys(
            wangge_store::Keyring::parse("test", &wangge_store::Keyring::generate()).unwrap(),
        );
        if demo {
            assert!(wangge_web::budget::load_demo(&store).await.unwrap());
        }
        wangge_web::ensure_admin(&store, Some(PASSWORD), Some(TOTP))
            .await
            .unwrap();
        let router = wangge_web::router(wangge_web::AppState::new(store.clone(), false));
        TestApp {
            store,
            router,
            cookie: None,
            csrf: None,
            dir,
            scratch,
        }
    }

    /// Logged in, with the county 370725 and no streets.
    pub async fn with_county() -> TestApp {
        let mut app = TestApp::empty().await;
        app.login().await;
        let r = app
            .send(
                "PUT",
                "/api/county",
                Some(r#"{"code":"370725","name":"昌乐县"}"#),
                "application/json",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        app
    }

    /// Logged in as the administrator, with the demo county.
    pub async fn demo() -> TestApp {
        let mut app = TestApp::with(true).await;
        app.login().await;
        app
    }

    /// The demo county, not logged in.
    pub async fn demo_logged_out() -> TestApp {
        TestApp::with(true).await
    }

    pub async fn login(&mut self) {
        self.login_as("admin", PASSWORD, &totp_now(TOTP)).await;
    }

    /// Logs in (password and, when enrolled, TOTP) and keeps the session and its CSRF token.
    /// A TOTP code is accepted once: the user's last accepted one is first made a minute old,
    /// as if the user had waited for the next code.
    pub async fn login_as(&mut self, user: &str, password: &str, totp: &str) {
        self.cookie = None;
        if !totp.is_empty()
            && let Some(u) = self.store.user_by_name(user).await.unwrap()
        {
            self.store.age_totp_step(&u.id, 2).await.unwrap();
        }
        let r = self
            .form_raw(
                "/login",
                &[("username", user), ("password", password), ("totp", totp)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let cookie = r
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_string();
        self.cookie = Some(cookie);
        let session = self.get("/api/session").await.json();
        self.csrf = session["csrf_token"].as_str().map(str::to_string);
    }

    /// Creates a user with this password and these grants ("role@scope, …", as the roles
    /// form takes them), and logs in as him.
    pub async fn login_new(&mut self, name: &str, password: &str, grants: &str) {
        self.new_user(name, password, grants).await;
        self.login_as(name, password, "").await;
    }

    /// [`TestApp::login_new`] for an account with a second factor (administrators' roles
    /// need one): enrolled with `secret`, logged in with its current code. Returns its id.
    pub async fn login_new_with_totp(
        &mut self,
        name: &str,
        password: &str,
        grants: &str,
        secret: &str,
    ) -> String {
        let id = self.new_user(name, password, grants).await;
        self.store.set_totp(&id, Some(secret), true).await.unwrap();
        self.login_as(name, password, &totp_now(secret)).await;
        id
    }

    /// A user with this password and these grants; his id.
    async fn new_user(&self, name: &str, password: &str, grants: &str) -> String {
        let hash = wangge_web::hash_password(password).unwrap();
        let id = self
            .store
            .create_user(name, None, &hash, false)
            .await
            .unwrap();
        self.store
            .set_grants(&id, &wangge_web::admin::parse_grants(grants).unwrap())
            .await
            .unwrap();
        id
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        content_type: &str,
    ) -> Reply {
        self.send_bytes(
            method,
            path,
            body.map(|b| b.as_bytes().to_vec()),
            content_type,
        )
        .await
    }

    pub async fn send_bytes(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(t) = &self.csrf
            && path.starts_with("/api/")
        {
            req = req.header("x-csrf-token", t);
        }
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, content_type);
        }
        let req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, "").await
    }

    pub async fn json(&self, method: &str, path: &str, body: Value) -> Reply {
        self.send(method, path, Some(&body.to_string()), "application/json")
            .await
    }

    /// A form post with the session's CSRF token, as the pages send it.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.form_raw(path, &all).await
    }

    /// A form post exactly as given.
    pub async fn form_raw(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        self.send(
            "POST",
            path,
            Some(&body.join("&")),
            "application/x-www-form-urlencoded",
        )
        .await
    }

    /// The overview as JSON, to compare states before and after.
    pub async fn overview(&self) -> Value {
        let r = self.get("/api/overview").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((base, name)) = self.scratch.take() {
            // Close our pool first, then drop the database, on a runtime of its own.
            let store = self.store.clone();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    drop(store);
                    let _ = wangge_store::scratch::drop(&base, &name).await;
                });
            })
            .join();
        }
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
