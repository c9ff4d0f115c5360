//! Grids that departments drew on their own (部门自行划定的网格: a police 警格, a city-management
//! grid…), registered from the department's GIS layer, then revoked and folded into the
//! unified grids (撤销，统一归属新网格管理). Folding records, for every compound of every
//! department grid, the unified grid it was in that day: the history stays true when the
//! unified grids are redrawn later.

use std::collections::{HashMap, HashSet};

use sea_orm::TransactionTrait;
use serde::Serialize;
use wangge_domain::access::{Access, Permission};
use wangge_domain::redraw;

use crate::db::{all, exec, get};
use crate::registry::FoldedIn;
use crate::{Result, Store, StoreError, today};

/// A department grid: in force (to be folded in), or folded into the unified grids.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepartmentGrid {
    pub id: String,
    /// The upload it came in: folding takes the layer the user saw, or nothing.
    pub layer: String,
    /// The department's own code for it, if any.
    pub code: Option<String>,
    pub name: String,
    /// Registered with an outline (else by its list of compounds).
    pub has_outline: bool,
    pub valid_from: String,
    /// The day it was revoked and folded in; `None` while in force.
    pub folded_on: Option<String>,
    /// The unified grid that took most of its households that day.
    pub folded_into: Option<String>,
    /// Its compounds (those the user may see), with their unified grid: today's while it is
    /// in force, the one they were in when it was folded after.
    pub members: Vec<DepartmentGridMember>,
}

/// One compound of a department grid.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepartmentGridMember {
    pub compound_id: String,
    pub compound_name: String,
    pub community_code: String,
    pub community_name: String,
    pub grid_code: Option<String>,
    pub grid_name: Option<String>,
    pub households: i64,
    /// The compound's boundary (GeoJSON), for maps.
    #[serde(skip)]
    pub geometry: Option<String>,
}

impl DepartmentGrid {
    /// Its compounds summed by unified grid, the main one first, and how many compounds are
    /// in no grid (see [`redraw::fold_shares`]).
    pub fn shares(&self) -> (Vec<redraw::Share>, usize) {
        redraw::fold_shares(
            self.members
                .iter()
                .map(|m| (m.grid_code.as_deref(), m.households)),
        )
    }

    pub fn households(&self) -> i64 {
        self.members.iter().map(|m| m.households).sum()
    }
}

/// A department grid to register (see [`Store::replace_department_grids`]).
#[derive(Debug, Clone)]
pub struct NewDepartmentGrid {
    pub code: Option<String>,
    pub name: String,
    /// GeoJSON Polygon or MultiPolygon, as parsed by the domain.
    pub geometry: Option<String>,
    /// Ids of live compounds of the county.
    pub compounds: Vec<String>,
}

/// A live compound of the county, to place a department grid's outline on.
#[derive(Debug, Clone)]
pub struct CompoundPlace {
    pub id: String,
    pub name: String,
    pub community_code: String,
    pub community_name: String,
    pub grid_code: Option<String>,
    pub households: i64,
    pub geometry: Option<String>,
}

/// What folding a department's grids in did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FoldSummary {
    /// Department grids revoked.
    pub folded: usize,
    /// Their compounds, and those compounds' households.
    pub compounds: usize,
    pub households: i64,
    /// Unified grids that took them in.
    pub grids: usize,
}

/// Locks the department's row until commit: uploads and folds of one department go one after
/// the other.
async fn lock_department(
    tx: &sea_orm::DatabaseTransaction,
    county: &str,
    department: &str,
) -> Result<()> {
    exec(
        tx,
        "UPDATE department SET name = name WHERE county_code = ? AND id = ?",
        vec![county.into(), department.into()],
    )
    .await?;
    Ok(())
}

fn deny(what: &str) -> StoreError {
    StoreError::Forbidden(format!("无权{what}：不在您的管辖范围或权限之内"))
}

impl Store {
    /// Refuses unless the user may do `p` on the whole county, and returns its code.
    async fn county_wide(&self, a: &Access, p: Permission, what: &str) -> Result<String> {
        let county = self.county_code().await?;
        if a.can(p, &county) {
            Ok(county)
        } else {
            Err(deny(what))
        }
    }

    /// A department's grids: those in force first (in the order of its file), then those
    /// folded in, latest first. The department's staff and county-wide readers see every
    /// compound; readers of a street or community see the compounds inside their scope, and
    /// only the department grids that have one.
    pub async fn department_grids(
        &self,
        a: &Access,
        department: &str,
    ) -> Result<Vec<DepartmentGrid>> {
        // Refuses those who may not see the department at all.
        self.department(a, department).await?;
        self.department_grids_with(a, department, Permission::RegistryRead)
            .await
    }

