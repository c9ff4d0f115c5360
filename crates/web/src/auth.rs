//! Login, sessions, the authenticated principal, CSRF protection and the audit of requests.
//!
//! A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie; the database
//! keeps only its SHA-256, with an idle and an absolute limit. Passwords are argon2id hashes.
//! Accounts are locked after repeated failures, and each client address is rate-limited.
//! Holders of administrator roles must pass a TOTP second factor.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use wangge_domain::access::Access;
use wangge_store::{AuditEntry, SessionPolicy, Store};

use crate::SharedState;

pub const COOKIE: &str = "wangge_session";
/// The header API clients send the session's CSRF token in (see `GET /api/session`).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Sessions end after 30 minutes without a request, and 12 hours after login regardless.
pub const SESSIONS: SessionPolicy = SessionPolicy {
    idle_secs: 30 * 60,
    absolute_secs: 12 * 3600,
};
/// Five wrong passwords in a row lock an account for 15 minutes.
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_SECS: i64 = 15 * 60;
/// Twenty failed logins from one address within 15 minutes block that address for the rest
/// of the window.
pub const MAX_FAILURES_PER_CLIENT: u32 = 20;
pub const CLIENT_WINDOW_SECS: i64 = 15 * 60;
/// The longest username an account may have.
pub const MAX_USERNAME_CHARS: usize = 32;
/// Unknown usernames whose failures are counted at once (about 100 bytes each).
pub const MAX_UNKNOWN_NAMES: usize = 50_000;

/// An unknown username's (failures in a row, last failure, locked until).
type UnknownName = (i64, i64, i64);

/// Failed logins per client address: (count, window start); and, for usernames that have no
/// account, the lock an account would get — so that a lock does not tell which names exist.
#[derive(Default)]
pub struct LoginLimiter {
    clients: Mutex<HashMap<String, (u32, i64)>>,
    /// Unknown usernames' failures; and when the table was last swept.
    unknown: Mutex<(HashMap<String, UnknownName>, i64)>,
}

impl LoginLimiter {
    /// Counts a login attempt from `client` as failed before it is checked (see
    /// [`LoginLimiter::succeeded`]); false, counting nothing, when the client has failed
    /// too often in the window. Check and count are one step, so attempts sent at once
    /// cannot all pass the check.
    fn attempt(&self, client: &str, now: i64) -> bool {
        let Ok(mut m) = self.clients.lock() else {
            return true;
        };
        let e = m.entry(client.to_string()).or_insert((0, now));
        if now - e.1 >= CLIENT_WINDOW_SECS {
            *e = (0, now);
        }
        if e.0 >= MAX_FAILURES_PER_CLIENT {
            return false;
        }
        e.0 += 1;
        if m.len() > 100_000 {
            m.retain(|_, (_, start)| now - *start < CLIENT_WINDOW_SECS);
        }
        true
    }
    /// Takes back the count of an attempt that succeeded.
    fn succeeded(&self, client: &str) {
        if let Ok(mut m) = self.clients.lock()
            && let Some(e) = m.get_mut(client)
        {
            e.0 = e.0.saturating_sub(1);
        }
    }
    /// Until when an unknown username is "locked" (0 when not), as an account would be.
    fn unknown_locked_until(&self, name: &str) -> i64 {
        self.unknown
            .lock()
            .ok()
            .and_then(|m| m.0.get(name).map(|e| e.2))
            .unwrap_or(0)
    }
    /// A failed login with an unknown username, counted as `Store::login_attempt` counts an
    /// account's. Names no account can have (longer than 32 characters) are not kept; a
    /// name is forgotten a lock's length after its last failure; and at most
    /// [`MAX_UNKNOWN_NAMES`] are kept (a name past that is not counted, which an attacker
    /// filling the table gains nothing from: the client limit stops him first).
    fn unknown_failed(&self, name: &str, now: i64) {
        if name.chars().count() > MAX_USERNAME_CHARS {
            return;
        }
        if let Ok(mut guard) = self.unknown.lock() {
            let (m, swept) = &mut *guard;
            // Swept at most once a minute, so a full table costs no scan per request.
            if m.len() >= MAX_UNKNOWN_NAMES / 2 && now - *swept >= 60 {
                m.retain(|_, (_, last, until)| now - *last < LOCK_SECS || *until > now);
                *swept = now;
            }
            if m.len() >= MAX_UNKNOWN_NAMES && !m.contains_key(name) {
                return;
            }
            let e = m.entry(name.to_string()).or_insert((0, now, 0));
            if now - e.1 >= LOCK_SECS {
                e.0 = 0;
            }
            e.0 += 1;
            e.1 = now;
            if e.0 >= MAX_FAILURES {
                *e = (0, now, now + LOCK_SECS);
            }
        }
    }
}

