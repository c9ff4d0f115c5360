//! wangge's store: the only crate that knows the database.
//!
//! Architecture invariant: SQL lives here and nowhere else; callers get plain records and pass
//! inputs that `wangge_domain` has already parsed. One code path serves SQLite (the embedded
//! default) and PostgreSQL.

mod annex2;
mod audit;
mod budget;
mod care;
mod db;
mod department_grids;
mod keys;
mod people;
mod planning;
mod registry;
mod scoped;
mod users;

use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::DatabaseConnection;
use serde::Serialize;
use wangge_domain::Date;
use wangge_domain::registry::FieldErrors;

pub use annex2::ImportSummary;
pub use audit::{AuditCheck, AuditEntry, AuditFilter, AuditRow};
pub use budget::StaffRow;
pub use care::{
    FollowUpView, HouseholdRow, HouseholdView, MoveView, PeopleBreakdown, PlaceChoice,
    SpecialRecordView, VisitView, may_see_kind,
};
pub use db::DbOptions;
pub use department_grids::{
    CompoundPlace, DepartmentGrid, DepartmentGridMember, FoldSummary, NewDepartmentGrid,
};
pub use keys::Keyring;
pub use people::{ResidentView, Revealed};
pub use planning::{
    AdoptGrid, AdoptSummary, Barrier, NewBarrier, PlanCompound, PlanSource, StaffOnRetired,
};
pub use registry::*;
pub use scoped::SETUP_ROLES;
pub use users::{SessionPolicy, SessionUser, User};

/// What can go wrong in the store. Messages are for users (zh-CN) except `Db`, which is
/// logged and shown as a generic failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    /// Field name → message. Shown (on the command line, in logs) with its messages; the web
    /// names the fields in Chinese itself.
    #[error("输入有误：{}", .0.values().cloned().collect::<Vec<_>>().join("；"))]
    Invalid(FieldErrors),
    /// A request that contradicts the registry's state (e.g. retiring a community that still
    /// has live grids).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Config(String),
    /// Outside the user's scope, or beyond the user's permissions.
    #[error("{0}")]
    Forbidden(String),
    #[error("数据库错误：{0}")]
    Db(#[from] sea_orm::DbErr),
}

impl StoreError {
    pub(crate) fn field(name: &str, message: impl Into<String>) -> StoreError {
        let mut e = FieldErrors::new();
        e.insert(name.to_string(), message.into());
        StoreError::Invalid(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The registry on one database.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    overview_cache: std::sync::Arc<std::sync::Mutex<Option<(i64, Overview)>>>,
    /// Residents and households counted per part, for street and county pages, by the
    /// county's people version (see `care.rs`).
    people_cache: care::PeopleCache,
    keys: Option<std::sync::Arc<Keyring>>,
    /// Taken while "already registered" answers are counted and written, so that requests
    /// at once cannot each find room under the day's limit (one process: instances side by
    /// side would each hold their own).
    answers: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Taken while an audit row is chained on: requests at once append one after another
    /// instead of racing for the next number (other processes still retry on a clash).
    audit_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// Which database a store is on, for `/healthz` and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Store {
    /// Connects, creating the SQLite file on first start, and applies pending migrations.
    pub async fn open(opts: &DbOptions) -> Result<Store> {
        let db = db::connect(opts).await?;
        db::migrate(&db).await?;
        Ok(Store {
            db,
            overview_cache: Default::default(),
            answers: Default::default(),
            audit_turn: Default::default(),
            people_cache: Default::default(),
            keys: None,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// A trivial query, for health checks.
    pub async fn ping(&self) -> Result<()> {
        db::scalar_i64(&self.db, "SELECT CAST(1 AS BIGINT)", vec![]).await?;
        Ok(())
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Today's date in China (UTC+8, the one time the whole country keeps), whatever the
/// server's clock zone: a visit made after midnight in the county is of the new day, and
/// "this month" turns at midnight there, not at 08:00.
pub fn today() -> Date {
    date_in_china(now_secs())
}

/// The date in China at a Unix time (seconds).
pub fn date_in_china(secs: i64) -> Date {
    const CHINA: i64 = 8 * 3600;
    Date::from_unix_days((secs + CHINA).div_euclid(86_400))
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Throw-away PostgreSQL databases for tests and benchmarks: each gets its own, dropped after.
pub mod scratch {
    use sea_orm::{ConnectionTrait, Database};

    use crate::{Result, StoreError};

    /// Creates an empty database on the server of `base_url` and returns its URL and name.
    pub async fn create(base_url: &str, prefix: &str) -> Result<(String, String)> {
        let name = format!(
            "{prefix}_{}",
            uuid::Uuid::now_v7().simple().to_string().to_lowercase()
        );
        let admin = Database::connect(base_url).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        admin.close().await?;
        let (head, _) = base_url
            .rsplit_once('/')
            .ok_or_else(|| StoreError::Config("数据库地址应形如 postgres://host/db".into()))?;
        let query = base_url
            .split_once('?')
            .map(|(_, q)| format!("?{q}"))
            .unwrap_or_default();
        Ok((format!("{head}/{name}{query}"), name))
    }

    /// Drops a database made by [`create`].
    pub async fn drop(base_url: &str, name: &str) -> Result<()> {
        let admin = Database::connect(base_url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        admin.close().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_day_turns_at_midnight_in_china() {
        // 2026-11-24 16:00 UTC is 2026-11-25 00:00 in Beijing; a second before is still the 24th.
        let midnight = 1_795_536_000;
        assert_eq!(super::date_in_china(midnight).to_string(), "2026-11-25");
        assert_eq!(super::date_in_china(midnight - 1).to_string(), "2026-11-24");
        assert_eq!(
            super::date_in_china(midnight - 8 * 3600).to_string(),
            "2026-11-24"
        );
    }
}