    /// The outlines (GeoJSON) of a department's grids in force, by id, for maps.
    pub async fn department_grid_outlines(
        &self,
        a: &Access,
        department: &str,
    ) -> Result<HashMap<String, String>> {
        self.department(a, department).await?;
        if !a.can_in_department(Permission::RegistryRead, department)
            && !a.can_somewhere(Permission::RegistryRead)
        {
            return Err(deny("查看该部门的网格"));
        }
        let county = self.county_code().await?;
        let rows = all(
            self.conn(),
            "SELECT id, geometry FROM department_grid WHERE county_code = ? AND department_id = ? \
             AND valid_to IS NULL AND geometry IS NOT NULL",
            vec![county.into(), department.into()],
        )
        .await?;
        rows.iter()
            .map(|r| Ok((get(r, "id")?, get(r, "geometry")?)))
            .collect()
    }

    /// A department's grids as a table to download (部门网格与统一网格对照表): for its staff,
    /// and for those who may export the registry, with the compounds inside their scope.
    pub async fn export_department_grids(
        &self,
        a: &Access,
        department: &str,
    ) -> Result<Vec<DepartmentGrid>> {
        self.department(a, department).await?;
        if !a.can_in_department(Permission::RegistryExport, department)
            && !a.can_somewhere(Permission::RegistryExport)
        {
            return Err(deny("导出部门网格对照表"));
        }
        self.department_grids_with(a, department, Permission::RegistryExport)
            .await
    }

    /// A department's grids, with the compounds where the user may do `p` (all of them for
    /// the department's own staff).
    async fn department_grids_with(
        &self,
        a: &Access,
        department: &str,
        p: Permission,
    ) -> Result<Vec<DepartmentGrid>> {
        let county = self.county_code().await?;
        if !a.can_in_department(p, department) && !a.can_somewhere(p) {
            return Err(deny("查看该部门的网格"));
        }
        let prefixes = if a.can_in_department(p, department) || a.can(p, &county) {
            None
        } else {
            Some(a.prefixes(p))
        };
        let rows = all(
            self.conn(),
            "SELECT g.id, g.layer, g.code, g.name, CAST(CASE WHEN g.geometry IS NULL THEN 0 ELSE 1 END AS BIGINT) AS outline, \
             c.geometry AS compound_geometry, \
             g.valid_from, g.folded_on, g.folded_into, m.compound_id, c.name AS compound_name, \
             c.community_code, cm.name AS community_name, c.valid_to AS compound_retired, \
             CASE WHEN g.folded_on IS NULL THEN c.grid_code ELSE m.grid_code END AS grid_code, \
             CASE WHEN g.folded_on IS NULL THEN c.households ELSE m.households END AS households, \
             u.name AS grid_name \
             FROM department_grid g \
             LEFT JOIN department_grid_compound m ON m.county_code = g.county_code AND m.department_grid_id = g.id \
             LEFT JOIN compound c ON c.county_code = m.county_code AND c.id = m.compound_id \
             LEFT JOIN community cm ON cm.code = c.community_code \
             LEFT JOIN grid u ON u.code = (CASE WHEN g.folded_on IS NULL THEN c.grid_code ELSE m.grid_code END) \
             WHERE g.county_code = ? AND g.department_id = ? AND (g.valid_to IS NULL OR g.folded_on IS NOT NULL) \
             ORDER BY CASE WHEN g.folded_on IS NULL THEN 0 ELSE 1 END, g.folded_on DESC, g.layer DESC, g.position, \
             c.community_code, c.id",
            vec![county.into(), department.into()],
        )
        .await?;
        let mut out: Vec<DepartmentGrid> = Vec::new();
        for r in &rows {
            let id: String = get(r, "id")?;
            if out.last().is_none_or(|g| g.id != id) {
                out.push(DepartmentGrid {
                    id,
                    layer: get(r, "layer")?,
                    code: get(r, "code")?,
                    name: get(r, "name")?,
                    has_outline: get::<i64>(r, "outline")? == 1,
                    valid_from: get(r, "valid_from")?,
                    folded_on: get(r, "folded_on")?,
                    folded_into: get(r, "folded_into")?,
                    members: Vec::new(),
                });
            }
            let Some(compound_id) = get::<Option<String>>(r, "compound_id")? else {
                continue;
            };
            // A compound retired since the layer came in no longer counts for a grid in
            // force; one folded in is history and stays.
            // A folded grid holds the compounds live the day it was folded (those have their
            // households recorded).
            let retired = get::<Option<String>>(r, "compound_retired")?.is_some();
            let households: Option<i64> = get(r, "households")?;
            let folded = out.last().is_some_and(|g| g.folded_on.is_some());
            if (retired && !folded) || (folded && households.is_none()) {
                continue;
            }
            let member = DepartmentGridMember {
                compound_id,
                compound_name: get(r, "compound_name")?,
                community_code: get(r, "community_code")?,
                community_name: get(r, "community_name")?,
                grid_code: get(r, "grid_code")?,
                grid_name: get(r, "grid_name")?,
                households: households.unwrap_or(0),
                geometry: get(r, "compound_geometry")?,
            };
            let visible = prefixes.as_ref().is_none_or(|ps| {
                let place = member
                    .grid_code
                    .as_deref()
                    .unwrap_or(&member.community_code);
                ps.iter().any(|p| place.starts_with(p.as_str()))
            });
            if visible && let Some(g) = out.last_mut() {
                g.members.push(member);
            }
        }
        if let Some(ps) = &prefixes {
            out.retain(|g| !g.members.is_empty());
            // The grid that took most of it is named only to those who may see that grid.
            for g in &mut out {
                if g.folded_into
                    .as_ref()
                    .is_some_and(|f| !ps.iter().any(|p| f.starts_with(p.as_str())))
                {
                    g.folded_into = None;
                }
            }
        }
        Ok(out)
    }

