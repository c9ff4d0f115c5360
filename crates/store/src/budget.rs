//! What policy evaluation reads from the registry: staff assignments, community investment
//! and recruitment by year, and the registry itself as a [`Snapshot`].

use std::collections::{BTreeMap, HashMap};

use sea_orm::TransactionTrait;
use wangge_domain::access::{Access, Permission};
use wangge_domain::demo::{BAODU_ANNEX3, DemoCounty, annex3_of};
use wangge_domain::policy::{
    Assignment, Post, Snapshot, SnapshotCommunity, SnapshotCompound, SnapshotGrid, SnapshotStreet,
    StaffRole,
};
use wangge_domain::{CommunityKind, CompoundKind, Date, GridKind, Tier};

use crate::db::{all, exec, get};
use crate::{Result, Store, StoreError, new_id};

/// A staff assignment as the pages list it.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffRow {
    pub id: String,
    pub person_id: String,
    pub person_name: String,
    pub role: String,
    pub role_label: String,
    pub post_level: String,
    pub post_code: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

impl Store {
    /// The staff of a community and its grids, current first.
    pub async fn community_staff(&self, a: &Access, community: &str) -> Result<Vec<StaffRow>> {
        if !a.can(Permission::RegistryRead, community) {
            return Err(StoreError::Forbidden("无权查看该社区的人员配备".into()));
        }
        let rows = all(
            self.conn(),
            "SELECT id, person_id, person_name, role, post_level, post_code, valid_from, valid_to \
             FROM staff_assignment WHERE county_code = ? AND post_code LIKE ? \
             ORDER BY CASE WHEN valid_to IS NULL THEN 0 ELSE 1 END, post_code, person_name",
            vec![
                community.chars().take(6).collect::<String>().into(),
                format!("{community}%").into(),
            ],
        )
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = get(r, "role")?;
                Ok(StaffRow {
                    id: get(r, "id")?,
                    person_id: get(r, "person_id")?,
                    person_name: get(r, "person_name")?,
                    role_label: StaffRole::parse(&role)
                        .map(|x| x.label().to_string())
                        .unwrap_or_else(|| role.clone()),
                    role,
                    post_level: get(r, "post_level")?,
                    post_code: get(r, "post_code")?,
                    valid_from: get(r, "valid_from")?,
                    valid_to: get(r, "valid_to")?,
                })
            })
            .collect()
    }

    /// Appoints a person (one row per role held) at a grid of the community, or at the
    /// community. Returns the person's id.
    pub async fn add_staff(
        &self,
        a: &Access,
        community: &str,
        input: &wangge_domain::registry::StaffInput,
    ) -> Result<String> {
        let c = self.community(a, community).await?;
        if c.valid_to.is_some() {
            return Err(StoreError::Conflict("该社区已撤销".into()));
        }
        let (level, post) = match (&input.grid, input.role.at_grid()) {
            (Some(g), true) => ("grid", g.to_string()),
            _ => ("community", community.to_string()),
        };
        if !a.can(Permission::RegistryWrite, &post) {
            return Err(StoreError::Forbidden("无权在此配备人员".into()));
        }
        // Posting ahead is planning; a start decades away is a typing error.
        let latest = wangge_domain::people::calendar::add_days(crate::today(), 366);
        if let (Some(from), Some(latest)) = (input.from, latest)
            && from > latest
        {
            return Err(StoreError::field(
                "from",
                format!("任职开始日期不能晚于一年以后（{latest}），现为 {from}，请核对年份"),
            ));
        }
        if level == "community"
            && let Some(from) = input.from
            && from.to_string() < c.valid_from
        {
            return Err(StoreError::field(
                "from",
                format!(
                    "社区“{}”自 {} 启用，任职不能早于启用日期（在本系统登记以前已有的社区，可在社区页“修改”中把启用日期改早）",
                    c.name, c.valid_from
                ),
            ));
        }
        if level == "grid" {
            let g = self
                .grid_any(&post)
                .await
                .map_err(|_| StoreError::field("grid", format!("没有代码为“{post}”的网格")))?;
            if g.community_code != community || g.valid_to.is_some() {
                return Err(StoreError::field(
                    "grid",
                    format!("网格“{post}”不是本社区的在册网格"),
                ));
            }
            if let Some(from) = input.from
                && from.to_string() < g.valid_from
            {
                return Err(StoreError::field(
                    "from",
                    format!(
                        "网格“{}”自 {} 启用，任职不能早于启用日期（在本系统登记以前已有的网格，可在网格页“修改”中把启用日期改早）",
                        g.name, g.valid_from
                    ),
                ));
            }
        }
        // The same person in the same post twice is a slip, not a second appointment.
        let from = input.from.unwrap_or_else(crate::today);
        if let Some(r) = crate::db::one(
            self.conn(),
            "SELECT valid_from FROM staff_assignment WHERE county_code = ? AND post_code = ? \
             AND role = ? AND person_name = ? AND (valid_to IS NULL OR valid_to >= ?)",
            vec![
                community.chars().take(6).collect::<String>().into(),
                post.clone().into(),
                input.role.key().into(),
                input.person_name.clone().into(),
                from.to_string().into(),
            ],
        )
        .await?
        {
            let since: String = get(&r, "valid_from")?;
            return Err(StoreError::field(
                "person_name",
                format!(
                    "“{}”已在该岗位任{}（自 {since} 起），不能重复配备",
                    input.person_name,
                    input.role.label()
                ),
            ));
        }
        let person = new_id();
        let mut roles = vec![input.role];
        if input.also_police_assistant && input.role != StaffRole::PoliceAssistant {
            roles.push(StaffRole::PoliceAssistant);
        }
        let tx = self.conn().begin().await?;
        for role in roles {
            exec(
                &tx,
                "INSERT INTO staff_assignment (county_code, id, person_id, person_name, role, post_level, \
                 post_code, compound_id, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    community.chars().take(6).collect::<String>().into(),
                    new_id().into(),
                    person.clone().into(),
                    input.person_name.clone().into(),
                    role.key().into(),
                    level.into(),
                    post.clone().into(),
                    None::<String>.into(),
                    from.to_string().into(),
                    input.to.map(|d| d.to_string()).into(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(person)
    }

    /// Ends an assignment (the record stays, as history).
    pub async fn end_staff(&self, a: &Access, id: &str, on: Option<Date>) -> Result<String> {
        let r = crate::db::one(
            self.conn(),
            "SELECT post_code, valid_from, valid_to FROM staff_assignment WHERE id = ?",
            vec![id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这条人员配备记录".into()))?;
        let post: String = get(&r, "post_code")?;
        if !a.can(Permission::RegistryWrite, &post) {
            return Err(StoreError::Forbidden("无权调整该人员配备".into()));
        }
        if let Some(d) = get::<Option<String>>(&r, "valid_to")? {
            return Err(StoreError::Conflict(format!("该配备已于 {d} 结束")));
        }
        let on = on.unwrap_or_else(crate::today);
        if on.to_string() < get::<String>(&r, "valid_from")? {
            return Err(StoreError::field("valid_to", "结束日期不能早于开始日期"));
        }
        exec(
            self.conn(),
            "UPDATE staff_assignment SET valid_to = ? WHERE id = ?",
            vec![on.to_string().into(), id.into()],
        )
        .await?;
        Ok(post.chars().take(12).collect())
    }

    /// Sets a community's 社区改造升级费用 of a year (fen); zero removes it.
    pub async fn set_investment(
        &self,
        a: &Access,
        community: &str,
        year: i32,
        fen: i64,
    ) -> Result<()> {
        if !a.can(Permission::RegistryWrite, community) {
            return Err(StoreError::Forbidden("无权修改该社区的投资数据".into()));
        }
        self.community_any(community).await?;
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "DELETE FROM community_investment WHERE community_code = ? AND year = ?",
            vec![community.into(), i64::from(year).into()],
        )
        .await?;
        if fen > 0 {
            exec(
                &tx,
                "INSERT INTO community_investment (community_code, year, amount_fen) VALUES (?, ?, ?)",
                vec![community.into(), i64::from(year).into(), fen.into()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets how many general social workers the county recruited for a street's communities
    /// in a year; zero removes it.
    pub async fn set_recruitment(&self, a: &Access, street: &str, year: i32, n: i64) -> Result<()> {
        if !a.can(Permission::RegistryWrite, street) {
            return Err(StoreError::Forbidden("无权修改该街道的招聘数据".into()));
        }
        self.street_any(street).await?;
        let tx = self.conn().begin().await?;
        exec(
            &tx,
            "DELETE FROM street_recruitment WHERE street_code = ? AND year = ?",
            vec![street.into(), i64::from(year).into()],
        )
        .await?;
        if n > 0 {
            exec(
                &tx,
                "INSERT INTO street_recruitment (street_code, year, social_workers) VALUES (?, ?, ?)",
                vec![street.into(), i64::from(year).into(), n.into()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Loads the demo county with what the budget needs: its staff (so that 附件4's figures
    /// follow from the policy), 附件3's centre areas, investment by year, recruitment and staff
    /// sent down. Loading it again is a no-op.
    pub async fn load_demo(&self, county: &DemoCounty, staff: &[Assignment]) -> Result<bool> {
        if !self.load_county(county, true).await? {
            return Ok(false);
        }
        let cc = county.code.as_str();
        let tx = self.conn().begin().await?;
        for a in staff {
            let (level, code) = match &a.post {
                Post::Grid(c) => ("grid", c),
                Post::Community(c) => ("community", c),
            };
            exec(
                &tx,
                "INSERT INTO staff_assignment (county_code, id, person_id, person_name, role, post_level, \
                 post_code, compound_id, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    cc.into(),
                    new_id().into(),
                    a.person_id.clone().into(),
                    a.person_name.clone().into(),
                    a.role.key().into(),
                    level.into(),
                    code.clone().into(),
                    a.compound_id.clone().into(),
                    a.from.to_string().into(),
                    a.to.map(|d| d.to_string()).into(),
                ],
            )
            .await?;
        }
        let baodu = &county.streets[0];
        for c in &baodu.communities {
            if let Some((_, area, _, _)) = BAODU_ANNEX3.iter().find(|r| r.0 == c.basics.name) {
                exec(
                    &tx,
                    "UPDATE community SET centre_area = ? WHERE code = ?",
                    vec![(*area as f64).into(), c.code.as_str().into()],
                )
                .await?;
            }
        }
        // Both streets' 附件3: investment by year and the social workers recruited.
        for (si, street) in county.streets.iter().enumerate() {
            let (rows, recruited) = annex3_of(si);
            for c in &street.communities {
                let Some((_, investment, _)) = rows.iter().find(|r| r.0 == c.basics.name) else {
                    continue;
                };
                for (year, wan_hundredths) in [2020i64, 2021, 2022].into_iter().zip(investment) {
                    if *wan_hundredths > 0 {
                        exec(
                            &tx,
                            "INSERT INTO community_investment (community_code, year, amount_fen) VALUES (?, ?, ?)",
                            vec![
                                c.code.as_str().into(),
                                year.into(),
                                // 万元 × 100 → fen: × 10,000 yuan / 100 × 100 fen.
                                (wan_hundredths * 10_000).into(),
                            ],
                        )
                        .await?;
                    }
                }
            }
            for (year, n) in recruited {
                exec(
                    &tx,
                    "INSERT INTO street_recruitment (street_code, year, social_workers) VALUES (?, ?, ?)",
                    vec![street.code.as_str().into(), i64::from(year).into(), n.into()],
                )
                .await?;
            }
        }
        crate::registry::touch(&tx, cc).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Staff assignments in force on some day of `year` at posts inside the user's scope.
    pub async fn assignments(&self, a: &Access, year: i32) -> Result<Vec<Assignment>> {
        let rows = all(
            self.conn(),
            "SELECT person_id, person_name, role, post_level, post_code, compound_id, valid_from, valid_to \
             FROM staff_assignment WHERE valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?) \
             ORDER BY post_code, person_id",
            vec![format!("{year}-12-31").into(), format!("{year}-01-01").into()],
        )
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let code: String = get(r, "post_code")?;
            if !a.can(Permission::BudgetRead, &code) {
                continue;
            }
            let level: String = get(r, "post_level")?;
            let Some(role) = StaffRole::parse(&get::<String>(r, "role")?) else {
                continue;
            };
            let from = Date::parse(&get::<String>(r, "valid_from")?)
                .map_err(|e| StoreError::Config(e.to_string()))?;
            let to = match get::<Option<String>>(r, "valid_to")? {
                Some(d) => Some(Date::parse(&d).map_err(|e| StoreError::Config(e.to_string()))?),
                None => None,
            };
            out.push(Assignment {
                person_id: get(r, "person_id")?,
                person_name: get(r, "person_name")?,
                role,
                post: if level == "grid" {
                    Post::Grid(code)
                } else {
                    Post::Community(code)
                },
                compound_id: get(r, "compound_id")?,
                from,
                to,
            });
        }
        Ok(out)
    }

    /// The registry as policy evaluation reads it: the live streets, communities, grids and
    /// compounds the user may budget, with staff in force in `year`.
    pub async fn snapshot(&self, a: &Access, year: i32) -> Result<Snapshot> {
        if !a.can_somewhere(Permission::BudgetRead) {
            return Err(StoreError::Forbidden("无权查看预算".into()));
        }
        let county = self
            .county()
            .await?
            .ok_or_else(|| StoreError::NotFound("尚未设置本县（区）".into()))?;
        let overview = self.overview_any().await?;
        // The grids in force on some day of the year; one retired during it holds what it
        // held on its last day, a grid in force at the year's end what it held then (moves
        // after the year are undone from the compounds' move log).
        let first = format!("{year}-01-01");
        let next = format!("{}-01-01", year + 1);
        let grids = all(
            self.conn(),
            "SELECT code, community_code, name, kind, tier, valid_from, valid_to FROM grid \
             WHERE county_code = ? AND valid_from < ? AND (valid_to IS NULL OR valid_to >= ?) ORDER BY code",
            vec![
                county.code.clone().into(),
                next.clone().into(),
                first.clone().into(),
            ],
        )
        .await?;
        // The moment whose holdings count: the retirement day (before that day's moves) or
        // the first day of the next year.
        let mut moment: HashMap<String, String> = HashMap::new();
        for r in &grids {
            let to: Option<String> = get(r, "valid_to")?;
            let at = match to {
                Some(d) if d < next => d,
                _ => next.clone(),
            };
            moment.insert(get(r, "code")?, at);
        }
        let compounds = all(
            self.conn(),
            "SELECT id, community_code, grid_code, name, kind, households, population, has_property_management, \
             residential_area, valid_from, valid_to FROM compound WHERE county_code = ? AND valid_from < ? \
             AND (valid_to IS NULL OR valid_to >= ?) ORDER BY name",
            vec![
                county.code.clone().into(),
                next.clone().into(),
                first.clone().into(),
            ],
        )
        .await?;
        let mut moves: HashMap<String, Vec<(String, Option<String>)>> = HashMap::new();
        for r in &all(
            self.conn(),
            "SELECT compound_id, from_grid, day FROM compound_move WHERE county_code = ? AND day >= ? \
             ORDER BY day, id",
            vec![county.code.clone().into(), first.clone().into()],
        )
        .await?
        {
            moves
                .entry(get(r, "compound_id")?)
                .or_default()
                .push((get(r, "day")?, get(r, "from_grid")?));
        }
        // Households and property management changed after the year: (day, as they were).
        let mut changes: HashMap<String, Vec<(String, i64, i64, bool)>> = HashMap::new();
        for r in &all(
            self.conn(),
            "SELECT compound_id, day, households, population, has_property_management FROM compound_change \
             WHERE county_code = ? AND day >= ? ORDER BY day, id",
            vec![county.code.clone().into(), first.clone().into()],
        )
        .await?
        {
            changes.entry(get(r, "compound_id")?).or_default().push((
                get(r, "day")?,
                get(r, "households")?,
                get(r, "population")?,
                get(r, "has_property_management")?,
            ));
        }
        // A community's households and people at the year's end differ from today's by what
        // its compounds changed since.
        let mut community_then: HashMap<String, (i64, i64)> = HashMap::new();
        for r in &compounds {
            let id: String = get(r, "id")?;
            if let Some((_, h, p, _)) = changes
                .get(&id)
                .and_then(|c| c.iter().find(|(day, ..)| *day >= next))
            {
                let e = community_then.entry(get(r, "community_code")?).or_default();
                e.0 += h - get::<i64>(r, "households")?;
                e.1 += p - get::<i64>(r, "population")?;
            }
        }
        let moments: std::collections::BTreeSet<&String> = moment.values().collect();
        let mut by_grid: HashMap<String, Vec<SnapshotCompound>> = HashMap::new();
        for at in moments {
            for r in &compounds {
                let from: String = get(r, "valid_from")?;
                let to: Option<String> = get(r, "valid_to")?;
                if from.as_str() >= at.as_str() || to.as_ref().is_some_and(|t| t < at) {
                    continue;
                }
                let id: String = get(r, "id")?;
                // Its grid at that moment: where the first later move took it from.
                let grid: Option<String> = match moves
                    .get(&id)
                    .and_then(|m| m.iter().find(|(day, _)| day >= at))
                {
                    Some((_, from_grid)) => from_grid.clone(),
                    None => get(r, "grid_code")?,
                };
                let Some(grid) = grid.filter(|g| moment.get(g) == Some(at)) else {
                    continue;
                };
                let kind: String = get(r, "kind")?;
                // As it was then: before the first change made on or after that moment.
                let (households, has_property_management) = match changes
                    .get(&id)
                    .and_then(|c| c.iter().find(|(day, ..)| day >= at))
                {
                    Some((_, h, _, pm)) => (*h, *pm),
                    None => (get(r, "households")?, get(r, "has_property_management")?),
                };
                by_grid.entry(grid).or_default().push(SnapshotCompound {
                    id,
                    name: get(r, "name")?,
                    kind: CompoundKind::parse(&kind).unwrap_or(CompoundKind::Compound),
                    households,
                    has_property_management,
                    residential_floor_area_m2: get::<Option<f64>>(r, "residential_area")?
                        .map(|x| x.round() as i64),
                    is_new: false,
                    service_space_m2: None,
                    service_space_to_community_m2: None,
                });
            }
        }
        let mut grids_by_community: HashMap<String, Vec<SnapshotGrid>> = HashMap::new();
        for r in &grids {
            let code: String = get(r, "code")?;
            let kind: String = get(r, "kind")?;
            let tier: Option<String> = get(r, "tier")?;
            let retired_on = get::<Option<String>>(r, "valid_to")?
                .filter(|d| *d < next)
                .and_then(|d| Date::parse(&d).ok());
            let compounds = by_grid.remove(&code).unwrap_or_default();
            grids_by_community
                .entry(get(r, "community_code")?)
                .or_default()
                .push(SnapshotGrid {
                    households: compounds.iter().map(|c| c.households).sum(),
                    code,
                    name: get(r, "name")?,
                    kind: GridKind::parse(&kind).unwrap_or(GridKind::Urban),
                    tier: tier.and_then(|t| Tier::parse(&t).ok()),
                    station_area_m2: None,
                    set_up: Date::parse(&get::<String>(r, "valid_from")?).ok(),
                    retired_on,
                    compounds,
                });
        }
        let investments = all(
            self.conn(),
            "SELECT community_code, year, amount_fen FROM community_investment",
            vec![],
        )
        .await?;
        let mut invest: HashMap<String, BTreeMap<i32, i64>> = HashMap::new();
        for r in &investments {
            invest
                .entry(get(r, "community_code")?)
                .or_default()
                .insert(get::<i64>(r, "year")? as i32, get(r, "amount_fen")?);
        }
        let recruitment = all(
            self.conn(),
            "SELECT street_code, year, social_workers FROM street_recruitment",
            vec![],
        )
        .await?;
        let mut recruited: HashMap<String, BTreeMap<i32, i64>> = HashMap::new();
        for r in &recruitment {
            recruited
                .entry(get(r, "street_code")?)
                .or_default()
                .insert(get::<i64>(r, "year")? as i32, get(r, "social_workers")?);
        }
        let assignments = self.assignments(a, year).await?;
        let mut streets = Vec::new();
        for s in overview.streets {
            let communities: Vec<SnapshotCommunity> = s
                .communities
                .into_iter()
                .filter(|c| a.can(Permission::BudgetRead, &c.code))
                .map(|c| {
                    let social = assignments
                        .iter()
                        .filter(|x| {
                            x.role == StaffRole::GeneralSocialWorker
                                && x.post == Post::Community(c.code.clone())
                        })
                        .count() as i64;
                    SnapshotCommunity {
                        grids: grids_by_community.remove(&c.code).unwrap_or_default(),
                        investment_fen: invest.remove(&c.code).unwrap_or_default(),
                        kind: CommunityKind::parse(&c.kind).unwrap_or(CommunityKind::Urban),
                        tier: c.tier.as_deref().and_then(|t| Tier::parse(t).ok()),
                        households: c.figures.households
                            + community_then.get(&c.code).map_or(0, |d| d.0),
                        population: c.figures.population
                            + community_then.get(&c.code).map_or(0, |d| d.1),
                        service_centre_area_m2: c.centre_area.map(|x| x.round() as i64),
                        service_hall_area_m2: c.hall_area.map(|x| x.round() as i64),
                        general_social_workers: social,
                        rooms: None,
                        committee: None,
                        code: c.code,
                        name: c.name,
                    }
                })
                .collect();
            if communities.is_empty() && !a.can(Permission::BudgetRead, &s.street.code) {
                continue;
            }
            streets.push(SnapshotStreet {
                recruited_social_workers: if a.can(Permission::BudgetRead, &s.street.code) {
                    recruited.remove(&s.street.code).unwrap_or_default()
                } else {
                    BTreeMap::new()
                },
                code: s.street.code,
                name: s.street.name,
                communities,
            });
        }
        Ok(Snapshot {
            partial: !a.can(Permission::BudgetRead, &county.code),
            county_code: county.code,
            county_name: county.name,
            streets,
            assignments,
        })
    }
}
