//! Accounts, their roles, the role → permission table, and sessions.
//!
//! Passwords arrive already hashed (argon2, in the web crate) and session tokens arrive
//! already hashed (SHA-256): the database never holds a secret that would let its reader log
//! in. TOTP secrets are kept as base32 text.

use sea_orm::TransactionTrait;
use serde::Serialize;
use wangge_domain::access::{
    Access, Grant, Permission, Role, Scope, ScopeKind, check_auditor_alone, check_permission_table,
    check_separation,
};

use crate::db::{all, exec, get, one, scalar_i64};
use crate::{Result, Store, StoreError, new_id, now_secs};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub failed_logins: i64,
    /// Unix seconds until which logins are refused; 0 when not locked.
    pub locked_until: i64,
    #[serde(skip)]
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    /// A one-time password was given by someone else (a new account, a reset): revealing ID
    /// and phone numbers waits until the security administrator confirms the person
    /// (`release_reveal`).
    pub reveal_held: bool,
    /// Who last set a password for this account (created it, or reset its password).
    pub reset_by: Option<String>,
    /// Who cleared the account's second factor, until the owner enrolled a new one.
    pub totp_reset_by: Option<String>,
    pub grants: Vec<Grant>,
}

/// The user behind a live session.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: String,
    pub username: String,
    pub access: Access,
    /// Whether this session passed the second factor (or the user needs none).
    pub two_factor_ok: bool,
    pub totp_enabled: bool,
    pub csrf_token: String,
    pub must_change_password: bool,
    /// Revealing numbers is on hold after a one-time password given by someone else (and taken
    /// out of `access`).
    pub reveal_held: bool,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Ended after this long without a request.
    pub idle_secs: i64,
    /// Ended this long after login, whatever happens.
    pub absolute_secs: i64,
}

fn grant_of(r: &sea_orm::QueryResult) -> Result<Option<Grant>> {
    let role: String = get(r, "role")?;
    let kind: String = get(r, "scope_kind")?;
    let key: String = get(r, "scope_key")?;
    let (Ok(role), Ok(kind)) = (Role::parse(&role), ScopeKind::parse(&kind)) else {
        return Ok(None);
    };
    Ok(Scope::parse(kind, &key)
        .ok()
        .and_then(|s| Grant::new(role, s).ok()))
}

const USER_COLUMNS: &str = "id, username, display_name, password_hash, disabled, must_change_password, \
     failed_logins, locked_until, totp_secret, totp_enabled, reveal_held, reset_by, totp_reset_by";

impl Store {
    pub async fn user_count(&self) -> Result<i64> {
        scalar_i64(self.conn(), "SELECT COUNT(*) FROM app_user", vec![]).await
    }

    pub async fn create_user(
        &self,
        username: &str,
        display_name: Option<&str>,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<String> {
        let n = scalar_i64(
            self.conn(),
            "SELECT COUNT(*) FROM app_user WHERE username = ?",
            vec![username.into()],
        )
        .await?;
        if n > 0 {
            return Err(StoreError::field(
                "username",
                format!("用户名“{username}”已存在"),
            ));
        }
        let id = new_id();
        let now = now_secs();
        exec(
            self.conn(),
            "INSERT INTO app_user (id, username, display_name, password_hash, created_at, password_changed_at, \
             must_change_password, disabled, reveal_held) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                id.clone().into(),
                username.into(),
                display_name.map(str::to_string).into(),
                password_hash.into(),
                now.into(),
                now.into(),
                must_change_password.into(),
                false.into(),
                // A one-time password given by someone else: held like a reset.
                must_change_password.into(),
            ],
        )
        .await?;
        Ok(id)
    }

