//! The registry of places and organisations: reads for the pages and the API, and the writes
//! (create, edit, retire) for every level. Nothing is ever deleted: retiring sets `valid_to`,
//! and codes, once used, are never given again.

use sea_orm::{ConnectionTrait, QueryResult, TransactionTrait, Value};
use serde::Serialize;
use wangge_domain::registry::{
    BuildingInput, CommunityInput, CompoundInput, DepartmentInput, Figures, GeometryEdit,
    GridInput, StreetInput, effective_figures,
};
use wangge_domain::{
    Boundary, CommunityCode, CommunityKind, CompoundKind, CountyCode, Date, GridCode, GridKind,
    StreetCode, Tier,
};

use crate::db::{all, exec, get, one, scalar_i64};
use crate::{Result, Store, StoreError, new_id, today};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct County {
    pub code: String,
    pub name: String,
    /// True when the registry holds the generated demo county.
    pub demo: bool,
    /// Bumped by every write the overview shows.
    #[serde(skip)]
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Street {
    pub code: String,
    pub county_code: String,
    pub name: String,
    pub placeholder_code: bool,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Community {
    pub code: String,
    pub street_code: String,
    pub street_name: String,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub tier: Option<String>,
    pub tier_label: Option<String>,
    pub centre_location: Option<String>,
    pub centre_area: Option<f64>,
    pub hall_area: Option<f64>,
    pub boundary: Boundary,
    pub boundary_text: String,
    pub placeholder_code: bool,
    /// The figures shown and exported: registered places where there are any, else `declared`.
    pub figures: Figures,
    /// The figures an imported 附件2 table declared, if one was imported.
    pub declared: Option<Figures>,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grid {
    pub code: String,
    pub community_code: String,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub tier: Option<String>,
    pub tier_label: Option<String>,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub compounds: i64,
    pub households: i64,
    pub population: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Compound {
    pub id: String,
    pub community_code: String,
    pub grid_code: Option<String>,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub households: i64,
    pub population: i64,
    pub residential_area: Option<f64>,
    pub has_property_management: bool,
    pub property_company: Option<String>,
    pub valid_from: String,
    pub valid_to: Option<String>,
    /// Whether its boundary is registered (the grid planner needs it).
    pub has_boundary: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Building {
    pub id: String,
    pub compound_id: String,
    pub name: String,
    pub entrances: Option<i64>,
    pub floors: Option<i64>,
    pub households: Option<i64>,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Department {
    pub id: String,
    pub name: String,
    pub duties: Option<String>,
    pub phone: Option<String>,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

/// The county at a glance, per street and community, like 附件2.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Overview {
    pub county: County,
    pub totals: Figures,
    pub streets: Vec<StreetOverview>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreetOverview {
    pub street: Street,
    pub communities: Vec<Community>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommunityPage {
    pub community: Community,
    pub grids: Vec<Grid>,
    /// Grids retired by a redrawing, kept for history.
    pub retired_grids: Vec<Grid>,
    pub compounds: Vec<Compound>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridPage {
    pub grid: Grid,
    pub community: Community,
    pub compounds: Vec<Compound>,
    /// Compounds that came into or left the grid, latest first: what a retired grid held.
    pub moves: Vec<CompoundMove>,
    /// Department grids revoked with this grid as the one that took most of their
    /// households, latest first.
    pub folded_in: Vec<FoldedIn>,
}

/// A department grid folded into a unified grid (部门网格撤销并入).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FoldedIn {
    pub department: String,
    pub name: String,
    pub code: Option<String>,
    pub folded_on: String,
}

/// A compound put in another grid, when and why.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompoundMove {
    pub day: String,
    pub compound_id: String,
    pub compound: String,
    pub from_grid: Option<String>,
    pub to_grid: Option<String>,
    /// `plan` (an adopted grid plan) or `edit` (the compound's grid changed by hand).
    pub reason: String,
    pub reason_label: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompoundPage {
    pub compound: Compound,
    pub community: Community,
    pub grid: Option<Grid>,
    pub buildings: Vec<Building>,
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// street / community / grid / compound
    pub level: String,
    pub level_label: String,
    /// The code, or the id for a compound.
    pub key: String,
    pub name: String,
    /// Where it lies, e.g. 宝都街道 › 宝昌社区.
    pub path: String,
    pub retired: bool,
}

const COMMUNITY_COLUMNS: &str = "c.code, c.street_code, s.name AS street_name, c.name, c.kind, \
     c.tier, c.centre_location, c.centre_area, c.hall_area, c.boundary_east, c.boundary_north, \
     c.boundary_west, c.boundary_south, c.declared_grids, c.declared_compounds, \
     c.declared_households, c.declared_population, c.placeholder_code, c.live_grids, \
     c.live_compounds, c.households, c.population, c.valid_from, c.valid_to";

const GRID_COLUMNS: &str =
    "g.code, g.community_code, g.name, g.kind, g.tier, g.valid_from, g.valid_to";

const COMPOUND_COLUMNS: &str = "id, community_code, grid_code, name, kind, households, population, \
     residential_area, has_property_management, property_company, valid_from, valid_to, \
     (geometry IS NOT NULL) AS has_boundary";

/// The tier and its label: a community's (示范/规范/基本) or a grid's (示范/规范/基础).
fn tier_of(r: &QueryResult, community: bool) -> Result<(Option<String>, Option<String>)> {
    let tier: Option<String> = get(r, "tier")?;
    let label = tier.as_deref().and_then(|t| Tier::parse(t).ok()).map(|t| {
        if community {
            t.community_label()
        } else {
            t.label()
        }
        .to_string()
    });
    Ok((tier, label))
}

fn community_of(r: &QueryResult) -> Result<Community> {
    let kind: String = get(r, "kind")?;
    let (tier, tier_label) = tier_of(r, true)?;
    let boundary = Boundary {
        east: get(r, "boundary_east")?,
        north: get(r, "boundary_north")?,
        west: get(r, "boundary_west")?,
        south: get(r, "boundary_south")?,
    };
    let declared = match get::<Option<i64>>(r, "declared_households")? {
        Some(households) => Some(Figures {
            communities: 1,
            grids: get::<Option<i64>>(r, "declared_grids")?.unwrap_or(0),
            compounds: get::<Option<i64>>(r, "declared_compounds")?.unwrap_or(0),
            households,
            population: get::<Option<i64>>(r, "declared_population")?.unwrap_or(0),
        }),
        None => None,
    };
    let figures = effective_figures(
        get(r, "live_grids")?,
        get(r, "live_compounds")?,
        get(r, "households")?,
        get(r, "population")?,
        declared.as_ref(),
    );
    Ok(Community {
        code: get(r, "code")?,
        street_code: get(r, "street_code")?,
        street_name: get(r, "street_name")?,
        name: get(r, "name")?,
        kind_label: CommunityKind::parse(&kind)
            .map(|k| k.label().to_string())
            .unwrap_or_else(|_| kind.clone()),
        kind,
        tier,
        tier_label,
        centre_location: get(r, "centre_location")?,
        centre_area: get(r, "centre_area")?,
        hall_area: get(r, "hall_area")?,
        boundary_text: boundary.to_text(),
        boundary,
        placeholder_code: get(r, "placeholder_code")?,
        figures,
        declared,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
    })
}

fn grid_of(r: &QueryResult, stats: Option<(i64, i64, i64)>) -> Result<Grid> {
    let kind: String = get(r, "kind")?;
    let (tier, tier_label) = tier_of(r, false)?;
    let (compounds, households, population) = stats.unwrap_or_default();
    Ok(Grid {
        code: get(r, "code")?,
        community_code: get(r, "community_code")?,
        name: get(r, "name")?,
        kind_label: GridKind::parse(&kind)
            .map(|k| k.label().to_string())
            .unwrap_or_else(|_| kind.clone()),
        kind,
        tier,
        tier_label,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
        compounds,
        households,
        population,
    })
}

fn compound_of(r: &QueryResult) -> Result<Compound> {
    let kind: String = get(r, "kind")?;
    Ok(Compound {
        id: get(r, "id")?,
        community_code: get(r, "community_code")?,
        grid_code: get(r, "grid_code")?,
        name: get(r, "name")?,
        kind_label: CompoundKind::parse(&kind)
            .map(|k| k.label().to_string())
            .unwrap_or_else(|_| kind.clone()),
        kind,
        households: get(r, "households")?,
        population: get(r, "population")?,
        residential_area: get(r, "residential_area")?,
        has_property_management: get(r, "has_property_management")?,
        property_company: get(r, "property_company")?,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
        has_boundary: get(r, "has_boundary")?,
    })
}

fn building_of(r: &QueryResult) -> Result<Building> {
    Ok(Building {
        id: get(r, "id")?,
        compound_id: get(r, "compound_id")?,
        name: get(r, "name")?,
        entrances: get(r, "entrances")?,
        floors: get(r, "floors")?,
        households: get(r, "households")?,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
    })
}

fn department_of(r: &QueryResult) -> Result<Department> {
    Ok(Department {
        id: get(r, "id")?,
        name: get(r, "name")?,
        duties: get(r, "duties")?,
        phone: get(r, "phone")?,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
    })
}

fn opt_s(v: &Option<String>) -> Value {
    v.clone().into()
}

fn date_v(d: Date) -> Value {
    d.to_string().into()
}

/// The county code a place code begins with.
fn county_of(code: &str) -> String {
    code.chars().take(CountyCode::LEN).collect()
}

impl Store {
    pub(crate) fn conn(&self) -> &sea_orm::DatabaseConnection {
        &self.db
    }

    // ---- county ----------------------------------------------------------------------

    /// The county this installation serves, if it has been set up.
    pub async fn county(&self) -> Result<Option<County>> {
        let r = one(
            &self.db,
            "SELECT code, name, demo, version FROM county ORDER BY code LIMIT 1",
            vec![],
        )
        .await?;
        r.map(|r| {
            Ok(County {
                code: get(&r, "code")?,
                name: get(&r, "name")?,
                demo: get(&r, "demo")?,
                version: get(&r, "version")?,
            })
        })
        .transpose()
    }

    async fn require_county(&self) -> Result<County> {
        self.county()
            .await?
            .ok_or_else(|| StoreError::NotFound("尚未设置本县（区），请先在总览页设置".into()))
    }

    /// Sets up the county, or renames it. One installation serves one county.
    pub(crate) async fn set_county_any(&self, code: &CountyCode, name: &str) -> Result<()> {
        match self.county().await? {
            Some(c) if c.code != code.as_str() => Err(StoreError::field(
                "code",
                format!("本系统已设置为{}（{}），不能更换县级代码", c.name, c.code),
            )),
            Some(_) => {
                exec(
                    &self.db,
                    "UPDATE county SET name = ? WHERE code = ?",
                    vec![name.into(), code.as_str().into()],
                )
                .await?;
                touch(&self.db, code.as_str()).await
            }
            None => {
                exec(
                    &self.db,
                    "INSERT INTO county (code, name, demo) VALUES (?, ?, ?)",
                    vec![code.as_str().into(), name.into(), false.into()],
                )
                .await?;
                Ok(())
            }
        }
    }

    // ---- reads -----------------------------------------------------------------------

    /// The overview, from the cache while no write has changed it (one small query), else
    /// read afresh. The version is read before the data, so a cached overview is never older
    /// than its version.
    pub(crate) async fn overview_any(&self) -> Result<Overview> {
        let county = self.require_county().await?;
        if let Ok(cache) = self.overview_cache.lock()
            && let Some((version, o)) = cache.as_ref()
            && *version == county.version
            && o.county.code == county.code
        {
            return Ok(o.clone());
        }
        let o = self.read_overview(county).await?;
        if let Ok(mut cache) = self.overview_cache.lock() {
            *cache = Some((o.county.version, o.clone()));
        }
        Ok(o)
    }

    async fn read_overview(&self, county: County) -> Result<Overview> {
        let streets = self.streets(&county.code).await?;
        let rows = all(
            &self.db,
            &format!(
                "SELECT {COMMUNITY_COLUMNS} FROM community c JOIN street s ON s.code = c.street_code \
                 WHERE c.county_code = ? AND c.valid_to IS NULL ORDER BY c.street_code, c.code"
            ),
            vec![county.code.clone().into()],
        )
        .await?;
        let mut communities: Vec<Community> =
            rows.iter().map(community_of).collect::<Result<_>>()?;
        let mut out = Vec::new();
        let mut totals = Figures::default();
        for mut street in streets {
            let split = communities
                .iter()
                .position(|c| c.street_code != street.code)
                .unwrap_or(communities.len());
            let rest = communities.split_off(split);
            let mine = std::mem::replace(&mut communities, rest);
            let mut f = Figures::default();
            for c in &mine {
                f.add(&c.figures);
            }
            street.figures = f;
            totals.add(&f);
            out.push(StreetOverview {
                street,
                communities: mine,
            });
        }
        Ok(Overview {
            county,
            totals,
            streets: out,
        })
    }

    /// The live streets of a county, in code order (figures left at zero).
    async fn streets(&self, county: &str) -> Result<Vec<Street>> {
        let rows = all(
            &self.db,
            "SELECT code, county_code, name, placeholder_code, valid_from, valid_to FROM street \
             WHERE county_code = ? AND valid_to IS NULL ORDER BY code",
            vec![county.into()],
        )
        .await?;
        rows.iter().map(street_of).collect()
    }

    pub(crate) async fn street_any(&self, code: &str) -> Result<StreetOverview> {
        let r = one(
            &self.db,
            "SELECT code, county_code, name, placeholder_code, valid_from, valid_to FROM street WHERE code = ?",
            vec![code.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("没有代码为“{code}”的街道")))?;
        let mut street = street_of(&r)?;
        let rows = all(
            &self.db,
            &format!(
                "SELECT {COMMUNITY_COLUMNS} FROM community c JOIN street s ON s.code = c.street_code \
                 WHERE c.street_code = ? AND c.valid_to IS NULL ORDER BY c.code"
            ),
            vec![code.into()],
        )
        .await?;
        let communities: Vec<Community> = rows.iter().map(community_of).collect::<Result<_>>()?;
        for c in &communities {
            street.figures.add(&c.figures);
        }
        Ok(StreetOverview {
            street,
            communities,
        })
    }

    pub(crate) async fn community_any(&self, code: &str) -> Result<Community> {
        let r = one(
            &self.db,
            &format!(
                "SELECT {COMMUNITY_COLUMNS} FROM community c JOIN street s ON s.code = c.street_code \
                 WHERE c.code = ?"
            ),
            vec![code.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("没有代码为“{code}”的社区")))?;
        community_of(&r)
    }

    pub(crate) async fn community_page_any(&self, code: &str) -> Result<CommunityPage> {
        let community = self.community_any(code).await?;
        let county = county_of(code);
        let stats = self.grid_stats(&county, code).await?;
        let rows = all(
            &self.db,
            &format!(
                "SELECT {GRID_COLUMNS} FROM grid g WHERE g.community_code = ? ORDER BY g.code"
            ),
            vec![code.into()],
        )
        .await?;
        let mut grids = Vec::new();
        let mut retired_grids = Vec::new();
        for r in &rows {
            let code: String = get(r, "code")?;
            let g = grid_of(r, stats.get(&code).copied())?;
            if g.valid_to.is_none() {
                grids.push(g);
            } else {
                retired_grids.push(g);
            }
        }
        let rows = all(
            &self.db,
            &format!(
                "SELECT {COMPOUND_COLUMNS} FROM compound WHERE county_code = ? AND community_code = ? \
                 AND valid_to IS NULL ORDER BY grid_code, name"
            ),
            vec![county.into(), code.into()],
        )
        .await?;
        let compounds = rows.iter().map(compound_of).collect::<Result<_>>()?;
        Ok(CommunityPage {
            community,
            grids,
            retired_grids,
            compounds,
        })
    }

    /// Live compounds, households and population per grid of a community.
    async fn grid_stats(
        &self,
        county: &str,
        community: &str,
    ) -> Result<std::collections::HashMap<String, (i64, i64, i64)>> {
        let rows = all(
            &self.db,
            "SELECT grid_code, COUNT(*) AS n, CAST(SUM(households) AS BIGINT) AS h, \
             CAST(SUM(population) AS BIGINT) AS p FROM compound \
             WHERE county_code = ? AND community_code = ? AND valid_to IS NULL AND grid_code IS NOT NULL \
             GROUP BY grid_code",
            vec![county.into(), community.into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get(r, "grid_code")?,
                    (get(r, "n")?, get(r, "h")?, get(r, "p")?),
                ))
            })
            .collect()
    }

    pub(crate) async fn grid_any(&self, code: &str) -> Result<Grid> {
        let r = one(
            &self.db,
            &format!("SELECT {GRID_COLUMNS} FROM grid g WHERE g.code = ?"),
            vec![code.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("没有代码为“{code}”的网格")))?;
        let s = one(
            &self.db,
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(households), 0) AS BIGINT) AS h, \
             CAST(COALESCE(SUM(population), 0) AS BIGINT) AS p FROM compound \
             WHERE county_code = ? AND grid_code = ? AND valid_to IS NULL",
            vec![county_of(code).into(), code.into()],
        )
        .await?;
        let stats = match s {
            Some(s) => Some((get(&s, "n")?, get(&s, "h")?, get(&s, "p")?)),
            None => None,
        };
        grid_of(&r, stats)
    }

    pub(crate) async fn grid_page_any(&self, code: &str) -> Result<GridPage> {
        let grid = self.grid_any(code).await?;
        let community = self.community_any(&grid.community_code).await?;
        let rows = all(
            &self.db,
            &format!(
                "SELECT {COMPOUND_COLUMNS} FROM compound WHERE county_code = ? AND grid_code = ? \
                 AND valid_to IS NULL ORDER BY name"
            ),
            vec![county_of(code).into(), code.into()],
        )
        .await?;
        let compounds = rows.iter().map(compound_of).collect::<Result<_>>()?;
        let moves = all(
            &self.db,
            "SELECT v.day, v.compound_id, m.name, v.from_grid, v.to_grid, v.reason FROM compound_move v \
             JOIN compound m ON m.county_code = v.county_code AND m.id = v.compound_id \
             WHERE v.county_code = ? AND (v.from_grid = ? OR v.to_grid = ?) \
             ORDER BY v.day DESC, v.id DESC LIMIT 500",
            vec![county_of(code).into(), code.into(), code.into()],
        )
        .await?
        .iter()
        .map(|r| {
            let reason: String = get(r, "reason")?;
            Ok(CompoundMove {
                day: get(r, "day")?,
                compound_id: get(r, "compound_id")?,
                compound: get(r, "name")?,
                from_grid: get(r, "from_grid")?,
                to_grid: get(r, "to_grid")?,
                reason_label: match reason.as_str() {
                    "plan" => "采用网格划分方案",
                    "edit" => "修改小区所属网格",
                    _ => "其他",
                }
                .to_string(),
                reason,
            })
        })
        .collect::<Result<_>>()?;
        let folded_in = self.folded_into_grid(&grid.code).await?;
        Ok(GridPage {
            grid,
            community,
            compounds,
            moves,
            folded_in,
        })
    }

    pub(crate) async fn compound_any(&self, id: &str) -> Result<Compound> {
        let county = self.require_county().await?;
        let r = one(
            &self.db,
            &format!("SELECT {COMPOUND_COLUMNS} FROM compound WHERE county_code = ? AND id = ?"),
            vec![county.code.into(), id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这个小区".into()))?;
        compound_of(&r)
    }

    pub(crate) async fn compound_page_any(&self, id: &str) -> Result<CompoundPage> {
        let compound = self.compound_any(id).await?;
        let community = self.community_any(&compound.community_code).await?;
        let grid = match &compound.grid_code {
            Some(g) => Some(self.grid_any(g).await?),
            None => None,
        };
        let rows = all(
            &self.db,
            "SELECT id, compound_id, name, entrances, floors, households, valid_from, valid_to \
             FROM building WHERE county_code = ? AND compound_id = ? AND valid_to IS NULL ORDER BY name",
            vec![county_of(&compound.community_code).into(), id.into()],
        )
        .await?;
        let mut buildings: Vec<Building> = rows.iter().map(building_of).collect::<Result<_>>()?;
        buildings.sort_by(|a, b| wangge_domain::text::natural_cmp(&a.name, &b.name));
        Ok(CompoundPage {
            compound,
            community,
            grid,
            buildings,
        })
    }

    pub(crate) async fn building_any(&self, id: &str) -> Result<Building> {
        let county = self.require_county().await?;
        let r = one(
            &self.db,
            "SELECT id, compound_id, name, entrances, floors, households, valid_from, valid_to \
             FROM building WHERE county_code = ? AND id = ?",
            vec![county.code.into(), id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这个楼栋".into()))?;
        building_of(&r)
    }

    pub(crate) async fn departments_any(&self) -> Result<Vec<Department>> {
        let county = self.require_county().await?;
        let rows = all(
            &self.db,
            "SELECT id, name, duties, phone, valid_from, valid_to FROM department \
             WHERE county_code = ? AND valid_to IS NULL ORDER BY name",
            vec![county.code.into()],
        )
        .await?;
        rows.iter().map(department_of).collect()
    }

    pub(crate) async fn department_any(&self, id: &str) -> Result<Department> {
        let county = self.require_county().await?;
        let r = one(
            &self.db,
            "SELECT id, name, duties, phone, valid_from, valid_to FROM department \
             WHERE county_code = ? AND id = ?",
            vec![county.code.into(), id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这个部门".into()))?;
        department_of(&r)
    }

    /// Places whose name contains `q`, or whose code begins with it; live ones first.
    /// Search limited to places whose code begins with one of `prefixes` (a compound by its
    /// grid's code, or its community's while it has no grid).
    pub(crate) async fn search_any(
        &self,
        q: &str,
        limit: u64,
        prefixes: &[String],
    ) -> Result<Vec<SearchHit>> {
        let q = q.trim();
        if q.is_empty() || prefixes.is_empty() {
            return Ok(Vec::new());
        }
        let county = self.require_county().await?;
        let like = format!("%{}%", escape_like(q));
        let prefix = format!("{}%", escape_like(q));
        let limit = limit.clamp(1, 200) as i64;
        let within = |col: &str| {
            let parts: Vec<String> = prefixes
                .iter()
                .map(|_| format!("{col} LIKE ? ESCAPE '\\'"))
                .collect();
            format!("({})", parts.join(" OR "))
        };
        let sql = format!(
            "SELECT * FROM (\
             SELECT 'street' AS level, s.code AS k, s.name AS name, '' AS path, s.valid_to AS valid_to FROM street s \
               WHERE s.county_code = ? AND (s.name LIKE ? ESCAPE '\\' OR s.code LIKE ? ESCAPE '\\') AND {} \
             UNION ALL \
             SELECT 'community', c.code, c.name, s.name, c.valid_to FROM community c JOIN street s ON s.code = c.street_code \
               WHERE c.county_code = ? AND (c.name LIKE ? ESCAPE '\\' OR c.code LIKE ? ESCAPE '\\') AND {} \
             UNION ALL \
             SELECT 'grid', g.code, g.name, c.name, g.valid_to FROM grid g JOIN community c ON c.code = g.community_code \
               WHERE g.county_code = ? AND (g.name LIKE ? ESCAPE '\\' OR g.code LIKE ? ESCAPE '\\') AND {} \
             UNION ALL \
             SELECT 'compound', m.id, m.name, c.name, m.valid_to FROM compound m JOIN community c ON c.code = m.community_code \
               WHERE m.county_code = ? AND m.name LIKE ? ESCAPE '\\' AND {} \
           ) hits ORDER BY CASE WHEN valid_to IS NULL THEN 0 ELSE 1 END, \
             CASE level WHEN 'street' THEN 0 WHEN 'community' THEN 1 WHEN 'grid' THEN 2 ELSE 3 END, k LIMIT ?",
            within("s.code"),
            within("c.code"),
            within("g.code"),
            within("COALESCE(m.grid_code, m.community_code)"),
        );
        let scope: Vec<Value> = prefixes
            .iter()
            .map(|p| format!("{}%", escape_like(p)).into())
            .collect();
        let c = county.code;
        let mut values: Vec<Value> = Vec::new();
        for by_code in [true, true, true, false] {
            values.push(c.clone().into());
            values.push(like.clone().into());
            if by_code {
                values.push(prefix.clone().into());
            }
            values.extend(scope.iter().cloned());
        }
        values.push(limit.into());
        let rows = all(&self.db, &sql, values).await?;
        rows.iter()
            .map(|r| {
                let level: String = get(r, "level")?;
                Ok(SearchHit {
                    level_label: match level.as_str() {
                        "street" => "街道",
                        "community" => "社区",
                        "grid" => "网格",
                        _ => "小区",
                    }
                    .into(),
                    level,
                    key: get(r, "k")?,
                    name: get(r, "name")?,
                    path: get(r, "path")?,
                    retired: get::<Option<String>>(r, "valid_to")?.is_some(),
                })
            })
            .collect()
    }

    // ---- writes ----------------------------------------------------------------------

    pub(crate) async fn create_street_any(&self, input: &StreetInput) -> Result<String> {
        let county = self.require_county().await?;
        let code = input
            .code
            .as_ref()
            .ok_or_else(|| StoreError::field("code", "不能为空"))?;
        let county_code =
            CountyCode::parse(&county.code).map_err(|e| StoreError::Config(e.to_string()))?;
        if code.parent() != county_code {
            return Err(StoreError::field(
                "code",
                format!("街道代码应以本县代码“{}”开头", county.code),
            ));
        }
        self.code_free("street", code.as_str(), "街道").await?;
        self.name_free("street", "county_code", &county.code, &input.name, None)
            .await?;
        let start = input.valid_from.unwrap_or_else(today);
        if start > today() {
            return Err(StoreError::field("valid_from", "启用日期不能晚于今天"));
        }
        exec(
            &self.db,
            "INSERT INTO street (code, county_code, name, placeholder_code, valid_from) VALUES (?, ?, ?, ?, ?)",
            vec![
                code.as_str().into(),
                county.code.into(),
                input.name.clone().into(),
                false.into(),
                date_v(start),
            ],
        )
        .await?;
        touch(&self.db, &county_of(code.as_str())).await?;
        Ok(code.to_string())
    }

    pub(crate) async fn update_street_any(&self, code: &str, input: &StreetInput) -> Result<()> {
        let s = self.street_any(code).await?.street;
        live(&s.valid_to, "街道")?;
        self.name_free(
            "street",
            "county_code",
            &s.county_code,
            &input.name,
            Some(code),
        )
        .await?;
        // Unchanged (the edit form sends it back as it was) is always fine.
        let valid_from = match input.valid_from {
            Some(d) if d.to_string() != s.valid_from => self.street_start_allowed(code, d).await?,
            _ => s.valid_from.clone(),
        };
        exec(
            &self.db,
            "UPDATE street SET name = ?, valid_from = ? WHERE code = ?",
            vec![input.name.clone().into(), valid_from.into(), code.into()],
        )
        .await?;
        touch(&self.db, &county_of(code)).await
    }

    pub(crate) async fn retire_street_any(&self, code: &str, on: Option<Date>) -> Result<()> {
        let s = self.street_any(code).await?;
        live(&s.street.valid_to, "街道")?;
        if !s.communities.is_empty() {
            return Err(StoreError::Conflict(format!(
                "{}下还有 {} 个在册社区，请先撤销或划转这些社区",
                s.street.name,
                s.communities.len()
            )));
        }
        self.set_valid_to("street", "code", code, on).await
    }

    pub(crate) async fn create_community_any(
        &self,
        street: &str,
        input: &CommunityInput,
    ) -> Result<String> {
        let s = self.street_any(street).await?.street;
        live(&s.valid_to, "街道")?;
        let street_code =
            StreetCode::parse(street).map_err(|e| StoreError::Config(e.to_string()))?;
        let code = input
            .code
            .as_ref()
            .ok_or_else(|| StoreError::field("code", "不能为空"))?;
        if code.parent() != street_code {
            return Err(StoreError::field(
                "code",
                format!("社区代码应以所属街道代码“{street}”开头"),
            ));
        }
        let tx = self.db.begin().await?;
        insert_community(&tx, &s, code, input, false, None).await?;
        tx.commit().await?;
        Ok(code.to_string())
    }

    pub(crate) async fn update_community_any(
        &self,
        code: &str,
        input: &CommunityInput,
    ) -> Result<()> {
        let c = self.community_any(code).await?;
        live(&c.valid_to, "社区")?;
        name_free_in(
            &self.db,
            "community",
            "street_code",
            &c.street_code,
            &input.name,
            Some(code),
        )
        .await?;
        // Unchanged (the edit form sends it back as it was) is always fine.
        let valid_from = match input.valid_from {
            Some(d) if d.to_string() != c.valid_from => {
                self.community_start_allowed(code, d).await?
            }
            _ => c.valid_from.clone(),
        };
        let tx = self.db.begin().await?;
        exec(
            &tx,
            "UPDATE community SET name = ?, kind = ?, tier = ?, centre_location = ?, centre_area = ?, \
             hall_area = ?, boundary_east = ?, boundary_north = ?, boundary_west = ?, boundary_south = ? \
             WHERE code = ?",
            community_values(input, code),
        )
        .await?;
        exec(
            &tx,
            "UPDATE community SET valid_from = ? WHERE code = ?",
            vec![valid_from.into(), code.into()],
        )
        .await?;
        touch(&tx, &county_of(code)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A street's 启用 date as corrected by hand: not in the future, and not after its first
    /// community started or its first posting at the street.
    async fn street_start_allowed(&self, code: &str, d: Date) -> Result<String> {
        self.start_allowed(
            code,
            d,
            "街道",
            &[
                (
                    "SELECT MIN(valid_from) AS d FROM community WHERE county_code = ? AND street_code = ?",
                    "有社区启用",
                ),
                (
                    "SELECT MIN(valid_from) AS d FROM staff_assignment WHERE county_code = ? AND post_code = ?",
                    "有街道人员配备",
                ),
            ],
        )
        .await
    }

    /// A community's 启用 date as corrected by hand: not in the future, not before its street,
    /// and not after anything that already happened in it (a grid starting, a compound
    /// registered, a posting at the community).
    async fn community_start_allowed(&self, code: &str, d: Date) -> Result<String> {
        let street = self
            .street_any(&self.community_any(code).await?.street_code)
            .await?
            .street;
        not_before_street(&street, d)?;
        self.start_allowed(
            code,
            d,
            "社区",
            &[
                (
                    "SELECT MIN(valid_from) AS d FROM grid WHERE county_code = ? AND community_code = ?",
                    "有网格启用",
                ),
                (
                    "SELECT MIN(valid_from) AS d FROM compound WHERE county_code = ? AND community_code = ?",
                    "有小区登记",
                ),
                (
                    "SELECT MIN(valid_from) AS d FROM staff_assignment WHERE county_code = ? AND post_code = ?",
                    "有社区人员配备",
                ),
            ],
        )
        .await
    }

    /// A place's start `d` against what already happened in it: each query gives the first
    /// day of something (with the county and the place's code bound), which the start may not
    /// pass; nor may it be in the future.
    async fn start_allowed(
        &self,
        code: &str,
        d: Date,
        what_place: &str,
        firsts: &[(&str, &str)],
    ) -> Result<String> {
        let day = d.to_string();
        if d > crate::today() {
            return Err(StoreError::field("valid_from", "启用日期不能晚于今天"));
        }
        let county = county_of(code);
        for (sql, what) in firsts {
            let first = match one(&self.db, sql, vec![county.clone().into(), code.into()]).await? {
                Some(r) => get::<Option<String>>(&r, "d")?,
                None => None,
            };
            if let Some(first) = first
                && day > first
            {
                return Err(StoreError::field(
                    "valid_from",
                    format!("该{what_place}自 {first} 起已{what}，启用日期不能晚于 {first}"),
                ));
            }
        }
        Ok(day)
    }

    pub(crate) async fn retire_community_any(&self, code: &str, on: Option<Date>) -> Result<()> {
        let c = self.community_any(code).await?;
        live(&c.valid_to, "社区")?;
        let grids = scalar_i64(
            &self.db,
            "SELECT COUNT(*) FROM grid WHERE community_code = ? AND valid_to IS NULL",
            vec![code.into()],
        )
        .await?;
        let compounds = scalar_i64(
            &self.db,
            "SELECT COUNT(*) FROM compound WHERE county_code = ? AND community_code = ? AND valid_to IS NULL",
            vec![county_of(code).into(), code.into()],
        )
        .await?;
        if grids + compounds > 0 {
            return Err(StoreError::Conflict(format!(
                "{}还有 {grids} 个在册网格、{compounds} 个在册小区，请先撤销或划转",
                c.name
            )));
        }
        self.set_valid_to("community", "code", code, on).await
    }

    pub(crate) async fn create_grid_any(
        &self,
        community: &str,
        input: &GridInput,
    ) -> Result<String> {
        let c = self.community_any(community).await?;
        live(&c.valid_to, "社区")?;
        if let Some(d) = input.valid_from {
            grid_start_in(&c, d)?;
        }
        let community_code =
            CommunityCode::parse(community).map_err(|e| StoreError::Config(e.to_string()))?;
        let tx = self.db.begin().await?;
        let code = match &input.code {
            Some(code) => {
                code_free_in(&tx, "grid", code.as_str(), "网格").await?;
                code.clone()
            }
            None => next_grid_code(&tx, &community_code).await?,
        };
        name_free_in(&tx, "grid", "community_code", community, &input.name, None).await?;
        exec(
            &tx,
            "INSERT INTO grid (code, county_code, community_code, name, kind, tier, valid_from) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                code.as_str().into(),
                county_of(community).into(),
                community.into(),
                input.name.clone().into(),
                input.kind.key().into(),
                input.tier.map(|t| t.key().to_string()).into(),
                date_v(input.valid_from.unwrap_or_else(today)),
            ],
        )
        .await?;
        refresh_community(&tx, community).await?;
        tx.commit().await?;
        Ok(code.to_string())
    }

    pub(crate) async fn update_grid_any(&self, code: &str, input: &GridInput) -> Result<()> {
        let g = self.grid_any(code).await?;
        live(&g.valid_to, "网格")?;
        name_free_in(
            &self.db,
            "grid",
            "community_code",
            &g.community_code,
            &input.name,
            Some(code),
        )
        .await?;
        // Unchanged (the edit form sends it back as it was) is always fine.
        let valid_from = match input.valid_from {
            Some(d) if d.to_string() != g.valid_from => self.grid_start_allowed(&g, d).await?,
            _ => g.valid_from.clone(),
        };
        exec(
            &self.db,
            "UPDATE grid SET name = ?, kind = ?, tier = ?, valid_from = ? WHERE code = ?",
            vec![
                input.name.clone().into(),
                input.kind.key().into(),
                input.tier.map(|t| t.key().to_string()).into(),
                valid_from.into(),
                code.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// A grid's 启用 date as corrected by hand: not in the future, and not after anything
    /// that already happened there (a staff posting, a compound coming in).
    async fn grid_start_allowed(&self, g: &Grid, d: Date) -> Result<String> {
        let day = d.to_string();
        grid_start_in(&self.community_any(&g.community_code).await?, d)?;
        let county = county_of(&g.code);
        let earliest = |sql: &'static str| {
            let county = county.clone();
            async move {
                let r = one(&self.db, sql, vec![county.into(), g.code.clone().into()]).await?;
                match r {
                    Some(r) => get::<Option<String>>(&r, "d"),
                    None => Ok(None),
                }
            }
        };
        if let Some(first) = earliest(
            "SELECT MIN(valid_from) AS d FROM staff_assignment WHERE county_code = ? AND post_code = ?",
        )
        .await?
            && day > first
        {
            return Err(StoreError::field(
                "valid_from",
                format!("该网格自 {first} 起已有人员配备，启用日期不能晚于 {first}"),
            ));
        }
        if let Some(first) = earliest(
            "SELECT MIN(day) AS d FROM compound_move WHERE county_code = ? AND to_grid = ?",
        )
        .await?
            && day > first
        {
            return Err(StoreError::field(
                "valid_from",
                format!("{first} 已有小区划入该网格，启用日期不能晚于 {first}"),
            ));
        }
        Ok(day)
    }

    /// Retires a grid. Its compounds must have been moved to other grids first: a compound
    /// is never left without a grid by accident.
    pub(crate) async fn retire_grid_any(&self, code: &str, on: Option<Date>) -> Result<()> {
        let g = self.grid_any(code).await?;
        live(&g.valid_to, "网格")?;
        if g.compounds > 0 {
            return Err(StoreError::Conflict(format!(
                "{}还有 {} 个小区，请先将这些小区划入其他网格",
                g.name, g.compounds
            )));
        }
        // Households registered by grid alone (no compound), and people living here from a
        // household elsewhere, would stay counted in a grid that is gone.
        let county = county_of(code);
        let households = scalar_i64(
            &self.db,
            "SELECT COUNT(*) FROM household WHERE county_code = ? AND grid_code = ? AND valid_to IS NULL",
            vec![county.clone().into(), code.into()],
        )
        .await?;
        let living = scalar_i64(
            &self.db,
            "SELECT COUNT(*) FROM resident WHERE county_code = ? AND living_grid_code = ? AND valid_to IS NULL",
            vec![county.into(), code.into()],
        )
        .await?;
        // Accounts bound to it would be left with nothing to work on.
        let names = crate::users::accounts_on_grid(&self.db, code).await?;
        if !names.is_empty() {
            return Err(StoreError::Conflict(format!(
                "{}还绑定着账号 {} 的角色，请先由安全管理员把这些角色改到其他网格，再撤销",
                g.name,
                names.join("、")
            )));
        }
        if households + living > 0 {
            return Err(StoreError::Conflict(format!(
                "{}还有 {households} 户在册住户{}，请先把这些户改到其他网格的小区或办理迁出，再撤销",
                g.name,
                if living > 0 {
                    format!("、{living} 位实际居住在此的居民")
                } else {
                    String::new()
                }
            )));
        }
        let tx = self.db.begin().await?;
        set_valid_to_in(&tx, "grid", "code", code, &county_of(code), on).await?;
        refresh_community(&tx, &g.community_code).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn create_compound_any(
        &self,
        community: &str,
        input: &CompoundInput,
    ) -> Result<String> {
        let c = self.community_any(community).await?;
        live(&c.valid_to, "社区")?;
        let tx = self.db.begin().await?;
        check_compound_grid(&tx, community, input).await?;
        name_free_compound(&tx, community, &input.name, None).await?;
        let id = new_id();
        insert_compound(&tx, &id, community, input, today()).await?;
        refresh_community(&tx, community).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sets the boundaries of compounds of one community in one transaction: `items` are
    /// (compound id, GeoJSON geometry). Every id must be a live compound of the community;
    /// otherwise nothing is written. Returns how many were set.
    pub async fn set_compound_geometries(
        &self,
        a: &wangge_domain::access::Access,
        community: &str,
        items: &[(String, String)],
    ) -> Result<usize> {
        if !a.can(wangge_domain::access::Permission::RegistryWrite, community) {
            return Err(StoreError::Forbidden("无权修改该社区的小区".into()));
        }
        let c = self.community_any(community).await?;
        live(&c.valid_to, "社区")?;
        let county = county_of(community);
        let tx = self.db.begin().await?;
        for (id, geometry) in items {
            let n = exec(
                &tx,
                "UPDATE compound SET geometry = ? WHERE county_code = ? AND id = ? \
                 AND community_code = ? AND valid_to IS NULL",
                vec![
                    geometry.clone().into(),
                    county.clone().into(),
                    id.clone().into(),
                    community.into(),
                ],
            )
            .await?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "小区 {id} 不是本社区的在册小区，未写入任何边界"
                )));
            }
        }
        tx.commit().await?;
        Ok(items.len())
    }

    pub(crate) async fn compound_geometry_any(&self, m: &Compound) -> Result<Option<String>> {
        let r = one(
            self.conn(),
            "SELECT geometry FROM compound WHERE county_code = ? AND id = ?",
            vec![county_of(&m.community_code).into(), m.id.clone().into()],
        )
        .await?;
        match r {
            Some(r) => get(&r, "geometry"),
            None => Ok(None),
        }
    }

    pub(crate) async fn update_compound_any(&self, id: &str, input: &CompoundInput) -> Result<()> {
        let m = self.compound_any(id).await?;
        live(&m.valid_to, "小区")?;
        let tx = self.db.begin().await?;
        check_compound_grid(&tx, &m.community_code, input).await?;
        name_free_compound(&tx, &m.community_code, &input.name, Some(id)).await?;
        // What the budget reads, kept as it was before today for the years before.
        if (m.households, m.population, m.has_property_management)
            != (
                input.households,
                input.population,
                input.has_property_management,
            )
        {
            exec(
                &tx,
                "INSERT INTO compound_change (county_code, id, compound_id, day, households, population, \
                 has_property_management) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    county_of(&m.community_code).into(),
                    new_id().into(),
                    id.into(),
                    crate::today().to_string().into(),
                    m.households.into(),
                    m.population.into(),
                    m.has_property_management.into(),
                ],
            )
            .await?;
        }
        exec(
            &tx,
            "UPDATE compound SET grid_code = ?, name = ?, kind = ?, households = ?, population = ?, \
             residential_area = ?, has_property_management = ?, property_company = ? \
             WHERE county_code = ? AND id = ?",
            vec![
                input.grid.as_ref().map(|g| g.to_string()).into(),
                input.name.clone().into(),
                input.kind.key().into(),
                input.households.into(),
                input.population.into(),
                input.residential_area.into(),
                input.has_property_management.into(),
                opt_s(&input.property_company),
                county_of(&m.community_code).into(),
                id.into(),
            ],
        )
        .await?;
        let geometry = match &input.geometry {
            GeometryEdit::Keep => None,
            GeometryEdit::Clear => Some(None),
            GeometryEdit::Set(g) => Some(Some(g.clone())),
        };
        if let Some(g) = geometry {
            exec(
                &tx,
                "UPDATE compound SET geometry = ? WHERE county_code = ? AND id = ?",
                vec![g.into(), county_of(&m.community_code).into(), id.into()],
            )
            .await?;
        }
        let to = input.grid.as_ref().map(|g| g.to_string());
        if to != m.grid_code {
            record_compound_move(
                &tx,
                &county_of(&m.community_code),
                id,
                m.grid_code.as_deref(),
                to.as_deref(),
                "edit",
            )
            .await?;
        }
        // The compound's households, and their residents, go with it to its new grid.
        if let Some(to) = input.grid.as_ref().map(|g| g.to_string())
            && m.grid_code.as_deref() != Some(to.as_str())
        {
            crate::care::households_follow_compound(&tx, &county_of(&m.community_code), id, &to)
                .await?;
        }
        refresh_community(&tx, &m.community_code).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn retire_compound_any(&self, id: &str, on: Option<Date>) -> Result<()> {
        let m = self.compound_any(id).await?;
        live(&m.valid_to, "小区")?;
        let county = county_of(&m.community_code);
        self.no_households_in("compound_id", &county, id, &format!("小区“{}”", m.name))
            .await?;
        let tx = self.db.begin().await?;
        exec(
            &tx,
            "UPDATE building SET valid_to = ? WHERE county_code = ? AND compound_id = ? AND valid_to IS NULL",
            vec![date_v(on.unwrap_or_else(today)), county.clone().into(), id.into()],
        )
        .await?;
        exec(
            &tx,
            "UPDATE compound SET valid_to = ? WHERE county_code = ? AND id = ?",
            vec![date_v(on.unwrap_or_else(today)), county.into(), id.into()],
        )
        .await?;
        refresh_community(&tx, &m.community_code).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn create_building_any(
        &self,
        compound: &str,
        input: &BuildingInput,
    ) -> Result<String> {
        let m = self.compound_any(compound).await?;
        live(&m.valid_to, "小区")?;
        let county = county_of(&m.community_code);
        let dup = scalar_i64(
            &self.db,
            "SELECT COUNT(*) FROM building WHERE county_code = ? AND compound_id = ? AND name = ? AND valid_to IS NULL",
            vec![county.clone().into(), compound.into(), input.name.clone().into()],
        )
        .await?;
        if dup > 0 {
            return Err(StoreError::field(
                "name",
                format!("本小区已有楼栋“{}”", input.name),
            ));
        }
        let id = new_id();
        exec(
            &self.db,
            "INSERT INTO building (county_code, id, compound_id, name, entrances, floors, households, valid_from) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                county.into(),
                id.clone().into(),
                compound.into(),
                input.name.clone().into(),
                input.entrances.into(),
                input.floors.into(),
                input.households.into(),
                date_v(today()),
            ],
        )
        .await?;
        Ok(id)
    }

    pub(crate) async fn update_building_any(&self, id: &str, input: &BuildingInput) -> Result<()> {
        let b = self.building_any(id).await?;
        live(&b.valid_to, "楼栋")?;
        let county = self.require_county().await?.code;
        exec(
            &self.db,
            "UPDATE building SET name = ?, entrances = ?, floors = ?, households = ? WHERE county_code = ? AND id = ?",
            vec![
                input.name.clone().into(),
                input.entrances.into(),
                input.floors.into(),
                input.households.into(),
                county.into(),
                id.into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn retire_building_any(&self, id: &str, on: Option<Date>) -> Result<()> {
        let b = self.building_any(id).await?;
        live(&b.valid_to, "楼栋")?;
        let county = self.require_county().await?.code;
        self.no_households_in("building_id", &county, id, &format!("楼栋“{}”", b.name))
            .await?;
        self.set_valid_to("building", "id", id, on).await
    }

    /// Refuses to retire a compound or building (`column` of household: `compound_id` or
    /// `building_id`) while households are registered in it: they would name a place that
    /// is gone, and the grid would count people in no compound.
    async fn no_households_in(
        &self,
        column: &str,
        county: &str,
        id: &str,
        what: &str,
    ) -> Result<()> {
        let n = scalar_i64(
            &self.db,
            &format!(
                "SELECT COUNT(*) FROM household WHERE county_code = ? AND {column} = ? AND valid_to IS NULL"
            ),
            vec![county.into(), id.into()],
        )
        .await?;
        if n > 0 {
            return Err(StoreError::Conflict(format!(
                "{what}还有 {n} 户在册，请先把这些户改到其他{}或办理迁出，再撤销",
                if column == "compound_id" {
                    "小区"
                } else {
                    "楼栋"
                }
            )));
        }
        Ok(())
    }

    pub(crate) async fn create_department_any(&self, input: &DepartmentInput) -> Result<String> {
        let county = self.require_county().await?;
        self.name_free("department", "county_code", &county.code, &input.name, None)
            .await?;
        let id = new_id();
        exec(
            &self.db,
            "INSERT INTO department (county_code, id, name, duties, phone, valid_from) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                county.code.into(),
                id.clone().into(),
                input.name.clone().into(),
                opt_s(&input.duties),
                opt_s(&input.phone),
                date_v(today()),
            ],
        )
        .await?;
        Ok(id)
    }

    pub(crate) async fn update_department_any(
        &self,
        id: &str,
        input: &DepartmentInput,
    ) -> Result<()> {
        let d = self.department_any(id).await?;
        live(&d.valid_to, "部门")?;
        let county = self.require_county().await?.code;
        name_free_in(
            &self.db,
            "department",
            "county_code",
            &county,
            &input.name,
            Some(id),
        )
        .await?;
        exec(
            &self.db,
            "UPDATE department SET name = ?, duties = ?, phone = ? WHERE county_code = ? AND id = ?",
            vec![
                input.name.clone().into(),
                opt_s(&input.duties),
                opt_s(&input.phone),
                county.into(),
                id.into(),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn retire_department_any(&self, id: &str, on: Option<Date>) -> Result<()> {
        let d = self.department_any(id).await?;
        live(&d.valid_to, "部门")?;
        self.set_valid_to("department", "id", id, on).await
    }

    async fn set_valid_to(
        &self,
        table: &str,
        key: &str,
        value: &str,
        on: Option<Date>,
    ) -> Result<()> {
        let county = if key == "code" {
            county_of(value)
        } else {
            self.require_county().await?.code
        };
        set_valid_to_in(&self.db, table, key, value, &county, on).await
    }

    async fn code_free(&self, table: &str, code: &str, level: &str) -> Result<()> {
        code_free_in(&self.db, table, code, level).await
    }

    async fn name_free(
        &self,
        table: &str,
        parent_col: &str,
        parent: &str,
        name: &str,
        except: Option<&str>,
    ) -> Result<()> {
        name_free_in(&self.db, table, parent_col, parent, name, except).await
    }
}

fn street_of(r: &QueryResult) -> Result<Street> {
    Ok(Street {
        code: get(r, "code")?,
        county_code: get(r, "county_code")?,
        name: get(r, "name")?,
        placeholder_code: get(r, "placeholder_code")?,
        valid_from: get(r, "valid_from")?,
        valid_to: get(r, "valid_to")?,
        figures: Figures::default(),
    })
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn live(valid_to: &Option<String>, what: &str) -> Result<()> {
    match valid_to {
        Some(d) => Err(StoreError::Conflict(format!(
            "该{what}已于 {d} 撤销，不能再修改"
        ))),
        None => Ok(()),
    }
}

async fn set_valid_to_in<C: ConnectionTrait>(
    c: &C,
    table: &str,
    key: &str,
    value: &str,
    county: &str,
    on: Option<Date>,
) -> Result<()> {
    let day = on.unwrap_or_else(today);
    // Retired on a day it was in force: not before it began, not ahead of today.
    if day > today() {
        return Err(StoreError::field(
            "valid_to",
            format!("撤销日期不能晚于今天（{}）：撤销在当天或事后登记", today()),
        ));
    }
    let from: Option<String> = one(
        c,
        &format!("SELECT valid_from FROM {table} WHERE county_code = ? AND {key} = ?"),
        vec![county.into(), value.into()],
    )
    .await?
    .map(|r| get(&r, "valid_from"))
    .transpose()?;
    if let Some(from) = from.filter(|f| day.to_string() < *f) {
        return Err(StoreError::field(
            "valid_to",
            format!("撤销日期不能早于启用日期（{from}）"),
        ));
    }
    exec(
        c,
        &format!(
            "UPDATE {table} SET valid_to = ? WHERE county_code = ? AND {key} = ? AND valid_to IS NULL"
        ),
        vec![date_v(day), county.into(), value.into()],
    )
    .await?;
    touch(c, county).await
}

/// Marks the overview stale: called by every write that changes what it shows.
pub(crate) async fn touch<C: ConnectionTrait>(c: &C, county: &str) -> Result<()> {
    exec(
        c,
        "UPDATE county SET version = version + 1 WHERE code = ?",
        vec![county.into()],
    )
    .await?;
    Ok(())
}

/// A code, once used, is never given again: retired rows keep theirs.
async fn code_free_in<C: ConnectionTrait>(
    c: &C,
    table: &str,
    code: &str,
    level: &str,
) -> Result<()> {
    let r = one(
        c,
        &format!("SELECT name, valid_to FROM {table} WHERE code = ?"),
        vec![code.into()],
    )
    .await?;
    match r {
        None => Ok(()),
        Some(r) => {
            let name: String = get(&r, "name")?;
            let retired: Option<String> = get(&r, "valid_to")?;
            Err(StoreError::field(
                "code",
                match retired {
                    None => format!("{level}代码“{code}”已被“{name}”使用"),
                    Some(d) => format!(
                        "{level}代码“{code}”曾属于已于 {d} 撤销的“{name}”，代码不得重复使用"
                    ),
                },
            ))
        }
    }
}

async fn name_free_in<C: ConnectionTrait>(
    c: &C,
    table: &str,
    parent_col: &str,
    parent: &str,
    name: &str,
    except: Option<&str>,
) -> Result<()> {
    let key = if table == "department" { "id" } else { "code" };
    let n = scalar_i64(
        c,
        &format!(
            "SELECT COUNT(*) FROM {table} WHERE {parent_col} = ? AND name = ? AND valid_to IS NULL AND {key} <> ?"
        ),
        vec![parent.into(), name.into(), except.unwrap_or("").into()],
    )
    .await?;
    if n > 0 {
        Err(StoreError::field("name", format!("已有同名的“{name}”")))
    } else {
        Ok(())
    }
}

async fn name_free_compound<C: ConnectionTrait>(
    c: &C,
    community: &str,
    name: &str,
    except: Option<&str>,
) -> Result<()> {
    let n = scalar_i64(
        c,
        "SELECT COUNT(*) FROM compound WHERE county_code = ? AND community_code = ? AND name = ? \
         AND valid_to IS NULL AND id <> ?",
        vec![
            county_of(community).into(),
            community.into(),
            name.into(),
            except.unwrap_or("").into(),
        ],
    )
    .await?;
    if n > 0 {
        Err(StoreError::field(
            "name",
            format!("本社区已有同名小区“{name}”"),
        ))
    } else {
        Ok(())
    }
}

/// Records that a compound changed grid today (history for the grids' pages).
pub(crate) async fn record_compound_move<C: ConnectionTrait>(
    c: &C,
    county: &str,
    compound: &str,
    from: Option<&str>,
    to: Option<&str>,
    reason: &str,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO compound_move (county_code, id, compound_id, from_grid, to_grid, day, reason) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            county.into(),
            new_id().into(),
            compound.into(),
            from.map(str::to_string).into(),
            to.map(str::to_string).into(),
            today().to_string().into(),
            reason.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The compound's grid must be a live grid of the same community.
async fn check_compound_grid<C: ConnectionTrait>(
    c: &C,
    community: &str,
    input: &CompoundInput,
) -> Result<()> {
    let Some(grid) = &input.grid else {
        return Ok(());
    };
    let r = one(
        c,
        "SELECT community_code, valid_to FROM grid WHERE code = ?",
        vec![grid.as_str().into()],
    )
    .await?;
    match r {
        None => Err(StoreError::field(
            "grid",
            format!("没有代码为“{grid}”的网格"),
        )),
        Some(r) => {
            let cc: String = get(&r, "community_code")?;
            let retired: Option<String> = get(&r, "valid_to")?;
            if cc != community {
                Err(StoreError::field(
                    "grid",
                    format!("网格“{grid}”不属于本社区"),
                ))
            } else if retired.is_some() {
                Err(StoreError::field("grid", format!("网格“{grid}”已撤销")))
            } else {
                Ok(())
            }
        }
    }
}

/// The next grid code of a community: one above every sequence ever used there.
async fn next_grid_code<C: ConnectionTrait>(c: &C, community: &CommunityCode) -> Result<GridCode> {
    let rows = all(
        c,
        "SELECT code FROM grid WHERE community_code = ?",
        vec![community.as_str().into()],
    )
    .await?;
    let mut used = Vec::with_capacity(rows.len());
    for r in &rows {
        let code: String = get(r, "code")?;
        if let Ok(g) = GridCode::parse(&code) {
            used.push(g.sequence());
        }
    }
    wangge_domain::code::next_sequence(used)
        .and_then(|s| GridCode::compose(community, s))
        .ok_or_else(|| {
            StoreError::Conflict(format!("社区“{community}”的网格编号已用尽（最多 999 个）"))
        })
}

fn community_values(input: &CommunityInput, code: &str) -> Vec<Value> {
    vec![
        input.name.clone().into(),
        input.kind.key().into(),
        input.tier.map(|t| t.key().to_string()).into(),
        opt_s(&input.centre_location),
        input.centre_area.into(),
        input.hall_area.into(),
        opt_s(&input.boundary.east),
        opt_s(&input.boundary.north),
        opt_s(&input.boundary.west),
        opt_s(&input.boundary.south),
        code.into(),
    ]
}

/// A community's 启用 date against its street: not before it.
fn not_before_street(street: &Street, d: Date) -> Result<()> {
    if d.to_string() < street.valid_from {
        return Err(StoreError::field(
            "valid_from",
            format!(
                "街道“{}”自 {} 启用，社区启用日期不能早于它（可先在街道页“修改”中把街道启用日期改早）",
                street.name, street.valid_from
            ),
        ));
    }
    Ok(())
}

/// A grid's 启用 date against its community: not in the future, not before the community.
fn grid_start_in(c: &Community, d: Date) -> Result<()> {
    if d > today() {
        return Err(StoreError::field("valid_from", "启用日期不能晚于今天"));
    }
    if d.to_string() < c.valid_from {
        return Err(StoreError::field(
            "valid_from",
            format!(
                "社区“{}”自 {} 启用，网格启用日期不能早于它（可先在社区页“修改”中把社区启用日期改早）",
                c.name, c.valid_from
            ),
        ));
    }
    Ok(())
}

pub(crate) async fn insert_community<C: ConnectionTrait>(
    c: &C,
    street: &Street,
    code: &CommunityCode,
    input: &CommunityInput,
    placeholder: bool,
    declared: Option<&Figures>,
) -> Result<()> {
    code_free_in(c, "community", code.as_str(), "社区").await?;
    if input.valid_from.is_some_and(|d| d > today()) {
        return Err(StoreError::field("valid_from", "启用日期不能晚于今天"));
    }
    if let Some(d) = input.valid_from {
        not_before_street(street, d)?;
    }
    name_free_in(
        c,
        "community",
        "street_code",
        &street.code,
        &input.name,
        None,
    )
    .await?;
    exec(
        c,
        "INSERT INTO community (code, county_code, street_code, name, kind, tier, valid_from, placeholder_code) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            code.as_str().into(),
            street.county_code.clone().into(),
            street.code.clone().into(),
            input.name.clone().into(),
            input.kind.key().into(),
            input.tier.map(|t| t.key().to_string()).into(),
            date_v(input.valid_from.unwrap_or_else(today)),
            placeholder.into(),
        ],
    )
    .await?;
    exec(
        c,
        "UPDATE community SET name = ?, kind = ?, tier = ?, centre_location = ?, centre_area = ?, \
         hall_area = ?, boundary_east = ?, boundary_north = ?, boundary_west = ?, boundary_south = ? \
         WHERE code = ?",
        community_values(input, code.as_str()),
    )
    .await?;
    if let Some(d) = declared {
        set_declared(c, code.as_str(), d).await?;
    }
    touch(c, &street.county_code).await
}

pub(crate) async fn set_declared<C: ConnectionTrait>(c: &C, code: &str, d: &Figures) -> Result<()> {
    exec(
        c,
        "UPDATE community SET declared_grids = ?, declared_compounds = ?, declared_households = ?, \
         declared_population = ? WHERE code = ?",
        vec![
            d.grids.into(),
            d.compounds.into(),
            d.households.into(),
            d.population.into(),
            code.into(),
        ],
    )
    .await?;
    touch(c, &county_of(code)).await
}

pub(crate) async fn insert_compound<C: ConnectionTrait>(
    c: &C,
    id: &str,
    community: &str,
    input: &CompoundInput,
    valid_from: Date,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO compound (county_code, id, community_code, grid_code, name, kind, households, \
         population, residential_area, has_property_management, property_company, valid_from, \
         geometry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            county_of(community).into(),
            id.into(),
            community.into(),
            input.grid.as_ref().map(|g| g.to_string()).into(),
            input.name.clone().into(),
            input.kind.key().into(),
            input.households.into(),
            input.population.into(),
            input.residential_area.into(),
            input.has_property_management.into(),
            opt_s(&input.property_company),
            date_v(valid_from),
            match &input.geometry {
                GeometryEdit::Set(g) => Some(g.clone()),
                GeometryEdit::Keep | GeometryEdit::Clear => None,
            }
            .into(),
        ],
    )
    .await?;
    Ok(())
}

/// Recomputes a community's registered figures from its live grids and compounds, in the
/// same transaction as the write that changed them: the overview reads them directly.
pub(crate) async fn refresh_community<C: ConnectionTrait>(c: &C, code: &str) -> Result<()> {
    let county = county_of(code);
    exec(
        c,
        "UPDATE community SET \
           live_grids = (SELECT COUNT(*) FROM grid WHERE community_code = ? AND valid_to IS NULL), \
           live_compounds = (SELECT COUNT(*) FROM compound WHERE county_code = ? AND community_code = ? AND valid_to IS NULL), \
           households = (SELECT CAST(COALESCE(SUM(households), 0) AS BIGINT) FROM compound WHERE county_code = ? AND community_code = ? AND valid_to IS NULL), \
           population = (SELECT CAST(COALESCE(SUM(population), 0) AS BIGINT) FROM compound WHERE county_code = ? AND community_code = ? AND valid_to IS NULL) \
         WHERE code = ?",
        vec![
            code.into(),
            county.clone().into(),
            code.into(),
            county.clone().into(),
            code.into(),
            county.clone().into(),
            code.into(),
            code.into(),
        ],
    )
    .await?;
    touch(c, &county).await
}
