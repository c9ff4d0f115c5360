//! What grid workers do with people: households and their members, moving in and out
//! (history kept, nothing deleted), special-group records with their follow-ups, visits
//! (民情日志), and the people statistics of any place.
//!
//! Special-group records are visible per class: a record of a key person (重点人员) only to
//! users whose role holds `special.security` on the person's grid, a care record only with
//! `special.care`. Users without the class see neither the record nor its count.

use std::collections::HashMap;

use sea_orm::{TransactionTrait, Value};
use serde::Serialize;
use wangge_domain::Date;
use wangge_domain::access::{Access, Permission};
use wangge_domain::people::input::relation_conflict;
use wangge_domain::people::special::{
    FollowUpInput, RiskLevel, SpecialGroupKind, SpecialRecordInput,
};
use wangge_domain::people::stats::{AgeBand, PeopleStats};
use wangge_domain::people::{
    EndRecordInput, HouseholdInput, HouseholdKind, MoveInput, MoveKind, Relation,
    ResidentEditInput, ResidentInput, Sex, VisitInput,
};

use crate::db::{all, exec, get, one, scalar_i64};
use crate::people::RESIDENT_COLUMNS;
use crate::{ResidentView, Result, Store, StoreError, new_id, now_secs, today};

/// A household with its people and its visits.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdView {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub grid_code: String,
    pub address: Option<String>,
    pub compound: Option<String>,
    pub building: Option<String>,
    /// Living members, registered here or living here.
    pub members: Vec<ResidentView>,
    /// Members who moved out or died.
    pub former: Vec<ResidentView>,
    /// Latest first.
    pub visits: Vec<VisitView>,
    /// The day it was closed (注销), once nobody is left in it.
    pub closed: Option<String>,
}

/// A compound a household can be put in.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaceChoice {
    pub id: String,
    pub name: String,
    pub grid_code: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitView {
    pub id: String,
    pub household_id: String,
    pub household: String,
    pub grid_code: String,
    pub date: String,
    pub met: String,
    pub findings: String,
    pub follow_up: Option<String>,
    /// Only when the user may see that record's class.
    pub special_record_id: Option<String>,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoveView {
    pub kind: String,
    pub date: String,
    pub place: Option<String>,
    pub reason: Option<String>,
    pub from_household: Option<String>,
    pub to_household: Option<String>,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpView {
    pub date: String,
    pub content: String,
    pub risk: Option<String>,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpecialRecordView {
    pub id: String,
    pub resident_id: String,
    pub resident_name: String,
    pub grid_code: String,
    pub kind: String,
    pub kind_label: String,
    pub sensitivity: String,
    pub helper: Option<String>,
    pub helper_phone_masked: Option<String>,
    pub difficulties: Option<String>,
    pub requests: Option<String>,
    pub risk: String,
    pub risk_label: String,
    pub since: String,
    pub until: Option<String>,
    pub note: Option<String>,
    /// When the next follow-up is due (by the risk level), for open records.
    pub next_due: Option<String>,
    pub overdue: bool,
    /// Oldest first.
    pub follow_ups: Vec<FollowUpView>,
}

/// A household as listed on its compound's page.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdRow {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub building: Option<String>,
    pub address: Option<String>,
    pub members: i64,
}

/// A place's people figures and those of its parts (streets of the county, communities of
/// a street, grids of a community).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeopleBreakdown {
    pub code: String,
    pub total: PeopleStats,
    /// Part code → figures, in code order; empty for a grid.
    pub parts: Vec<(String, PeopleStats)>,
    /// The special-group kinds (keys) counted: those the user may see here.
    pub visible_kinds: Vec<String>,
}

const RECORD_COLUMNS: &str = "s.id, s.resident_id, r.name, r.grid_code, r.living_grid_code, r.birth_date, s.kind, \
     s.helper, s.helper_phone_masked, s.difficulties, s.requests, s.risk, s.since, s.until, s.note, s.next_due";

fn label_of<T>(
    key: &str,
    parse: impl Fn(&str) -> std::result::Result<T, wangge_domain::place::UnknownValue>,
    label: impl Fn(T) -> &'static str,
) -> String {
    parse(key)
        .map(|k| label(k).to_string())
        .unwrap_or_else(|_| key.to_string())
}

/// Whether the user may see (and record, and follow up) records of this kind on this grid.
pub fn may_see_kind(a: &Access, kind: SpecialGroupKind, grid: &str) -> bool {
    a.can(kind.sensitivity().permission(), grid)
}

fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    StoreError::field(field, message)
}