/// Who is making a request, and what they may do.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub access: Access,
    pub csrf_token: String,
    pub two_factor_ok: bool,
    pub totp_enabled: bool,
    pub must_change_password: bool,
    /// Revealing numbers is on hold after someone else reset the password.
    pub reveal_held: bool,
    pub client: String,
}

impl Principal {
    /// The user's roles as the audit log writes them: `role@scope, …`.
    pub fn roles(&self) -> String {
        let v: Vec<String> = self
            .access
            .grants()
            .map(|g| format!("{}@{}", g.role.key(), g.scope.key))
            .collect();
        v.join(",")
    }

    /// Must this session pass a second factor before anything else?
    pub fn needs_second_factor(&self) -> bool {
        self.access.needs_two_factors() && !self.two_factor_ok
    }
}

pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route("/login", get(login_page).post(login))
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

/// [`verify_password`] on the blocking pool, at most four at a time: an argon2 check takes
/// tens of milliseconds and 19 MiB, so a flood of logins on the async workers would stall
/// every other request (two workers on a two-core server), and unbounded on the blocking
/// pool would take gigabytes.
pub(crate) async fn verify_password_async(password: &str, hash: &str) -> bool {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
    let Ok(_slot) = SLOTS.acquire().await else {
        return false;
    };
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Password rules: at least 10 characters, of at least three kinds (lower case, upper case,
/// digits, other), and not the username.
pub fn check_password(username: &str, password: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("密码至少 10 个字符".into());
    }
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if kinds < 3 {
        return Err("密码应包含小写字母、大写字母、数字、符号中的至少三类".into());
    }
    if password.to_lowercase().contains(&username.to_lowercase()) {
        return Err("密码不能包含用户名".into());
    }
    Ok(())
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rng().fill_bytes(&mut b);
    hex(&b)
}

/// A one-time password (72 random bits), to be changed at first login.
pub fn one_time_password() -> String {
    format!("Wg-{}", random_hex(9))
}

/// Creates the first administrator when there is no account yet: the password from
/// `password` (WANGGE_ADMIN_PASSWORD), else generated and returned so that it can be printed
/// once; the TOTP secret from `totp_secret` (WANGGE_ADMIN_TOTP_SECRET, base32), else enrolled
/// at first login. Once the county exists the administrator holds the setup roles on it.
pub async fn ensure_admin(
    store: &Store,
    password: Option<&str>,
    totp_secret: Option<&str>,
) -> Result<Option<String>, String> {
    let mut generated = None;
    let id = match store
        .user_by_name("admin")
        .await
        .map_err(|e| e.to_string())?
    {
        Some(u) => u.id,
        None if store.user_count().await.map_err(|e| e.to_string())? > 0 => return Ok(None),
        None => {
            let password = match password.filter(|p| !p.is_empty()) {
                Some(p) => p.to_string(),
                None => {
                    let p = one_time_password();
                    generated = Some(p.clone());
                    p
                }
            };
            let hash = hash_password(&password)?;
            let id = store
                .create_user("admin", Some("系统初始管理员"), &hash, false)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(secret) = totp_secret.filter(|s| !s.trim().is_empty()) {
                if crate::totp::base32_decode(secret).is_none() {
                    return Err("WANGGE_ADMIN_TOTP_SECRET 不是有效的 base32 字符串".into());
                }
                store
                    .set_totp(&id, Some(secret.trim()), true)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if generated.is_none() {
                generated = Some(password);
            }
            id
        }
    };
    if let Some(c) = store.county().await.map_err(|e| e.to_string())?
        && store
            .grants(&id)
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
    {
        store
            .grant_setup_roles(&id, &c.code)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(generated)
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

/// The client's address, as the connection gives it (never a header a client could forge).
pub(crate) fn client_of(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn unauthorized(api: bool) -> Response {
    if api {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Cookie realm=\"wangge\"")],
            axum::Json(serde_json::json!({"error": "未登录或登录已过期，请先登录"})),
        )
            .into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}

/// Where a user changes his password; the only page open while a one-time password is in
/// force.
pub const PASSWORD_PAGE: &str = "/account/password";
/// The API's answer while a one-time password is in force.
pub const MUST_CHANGE_PASSWORD: &str = "须先修改密码：当前密码是管理员设置的一次性密码，请先在“我的账号 › 修改密码”（/account/password）设置新密码";

/// Lets a request through only with a live session; puts its [`Principal`] on the request.
/// Without one, the API answers 401 and pages redirect to the login form. A session whose
/// password is a one-time one reaches only the password change, `/api/session` and logout
/// (pages redirect there with 303, the API answers 403). A session that owes a second factor
/// reaches only the account pages (enrolment) and logout.
pub async fn require_login(State(s): State<SharedState>, mut req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let user = match session_token(req.headers()) {
        Some(t) => s
            .store
            .session_user(&token_hash(&t), SESSIONS)
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "session lookup failed");
                None
            }),
        None => None,
    };
    let Some(u) = user else {
        if !api && req.method() == Method::GET && req.uri().path() != "/" {
            let target = format!("/login?next={}", url_escape(req.uri().path()));
            return Redirect::to(&target).into_response();
        }
        return unauthorized(api);
    };
    let p = Principal {
        user_id: u.id,
        username: u.username,
        access: u.access,
        csrf_token: u.csrf_token,
        two_factor_ok: u.two_factor_ok,
        totp_enabled: u.totp_enabled,
        must_change_password: u.must_change_password,
        reveal_held: u.reveal_held,
        client: client_of(&req),
    };
    let path = req.uri().path();
    // A one-time password (new account, reset) is changed before anything else.
    let open_to_change = path == PASSWORD_PAGE || path == "/logout" || path == "/api/session";
    if p.must_change_password && !open_to_change {
        return if api {
            (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({"error": MUST_CHANGE_PASSWORD})),
            )
                .into_response()
        } else {
            Redirect::to(PASSWORD_PAGE).into_response()
        };
    }
    let open_anyway = path.starts_with("/account") || path == "/logout" || path == "/api/session";
    if p.needs_second_factor() && !open_anyway {
        return if api {
            (
                StatusCode::FORBIDDEN,
                axum::Json(
                    serde_json::json!({"error": "管理员角色须先启用并通过两步验证（TOTP）"}),
                ),
            )
                .into_response()
        } else {
            Redirect::to("/account").into_response()
        };
    }
    req.extensions_mut().insert(p);
    next.run(req).await
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
        // A browser drops tabs and line breaks from a location, so "/\t/evil.example" would
        // go to another site: no control characters or spaces at all.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// Refuses cross-site requests: a `Sec-Fetch-Site` or `Origin` from elsewhere.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return true;
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split("://").nth(1).unwrap_or("");
        if origin == "null" || origin_host != host {
            return true;
        }
    }
    false
}

