//! wangge's web edge: server-rendered pages in Chinese that work without JavaScript, and the
//! same data as JSON under `/api/`, described by `/api/openapi.json`.
//!
//! Architecture invariant: no SQL here (everything goes through `wangge_store::Store`), and no
//! domain rule here (forms are parsed by `wangge_domain`). Every route but `/login`,
//! `/healthz` and `/static/…` runs behind [`auth::require_login`], which puts the
//! authenticated [`auth::Principal`] on the request.

pub mod admin;
pub mod api;
pub mod auth;
pub mod budget;
pub mod care;
mod department_grids;
mod entity;
pub mod error;
pub mod pages;
pub mod people;
pub mod planning;
pub mod totp;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use wangge_store::Store;

pub use auth::{Principal, ensure_admin, hash_password, one_time_password};
pub use entity::Entity;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    pub limiter: auth::Limiter,
    /// The policy files budgets and findings are computed under.
    pub policies: budget::Policies,
}

impl AppState {
    pub fn new(store: Store, secure_cookies: bool) -> AppState {
        AppState {
            store,
            secure_cookies,
            limiter: Default::default(),
            policies: std::sync::Arc::new(budget::shipped_policies()),
        }
    }

    /// Adds a county's own policy files to the shipped ones; a file for the same jurisdiction
    /// and effective date as a shipped one takes its place.
    pub fn with_policies(mut self, own: Vec<wangge_domain::policy::Policy>) -> AppState {
        let mut all: Vec<_> = budget::shipped_policies()
            .into_iter()
            .filter(|p| {
                !own.iter().any(|o| {
                    o.jurisdiction_code() == p.jurisdiction_code()
                        && o.effective_from() == p.effective_from()
                })
            })
            .collect();
        all.extend(own);
        self.policies = std::sync::Arc::new(all);
        self
    }
}

pub type SharedState = Arc<AppState>;

/// Uploads (official tables) may be a few megabytes; nothing we take is larger.
pub(crate) const BODY_LIMIT: usize = 20 * 1024 * 1024;

/// A router that remembers its routes, so that tests can walk every one of them.
pub struct Routes {
    pub router: Router<SharedState>,
    pub list: Vec<(&'static str, String)>,
}

impl Routes {
    pub(crate) fn new() -> Routes {
        Routes {
            router: Router::new(),
            list: Vec::new(),
        }
    }

    /// Adds a route served for `methods`.
    pub(crate) fn route(
        mut self,
        path: &str,
        methods: &[&'static str],
        handler: axum::routing::MethodRouter<SharedState>,
    ) -> Routes {
        self.router = self.router.route(path, handler);
        self.list
            .extend(methods.iter().map(|m| (*m, path.to_string())));
        self
    }

    pub(crate) fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }
}

fn protected_routes() -> Routes {
    pages::routes()
        .merge(api::routes())
        .merge(admin::routes())
        .merge(budget::routes())
        .merge(planning::routes())
        .merge(people::routes())
        .merge(care::routes())
        .merge(department_grids::routes())
}

/// Every route behind login, as (method, path template).
pub fn protected_route_list() -> Vec<(&'static str, String)> {
    protected_routes().list
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let state = Arc::new(state);
    // Behind login, outermost first: the session check, the audit of writes and exports
    // (refused ones too), then CSRF protection, then the handler.
    let protected = protected_routes()
        .router
        .route_layer(middleware::from_fn(auth::require_csrf))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::audit_requests,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_login,
        ));
    Router::new()
        .merge(protected)
        .merge(auth::routes())
        .route("/healthz", get(healthz))
        .route("/static/style.css", get(style))
        .route("/static/app.js", get(script))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(framework_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

async fn healthz(axum::extract::State(s): axum::extract::State<SharedState>) -> impl IntoResponse {
    match s.store.ping().await {
        Ok(()) => (
            axum::http::StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "database": s.store.backend()})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable"})),
            )
        }
    }
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    error::framework_error(
        uri.path().starts_with("/api/"),
        axum::http::StatusCode::NOT_FOUND,
        "",
    )
}

/// The framework's own rejections come as English plain text; they are given again in the
/// product's Chinese error forms (see [`error::framework_error`]).
async fn framework_errors(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let empty_405 = status == axum::http::StatusCode::METHOD_NOT_ALLOWED
        && res.headers().get(header::CONTENT_TYPE).is_none();
    if !(status.is_client_error() && (plain || empty_405)) {
        return res;
    }
    let body = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    error::framework_error(api, status, &String::from_utf8_lossy(&body))
}

fn set_static(h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str) {
    h.entry(k).or_insert(HeaderValue::from_static(v));
}

async fn security_headers(
    axum::extract::State(s): axum::extract::State<SharedState>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Served behind HTTPS (the operator said so with --secure-cookies): browsers are told to
    // come back only over HTTPS for a year, so a session cookie is never sent in clear.
    if s.secure_cookies {
        set_static(h, "strict-transport-security", "max-age=31536000");
    }
    set_static(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set_static(h, "x-content-type-options", "nosniff");
    set_static(h, "referrer-policy", "same-origin");
    set_static(h, "x-frame-options", "DENY");
    // Pages and answers may carry personal data: never cached, unless a handler says so
    // (the static assets do).
    set_static(h, "cache-control", "no-store");
    res
}
