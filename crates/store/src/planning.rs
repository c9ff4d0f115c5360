//! What the grid planner reads from the registry (a community's compounds with their current
//! grids and geometry, and the codes ever used there), and adopting a plan: new grids created,
//! compounds moved, grids no longer used retired — history kept, codes never reused.

use std::collections::HashMap;

use sea_orm::TransactionTrait;
use serde::Serialize;
use wangge_domain::access::{Access, Permission};
use wangge_domain::policy::StaffRole;
use wangge_domain::redraw::{self, Moved, Traits};
use wangge_domain::{CompoundKind, GridCode, GridKind, Tier};

use crate::db::{all, exec, get};
use crate::{Result, Store, StoreError, today};

/// A compound as the planner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanCompound {
    pub id: String,
    pub name: String,
    pub households: i64,
    pub kind: String,
    pub has_property_management: bool,
    pub grid_code: Option<String>,
    /// GeoJSON geometry, if the registry has one.
    pub geometry: Option<String>,
}

/// A community ready to plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanSource {
    pub community: String,
    pub community_name: String,
    pub compounds: Vec<PlanCompound>,
    /// Every grid code ever used in the community (live and retired): none is given again.
    pub used_codes: Vec<String>,
    /// The live grids' codes and names.
    pub live_grids: Vec<(String, String)>,
    /// The live grids' kinds and tiers (建设标准), by code.
    #[serde(skip)]
    pub live_traits: HashMap<String, Traits>,
    /// The street's barriers (lines a grid must not cross).
    pub barriers: Vec<Barrier>,
}

/// A line a grid must not cross (a street, road, river or railway), registered for a street.
#[derive(Debug, Clone, Serialize)]
pub struct Barrier {
    pub id: String,
    pub name: String,
    /// 道路, 河流, 铁路…
    pub kind: String,
    /// GeoJSON LineString or MultiLineString.
    pub geometry: String,
}

/// A barrier to register (see [`Store::replace_barriers`]).
#[derive(Debug, Clone)]
pub struct NewBarrier {
    pub name: String,
    pub kind: String,
    pub geometry: String,
}

/// One grid of an adopted plan.
#[derive(Debug, Clone)]
pub struct AdoptGrid {
    pub code: String,
    pub compounds: Vec<String>,
}

/// What adopting did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AdoptSummary {
    pub kept: usize,
    pub created: usize,
    pub retired: usize,
    /// Compounds put in another grid.
    pub moved: usize,
    /// Households put in another grid (with their compound, or their retired grid's successor).
    pub households_moved: usize,
    /// Staff whose post was a retired grid, and whose assignment ends with it: “姓名（角色，
    /// 网格编码）”, to be posted again.
    pub staff_ended: Vec<String>,
    /// With [`StaffOnRetired::Follow`]: staff posted again, the same day, at the grid that
    /// took most of their retired grid's households: “姓名（角色）：旧网格 → 新网格”.
    pub staff_moved: Vec<String>,
    /// Accounts whose role was on a retired grid, now on the grid that took most of its
    /// households (the worker keeps working on the same people): “用户名：旧网格 → 新网格”.
    pub accounts_moved: Vec<String>,
}

/// What adopting does with the staff posted at the grids it retires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StaffOnRetired {
    /// Their postings end; someone posts them again.
    #[default]
    End,
    /// Their postings end and each is posted again, the same day, at the grid that takes
    /// most of the retired grid's households (unless already posted there in that role).
    Follow,
}

