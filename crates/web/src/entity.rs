//! The levels of the registry that users create, edit and retire, and what their forms hold.
//! Pages and the API share this: a form post and a JSON body both become text fields that
//! `wangge_domain::registry` parses.

use wangge_domain::access::Access;
use wangge_domain::registry::{
    BuildingInput, CommunityInput, CompoundInput, DepartmentInput, Fields, GridInput, StreetInput,
};
use wangge_domain::{CommunityCode, CommunityKind, CompoundKind, Date, GridKind, Tier};
use wangge_store::Store;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Street,
    Community,
    Grid,
    Compound,
    Building,
    Department,
}

/// One field of a form, as the page shows it.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    /// text, number, select, checkbox, textarea, date
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub options: Vec<(String, String)>,
    pub hint: &'static str,
    pub required: bool,
}

impl FieldView {
    fn new(name: &'static str, label: &'static str, kind: &'static str) -> Self {
        FieldView {
            name,
            label,
            kind,
            value: String::new(),
            error: None,
            options: Vec::new(),
            hint: "",
            required: false,
        }
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn hint(mut self, h: &'static str) -> Self {
        self.hint = h;
        self
    }
    fn options(mut self, o: &[(&'static str, &'static str)]) -> Self {
        self.options = o
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self
    }
}

fn enum_options<T: Copy>(
    all: &[T],
    key: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|t| (key(*t).to_string(), label(*t).to_string()))
        .collect()
}

impl Entity {
    pub const ALL: [Entity; 6] = [
        Entity::Street,
        Entity::Community,
        Entity::Grid,
        Entity::Compound,
        Entity::Building,
        Entity::Department,
    ];