impl Store {
    /// The compound and grid a new household goes to; the user must be able to register
    /// people there.
    async fn compound_grid(&self, a: &Access, compound: &str) -> Result<String> {
        let m = one(
            self.conn(),
            "SELECT grid_code, community_code, valid_to FROM compound WHERE id = ?",
            vec![compound.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这个小区（村庄）".into()))?;
        let grid: Option<String> = get(&m, "grid_code")?;
        let place = match &grid {
            Some(g) => g.clone(),
            None => get(&m, "community_code")?,
        };
        if !a.can(Permission::PersonRead, &place) {
            return Err(StoreError::Forbidden("无权查看该小区的住户".into()));
        }
        if get::<Option<String>>(&m, "valid_to")?.is_some() {
            return Err(StoreError::Conflict("该小区（村庄）已撤销".into()));
        }
        grid.ok_or_else(|| invalid("building", "该小区尚未划入网格，请先划入网格再登记住户"))
    }

    /// The households registered in a compound, by number.
    pub async fn compound_households(
        &self,
        a: &Access,
        compound: &str,
    ) -> Result<Vec<HouseholdRow>> {
        self.compound_grid(a, compound).await?;
        let rows = all(
            self.conn(),
            "SELECT h.id, h.number, h.kind, h.address, b.name AS building, \
             (SELECT COUNT(*) FROM resident r WHERE r.grid_code = h.grid_code AND r.household_id = h.id AND r.valid_to IS NULL) AS members \
             FROM household h LEFT JOIN building b ON b.county_code = h.county_code AND b.id = h.building_id \
             WHERE h.compound_id = ? AND h.valid_to IS NULL ORDER BY h.number",
            vec![compound.into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = get(r, "kind")?;
                Ok(HouseholdRow {
                    id: get(r, "id")?,
                    number: get(r, "number")?,
                    kind: label_of(&kind, HouseholdKind::parse, HouseholdKind::label),
                    building: get(r, "building")?,
                    address: get(r, "address")?,
                    members: get(r, "members")?,
                })
            })
            .collect()
    }

    /// Registers a new household in a compound (and one of its buildings). Without a number
    /// it gets the next free `<grid code>-<n>`.
    pub async fn add_household(
        &self,
        a: &Access,
        compound: &str,
        h: &HouseholdInput,
    ) -> Result<String> {
        let grid = self.compound_grid(a, compound).await?;
        if !a.can(Permission::PersonWrite, &grid) {
            return Err(StoreError::Forbidden("无权在该小区登记住户".into()));
        }
        if let Some(b) = &h.building {
            let n = scalar_i64(
                self.conn(),
                "SELECT COUNT(*) FROM building WHERE id = ? AND compound_id = ? AND valid_to IS NULL",
                vec![b.clone().into(), compound.into()],
            )
            .await?;
            if n == 0 {
                return Err(invalid("building", "该楼栋不在本小区"));
            }
        }
        let county = self.county_code().await?;
        let taken = |n: String| {
            let county = county.clone();
            async move {
                scalar_i64(
                    self.conn(),
                    "SELECT COUNT(*) FROM household WHERE county_code = ? AND number = ?",
                    vec![county.into(), n.into()],
                )
                .await
                .map(|c| c > 0)
            }
        };
        let number = match &h.number {
            Some(n) => {
                if taken(n.clone()).await? {
                    return Err(invalid("number", format!("户号“{n}”已存在")));
                }
                n.clone()
            }
            None => {
                let mut k = scalar_i64(
                    self.conn(),
                    "SELECT COUNT(*) FROM household WHERE grid_code = ?",
                    vec![grid.clone().into()],
                )
                .await?
                    + 1;
                while taken(format!("{grid}-{k}")).await? {
                    k += 1;
                }
                format!("{grid}-{k}")
            }
        };
        let id = new_id();
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "INSERT INTO household (county_code, id, number, kind, grid_code, address, valid_from, compound_id, building_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                county.clone().into(),
                id.clone().into(),
                number.into(),
                h.kind.key().into(),
                grid.clone().into(),
                h.address.clone().into(),
                today().to_string().into(),
                compound.into(),
                h.building.clone().into(),
            ],
        )
        .await?;
        people_changed(&tx, &county, &[grid.as_str()]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The compounds a household can be placed in by this user: live, in a grid where he may
    /// register people, in the household's community. Empty when he may not change it.
    pub async fn household_place_choices(&self, a: &Access, id: &str) -> Result<Vec<PlaceChoice>> {
        let h = self.household_row(id).await?;
        let grid: String = get(&h, "grid_code")?;
        if !a.can(Permission::PersonWrite, &grid) {
            return Ok(Vec::new());
        }
        let county = self.county_code().await?;
        let rows = all(
            self.conn(),
            "SELECT id, name, grid_code FROM compound WHERE county_code = ? AND community_code = ? \
             AND valid_to IS NULL AND grid_code IS NOT NULL ORDER BY name",
            vec![county.into(), grid.get(..12).unwrap_or("").into()],
        )
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let grid_code: String = get(r, "grid_code")?;
            if a.can(Permission::PersonWrite, &grid_code) {
                out.push(PlaceChoice {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    grid_code,
                });
            }
        }
        Ok(out)
    }

    /// Puts a household in a compound (and building): it takes the compound's grid, and its
    /// residents theirs, in one transaction — for households imported by grid alone, or
    /// registered in the wrong compound. The user must be able to register people in both
    /// grids. Returns the household's grid.
    pub async fn place_household(
        &self,
        a: &Access,
        id: &str,
        compound: &str,
        building: Option<&str>,
        address: Option<&str>,
    ) -> Result<String> {
        let h = self.household_row(id).await?;
        let old: String = get(&h, "grid_code")?;
        if !a.can(Permission::PersonWrite, &old) {
            return Err(StoreError::Forbidden("无权调整该户".into()));
        }
        let county = self.county_code().await?;
        let now = one(
            self.conn(),
            "SELECT compound_id, building_id, address, valid_to FROM household \
             WHERE county_code = ? AND id = ?",
            vec![county.clone().into(), id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这一户".into()))?;
        if get::<Option<String>>(&now, "valid_to")?.is_some() {
            return Err(StoreError::Conflict("该户已注销，不能调整".into()));
        }
        let m = one(
            self.conn(),
            "SELECT grid_code, community_code, valid_to FROM compound WHERE county_code = ? AND id = ?",
            vec![county.clone().into(), compound.into()],
        )
        .await?
        .ok_or_else(|| invalid("compound", "没有这个小区"))?;
        if get::<Option<String>>(&m, "valid_to")?.is_some() {
            return Err(invalid("compound", "该小区已撤销"));
        }
        // Within its community: moving elsewhere is a move of its people (迁出, 迁入).
        if old.get(..12) != Some(get::<String>(&m, "community_code")?.as_str()) {
            return Err(invalid(
                "compound",
                "只能调整到本社区的小区；迁往别处请办理迁出、迁入",
            ));
        }
        let grid: String = get::<Option<String>>(&m, "grid_code")?
            .ok_or_else(|| invalid("compound", "该小区尚未划入网格，请先在小区页指定网格"))?;
        if !a.can(Permission::PersonWrite, &grid) {
            return Err(StoreError::Forbidden("无权在该小区登记住户".into()));
        }
        if let Some(b) = building {
            let n = scalar_i64(
                self.conn(),
                "SELECT COUNT(*) FROM building WHERE id = ? AND compound_id = ? AND valid_to IS NULL",
                vec![b.into(), compound.into()],
            )
            .await?;
            if n == 0 {
                return Err(invalid("building", "该楼栋不在所选小区"));
            }
        }
        // Staying in the same compound keeps the building unless another is given; an address
        // left out is kept, an empty one cleared.
        let same = get::<Option<String>>(&now, "compound_id")?.as_deref() == Some(compound);
        let building: Option<String> = match building {
            Some(b) => Some(b.to_string()),
            None if same => get(&now, "building_id")?,
            None => None,
        };
        let address: Option<String> = match address.map(str::trim) {
            None => get(&now, "address")?,
            Some("") => None,
            Some(x) => Some(x.to_string()),
        };
        if address.as_ref().is_some_and(|x| x.chars().count() > 100) {
            return Err(invalid("address", "门牌不能超过 100 个字"));
        }
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "UPDATE household SET compound_id = ?, building_id = ?, grid_code = ?, address = ? \
             WHERE county_code = ? AND id = ?",
            vec![
                compound.into(),
                building.into(),
                grid.clone().into(),
                address.into(),
                county.clone().into(),
                id.into(),
            ],
        )
        .await?;
        for (column, household) in [
            ("grid_code", "household_id"),
            ("living_grid_code", "living_household_id"),
        ] {
            exec(
                &tx,
                &format!(
                    "UPDATE resident SET {column} = ? WHERE county_code = ? AND {household} = ? \
                     AND valid_to IS NULL"
                ),
                vec![grid.clone().into(), county.clone().into(), id.into()],
            )
            .await?;
        }
        people_changed(&tx, &county, &[old.as_str(), grid.as_str()]).await?;
        tx.commit().await?;
        Ok(grid)
    }

    /// Whether a living person already holds this ID number (by its blind index). A holder
    /// the user may not reveal is counted against the user's daily limit of such answers
    /// (`met_elsewhere`) before the answer is given.
    async fn id_taken(&self, a: &Access, user: &str, index: &str) -> Result<bool> {
        self.elsewhere_gate(user).await?;
        let holders = all(
            self.conn(),
            "SELECT grid_code FROM resident WHERE id_index = ? AND valid_to IS NULL",
            vec![index.into()],
        )
        .await?;
        if holders.is_empty() {
            return Ok(false);
        }
        let mut seen = false;
        for r in &holders {
            seen |= a.can(Permission::PersonReveal, &get::<String>(r, "grid_code")?);
        }
        if !seen {
            self.met_elsewhere(a, user, 1).await?;
        }
        Ok(true)
    }

    /// A household's row: (number, kind, grid, address, compound id, building id).
    async fn household_row(&self, id: &str) -> Result<sea_orm::QueryResult> {
        one(
            self.conn(),
            "SELECT h.id, h.number, h.kind, h.grid_code, h.address, h.valid_to, m.name AS compound, b.name AS building \
             FROM household h LEFT JOIN compound m ON m.county_code = h.county_code AND m.id = h.compound_id \
             LEFT JOIN building b ON b.county_code = h.county_code AND b.id = h.building_id WHERE h.id = ?",
            vec![id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这一户".into()))
    }

    /// A household with its members and visits, for a user who may read people there.
    pub async fn household(&self, a: &Access, id: &str) -> Result<HouseholdView> {
        let h = self.household_row(id).await?;
        let grid: String = get(&h, "grid_code")?;
        // Someone living here but registered elsewhere makes the household visible to the
        // grid he lives in, too: the household's own grid decides.
        if !a.can(Permission::PersonRead, &grid) {
            return Err(StoreError::Forbidden("无权查看该户的人员信息".into()));
        }
        let rows = all(
            self.conn(),
            &format!(
                "SELECT {RESIDENT_COLUMNS} FROM resident r JOIN household h ON h.county_code = r.county_code \
                 AND h.id = r.household_id WHERE (r.grid_code = ? AND r.household_id = ?) OR r.living_household_id = ? \
                 ORDER BY r.valid_to IS NOT NULL, r.birth_date"
            ),
            vec![grid.clone().into(), id.into(), id.into()],
        )
        .await?;
        let mut members = Vec::new();
        let mut former = Vec::new();
        for r in &rows {
            let v = self.resident_of(a, r)?;
            if v.left.is_some() {
                former.push(v);
            } else {
                members.push(v);
            }
        }
        // In order of age only for those who may see the birth dates: otherwise the order
        // would place a masked birthday between two known ones (by head, spouse, children…,
        // then year and name).
        if !a.can(Permission::PersonReveal, &grid) {
            let key = |v: &ResidentView| {
                (
                    v.relation
                        .as_deref()
                        .and_then(|r| Relation::parse(r).ok())
                        .map_or(usize::MAX, Relation::index),
                    v.birth_date.get(..4).unwrap_or("").to_string(),
                    v.name.clone(),
                )
            };
            members.sort_by_cached_key(key);
            former.sort_by_cached_key(key);
        }
        let kind: String = get(&h, "kind")?;
        Ok(HouseholdView {
            id: id.to_string(),
            number: get(&h, "number")?,
            kind: label_of(&kind, HouseholdKind::parse, HouseholdKind::label),
            address: get(&h, "address")?,
            compound: get(&h, "compound")?,
            building: get(&h, "building")?,
            members,
            former,
            visits: self.visits_where(a, "v.household_id = ?", id, 50).await?,
            closed: get(&h, "valid_to")?,
            grid_code: grid,
        })
    }

    /// Closes (注销) a household nobody is registered in or lives in any more: it stops
    /// counting in its grid, which may then be retired. Its history stays.
    pub async fn close_household(&self, a: &Access, id: &str) -> Result<()> {
        let h = self.household_row(id).await?;
        let grid: String = get(&h, "grid_code")?;
        if !a.can(Permission::PersonWrite, &grid) {
            return Err(StoreError::Forbidden("无权注销该户".into()));
        }
        if let Some(day) = get::<Option<String>>(&h, "valid_to")? {
            return Err(StoreError::Conflict(format!("该户已于 {day} 注销")));
        }
        let left = scalar_i64(
            self.conn(),
            "SELECT COUNT(*) FROM resident WHERE (household_id = ? OR living_household_id = ?) \
             AND valid_to IS NULL",
            vec![id.into(), id.into()],
        )
        .await?;
        if left > 0 {
            return Err(StoreError::Conflict(format!(
                "该户还有 {left} 位在册或现居的居民，请先为他们办理迁出或户间迁移，再注销"
            )));
        }
        let county = self.county_code().await?;
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "UPDATE household SET valid_to = ? WHERE county_code = ? AND id = ?",
            vec![today().to_string().into(), county.clone().into(), id.into()],
        )
        .await?;
        people_changed(&tx, &county, &[grid.as_str()]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn visits_where(
        &self,
        a: &Access,
        cond: &str,
        key: &str,
        limit: i64,
    ) -> Result<Vec<VisitView>> {
        let rows = all(
            self.conn(),
            &format!(
                "SELECT v.id, v.household_id, h.number, v.grid_code, h.grid_code AS household_grid, v.date, v.met, v.findings, v.follow_up, \
                 v.special_record_id, s.kind AS record_kind, v.recorded_by, u.display_name AS recorder_name FROM visit v \
                 JOIN household h ON h.county_code = v.county_code AND h.id = v.household_id \
                 LEFT JOIN special_record s ON s.county_code = v.county_code AND s.id = v.special_record_id \
                 LEFT JOIN app_user u ON u.username = v.recorded_by \
                 WHERE {cond} ORDER BY v.date DESC, v.recorded_at DESC LIMIT ?"
            ),
            vec![key.into(), limit.into()],
        )
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            // Who may read a visit: whoever may read its household where it is now (after a
            // plan is adopted, the grid that took it), as for the household itself.
            let now_in: String = get(r, "household_grid")?;
            if !a.can(Permission::PersonRead, &now_in) {
                continue;
            }
            let grid: String = get(r, "grid_code")?;
            let kind: Option<String> = get(r, "record_kind")?;
            let visible = kind
                .as_deref()
                .and_then(|k| SpecialGroupKind::parse(k).ok())
                .is_some_and(|k| may_see_kind(a, k, &now_in));
            // A visit that followed up a record of a class the user may not see is not shown
            // at all: its notes are that record's follow-up, and even a blanked row would
            // tell that the household has someone in that class. (Counts still include it.)
            if kind.is_some() && !visible {
                continue;
            }
            out.push(VisitView {
                id: get(r, "id")?,
                household_id: get(r, "household_id")?,
                household: get(r, "number")?,
                date: get(r, "date")?,
                met: get(r, "met")?,
                findings: get(r, "findings")?,
                follow_up: get(r, "follow_up")?,
                special_record_id: if visible {
                    get(r, "special_record_id")?
                } else {
                    None
                },
                // The recorder as people know him: his name, with the account name after it.
                recorded_by: {
                    let account: String = get(r, "recorded_by")?;
                    match get::<Option<String>>(r, "recorder_name")?
                        .filter(|n| !n.trim().is_empty())
                    {
                        Some(name) => format!("{name}（{account}）"),
                        None => account,
                    }
                },
                grid_code: grid,
            });
        }
        Ok(out)
    }

    /// The latest visits to a grid's households (those made before a plan moved them here
    /// included; each keeps the grid it was made in).
    pub async fn grid_visits(&self, a: &Access, grid: &str, limit: i64) -> Result<Vec<VisitView>> {
        if !a.can(Permission::PersonRead, grid) {
            return Err(StoreError::Forbidden("无权查看该网格的走访记录".into()));
        }
        self.visits_where(a, "h.grid_code = ?", grid, limit).await
    }

    /// Records a visit to a household by `user`. A visit that follows up a special-group
    /// record also adds the follow-up to that record, in the same transaction.
    pub async fn add_visit(
        &self,
        a: &Access,
        user: &str,
        household: &str,
        v: &VisitInput,
    ) -> Result<String> {
        let h = self.household_row(household).await?;
        let grid: String = get(&h, "grid_code")?;
        if !a.can(Permission::VisitWrite, &grid) {
            return Err(StoreError::Forbidden(
                "无权记录该户的走访：不在您的网格或权限之内".into(),
            ));
        }
        let county = self.county_code().await?;
        let record = match &v.special_record {
            None => None,
            Some(id) => {
                let r = self.special_record_row(id).await?;
                let resident_household: String = get(&r, "household_id")?;
                let living: Option<String> = get(&r, "living_household_id")?;
                let kind = SpecialGroupKind::parse(&get::<String>(&r, "kind")?)
                    .map_err(|e| StoreError::Conflict(e.to_string()))?;
                if resident_household != household && living.as_deref() != Some(household) {
                    return Err(invalid("special_record", "该帮扶记录不属于这一户的成员"));
                }
                if !may_see_kind(a, kind, &grid) {
                    return Err(StoreError::Forbidden("无权跟进该类人员".into()));
                }
                Some((id.clone(), get::<String>(&r, "risk")?))
            }
        };
        let id = new_id();
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "INSERT INTO visit (county_code, id, household_id, grid_code, date, met, findings, follow_up, \
             special_record_id, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                county.clone().into(),
                id.clone().into(),
                household.into(),
                grid.into(),
                v.date.to_string().into(),
                v.met.clone().into(),
                v.findings.clone().into(),
                v.follow_up.clone().into(),
                v.special_record.clone().into(),
                user.into(),
                now_secs().into(),
            ],
        )
        .await?;
        if let Some((record, risk)) = record {
            let content = match &v.follow_up {
                Some(f) => format!("入户走访：{}；后续：{f}", v.findings),
                None => format!("入户走访：{}", v.findings),
            };
            let risk = RiskLevel::parse(&risk).unwrap_or(RiskLevel::Low);
            insert_follow_up(&tx, &county, &record, user, v.date, &content, None, risk).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Registers a new member of a household (moving in, or born), with the move recorded.
    /// `input`'s registered or residing household must be this one.
    pub async fn add_resident(
        &self,
        a: &Access,
        user: &str,
        household: &str,
        input: &ResidentInput,
        how: MoveKind,
    ) -> Result<String> {
        if !matches!(how, MoveKind::MoveIn | MoveKind::Birth) {
            return Err(invalid("kind", "新成员只能是迁入或出生"));
        }
        let h = self.household_row(household).await?;
        let grid: String = get(&h, "grid_code")?;
        if !a.can(Permission::PersonWrite, &grid) {
            return Err(StoreError::Forbidden("无权在该户登记居民".into()));
        }
        if let Some(day) = get::<Option<String>>(&h, "valid_to")? {
            return Err(StoreError::Conflict(format!(
                "该户已于 {day} 注销，不能再登记居民"
            )));
        }
        let kind = HouseholdKind::parse(&get::<String>(&h, "kind")?)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        // 人户分离: registered here, living in another household (by number) that the user
        // may register people in — one outside that is answered as one that does not exist.
        let living = match input.residing_household.as_deref() {
            Some(n) if n != household && kind == HouseholdKind::Registered => {
                let r = one(
                    self.conn(),
                    "SELECT id, grid_code FROM household WHERE (id = ? OR number = ?) AND valid_to IS NULL",
                    vec![n.into(), n.into()],
                )
                .await?
                .filter(|r| {
                    get::<String>(r, "grid_code").is_ok_and(|g| a.can(Permission::PersonWrite, &g))
                })
                .ok_or_else(|| {
                    invalid(
                        "residing_household",
                        format!("在您可登记的网格中没有户号为“{n}”的在册户"),
                    )
                })?;
                let id: String = get(&r, "id")?;
                (id != household).then_some((id, get::<String>(&r, "grid_code")?))
            }
            _ => None,
        };
        if input.relation == Some(Relation::Head) {
            self.no_other_head(household, None).await?;
        }
        let keys = self.keyring()?.clone();
        let index = keys.index("id", input.id_number.as_str());
        if self.id_taken(a, user, &index).await? {
            return Err(invalid(
                "id_number",
                "该公民身份号码已登记（同一人不能重复登记）：此人如从本县其他户迁来，\
                 请在“查找居民”中按身份证号找到此人办理迁移；不在您的管辖范围内的，\
                 请其原所在社区先办理迁出",
            ));
        }
        if how == MoveKind::Birth
            && crate::people::age_on(&input.birth_date().to_string(), &today().to_string()) > 0
        {
            return Err(invalid(
                "kind",
                "出生登记只适用于一岁以内的婴儿，其他请选“迁入”",
            ));
        }
        let county = self.county_code().await?;
        let date = input.moved_in.unwrap_or(if how == MoveKind::Birth {
            input.id_number.birth_date()
        } else {
            today()
        });
        let id = new_id();
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "INSERT INTO resident (county_code, id, household_id, grid_code, name, sex, birth_date, id_enc, id_index, \
             id_masked, phone_enc, phone_index, phone_masked, ethnicity, political_status, employment, relation, \
             moved_in, valid_from, living_household_id, living_grid_code, household_kind, household_number) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                county.clone().into(),
                id.clone().into(),
                household.into(),
                grid.clone().into(),
                input.name.clone().into(),
                input.sex().label().into(),
                input.birth_date().to_string().into(),
                keys.encrypt(input.id_number.as_str()).into(),
                index.into(),
                input.id_number.mask().into(),
                input.phone.as_ref().map(|p| keys.encrypt(p.as_str())).into(),
                input.phone.as_ref().map(|p| keys.index("phone", p.as_str())).into(),
                input.phone.as_ref().map(|p| p.mask()).into(),
                input.ethnicity.map(|e| e.label().to_string()).into(),
                input.political_status.map(|e| e.label().to_string()).into(),
                input.employment.map(|e| e.label().to_string()).into(),
                input.relation.map(|e| e.label().to_string()).into(),
                date.to_string().into(),
                today().to_string().into(),
                living.as_ref().map(|l| l.0.clone()).into(),
                living.as_ref().map(|l| l.1.clone()).into(),
                kind.key().into(),
                get::<String>(&h, "number")?.into(),
            ],
        )
        .await?;
        let mut touched = vec![grid.as_str()];
        touched.extend(living.as_ref().map(|l| l.1.as_str()));
        people_changed(&tx, &county, &touched).await?;
        insert_move(
            &tx,
            (&county, user),
            &id,
            &MoveInput {
                kind: how,
                date,
                place: None,
                reason: None,
            },
            None,
            Some(household),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records a move of a resident: out of the county or death (the membership ends on
    /// that date, open special-group records close), a transfer to another household (by its
    /// number, `to`), or moving back in after having left. Nothing is deleted.
    pub async fn record_move(
        &self,
        a: &Access,
        user: &str,
        resident: &str,
        m: &MoveInput,
        to: Option<&str>,
    ) -> Result<()> {
        let v = self.resident(a, resident).await?;
        if !a.can(Permission::PersonWrite, &v.grid_code) {
            return Err(StoreError::Forbidden("无权登记该居民的迁移".into()));
        }
        // The view's birth date is masked for a reader without reveal; its year is enough.
        outside_birth_year(
            v.can(a, Permission::PersonReveal),
            &v.birth_date,
            m.date,
            "date",
        )?;
        let county = self.county_code().await?;
        let day = m.date.to_string();
        // Where the counts change: the resident's grids, and the household he moves to.
        let mut touched = vec![v.grid_code.clone()];
        touched.extend(v.living_grid_code.clone());
        let tx = self.conn().begin().await?;
        match m.kind {
            MoveKind::MoveOut | MoveKind::Death => {
                if let Some(left) = &v.left {
                    return Err(invalid("kind", format!("该居民已于 {left} 迁出或死亡")));
                }
                if v.moved_in.as_deref().is_some_and(|d| d > day.as_str()) {
                    return Err(invalid("date", "迁出日期不能早于迁入日期"));
                }
                exec(
                    &tx,
                    "UPDATE resident SET valid_to = ? WHERE id = ?",
                    vec![day.clone().into(), resident.into()],
                )
                .await?;
                exec(
                    &tx,
                    // Never before the record began (a move-out dated before it).
                    "UPDATE special_record SET until = CASE WHEN since > ? THEN since ELSE ? END, next_due = NULL \
                     WHERE resident_id = ? AND until IS NULL",
                    vec![day.clone().into(), day.clone().into(), resident.into()],
                )
                .await?;
                insert_move(
                    &tx,
                    (&county, user),
                    resident,
                    m,
                    Some(&v.household_id),
                    None,
                )
                .await?;
            }
            MoveKind::Transfer => {
                if v.left.is_some() {
                    return Err(invalid("kind", "该居民已迁出，请先登记迁入"));
                }
                let Some(n) = to.map(str::trim).filter(|n| !n.is_empty()) else {
                    return Err(invalid("household", "户间迁移须填写迁入户的户号"));
                };
                let r = one(
                    self.conn(),
                    "SELECT id, grid_code, kind, number FROM household WHERE number = ? AND valid_to IS NULL",
                    vec![n.into()],
                )
                .await?
                // A household outside the user's grids is answered as one that does not
                // exist: else the answers would list the county's household numbers.
                .filter(|r| {
                    get::<String>(r, "grid_code").is_ok_and(|g| a.can(Permission::PersonWrite, &g))
                })
                .ok_or_else(|| {
                    invalid(
                        "household",
                        format!("在您可登记的网格中没有户号为“{n}”的在册户"),
                    )
                })?;
                let target: String = get(&r, "id")?;
                let grid: String = get(&r, "grid_code")?;
                if target == v.household_id {
                    return Err(invalid("household", "迁入户与现在的户相同"));
                }
                touched.push(grid.clone());
                exec(
                    &tx,
                    "UPDATE resident SET household_id = ?, grid_code = ?, household_kind = ?, household_number = ?, relation = NULL, \
                     living_household_id = CASE WHEN living_household_id = ? THEN NULL ELSE living_household_id END, \
                     living_grid_code = CASE WHEN living_household_id = ? THEN NULL ELSE living_grid_code END WHERE id = ?",
                    vec![
                        target.clone().into(),
                        grid.into(),
                        get::<String>(&r, "kind")?.into(),
                        get::<String>(&r, "number")?.into(),
                        target.clone().into(),
                        target.clone().into(),
                        resident.into(),
                    ],
                )
                .await?;
                insert_move(
                    &tx,
                    (&county, user),
                    resident,
                    m,
                    Some(&v.household_id),
                    Some(&target),
                )
                .await?;
            }
            MoveKind::MoveIn => {
                let Some(left) = &v.left else {
                    return Err(invalid("kind", "该居民仍在册；新迁入的居民请在户页面登记"));
                };
                let died = scalar_i64(
                    self.conn(),
                    "SELECT COUNT(*) FROM resident_move WHERE resident_id = ? AND kind = 'death'",
                    vec![resident.into()],
                )
                .await?;
                if died > 0 {
                    return Err(invalid("kind", "该居民已登记死亡"));
                }
                // A return is to the household left; another is a transfer afterwards.
                if let Some(n) = to.map(str::trim).filter(|n| !n.is_empty())
                    && n != v.household
                {
                    return Err(invalid(
                        "household",
                        format!(
                            "迁回只能回到原户（{}）；要迁入其他户，请迁回后再办理户间迁移",
                            v.household
                        ),
                    ));
                }
                if day.as_str() < left.as_str() {
                    return Err(invalid(
                        "date",
                        format!("迁回日期不能早于迁出日期（{left}）"),
                    ));
                }
                // A head returning to a household that has another head meanwhile.
                if v.relation.as_deref() == Some(Relation::Head.label()) {
                    self.no_other_head(&v.household_id, Some(resident)).await?;
                }
                let index: String = get(
                    &one(
                        self.conn(),
                        "SELECT id_index FROM resident WHERE id = ?",
                        vec![resident.into()],
                    )
                    .await?
                    .ok_or_else(|| StoreError::NotFound("没有这位居民".into()))?,
                    "id_index",
                )?;
                if self.id_taken(a, user, &index).await? {
                    return Err(invalid("kind", "同一公民身份号码已在别处登记在册"));
                }
                exec(
                    &tx,
                    "UPDATE resident SET valid_to = NULL, moved_in = ? WHERE id = ?",
                    vec![day.clone().into(), resident.into()],
                )
                .await?;
                insert_move(
                    &tx,
                    (&county, user),
                    resident,
                    m,
                    None,
                    Some(&v.household_id),
                )
                .await?;
            }
            MoveKind::Birth => {
                return Err(invalid("kind", "出生请在户页面登记新成员"));
            }
        }
        let touched: Vec<&str> = touched.iter().map(String::as_str).collect();
        people_changed(&tx, &county, &touched).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A household has one head (户主): refuses a second, naming the one it has.
    async fn no_other_head(&self, household: &str, except: Option<&str>) -> Result<()> {
        let head = one(
            self.conn(),
            "SELECT id, name FROM resident WHERE household_id = ? AND relation = ? AND valid_to IS NULL",
            vec![household.into(), Relation::Head.label().into()],
        )
        .await?;
        match head {
            Some(r) if Some(get::<String>(&r, "id")?.as_str()) != except => Err(invalid(
                "relation",
                format!(
                    "该户已有户主（{}），一户只能有一位户主；如更换户主，请先修改原户主的“与户主关系”",
                    get::<String>(&r, "name")?
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Corrects a living resident's basic facts (name, phone, ethnicity, political status,
    /// employment, relation to the head). A new phone is encrypted and indexed like the first.
    pub async fn edit_resident(&self, a: &Access, id: &str, e: &ResidentEditInput) -> Result<()> {
        let v = self.resident(a, id).await?;
        if !a.can(Permission::PersonWrite, &v.grid_code) {
            return Err(StoreError::Forbidden("无权修改该居民的信息".into()));
        }
        if let Some(left) = &v.left {
            return Err(invalid(
                "name",
                format!("该居民已于 {left} 迁出或死亡，不能修改"),
            ));
        }
        let sex = if v.sex == Sex::Male.label() {
            Sex::Male
        } else {
            Sex::Female
        };
        if let Some(msg) = e.relation.and_then(|r| relation_conflict(r, sex)) {
            return Err(invalid("relation", msg));
        }
        // Made head now (a head who stays head is not asked again).
        if e.relation == Some(Relation::Head)
            && v.relation.as_deref() != Some(Relation::Head.label())
        {
            self.no_other_head(&v.household_id, Some(id)).await?;
        }
        let label = |x: Option<&'static str>| x.map(str::to_string);
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "UPDATE resident SET name = ?, ethnicity = ?, political_status = ?, employment = ?, relation = ? WHERE id = ?",
            vec![
                e.name.clone().into(),
                label(e.ethnicity.map(|x| x.label())).into(),
                label(e.political_status.map(|x| x.label())).into(),
                label(e.employment.map(|x| x.label())).into(),
                label(e.relation.map(|x| x.label())).into(),
                id.into(),
            ],
        )
        .await?;
        if let Some(p) = &e.phone {
            let keys = self.keyring()?;
            exec(
                &tx,
                "UPDATE resident SET phone_enc = ?, phone_index = ?, phone_masked = ? WHERE id = ?",
                vec![
                    keys.encrypt(p.as_str()).into(),
                    keys.index("phone", p.as_str()).into(),
                    p.mask().into(),
                    id.into(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A resident's moves, oldest first.
    pub async fn moves(&self, a: &Access, resident: &str) -> Result<Vec<MoveView>> {
        let reveal = self
            .resident(a, resident)
            .await?
            .can(a, Permission::PersonReveal);
        let rows = all(
            self.conn(),
            "SELECT m.kind, m.date, m.place, m.reason, f.number AS from_number, t.number AS to_number, m.recorded_by, \
             p.birth_date FROM resident_move m JOIN resident p ON p.county_code = m.county_code AND p.id = m.resident_id \
             LEFT JOIN household f ON f.county_code = m.county_code AND f.id = m.from_household_id \
             LEFT JOIN household t ON t.county_code = m.county_code AND t.id = m.to_household_id \
             WHERE m.resident_id = ? ORDER BY m.date, m.recorded_at",
            vec![resident.into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = get(r, "kind")?;
                let date: String = get(r, "date")?;
                // A birth (or any move on the birthday) would show the masked birth date.
                let date = if !reveal && date == get::<String>(r, "birth_date")? {
                    crate::people::mask_day(&date)
                } else {
                    date
                };
                Ok(MoveView {
                    kind: label_of(&kind, MoveKind::parse, MoveKind::label),
                    date,
                    place: get(r, "place")?,
                    reason: get(r, "reason")?,
                    from_household: get(r, "from_number")?,
                    to_household: get(r, "to_number")?,
                    recorded_by: get(r, "recorded_by")?,
                })
            })
            .collect()
    }

    async fn special_record_row(&self, id: &str) -> Result<sea_orm::QueryResult> {
        one(
            self.conn(),
            &format!(
                "SELECT {RECORD_COLUMNS}, r.household_id, r.living_household_id, s.county_code FROM special_record s \
                 JOIN resident r ON r.county_code = s.county_code AND r.id = s.resident_id WHERE s.id = ?"
            ),
            vec![id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这条帮扶记录".into()))
    }

    /// The resident a record is about, if the user may see that resident.
    pub async fn special_record_resident(&self, a: &Access, record: &str) -> Result<String> {
        let r = self.special_record_row(record).await?;
        let resident: String = get(&r, "resident_id")?;
        self.resident(a, &resident).await?;
        Ok(resident)
    }

    /// Opens a special-group record for a resident, if the user's role may keep that class.
    pub async fn add_special_record(
        &self,
        a: &Access,
        user: &str,
        resident: &str,
        input: &SpecialRecordInput,
    ) -> Result<String> {
        let v = self.resident(a, resident).await?;
        if !v.can(a, input.kind.sensitivity().permission()) {
            return Err(StoreError::Forbidden(format!(
                "无权登记“{}”",
                input.kind.sensitivity().label()
            )));
        }
        if v.left.is_some() {
            return Err(invalid("kind", "该居民已迁出或死亡"));
        }
        // The birth date as stored (the view's is masked for a reader without reveal).
        let born: String = match one(
            self.conn(),
            "SELECT birth_date FROM resident WHERE id = ?",
            vec![resident.into()],
        )
        .await?
        {
            Some(r) => get(&r, "birth_date")?,
            None => return Err(StoreError::NotFound("没有该居民".into())),
        };
        // Age on the day the record begins (a child registered years ago stays a child then).
        // Without reveal, by years only: trying dates must not find the birthday.
        let reveal = v.can(a, Permission::PersonReveal);
        let since = input.since.to_string();
        let age_then = if reveal {
            crate::people::age_on(&born, &since)
        } else {
            i64::from(input.since.year()) - born.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0)
        };
        if let Some(msg) = input.kind.age_problem(age_then) {
            return Err(invalid("kind", msg));
        }
        if reveal && since < born {
            return Err(invalid("since", "列管日期不能早于出生日期"));
        }
        if !reveal && since[..4] < born[..4.min(born.len())] {
            return Err(invalid("since", "列管日期不能早于出生年份"));
        }
        outside_birth_year(reveal, &born, input.since, "since")?;
        if let Some(until) = input.until {
            outside_birth_year(reveal, &born, until, "until")?;
        }
        let open = scalar_i64(
            self.conn(),
            "SELECT COUNT(*) FROM special_record WHERE resident_id = ? AND kind = ? AND until IS NULL",
            vec![resident.into(), input.kind.key().into()],
        )
        .await?;
        if open > 0 && input.until.is_none() {
            return Err(invalid(
                "kind",
                format!("该居民已有在管的“{}”记录", input.kind.label()),
            ));
        }
        let keys = self.keyring()?;
        let county = self.county_code().await?;
        let id = new_id();
        exec(
            self.conn(),
            "INSERT INTO special_record (county_code, id, resident_id, kind, sensitivity, helper, helper_phone_enc, \
             helper_phone_masked, difficulties, requests, risk, since, until, note, next_due, recorded_by, recorded_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                county.into(),
                id.clone().into(),
                resident.into(),
                input.kind.key().into(),
                input.kind.sensitivity().key().into(),
                input.helper.clone().into(),
                input.helper_phone.as_ref().map(|p| keys.encrypt(p.as_str())).into(),
                input.helper_phone.as_ref().map(|p| p.mask()).into(),
                input.difficulties.clone().into(),
                input.requests.clone().into(),
                input.risk.key().into(),
                input.since.to_string().into(),
                input.until.map(|d| d.to_string()).into(),
                input.note.clone().into(),
                if input.until.is_none() {
                    input.risk.next_due(input.since).map(|d| d.to_string())
                } else {
                    None
                }
                .into(),
                user.into(),
                now_secs().into(),
            ],
        )
        .await?;
        Ok(id)
    }

    /// A record the user may act on: one whose class the user may see on the person's grid
    /// (registered or living); else `denied`.
    async fn record_to_act_on(
        &self,
        a: &Access,
        record: &str,
        denied: &str,
    ) -> Result<(sea_orm::QueryResult, SpecialRecordView)> {
        let r = self.special_record_row(record).await?;
        let view = self.record_of(&r)?;
        let kind =
            SpecialGroupKind::parse(&view.kind).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let living: Option<String> = get(&r, "living_grid_code")?;
        let visible = may_see_kind(a, kind, &view.grid_code)
            || living.as_deref().is_some_and(|g| may_see_kind(a, kind, g));
        if !visible {
            return Err(StoreError::Forbidden(denied.into()));
        }
        Ok((r, view))
    }

    /// Adds a dated follow-up to a record (and a re-assessed risk level). Returns the
    /// resident's id.
    pub async fn add_follow_up(
        &self,
        a: &Access,
        user: &str,
        record: &str,
        f: &FollowUpInput,
    ) -> Result<String> {
        let (r, view) = self.record_to_act_on(a, record, "无权跟进该类人员").await?;
        if view.until.is_some() {
            return Err(invalid("content", "该记录已解除列管，不能再添加跟进"));
        }
        hidden_start(a, &r, &view, f.date, "date")?;
        if f.date.to_string() < view.since {
            return Err(invalid(
                "date",
                format!("跟进日期不能早于列管日期（{}）", shown_since(a, &r, &view)?),
            ));
        }
        let county: String = get(&r, "county_code")?;
        let risk = f
            .risk
            .unwrap_or(RiskLevel::parse(&view.risk).unwrap_or(RiskLevel::Low));
        let tx = self.conn().begin().await?;
        insert_follow_up(&tx, &county, record, user, f.date, &f.content, f.risk, risk).await?;
        tx.commit().await?;
        Ok(view.resident_id)
    }

    /// Ends a special-group record (解除列管, 帮扶结束, or withdrawn as entered by mistake): the
    /// day, and why, written as its last follow-up. Whoever may follow the record up may end it.
    pub async fn end_special_record(
        &self,
        a: &Access,
        user: &str,
        record: &str,
        e: &EndRecordInput,
    ) -> Result<String> {
        let (r, view) = self
            .record_to_act_on(a, record, "无权解除该类人员的记录")
            .await?;
        if let Some(u) = &view.until {
            return Err(StoreError::Conflict(format!("该记录已于 {u} 解除")));
        }
        hidden_start(a, &r, &view, e.until, "until")?;
        if e.until.to_string() < view.since {
            return Err(invalid(
                "until",
                format!("解除日期不能早于列管日期（{}）", shown_since(a, &r, &view)?),
            ));
        }
        let last = last_follow_up(self.conn(), record).await?;
        if let Some(d) = last.filter(|d| d.as_str() > e.until.to_string().as_str()) {
            return Err(invalid(
                "until",
                format!("解除日期不能早于最近一次跟进（{d}）"),
            ));
        }
        let county: String = get(&r, "county_code")?;
        let risk = RiskLevel::parse(&view.risk).unwrap_or(RiskLevel::Low);
        let tx = self.conn().begin().await?;
        insert_follow_up(
            &tx,
            &county,
            record,
            user,
            e.until,
            &format!("解除：{}", e.reason),
            None,
            risk,
        )
        .await?;
        exec(
            &tx,
            "UPDATE special_record SET until = ?, next_due = NULL WHERE county_code = ? AND id = ?",
            vec![
                e.until.to_string().into(),
                county.clone().into(),
                record.into(),
            ],
        )
        .await?;
        people_changed(&tx, &county, &[view.grid_code.as_str()]).await?;
        tx.commit().await?;
        Ok(view.resident_id)
    }

    fn record_of(&self, r: &sea_orm::QueryResult) -> Result<SpecialRecordView> {
        let kind: String = get(r, "kind")?;
        let risk: String = get(r, "risk")?;
        let next_due: Option<String> = get(r, "next_due")?;
        let until: Option<String> = get(r, "until")?;
        let k = SpecialGroupKind::parse(&kind).ok();
        Ok(SpecialRecordView {
            id: get(r, "id")?,
            resident_id: get(r, "resident_id")?,
            resident_name: get(r, "name")?,
            grid_code: get(r, "grid_code")?,
            kind_label: k
                .map(|k| k.label().to_string())
                .unwrap_or_else(|| kind.clone()),
            sensitivity: k
                .map(|k| k.sensitivity().label().to_string())
                .unwrap_or_default(),
            kind,
            helper: get(r, "helper")?,
            helper_phone_masked: get(r, "helper_phone_masked")?,
            difficulties: get(r, "difficulties")?,
            requests: get(r, "requests")?,
            risk_label: label_of(&risk, RiskLevel::parse, RiskLevel::label),
            risk,
            since: get(r, "since")?,
            overdue: until.is_none()
                && next_due
                    .as_deref()
                    .is_some_and(|d| d < today().to_string().as_str()),
            until,
            note: get(r, "note")?,
            next_due,
            follow_ups: Vec::new(),
        })
    }

    /// Records (visible to the user) with their follow-ups.
    async fn records_where(
        &self,
        a: &Access,
        cond: &str,
        values: Vec<Value>,
        with_follow_ups: bool,
    ) -> Result<Vec<SpecialRecordView>> {
        let rows = all(
            self.conn(),
            &format!(
                "SELECT {RECORD_COLUMNS} FROM special_record s JOIN resident r ON r.county_code = s.county_code \
                 AND r.id = s.resident_id WHERE {cond} ORDER BY s.until IS NOT NULL, s.next_due, s.since"
            ),
            values,
        )
        .await?;
        let mut out = Vec::new();
        let mut hidden_any = false;
        for r in &rows {
            let v = self.record_of(r)?;
            let living: Option<String> = get(r, "living_grid_code")?;
            let Ok(kind) = SpecialGroupKind::parse(&v.kind) else {
                continue;
            };
            if may_see_kind(a, kind, &v.grid_code)
                || living.as_deref().is_some_and(|g| may_see_kind(a, kind, g))
            {
                // A record begun or ended on the birthday would show the masked birth date.
                let mut v = v;
                if !a.can(Permission::PersonReveal, &v.grid_code) {
                    hidden_any = true;
                    let born: String = get(r, "birth_date")?;
                    if v.since == born {
                        v.since = crate::people::mask_day(&born);
                        // Due a fixed time after it, until the first follow-up: the day
                        // would give the birthday back, and so would the day it turns
                        // overdue.
                        v.next_due = None;
                        v.overdue = false;
                    }
                    if v.until.as_deref() == Some(born.as_str()) {
                        v.until = Some(crate::people::mask_day(&born));
                    }
                }
                out.push(v);
            }
        }
        // In order of their due days only for a reader who may see them all: the place of a
        // record whose days are hidden among others of known days would tell its start.
        if hidden_any {
            out.sort_by(|x, y| {
                (
                    x.until.is_some(),
                    !x.overdue,
                    &x.resident_name,
                    &x.kind,
                    &x.id,
                )
                    .cmp(&(
                        y.until.is_some(),
                        !y.overdue,
                        &y.resident_name,
                        &y.kind,
                        &y.id,
                    ))
            });
        }
        if with_follow_ups {
            for v in &mut out {
                let rows = all(
                    self.conn(),
                    "SELECT date, content, risk, recorded_by FROM follow_up WHERE record_id = ? ORDER BY date, recorded_at",
                    vec![v.id.clone().into()],
                )
                .await?;
                for r in &rows {
                    let risk: Option<String> = get(r, "risk")?;
                    v.follow_ups.push(FollowUpView {
                        date: get(r, "date")?,
                        content: get(r, "content")?,
                        risk: risk.map(|k| label_of(&k, RiskLevel::parse, RiskLevel::label)),
                        recorded_by: get(r, "recorded_by")?,
                    });
                }
            }
        }
        Ok(out)
    }

    /// A resident's special-group records the user may see (open and closed), with follow-ups.
    pub async fn special_records(
        &self,
        a: &Access,
        resident: &str,
    ) -> Result<Vec<SpecialRecordView>> {
        self.resident(a, resident).await?;
        self.records_where(a, "s.resident_id = ?", vec![resident.into()], true)
            .await
    }

    /// A grid's open records the user may see, the most urgent follow-up first.
    pub async fn grid_special_records(
        &self,
        a: &Access,
        grid: &str,
    ) -> Result<Vec<SpecialRecordView>> {
        if !a.can(Permission::PersonRead, grid) {
            return Err(StoreError::Forbidden("无权查看该网格的人员信息".into()));
        }
        self.records_where(
            a,
            "(r.grid_code = ? OR r.living_grid_code = ?) AND s.until IS NULL AND r.valid_to IS NULL",
            vec![grid.into(), grid.into()],
            false,
        )
        .await
    }

    /// People figures of a place (county, street, community or grid code) and of its parts,
    /// for a user who may read people there. Special groups are counted only for the
    /// classes the user may see on the whole place.
    pub async fn people_stats(&self, a: &Access, code: &str) -> Result<PeopleBreakdown> {
        if !a.can(Permission::PersonRead, code) {
            return Err(StoreError::Forbidden("无权查看该地的人员统计".into()));
        }
        if !wangge_domain::code::is_place_code(code) {
            return Err(StoreError::NotFound(format!(
                "“{code}”不是县（6 位）、街道（9 位）、社区（12 位）或网格（15 位）编码"
            )));
        }
        let part_len: usize = match code.len() {
            6 => 9,
            9 => 12,
            _ => 15,
        };
        let exact = code.len() >= 15;
        let mut parts = self.resident_counts(code, part_len).await?;
        let visible: Vec<SpecialGroupKind> = SpecialGroupKind::ALL
            .iter()
            .copied()
            .filter(|k| may_see_kind(a, *k, code))
            .collect();
        let (cond, keys) = within(code, "r.grid_code");
        if !visible.is_empty() {
            let rows = all(
                self.conn(),
                &format!(
                    "SELECT SUBSTR(r.grid_code, 1, {part_len}) AS part, s.kind, COUNT(*) AS n FROM special_record s \
                     JOIN resident r ON r.county_code = s.county_code AND r.id = s.resident_id \
                     WHERE {cond} AND r.valid_to IS NULL AND s.until IS NULL GROUP BY SUBSTR(r.grid_code, 1, {part_len}), s.kind"
                ),
                keys,
            )
            .await?;
            for r in &rows {
                if let Ok(kind) = SpecialGroupKind::parse(&get::<String>(r, "kind")?)
                    && visible.contains(&kind)
                {
                    parts
                        .entry(get(r, "part")?)
                        .or_default()
                        .add_special(kind, get(r, "n")?);
                }
            }
        }
        // Visits count where the household is now: after a plan is adopted, a visit made in a
        // retired grid counts in the grid that took its household, so the live grids' figures
        // add up to their community's. Visits are found by where they were made (grids stay
        // inside their community, and so do households), except for one grid, whose
        // households are found directly.
        let on = today().to_string();
        let month_start = format!("{}-01", &on[..7]);
        // A visit that followed up a record of a class the user may not see on the place is
        // not counted, as it is not listed.
        let (cond, mut keys) = within(code, if exact { "h.grid_code" } else { "v.grid_code" });
        keys.push(month_start.into());
        keys.extend(visible.iter().map(|k| Value::from(k.key())));
        let of_visible = if visible.is_empty() {
            String::new()
        } else {
            format!(" OR s.kind IN ({})", vec!["?"; visible.len()].join(", "))
        };
        let rows = all(
            self.conn(),
            &format!(
                "SELECT SUBSTR(h.grid_code, 1, {part_len}) AS part, COUNT(*) AS n FROM visit v \
                 JOIN household h ON h.county_code = v.county_code AND h.id = v.household_id \
                 LEFT JOIN special_record s ON s.county_code = v.county_code AND s.id = v.special_record_id \
                 WHERE {cond} AND v.date >= ? AND (v.special_record_id IS NULL{of_visible}) \
                 GROUP BY SUBSTR(h.grid_code, 1, {part_len})"
            ),
            keys,
        )
        .await?;
        for r in &rows {
            parts.entry(get(r, "part")?).or_default().visits_this_month += get::<i64>(r, "n")?;
        }
        let mut parts: Vec<(String, PeopleStats)> = parts.into_iter().collect();
        parts.sort_by(|a, b| a.0.cmp(&b.0));
        let mut total = PeopleStats::default();
        for (_, p) in &parts {
            total.add(p);
        }
        if exact {
            parts.clear();
        } else {
            // People are counted once for the whole place: one registered in one of its parts
            // and living in another is one resident here (and not 人户分离 here), where the
            // parts' sum counts him in each.
            let whole = self
                .resident_counts(code, code.len())
                .await?
                .remove(code)
                .unwrap_or_default();
            total.set_people(&whole);
        }
        Ok(PeopleBreakdown {
            code: code.to_string(),
            total,
            parts,
            visible_kinds: visible.iter().map(|k| k.key().to_string()).collect(),
        })
    }

    /// Residents and households of a place by part. Street figures (hundreds of thousands of
    /// rows) are kept per people version — the county's and the street's: only registering,
    /// importing and moving people change them, visits and special-group records do not — and
    /// a county's are its streets' (each street counted as a whole, cached on its own, so a
    /// change in one street recounts that street only).
    async fn resident_counts(
        &self,
        code: &str,
        part_len: usize,
    ) -> Result<HashMap<String, PeopleStats>> {
        match code.len() {
            6 => {
                let county_version = scalar_i64(
                    self.conn(),
                    "SELECT people_version FROM county WHERE code = ?",
                    vec![code.into()],
                )
                .await?;
                let streets = all(
                    self.conn(),
                    "SELECT code, people_version FROM street WHERE county_code = ? ORDER BY code",
                    vec![code.into()],
                )
                .await?;
                let mut parts = HashMap::new();
                for r in &streets {
                    let street: String = get(r, "code")?;
                    let version = (county_version, get(r, "people_version")?);
                    // By street (part_len 9), or the county as one (6): streets add up.
                    for (k, v) in self.street_counts(&street, part_len, version).await? {
                        parts.entry(k).or_insert_with(PeopleStats::default).add(&v);
                    }
                }
                Ok(parts)
            }
            9 => {
                let r = one(
                    self.conn(),
                    "SELECT c.people_version AS county_version, s.people_version AS street_version \
                     FROM street s JOIN county c ON c.code = s.county_code WHERE s.code = ?",
                    vec![code.into()],
                )
                .await?;
                match r {
                    Some(r) => {
                        let version = (get(&r, "county_version")?, get(&r, "street_version")?);
                        self.street_counts(code, part_len, version).await
                    }
                    None => self.count_residents(code, part_len).await,
                }
            }
            _ => self.count_residents(code, part_len).await,
        }
    }

    /// A street's counts by parts of `part_len`, from the cache when counted today at these
    /// people versions.
    async fn street_counts(
        &self,
        street: &str,
        part_len: usize,
        version: (i64, i64),
    ) -> Result<HashMap<String, PeopleStats>> {
        // Ages are counted as of today: a cached figure is good for the day it was made.
        let day = today().to_string();
        let key = format!("{street}/{part_len}");
        if let Ok(cache) = self.people_cache.lock()
            && let Some((v, d, parts)) = cache.get(&key)
            && *v == version
            && *d == day
        {
            return Ok(parts.clone());
        }
        let parts = self.count_residents(street, part_len).await?;
        if let Ok(mut cache) = self.people_cache.lock() {
            cache.insert(key, (version, day, parts.clone()));
        }
        Ok(parts)
    }

    /// Counts residents and households of a place by parts of `part_len` (no cache).
    async fn count_residents(
        &self,
        code: &str,
        part_len: usize,
    ) -> Result<HashMap<String, PeopleStats>> {
        let t = today();
        // Ages by years, as those who may not see birth dates are shown them: born in or
        // before the year `age` years back means turning `age` this year at the latest. (By
        // the day, a count that moves on someone's birthday would give the birthday away.)
        let limit = |age: i32| format!("{:04}-12-31", t.year() - age);
        let band_sql = format!(
            "CASE WHEN birth_date > '{}' THEN 0 WHEN birth_date > '{}' THEN 1 WHEN birth_date > '{}' THEN 2 \
             WHEN birth_date > '{}' THEN 3 ELSE 4 END",
            limit(18),
            limit(35),
            limit(60),
            limit(80)
        );
        let lives_sql = format!(
            "CASE WHEN living_grid_code IS NULL OR SUBSTR(living_grid_code, 1, {part_len}) = SUBSTR(grid_code, 1, {part_len}) \
             THEN 1 ELSE 0 END"
        );
        let mut parts: HashMap<String, PeopleStats> = HashMap::new();
        let sex_of = |s: &str| {
            if s == Sex::Male.label() {
                Sex::Male
            } else {
                Sex::Female
            }
        };
        // Members of the place's households, and whether they live here.
        let (cond, keys) = within(code, "grid_code");
        let rows = all(
            self.conn(),
            &format!(
                "SELECT SUBSTR(grid_code, 1, {part_len}) AS part, household_kind, sex, CAST({band_sql} AS BIGINT) AS band, \
                 CAST({lives_sql} AS BIGINT) AS lives_here, COUNT(*) AS n FROM resident WHERE {cond} AND valid_to IS NULL \
                 GROUP BY SUBSTR(grid_code, 1, {part_len}), household_kind, sex, {band_sql}, {lives_sql}"
            ),
            keys,
        )
        .await?;
        for r in &rows {
            let kind: Option<String> = get(r, "household_kind")?;
            let sex: String = get(r, "sex")?;
            parts.entry(get(r, "part")?).or_default().add_residents(
                kind.as_deref() == Some(HouseholdKind::Registered.key()),
                get::<i64>(r, "lives_here")? == 1,
                sex_of(&sex),
                AgeBand::ALL[get::<i64>(r, "band")?.clamp(0, 4) as usize],
                get(r, "n")?,
            );
        }
        // People living here whose own household is elsewhere (in another part).
        let (cond, keys) = within(code, "living_grid_code");
        let rows = all(
            self.conn(),
            &format!(
                "SELECT SUBSTR(living_grid_code, 1, {part_len}) AS part, sex, CAST({band_sql} AS BIGINT) AS band, COUNT(*) AS n \
                 FROM resident WHERE {cond} AND valid_to IS NULL \
                 AND SUBSTR(living_grid_code, 1, {part_len}) <> SUBSTR(grid_code, 1, {part_len}) \
                 GROUP BY SUBSTR(living_grid_code, 1, {part_len}), sex, {band_sql}"
            ),
            keys,
        )
        .await?;
        for r in &rows {
            let sex: String = get(r, "sex")?;
            parts.entry(get(r, "part")?).or_default().add_residents(
                false,
                true,
                sex_of(&sex),
                AgeBand::ALL[get::<i64>(r, "band")?.clamp(0, 4) as usize],
                get(r, "n")?,
            );
        }
        let (cond, keys) = within(code, "grid_code");
        let rows = all(
            self.conn(),
            &format!(
                "SELECT SUBSTR(grid_code, 1, {part_len}) AS part, kind, COUNT(*) AS n FROM household \
                 WHERE {cond} AND valid_to IS NULL GROUP BY SUBSTR(grid_code, 1, {part_len}), kind"
            ),
            keys,
        )
        .await?;
        for r in &rows {
            if let Ok(kind) = HouseholdKind::parse(&get::<String>(r, "kind")?) {
                parts
                    .entry(get(r, "part")?)
                    .or_default()
                    .add_households(kind, get(r, "n")?);
            }
        }
        Ok(parts)
    }
}

/// A street's resident counts by `street/part length`, with the people versions (county's,
/// street's) and the day they were counted on.
pub(crate) type PeopleCache = std::sync::Arc<
    std::sync::Mutex<HashMap<String, ((i64, i64), String, HashMap<String, PeopleStats>)>>,
>;

/// Puts a compound's households in `grid`, their residents with them (and as where they live,
/// for residents living in one of them): when the compound changes grid. Returns the
/// households moved; marks people as changed in both grids' streets.
pub(crate) async fn households_follow_compound<C: sea_orm::ConnectionTrait>(
    c: &C,
    county: &str,
    compound: &str,
    grid: &str,
) -> Result<u64> {
    let old: Vec<String> = all(
        c,
        "SELECT DISTINCT grid_code FROM household WHERE county_code = ? AND compound_id = ? AND grid_code <> ?",
        vec![county.into(), compound.into(), grid.into()],
    )
    .await?
    .iter()
    .map(|r| get(r, "grid_code"))
    .collect::<Result<_>>()?;
    if old.is_empty() {
        return Ok(0);
    }
    let moved = exec(
        c,
        "UPDATE household SET grid_code = ? WHERE county_code = ? AND compound_id = ? AND grid_code <> ?",
        vec![grid.into(), county.into(), compound.into(), grid.into()],
    )
    .await?;
    // Those who moved away or died go too: their records stay with their household.
    for (column, household) in [
        ("grid_code", "household_id"),
        ("living_grid_code", "living_household_id"),
    ] {
        exec(
            c,
            &format!(
                "UPDATE resident SET {column} = ? WHERE county_code = ? \
                 AND {household} IN (SELECT id FROM household WHERE county_code = ? AND compound_id = ?)"
            ),
            vec![grid.into(), county.into(), county.into(), compound.into()],
        )
        .await?;
    }
    let mut touched: Vec<&str> = old.iter().map(String::as_str).collect();
    touched.push(grid);
    people_changed(c, county, &touched).await?;
    Ok(moved)
}

/// Marks people as changed (residents or households registered, moved, left) in the streets
/// of the given places (grid or community codes), or in the whole county when none are given:
/// those streets' cached counts, and the county's share of them, are read afresh. In the
/// writing transaction.
pub(crate) async fn people_changed<C: sea_orm::ConnectionTrait>(
    c: &C,
    county: &str,
    places: &[&str],
) -> Result<()> {
    if places.is_empty() {
        exec(
            c,
            "UPDATE county SET people_version = people_version + 1 WHERE code = ?",
            vec![county.into()],
        )
        .await?;
        return Ok(());
    }
    let mut streets: Vec<&str> = places.iter().filter_map(|p| p.get(..9)).collect();
    streets.sort_unstable();
    streets.dedup();
    for street in streets {
        exec(
            c,
            "UPDATE street SET people_version = people_version + 1 WHERE code = ?",
            vec![street.into()],
        )
        .await?;
    }
    Ok(())
}

/// The condition "`column` lies in the place `code`" as an index range (codes are digits, so
/// the range ends where the prefix's last non-9 digit goes up by one), and its values. A code
/// that is not all digits matches nothing: an open range from it would run past its place.
fn within(code: &str, column: &str) -> (String, Vec<Value>) {
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return ("1 = 0".to_string(), Vec::new());
    }
    if code.len() >= 15 {
        return (format!("{column} = ?"), vec![code.into()]);
    }
    let trimmed = code.trim_end_matches('9');
    match trimmed.chars().last() {
        Some(c) if c.is_ascii_digit() => {
            let end = format!("{}{}", &trimmed[..trimmed.len() - 1], (c as u8 + 1) as char);
            (
                format!("{column} >= ? AND {column} < ?"),
                vec![code.into(), end.into()],
            )
        }
        _ => (format!("{column} >= ?"), vec![code.into()]),
    }
}

/// A history row for a move of `resident` (`from` / `to`: household ids).
async fn insert_move<C: sea_orm::ConnectionTrait>(
    c: &C,
    (county, user): (&str, &str),
    resident: &str,
    m: &MoveInput,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO resident_move (county_code, id, resident_id, kind, date, place, reason, from_household_id, \
         to_household_id, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            county.into(),
            new_id().into(),
            resident.into(),
            m.kind.key().into(),
            m.date.to_string().into(),
            m.place.clone().into(),
            m.reason.clone().into(),
            from.map(str::to_string).into(),
            to.map(str::to_string).into(),
            user.into(),
            now_secs().into(),
        ],
    )
    .await?;
    Ok(())
}

/// A follow-up row, and the record's risk and next due date after it.
/// The day of a record's latest follow-up, if any.
async fn last_follow_up<C: sea_orm::ConnectionTrait>(
    c: &C,
    record: &str,
) -> Result<Option<String>> {
    Ok(one(
        c,
        "SELECT MAX(date) AS d FROM follow_up WHERE record_id = ?",
        vec![record.into()],
    )
    .await?
    .map(|r| get::<Option<String>>(&r, "d"))
    .transpose()?
    .flatten())
}

#[allow(clippy::too_many_arguments)]
async fn insert_follow_up<C: sea_orm::ConnectionTrait>(
    c: &C,
    county: &str,
    record: &str,
    user: &str,
    date: Date,
    content: &str,
    reassessed: Option<RiskLevel>,
    risk: RiskLevel,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO follow_up (county_code, id, record_id, date, content, risk, recorded_by, recorded_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            county.into(),
            new_id().into(),
            record.into(),
            date.to_string().into(),
            content.into(),
            reassessed.map(|r| r.key().to_string()).into(),
            user.into(),
            now_secs().into(),
        ],
    )
    .await?;
    // The next follow-up is due from the latest one made.
    let latest = last_follow_up(c, record).await?;
    let from = latest.and_then(|d| Date::parse(&d).ok()).unwrap_or(date);
    exec(
        c,
        "UPDATE special_record SET risk = ?, next_due = ? WHERE county_code = ? AND id = ?",
        vec![
            risk.key().into(),
            risk.next_due(from).map(|d| d.to_string()).into(),
            county.into(),
            record.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Whether the user may reveal a special record's person: on the grid of his household or
/// the one he lives in.
fn reveals_record(a: &Access, r: &sea_orm::QueryResult, view: &SpecialRecordView) -> Result<bool> {
    let living: Option<String> = get(r, "living_grid_code")?;
    Ok(a.can(Permission::PersonReveal, &view.grid_code)
        || living.is_some_and(|g| a.can(Permission::PersonReveal, &g)))
}

/// A day given for a person by a user who may not reveal him: not in the person's birth
/// year. A day there that is the birthday would be shown masked afterwards, and one checked
/// against a day equal to it (a record begun on the birthday) answered differently: either
/// way, trying days would find the birth date.
fn outside_birth_year(reveal: bool, birth: &str, d: Date, field: &str) -> Result<()> {
    let year = birth.get(..4).unwrap_or("");
    if reveal || d.to_string().get(..4) != Some(year) {
        return Ok(());
    }
    let next = year.parse::<i32>().unwrap_or(0) + 1;
    Err(invalid(
        field,
        format!(
            "该居民的出生日期对您隐去：日期不能在其出生年份（{year} 年）内，请选择 {next}-01-01 及以后的日期，或请可查看完整号码的人员办理"
        ),
    ))
}

/// A date given against a record by a user who may not reveal its person: not in the
/// person's birth year ([`outside_birth_year`]).
fn hidden_start(
    a: &Access,
    r: &sea_orm::QueryResult,
    view: &SpecialRecordView,
    date: Date,
    field: &str,
) -> Result<()> {
    let born: String = get(r, "birth_date")?;
    outside_birth_year(reveals_record(a, r, view)?, &born, date, field)
}

/// A record's start as a message may quote it: masked like the birth date when it is the
/// birthday and the user may not reveal the person's number.
fn shown_since(a: &Access, r: &sea_orm::QueryResult, view: &SpecialRecordView) -> Result<String> {
    let born: String = get(r, "birth_date")?;
    Ok(if view.since == born && !reveals_record(a, r, view)? {
        crate::people::mask_day(&born)
    } else {
        view.since.clone()
    })
}
