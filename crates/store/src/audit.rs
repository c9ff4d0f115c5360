//! The audit log: one row per login, write, permission change, export and read of protected
//! personal data — who, with which roles, what, which object, when (UTC), from where, and the
//! result; never the protected values themselves.
//!
//! Rows are append-only (the database refuses UPDATE and DELETE, see `db.rs`) and hash-chained:
//! each row's hash covers its fields and the previous row's hash, so changing any byte of any
//! row breaks the chain from that row on, and [`Store::verify_audit`] names the first one.

use sea_orm::Value;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{all, exec, get, one};
use crate::{Result, Store, StoreError, now_secs};

/// What to record.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub user: String,
    /// The user's roles and scopes, e.g. `county_admin@370725`.
    pub roles: String,
    /// e.g. `POST /api/streets`, `login`, `export`.
    pub action: String,
    /// The object: a path, a code or an id — never a protected value.
    pub object: String,
    pub client: String,
    /// e.g. `201`, `denied`, `failed`.
    pub result: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRow {
    pub seq: i64,
    /// RFC 3339, UTC, as chained.
    pub at: String,
    /// The same instant in China (UTC+8), as users read it: `2026-11-25 06:30:00`.
    pub at_china: String,
    pub user: String,
    pub roles: String,
    pub action: String,
    pub object: String,
    pub client: String,
    pub result: String,
    pub hash: String,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AuditCheck {
    Intact {
        rows: i64,
    },
    /// The first row whose stored hash or link does not match.
    Broken {
        seq: i64,
        reason: String,
    },
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The China time (UTC+8) of an RFC 3339 UTC timestamp, `2026-11-25 06:30:00`; the text as
/// it is when it is not one.
pub fn china_time(at: &str) -> String {
    let secs = || -> Option<i64> {
        let d = wangge_domain::Date::parse(at.get(..10)?).ok()?;
        let part = |r: std::ops::Range<usize>| at.get(r)?.parse::<i64>().ok();
        Some(
            wangge_domain::people::calendar::unix_days(d) * 86_400
                + part(11..13)? * 3600
                + part(14..16)? * 60
                + part(17..19)?,
        )
    };
    match secs() {
        Some(s) => {
            let s = s + CHINA_OFFSET;
            let d = wangge_domain::Date::from_unix_days(s.div_euclid(86_400));
            let t = s.rem_euclid(86_400);
            format!("{d} {:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60)
        }
        None => at.to_string(),
    }
}

const CHINA_OFFSET: i64 = 8 * 3600;

/// The first instant of a date in China, as rows store instants (UTC): the 25th in Beijing
/// begins at 16:00 on the 24th.
pub(crate) fn china_day_start(d: wangge_domain::Date) -> String {
    rfc3339(wangge_domain::people::calendar::unix_days(d) * 86_400 - CHINA_OFFSET)
}

/// RFC 3339 UTC timestamp of Unix seconds.
fn rfc3339(secs: i64) -> String {
    let d = wangge_domain::Date::from_unix_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!("{d}T{:02}:{:02}:{:02}Z", t / 3600, t % 3600 / 60, t % 60)
}

#[allow(clippy::too_many_arguments)]
fn row_hash(
    seq: i64,
    at: &str,
    user: &str,
    roles: &str,
    action: &str,
    object: &str,
    client: &str,
    result: &str,
    prev: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        seq.to_string().as_str(),
        at,
        user,
        roles,
        action,
        object,
        client,
        result,
        prev,
    ] {
        // Length-prefixed, so that moving text between fields changes the hash.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn audit_row(r: &sea_orm::QueryResult) -> Result<(AuditRow, String)> {
    Ok((
        AuditRow {
            seq: get(r, "seq")?,
            at_china: china_time(&get::<String>(r, "at")?),
            at: get(r, "at")?,
            user: get(r, "user_name")?,
            roles: get(r, "roles")?,
            action: get(r, "action")?,
            object: get(r, "object")?,
            client: get(r, "client")?,
            result: get(r, "result")?,
            hash: get(r, "hash")?,
        },
        get(r, "prev_hash")?,
    ))
}

/// Filters for reading the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: u64,
}

impl Store {
    /// Appends one row. Two writers racing for the same sequence number: the loser retries.
    pub async fn audit(&self, e: &AuditEntry) -> Result<()> {
        let _turn = self.audit_turn.lock().await;
        for _ in 0..20 {
            let last = one(
                self.conn(),
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                vec![],
            )
            .await?;
            let (seq, prev) = match last {
                Some(r) => (get::<i64>(&r, "seq")? + 1, get::<String>(&r, "hash")?),
                None => (1, GENESIS.to_string()),
            };
            let at = rfc3339(now_secs());
            let hash = row_hash(
                seq, &at, &e.user, &e.roles, &e.action, &e.object, &e.client, &e.result, &prev,
            );
            let values: Vec<Value> = vec![
                seq.into(),
                at.into(),
                e.user.clone().into(),
                e.roles.clone().into(),
                e.action.clone().into(),
                e.object.clone().into(),
                e.client.clone().into(),
                e.result.clone().into(),
                prev.into(),
                hash.into(),
            ];
            match exec(
                self.conn(),
                "INSERT INTO audit_log (seq, at, user_name, roles, action, object, client, result, prev_hash, hash) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            .await
            {
                Ok(_) => return Ok(()),
                Err(StoreError::Db(e))
                    if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict("审计日志写入冲突，请重试".into()))
    }

    /// Checks the whole chain, in order.
    pub async fn verify_audit(&self) -> Result<AuditCheck> {
        let mut prev = GENESIS.to_string();
        let mut expected_seq = 1;
        let mut after = 0i64;
        loop {
            let rows = all(
                self.conn(),
                "SELECT seq, at, user_name, roles, action, object, client, result, prev_hash, hash \
                 FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 5000",
                vec![after.into()],
            )
            .await?;
            if rows.is_empty() {
                return Ok(AuditCheck::Intact {
                    rows: expected_seq - 1,
                });
            }
            for r in &rows {
                let (row, stored_prev) = audit_row(r)?;
                if row.seq != expected_seq {
                    return Ok(AuditCheck::Broken {
                        seq: row.seq,
                        reason: format!("序号不连续：应为 {expected_seq}，现为 {}", row.seq),
                    });
                }
                if stored_prev != prev {
                    return Ok(AuditCheck::Broken {
                        seq: row.seq,
                        reason: "与上一行的链接不符".into(),
                    });
                }
                let h = row_hash(
                    row.seq,
                    &row.at,
                    &row.user,
                    &row.roles,
                    &row.action,
                    &row.object,
                    &row.client,
                    &row.result,
                    &stored_prev,
                );
                if h != row.hash {
                    return Ok(AuditCheck::Broken {
                        seq: row.seq,
                        reason: "内容与其哈希不符（该行被改动过）".into(),
                    });
                }
                prev = row.hash;
                expected_seq += 1;
                after = row.seq;
            }
        }
    }

    /// Rows, newest first, filtered.
    pub async fn audit_rows(&self, f: &AuditFilter) -> Result<Vec<AuditRow>> {
        let mut sql = String::from(
            "SELECT seq, at, user_name, roles, action, object, client, result, prev_hash, hash FROM audit_log WHERE 1 = 1",
        );
        let mut values: Vec<Value> = Vec::new();
        if let Some(u) = f.user.as_deref().filter(|s| !s.is_empty()) {
            sql.push_str(" AND user_name = ?");
            values.push(u.into());
        }
        if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
            sql.push_str(" AND action LIKE ?");
            values.push(format!("%{a}%").into());
        }
        // Dates are China dates, as every other date in the product.
        let day = |d: &str| wangge_domain::Date::parse(d).ok();
        if let Some(d) = f.from.as_deref().and_then(day) {
            sql.push_str(" AND at >= ?");
            values.push(china_day_start(d).into());
        }
        if let Some(d) = f.to.as_deref().and_then(day) {
            let next = wangge_domain::people::calendar::add_days(d, 1).unwrap_or(d);
            sql.push_str(" AND at < ?");
            values.push(china_day_start(next).into());
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        values.push((f.limit.clamp(1, 100_000) as i64).into());
        let rows = all(self.conn(), &sql, values).await?;
        rows.iter().map(|r| Ok(audit_row(r)?.0)).collect()
    }

    /// Every row of a table as text, on PostgreSQL (for tests that prove what is not stored;
    /// on SQLite, read the file).
    pub async fn table_as_text(&self, table: &str) -> Result<String> {
        if !table.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(StoreError::Config("表名无效".into()));
        }
        let rows = all(
            self.conn(),
            &format!("SELECT CAST(t AS TEXT) AS x FROM {table} t"),
            vec![],
        )
        .await?;
        let mut out = String::new();
        for r in &rows {
            out.push_str(&get::<String>(r, "x")?);
            out.push('\n');
        }
        Ok(out)
    }

    /// Runs one statement as the application's own database role. For maintenance and for the
    /// tests that show what the database refuses.
    pub async fn execute_as_app(&self, sql: &str) -> Result<u64> {
        exec(self.conn(), sql, vec![]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_hashes() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_763_900_000), "2025-11-23T12:13:20Z");
        let a = row_hash(1, "t", "u", "r", "a", "o", "c", "ok", GENESIS);
        let b = row_hash(1, "t", "u", "r", "a", "o", "c", "ok!", GENESIS);
        let c = row_hash(1, "t", "u", "r", "ao", "", "c", "ok", GENESIS);
        assert_ne!(a, b);
        assert_ne!(row_hash(1, "t", "u", "r", "a", "o", "c", "ok", GENESIS), c);
    }

    #[test]
    fn rows_are_read_and_filtered_in_beijing_time() {
        // 16:30 UTC on the 24th is 00:30 on the 25th in Beijing.
        assert_eq!(china_time("2026-11-24T16:30:05Z"), "2026-11-25 00:30:05");
        assert_eq!(china_time("2026-12-31T23:59:59Z"), "2027-01-01 07:59:59");
        assert_eq!(china_time("not a time"), "not a time");
        let d = wangge_domain::Date::new(2026, 11, 25).unwrap();
        assert_eq!(china_day_start(d), "2026-11-24T16:00:00Z");
    }
}
