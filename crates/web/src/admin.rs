//! Accounts (system administrator), roles and the permission table (security administrator),
//! the audit log (audit administrator), and each user's own account: password, two-factor
//! enrolment, logout everywhere. Pages and their JSON twins.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Form, Json};
use serde::Deserialize;
use serde_json::json;
use wangge_domain::access::{
    ADMIN_PERMISSIONS, ADMIN_ROLES, Grant, Permission, Role, Scope, ScopeKind, default_permissions,
};
use wangge_domain::registry::FieldErrors;
use wangge_store::{AuditCheck, AuditEntry, AuditFilter, AuditRow, User};

use crate::auth::{check_password, hash_password, render, verify_password_async};
use crate::error::{ApiError, AppError, PageError};
use crate::pages::{Crumb, Me};
use crate::{Principal, SharedState};

pub(crate) fn routes() -> crate::Routes {
    crate::Routes::new()
        .route("/logout", &["POST"], post(crate::auth::logout))
        .route("/account", &["GET"], get(account))
        .route(
            "/account/password",
            &["GET", "POST"],
            get(password_page).post(change_password),
        )
        .route("/account/totp", &["POST"], post(totp_begin))
        .route("/account/totp/confirm", &["POST"], post(totp_confirm))
        .route(
            "/users",
            &["GET", "POST"],
            get(users).post(create_user_page),
        )
        .route("/users/{id}", &["GET"], get(user_page))
        .route("/users/{id}/roles", &["POST"], post(set_roles_page))
        .route("/users/{id}/disable", &["POST"], post(disable_page))
        .route("/users/{id}/enable", &["POST"], post(enable_page))
        .route("/users/{id}/password", &["POST"], post(reset_page))
        .route("/users/{id}/release-reveal", &["POST"], post(release_page))
        .route("/users/{id}/totp-reset", &["POST"], post(totp_reset_page))
        .route(
            "/permissions",
            &["GET", "POST"],
            get(permissions).post(set_permissions_page),
        )
        .route("/audit", &["GET"], get(audit))
        .route("/audit/export.csv", &["GET"], get(audit_export))
        .route("/api/session", &["GET"], get(api_session))
        .route(
            "/api/users",
            &["GET", "POST"],
            get(api_users).post(api_create_user),
        )
        .route("/api/users/{id}", &["GET"], get(api_user))
        .route("/api/users/{id}/roles", &["PUT"], put(api_set_roles))
        .route("/api/users/{id}/disable", &["POST"], post(api_disable))
        .route("/api/users/{id}/enable", &["POST"], post(api_enable))
        .route("/api/users/{id}/password", &["POST"], post(api_reset))
        .route(
            "/api/users/{id}/release-reveal",
            &["POST"],
            post(api_release),
        )
        .route(
            "/api/users/{id}/totp-reset",
            &["POST"],
            post(api_totp_reset),
        )
        .route(
            "/api/permissions",
            &["GET", "PUT"],
            get(api_permissions).put(api_set_permissions),
        )
        .route("/api/audit", &["GET"], get(api_audit))
        .route("/api/audit/verify", &["GET"], get(api_audit_verify))
}

fn need(p: &Principal, perm: Permission) -> Result<(), AppError> {
    if p.access.can_somewhere(perm) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "无权进行此操作：需要“{}”权限",
            perm.label()
        )))
    }
}

fn crumbs(label: &str, href: &str) -> Vec<Crumb> {
    vec![
        Crumb {
            label: "总览".into(),
            href: "/".into(),
        },
        Crumb {
            label: label.into(),
            href: href.into(),
        },
    ]
}

fn field_error(field: &str, msg: impl Into<String>) -> AppError {
    let mut f = FieldErrors::new();
    f.insert(field.into(), msg.into());
    AppError::Invalid(f)
}

/// `role@scope` lines, e.g. `grid_worker@370725001001003`, `department_staff@<id>`.
pub fn parse_grants(text: &str) -> Result<Vec<Grant>, AppError> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .flat_map(|l| l.split([',', '，']))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let (role, key) = line.split_once('@').ok_or_else(|| {
            field_error("grants", format!("第 {} 项“{line}”应写作 角色@范围", i + 1))
        })?;
        let role = Role::parse(role).map_err(|e| field_error("grants", e.to_string()))?;
        let key = key.trim();
        let kind = role
            .scope_kinds()
            .iter()
            .copied()
            .find(|k| match k {
                ScopeKind::County => key.len() == 6,
                ScopeKind::Street => key.len() == 9,
                ScopeKind::Community => key.len() == 12,
                ScopeKind::Grid => key.len() == 15,
                ScopeKind::Department => true,
            })
            .ok_or_else(|| {
                field_error(
                    "grants",
                    format!(
                        "“{line}”：{}只能绑定到{}",
                        role.label(),
                        role.scope_kinds()
                            .iter()
                            .map(|k| k.label())
                            .collect::<Vec<_>>()
                            .join("或")
                    ),
                )
            })?;
        let scope = Scope::parse(kind, key).map_err(|m| field_error("grants", m))?;
        out.push(Grant::new(role, scope).map_err(|m| field_error("grants", m))?);
    }
    Ok(out)
}

