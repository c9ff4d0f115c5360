//! Accounts and sessions. Passwords arrive already hashed (argon2, in the web crate) and
//! session tokens arrive already hashed (SHA-256): the database never holds a secret that
//! would let its reader log in.

use serde::Serialize;

use crate::db::{exec, get, one, scalar_i64};
use crate::{Result, Store, StoreError, new_id, now_secs};

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
}

/// The user behind a live session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionUser {
    pub id: String,
    pub username: String,
}

impl Store {
    pub async fn user_count(&self) -> Result<i64> {
        scalar_i64(self.conn(), "SELECT COUNT(*) FROM app_user", vec![]).await
    }

    pub async fn create_user(&self, username: &str, password_hash: &str) -> Result<String> {
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
        exec(
            self.conn(),
            "INSERT INTO app_user (id, username, password_hash, created_at, disabled) VALUES (?, ?, ?, ?, ?)",
            vec![
                id.clone().into(),
                username.into(),
                password_hash.into(),
                now_secs().into(),
                false.into(),
            ],
        )
        .await?;
        Ok(id)
    }

    pub async fn set_password(&self, username: &str, password_hash: &str) -> Result<()> {
        let n = exec(
            self.conn(),
            "UPDATE app_user SET password_hash = ? WHERE username = ?",
            vec![password_hash.into(), username.into()],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("没有用户“{username}”")));
        }
        Ok(())
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let r = one(
            self.conn(),
            "SELECT id, username, password_hash, disabled FROM app_user WHERE username = ?",
            vec![username.into()],
        )
        .await?;
        r.map(|r| {
            Ok(User {
                id: get(&r, "id")?,
                username: get(&r, "username")?,
                password_hash: get(&r, "password_hash")?,
                disabled: get(&r, "disabled")?,
            })
        })
        .transpose()
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        ttl_secs: i64,
    ) -> Result<()> {
        let now = now_secs();
        exec(
            self.conn(),
            "DELETE FROM user_session WHERE expires_at < ?",
            vec![now.into()],
        )
        .await?;
        exec(
            self.conn(),
            "INSERT INTO user_session (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            vec![
                token_hash.into(),
                user_id.into(),
                now.into(),
                (now + ttl_secs).into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The user of a live session; expired sessions and disabled users have none.
    pub async fn session_user(&self, token_hash: &str) -> Result<Option<SessionUser>> {
        let r = one(
            self.conn(),
            "SELECT u.id, u.username FROM user_session s JOIN app_user u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = ?",
            vec![token_hash.into(), now_secs().into(), false.into()],
        )
        .await?;
        r.map(|r| {
            Ok(SessionUser {
                id: get(&r, "id")?,
                username: get(&r, "username")?,
            })
        })
        .transpose()
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
}
