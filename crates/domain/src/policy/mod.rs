//! Policy as data: the rules of one jurisdiction from one date, read from a TOML file
//! (`policies/*.toml` at the repository root), and what they make of a registry.
//!
//! - [`Policy::parse`] reads a file's text (the caller reads the file) and refuses it with
//!   errors naming the file and the key path; a [`Policy`] value is valid.
//! - [`evaluate`] takes a [`Snapshot`] of the registry, a policy and a year, and gives the
//!   grid-staff subsidies (person → grid → community → street → county, by month and year, in
//!   fen), each community's money and staff, and the compliance [`Finding`]s.
//! - [`Policy::grid_needs`] says what a proposed grid needs (posts, workers, subsidies,
//!   equipment, station area) before anyone is assigned, for weighing grid plans.
//! - [`tables`] lays out 附件3 and 附件4 as cells and merge ranges for a spreadsheet writer.
//!
//! No policy number is a constant here: every one comes from the file.

mod eval;
pub mod format;
mod input;
pub mod needs;
pub mod tables;
mod validate;

use std::fmt;

use serde::Serialize;

pub use eval::*;
pub use format::{GridDivision, PolicyDoc};
pub use input::*;

use format::{BoundaryRule, SubsidyTier, TierTable};

/// Fen in a yuan.
pub const FEN_PER_YUAN: i64 = 100;
/// Fen in a 万元 (ten thousand yuan), the unit of the official tables.
pub const FEN_PER_WAN: i64 = 10_000 * FEN_PER_YUAN;

/// One error of a policy file, for users (zh-CN): `file: key.path: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyError {
    pub file: String,
    /// Dotted key path with array indices, e.g. `grid_subsidy.with_property_management.tiers[2].min_households`;
    /// empty when the error is in the TOML syntax.
    pub key: String,
    pub message: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)?;
        if let Some(l) = self.line {
            write!(f, "（第 {l} 行）")?;
        }
        Ok(())
    }
}

/// Every error of a refused policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A valid policy: a parsed and checked file, and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    file: String,
    doc: PolicyDoc,
}

impl Policy {
    /// Reads a policy file's text. `file` names it in error messages (e.g.
    /// `370725-changle-2020.toml`).
    pub fn parse(file: &str, text: &str) -> Result<Policy, PolicyErrors> {
        let one = |key: String, message: String, line: Option<usize>| {
            PolicyErrors(vec![PolicyError {
                file: file.to_string(),
                key,
                message,
                line,
            }])
        };
        let de = toml::Deserializer::parse(text).map_err(|e| {
            one(
                String::new(),
                format!("TOML 语法错误：{}", e.message()),
                e.span().map(|s| line_of(text, s.start)),
            )
        })?;
        let doc: PolicyDoc = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let line = inner.span().map(|s| line_of(text, s.start));
            let (key, message) = translate(&path, inner.message());
            one(key, message, line)
        })?;
        let errors = validate::check(&doc);
        if !errors.is_empty() {
            return Err(PolicyErrors(
                errors
                    .into_iter()
                    .map(|(key, message)| PolicyError {
                        file: file.to_string(),
                        key,
                        message,
                        line: None,
                    })
                    .collect(),
            ));
        }
        Ok(Policy {
            file: file.to_string(),
            doc,
        })
    }

    /// The file name the policy was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The checked contents of the file.
    pub fn doc(&self) -> &PolicyDoc {
        &self.doc
    }

    pub fn jurisdiction_code(&self) -> &str {
        self.doc.meta.jurisdiction_code.as_str()
    }

    pub fn jurisdiction_name(&self) -> &str {
        &self.doc.meta.jurisdiction_name
    }

    pub fn effective_from(&self) -> crate::Date {
        self.doc.meta.effective_from
    }

    /// The years 附件3 lays side by side for `year`: the county's funding programme that pays
    /// in that year (the first `county_funds` line whose years include it: 2020–2022 for
    /// 昌乐's 500万 a year over three years, whichever of them is asked), else the year with
    /// the one before and the one after.
    pub fn annex_years(&self, year: i32) -> Vec<i32> {
        self.doc
            .community_money
            .iter()
            .flat_map(|m| &m.county_funds)
            .find(|f| (f.first_year..f.first_year + f.years).contains(&year))
            .map_or_else(
                || (year - 1..=year + 1).collect(),
                |f| (f.first_year..f.first_year + f.years).collect(),
            )
    }

    /// The grid-worker tier for a compound (or grid) of `households`, with or without
    /// property management; `None` if the policy gives no such table.
    pub fn worker_tier(&self, has_property_management: bool, households: i64) -> Option<TierHit> {
        let s = self.doc.grid_subsidy.as_ref()?;
        if let Some(t) = self.two_workers_cover(has_property_management, households) {
            return Some(TierHit {
                monthly_fen: t.monthly_yuan_each * FEN_PER_YUAN,
                workers: t.workers,
                rule: "grid_subsidy.two_workers".to_string(),
            });
        }
        let (name, table) = if has_property_management {
            (
                "with_property_management",
                s.with_property_management.as_ref()?,
            )
        } else {
            (
                "without_property_management",
                s.without_property_management.as_ref()?,
            )
        };
        let i = tier_index(table, s.boundary, households)?;
        Some(TierHit {
            monthly_fen: table.tiers[i].monthly_yuan * FEN_PER_YUAN,
            workers: 1,
            rule: format!("grid_subsidy.{name}.tiers[{i}]"),
        })
    }

    /// The two-worker rule, if it covers a compound of `households` with or without property
    /// management (its threshold follows the file's boundary choice like the tiers).
    pub fn two_workers_cover(
        &self,
        has_property_management: bool,
        households: i64,
    ) -> Option<&format::TwoWorkers> {
        let s = self.doc.grid_subsidy.as_ref()?;
        let t = s.two_workers.as_ref()?;
        let above = match s.boundary {
            BoundaryRule::UpperTier => households >= t.min_households,
            BoundaryRule::LowerTier => households > t.min_households,
        };
        ((has_property_management || t.applies_without_property_management) && above).then_some(t)
    }

    /// The policy in force in `jurisdiction_code` on `date`: the latest effective on or
    /// before it.
    pub fn in_force<'a>(
        policies: &'a [Policy],
        jurisdiction_code: &str,
        date: crate::Date,
    ) -> Option<&'a Policy> {
        policies
            .iter()
            .filter(|p| p.jurisdiction_code() == jurisdiction_code && p.effective_from() <= date)
            .max_by_key(|p| p.effective_from())
    }
}