impl Store {
    pub async fn plan_source(&self, a: &Access, community: &str) -> Result<PlanSource> {
        let c = self.community(a, community).await?;
        if c.valid_to.is_some() {
            return Err(StoreError::Conflict("该社区已撤销".into()));
        }
        let county: String = community.chars().take(6).collect();
        let rows = all(
            self.conn(),
            "SELECT id, name, households, kind, has_property_management, grid_code, geometry FROM compound \
             WHERE county_code = ? AND community_code = ? AND valid_to IS NULL ORDER BY id",
            vec![county.into(), community.into()],
        )
        .await?;
        let compounds = rows
            .iter()
            .map(|r| {
                Ok(PlanCompound {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    households: get(r, "households")?,
                    kind: get(r, "kind")?,
                    has_property_management: get(r, "has_property_management")?,
                    grid_code: get(r, "grid_code")?,
                    geometry: get(r, "geometry")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let grids = all(
            self.conn(),
            "SELECT code, name, kind, tier, valid_to FROM grid WHERE community_code = ? ORDER BY code",
            vec![community.into()],
        )
        .await?;
        let mut used_codes = Vec::new();
        let mut live_grids = Vec::new();
        let mut live_traits = HashMap::new();
        for r in &grids {
            let code: String = get(r, "code")?;
            if get::<Option<String>>(r, "valid_to")?.is_none() {
                live_grids.push((code.clone(), get(r, "name")?));
                live_traits.insert(code.clone(), traits_of(r)?);
            }
            used_codes.push(code);
        }
        let barriers = self.barriers_any(&c.street_code).await?;
        Ok(PlanSource {
            community: community.to_string(),
            community_name: c.name.clone(),
            compounds,
            used_codes,
            live_grids,
            live_traits,
            barriers,
        })
    }

    /// A street's barriers, in the order of the file they came from.
    pub async fn street_barriers(&self, a: &Access, street: &str) -> Result<Vec<Barrier>> {
        if !a.can(Permission::RegistryRead, street) {
            return Err(StoreError::Forbidden("无权查看该街道".into()));
        }
        self.street_any(street).await?;
        self.barriers_any(street).await
    }

    async fn barriers_any(&self, street: &str) -> Result<Vec<Barrier>> {
        let county: String = street.chars().take(6).collect();
        let rows = all(
            self.conn(),
            "SELECT id, name, kind, geometry FROM barrier WHERE county_code = ? AND street_code = ? \
             AND valid_to IS NULL ORDER BY position",
            vec![county.into(), street.into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Barrier {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    kind: get(r, "kind")?,
                    geometry: get(r, "geometry")?,
                })
            })
            .collect()
    }

    /// Replaces a street's barriers with `items` in one transaction (an empty list clears
    /// them): the ones in force are retired today (kept, like every registry row), the new
    /// ones start today. Needs the right to edit the street's registry.
    pub async fn replace_barriers(
        &self,
        a: &Access,
        street: &str,
        items: &[NewBarrier],
    ) -> Result<usize> {
        if !a.can(Permission::RegistryWrite, street) {
            return Err(StoreError::Forbidden("无权修改该街道的街路河界线".into()));
        }
        let st = self.street_any(street).await?;
        if st.street.valid_to.is_some() {
            return Err(StoreError::Conflict("该街道已撤销".into()));
        }
        self.replace_barriers_any(street, items).await
    }

    /// The demo's lines around its communities (`domain::demo::boundary_lines`), street by
    /// street. Nothing is checked: for loading the demo county only.
    pub async fn load_demo_barriers(
        &self,
        lines: &[(
            wangge_domain::code::StreetCode,
            Vec<wangge_domain::demo::DemoBarrier>,
        )],
    ) -> Result<()> {
        for (street, barriers) in lines {
            let items: Vec<NewBarrier> = barriers
                .iter()
                .map(|b| NewBarrier {
                    name: b.name.clone(),
                    kind: b.kind.to_string(),
                    geometry: b.geometry.clone(),
                })
                .collect();
            self.replace_barriers_any(street.as_str(), &items).await?;
        }
        Ok(())
    }

    async fn replace_barriers_any(&self, street: &str, items: &[NewBarrier]) -> Result<usize> {
        let county: String = street.chars().take(6).collect();
        let tx = self.conn().begin().await?;
        // Two uploads at once replace one after the other (the street row is the lock).
        exec(
            &tx,
            "UPDATE street SET name = name WHERE code = ?",
            vec![street.into()],
        )
        .await?;
        let day = today().to_string();
        exec(
            &tx,
            "UPDATE barrier SET valid_to = ? WHERE county_code = ? AND street_code = ? \
             AND valid_to IS NULL",
            vec![day.clone().into(), county.clone().into(), street.into()],
        )
        .await?;
        for (position, b) in items.iter().enumerate() {
            exec(
                &tx,
                "INSERT INTO barrier (county_code, id, street_code, position, name, kind, geometry, \
                 valid_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    county.clone().into(),
                    crate::new_id().into(),
                    street.into(),
                    (position as i64).into(),
                    b.name.clone().into(),
                    b.kind.clone().into(),
                    b.geometry.clone().into(),
                    day.clone().into(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(items.len())
    }

    /// Adopts a plan for a community in one transaction: grids whose code is new are created
    /// (named by sequence; kind and tier handed on by `heritage`), every compound is put in
    /// its planned grid, and live grids left without compounds are retired today (their staff
    /// leave them the same day).
    pub async fn adopt_plan(
        &self,
        a: &Access,
        community: &str,
        grids: &[AdoptGrid],
    ) -> Result<AdoptSummary> {
        self.adopt(
            a,
            &[(community.to_string(), grids.to_vec())],
            StaffOnRetired::End,
            true,
        )
        .await
    }

    /// Adopts the plans of several communities (a street's) in one transaction: every plan is
    /// checked first, and either all are adopted or none. The summary adds up the communities'.
    pub async fn adopt_plans(
        &self,
        a: &Access,
        plans: &[(String, Vec<AdoptGrid>)],
        staff: StaffOnRetired,
    ) -> Result<AdoptSummary> {
        self.adopt(a, plans, staff, true).await
    }

    /// What adopting `plans` would do, or why it would be refused, without writing anything:
    /// the same checks and writes as [`Store::adopt_plans`], in a transaction rolled back.
    pub async fn try_plans(
        &self,
        a: &Access,
        plans: &[(String, Vec<AdoptGrid>)],
        staff: StaffOnRetired,
    ) -> Result<AdoptSummary> {
        self.adopt(a, plans, staff, false).await
    }

    async fn adopt(
        &self,
        a: &Access,
        plans: &[(String, Vec<AdoptGrid>)],
        staff: StaffOnRetired,
        commit: bool,
    ) -> Result<AdoptSummary> {
        // With several communities, errors name the community.
        let named = |community: &str, e: StoreError| match e {
            StoreError::Conflict(m) if plans.len() > 1 => {
                StoreError::Conflict(format!("社区 {community}：{m}"))
            }
            e => e,
        };
        let mut sources = Vec::with_capacity(plans.len());
        for (community, grids) in plans {
            let source = self.check_plan(a, community, grids).await;
            sources.push(source.map_err(|e| named(community, e))?);
        }
        let tx = self.conn().begin().await?;
        let mut total = AdoptSummary::default();
        for (source, (community, grids)) in sources.iter().zip(plans) {
            let s = apply_plan(&tx, source, grids, staff)
                .await
                .map_err(|e| named(community, e))?;
            total.kept += s.kept;
            total.created += s.created;
            total.retired += s.retired;
            total.moved += s.moved;
            total.households_moved += s.households_moved;
            total.staff_ended.extend(s.staff_ended);
            total.staff_moved.extend(s.staff_moved);
            total.accounts_moved.extend(s.accounts_moved);
        }
        if commit {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(total)
    }

    /// The community's registry as the plan must match it: the right to adopt, grid codes of
    /// this community never used before (or live), every live compound exactly once.
    async fn check_plan(
        &self,
        a: &Access,
        community: &str,
        grids: &[AdoptGrid],
    ) -> Result<PlanSource> {
        if !a.can(Permission::PlanAdopt, community) {
            return Err(StoreError::Forbidden("无权采用该社区的网格划分方案".into()));
        }
        let source = self.plan_source(a, community).await?;
        let community_code = wangge_domain::CommunityCode::parse(community)
            .map_err(|e| StoreError::Config(e.to_string()))?;
        // Every compound exactly once, and only this community's.
        let mut seen = std::collections::HashSet::new();
        for g in grids {
            GridCode::parse_under(&g.code, &community_code)
                .map_err(|e| StoreError::Conflict(format!("方案中的网格编码有误：{e}")))?;
            for m in &g.compounds {
                if !source.compounds.iter().any(|c| &c.id == m) || !seen.insert(m.clone()) {
                    return Err(StoreError::Conflict(
                        "方案与当前登记不符（小区已变动），请重新生成方案".into(),
                    ));
                }
            }
        }
        if seen.len() != source.compounds.len() {
            return Err(StoreError::Conflict(
                "方案与当前登记不符（小区已变动），请重新生成方案".into(),
            ));
        }
        let live: Vec<&String> = source.live_grids.iter().map(|(c, _)| c).collect();
        for g in grids {
            if !live.contains(&&g.code) && source.used_codes.contains(&g.code) {
                return Err(StoreError::Conflict(format!(
                    "网格编码 {} 曾被使用，不得重复使用",
                    g.code
                )));
            }
        }
        Ok(source)
    }
}

/// Writes a checked plan (see [`Store::check_plan`]) inside `tx`.
async fn apply_plan(
    tx: &sea_orm::DatabaseTransaction,
    source: &PlanSource,
    grids: &[AdoptGrid],
    staff_on_retired: StaffOnRetired,
) -> Result<AdoptSummary> {
    let community = source.community.as_str();
    let live: Vec<&String> = source.live_grids.iter().map(|(c, _)| c).collect();
    let mut summary = AdoptSummary::default();
    let county: String = community.chars().take(6).collect();
    let day = today().to_string();
    let rows = all(
        tx,
        "SELECT code, kind, tier FROM grid WHERE community_code = ? AND valid_to IS NULL",
        vec![community.into()],
    )
    .await?;
    let mut current: Vec<(String, Traits)> = Vec::with_capacity(rows.len());
    for r in &rows {
        current.push((get(r, "code")?, traits_of(r)?));
    }
    let moved = moves(source, grids);
    let inherited = redraw::heritage(
        &moved,
        &current.iter().map(|(c, t)| (c.as_str(), *t)).collect(),
    );
    for g in grids {
        if live.contains(&&g.code) {
            summary.kept += 1;
        } else {
            let seq = &g.code[g.code.len() - 3..];
            let (kind, tier) = inherited
                .get(g.code.as_str())
                .copied()
                .unwrap_or((GridKind::Urban, None));
            exec(
                tx,
                "INSERT INTO grid (code, county_code, community_code, name, kind, tier, valid_from) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    g.code.clone().into(),
                    county.clone().into(),
                    community.into(),
                    wangge_domain::registry::default_grid_name(
                        &source.community_name,
                        seq.parse().unwrap_or(0),
                    )
                    .into(),
                    kind.key().into(),
                    tier.map(|t| t.key()).into(),
                    day.clone().into(),
                ],
            )
            .await?;
            summary.created += 1;
        }
        for m in &g.compounds {
            let before = source
                .compounds
                .iter()
                .find(|c| &c.id == m)
                .and_then(|c| c.grid_code.clone());
            if before.as_deref() != Some(g.code.as_str()) {
                crate::registry::record_compound_move(
                    tx,
                    &county,
                    m,
                    before.as_deref(),
                    Some(&g.code),
                    "plan",
                )
                .await?;
                exec(
                    tx,
                    "UPDATE compound SET grid_code = ? WHERE county_code = ? AND id = ?",
                    vec![
                        g.code.clone().into(),
                        county.clone().into(),
                        m.clone().into(),
                    ],
                )
                .await?;
                summary.moved += 1;
            }
        }
    }
    summary.households_moved = move_people(tx, source, grids, &county).await?;
    // Grid leaders posted again: (their line in `staff_moved`, person, grid).
    let mut leaders_moved: Vec<(usize, String, String)> = Vec::new();
    for code in live {
        if !grids.iter().any(|g| &g.code == code) {
            exec(
                tx,
                "UPDATE grid SET valid_to = ? WHERE code = ? AND valid_to IS NULL",
                vec![day.clone().into(), code.clone().into()],
            )
            .await?;
            // Staff posted at a retired grid leave it the same day (and, if asked, are posted
            // at its main successor).
            let staff = all(
                tx,
                "SELECT person_id, person_name, role FROM staff_assignment WHERE county_code = ? \
                 AND post_code = ? AND valid_to IS NULL ORDER BY person_name, role",
                vec![county.clone().into(), code.clone().into()],
            )
            .await?;
            exec(
                tx,
                "UPDATE staff_assignment SET valid_to = ? WHERE post_code = ? AND valid_to IS NULL",
                vec![day.clone().into(), code.clone().into()],
            )
            .await?;
            let successor = redraw::main_successor(&moved, code);
            if let Some(to) = successor {
                summary
                    .accounts_moved
                    .extend(accounts_follow(tx, code, to).await?);
            }
            let heir = match staff_on_retired {
                StaffOnRetired::Follow => successor,
                StaffOnRetired::End => None,
            };
            for r in &staff {
                let (name, key): (String, String) = (get(r, "person_name")?, get(r, "role")?);
                let role = wangge_domain::policy::StaffRole::parse(&key)
                    .map(|x| x.label().to_string())
                    .unwrap_or_else(|| key.clone());
                let posted = match heir {
                    Some(to) => post_again(tx, &county, r, to, &day).await?,
                    None => false,
                };
                match heir {
                    Some(to) if posted => {
                        if key == StaffRole::GridLeader.key() {
                            leaders_moved.push((
                                summary.staff_moved.len(),
                                get::<String>(r, "person_id")?,
                                to.to_string(),
                            ));
                        }
                        summary
                            .staff_moved
                            .push(format!("{name}（{role}）：{code} → {to}"));
                    }
                    _ => summary
                        .staff_ended
                        .push(format!("{name}（{role}，{code}）")),
                }
            }
            summary.retired += 1;
        }
    }
    // A grid has one leader: once everyone has followed, say so on every follower's line
    // where the grid ends up with two.
    for (line, person, to) in leaders_moved {
        let others = other_leaders(tx, &county, &to, &person).await?;
        if !others.is_empty() {
            summary.staff_moved[line].push_str(&format!(
                "（该网格另有网格长{}，需调整）",
                others.join("、")
            ));
        }
    }
    crate::registry::refresh_community(tx, community).await?;
    Ok(summary)
}

/// Moves the roles bound to the retired grid `from` to grid `to` (a role already held there is
/// not held twice). Returns “用户名：from → to” for each account moved.
async fn accounts_follow(
    tx: &sea_orm::DatabaseTransaction,
    from: &str,
    to: &str,
) -> Result<Vec<String>> {
    let kind = wangge_domain::access::ScopeKind::Grid.key();
    let names = crate::users::accounts_on_grid(tx, from).await?;
    exec(
        tx,
        "DELETE FROM user_role WHERE scope_kind = ? AND scope_key = ? AND EXISTS (SELECT 1 FROM \
         user_role o WHERE o.user_id = user_role.user_id AND o.role = user_role.role \
         AND o.scope_kind = ? AND o.scope_key = ?)",
        vec![kind.into(), from.into(), kind.into(), to.into()],
    )
    .await?;
    exec(
        tx,
        "UPDATE user_role SET scope_key = ? WHERE scope_kind = ? AND scope_key = ?",
        vec![to.into(), kind.into(), from.into()],
    )
    .await?;
    Ok(names
        .into_iter()
        .map(|n| format!("{n}：{from} → {to}"))
        .collect())
}

/// The names of grid `to`'s leaders other than the person `person`.
async fn other_leaders(
    tx: &sea_orm::DatabaseTransaction,
    county: &str,
    to: &str,
    person: &str,
) -> Result<Vec<String>> {
    let rows = all(
        tx,
        "SELECT DISTINCT person_name FROM staff_assignment WHERE county_code = ? AND post_code = ? \
         AND role = ? AND person_id <> ? AND valid_to IS NULL ORDER BY person_name",
        vec![
            county.into(),
            to.into(),
            StaffRole::GridLeader.key().into(),
            person.into(),
        ],
    )
    .await?;
    rows.iter().map(|r| get(r, "person_name")).collect()
}

/// Posts a person of an ended grid posting (`r`: person_id, person_name, role) at grid `to`
/// from `day`, unless already posted there in that role. Whether it did.
async fn post_again(
    tx: &sea_orm::DatabaseTransaction,
    county: &str,
    r: &sea_orm::QueryResult,
    to: &str,
    day: &str,
) -> Result<bool> {
    let (person, name, role): (String, String, String) = (
        get(r, "person_id")?,
        get(r, "person_name")?,
        get(r, "role")?,
    );
    let already = crate::db::scalar_i64(
        tx,
        "SELECT COUNT(*) FROM staff_assignment WHERE county_code = ? AND post_code = ? AND role = ? \
         AND person_name = ? AND valid_to IS NULL",
        vec![county.into(), to.into(), role.clone().into(), name.clone().into()],
    )
    .await?;
    if already > 0 {
        return Ok(false);
    }
    exec(
        tx,
        "INSERT INTO staff_assignment (county_code, id, person_id, person_name, role, post_level, \
         post_code, compound_id, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            county.into(),
            crate::new_id().into(),
            person.into(),
            name.into(),
            role.into(),
            "grid".into(),
            to.into(),
            None::<String>.into(),
            day.into(),
            None::<String>.into(),
        ],
    )
    .await?;
    Ok(true)
}

/// The plan's compounds, where they are and where they go (see [`wangge_domain::redraw`]).
/// A grid row's kind and tier.
fn traits_of(r: &sea_orm::QueryResult) -> Result<Traits> {
    let kind = GridKind::parse(&get::<String>(r, "kind")?).unwrap_or(GridKind::Urban);
    let tier = get::<Option<String>>(r, "tier")?.and_then(|t| Tier::parse(&t).ok());
    Ok((kind, tier))
}

impl PlanSource {
    /// The kind each grid of a plan would have once adopted: a live grid kept keeps its own, a
    /// new grid takes it from the grids it replaces ([`redraw::heritage`], as adopting does).
    pub fn kinds_after(&self, grids: &[AdoptGrid]) -> HashMap<String, GridKind> {
        let current: HashMap<&str, Traits> = self
            .live_traits
            .iter()
            .map(|(c, t)| (c.as_str(), *t))
            .collect();
        let inherited = redraw::heritage(&moves(self, grids), &current);
        grids
            .iter()
            .map(|g| {
                let kind = current
                    .get(g.code.as_str())
                    .or_else(|| inherited.get(g.code.as_str()))
                    .map_or(GridKind::Urban, |t| t.0);
                (g.code.clone(), kind)
            })
            .collect()
    }
}

fn moves<'a>(source: &'a PlanSource, grids: &'a [AdoptGrid]) -> Vec<Moved<'a>> {
    let by_id: HashMap<&str, &PlanCompound> = source
        .compounds
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    grids
        .iter()
        .flat_map(|g| g.compounds.iter().map(move |m| (g, m)))
        .filter_map(|(g, m)| {
            let c = by_id.get(m.as_str())?;
            Some(Moved {
                from: c.grid_code.as_deref(),
                to: &g.code,
                households: c.households,
                kind: CompoundKind::parse(&c.kind).unwrap_or(CompoundKind::Compound),
            })
        })
        .collect()
}

/// Households and their residents follow the plan: a household registered in a compound goes
/// with the compound; any other household left in a grid the plan retires (registered by grid
/// alone) goes to the new grid that took most of that grid's households. Residents take their
/// household's grid, and their living household's as where they live. Returns the households
/// moved; a retired grid whose households have nowhere to go refuses the plan.
async fn move_people(
    tx: &sea_orm::DatabaseTransaction,
    source: &PlanSource,
    grids: &[AdoptGrid],
    county: &str,
) -> Result<usize> {
    let mut new_grid: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for g in grids {
        for m in &g.compounds {
            new_grid.insert(m, &g.code);
        }
    }
    let placed = moves(source, grids);
    let mut moved = 0u64;
    for c in &source.compounds {
        if let Some(&to) = new_grid.get(c.id.as_str())
            && c.grid_code.as_deref() != Some(to)
        {
            moved += crate::care::households_follow_compound(tx, county, &c.id, to).await?;
        }
    }
    for (code, _) in source
        .live_grids
        .iter()
        .filter(|(c, _)| !grids.iter().any(|g| &g.code == c))
    {
        let left = crate::db::scalar_i64(
            tx,
            "SELECT COUNT(*) FROM household WHERE county_code = ? AND grid_code = ?",
            vec![county.into(), code.clone().into()],
        )
        .await?;
        if left == 0 {
            continue;
        }
        // Where most of the retired grid's households (by its compounds) went.
        let Some(to) = redraw::main_successor(&placed, code) else {
            return Err(StoreError::Conflict(format!(
                "网格 {code} 不再有小区，但仍登记有 {left} 户住户，请先为这些住户登记所在小区"
            )));
        };
        moved += exec(
            tx,
            "UPDATE household SET grid_code = ? WHERE county_code = ? AND grid_code = ?",
            vec![to.into(), county.into(), code.clone().into()],
        )
        .await?;
        // Everyone of the retired grid belonged to one of those households: those who moved
        // away or died too, so that their records stay with their household's grid.
        for column in ["grid_code", "living_grid_code"] {
            exec(
                tx,
                &format!("UPDATE resident SET {column} = ? WHERE county_code = ? AND {column} = ?"),
                vec![to.into(), county.into(), code.clone().into()],
            )
            .await?;
        }
        crate::care::people_changed(tx, county, &[code.as_str(), to]).await?;
    }
    Ok(usize::try_from(moved).unwrap_or(usize::MAX))
}