    /// The county's live compounds, to place a department's grid outlines on. For those who
    /// may register department grids.
    pub async fn compound_places(&self, a: &Access) -> Result<Vec<CompoundPlace>> {
        let county = self
            .county_wide(a, Permission::RegistryWrite, "登记部门网格")
            .await?;
        self.compound_places_any(&county).await
    }

    async fn compound_places_any(&self, county: &str) -> Result<Vec<CompoundPlace>> {
        let rows = all(
            self.conn(),
            "SELECT c.id, c.name, c.community_code, m.name AS community_name, c.grid_code, \
             c.households, c.geometry FROM compound c JOIN community m ON m.code = c.community_code \
             WHERE c.county_code = ? AND c.valid_to IS NULL ORDER BY c.id",
            vec![county.into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CompoundPlace {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    community_code: get(r, "community_code")?,
                    community_name: get(r, "community_name")?,
                    grid_code: get(r, "grid_code")?,
                    households: get(r, "households")?,
                    geometry: get(r, "geometry")?,
                })
            })
            .collect()
    }

    /// Registers a department's grids from its layer, in one transaction: the department's
    /// grids in force and not yet folded are replaced (kept as history, ended today); those
    /// folded in stay. Every compound must be a live compound of the county, and in at most
    /// one of the grids. Needs the right to edit the county's registry.
    pub async fn replace_department_grids(
        &self,
        a: &Access,
        department: &str,
        items: &[NewDepartmentGrid],
    ) -> Result<usize> {
        let county = self
            .county_wide(a, Permission::RegistryWrite, "登记部门网格")
            .await?;
        let d = self.department(a, department).await?;
        if d.valid_to.is_some() {
            return Err(StoreError::Conflict("该部门已撤销".into()));
        }
        self.replace_department_grids_any(&county, department, items)
            .await
    }

    /// The demo's department grids (`department` by name), their compounds found by
    /// community and name; compounds not found are left out. Nothing is checked: for loading
    /// the demo county only.
    pub async fn load_demo_department_grids(
        &self,
        department: &str,
        grids: &[wangge_domain::demo::DemoDepartmentGrid],
    ) -> Result<()> {
        let county = self.county_code().await?;
        let Some(d) = self
            .departments_any()
            .await?
            .into_iter()
            .find(|d| d.name == department)
        else {
            return Ok(());
        };
        let ids: HashMap<(String, String), String> = self
            .compound_places_any(&county)
            .await?
            .into_iter()
            .map(|c| ((c.community_code, c.name), c.id))
            .collect();
        let items: Vec<NewDepartmentGrid> = grids
            .iter()
            .map(|g| NewDepartmentGrid {
                code: Some(g.code.clone()),
                name: g.name.clone(),
                geometry: None,
                compounds: g
                    .compounds
                    .iter()
                    .filter_map(|(c, n)| ids.get(&(c.as_str().to_string(), n.clone())).cloned())
                    .collect(),
            })
            .collect();
        self.replace_department_grids_any(&county, &d.id, &items)
            .await
            .map(|_| ())
    }

    async fn replace_department_grids_any(
        &self,
        county: &str,
        department: &str,
        items: &[NewDepartmentGrid],
    ) -> Result<usize> {
        let county = county.to_string();
        let tx = self.conn().begin().await?;
        // Two uploads at once replace one after the other (the department row is the lock).
        lock_department(&tx, &county, department).await?;
        let live: HashSet<String> = all(
            &tx,
            "SELECT id FROM compound WHERE county_code = ? AND valid_to IS NULL",
            vec![county.clone().into()],
        )
        .await?
        .iter()
        .map(|r| get::<String>(r, "id"))
        .collect::<Result<_>>()?;
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for g in items {
            for c in &g.compounds {
                if !live.contains(c) {
                    return Err(StoreError::Conflict(format!(
                        "部门网格“{}”中的小区编号“{c}”不存在或已撤销",
                        g.name
                    )));
                }
                if let Some(other) = seen.insert(c, &g.name) {
                    return Err(StoreError::Conflict(format!(
                        "小区“{c}”同时在部门网格“{other}”和“{}”中",
                        g.name
                    )));
                }
            }
        }
        let day = today().to_string();
        exec(
            &tx,
            "UPDATE department_grid SET valid_to = ? WHERE county_code = ? AND department_id = ? \
             AND valid_to IS NULL",
            vec![day.clone().into(), county.clone().into(), department.into()],
        )
        .await?;
        let mut members = Vec::new();
        let layer = crate::new_id();
        for (position, g) in items.iter().enumerate() {
            let id = crate::new_id();
            exec(
                &tx,
                "INSERT INTO department_grid (county_code, id, department_id, layer, position, code, \
                 name, geometry, valid_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    county.clone().into(),
                    id.clone().into(),
                    department.into(),
                    layer.clone().into(),
                    (position as i64).into(),
                    g.code.clone().into(),
                    g.name.clone().into(),
                    g.geometry.clone().into(),
                    day.clone().into(),
                ],
            )
            .await?;
            members.extend(
                g.compounds
                    .iter()
                    .map(|c| vec![county.clone().into(), id.clone().into(), c.clone().into()]),
            );
        }
        crate::annex2::insert_rows(
            &tx,
            "INSERT INTO department_grid_compound (county_code, department_grid_id, compound_id)",
            3,
            members,
        )
        .await?;
        tx.commit().await?;
        Ok(items.len())
    }

    /// Revokes a department's grids in force and folds them into the unified grids, in one
    /// transaction: each records the unified grid every compound is in today and the grid
    /// that takes most of its households, and ends today; compounds retired since the layer
    /// came in are left out. Refused while a live compound of them is in no unified grid (it
    /// would be folded into nothing). Needs the right to adopt grid plans for the whole county.
    pub async fn fold_department_grids(
        &self,
        a: &Access,
        department: &str,
        layer: Option<&str>,
    ) -> Result<FoldSummary> {
        let county = self
            .county_wide(a, Permission::PlanAdopt, "撤销部门网格")
            .await?;
        self.department(a, department).await?;
        let tx = self.conn().begin().await?;
        lock_department(&tx, &county, department).await?;
        // The compounds' rows are locked until commit, so what is read here is what is
        // recorded (an edit waits; on PostgreSQL each statement would otherwise see the edits
        // committed since the one before).
        exec(
            &tx,
            "UPDATE compound SET grid_code = grid_code WHERE county_code = ? AND id IN \
             (SELECT m.compound_id FROM department_grid_compound m JOIN department_grid g \
             ON g.county_code = m.county_code AND g.id = m.department_grid_id \
             WHERE g.county_code = ? AND g.department_id = ? AND g.valid_to IS NULL)",
            vec![
                county.clone().into(),
                county.clone().into(),
                department.into(),
            ],
        )
        .await?;
        let rows = all(
            &tx,
            "SELECT g.id, g.layer, m.compound_id, c.name, c.grid_code, c.households, c.valid_to \
             FROM department_grid g \
             LEFT JOIN department_grid_compound m ON m.county_code = g.county_code AND m.department_grid_id = g.id \
             LEFT JOIN compound c ON c.county_code = m.county_code AND c.id = m.compound_id \
             WHERE g.county_code = ? AND g.department_id = ? AND g.valid_to IS NULL \
             ORDER BY g.position, g.id, c.id",
            vec![county.clone().into(), department.into()],
        )
        .await?;
        if rows.is_empty() {
            return Err(StoreError::Conflict(
                "该部门没有待撤销的网格：请先导入部门网格".into(),
            ));
        }
        if let Some(seen) = layer
            && get::<String>(&rows[0], "layer")? != seen
        {
            return Err(StoreError::Conflict(
                "该部门的网格已重新导入，与您核对的不同：请刷新页面核对后再撤销".into(),
            ));
        }
        // Department grid → its compounds' grids and households.
        type Members = Vec<(Option<String>, i64)>;
        let mut grids: Vec<(String, Members)> = Vec::new();
        let mut unplaced = Vec::new();
        for r in &rows {
            let id: String = get(r, "id")?;
            if grids.last().is_none_or(|g| g.0 != id) {
                grids.push((id, Vec::new()));
            }
            if get::<Option<String>>(r, "compound_id")?.is_none() {
                continue;
            }
            // A compound retired since the layer came in is left out.
            if get::<Option<String>>(r, "valid_to")?.is_some() {
                continue;
            }
            let grid: Option<String> = get(r, "grid_code")?;
            if grid.is_none() {
                unplaced.push(get::<String>(r, "name")?);
            }
            if let Some(g) = grids.last_mut() {
                g.1.push((grid, get(r, "households")?));
            }
        }
        if !unplaced.is_empty() {
            let n = unplaced.len();
            unplaced.truncate(10);
            return Err(StoreError::Conflict(format!(
                "{n} 个小区尚未划入统一网格，无法并入：{}{}；请先为其所在社区划分网格",
                unplaced.join("、"),
                if n > 10 { "等" } else { "" }
            )));
        }
        let day = today().to_string();
        exec(
            &tx,
            "UPDATE department_grid_compound SET \
             grid_code = (SELECT c.grid_code FROM compound c WHERE c.county_code = department_grid_compound.county_code \
                 AND c.id = department_grid_compound.compound_id), \
             households = (SELECT c.households FROM compound c WHERE c.county_code = department_grid_compound.county_code \
                 AND c.id = department_grid_compound.compound_id) \
             WHERE county_code = ? AND department_grid_id IN \
             (SELECT id FROM department_grid WHERE county_code = ? AND department_id = ? AND valid_to IS NULL) \
             AND compound_id IN (SELECT id FROM compound WHERE county_code = ? AND valid_to IS NULL)",
            vec![
                county.clone().into(),
                county.clone().into(),
                department.into(),
                county.clone().into(),
            ],
        )
        .await?;
        let mut summary = FoldSummary::default();
        let mut into: HashSet<String> = HashSet::new();
        for (id, members) in &grids {
            let (shares, _) = redraw::fold_shares(members.iter().map(|(g, h)| (g.as_deref(), *h)));
            exec(
                &tx,
                "UPDATE department_grid SET valid_to = ?, folded_on = ?, folded_into = ? \
                 WHERE county_code = ? AND id = ?",
                vec![
                    day.clone().into(),
                    day.clone().into(),
                    shares.first().map(|s| s.grid.clone()).into(),
                    county.clone().into(),
                    id.clone().into(),
                ],
            )
            .await?;
            summary.folded += 1;
            summary.compounds += members.len();
            summary.households += members.iter().map(|m| m.1).sum::<i64>();
            into.extend(shares.into_iter().map(|s| s.grid));
        }
        summary.grids = into.len();
        tx.commit().await?;
        Ok(summary)
    }

    /// The department grids folded into a unified grid (as the one that took most of their
    /// households), latest first. For the grid's page, which checks access.
    pub(crate) async fn folded_into_grid(&self, grid: &str) -> Result<Vec<FoldedIn>> {
        let county: String = grid.chars().take(6).collect();
        let rows = all(
            self.conn(),
            "SELECT d.name AS department, g.name, g.code, g.folded_on FROM department_grid g \
             JOIN department d ON d.county_code = g.county_code AND d.id = g.department_id \
             WHERE g.county_code = ? AND g.folded_into = ? \
             ORDER BY g.folded_on DESC, g.layer DESC, g.position",
            vec![county.into(), grid.into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FoldedIn {
                    department: get(r, "department")?,
                    name: get(r, "name")?,
                    code: get(r, "code")?,
                    folded_on: get(r, "folded_on")?,
                })
            })
            .collect()
    }
}
