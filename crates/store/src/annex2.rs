//! Whole-county loads (the demo county, the benchmark's synthetic county) and the 附件2 table
//! (社区基本情况表) in and out of the registry.

use sea_orm::{ConnectionTrait, TransactionTrait, Value};
use serde::Serialize;
use wangge_domain::access::{Access, Permission};
use wangge_domain::annex2::{CellError, CommunityRow, StreetTable};
use wangge_domain::demo::{DEPARTMENTS, DemoCounty};
use wangge_domain::registry::{CommunityInput, Figures};
use wangge_domain::{Boundary, CommunityCode, CommunityKind, StreetCode};

use crate::db::{all, exec, get};
use crate::registry::{Street, insert_community, set_declared};
use crate::{Result, Store, StoreError, new_id, today};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub streets: usize,
    pub created: usize,
    pub updated: usize,
}

/// Inserts many rows with multi-row INSERTs, in batches that stay under both databases'
/// limits on bound parameters.
pub(crate) async fn insert_rows<C: ConnectionTrait>(
    c: &C,
    head: &str,
    width: usize,
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    let one = format!("({})", vec!["?"; width].join(", "));
    insert_rows_as(c, head, &one, width, rows).await
}

/// As `insert_rows`, with one row's `VALUES` tuple given: constants shared by every row
/// (a county code, a date) written once as SQL literals instead of bound a million times.
pub(crate) async fn insert_rows_as<C: ConnectionTrait>(
    c: &C,
    head: &str,
    tuple: &str,
    params: usize,
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    let per = (30_000 / params.max(1)).max(1);
    let mut iter = rows.into_iter().peekable();
    while iter.peek().is_some() {
        let batch: Vec<Vec<Value>> = iter.by_ref().take(per).collect();
        let sql = format!("{head} VALUES {}", vec![tuple; batch.len()].join(", "));
        exec(c, &sql, batch.into_iter().flatten().collect()).await?;
    }
    Ok(())
}

/// A text constant as an SQL literal. Only for values the program made (codes, dates): a `?`
/// in it would be taken for a placeholder.
pub(crate) fn literal(s: &str) -> String {
    debug_assert!(!s.contains('?'));
    format!("'{}'", s.replace('\'', "''"))
}

