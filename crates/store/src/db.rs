//! Connection, migrations and the small helpers every query goes through.
//!
//! One SQL text serves both databases: statements are written with `?` placeholders and
//! rewritten to `$1, $2, …` for PostgreSQL; types are the common subset (TEXT, BIGINT,
//! BOOLEAN, DOUBLE PRECISION) that SQLite and PostgreSQL both accept.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, QueryResult,
    Statement, TransactionTrait, Value,
};

use crate::{Result, StoreError};

/// Where the data lives: a SQLite file under `data_dir`, or PostgreSQL at `database_url`.
#[derive(Clone, Default)]
pub struct DbOptions {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

impl std::fmt::Debug for DbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A URL may carry a password: show only its scheme and host part.
        let url = self
            .database_url
            .as_deref()
            .map(|u| match u.split_once('@') {
                Some((_, host)) => format!("postgres://***@{host}"),
                None => u.to_string(),
            });
        f.debug_struct("DbOptions")
            .field("data_dir", &self.data_dir)
            .field("database_url", &url)
            .finish()
    }
}

impl DbOptions {
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("wangge.sqlite")
    }

    fn url(&self) -> Result<String> {
        match &self.database_url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(u.clone())
            }
            Some(u) if u.starts_with("sqlite:") => Ok(u.clone()),
            Some(u) => Err(StoreError::Config(format!(
                "不支持的数据库地址“{}”：应以 postgres:// 或 sqlite: 开头",
                u.split('@').next_back().unwrap_or(u)
            ))),
            None => {
                std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                    StoreError::Config(format!("无法创建数据目录 {}：{e}", self.data_dir.display()))
                })?;
                Ok(format!(
                    "sqlite://{}?mode=rwc",
                    path_str(&self.sqlite_path())
                ))
            }
        }
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

pub(crate) async fn connect(opts: &DbOptions) -> Result<DatabaseConnection> {
    let url = opts.url()?;
    let sqlite = url.starts_with("sqlite:");
    let mut co = ConnectOptions::new(url);
    co.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30))
        .max_connections(if sqlite { 4 } else { 10 })
        .min_connections(1)
        // A page cache large enough for bulk imports into random-keyed indexes (blind index),
        // per connection; SQLite allocates it only as it is used.
        .map_sqlx_sqlite_opts(|o| {
            o.pragma("cache_size", "-262144")
                .pragma("temp_store", "memory")
        });
    let db = Database::connect(co)
        .await
        .map_err(|e| StoreError::Config(format!("无法连接数据库：{}", redact(&e.to_string()))))?;
    if sqlite {
        // WAL lets pages read while an import writes; it is a property of the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .await?;
    }
    Ok(db)
}

fn redact(s: &str) -> String {
    match (s.find("://"), s.find('@')) {
        (Some(a), Some(b)) if b > a => format!("{}://***{}", &s[..a], &s[b..]),
        _ => s.to_string(),
    }
}