/// A worker's tier: the monthly amount, how many workers it is for, and its key path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierHit {
    pub monthly_fen: i64,
    pub workers: i64,
    pub rule: String,
}

/// The tier a household count falls in; tiers are contiguous (checked on load).
fn tier_index(t: &TierTable, boundary: BoundaryRule, h: i64) -> Option<usize> {
    let inside = |i: usize, tier: &SubsidyTier| {
        let min = tier.min_households.unwrap_or(0);
        let above_min = match boundary {
            _ if i == 0 => h >= min,
            BoundaryRule::UpperTier => h >= min,
            BoundaryRule::LowerTier => h > min,
        };
        let below_max = match (tier.max_households, boundary) {
            (None, _) => true,
            (Some(m), BoundaryRule::UpperTier) => h < m,
            (Some(m), BoundaryRule::LowerTier) => h <= m,
        };
        above_min && below_max
    };
    t.tiers
        .iter()
        .enumerate()
        .position(|(i, tier)| inside(i, tier))
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte).unwrap_or(text).matches('\n').count() + 1
}

/// Turns serde's English message into a key path and a Chinese message.
fn translate(path: &str, msg: &str) -> (String, String) {
    let join = |field: &str| {
        if path.is_empty() || path == "." {
            field.to_string()
        } else {
            format!("{path}.{field}")
        }
    };
    let quoted = |s: &str| -> Option<String> {
        let a = s.find('`')?;
        let b = s[a + 1..].find('`')?;
        Some(s[a + 1..a + 1 + b].to_string())
    };
    let expected = |s: &str| -> String {
        s.split_once("expected ")
            .map(|(_, e)| {
                let e = e.replace('`', "");
                let e = e.strip_prefix("one of ").unwrap_or(&e);
                e.replace(" or ", "、").replace(", ", "、")
            })
            .unwrap_or_default()
    };
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let field = quoted(rest).unwrap_or_default();
        // The path already ends with the unknown key.
        let key = if path == field || path.ends_with(&format!(".{field}")) {
            path.to_string()
        } else {
            join(&field)
        };
        let exp = expected(rest);

        let msg = if exp.is_empty() {
            "未知的键".to_string()
        } else {
            format!("未知的键，此处可用的键：{exp}")
        };
        return (key, msg);
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        let field = quoted(rest).unwrap_or_default();
        return (join(&field), "缺少必填的键".to_string());
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let v = quoted(rest).unwrap_or_default();
        return (
            path.to_string(),
            format!("“{v}”不是可选值，可选：{}", expected(rest)),
        );
    }
    if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        let exp = expected(msg);
        let want = if exp.contains("i64") || exp.contains("i32") || exp.contains("integer") {
            "整数".to_string()
        } else if exp.contains("bool") {
            "true 或 false".to_string()
        } else if exp.contains("string") || exp.contains("String") {
            "字符串".to_string()
        } else if exp.contains("sequence") {
            "数组".to_string()
        } else {
            exp
        };
        return (path.to_string(), format!("类型不对，应为{want}（{msg}）"));
    }
    (path.to_string(), msg.to_string())
}