    /// The path segment: /api/{plural}/…
    pub fn plural(self) -> &'static str {
        match self {
            Entity::Street => "streets",
            Entity::Community => "communities",
            Entity::Grid => "grids",
            Entity::Compound => "compounds",
            Entity::Building => "buildings",
            Entity::Department => "departments",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.plural() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Entity::Street => "街道",
            Entity::Community => "社区",
            Entity::Grid => "网格",
            Entity::Compound => "小区（村庄）",
            Entity::Building => "楼栋",
            Entity::Department => "职能部门",
        }
    }

    /// The field that names the parent on creation, if the level has one.
    pub fn parent_field(self) -> Option<&'static str> {
        match self {
            Entity::Street | Entity::Department => None,
            Entity::Community => Some("street_code"),
            Entity::Grid | Entity::Compound => Some("community_code"),
            Entity::Building => Some("compound_id"),
        }
    }

    /// Whether the key is a code (streets, communities, grids) rather than an id.
    pub fn keyed_by_code(self) -> bool {
        matches!(self, Entity::Street | Entity::Community | Entity::Grid)
    }

    /// The form's fields, empty.
    pub fn fields(self, creating: bool) -> Vec<FieldView> {
        let mut tier = FieldView::new("tier", "建设标准", "select").options(&[("", "（未定）")]);
        let label = if self == Entity::Community {
            Tier::community_label
        } else {
            Tier::label
        };
        tier.options
            .extend(enum_options(Tier::ALL, Tier::key, label));
        let mut v = Vec::new();
        match self {
            Entity::Street => {
                if creating {
                    v.push(
                        FieldView::new("code", "街道代码", "text")
                            .required()
                            .hint("9 位数字：县级代码 + 3 位（GB/T 10114）"),
                    );
                }
                v.push(FieldView::new("name", "街道名称", "text").required());
                v.push(
                    FieldView::new("valid_from", "启用日期", "date").hint(if creating {
                        "留空为今天"
                    } else {
                        "街道实际启用的日期（在本系统登记以前已有的街道可改早）；社区不能早于它"
                    }),
                );
            }
            Entity::Community => {
                if creating {
                    v.push(
                        FieldView::new("code", "社区代码", "text")
                            .required()
                            .hint("12 位数字：街道代码 + 3 位"),
                    );
                }
                v.push(FieldView::new("name", "社区名称", "text").required());
                let mut kind = FieldView::new("kind", "社区类型", "select");
                kind.options =
                    enum_options(CommunityKind::ALL, CommunityKind::key, CommunityKind::label);
                v.push(kind);
                v.push(tier);
                v.push(FieldView::new("centre_location", "服务中心位置", "text"));
                v.push(FieldView::new(
                    "centre_area",
                    "服务中心总面积（㎡）",
                    "number",
                ));
                v.push(FieldView::new(
                    "hall_area",
                    "便民服务大厅面积（㎡）",
                    "number",
                ));
                v.push(FieldView::new("boundary_east", "东至", "text"));
                v.push(FieldView::new("boundary_north", "北至", "text"));
                v.push(FieldView::new("boundary_west", "西至", "text"));
                v.push(FieldView::new("boundary_south", "南至", "text"));
                v.push(
                    FieldView::new("valid_from", "启用日期", "date").hint(if creating {
                        "留空为今天"
                    } else {
                        "社区实际启用的日期（在本系统登记以前已有的社区可改早，不早于所属街道）；网格、小区和人员配备不能早于它"
                    }),
                );
            }
            Entity::Grid => {
                if creating {
                    v.push(
                        FieldView::new("code", "网格统一编码", "text")
                            .hint("15 位：社区代码 + 3 位序号；留空则自动取下一个未用过的序号"),
                    );
                }
                v.push(FieldView::new("name", "网格名称", "text").required());
                let mut kind = FieldView::new("kind", "网格类型", "select");
                kind.options = enum_options(GridKind::ALL, GridKind::key, GridKind::label);
                v.push(kind);
                v.push(tier);
                v.push(
                    FieldView::new("valid_from", "启用日期", "date").hint(if creating {
                        "留空为今天"
                    } else {
                        "网格实际启用的日期（在本系统登记以前已有的网格可改早）；人员配备不能早于它"
                    }),
                );
            }
            Entity::Compound => {
                v.push(FieldView::new("name", "名称", "text").required());
                let mut kind = FieldView::new("kind", "类型", "select");
                kind.options =
                    enum_options(CompoundKind::ALL, CompoundKind::key, CompoundKind::label);
                v.push(kind);
                v.push(
                    FieldView::new("grid", "所属网格编码", "select")
                        .hint("一个小区只属于一个网格，不拆分"),
                );
                v.push(FieldView::new("households", "户数", "number").required());
                v.push(FieldView::new("population", "人口", "number").required());
                v.push(FieldView::new(
                    "residential_area",
                    "住宅建筑面积（㎡）",
                    "number",
                ));
                v.push(FieldView::new(
                    "has_property_management",
                    "有物业管理",
                    "checkbox",
                ));
                v.push(FieldView::new("property_company", "物业服务企业", "text"));
                v.push(
                    FieldView::new("geometry", "边界（GeoJSON 多边形）", "textarea").hint(
                        "从 GIS 导出的 Polygon 或 MultiPolygon（经纬度或平面坐标），自动划分网格时用来判断相邻；留空为未登记",
                    ),
                );
            }
            Entity::Building => {
                v.push(
                    FieldView::new("name", "楼栋名称", "text")
                        .required()
                        .hint("如：3号楼"),
                );
                v.push(FieldView::new("entrances", "单元数", "number"));
                v.push(FieldView::new("floors", "层数", "number"));
                v.push(FieldView::new("households", "户数", "number"));
            }
            Entity::Department => {
                v.push(FieldView::new("name", "部门名称", "text").required());
                v.push(FieldView::new("duties", "职责", "textarea"));
                v.push(FieldView::new("phone", "联系电话", "text"));
            }
        }
        v
    }

    /// Creates a record under `parent`; returns its key (code or id).
    pub async fn create(
        self,
        store: &Store,
        a: &Access,
        parent: Option<&str>,
        f: &Fields,
    ) -> Result<String, AppError> {
        let need_parent = || {
            parent.filter(|p| !p.trim().is_empty()).ok_or_else(|| {
                let mut e = wangge_domain::registry::FieldErrors::new();
                e.insert(
                    self.parent_field().unwrap_or("parent").to_string(),
                    "请指定上级".to_string(),
                );
                AppError::Invalid(e)
            })
        };
        Ok(match self {
            Entity::Street => {
                let i = StreetInput::parse(f, true).map_err(AppError::Invalid)?;
                store.create_street(a, &i).await?
            }
            Entity::Community => {
                let p = need_parent()?;
                let i = CommunityInput::parse(f, true).map_err(AppError::Invalid)?;
                store.create_community(a, p, &i).await?
            }
            Entity::Grid => {
                let p = need_parent()?;
                let code =
                    CommunityCode::parse(p).map_err(|e| AppError::NotFound(e.to_string()))?;
                let i = GridInput::parse(f, Some(&code)).map_err(AppError::Invalid)?;
                store.create_grid(a, p, &i).await?
            }
            Entity::Compound => {
                let p = need_parent()?;
                let i = CompoundInput::parse(f).map_err(AppError::Invalid)?;
                store.create_compound(a, p, &i).await?
            }
            Entity::Building => {
                let p = need_parent()?;
                let i = BuildingInput::parse(f).map_err(AppError::Invalid)?;
                store.create_building(a, p, &i).await?
            }
            Entity::Department => {
                let i = DepartmentInput::parse(f).map_err(AppError::Invalid)?;
                store.create_department(a, &i).await?
            }
        })
    }

    pub async fn update(
        self,
        store: &Store,
        a: &Access,
        key: &str,
        f: &Fields,
    ) -> Result<(), AppError> {
        match self {
            Entity::Street => {
                let i = StreetInput::parse(f, false).map_err(AppError::Invalid)?;
                store.update_street(a, key, &i).await?
            }
            Entity::Community => {
                let i = CommunityInput::parse(f, false).map_err(AppError::Invalid)?;
                store.update_community(a, key, &i).await?
            }
            Entity::Grid => {
                let i = GridInput::parse(f, None).map_err(AppError::Invalid)?;
                store.update_grid(a, key, &i).await?
            }
            Entity::Compound => {
                let i = CompoundInput::parse(f).map_err(AppError::Invalid)?;
                store.update_compound(a, key, &i).await?
            }
            Entity::Building => {
                let i = BuildingInput::parse(f).map_err(AppError::Invalid)?;
                store.update_building(a, key, &i).await?
            }
            Entity::Department => {
                let i = DepartmentInput::parse(f).map_err(AppError::Invalid)?;
                store.update_department(a, key, &i).await?
            }
        }
        Ok(())
    }

    pub async fn retire(
        self,
        store: &Store,
        a: &Access,
        key: &str,
        on: Option<&str>,
    ) -> Result<(), AppError> {
        let on = match on.map(str::trim).filter(|s| !s.is_empty()) {
            Some(d) => Some(Date::parse(d).map_err(|e| {
                let mut f = wangge_domain::registry::FieldErrors::new();
                f.insert("valid_to".into(), e.to_string());
                AppError::Invalid(f)
            })?),
            None => None,
        };
        match self {
            Entity::Street => store.retire_street(a, key, on).await?,
            Entity::Community => store.retire_community(a, key, on).await?,
            Entity::Grid => store.retire_grid(a, key, on).await?,
            Entity::Compound => store.retire_compound(a, key, on).await?,
            Entity::Building => store.retire_building(a, key, on).await?,
            Entity::Department => store.retire_department(a, key, on).await?,
        }
        Ok(())
    }

    /// The record as JSON.
    pub async fn get(
        self,
        store: &Store,
        a: &Access,
        key: &str,
    ) -> Result<serde_json::Value, AppError> {
        let v = match self {
            Entity::Street => serde_json::to_value(store.street(a, key).await?),
            Entity::Community => serde_json::to_value(store.community_page(a, key).await?),
            Entity::Grid => serde_json::to_value(store.grid_page(a, key).await?),
            Entity::Compound => serde_json::to_value(store.compound_page(a, key).await?),
            Entity::Building => serde_json::to_value(store.building(a, key).await?),
            Entity::Department => serde_json::to_value(store.department(a, key).await?),
        };
        v.map_err(|e| {
            tracing::error!(error = %e, "serialising a record");
            AppError::Internal
        })
    }

    /// The record's current values as form fields, and the page to return to. A retired record
    /// is history: it has no values to edit (409, saying since when).
    pub async fn current(
        self,
        store: &Store,
        a: &Access,
        key: &str,
    ) -> Result<(Fields, String, String), AppError> {
        let mut f = Fields::new();
        let retired: Option<String>;
        let mut put = |k: &str, v: Option<String>| {
            f.insert(k.to_string(), v.unwrap_or_default());
        };
        let (title, back) = match self {
            Entity::Street => {
                let s = store.street(a, key).await?.street;
                retired = s.valid_to.clone();
                put("name", Some(s.name.clone()));
                put("valid_from", Some(s.valid_from.clone()));
                (s.name, format!("/streets/{key}"))
            }
            Entity::Community => {
                let c = store.community(a, key).await?;
                retired = c.valid_to.clone();
                put("name", Some(c.name.clone()));
                put("kind", Some(c.kind.clone()));
                put("tier", c.tier.clone());
                put("centre_location", c.centre_location.clone());
                put("centre_area", c.centre_area.map(|a| a.to_string()));
                put("hall_area", c.hall_area.map(|a| a.to_string()));
                put("boundary_east", c.boundary.east.clone());
                put("boundary_north", c.boundary.north.clone());
                put("boundary_west", c.boundary.west.clone());
                put("boundary_south", c.boundary.south.clone());
                put("valid_from", Some(c.valid_from.clone()));
                (c.name, format!("/communities/{key}"))
            }
            Entity::Grid => {
                let g = store.grid(a, key).await?;
                retired = g.valid_to.clone();
                put("name", Some(g.name.clone()));
                put("kind", Some(g.kind.clone()));
                put("tier", g.tier.clone());
                put("valid_from", Some(g.valid_from.clone()));
                (g.name, format!("/grids/{key}"))
            }
            Entity::Compound => {
                let m = store.compound(a, key).await?;
                retired = m.valid_to.clone();
                put("name", Some(m.name.clone()));
                put("kind", Some(m.kind.clone()));
                put("grid", m.grid_code.clone());
                put("households", Some(m.households.to_string()));
                put("population", Some(m.population.to_string()));
                put(
                    "residential_area",
                    m.residential_area.map(|a| a.to_string()),
                );
                put(
                    "has_property_management",
                    Some(if m.has_property_management { "on" } else { "" }.into()),
                );
                put("property_company", m.property_company.clone());
                put("geometry", store.compound_geometry(a, key).await?);
                (m.name, format!("/compounds/{key}"))
            }
            Entity::Building => {
                let b = store.building(a, key).await?;
                retired = b.valid_to.clone();
                put("name", Some(b.name.clone()));
                put("entrances", b.entrances.map(|n| n.to_string()));
                put("floors", b.floors.map(|n| n.to_string()));
                put("households", b.households.map(|n| n.to_string()));
                (b.name, format!("/compounds/{}", b.compound_id))
            }
            Entity::Department => {
                let d = store.department(a, key).await?;
                retired = d.valid_to.clone();
                put("name", Some(d.name.clone()));
                put("duties", d.duties.clone());
                put("phone", d.phone.clone());
                (d.name, "/departments".to_string())
            }
        };
        if let Some(day) = retired {
            return Err(AppError::Conflict(format!(
                "{}“{title}”已于 {day} 撤销，仅作历史记录，不能修改",
                self.label()
            )));
        }
        Ok((f, title, back))
    }

    /// The page of a record after it was created or changed.
    pub async fn page_of(self, store: &Store, a: &Access, key: &str) -> Result<String, AppError> {
        Ok(match self {
            Entity::Street => format!("/streets/{key}"),
            Entity::Community => format!("/communities/{key}"),
            Entity::Grid => format!("/grids/{key}"),
            Entity::Compound => format!("/compounds/{key}"),
            Entity::Building => format!("/compounds/{}", store.building(a, key).await?.compound_id),
            Entity::Department => "/departments".to_string(),
        })
    }
}