/// The `csrf` field of a form body (url-encoded or multipart).
fn csrf_in_body(content_type: &str, body: &[u8]) -> Option<String> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(body).ok()?;
        return text
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "csrf")
            .map(|(_, v)| v.to_string());
    }
    if content_type.starts_with("multipart/form-data") {
        let marker = b"name=\"csrf\"\r\n\r\n";
        let start = body.windows(marker.len()).position(|w| w == marker)? + marker.len();
        let end = body[start..].windows(2).position(|w| w == b"\r\n")? + start;
        return std::str::from_utf8(&body[start..end])
            .ok()
            .map(str::to_string);
    }
    None
}

fn forbidden(api: bool, msg: &str) -> Response {
    if api {
        (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({"error": msg})),
        )
            .into_response()
    } else {
        (StatusCode::FORBIDDEN, Html(format!("<!doctype html><meta charset=utf-8><title>拒绝</title><p>{msg}</p><p><a href=\"/\">回到总览</a></p>"))).into_response()
    }
}

/// CSRF protection for every state-changing request behind login: the request must not come
/// from another site, and must carry the session's token — in the `X-CSRF-Token` header
/// (API) or the form's `csrf` field (pages).
pub async fn require_csrf(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    let Some(p) = req.extensions().get::<Principal>().cloned() else {
        return unauthorized(api);
    };
    if cross_site(req.headers()) {
        return forbidden(api, "拒绝跨站请求");
    }
    let header_token = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if header_token.as_deref() == Some(p.csrf_token.as_str()) {
        return next.run(req).await;
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "请求过大").into_response();
    };
    if csrf_in_body(&content_type, &bytes).as_deref() != Some(p.csrf_token.as_str()) {
        return forbidden(
            api,
            "表单已过期或来源不明（缺少有效的 CSRF 令牌），请刷新页面后重试",
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether a GET shows people's records (residents, households, their visits): such reads
/// are audited like exports (PIPL: who looked at whose data).
fn reads_people(path: &str) -> bool {
    let under = |prefix: &str| path.starts_with(prefix);
    // Everything under a resident, a household or a grid (its residents, visits, special
    // groups), a compound's page and household list (numbers, addresses, members), and the
    // search by ID number.
    under("/residents/")
        || under("/api/residents/")
        || under("/households/")
        || under("/api/households/")
        || under("/grids/")
        || under("/api/grids/")
        || under("/compounds/")
        || (under("/api/compounds/") && path.ends_with("/households"))
        || under("/people/search")
}

/// Writes one audit row for every state-changing request, every export and every read of
/// people's records behind login.
pub async fn audit_requests(State(s): State<SharedState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let is_export = path.contains("/export") || path.starts_with("/api/audit/export");
    let is_read = matches!(method, Method::GET) && reads_people(&path);
    // The page asked for, when a list is paged (which residents were shown).
    let page = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find(|kv| kv.starts_with("page=")))
        .map(|kv| kv.chars().take(24).collect::<String>());
    // A reveal writes its own row (with the reason), so it is not counted twice.
    let write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !path.ends_with("/reveal");
    let principal = req.extensions().get::<Principal>().cloned();
    let res = next.run(req).await;
    if (write || is_export || is_read)
        && let Some(p) = principal
    {
        let status = res.status();
        let result = if status == StatusCode::FORBIDDEN {
            "denied".to_string()
        } else {
            status.as_u16().to_string()
        };
        let entry = AuditEntry {
            user: p.username.clone(),
            roles: p.roles(),
            action: if is_export && !write {
                format!("export {method}")
            } else if is_read {
                format!("read {method}")
            } else {
                method.to_string()
            },
            // A path is the record's address; kept short so one request cannot bloat the log.
            object: {
                let mut o: String = path.chars().take(200).collect();
                if is_read && let Some(pg) = page {
                    o = format!("{o}?{pg}");
                }
                o
            },
            client: p.client.clone(),
            result,
        };
        if let Err(e) = s.store.audit(&entry).await {
            tracing::error!(error = %e, "audit write failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "审计日志写入失败，操作结果未知，请联系管理员",
            )
                .into_response();
        }
    }
    res
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
    #[serde(default)]
    totp: String,
    next: Option<String>,
}

async fn login(State(s): State<SharedState>, req: Request) -> Response {
    let client = client_of(&req);
    let headers = req.headers().clone();
    let axum::Form(f) = match axum::Form::<LoginForm>::from_request(req, &s).await {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("登录表单有误：{e}")).into_response(),
    };
    let now = wangge_store::now_secs();
    // The name as typed goes to the audit log, cut to what an account name can be (a
    // megabyte typed there would otherwise be kept for good).
    let audit = |result: &str, user: &str| AuditEntry {
        user: if user.chars().count() > MAX_USERNAME_CHARS {
            user.chars().take(MAX_USERNAME_CHARS).chain(['…']).collect()
        } else {
            user.to_string()
        },
        roles: String::new(),
        action: "login".into(),
        object: "/login".into(),
        client: client.clone(),
        result: result.into(),
    };
    let refuse = |status: StatusCode, msg: &str, f: &LoginForm| {
        let mut res = render(&LoginPage {
            error: Some(msg.into()),
            username: f.username.clone(),
            next: safe_next(f.next.as_deref()),
        });
        *res.status_mut() = status;
        res
    };
    let username = f.username.trim().to_string();
    if cross_site(&headers) {
        let _ = s.store.audit(&audit("cross-site", &username)).await;
        return refuse(StatusCode::FORBIDDEN, "拒绝跨站登录请求", &f);
    }
    if !s.limiter.attempt(&client, now) {
        let _ = s.store.audit(&audit("client-blocked", &username)).await;
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "该地址登录失败次数过多，请 15 分钟后再试",
            &f,
        );
    }
    let user = match s.store.user_by_name(&username).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "login lookup failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "服务暂时不可用").into_response();
        }
    };
    let locked = |until: i64, f: &LoginForm| {
        let mins = (until - now + 59) / 60;
        refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("密码错误次数过多，账号已锁定，请 {mins} 分钟后再试"),
            f,
        )
    };
    let Some(user) = user else {
        // An unknown name is answered as an account would be: the same message, the same
        // time spent, and a lock after as many failures.
        let until = s.limiter.unknown_locked_until(&username);
        if until > now {
            let _ = s.store.audit(&audit("locked", &username)).await;
            return locked(until, &f);
        }
        // The write a real account's attempt costs, so that time does not tell them apart.
        if let Err(e) = s.store.login_attempt("", MAX_FAILURES, LOCK_SECS).await {
            tracing::error!(error = %e, "login failure not recorded");
        }
        let _ = verify_password_async(&f.password, DUMMY_HASH).await;
        s.limiter.unknown_failed(&username, now);
        let _ = s.store.audit(&audit("failed", &username)).await;
        return refuse(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS, &f);
    };
    if user.locked_until > now {
        let _ = s.store.audit(&audit("locked", &username)).await;
        return locked(user.locked_until, &f);
    }
    // Counted as failed before the password is checked; a success clears it.
    match s
        .store
        .login_attempt(&user.id, MAX_FAILURES, LOCK_SECS)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            let _ = s.store.audit(&audit("locked", &username)).await;
            return locked(now + LOCK_SECS, &f);
        }
        Err(e) => {
            tracing::error!(error = %e, "login attempt not recorded");
            return (StatusCode::INTERNAL_SERVER_ERROR, "服务暂时不可用").into_response();
        }
    }
    let password_ok = verify_password_async(&f.password, &user.password_hash).await;
    // The code is spent only by a login that has the password too.
    let totp_ok = match (&user.totp_secret, user.totp_enabled) {
        (Some(secret), true) if password_ok => {
            match accept_totp(&s.store, &user.id, secret, &f.totp, now).await {
                Ok(ok) => ok,
                Err(e) => {
                    tracing::error!(error = %e, "TOTP step not recorded");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "服务暂时不可用").into_response();
                }
            }
        }
        (Some(_), true) => false,
        _ => true,
    };
    // A disabled account says so only to someone who has all its factors.
    if user.disabled && password_ok && totp_ok {
        let _ = s.store.audit(&audit("disabled", &username)).await;
        return refuse(StatusCode::FORBIDDEN, "该账号已停用，请联系系统管理员", &f);
    }
    if !password_ok || !totp_ok {
        let _ = s.store.audit(&audit("failed", &username)).await;
        return refuse(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS, &f);
    }
    let token = random_hex(32);
    let csrf = random_hex(32);
    let two_factor_ok = user.totp_enabled;
    let result = async {
        s.store.login_succeeded(&user.id).await?;
        s.store
            .create_session(
                &token_hash(&token),
                &user.id,
                SESSIONS,
                two_factor_ok,
                &csrf,
            )
            .await?;
        s.store.audit(&audit("ok", &username)).await
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "session create failed");
        return (StatusCode::INTERNAL_SERVER_ERROR, "服务暂时不可用").into_response();
    }
    s.limiter.succeeded(&client);
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        SESSIONS.absolute_secs,
        if s.secure_cookies { "; Secure" } else { "" }
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&safe_next(f.next.as_deref())),
    )
        .into_response()
}