/// Rewrites `?` placeholders for the backend.
pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for ch in sql.chars() {
            if ch == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

pub(crate) async fn exec<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<u64> {
    let r = c
        .execute_raw(stmt(c.get_database_backend(), sql, values))
        .await?;
    Ok(r.rows_affected())
}

pub(crate) async fn all<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<QueryResult>> {
    Ok(c.query_all_raw(stmt(c.get_database_backend(), sql, values))
        .await?)
}

pub(crate) async fn one<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>> {
    Ok(c.query_one_raw(stmt(c.get_database_backend(), sql, values))
        .await?)
}

pub(crate) async fn scalar_i64<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<i64> {
    Ok(match one(c, sql, values).await? {
        Some(r) => r.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
        None => 0,
    })
}

/// Reads a column by name.
pub(crate) fn get<T: sea_orm::TryGetable>(r: &QueryResult, col: &str) -> Result<T> {
    Ok(r.try_get::<T>("", col)?)
}

/// The schema, in order. A migration is applied once, in one transaction, and recorded.
///
/// Design for a distributed PostgreSQL (Citus): codes begin with the county code, large
/// tables (compound, building) carry `county_code` and have it first in their key, and there
/// are no sequences: ids are UUIDv7 made by the application.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE county (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    demo BOOLEAN NOT NULL DEFAULT FALSE,
    -- Bumped by every write that changes what the overview shows, and the overview is cached
    -- per version (see Store::overview).
    version BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE street (
    code TEXT PRIMARY KEY,
    county_code TEXT NOT NULL REFERENCES county(code),
    name TEXT NOT NULL,
    placeholder_code BOOLEAN NOT NULL DEFAULT FALSE,
    valid_from TEXT NOT NULL,
    valid_to TEXT
);
CREATE INDEX street_county ON street(county_code);
CREATE TABLE community (
    code TEXT PRIMARY KEY,
    county_code TEXT NOT NULL REFERENCES county(code),
    street_code TEXT NOT NULL REFERENCES street(code),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    tier TEXT,
    centre_location TEXT,
    centre_area DOUBLE PRECISION,
    hall_area DOUBLE PRECISION,
    boundary_east TEXT,
    boundary_north TEXT,
    boundary_west TEXT,
    boundary_south TEXT,
    declared_grids BIGINT,
    declared_compounds BIGINT,
    declared_households BIGINT,
    declared_population BIGINT,
    placeholder_code BOOLEAN NOT NULL DEFAULT FALSE,
    live_grids BIGINT NOT NULL DEFAULT 0,
    live_compounds BIGINT NOT NULL DEFAULT 0,
    households BIGINT NOT NULL DEFAULT 0,
    population BIGINT NOT NULL DEFAULT 0,
    valid_from TEXT NOT NULL,
    valid_to TEXT
);
CREATE INDEX community_street ON community(street_code);
CREATE INDEX community_county ON community(county_code);
CREATE TABLE grid (
    code TEXT PRIMARY KEY,
    county_code TEXT NOT NULL REFERENCES county(code),
    community_code TEXT NOT NULL REFERENCES community(code),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    tier TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT
);
CREATE INDEX grid_community ON grid(community_code);
CREATE TABLE compound (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    community_code TEXT NOT NULL REFERENCES community(code),
    grid_code TEXT REFERENCES grid(code),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    households BIGINT NOT NULL,
    population BIGINT NOT NULL,
    residential_area DOUBLE PRECISION,
    has_property_management BOOLEAN NOT NULL,
    property_company TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX compound_community ON compound(community_code, grid_code);
CREATE INDEX compound_grid ON compound(grid_code);
CREATE TABLE building (
    county_code TEXT NOT NULL,
    id TEXT NOT NULL,
    compound_id TEXT NOT NULL,
    name TEXT NOT NULL,
    entrances BIGINT,
    floors BIGINT,
    households BIGINT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, compound_id) REFERENCES compound(county_code, id)
);
CREATE INDEX building_compound ON building(compound_id);
CREATE TABLE department (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    duties TEXT,
    phone TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    PRIMARY KEY (county_code, id)
);
CREATE TABLE app_user (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    totp_secret TEXT,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE user_role (
    user_id TEXT NOT NULL REFERENCES app_user(id),
    role TEXT NOT NULL,
    scope_kind TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    PRIMARY KEY (user_id, role, scope_kind, scope_key)
);
CREATE TABLE role_permission (
    role TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (role, permission)
);
CREATE TABLE user_session (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES app_user(id),
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    two_factor_ok BOOLEAN NOT NULL DEFAULT FALSE,
    csrf_token TEXT NOT NULL
);
CREATE INDEX user_session_user ON user_session(user_id);
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    client TEXT NOT NULL,
    result TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"#,
    ),
    (
        2,
        r#"
CREATE TABLE staff_assignment (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    person_name TEXT NOT NULL,
    role TEXT NOT NULL,
    post_level TEXT NOT NULL,
    post_code TEXT NOT NULL,
    compound_id TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX staff_assignment_post ON staff_assignment(post_code);
CREATE TABLE community_investment (
    community_code TEXT NOT NULL REFERENCES community(code),
    year BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    PRIMARY KEY (community_code, year)
);
ALTER TABLE compound ADD COLUMN geometry TEXT;
CREATE TABLE street_recruitment (
    street_code TEXT NOT NULL REFERENCES street(code),
    year BIGINT NOT NULL,
    social_workers BIGINT NOT NULL,
    PRIMARY KEY (street_code, year)
);
"#,
    ),
    (
        3,
        r#"
CREATE TABLE household (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    number TEXT NOT NULL,
    kind TEXT NOT NULL,
    grid_code TEXT NOT NULL REFERENCES grid(code),
    address TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    PRIMARY KEY (county_code, id)
);
CREATE UNIQUE INDEX household_number ON household(county_code, number);
CREATE INDEX household_grid ON household(grid_code);
CREATE TABLE resident (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    grid_code TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    id_enc TEXT NOT NULL,
    id_index TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    phone_enc TEXT,
    phone_index TEXT,
    phone_masked TEXT,
    ethnicity TEXT,
    political_status TEXT,
    employment TEXT,
    relation TEXT,
    moved_in TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX resident_id_index ON resident(id_index);
CREATE INDEX resident_phone_index ON resident(phone_index);
CREATE INDEX resident_grid ON resident(grid_code, name);
"#,
    ),
    (
        4,
        r#"
ALTER TABLE household ADD COLUMN compound_id TEXT;
ALTER TABLE household ADD COLUMN building_id TEXT;
ALTER TABLE resident ADD COLUMN living_household_id TEXT;
ALTER TABLE resident ADD COLUMN living_grid_code TEXT;
ALTER TABLE resident ADD COLUMN household_kind TEXT;
ALTER TABLE resident ADD COLUMN household_number TEXT;
UPDATE resident SET household_kind = (SELECT h.kind FROM household h WHERE h.county_code = resident.county_code AND h.id = resident.household_id), household_number = (SELECT h.number FROM household h WHERE h.county_code = resident.county_code AND h.id = resident.household_id);
ALTER TABLE county ADD COLUMN people_version BIGINT NOT NULL DEFAULT 0;
DROP INDEX resident_grid;
CREATE INDEX resident_grid_people ON resident(grid_code, valid_to, household_number, name, household_kind, sex, birth_date, living_grid_code);
CREATE INDEX resident_living_grid ON resident(living_grid_code) WHERE living_grid_code IS NOT NULL;
CREATE INDEX resident_living_household ON resident(living_household_id) WHERE living_household_id IS NOT NULL;
CREATE TABLE resident_move (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    resident_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    place TEXT,
    reason TEXT,
    from_household_id TEXT,
    to_household_id TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX resident_move_resident ON resident_move(resident_id);
CREATE TABLE special_record (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    resident_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    sensitivity TEXT NOT NULL,
    helper TEXT,
    helper_phone_enc TEXT,
    helper_phone_masked TEXT,
    difficulties TEXT,
    requests TEXT,
    risk TEXT NOT NULL,
    since TEXT NOT NULL,
    until TEXT,
    note TEXT,
    next_due TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX special_record_resident ON special_record(resident_id);
CREATE TABLE follow_up (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    date TEXT NOT NULL,
    content TEXT NOT NULL,
    risk TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX follow_up_record ON follow_up(record_id, date);
CREATE TABLE visit (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    grid_code TEXT NOT NULL,
    date TEXT NOT NULL,
    met TEXT NOT NULL,
    findings TEXT NOT NULL,
    follow_up TEXT,
    special_record_id TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX visit_grid ON visit(grid_code, date);
CREATE INDEX visit_household ON visit(household_id, date)
"#,
    ),
    (
        5,
        r#"
ALTER TABLE street ADD COLUMN people_version BIGINT NOT NULL DEFAULT 0
"#,
    ),
    (
        6,
        r#"
ALTER TABLE app_user ADD COLUMN totp_last_step BIGINT
"#,
    ),
    (
        7,
        r#"
CREATE TABLE compound_move (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    compound_id TEXT NOT NULL,
    from_grid TEXT,
    to_grid TEXT,
    day TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX compound_move_from ON compound_move(county_code, from_grid);
CREATE INDEX compound_move_to ON compound_move(county_code, to_grid);
"#,
    ),
    (
        8,
        r#"
CREATE TABLE barrier (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    street_code TEXT NOT NULL REFERENCES street(code),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    geometry TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX barrier_street ON barrier(county_code, street_code, valid_to);
"#,
    ),
    (
        9,
        r#"
CREATE TABLE department_grid (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    department_id TEXT NOT NULL,
    -- The upload it came in (a UUIDv7, so later uploads sort later), and its place there.
    layer TEXT NOT NULL,
    position BIGINT NOT NULL,
    code TEXT,
    name TEXT NOT NULL,
    geometry TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    -- Set when revoked into the unified grids (valid_to the same day). A row ended without it
    -- was replaced by a later upload of the department's layer.
    folded_on TEXT,
    folded_into TEXT,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, department_id) REFERENCES department(county_code, id)
);
CREATE INDEX department_grid_department ON department_grid(county_code, department_id, valid_to);
CREATE INDEX department_grid_folded_into ON department_grid(county_code, folded_into);
CREATE TABLE department_grid_compound (
    county_code TEXT NOT NULL,
    department_grid_id TEXT NOT NULL,
    compound_id TEXT NOT NULL,
    -- The unified grid the compound was in, and its households, the day its department grid
    -- was folded in (empty before).
    grid_code TEXT,
    households BIGINT,
    PRIMARY KEY (county_code, department_grid_id, compound_id),
    FOREIGN KEY (county_code, department_grid_id) REFERENCES department_grid(county_code, id),
    FOREIGN KEY (county_code, compound_id) REFERENCES compound(county_code, id)
);
CREATE INDEX department_grid_compound_compound ON department_grid_compound(county_code, compound_id);
"#,
    ),
    (
        10,
        // The masked ID number kept its last four digits, which with the birth date beside it
        // in every list made the whole number. It now shows only the issuing place.
        r#"
UPDATE resident SET id_masked = substr(id_masked, 1, 6) || '************'
"#,
    ),
    (
        11,
        // Set when someone other than the user resets the password: the account may not reveal
        // ID and phone numbers until the security administrator has confirmed the person.
        r#"
ALTER TABLE app_user ADD COLUMN reveal_held BOOLEAN NOT NULL DEFAULT FALSE
"#,
    ),
    (
        12,
        // A compound's households and property management as they were before a change made
        // on `day`: budgets of earlier years read them (as compound_move gives earlier grids).
        r#"
CREATE TABLE compound_change (
    county_code TEXT NOT NULL REFERENCES county(code),
    id TEXT NOT NULL,
    compound_id TEXT NOT NULL,
    day TEXT NOT NULL,
    households BIGINT NOT NULL,
    population BIGINT NOT NULL,
    has_property_management BOOLEAN NOT NULL,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX compound_change_compound ON compound_change(county_code, compound_id, day)
"#,
    ),
    (
        13,
        // Who last set the account's password for it (created it or reset it): that person may
        // not also release its reveal hold or clear its second factor.
        r#"
ALTER TABLE app_user ADD COLUMN reset_by TEXT
"#,
    ),
    (
        14,
        // Who cleared the account's second factor, until its owner enrols a new one: that
        // person may not also give it a one-time password.
        r#"
ALTER TABLE app_user ADD COLUMN totp_reset_by TEXT
"#,
    ),
    (
        15,
        // A user's rows of one action since a day: the daily count of already-registered
        // answers, read on every registration and search by number.
        r#"
CREATE INDEX audit_log_user_action ON audit_log(user_name, action, at)
"#,
    ),
];

/// Permissions added after the first migration, with the version that grants their
/// defaults (a county that edited its table keeps its edits for the older ones).
const NEW_PERMISSIONS: &[(i64, &[wangge_domain::access::Permission])] = &[(
    4,
    &[
        wangge_domain::access::Permission::PersonWrite,
        wangge_domain::access::Permission::VisitWrite,
        wangge_domain::access::Permission::SpecialCare,
        wangge_domain::access::Permission::SpecialSecurity,
    ],
)];

/// Audit rows are append-only: the database itself refuses UPDATE and DELETE on them, for
/// every role including the application's own. The one place the backends differ.
const AUDIT_GUARD_SQLITE: &[&str] = &[
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能修改'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能删除'); END",
];
const AUDIT_GUARD_POSTGRES: &[&str] = &[
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '审计日志只能追加，不能修改或删除'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC",
];

pub(crate) async fn migrate(db: &DatabaseConnection) -> Result<()> {
    db.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS schema_migration (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    for (version, sql) in MIGRATIONS {
        let done = scalar_i64(
            db,
            "SELECT COUNT(*) FROM schema_migration WHERE version = ?",
            vec![(*version).into()],
        )
        .await?;
        if done > 0 {
            continue;
        }
        let tx = db.begin().await?;
        for part in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            tx.execute_unprepared(part).await?;
        }
        if *version == 1 {
            let guard = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
                AUDIT_GUARD_POSTGRES
            } else {
                AUDIT_GUARD_SQLITE
            };
            for part in guard {
                tx.execute_unprepared(part).await?;
            }
            for (role, permission) in wangge_domain::access::default_permissions() {
                if NEW_PERMISSIONS.iter().any(|(_, p)| p.contains(&permission)) {
                    continue;
                }
                exec(
                    &tx,
                    "INSERT INTO role_permission (role, permission) VALUES (?, ?)",
                    vec![role.key().into(), permission.key().into()],
                )
                .await?;
            }
        }
        for (v, added) in NEW_PERMISSIONS {
            if v != version {
                continue;
            }
            for (role, permission) in wangge_domain::access::default_permissions() {
                if added.contains(&permission) {
                    exec(
                        &tx,
                        "INSERT INTO role_permission (role, permission) VALUES (?, ?)",
                        vec![role.key().into(), permission.key().into()],
                    )
                    .await?;
                }
            }
        }
        exec(
            &tx,
            "INSERT INTO schema_migration (version, applied_at) VALUES (?, ?)",
            vec![(*version).into(), crate::now_secs().into()],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
    }
    Ok(())
}