    async fn user_where(&self, clause: &str, value: &str) -> Result<Option<User>> {
        let r = one(
            self.conn(),
            &format!("SELECT {USER_COLUMNS} FROM app_user WHERE {clause} = ?"),
            vec![value.into()],
        )
        .await?;
        let Some(r) = r else {
            return Ok(None);
        };
        let id: String = get(&r, "id")?;
        Ok(Some(User {
            grants: self.grants(&id).await?,
            id,
            username: get(&r, "username")?,
            display_name: get(&r, "display_name")?,
            password_hash: get(&r, "password_hash")?,
            disabled: get(&r, "disabled")?,
            must_change_password: get(&r, "must_change_password")?,
            failed_logins: get(&r, "failed_logins")?,
            locked_until: get(&r, "locked_until")?,
            totp_secret: get(&r, "totp_secret")?,
            totp_enabled: get(&r, "totp_enabled")?,
            reveal_held: get(&r, "reveal_held")?,
            reset_by: get(&r, "reset_by")?,
            totp_reset_by: get(&r, "totp_reset_by")?,
        }))
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        self.user_where("username", username).await
    }

    pub async fn user(&self, id: &str) -> Result<User> {
        self.user_where("id", id)
            .await?
            .ok_or_else(|| StoreError::NotFound("没有这个账号".into()))
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = all(
            self.conn(),
            "SELECT id FROM app_user ORDER BY username",
            vec![],
        )
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            out.push(self.user(&get::<String>(r, "id")?).await?);
        }
        Ok(out)
    }

    pub async fn grants(&self, user_id: &str) -> Result<Vec<Grant>> {
        let rows = all(
            self.conn(),
            "SELECT role, scope_kind, scope_key FROM user_role WHERE user_id = ? ORDER BY role, scope_key",
            vec![user_id.into()],
        )
        .await?;
        Ok(rows
            .iter()
            .map(grant_of)
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Replaces a user's roles under 三员分立: the system, security and audit administrators are
    /// three people, and the audit administrator holds no other role.
    pub async fn set_grants(&self, user_id: &str, grants: &[Grant]) -> Result<()> {
        check_separation(grants).map_err(|m| StoreError::field("grants", m))?;
        self.replace_grants(user_id, grants).await
    }

    /// Whether roles could be given as they stand, before an account is made for them:
    /// the administrators kept apart, and every place and department one in force.
    pub async fn check_grants(&self, grants: &[Grant]) -> Result<()> {
        check_separation(grants).map_err(|m| StoreError::field("grants", m))?;
        self.check_scopes(grants).await
    }

    /// The auditor alone, and every place and department named one of the registry's, still
    /// in force.
    async fn check_scopes(&self, grants: &[Grant]) -> Result<()> {
        check_auditor_alone(grants).map_err(|m| StoreError::field("grants", m))?;
        // Every place and department named is one of the registry's, and still in force (a
        // grid retired by a redraw has nothing to work on).
        for g in grants {
            let (table, key) = match g.scope.kind {
                ScopeKind::County => ("county", "code"),
                ScopeKind::Street => ("street", "code"),
                ScopeKind::Community => ("community", "code"),
                ScopeKind::Grid => ("grid", "code"),
                ScopeKind::Department => ("department", "id"),
            };
            // The county has no end date.
            let valid_to = if g.scope.kind == ScopeKind::County {
                "CAST(NULL AS TEXT)"
            } else {
                "valid_to"
            };
            let Some(row) = one(
                self.conn(),
                &format!("SELECT {valid_to} AS valid_to FROM {table} WHERE {key} = ?"),
                vec![g.scope.key.clone().into()],
            )
            .await?
            else {
                return Err(StoreError::field(
                    "grants",
                    format!(
                        "“{}@{}”：没有这个{}",
                        g.role.key(),
                        g.scope.key,
                        g.scope.kind.label()
                    ),
                ));
            };
            let retired: Option<String> = get(&row, "valid_to")?;
            if let Some(day) = retired {
                return Err(StoreError::field(
                    "grants",
                    format!(
                        "“{}@{}”：该{}已于 {day} 撤销，请改为现行的{}",
                        g.role.key(),
                        g.scope.key,
                        g.scope.kind.label(),
                        g.scope.kind.label()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Replaces a user's roles; the caller has checked them (the first administrator's setup
    /// roles join the system and security administrators until they are given to two people).
    pub(crate) async fn replace_grants(&self, user_id: &str, grants: &[Grant]) -> Result<()> {
        // The same line twice is one grant.
        let mut seen = std::collections::HashSet::new();
        let grants: Vec<Grant> = grants
            .iter()
            .filter(|g| seen.insert((g.role, g.scope.kind, g.scope.key.clone())))
            .cloned()
            .collect();
        let grants = grants.as_slice();
        self.user(user_id).await?;
        self.check_scopes(grants).await?;
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "DELETE FROM user_role WHERE user_id = ?",
            vec![user_id.into()],
        )
        .await?;
        for g in grants {
            exec(
                &tx,
                "INSERT INTO user_role (user_id, role, scope_kind, scope_key) VALUES (?, ?, ?, ?)",
                vec![
                    user_id.into(),
                    g.role.key().into(),
                    g.scope.kind.key().into(),
                    g.scope.key.clone().into(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The role → permission table.
    pub async fn permission_table(&self) -> Result<Vec<(Role, Permission)>> {
        let rows = all(
            self.conn(),
            "SELECT role, permission FROM role_permission ORDER BY role, permission",
            vec![],
        )
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let role: String = get(r, "role")?;
            let p: String = get(r, "permission")?;
            if let (Ok(role), Ok(p)) = (Role::parse(&role), Permission::parse(&p)) {
                out.push((role, p));
            }
        }
        Ok(out)
    }

    pub async fn set_permission_table(&self, table: &[(Role, Permission)]) -> Result<()> {
        check_permission_table(table).map_err(|m| StoreError::field("permission", m))?;
        let tx = self.conn().begin().await?;
        exec(&tx, "DELETE FROM role_permission", vec![]).await?;
        for (r, p) in table {
            exec(
                &tx,
                "INSERT INTO role_permission (role, permission) VALUES (?, ?)",
                vec![r.key().into(), p.key().into()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn access_of(&self, user_id: &str) -> Result<Access> {
        Ok(Access::new(
            self.grants(user_id).await?,
            &self.permission_table().await?,
        ))
    }

    pub async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        must_change: bool,
    ) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET password_hash = ?, password_changed_at = ?, must_change_password = ?, \
             failed_logins = 0, locked_until = 0 WHERE id = ?",
            vec![
                password_hash.into(),
                now_secs().into(),
                must_change.into(),
                user_id.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Resets the password on someone else's word (an administrator, the command line): a
    /// one-time password to change at first login, the lockout cleared, every session ended,
    /// and revealing numbers held until the security administrator confirms the person.
    pub async fn reset_password(&self, user_id: &str, password_hash: &str, by: &str) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET password_hash = ?, password_changed_at = ?, must_change_password = ?, \
             failed_logins = 0, locked_until = 0, reveal_held = ?, reset_by = ? WHERE id = ?",
            vec![
                password_hash.into(),
                now_secs().into(),
                true.into(),
                true.into(),
                by.into(),
                user_id.into(),
            ],
        )
        .await?;
        self.end_sessions(user_id).await
    }

    /// Records who gave an account its one-time password (the administrator who created it).
    pub async fn set_reset_by(&self, user_id: &str, by: &str) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET reset_by = ? WHERE id = ?",
            vec![by.into(), user_id.into()],
        )
        .await?;
        Ok(())
    }

    /// Ends the hold a password reset put on revealing numbers.
    pub async fn release_reveal(&self, user_id: &str) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET reveal_held = ? WHERE id = ?",
            vec![false.into(), user_id.into()],
        )
        .await?;
        Ok(())
    }

    /// Removes the user's second factor (a lost phone) and ends their sessions: the next
    /// login enrols a new one.
    pub async fn reset_totp(&self, user_id: &str, by: &str) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET totp_secret = NULL, totp_enabled = ?, totp_last_step = NULL, totp_reset_by = ? WHERE id = ?",
            vec![false.into(), by.into(), user_id.into()],
        )
        .await?;
        self.end_sessions(user_id).await
    }

    pub async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET disabled = ?, failed_logins = 0, locked_until = 0 WHERE id = ?",
            vec![disabled.into(), user_id.into()],
        )
        .await?;
        if disabled {
            self.end_sessions(user_id).await?;
        }
        Ok(())
    }

    /// Records a failed login; locks the account for `lock_secs` after `max` failures in a row.
    /// Counts a login attempt as failed before its password is checked, and locks the
    /// account for `lock_secs` at the `max`-th since the last success or lock; false when
    /// the account is locked already (nothing counted). Count and check are one statement,
    /// so requests sent at once cannot all pass a check made before any was counted: at most
    /// `max` passwords are tried in a lock's length. [`Store::login_succeeded`] clears it.
    pub async fn login_attempt(&self, user_id: &str, max: i64, lock_secs: i64) -> Result<bool> {
        let now = now_secs();
        let n = exec(
            self.conn(),
            "UPDATE app_user SET \
             locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END, \
             failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END \
             WHERE id = ? AND locked_until <= ?",
            vec![
                max.into(),
                (now + lock_secs).into(),
                max.into(),
                user_id.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(n == 1)
    }

    pub async fn login_succeeded(&self, user_id: &str) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET failed_logins = 0, locked_until = 0 WHERE id = ?",
            vec![user_id.into()],
        )
        .await?;
        Ok(())
    }

    /// Stores a TOTP secret; `enabled` once the user has proved a code from it.
    pub async fn set_totp(&self, user_id: &str, secret: Option<&str>, enabled: bool) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET totp_secret = ?, totp_enabled = ?, \
             totp_reset_by = CASE WHEN ? THEN NULL ELSE totp_reset_by END WHERE id = ?",
            vec![
                secret.map(str::to_string).into(),
                enabled.into(),
                enabled.into(),
                user_id.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Accepts a TOTP time step for a user only if it is later than every step accepted
    /// before: a code is good once. The check and the update are one statement, so two
    /// requests with the same code cannot both win.
    pub async fn claim_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let n = exec(
            self.conn(),
            "UPDATE app_user SET totp_last_step = ? WHERE id = ? \
             AND (totp_last_step IS NULL OR totp_last_step < ?)",
            vec![step.into(), user_id.into(), step.into()],
        )
        .await?;
        Ok(n == 1)
    }

    /// Moves a user's last accepted TOTP step back, as if time had passed (for tests that
    /// log in more than once within 30 seconds).
    pub async fn age_totp_step(&self, user_id: &str, steps: i64) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE app_user SET totp_last_step = totp_last_step - ? WHERE id = ?",
            vec![steps.into(), user_id.into()],
        )
        .await?;
        Ok(())
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        policy: SessionPolicy,
        two_factor_ok: bool,
        csrf_token: &str,
    ) -> Result<()> {
        let now = now_secs();
        exec(
            self.conn(),
            "DELETE FROM user_session WHERE expires_at < ? OR last_seen < ?",
            vec![now.into(), (now - policy.idle_secs).into()],
        )
        .await?;
        exec(
            self.conn(),
            "INSERT INTO user_session (token_hash, user_id, created_at, last_seen, expires_at, two_factor_ok, csrf_token) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                token_hash.into(),
                user_id.into(),
                now.into(),
                now.into(),
                (now + policy.absolute_secs).into(),
                two_factor_ok.into(),
                csrf_token.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The user of a live session, touching its idle clock. Sessions past their absolute or
    /// idle limit, and sessions of disabled users, are ended.
    pub async fn session_user(
        &self,
        token_hash: &str,
        policy: SessionPolicy,
    ) -> Result<Option<SessionUser>> {
        let now = now_secs();
        let r = one(
            self.conn(),
            "SELECT u.id, u.username, u.disabled, u.totp_enabled, u.must_change_password, u.reveal_held, \
             s.expires_at, s.last_seen, s.two_factor_ok, s.csrf_token FROM user_session s JOIN app_user u ON u.id = s.user_id \
             WHERE s.token_hash = ?",
            vec![token_hash.into()],
        )
        .await?;
        let Some(r) = r else {
            return Ok(None);
        };
        let expires: i64 = get(&r, "expires_at")?;
        let last_seen: i64 = get(&r, "last_seen")?;
        let disabled: bool = get(&r, "disabled")?;
        if disabled || expires <= now || last_seen + policy.idle_secs <= now {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        // Touch at most once a minute: a busy page need not write on every request.
        if now - last_seen >= 60 {
            exec(
                self.conn(),
                "UPDATE user_session SET last_seen = ? WHERE token_hash = ?",
                vec![now.into(), token_hash.into()],
            )
            .await?;
        }
        let id: String = get(&r, "id")?;
        let mut access = self.access_of(&id).await?;
        let reveal_held: bool = get(&r, "reveal_held")?;
        if reveal_held {
            access = access.without(Permission::PersonReveal);
        }
        Ok(Some(SessionUser {
            access,
            id,
            username: get(&r, "username")?,
            two_factor_ok: get(&r, "two_factor_ok")?,
            totp_enabled: get(&r, "totp_enabled")?,
            csrf_token: get(&r, "csrf_token")?,
            must_change_password: get(&r, "must_change_password")?,
            reveal_held,
        }))
    }

    /// Marks a session as having passed the second factor.
    pub async fn session_two_factor_ok(&self, token_hash: &str) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE user_session SET two_factor_ok = ? WHERE token_hash = ?",
            vec![true.into(), token_hash.into()],
        )
        .await?;
        Ok(())
    }

    /// Moves a session's clocks back, as if time had passed (for tests of expiry).
    pub async fn age_session(&self, token_hash: &str, secs: i64) -> Result<()> {
        exec(
            self.conn(),
            "UPDATE user_session SET created_at = created_at - ?, last_seen = last_seen - ?, \
             expires_at = expires_at - ? WHERE token_hash = ?",
            vec![secs.into(), secs.into(), secs.into(), token_hash.into()],
        )
        .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        exec(
            self.conn(),
            "DELETE FROM user_session WHERE token_hash = ?",
            vec![token_hash.into()],
        )
        .await?;
        Ok(())
    }

    /// Logout everywhere: ends every session of the user.
    /// Ends every session of a user but the one with this CSRF token (each session has its
    /// own): after a password change, a session opened with the old password is over.
    pub async fn end_other_sessions(&self, user_id: &str, csrf_token: &str) -> Result<()> {
        exec(
            self.conn(),
            "DELETE FROM user_session WHERE user_id = ? AND csrf_token <> ?",
            vec![user_id.into(), csrf_token.into()],
        )
        .await?;
        Ok(())
    }

    pub async fn end_sessions(&self, user_id: &str) -> Result<()> {
        exec(
            self.conn(),
            "DELETE FROM user_session WHERE user_id = ?",
            vec![user_id.into()],
        )
        .await?;
        Ok(())
    }
}

/// The usernames with a role bound to this grid.
pub(crate) async fn accounts_on_grid<C: sea_orm::ConnectionTrait>(
    c: &C,
    grid: &str,
) -> Result<Vec<String>> {
    all(
        c,
        "SELECT DISTINCT u.username FROM user_role r JOIN app_user u ON u.id = r.user_id \
         WHERE r.scope_kind = ? AND r.scope_key = ? ORDER BY u.username",
        vec![ScopeKind::Grid.key().into(), grid.into()],
    )
    .await?
    .iter()
    .map(|r| get(r, "username"))
    .collect()
}