use axum::extract::FromRequest;

/// The one answer to a wrong username, password or code: it does not tell which was wrong,
/// nor whether the account exists or has a second factor.
pub const BAD_CREDENTIALS: &str = "用户名、密码或动态验证码不正确";

/// Checks a TOTP code of a user and spends its time step: a code is accepted once, and only
/// a step later than the last accepted one is. Every TOTP check goes through here.
pub(crate) async fn accept_totp(
    store: &Store,
    user_id: &str,
    secret_b32: &str,
    code: &str,
    now: i64,
) -> Result<bool, wangge_store::StoreError> {
    match crate::totp::step_of(secret_b32, code, now) {
        Some(step) => store.claim_totp_step(user_id, step).await,
        None => Ok(false),
    }
}

/// Logout everywhere: every session of the user ends.
pub(crate) async fn logout(
    State(s): State<SharedState>,
    axum::Extension(p): axum::Extension<Principal>,
) -> Response {
    if let Err(e) = s.store.end_sessions(&p.user_id).await {
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

/// Shared limiter handle for the app state.
pub type Limiter = Arc<LoginLimiter>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_login_only_local_paths_are_followed() {
        for ok in [
            "/",
            "/grids/370725001001001?page=2",
            "/people/search?q=%E7%8E%8B",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "https://evil.example",
            "evil",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn unknown_names_lock_like_accounts_and_are_forgotten() {
        let l = LoginLimiter::default();
        let t = 1_000_000;
        for i in 0..MAX_FAILURES {
            assert_eq!(l.unknown_locked_until("ghost"), 0, "not yet after {i}");
            l.unknown_failed("ghost", t);
        }
        assert_eq!(l.unknown_locked_until("ghost"), t + LOCK_SECS);
        // Failures far apart do not add up, as the table forgets a name after a lock's length.
        for k in 0..MAX_FAILURES {
            l.unknown_failed("slow", t + k * LOCK_SECS);
        }
        assert_eq!(l.unknown_locked_until("slow"), 0);
        // Names no account can have are not kept.
        l.unknown_failed(&"x".repeat(33), t);
        assert!(!l.unknown.lock().unwrap().0.contains_key(&"x".repeat(33)));
        // The table stays bounded, and old names make room for new ones.
        for i in 0..MAX_UNKNOWN_NAMES + 10 {
            l.unknown_failed(&format!("n{i}"), t);
        }
        assert!(l.unknown.lock().unwrap().0.len() <= MAX_UNKNOWN_NAMES);
        l.unknown_failed("late", t + 2 * LOCK_SECS);
        let m = &l.unknown.lock().unwrap().0;
        assert!(m.contains_key("late"));
        assert!(m.len() < 10, "old names forgotten: {}", m.len());
    }
}