impl Store {
    /// Loads a whole county (the demo, or a synthetic one for benchmarks) into an empty
    /// registry, in one transaction. Loading the demo again is a no-op.
    pub async fn load_county(&self, county: &DemoCounty, demo: bool) -> Result<bool> {
        if let Some(c) = self.county().await? {
            if c.code == county.code.as_str() && c.demo == demo {
                return Ok(false);
            }
            return Err(StoreError::Conflict(format!(
                "数据库中已有{}（{}），不能再载入演示数据；请换一个数据目录",
                c.name, c.code
            )));
        }
        // The demo's places stand for ones in use before its staff were posted (2020-06-01,
        // `demo::STAFF_FROM`): they start at the beginning of that year, not on loading day.
        let since = if demo {
            "2020-01-01".to_string()
        } else {
            today().to_string()
        };
        let cc = county.code.as_str();
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "INSERT INTO county (code, name, demo) VALUES (?, ?, ?)",
            vec![cc.into(), county.name.into(), demo.into()],
        )
        .await?;
        let mut streets = Vec::new();
        let mut communities = Vec::new();
        let mut grids = Vec::new();
        let mut compounds = Vec::new();
        let mut buildings = Vec::new();
        for (si, s) in county.streets.iter().enumerate() {
            streets.push(vec![
                s.code.as_str().into(),
                cc.into(),
                s.name.clone().into(),
                true.into(),
                since.clone().into(),
            ]);
            for (local, c) in s.communities.iter().enumerate() {
                let b = &c.basics;
                let households: i64 = c.compounds.iter().map(|m| m.households).sum();
                let population: i64 = c.compounds.iter().map(|m| m.population).sum();
                communities.push(vec![
                    c.code.as_str().into(),
                    cc.into(),
                    s.code.as_str().into(),
                    b.name.clone().into(),
                    c.kind.key().into(),
                    Some(c.tier.key().to_string()).into(),
                    b.centre_location.clone().into(),
                    c.boundary.east.clone().into(),
                    c.boundary.north.clone().into(),
                    c.boundary.west.clone().into(),
                    c.boundary.south.clone().into(),
                    b.grids.into(),
                    b.compounds.into(),
                    b.households.into(),
                    b.population.into(),
                    true.into(),
                    (c.grids.len() as i64).into(),
                    (c.compounds.len() as i64).into(),
                    households.into(),
                    population.into(),
                    since.clone().into(),
                ]);
                for g in &c.grids {
                    grids.push(vec![
                        g.code.as_str().into(),
                        cc.into(),
                        c.code.as_str().into(),
                        g.name.clone().into(),
                        g.kind.key().into(),
                        g.tier.map(|t| t.key().to_string()).into(),
                        since.clone().into(),
                    ]);
                }
                for (mi, m) in c.compounds.iter().enumerate() {
                    let id = new_id();
                    // Where the demo's barriers are drawn too: the street's own array of blocks.
                    let geometry = wangge_domain::demo::cell_geojson(wangge_domain::demo::cell(
                        si,
                        local,
                        s.communities.len(),
                        mi,
                        c.compounds.len(),
                    ));
                    for k in 0..m.buildings {
                        buildings.push(vec![
                            cc.into(),
                            new_id().into(),
                            id.clone().into(),
                            format!("{}号楼", k + 1).into(),
                            Some(2i64).into(),
                            Some(6 + (k % 12) as i64).into(),
                            // The compound's households shared out whole: the
                            // buildings add up to the compound.
                            Some(share(m.households, m.buildings, k)).into(),
                            since.clone().into(),
                        ]);
                    }
                    compounds.push(vec![
                        cc.into(),
                        id.into(),
                        c.code.as_str().into(),
                        Some(c.grids[m.grid].code.to_string()).into(),
                        m.name.clone().into(),
                        m.kind.key().into(),
                        m.households.into(),
                        m.population.into(),
                        Some(m.residential_area).into(),
                        m.has_property_management.into(),
                        None::<String>.into(),
                        since.clone().into(),
                        Some(geometry).into(),
                    ]);
                }
            }
        }
        insert_rows(
            &tx,
            "INSERT INTO street (code, county_code, name, placeholder_code, valid_from)",
            5,
            streets,
        )
        .await?;
        insert_rows(
            &tx,
            "INSERT INTO community (code, county_code, street_code, name, kind, tier, centre_location, \
             boundary_east, boundary_north, boundary_west, boundary_south, declared_grids, \
             declared_compounds, declared_households, declared_population, placeholder_code, \
             live_grids, live_compounds, households, population, valid_from)",
            21,
            communities,
        )
        .await?;
        insert_rows(
            &tx,
            "INSERT INTO grid (code, county_code, community_code, name, kind, tier, valid_from)",
            7,
            grids,
        )
        .await?;
        insert_rows(
            &tx,
            "INSERT INTO compound (county_code, id, community_code, grid_code, name, kind, households, \
             population, residential_area, has_property_management, property_company, valid_from, geometry)",
            13,
            compounds,
        )
        .await?;
        insert_rows(
            &tx,
            "INSERT INTO building (county_code, id, compound_id, name, entrances, floors, households, valid_from)",
            8,
            buildings,
        )
        .await?;
        if demo {
            let departments = DEPARTMENTS
                .iter()
                .map(|(name, duties)| {
                    vec![
                        cc.into(),
                        new_id().into(),
                        (*name).into(),
                        Some(duties.to_string()).into(),
                        since.clone().into(),
                    ]
                })
                .collect();
            insert_rows(
                &tx,
                "INSERT INTO department (county_code, id, name, duties, valid_from)",
                5,
                departments,
            )
            .await?;
        }
        tx.commit().await?;
        // Fresh statistics, so that the query planners choose the selective indexes.
        exec(self.conn(), "ANALYZE", vec![]).await?;
        Ok(true)
    }

    /// The registry as 附件2 tables: one per live street, its live communities in code order,
    /// with the figures the overview shows.
    /// Only the communities the user may export are written; a user who may export none is
    /// refused.
    pub async fn annex2_tables(&self, a: &Access) -> Result<Vec<(String, Vec<CommunityRow>)>> {
        if !a.can_somewhere(Permission::RegistryExport) {
            return Err(StoreError::Forbidden("无权导出社区基本情况表".into()));
        }
        let mut overview = self.overview_any().await?;
        for s in &mut overview.streets {
            s.communities
                .retain(|c| a.can(Permission::RegistryExport, &c.code));
        }
        overview.streets.retain(|s| {
            !s.communities.is_empty() || a.can(Permission::RegistryExport, &s.street.code)
        });
        Ok(overview
            .streets
            .into_iter()
            .map(|s| {
                let rows = s
                    .communities
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| CommunityRow {
                        row: i + 3,
                        code: Some(c.code),
                        name: c.name,
                        grids: c.figures.grids,
                        compounds: c.figures.compounds,
                        households: c.figures.households,
                        population: c.figures.population,
                        centre_location: c.centre_location,
                        boundary: (!c.boundary_text.is_empty()).then_some(c.boundary_text),
                    })
                    .collect();
                (s.street.name, rows)
            })
            .collect())
    }

    /// Imports 附件2 tables, already read and checked cell by cell: every street must exist,
    /// every code must lie under its street. A community is matched by code, else by name
    /// within its street, else created with the next placeholder code. All or nothing.
    /// `since`: when the communities it creates started (they existed before the system);
    /// today when `None`. Not before their street's start, nor in the future.
    pub async fn import_annex2(
        &self,
        a: &Access,
        tables: &[StreetTable],
        since: Option<wangge_domain::Date>,
    ) -> Result<Result<ImportSummary, Vec<CellError>>> {
        if since.is_some_and(|d| d > today()) {
            return Err(StoreError::field("valid_from", "启用日期不能晚于今天"));
        }
        let county = self
            .county()
            .await?
            .ok_or_else(|| StoreError::NotFound("尚未设置本县（区），请先在总览页设置".into()))?;
        let rows = all(
            self.conn(),
            "SELECT code, county_code, name, placeholder_code, valid_from, valid_to FROM street \
             WHERE county_code = ? AND valid_to IS NULL",
            vec![county.code.clone().into()],
        )
        .await?;
        let streets: Vec<Street> = rows
            .iter()
            .map(|r| {
                Ok(Street {
                    code: get(r, "code")?,
                    county_code: get(r, "county_code")?,
                    name: get(r, "name")?,
                    placeholder_code: get(r, "placeholder_code")?,
                    valid_from: get(r, "valid_from")?,
                    valid_to: None,
                    figures: Figures::default(),
                })
            })
            .collect::<Result<_>>()?;
        let mut errors = Vec::new();
        let mut summary = ImportSummary::default();
        let tx = self.conn().begin().await?;
        for t in tables {
            let err = |row: usize, column: Option<usize>, field: Option<&str>, message: String| {
                CellError {
                    sheet: t.sheet.clone(),
                    row,
                    column,
                    field: field.map(str::to_string),
                    message,
                }
            };
            let wanted = t.street.trim();
            let Some(street) = streets.iter().find(|s| {
                s.name == wanted
                    || s.name.strip_suffix("街道") == Some(wanted)
                    || wanted.strip_suffix("街道") == Some(s.name.as_str())
            }) else {
                let known: Vec<&str> = streets.iter().map(|s| s.name.as_str()).collect();
                errors.push(err(
                    t.row,
                    None,
                    None,
                    format!(
                        "未知街道“{wanted}”：本县在册街道为 {}，请先建立该街道或更正表题",
                        if known.is_empty() {
                            "（无）".to_string()
                        } else {
                            known.join("、")
                        }
                    ),
                ));
                continue;
            };
            if !a.can(Permission::RegistryImport, &street.code) {
                errors.push(err(
                    t.row,
                    None,
                    None,
                    format!("无权导入{}的数据：不在您的管辖范围或权限之内", street.name),
                ));
                continue;
            }
            if let Some(d) = since
                && d.to_string() < street.valid_from
            {
                errors.push(err(
                    t.row,
                    None,
                    None,
                    format!(
                        "新建社区的启用日期 {d} 早于{}的启用日期 {}：请先在街道页“修改”中把街道启用日期改早，或改填启用日期",
                        street.name, street.valid_from
                    ),
                ));
                continue;
            }
            summary.streets += 1;
            let street_code =
                StreetCode::parse(&street.code).map_err(|e| StoreError::Config(e.to_string()))?;
            let existing = all(
                &tx,
                "SELECT code, name, street_code, valid_to FROM community WHERE street_code = ? OR code LIKE ?",
                vec![street.code.clone().into(), format!("{}%", street.code).into()],
            )
            .await?;
            let mut known: Vec<(String, String, Option<String>)> = existing
                .iter()
                .map(|r| Ok((get(r, "code")?, get(r, "name")?, get(r, "valid_to")?)))
                .collect::<Result<_>>()?;
            for r in &t.rows {
                let declared = Figures {
                    communities: 1,
                    grids: r.grids,
                    compounds: r.compounds,
                    households: r.households,
                    population: r.population,
                };
                let target = match &r.code {
                    Some(code) => match CommunityCode::parse_under(code, &street_code) {
                        Err(e) => {
                            errors.push(err(r.row, t.code_column, Some("社区代码"), e.to_string()));
                            continue;
                        }
                        Ok(code) => match known.iter().find(|k| k.0 == code.as_str()) {
                            Some((_, _, Some(retired))) => {
                                errors.push(err(
                                    r.row,
                                    t.code_column,
                                    Some("社区代码"),
                                    format!("社区代码“{code}”属于已于 {retired} 撤销的社区，不得重复使用"),
                                ));
                                continue;
                            }
                            Some(_) => Some(code.to_string()),
                            None => {
                                if let Some(other) =
                                    known.iter().find(|k| k.1 == r.name && k.2.is_none())
                                {
                                    errors.push(err(
                                        r.row,
                                        t.name_column,
                                        Some("社区名称"),
                                        format!(
                                            "本街道已有“{}”，其代码为 {}，与本行代码不符",
                                            r.name, other.0
                                        ),
                                    ));
                                    continue;
                                }
                                let input = input_of(r, since);
                                insert_community(
                                    &tx,
                                    street,
                                    &code,
                                    &input,
                                    false,
                                    Some(&declared),
                                )
                                .await?;
                                known.push((code.to_string(), r.name.clone(), None));
                                summary.created += 1;
                                None
                            }
                        },
                    },
                    None => match known.iter().find(|k| k.1 == r.name && k.2.is_none()) {
                        Some(k) => Some(k.0.clone()),
                        None => {
                            let max = known
                                .iter()
                                .filter_map(|k| CommunityCode::parse(&k.0).ok())
                                .map(|c| c.sequence())
                                .max()
                                .unwrap_or(0);
                            let Some(code) = CommunityCode::compose(&street_code, max + 1) else {
                                errors.push(err(
                                    r.row,
                                    t.name_column,
                                    Some("社区名称"),
                                    "本街道社区编号已用尽".into(),
                                ));
                                continue;
                            };
                            let input = input_of(r, since);
                            insert_community(&tx, street, &code, &input, true, Some(&declared))
                                .await?;
                            known.push((code.to_string(), r.name.clone(), None));
                            summary.created += 1;
                            None
                        }
                    },
                };
                if let Some(code) = target {
                    if let Some(k) = known.iter().find(|k| k.0 == code)
                        && k.1 != r.name
                        && known
                            .iter()
                            .any(|o| o.1 == r.name && o.0 != code && o.2.is_none())
                    {
                        errors.push(err(
                            r.row,
                            t.name_column,
                            Some("社区名称"),
                            format!("本街道已有另一个“{}”", r.name),
                        ));
                        continue;
                    }
                    let b = r
                        .boundary
                        .as_deref()
                        .map(Boundary::parse)
                        .unwrap_or_default();
                    exec(
                        &tx,
                        "UPDATE community SET name = ?, centre_location = ?, boundary_east = ?, \
                         boundary_north = ?, boundary_west = ?, boundary_south = ? WHERE code = ?",
                        vec![
                            r.name.clone().into(),
                            r.centre_location.clone().into(),
                            b.east.into(),
                            b.north.into(),
                            b.west.into(),
                            b.south.into(),
                            code.clone().into(),
                        ],
                    )
                    .await?;
                    set_declared(&tx, &code, &declared).await?;
                    summary.updated += 1;
                }
            }
        }
        if errors.is_empty() {
            tx.commit().await?;
            Ok(Ok(summary))
        } else {
            tx.rollback().await?;
            Ok(Err(errors))
        }
    }
}

fn input_of(r: &CommunityRow, since: Option<wangge_domain::Date>) -> CommunityInput {
    CommunityInput {
        code: None,
        name: r.name.clone(),
        kind: CommunityKind::Urban,
        tier: None,
        centre_location: r.centre_location.clone(),
        centre_area: None,
        hall_area: None,
        boundary: r
            .boundary
            .as_deref()
            .map(Boundary::parse)
            .unwrap_or_default(),
        valid_from: since,
    }
}

/// The `k`-th of `n` shares of `total`, as even as whole numbers allow (the first ones take
/// the remainder), so the shares add up to `total`.
fn share(total: i64, n: u32, k: u32) -> i64 {
    let n = i64::from(n.max(1));
    total / n + i64::from(i64::from(k) < total % n)
}

#[cfg(test)]
mod share_tests {
    #[test]
    fn shares_add_up() {
        for (total, n) in [(2275, 38), (10, 3), (2, 5), (0, 4)] {
            let sum: i64 = (0..n).map(|k| super::share(total, n, k)).sum();
            assert_eq!(sum, total, "{total} / {n}");
        }
        assert_eq!(super::share(2275, 38, 0), 60);
        assert_eq!(super::share(2275, 38, 37), 59);
    }
}
