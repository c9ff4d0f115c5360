//! The registry's public API: every read and every write checked against the user's
//! [`Access`] — object by object, and lists filtered row by row — here, in the store, so that
//! no page, API route or export can forget it.

use wangge_domain::access::{Access, Grant, Permission, Role, Scope, ScopeKind};
use wangge_domain::registry::{
    BuildingInput, CommunityInput, CompoundInput, DepartmentInput, Figures, GridInput, StreetInput,
};
use wangge_domain::{CountyCode, Date};

use crate::registry::{
    Building, Community, CommunityPage, Compound, CompoundPage, Department, Grid, GridPage,
    Overview, SearchHit, StreetOverview,
};
use crate::{Result, Store, StoreError};

fn deny(what: &str) -> StoreError {
    StoreError::Forbidden(format!("无权{what}：不在您的管辖范围或权限之内"))
}

fn check(a: &Access, p: Permission, code: &str, what: &str) -> Result<()> {
    if a.can(p, code) {
        Ok(())
    } else if p == Permission::RegistryRead && !wangge_domain::code::is_place_code(code) {
        // Not a place code at all ("/communities/abc"): there is no such place to see,
        // whoever asks.
        Err(StoreError::NotFound("没有这个编码的地方".into()))
    } else {
        Err(deny(what))
    }
}

/// The roles the first administrator gets on the county it sets up.
pub const SETUP_ROLES: [Role; 3] = [Role::CountyAdmin, Role::SystemAdmin, Role::SecurityAdmin];

impl Store {
    pub(crate) async fn county_code(&self) -> Result<String> {
        Ok(self
            .county()
            .await?
            .ok_or_else(|| StoreError::NotFound("尚未设置本县（区），请先在总览页设置".into()))?
            .code)
    }

    /// Where a compound lies: its grid, or its community while it has none.
    fn location(m: &Compound) -> &str {
        m.grid_code.as_deref().unwrap_or(&m.community_code)
    }

    /// Sets up the county (the first time, by the first administrator, who then gets the
    /// setup roles on it), or renames it.
    pub async fn set_county(
        &self,
        a: &Access,
        user_id: &str,
        code: &CountyCode,
        name: &str,
    ) -> Result<()> {
        match self.county().await? {
            Some(c) => {
                check(a, Permission::RegistryWrite, &c.code, "修改本县信息")?;
                self.set_county_any(code, name).await
            }
            None => {
                if a.grants().next().is_some() {
                    return Err(deny("设置本县"));
                }
                self.set_county_any(code, name).await?;
                self.grant_setup_roles(user_id, code.as_str()).await
            }
        }
    }

    /// Gives a user the setup roles on the county (first start).
    pub async fn grant_setup_roles(&self, user_id: &str, county: &str) -> Result<()> {
        let mut grants = self.grants(user_id).await?;
        for role in SETUP_ROLES {
            let g = Grant {
                role,
                scope: Scope {
                    kind: ScopeKind::County,
                    key: county.to_string(),
                },
            };
            if !grants.contains(&g) {
                grants.push(g);
            }
        }
        self.replace_grants(user_id, &grants).await
    }

    /// The overview restricted to what the user may read: streets and communities inside
    /// their scopes, with figures summed over those alone.
    pub async fn overview(&self, a: &Access) -> Result<Overview> {
        let mut o = self.overview_any().await?;
        o.totals = Figures::default();
        for s in &mut o.streets {
            s.communities
                .retain(|c| a.can(Permission::RegistryRead, &c.code));
            let mut f = Figures::default();
            for c in &s.communities {
                f.add(&c.figures);
            }
            s.street.figures = f;
        }
        o.streets.retain(|s| {
            a.can(Permission::RegistryRead, &s.street.code) || !s.communities.is_empty()
        });
        for s in &o.streets {
            o.totals.add(&s.street.figures);
        }
        Ok(o)
    }

    pub async fn street(&self, a: &Access, code: &str) -> Result<StreetOverview> {
        check(a, Permission::RegistryRead, code, "查看该街道")?;
        self.street_any(code).await
    }

    pub async fn community(&self, a: &Access, code: &str) -> Result<Community> {
        check(a, Permission::RegistryRead, code, "查看该社区")?;
        self.community_any(code).await
    }

    pub async fn community_page(&self, a: &Access, code: &str) -> Result<CommunityPage> {
        check(a, Permission::RegistryRead, code, "查看该社区")?;
        self.community_page_any(code).await
    }

    pub async fn grid(&self, a: &Access, code: &str) -> Result<Grid> {
        check(a, Permission::RegistryRead, code, "查看该网格")?;
        self.grid_any(code).await
    }

