//! Login, sessions and the authenticated principal.
//!
//! A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie; the database
//! keeps only its SHA-256. Passwords are argon2id hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use wangge_store::Store;

use crate::SharedState;

pub const COOKIE: &str = "wangge_session";
/// Sessions last a working day.
const SESSION_SECS: i64 = 12 * 3600;

/// Who is making a request. Roles and scopes will hang here.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
}

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the first administrator when there is no account yet. The password comes from
/// `WANGGE_ADMIN_PASSWORD`, else it is generated and returned so that it can be printed once.
pub async fn ensure_admin(store: &Store, password: Option<&str>) -> Result<Option<String>, String> {
    if store.user_count().await.map_err(|e| e.to_string())? > 0 {
        return Ok(None);
    }
    let generated;
    let password = match password.filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => {
            let mut b = [0u8; 12];
            rand::rng().fill_bytes(&mut b);
            generated = hex(&b);
            &generated
        }
    };
    let hash = hash_password(password)?;
    store
        .create_user("admin", &hash)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(password.to_string()))
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Lets a request through only with a live session; puts its [`Principal`] on the request.
/// Without one, the API answers 401 and pages redirect to the login form.
pub async fn require_login(State(s): State<SharedState>, mut req: Request, next: Next) -> Response {
    let user = match session_token(req.headers()) {
        Some(t) => s
            .store
            .session_user(&token_hash(&t))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "session lookup failed");
                None
            }),
        None => None,
    };
    match user {
        Some(u) => {
            req.extensions_mut().insert(Principal {
                user_id: u.id,
                username: u.username,
            });
            next.run(req).await
        }
        None if req.uri().path().starts_with("/api/") => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Cookie realm=\"wangge\"")],
            axum::Json(serde_json::json!({"error": "未登录或登录已过期，请先登录"})),
        )
            .into_response(),
        None => {
            let next_path = req.uri().path();
            let target = if req.method() == axum::http::Method::GET && next_path != "/" {
                format!("/login?next={}", url_escape(next_path))
            } else {
                "/login".to_string()
            };
            Redirect::to(&target).into_response()
        }
    }
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only local paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    username: String,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

async fn login_page(Query(q): Query<NextQuery>) -> Response {
    render(&LoginPage {
        error: None,
        username: String::new(),
        next: safe_next(q.next.as_deref()),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(State(s): State<SharedState>, Form(f): Form<LoginForm>) -> Response {
    let user = match s.store.user_by_name(f.username.trim()).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "login lookup failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "服务暂时不可用").into_response();
        }
    };
    let ok = match &user {
        Some(u) if !u.disabled => verify_password(&f.password, &u.password_hash),
        _ => {
            // Spend the same time as a real check, so that timing does not tell which
            // usernames exist.
            let _ = verify_password(&f.password, DUMMY_HASH);
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        tracing::info!("login failed");
        let mut res = render(&LoginPage {
            error: Some("用户名或密码不正确".into()),
            username: f.username,
            next: safe_next(f.next.as_deref()),
        });
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return res;
    };
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex(&raw);
    if let Err(e) = s
        .store
        .create_session(&token_hash(&token), &user.id, SESSION_SECS)
        .await
    {
        tracing::error!(error = %e, "session create failed");
        return (StatusCode::INTERNAL_SERVER_ERROR, "服务暂时不可用").into_response();
    }
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECS}{}",
        if s.secure_cookies { "; Secure" } else { "" }
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&safe_next(f.next.as_deref())),
    )
        .into_response()
}

async fn logout(State(s): State<SharedState>, headers: HeaderMap) -> Response {
    if let Some(t) = session_token(&headers)
        && let Err(e) = s.store.delete_session(&token_hash(&t)).await
    {
        tracing::error!(error = %e, "logout failed");
    }
    (
        [(
            header::SET_COOKIE,
            format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        )],
        Redirect::to("/login"),
    )
        .into_response()
}

/// An argon2 hash of a random string, verified against when the user does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0nMN2W1V4kRgX0PzIoeGuGJZ9r1fR1+8Fg4Q3nJgL1I";

pub(crate) fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败").into_response()
        }
    }
}