/// Where a role applies, as a user reads it: a place's kind and code, or a department's name.
pub(crate) fn scope_text(g: &Grant, departments: &HashMap<String, String>) -> String {
    match g.scope.kind {
        ScopeKind::Department => format!(
            "部门 {}",
            departments
                .get(&g.scope.key)
                .map_or(g.scope.key.as_str(), String::as_str)
        ),
        kind => format!("{} {}", kind.label(), g.scope.key),
    }
}

impl UsersView {
    fn scope(&self, g: &Grant) -> String {
        scope_text(g, &self.departments)
    }

    /// Whether an account's reveal hold keeps it from anything: not for one that holds only
    /// administrators' roles, which see no numbers anyway.
    fn held(&self, u: &wangge_store::User) -> bool {
        u.reveal_held && u.grants.iter().any(|g| !ADMIN_ROLES.contains(&g.role))
    }
}

impl AccountView {
    fn scope(&self, g: &Grant) -> String {
        scope_text(g, &self.departments)
    }
}

fn grants_text(grants: &[Grant]) -> String {
    grants
        .iter()
        .map(|g| format!("{}@{}", g.role.key(), g.scope.key))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- own account ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account.html")]
struct AccountView {
    me: Me,
    crumbs: Vec<Crumb>,
    user: User,
    departments: HashMap<String, String>,
    needs_second_factor: bool,
    enrol_secret: Option<String>,
    enrol_uri: Option<String>,
    /// The enrolment address as a QR code: its width in modules and the path of its dark ones.
    enrol_qr: Option<(i32, String)>,
    message: Option<String>,
    error: Option<String>,
}

async fn account_view(
    s: &SharedState,
    p: &Principal,
    enrol: Option<String>,
    message: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let user = s.store.user(&p.user_id).await?;
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut res = render(&AccountView {
        me: Me::of(p),
        crumbs: crumbs("我的账号", "/account"),
        needs_second_factor: p.needs_second_factor(),
        enrol_qr: enrol
            .as_deref()
            .and_then(|sec| crate::totp::qr_path(&crate::totp::otpauth_uri(sec, &user.username))),
        enrol_uri: enrol
            .as_deref()
            .map(|sec| crate::totp::otpauth_uri(sec, &user.username)),
        enrol_secret: enrol,
        user,
        departments: s.store.department_names().await?,
        message,
        error,
    });
    *res.status_mut() = status;
    Ok(res)
}

async fn account(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, PageError> {
    account_view(&s, &p, None, None, None).await
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    /// The new password again (the form asks for it: a typo would lock the user out until
    /// an administrator resets it).
    #[serde(default)]
    again: Option<String>,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordView {
    me: Me,
    crumbs: Vec<Crumb>,
    must_change: bool,
    done: bool,
    message: Option<String>,
    error: Option<String>,
}

/// The password change page; with an error, 422 and the form again.
async fn password_view(
    s: &SharedState,
    p: &Principal,
    message: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let user = s.store.user(&p.user_id).await?;
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut res = render(&PasswordView {
        me: Me::of(p),
        crumbs: crumbs("修改密码", crate::auth::PASSWORD_PAGE),
        must_change: user.must_change_password,
        done: message.is_some(),
        message,
        error,
    });
    *res.status_mut() = status;
    Ok(res)
}

async fn password_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, PageError> {
    password_view(&s, &p, None, None).await
}

async fn change_password(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let user = s.store.user(&p.user_id).await?;
    if f.again.as_deref().is_some_and(|again| again != f.new) {
        return password_view(&s, &p, None, Some("两次输入的新密码不一致".into())).await;
    }
    // Wrong current passwords count as failed logins do: whoever holds a session gets no
    // more guesses here than at the login page.
    if !s
        .store
        .login_attempt(
            &p.user_id,
            crate::auth::MAX_FAILURES,
            crate::auth::LOCK_SECS,
        )
        .await?
    {
        return password_view(
            &s,
            &p,
            None,
            Some(format!(
                "当前密码错误次数过多，请 {} 分钟后再试",
                crate::auth::LOCK_SECS / 60
            )),
        )
        .await;
    }
    if !verify_password_async(&f.current, &user.password_hash).await {
        return password_view(&s, &p, None, Some("当前密码不正确".into())).await;
    }
    s.store.login_succeeded(&p.user_id).await?;
    // The current password is right, so a new one equal to it is the current one.
    if f.new == f.current {
        return password_view(&s, &p, None, Some("新密码不能与当前密码相同".into())).await;
    }
    if let Err(m) = check_password(&user.username, &f.new) {
        return password_view(&s, &p, None, Some(m)).await;
    }
    let hash = hash_password(&f.new).map_err(|_| AppError::Internal)?;
    s.store.set_password(&p.user_id, &hash, false).await?;
    // Sessions opened elsewhere with the old password end; this one goes on.
    s.store
        .end_other_sessions(&p.user_id, &p.csrf_token)
        .await?;
    password_view(
        &s,
        &p,
        Some("密码已修改，其他设备上的登录已退出".into()),
        None,
    )
    .await
}

/// Starts enrolment: a new secret, shown once, not yet in force.
async fn totp_begin(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, PageError> {
    let mut raw = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    let secret = crate::totp::base32_encode(&raw);
    let user = s.store.user(&p.user_id).await?;
    if user.totp_enabled {
        return account_view(
            &s,
            &p,
            None,
            None,
            Some("两步验证已启用；如需更换，请联系安全管理员重置".into()),
        )
        .await;
    }
    s.store.set_totp(&p.user_id, Some(&secret), false).await?;
    account_view(&s, &p, Some(secret), None, None).await
}

#[derive(Deserialize)]
struct TotpForm {
    code: String,
}

/// Finishes enrolment with a code from the new secret; the session counts as verified.
async fn totp_confirm(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    headers: axum::http::HeaderMap,
    Form(f): Form<TotpForm>,
) -> Result<Response, PageError> {
    let user = s.store.user(&p.user_id).await?;
    let Some(secret) = user.totp_secret.clone().filter(|_| !user.totp_enabled) else {
        return account_view(&s, &p, None, None, Some("请先点击“启用两步验证”".into())).await;
    };
    let now = wangge_store::now_secs();
    if !crate::auth::accept_totp(&s.store, &p.user_id, &secret, &f.code, now).await? {
        return account_view(
            &s,
            &p,
            Some(secret),
            None,
            Some("动态验证码不正确，请核对手机时间后重试".into()),
        )
        .await;
    }
    s.store.set_totp(&p.user_id, Some(&secret), true).await?;
    if let Some(token) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| {
            c.split(';')
                .filter_map(|kv| kv.trim().split_once('='))
                .find(|(k, _)| *k == crate::auth::COOKIE)
                .map(|(_, v)| v.to_string())
        })
    {
        s.store
            .session_two_factor_ok(&crate::auth::token_hash(&token))
            .await?;
    }
    Ok(Redirect::to("/account").into_response())
}

// ---- accounts ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "users.html")]
struct UsersView {
    me: Me,
    crumbs: Vec<Crumb>,
    users: Vec<User>,
    departments: HashMap<String, String>,
    /// The system administrator creates accounts; the security administrator, who gives
    /// roles, sees the list to find them.
    can_create: bool,
    /// Accounts holding more than one of the three administrators' roles (the first
    /// administrator's setup roles, until split): (username, the roles).
    combined: Vec<(String, String)>,
    error: Option<String>,
    created: Option<(String, String)>,
    username: String,
}

async fn users_view(
    s: &SharedState,
    p: &Principal,
    error: Option<String>,
    created: Option<(String, String)>,
    username: String,
) -> Result<Response, PageError> {
    let can_create = p.access.can_somewhere(Permission::UserManage);
    if !(can_create || p.access.can_somewhere(Permission::RoleManage)) {
        return Err(AppError::Forbidden("无权查看账号".into()).into());
    }
    let users = s.store.users().await?;
    let combined = combined_admins(&users);
    let mut res = render(&UsersView {
        me: Me::of(p),
        crumbs: crumbs("账号", "/users"),
        combined,
        users,
        departments: s.store.department_names().await?,
        can_create,
        created,
        error: error.clone(),
        username,
    });
    if error.is_some() {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn users(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, PageError> {
    users_view(&s, &p, None, None, String::new()).await
}

#[derive(Deserialize)]
struct NewUserForm {
    username: String,
    #[serde(default)]
    display_name: String,
}

/// Creates an account with a one-time password, shown once; it must be changed at first
/// login. Roles are given by the security administrator.
async fn create_account(
    s: &SharedState,
    p: &Principal,
    username: &str,
    display_name: &str,
) -> Result<(String, String), AppError> {
    let username = username.trim();
    if username.is_empty()
        || username.chars().count() > crate::auth::MAX_USERNAME_CHARS
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    {
        return Err(field_error(
            "username",
            "用户名应为 1–32 位字母、数字或 _ . -",
        ));
    }
    let password = crate::auth::one_time_password();
    let hash = hash_password(&password).map_err(|_| AppError::Internal)?;
    let display = display_name.trim();
    let id = s
        .store
        .create_user(
            username,
            (!display.is_empty()).then_some(display),
            &hash,
            true,
        )
        .await?;
    s.store.set_reset_by(&id, &p.user_id).await?;
    Ok((id, password))
}

async fn create_user_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Form(f): Form<NewUserForm>,
) -> Result<Response, PageError> {
    need(&p, Permission::UserManage)?;
    match create_account(&s, &p, &f.username, &f.display_name).await {
        Ok((_, password)) => {
            users_view(
                &s,
                &p,
                None,
                Some((f.username.trim().to_string(), password)),
                String::new(),
            )
            .await
        }
        Err(AppError::Invalid(e)) => {
            users_view(
                &s,
                &p,
                Some(e.values().cloned().collect::<Vec<_>>().join("；")),
                None,
                f.username,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserView {
    me: Me,
    crumbs: Vec<Crumb>,
    user: User,
    /// (name, id) of each department, for department_staff@id lines.
    department_ids: Vec<(String, String)>,
    grants: String,
    roles: Vec<(String, String, String)>,
    error: Option<String>,
    password: Option<String>,
    /// The system administrator's actions (disable, enable, reset password).
    may_manage: bool,
    /// The security administrator's (roles, release the hold, clear a second factor).
    may_secure: bool,
}

async fn user_view(
    s: &SharedState,
    p: &Principal,
    id: &str,
    grants: Option<String>,
    error: Option<String>,
    password: Option<String>,
) -> Result<Response, PageError> {
    if !(p.access.can_somewhere(Permission::UserManage)
        || p.access.can_somewhere(Permission::RoleManage))
    {
        return Err(AppError::Forbidden("无权查看账号".into()).into());
    }
    let user = s.store.user(id).await?;
    let mut res = render(&UserView {
        me: Me::of(p),
        crumbs: crumbs("账号", "/users"),
        grants: grants.unwrap_or_else(|| grants_text(&user.grants)),
        department_ids: {
            let mut v: Vec<(String, String)> = s
                .store
                .department_names()
                .await?
                .into_iter()
                .map(|(id, name)| (name, id))
                .collect();
            v.sort();
            v
        },
        roles: Role::ALL
            .iter()
            .map(|r| {
                (
                    r.key().to_string(),
                    r.label().to_string(),
                    r.scope_kinds()
                        .iter()
                        .map(|k| k.label())
                        .collect::<Vec<_>>()
                        .join("、"),
                )
            })
            .collect(),
        user,
        error: error.clone(),
        password,
        may_manage: p.access.can_somewhere(Permission::UserManage),
        may_secure: p.access.can_somewhere(Permission::RoleManage),
    });
    if error.is_some() {
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn user_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    user_view(&s, &p, &id, None, None, None).await
}

#[derive(Deserialize)]
struct RolesForm {
    #[serde(default)]
    grants: String,
}

async fn set_roles(s: &SharedState, p: &Principal, id: &str, text: &str) -> Result<(), AppError> {
    need(p, Permission::RoleManage)?;
    if id == p.user_id {
        // Nobody widens their own powers: another security administrator changes them.
        return Err(AppError::Forbidden(
            "不能修改自己的角色，请由另一位安全管理员操作（三员分立）".into(),
        ));
    }
    let grants = parse_grants(text)?;
    let user = s.store.user(id).await?;
    let same = |a: &[Grant], b: &[Grant]| {
        let key = |g: &Grant| (g.role, g.scope.kind, g.scope.key.clone());
        let a: BTreeSet<_> = a.iter().map(key).collect();
        let b: BTreeSet<_> = b.iter().map(key).collect();
        a == b
    };
    if same(&user.grants, &grants) {
        // Nothing changes: no audit row, and the user stays logged in.
        return Ok(());
    }
    s.store.set_grants(id, &grants).await?;
    // New roles take effect at the next login.
    s.store.end_sessions(id).await?;
    let text = |g: &[Grant]| {
        let v: Vec<String> = g
            .iter()
            .map(|g| format!("{}@{}", g.role.key(), g.scope.key))
            .collect();
        if v.is_empty() {
            "无".to_string()
        } else {
            v.join(",")
        }
    };
    audit_change(
        s,
        p,
        "roles",
        format!(
            "user:{} {} → {}",
            user.username,
            text(&user.grants),
            text(&grants)
        ),
    )
    .await
}

/// The audit row of a change to who may do what, with what it was and what it became (the
/// request row names only the route).
async fn audit_change(
    s: &SharedState,
    p: &Principal,
    action: &str,
    object: String,
) -> Result<(), AppError> {
    s.store
        .audit(&AuditEntry {
            user: p.username.clone(),
            roles: p.roles(),
            action: action.into(),
            object,
            client: p.client.clone(),
            result: "ok".into(),
        })
        .await?;
    Ok(())
}

/// Saves the role → permission table. Nobody changes the rows of a role they hold (that would
/// widen their own powers, as changing their own roles would), and the audit row lists the
/// cells added and removed.
async fn save_permissions(
    s: &SharedState,
    p: &Principal,
    table: &[(Role, Permission)],
) -> Result<(), AppError> {
    need(p, Permission::RoleManage)?;
    // A table that breaks 三员分立 is wrong whoever sends it (422, before asking who).
    wangge_domain::access::check_permission_table(table)
        .map_err(|m| field_error("permission", m))?;
    let old: BTreeSet<(Role, Permission)> = s.store.permission_table().await?.into_iter().collect();
    // The same cell twice (or by its label and its key) is one cell.
    let new: BTreeSet<(Role, Permission)> = table.iter().copied().collect();
    let table: Vec<(Role, Permission)> = new.iter().copied().collect();
    let table = table.as_slice();
    let added: Vec<_> = new.difference(&old).collect();
    let removed: Vec<_> = old.difference(&new).collect();
    if let Some((r, _)) = added
        .iter()
        .chain(&removed)
        .find(|(r, _)| p.access.has_role(*r))
    {
        return Err(AppError::Forbidden(format!(
            "不能修改自己所持角色（{}）的权限，请由另一位安全管理员操作（三员分立）",
            r.label()
        )));
    }
    s.store.set_permission_table(table).await?;
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    let cells = |sign: char, v: &[&(Role, Permission)]| -> Vec<String> {
        v.iter()
            .map(|(r, perm)| format!("{sign}{}|{}", r.key(), perm.key()))
            .collect()
    };
    let mut changes = cells('+', &added);
    changes.extend(cells('-', &removed));
    audit_change(s, p, "permissions", changes.join(" ")).await
}

async fn set_roles_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<RolesForm>,
) -> Result<Response, PageError> {
    match set_roles(&s, &p, &id, &f.grants).await {
        Ok(()) => Ok(Redirect::to(&format!("/users/{id}")).into_response()),
        Err(AppError::Invalid(e)) => {
            user_view(
                &s,
                &p,
                &id,
                Some(f.grants),
                Some(e.values().cloned().collect::<Vec<_>>().join("；")),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_disabled(
    s: &SharedState,
    p: &Principal,
    id: &str,
    disabled: bool,
) -> Result<(), AppError> {
    need(p, Permission::UserManage)?;
    if disabled && id == p.user_id {
        return Err(AppError::Conflict("不能停用自己的账号".into()));
    }
    s.store.user(id).await?;
    s.store.set_disabled(id, disabled).await?;
    Ok(())
}

async fn disable_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    set_disabled(&s, &p, &id, true).await?;
    Ok(Redirect::to(&format!("/users/{id}")).into_response())
}

async fn enable_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    set_disabled(&s, &p, &id, false).await?;
    Ok(Redirect::to(&format!("/users/{id}")).into_response())
}

/// Resets a password to a one-time one (shown once), ends the user's sessions and clears a
/// lockout.
async fn reset(s: &SharedState, p: &Principal, id: &str) -> Result<String, AppError> {
    need(p, Permission::UserManage)?;
    let user = s.store.user(id).await?;
    // The other order of the same pair: whoever took away the second factor would, with a
    // password of his choosing, hold the account alone.
    if user.totp_reset_by.as_deref() == Some(p.user_id.as_str()) {
        return Err(AppError::Forbidden(
            "您清除了该账号的两步验证，在本人重新绑定之前，不能再由您重置其密码，请由另一位系统管理员操作（三员分立）"
                .into(),
        ));
    }
    let password = crate::auth::one_time_password();
    let hash = hash_password(&password).map_err(|_| AppError::Internal)?;
    s.store.reset_password(id, &hash, &p.user_id).await?;
    Ok(password)
}

async fn reset_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let password = reset(&s, &p, &id).await?;
    user_view(&s, &p, &id, None, None, Some(password)).await
}

/// The accounts holding more than one of the three administrators' roles, with them:
/// (username, "系统管理员、安全管理员"). Disabled ones too: an account is enabled again in a
/// moment, roles and all.
fn combined_admins(users: &[wangge_store::User]) -> Vec<(String, String)> {
    users
        .iter()
        .filter_map(|u| {
            let held: BTreeSet<Role> = u
                .grants
                .iter()
                .map(|g| g.role)
                .filter(|r| ADMIN_ROLES.contains(r))
                .collect();
            (held.len() > 1).then(|| {
                let names: Vec<&str> = held.iter().map(|r| r.label()).collect();
                (u.username.clone(), names.join("、"))
            })
        })
        .collect()
}

/// The security administrator, having checked the person, ends the hold a password reset put
/// on revealing numbers. Whoever reset the password cannot also vouch for the account (三员分立:
/// resets belong to the system administrator, this to the security administrator).
async fn release(s: &SharedState, p: &Principal, id: &str) -> Result<(), AppError> {
    need(p, Permission::RoleManage)?;
    if id == p.user_id {
        return Err(AppError::Forbidden(
            "不能为自己恢复查看完整证件号，请由另一位安全管理员核实".into(),
        ));
    }
    let user = s.store.user(id).await?;
    if !user.reveal_held {
        return Err(AppError::Conflict(
            "该账号没有待核实的密码重置，无需恢复".into(),
        ));
    }
    if user.reset_by.as_deref() == Some(p.user_id.as_str()) {
        return Err(AppError::Forbidden(
            "您为该账号设置了一次性密码，不能再由您核实本人，请由另一位安全管理员操作（三员分立）"
                .into(),
        ));
    }
    if user.must_change_password {
        return Err(AppError::Conflict(
            "该账号还在使用别人给的一次性密码：请本人先登录修改密码，再核实本人".into(),
        ));
    }
    // Two accounts given their one-time passwords by the same person may both be his.
    let me = s.store.user(&p.user_id).await?;
    if me.reset_by.is_some() && me.reset_by == user.reset_by {
        return Err(AppError::Forbidden(
            "您的账号与该账号的一次性密码出自同一人：为防止一人同时掌握两个账号，不能由您核实。\
             请由一次性密码出自他人的安全管理员核实（如安全管理员账号由服务器管理员在控制台用 wangge user create 建立）（三员分立）"
                .into(),
        ));
    }
    // While one account still holds the administrators' roles together, its holder could
    // create an account, make it a security administrator and vouch through it for another
    // of his own: nobody is confirmed until the roles are with different people.
    if let Some((name, roles)) = combined_admins(&s.store.users().await?).into_iter().next() {
        return Err(AppError::Conflict(format!(
            "账号“{name}”仍同时担任{roles}：三员分立完成（这些角色分给不同的人）之前，不能核实任何账号"
        )));
    }
    s.store.release_reveal(id).await?;
    audit_change(s, p, "release-reveal", format!("user:{}", user.username)).await
}

async fn release_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    release(&s, &p, &id).await?;
    Ok(Redirect::to(&format!("/users/{id}")).into_response())
}

/// Removes an account's second factor (a lost phone) and ends its sessions; the next login
/// enrols a new one. The security administrator's, so that no one administrator can both set
/// an account's password and take away its second factor.
async fn totp_reset(s: &SharedState, p: &Principal, id: &str) -> Result<(), AppError> {
    need(p, Permission::RoleManage)?;
    if id == p.user_id {
        return Err(AppError::Forbidden(
            "不能重置自己的两步验证，请由另一位安全管理员操作".into(),
        ));
    }
    let user = s.store.user(id).await?;
    // Whoever set the account's one-time password, while it is still in use or on hold,
    // would with this hold the account alone.
    if user.reset_by.as_deref() == Some(p.user_id.as_str())
        && (user.must_change_password || user.reveal_held)
    {
        return Err(AppError::Forbidden(
            "您为该账号设置了一次性密码，不能再清除其两步验证，请由另一位安全管理员操作（三员分立）".into(),
        ));
    }
    if !user.totp_enabled && user.totp_secret.is_none() {
        return Err(AppError::Conflict("该账号没有两步验证，无需清除".into()));
    }
    s.store.reset_totp(id, &p.user_id).await?;
    audit_change(s, p, "totp-reset", format!("user:{}", user.username)).await
}

async fn totp_reset_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    totp_reset(&s, &p, &id).await?;
    Ok(Redirect::to(&format!("/users/{id}")).into_response())
}

// ---- permissions ------------------------------------------------------------------------

/// A permission's key, label, and per role (`role|permission`, granted?).
type PermissionRow = (String, String, Vec<(String, bool, bool)>);

#[derive(Template)]
#[template(path = "permissions.html")]
struct PermissionsView {
    me: Me,
    crumbs: Vec<Crumb>,
    roles: Vec<(String, String)>,
    /// One row per permission: key, label, and per role whether it is granted.
    rows: Vec<PermissionRow>,
}

/// Whether a cell of the permission table is fixed: an administrator's row, or an
/// administrator's permission (三员分立).
fn fixed(r: Role, perm: Permission) -> bool {
    ADMIN_ROLES.contains(&r) || ADMIN_PERMISSIONS.contains(&perm)
}

async fn permissions(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, PageError> {
    need(&p, Permission::RoleManage)?;
    let table = s.store.permission_table().await?;
    Ok(render(&PermissionsView {
        me: Me::of(&p),
        crumbs: crumbs("权限", "/permissions"),
        roles: Role::ALL
            .iter()
            .map(|r| (r.key().into(), r.label().into()))
            .collect(),
        rows: Permission::ALL
            .iter()
            .map(|perm| {
                (
                    perm.key().to_string(),
                    perm.label().to_string(),
                    Role::ALL
                        .iter()
                        .map(|r| {
                            (
                                format!("{}|{}", r.key(), perm.key()),
                                table.contains(&(*r, *perm)),
                                fixed(*r, *perm),
                            )
                        })
                        .collect(),
                )
            })
            .collect(),
    }))
}

async fn set_permissions_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    need(&p, Permission::RoleManage)?;
    // The administrators' cells are shown, not sent (三员分立): they keep their shipped values.
    let mut table: Vec<(Role, Permission)> = f
        .iter()
        .filter(|(k, _)| k == "grant")
        .filter_map(|(_, v)| v.split_once('|'))
        .filter_map(|(r, perm)| Some((Role::parse(r).ok()?, Permission::parse(perm).ok()?)))
        .filter(|(r, perm)| !fixed(*r, *perm))
        .collect();
    table.extend(
        default_permissions()
            .into_iter()
            .filter(|(r, _)| ADMIN_ROLES.contains(r)),
    );
    save_permissions(&s, &p, &table).await?;
    Ok(Redirect::to("/permissions").into_response())
}

// ---- audit ------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct AuditQuery {
    user: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl AuditQuery {
    /// The filter, with its dates read as dates (2026-11-24, 2026/11/24): a mistyped one is
    /// refused, named, instead of matching nothing.
    fn filter(&self, limit: u64) -> Result<AuditFilter, AppError> {
        let date = |key: &str, v: &Option<String>| -> Result<Option<String>, AppError> {
            match v.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(t) => wangge_domain::Date::parse(t)
                    .map(|d| Some(d.to_string()))
                    .map_err(|e| field_error(key, e.to_string())),
            }
        };
        Ok(AuditFilter {
            user: self.user.clone(),
            action: self.action.clone(),
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            limit,
        })
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditView {
    me: Me,
    crumbs: Vec<Crumb>,
    rows: Vec<AuditRow>,
    user: String,
    action: String,
    from: String,
    to: String,
    check: String,
}

impl AuditView {
    fn label(&self, r: &AuditRow) -> Option<&'static str> {
        audit_label(&r.action, &r.object)
    }
}

/// What an audit row records, in words: by its action, or, for a request, by its method and
/// the address it acted on (the API's the same as the page's).
pub fn audit_label(action: &str, object: &str) -> Option<&'static str> {
    let named = match action {
        "login" => Some("登录"),
        "reveal" => Some("查看完整证件号、电话"),
        "roles" => Some("修改角色"),
        "permissions" => Some("修改角色权限表"),
        "release-reveal" => Some("核实本人，恢复查看完整号码"),
        "totp-reset" | "reset-totp" => Some("清除两步验证"),
        "id-elsewhere" => Some("证件号已在册的答复"),
        "create" => Some("新建账号"),
        "reset-password" => Some("重置密码"),
        "disable" => Some("停用账号"),
        "enable" => Some("启用账号"),
        "accounts-moved" => Some("账号随网格调整"),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let path = object.split('?').next().unwrap_or("");
    let path = path.strip_prefix("/api").unwrap_or(path);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = action.rsplit(' ').next().unwrap_or(action);
    let read = action.starts_with("read ");
    let export = action.starts_with("export ");
    Some(match (method, parts.as_slice()) {
        (_, ["audit", "export.csv"]) => "导出审计日志",
        _ if export => "导出",
        _ if read => "查看人员信息",
        ("POST", ["logout"]) => "退出登录",
        ("POST", ["users"]) => "新建账号",
        (_, ["users", _, "password"]) => "重置密码",
        (_, ["users", _, "roles"]) => "修改角色",
        (_, ["users", _, "disable"]) => "停用账号",
        (_, ["users", _, "enable"]) => "启用账号",
        (_, ["users", _, "release-reveal"]) => "核实本人，恢复查看完整号码",
        (_, ["users", _, "totp-reset"]) => "清除两步验证",
        (_, ["permissions"]) => "修改角色权限表",
        (_, ["account", "password"]) => "修改本人密码",
        (_, ["account", "totp", ..]) => "绑定两步验证",
        (_, ["import"]) | (_, ["import", "communities"]) => "导入社区基本情况表（附件2）",
        (_, ["import", "residents"]) => "导入户和居民",
        (_, ["households", _, "visit" | "visits"]) => "记录走访",
        (_, ["households", _, "residents"]) => "登记新成员",
        (_, ["households", _, "close"]) => "注销户",
        (_, ["households", _, "place"]) => "修改户的住址",
        (_, ["compounds", _, "households"]) => "新建户",
        (_, ["residents", _, "moves"]) => "登记迁移",
        (_, ["residents", _, "edit" | "basic"]) => "修改居民基本信息",
        (_, ["residents", _, "special-records"]) => "登记特殊人群",
        (_, ["special-records", _, "follow-ups"]) => "添加帮扶跟进",
        (_, ["special-records", _, "end"]) => "解除列管、结束帮扶",
        (_, ["plan", _, _, "adopt"]) => "采用网格划分方案",
        (_, ["new", ..]) => "新建登记",
        (
            "POST",
            [
                "streets" | "communities" | "grids" | "compounds" | "departments",
                ..,
            ],
        ) if parts.len() <= 2 => "新建登记",
        (_, ["edit", ..]) | ("PUT", [_, _]) => "修改登记",
        (_, ["retire", ..]) | ("DELETE", [_, _]) => "撤销登记",
        (_, ["staff", _, "end"]) => "结束人员配备",
        (_, ["communities", _, "staff"]) => "人员配备",
        (_, ["communities", _, "boundaries"]) => "导入小区边界",
        (_, ["streets", _, "barriers", ..]) => "上传或清除街路河界线",
        (_, ["departments", _, "grids", ..]) => "部门网格",
        (_, ["budget", "communities", _, "investment"]) | (_, ["communities", _, "investment"]) => {
            "录入改造投资"
        }
        (_, ["streets", _, "recruitment"]) => "录入招聘全科社工",
        (_, ["county"]) => "设置本县（区）",
        _ => return None,
    })
}

async fn audit(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    need(&p, Permission::AuditRead)?;
    let rows = s.store.audit_rows(&q.filter(500)?).await?;
    let check = match s.store.verify_audit().await? {
        AuditCheck::Intact { rows } => format!("完整：共 {rows} 行，哈希链校验通过"),
        AuditCheck::Broken { seq, reason } => format!("警告：第 {seq} 行校验失败（{reason}）"),
    };
    Ok(render(&AuditView {
        me: Me::of(&p),
        crumbs: crumbs("审计日志", "/audit"),
        rows,
        user: q.user.unwrap_or_default(),
        action: q.action.unwrap_or_default(),
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
        check,
    }))
}

async fn audit_export(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    need(&p, Permission::AuditRead)?;
    let rows = s.store.audit_rows(&q.filter(100_000)?).await?;
    let mut table = vec![
        vec![
            "序号",
            "时间（北京时间）",
            "时间（UTC，哈希所用）",
            "用户",
            "角色",
            "操作",
            "对象",
            "来源",
            "结果",
            "哈希",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>(),
    ];
    for r in rows {
        table.push(vec![
            r.seq.to_string(),
            r.at_china,
            r.at,
            r.user,
            r.roles,
            r.action,
            r.object,
            r.client,
            r.result,
            r.hash,
        ]);
    }
    let bytes =
        wangge_sheets::write_csv(&table, false).map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---- API --------------------------------------------------------------------------------

async fn api_session(Extension(p): Extension<Principal>) -> Response {
    Json(json!({
        "username": p.username,
        "csrf_token": p.csrf_token,
        "grants": p.access.grants().collect::<Vec<_>>(),
        "two_factor_ok": p.two_factor_ok,
        "must_change_password": p.must_change_password,
        "reveal_held": p.reveal_held,
    }))
    .into_response()
}

async fn api_users(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, ApiError> {
    if !(p.access.can_somewhere(Permission::UserManage)
        || p.access.can_somewhere(Permission::RoleManage))
    {
        return Err(AppError::Forbidden("无权查看账号".into()).into());
    }
    Ok(Json(s.store.users().await?).into_response())
}

async fn api_user(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !(p.access.can_somewhere(Permission::UserManage)
        || p.access.can_somewhere(Permission::RoleManage))
    {
        return Err(AppError::Forbidden("无权查看账号".into()).into());
    }
    Ok(Json(s.store.user(&id).await?).into_response())
}

async fn api_create_user(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Json(f): Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    need(&p, Permission::UserManage)?;
    let username = f["username"].as_str().unwrap_or("");
    let display = f["display_name"].as_str().unwrap_or("");
    let (id, password) = create_account(&s, &p, username, display).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({"id": id, "username": username.trim(), "one_time_password": password})),
    )
        .into_response())
}

async fn api_set_roles(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(f): Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    let text = match &f["grants"] {
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        serde_json::Value::String(t) => t.clone(),
        _ => String::new(),
    };
    set_roles(&s, &p, &id, &text).await?;
    Ok(Json(s.store.user(&id).await?).into_response())
}

async fn api_disable(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(&s, &p, &id, true).await?;
    Ok(Json(s.store.user(&id).await?).into_response())
}

async fn api_enable(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(&s, &p, &id, false).await?;
    Ok(Json(s.store.user(&id).await?).into_response())
}

async fn api_reset(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let password = reset(&s, &p, &id).await?;
    Ok(Json(json!({"one_time_password": password})).into_response())
}

async fn api_release(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    release(&s, &p, &id).await?;
    Ok(Json(s.store.user(&id).await?).into_response())
}

async fn api_totp_reset(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    totp_reset(&s, &p, &id).await?;
    Ok(Json(s.store.user(&id).await?).into_response())
}

async fn api_permissions(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, ApiError> {
    need(&p, Permission::RoleManage)?;
    let table = s.store.permission_table().await?;
    Ok(Json(
        table
            .iter()
            .map(|(r, perm)| json!({"role": r.key(), "permission": perm.key()}))
            .collect::<Vec<_>>(),
    )
    .into_response())
}

async fn api_set_permissions(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Json(f): Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    need(&p, Permission::RoleManage)?;
    let mut table = Vec::new();
    for item in f.as_array().cloned().unwrap_or_default() {
        let r = Role::parse(item["role"].as_str().unwrap_or(""))
            .map_err(|e| field_error("role", e.to_string()))?;
        let perm = Permission::parse(item["permission"].as_str().unwrap_or(""))
            .map_err(|e| field_error("permission", e.to_string()))?;
        table.push((r, perm));
    }
    save_permissions(&s, &p, &table).await?;
    Ok(Json(json!({"rows": table.len()})).into_response())
}

async fn api_audit(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    need(&p, Permission::AuditRead)?;
    Ok(Json(s.store.audit_rows(&q.filter(1000)?).await?).into_response())
}

async fn api_audit_verify(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> Result<Response, ApiError> {
    need(&p, Permission::AuditRead)?;
    Ok(Json(s.store.verify_audit().await?).into_response())
}

#[cfg(test)]
mod audit_words {
    use super::audit_label;

    #[test]
    fn audit_rows_are_said_in_words() {
        for (action, object, words) in [
            ("login", "/login", "登录"),
            ("POST", "/users", "新建账号"),
            ("POST", "/api/users/0193/password", "重置密码"),
            ("POST", "/households/0193/visits", "记录走访"),
            ("POST", "/plan/streets/370725001/adopt", "采用网格划分方案"),
            ("PUT", "/api/streets/370725001", "修改登记"),
            ("POST", "/retire/grids/370725001001001", "撤销登记"),
            ("export GET", "/export/residents.csv", "导出"),
            (
                "read GET",
                "/api/grids/370725001001001/residents?page=2",
                "查看人员信息",
            ),
            ("id-elsewhere", "3 个证件号", "证件号已在册的答复"),
        ] {
            assert_eq!(
                audit_label(action, object),
                Some(words),
                "{action} {object}"
            );
        }
        assert_eq!(audit_label("POST", "/something/new/entirely"), None);
    }
}