    pub async fn grid_page(&self, a: &Access, code: &str) -> Result<GridPage> {
        check(a, Permission::RegistryRead, code, "查看该网格")?;
        self.grid_page_any(code).await
    }

    pub async fn compound(&self, a: &Access, id: &str) -> Result<Compound> {
        let m = self.compound_any(id).await?;
        check(
            a,
            Permission::RegistryRead,
            Self::location(&m),
            "查看该小区",
        )?;
        Ok(m)
    }

    /// The compound's boundary as stored GeoJSON, if registered.
    pub async fn compound_geometry(&self, a: &Access, id: &str) -> Result<Option<String>> {
        let m = self.compound(a, id).await?;
        self.compound_geometry_any(&m).await
    }

    pub async fn compound_page(&self, a: &Access, id: &str) -> Result<CompoundPage> {
        self.compound(a, id).await?;
        self.compound_page_any(id).await
    }

    pub async fn building(&self, a: &Access, id: &str) -> Result<Building> {
        let b = self.building_any(id).await?;
        self.compound(a, &b.compound_id).await?;
        Ok(b)
    }

    /// Departments: everyone who reads the registry sees the list; department staff see
    /// their own department.
    /// Every department's name by id, retired ones too: what account pages show for a role
    /// bound to a department (names of offices are not personal data).
    pub async fn department_names(&self) -> Result<std::collections::HashMap<String, String>> {
        Ok(self
            .departments_any()
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect())
    }

    pub async fn departments(&self, a: &Access) -> Result<Vec<Department>> {
        let all = self.departments_any().await?;
        if a.can_somewhere(Permission::RegistryRead) {
            return Ok(all);
        }
        let mine: Vec<&str> = a
            .grants()
            .filter(|g| g.scope.kind == ScopeKind::Department)
            .map(|g| g.scope.key.as_str())
            .collect();
        Ok(all
            .into_iter()
            .filter(|d| mine.contains(&d.id.as_str()))
            .collect())
    }

    pub async fn department(&self, a: &Access, id: &str) -> Result<Department> {
        let d = self.department_any(id).await?;
        let own = a
            .grants()
            .any(|g| g.scope.kind == ScopeKind::Department && g.scope.key == id);
        if own || a.can_somewhere(Permission::RegistryRead) {
            Ok(d)
        } else {
            Err(deny("查看该部门"))
        }
    }

    /// Search, inside the user's scopes only (filtered in SQL, so the limit counts only what
    /// the user may see).
    pub async fn search(&self, a: &Access, q: &str, limit: u64) -> Result<Vec<SearchHit>> {
        let prefixes = a.prefixes(Permission::RegistryRead);
        if prefixes.is_empty() {
            return Ok(Vec::new());
        }
        self.search_any(q, limit, &prefixes).await
    }

    // ---- writes ----------------------------------------------------------------------

    /// May the user create a record of this level under `parent` (when `key` is `None`), or
    /// change the record `key`? For showing forms only to those who may submit them.
    pub async fn may_write(
        &self,
        a: &Access,
        level: &str,
        parent: Option<&str>,
        key: Option<&str>,
    ) -> Result<()> {
        let target = match (level, key) {
            ("streets" | "departments", None) => self.county_code().await?,
            ("departments", Some(_)) => self.county_code().await?,
            ("compounds", Some(id)) => Self::location(&self.compound_any(id).await?).to_string(),
            ("buildings", None) => {
                Self::location(&self.compound_any(parent.unwrap_or("")).await?).to_string()
            }
            ("buildings", Some(id)) => {
                let b = self.building_any(id).await?;
                Self::location(&self.compound_any(&b.compound_id).await?).to_string()
            }
            (_, Some(k)) => k.to_string(),
            (_, None) => parent.unwrap_or("").to_string(),
        };
        check(a, Permission::RegistryWrite, &target, "进行此项修改")
    }

    pub async fn create_street(&self, a: &Access, input: &StreetInput) -> Result<String> {
        check(
            a,
            Permission::RegistryWrite,
            &self.county_code().await?,
            "新建街道",
        )?;
        self.create_street_any(input).await
    }

    pub async fn update_street(&self, a: &Access, code: &str, input: &StreetInput) -> Result<()> {
        check(a, Permission::RegistryWrite, code, "修改该街道")?;
        self.update_street_any(code, input).await
    }

    pub async fn retire_street(&self, a: &Access, code: &str, on: Option<Date>) -> Result<()> {
        check(a, Permission::RegistryWrite, code, "撤销该街道")?;
        self.retire_street_any(code, on).await
    }

    pub async fn create_community(
        &self,
        a: &Access,
        street: &str,
        input: &CommunityInput,
    ) -> Result<String> {
        check(a, Permission::RegistryWrite, street, "在该街道新建社区")?;
        self.create_community_any(street, input).await
    }

    pub async fn update_community(
        &self,
        a: &Access,
        code: &str,
        input: &CommunityInput,
    ) -> Result<()> {
        check(a, Permission::RegistryWrite, code, "修改该社区")?;
        self.update_community_any(code, input).await
    }

    pub async fn retire_community(&self, a: &Access, code: &str, on: Option<Date>) -> Result<()> {
        check(a, Permission::RegistryWrite, code, "撤销该社区")?;
        self.retire_community_any(code, on).await
    }

    pub async fn create_grid(
        &self,
        a: &Access,
        community: &str,
        input: &GridInput,
    ) -> Result<String> {
        check(a, Permission::RegistryWrite, community, "在该社区新建网格")?;
        self.create_grid_any(community, input).await
    }

    pub async fn update_grid(&self, a: &Access, code: &str, input: &GridInput) -> Result<()> {
        check(a, Permission::RegistryWrite, code, "修改该网格")?;
        self.update_grid_any(code, input).await
    }

    pub async fn retire_grid(&self, a: &Access, code: &str, on: Option<Date>) -> Result<()> {
        check(a, Permission::RegistryWrite, code, "撤销该网格")?;
        self.retire_grid_any(code, on).await
    }

    pub async fn create_compound(
        &self,
        a: &Access,
        community: &str,
        input: &CompoundInput,
    ) -> Result<String> {
        let target = input.grid.as_ref().map(|g| g.as_str()).unwrap_or(community);
        check(a, Permission::RegistryWrite, community, "在该社区新建小区")?;
        check(a, Permission::RegistryWrite, target, "将小区划入该网格")?;
        self.create_compound_any(community, input).await
    }

    pub async fn update_compound(&self, a: &Access, id: &str, input: &CompoundInput) -> Result<()> {
        let m = self.compound_any(id).await?;
        check(
            a,
            Permission::RegistryWrite,
            Self::location(&m),
            "修改该小区",
        )?;
        if let Some(g) = &input.grid {
            check(a, Permission::RegistryWrite, g.as_str(), "将小区划入该网格")?;
        }
        self.update_compound_any(id, input).await
    }

    pub async fn retire_compound(&self, a: &Access, id: &str, on: Option<Date>) -> Result<()> {
        let m = self.compound_any(id).await?;
        check(
            a,
            Permission::RegistryWrite,
            Self::location(&m),
            "撤销该小区",
        )?;
        self.retire_compound_any(id, on).await
    }

    pub async fn create_building(
        &self,
        a: &Access,
        compound: &str,
        input: &BuildingInput,
    ) -> Result<String> {
        let m = self.compound_any(compound).await?;
        check(
            a,
            Permission::RegistryWrite,
            Self::location(&m),
            "在该小区新建楼栋",
        )?;
        self.create_building_any(compound, input).await
    }

    pub async fn update_building(&self, a: &Access, id: &str, input: &BuildingInput) -> Result<()> {
        let b = self.building_any(id).await?;
        let m = self.compound_any(&b.compound_id).await?;
        check(
            a,
            Permission::RegistryWrite,
            Self::location(&m),
            "修改该楼栋",
        )?;
        self.update_building_any(id, input).await
    }

    pub async fn retire_building(&self, a: &Access, id: &str, on: Option<Date>) -> Result<()> {
        let b = self.building_any(id).await?;
        let m = self.compound_any(&b.compound_id).await?;
        check(
            a,
            Permission::RegistryWrite,
            Self::location(&m),
            "撤销该楼栋",
        )?;
        self.retire_building_any(id, on).await
    }

    pub async fn create_department(&self, a: &Access, input: &DepartmentInput) -> Result<String> {
        check(
            a,
            Permission::RegistryWrite,
            &self.county_code().await?,
            "新建部门",
        )?;
        self.create_department_any(input).await
    }

    pub async fn update_department(
        &self,
        a: &Access,
        id: &str,
        input: &DepartmentInput,
    ) -> Result<()> {
        check(
            a,
            Permission::RegistryWrite,
            &self.county_code().await?,
            "修改部门",
        )?;
        self.update_department_any(id, input).await
    }

    pub async fn retire_department(&self, a: &Access, id: &str, on: Option<Date>) -> Result<()> {
        check(
            a,
            Permission::RegistryWrite,
            &self.county_code().await?,
            "撤销部门",
        )?;
        self.retire_department_any(id, on).await
    }
}
