//! The registry's records and the forms that create and edit them.
//!
//! A form arrives as text fields (a web form, a JSON body, a spreadsheet row); `parse` turns it
//! into a valid input or into every field's error, keyed by the field's name, so that the page
//! can show each message next to its field. The store only ever receives parsed inputs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::code::{CommunityCode, GridCode, StreetCode};
use crate::place::{
    Boundary, CommunityKind, CompoundKind, Date, FieldError, GridKind, Tier, parse_area,
    parse_count, parse_geometry, parse_name, parse_optional_text,
};

/// Field name → message, for users (zh-CN).
pub type FieldErrors = BTreeMap<String, String>;

/// Text fields of a form, by name.
pub type Fields = BTreeMap<String, String>;

struct Form<'a> {
    fields: &'a Fields,
    errors: FieldErrors,
}

impl<'a> Form<'a> {
    fn new(fields: &'a Fields) -> Self {
        Form {
            fields,
            errors: FieldErrors::new(),
        }
    }

    fn raw(&self, name: &str) -> &'a str {
        self.fields.get(name).map(|s| s.trim()).unwrap_or("")
    }

    fn take<T>(&mut self, name: &str, r: Result<T, impl ToString>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.insert(name.to_string(), e.to_string());
                None
            }
        }
    }

    fn name(&mut self, field: &str, max: usize) -> Option<String> {
        let r = parse_name(self.raw(field), max);
        self.take(field, r)
    }

    fn text(&mut self, field: &str, max: usize) -> Option<String> {
        let r = parse_optional_text(self.raw(field), max);
        self.take(field, r).flatten()
    }

    fn count(&mut self, field: &str) -> Option<i64> {
        let r = parse_count(self.raw(field));
        self.take(field, r)
    }

    /// A count no larger than `max`: a typo of a few extra digits is an error, not a
    /// figure that the county's totals then carry.
    fn count_at_most(&mut self, field: &str, max: i64) -> Option<i64> {
        let r = parse_count(self.raw(field)).and_then(|n| {
            if n > max {
                Err(FieldError::TooLarge {
                    max,
                    value: n.to_string(),
                })
            } else {
                Ok(n)
            }
        });
        self.take(field, r)
    }

    fn area_at_most(&mut self, field: &str, max: f64) -> Option<f64> {
        let r = parse_area(self.raw(field)).and_then(|a| match a {
            Some(a) if a > max => Err(FieldError::TooLarge {
                max: max as i64,
                value: self.raw(field).to_string(),
            }),
            a => Ok(a),
        });
        self.take(field, r).flatten()
    }

    fn optional_count(&mut self, field: &str) -> Option<i64> {
        if self.raw(field).is_empty() {
            None
        } else {
            self.count(field)
        }
    }

    fn area(&mut self, field: &str) -> Option<f64> {
        let r = parse_area(self.raw(field));
        self.take(field, r).flatten()
    }

    fn flag(&mut self, field: &str) -> bool {
        matches!(self.raw(field), "true" | "on" | "1" | "yes" | "是" | "有")
    }

    fn date(&mut self, field: &str) -> Option<Date> {
        if self.raw(field).is_empty() {
            None
        } else {
            let r = Date::parse(self.raw(field));
            self.take(field, r)
        }
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, FieldErrors> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(self.errors),
        }
    }
}

/// 街道 as created or edited. The code is given only on creation.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetInput {
    pub code: Option<StreetCode>,
    pub name: String,
    /// 启用: when the street started (one that existed before the system may start earlier);
    /// `None` on creation is today, on an edit unchanged.
    pub valid_from: Option<Date>,
}

impl StreetInput {
    pub fn parse(f: &Fields, creating: bool) -> Result<StreetInput, FieldErrors> {
        let mut form = Form::new(f);
        let code = if creating {
            let r = StreetCode::parse(form.raw("code"));
            form.take("code", r)
        } else {
            None
        };
        let name = form.name("name", 50);
        let valid_from = form.date("valid_from");
        let ok = (code.is_some() || !creating) && name.is_some();
        form.finish(ok.then(|| StreetInput {
            code,
            name: name.unwrap_or_default(),
            valid_from,
        }))
    }
}

/// 社区 as created or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct CommunityInput {
    pub code: Option<CommunityCode>,
    pub name: String,
    pub kind: CommunityKind,
    pub tier: Option<Tier>,
    pub centre_location: Option<String>,
    pub centre_area: Option<f64>,
    pub hall_area: Option<f64>,
    pub boundary: Boundary,
    /// 启用日期: blank on creation is today; on an edit, unchanged.
    pub valid_from: Option<Date>,
}

impl CommunityInput {
    pub fn parse(f: &Fields, creating: bool) -> Result<CommunityInput, FieldErrors> {
        let mut form = Form::new(f);
        let code = if creating {
            let r = CommunityCode::parse(form.raw("code"));
            form.take("code", r)
        } else {
            None
        };
        let name = form.name("name", 50);
        let kind = if form.raw("kind").is_empty() {
            Some(CommunityKind::Urban)
        } else {
            let r = CommunityKind::parse(form.raw("kind"));
            form.take("kind", r)
        };
        let tier = optional_tier(&mut form);
        let centre_location = form.text("centre_location", 100);
        let centre_area = form.area("centre_area");
        let hall_area = form.area("hall_area");
        if let (Some(c), Some(h)) = (centre_area, hall_area)
            && h > c
        {
            form.errors.insert(
                "hall_area".into(),
                format!("服务大厅面积（{h}）不能大于服务中心总面积（{c}）"),
            );
        }
        let boundary = Boundary {
            east: form.text("boundary_east", 200),
            north: form.text("boundary_north", 200),
            west: form.text("boundary_west", 200),
            south: form.text("boundary_south", 200),
        };
        let valid_from = form.date("valid_from");
        let ok = (code.is_some() || !creating) && name.is_some() && kind.is_some();
        form.finish(ok.then(|| CommunityInput {
            code,
            name: name.unwrap_or_default(),
            kind: kind.unwrap_or(CommunityKind::Urban),
            tier,
            centre_location,
            centre_area,
            hall_area,
            boundary,
            valid_from,
        }))
    }
}

fn optional_tier(form: &mut Form<'_>) -> Option<Tier> {
    if form.raw("tier").is_empty() {
        None
    } else {
        let r = Tier::parse(form.raw("tier"));
        form.take("tier", r)
    }
}

/// 网格 as created or edited. On creation an empty code means "the next free sequence".
#[derive(Debug, Clone, PartialEq)]
pub struct GridInput {
    pub code: Option<GridCode>,
    pub name: String,
    pub kind: GridKind,
    pub tier: Option<Tier>,
    pub valid_from: Option<Date>,
}

impl GridInput {
    pub fn parse(f: &Fields, creating: Option<&CommunityCode>) -> Result<GridInput, FieldErrors> {
        let mut form = Form::new(f);
        let code = match creating {
            Some(community) if !form.raw("code").is_empty() => {
                let r = GridCode::parse_under(form.raw("code"), community);
                form.take("code", r)
            }
            _ => None,
        };
        let name = form.name("name", 50);
        let kind = if form.raw("kind").is_empty() {
            Some(GridKind::Urban)
        } else {
            let r = GridKind::parse(form.raw("kind"));
            form.take("kind", r)
        };
        let tier = optional_tier(&mut form);
        let valid_from = form.date("valid_from");
        let ok = name.is_some() && kind.is_some();
        form.finish(ok.then(|| GridInput {
            code,
            name: name.unwrap_or_default(),
            kind: kind.unwrap_or(GridKind::Urban),
            tier,
            valid_from,
        }))
    }
}

/// Plausibility limits for one compound (小区) or village as typed in: far above any real one
/// (the largest compounds have a few tens of thousands of households), low enough that a
/// slip of extra digits is caught instead of entering the county's totals.
pub const COMPOUND_MAX_HOUSEHOLDS: i64 = 100_000;
pub const COMPOUND_MAX_POPULATION: i64 = 500_000;
/// Square metres of residential floor area.
pub const COMPOUND_MAX_AREA: f64 = 50_000_000.0;

/// 小区 / 村庄 / 居民小组 as created or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundInput {
    pub name: String,
    pub kind: CompoundKind,
    /// The grid it lies in; `None` while not yet assigned.
    pub grid: Option<GridCode>,
    pub households: i64,
    pub population: i64,
    pub residential_area: Option<f64>,
    pub has_property_management: bool,
    pub property_company: Option<String>,
    /// The boundary: a field left out keeps it, an empty one clears it.
    pub geometry: GeometryEdit,
}

/// What an edit does to a compound's boundary.
#[derive(Debug, Clone, PartialEq)]
pub enum GeometryEdit {
    /// The field was not sent: the boundary stays as it is.
    Keep,
    /// The field was sent empty.
    Clear,
    /// GeoJSON geometry, compact (see [`crate::place::parse_geometry`]).
    Set(String),
}

impl CompoundInput {
    pub fn parse(f: &Fields) -> Result<CompoundInput, FieldErrors> {
        let mut form = Form::new(f);
        let name = form.name("name", 80);
        let kind = if form.raw("kind").is_empty() {
            Some(CompoundKind::Compound)
        } else {
            let r = CompoundKind::parse(form.raw("kind"));
            form.take("kind", r)
        };
        let grid = if form.raw("grid").is_empty() {
            None
        } else {
            let r = GridCode::parse(form.raw("grid"));
            form.take("grid", r)
        };
        let households = form.count_at_most("households", COMPOUND_MAX_HOUSEHOLDS);
        let population = form.count_at_most("population", COMPOUND_MAX_POPULATION);
        let residential_area = form.area_at_most("residential_area", COMPOUND_MAX_AREA);
        if let (Some(h), Some(p)) = (households, population)
            && p > 0
            && p < h
        {
            form.errors.insert(
                "population".into(),
                format!("人口 {p} 少于户数 {h}：每户至少一人，请核对（人口不详可填 0）"),
            );
        }
        let has_property_management = form.flag("has_property_management");
        let property_company = form.text("property_company", 100);
        if property_company.is_some() && !has_property_management {
            form.errors.insert(
                "property_company".into(),
                "填写了物业企业，请同时勾选“有物业管理”".into(),
            );
        }
        let geometry = match f.get("geometry").map(|g| g.trim()) {
            None => Some(GeometryEdit::Keep),
            Some("") => Some(GeometryEdit::Clear),
            Some(g) => {
                let r = parse_geometry(g).map(GeometryEdit::Set);
                form.take("geometry", r)
            }
        };
        let ok = name.is_some()
            && kind.is_some()
            && households.is_some()
            && population.is_some()
            && geometry.is_some();
        form.finish(ok.then(|| CompoundInput {
            geometry: geometry.unwrap_or(GeometryEdit::Keep),
            name: name.unwrap_or_default(),
            kind: kind.unwrap_or(CompoundKind::Compound),
            grid,
            households: households.unwrap_or(0),
            population: population.unwrap_or(0),
            residential_area,
            has_property_management,
            property_company,
        }))
    }
}

/// 楼栋 as created or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingInput {
    pub name: String,
    pub entrances: Option<i64>,
    pub floors: Option<i64>,
    pub households: Option<i64>,
}

impl BuildingInput {
    pub fn parse(f: &Fields) -> Result<BuildingInput, FieldErrors> {
        let mut form = Form::new(f);
        let name = form.name("name", 50);
        let entrances = form.optional_count("entrances");
        let floors = form.optional_count("floors");
        let households = form.optional_count("households");
        form.finish(name.map(|name| BuildingInput {
            name,
            entrances,
            floors,
            households,
        }))
    }
}

/// 职能部门 as created or edited.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentInput {
    pub name: String,
    pub duties: Option<String>,
    pub phone: Option<String>,
}

impl DepartmentInput {
    pub fn parse(f: &Fields) -> Result<DepartmentInput, FieldErrors> {
        let mut form = Form::new(f);
        let name = form.name("name", 50);
        let duties = form.text("duties", 500);
        let phone = form.text("phone", 30);
        form.finish(name.map(|name| DepartmentInput {
            name,
            duties,
            phone,
        }))
    }
}

/// A staff assignment (人员配备) as entered: a person in a role at a grid of the community, or
/// at the community itself (general social workers, staff sent down).
#[derive(Debug, Clone, PartialEq)]
pub struct StaffInput {
    pub person_name: String,
    pub role: crate::policy::StaffRole,
    /// 兼任网格警务助理: the person also holds the police-assistant role at the same grid.
    pub also_police_assistant: bool,
    pub grid: Option<GridCode>,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl StaffInput {
    pub fn parse(f: &Fields) -> Result<StaffInput, FieldErrors> {
        let mut form = Form::new(f);
        let person_name = form.name("person_name", 30);
        let role = match crate::policy::StaffRole::parse(form.raw("role")) {
            Some(r) => Some(r),
            None => {
                let choices: Vec<&str> = crate::policy::StaffRole::ALL
                    .iter()
                    .map(|r| r.label())
                    .collect();
                form.errors.insert(
                    "role".into(),
                    format!(
                        "“{}”不是有效的岗位，可选：{}",
                        form.raw("role"),
                        choices.join("、")
                    ),
                );
                None
            }
        };
        let grid = if form.raw("grid").is_empty() {
            None
        } else {
            let r = GridCode::parse(form.raw("grid"));
            form.take("grid", r)
        };
        if let Some(r) = role
            && r.at_grid()
            && grid.is_none()
            && !form.errors.contains_key("grid")
        {
            form.errors
                .insert("grid".into(), format!("{}须指定所在网格", r.label()));
        }
        let also_police_assistant = form.flag("also_police_assistant");
        let from = form.date("from");
        let to = form.date("to");
        if let (Some(a), Some(b)) = (from, to)
            && b < a
        {
            form.errors
                .insert("to".into(), "结束日期不能早于开始日期".into());
        }
        let ok = person_name.is_some() && role.is_some();
        form.finish(ok.then(|| StaffInput {
            person_name: person_name.unwrap_or_default(),
            role: role.unwrap_or(crate::policy::StaffRole::GridWorker),
            also_police_assistant,
            grid,
            from,
            to,
        }))
    }
}

/// The figures 附件2 gives per community and per street, as the registry holds them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    pub communities: i64,
    pub grids: i64,
    pub compounds: i64,
    pub households: i64,
    pub population: i64,
}

impl Figures {
    pub fn add(&mut self, o: &Figures) {
        self.communities += o.communities;
        self.grids += o.grids;
        self.compounds += o.compounds;
        self.households += o.households;
        self.population += o.population;
    }
}

/// The name a new grid gets until someone names it: the community's name without 社区, then
/// 第 n 网格 (宝昌社区, 2 → 宝昌第2网格), as the county's grids are named.
pub fn default_grid_name(community_name: &str, n: u32) -> String {
    let short = community_name
        .strip_suffix("社区")
        .unwrap_or(community_name);
    format!("{short}第{n}网格")
}

/// A community's figures: registered places when there are any, else the figures an
/// imported 附件2 table declared for it.
pub fn effective_figures(
    live_grids: i64,
    live_compounds: i64,
    households: i64,
    population: i64,
    declared: Option<&Figures>,
) -> Figures {
    let d = declared.copied().unwrap_or_default();
    let (compounds, households, population) = if live_compounds > 0 || declared.is_none() {
        (live_compounds, households, population)
    } else {
        (d.compounds, d.households, d.population)
    };
    Figures {
        communities: 1,
        grids: if live_grids > 0 || declared.is_none() {
            live_grids
        } else {
            d.grids
        },
        compounds,
        households,
        population,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_grids_are_named_after_their_community() {
        assert_eq!(super::default_grid_name("宝昌社区", 2), "宝昌第2网格");
        assert_eq!(super::default_grid_name("大林村", 10), "大林村第10网格");
    }

    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_bad_field_is_named() {
        let errs = CommunityInput::parse(
            &fields(&[
                ("code", "37072500100A"),
                ("name", ""),
                ("kind", "乡村"),
                ("centre_area", "-5"),
            ]),
            true,
        )
        .unwrap_err();
        assert_eq!(
            errs.keys().collect::<Vec<_>>(),
            vec!["centre_area", "code", "kind", "name"]
        );
        assert_eq!(errs["code"], "社区代码只能由数字组成，现为“37072500100A”");
    }

    #[test]
    fn a_grid_code_must_lie_under_its_community() {
        let c = CommunityCode::parse("370725001001").unwrap();
        let e = GridInput::parse(
            &fields(&[("code", "370725001002001"), ("name", "甲")]),
            Some(&c),
        )
        .unwrap_err();
        assert!(e["code"].contains("应以上级代码“370725001001”开头"));
        let g =
            GridInput::parse(&fields(&[("name", "甲"), ("kind", "农村网格")]), Some(&c)).unwrap();
        assert_eq!((g.code, g.kind), (None, GridKind::Rural));
    }

    #[test]
    fn compounds() {
        let c = CompoundInput::parse(&fields(&[
            ("name", "蓝宝石花园"),
            ("households", "1,200"),
            ("population", "4200"),
            ("has_property_management", "on"),
            ("property_company", "宝都物业"),
        ]))
        .unwrap();
        assert_eq!(c.households, 1200);
        assert!(c.has_property_management);
        let e =
            CompoundInput::parse(&fields(&[("name", "甲"), ("households", "很多")])).unwrap_err();
        assert_eq!(e["households"], "应为非负整数，现为“很多”");
        assert_eq!(e["population"], "不能为空");
        let e = CompoundInput::parse(&fields(&[
            ("name", "甲"),
            ("households", "99999999999"),
            ("population", "1"),
            ("residential_area", "99999999999999999999"),
        ]))
        .unwrap_err();
        assert_eq!(
            e["households"],
            "不能大于 100000，现为 99999999999（请核对）"
        );
        assert!(e["residential_area"].starts_with("不能大于"), "{e:?}");
        let e = CompoundInput::parse(&fields(&[
            ("name", "甲"),
            ("households", "２２７５"),
            ("population", "1"),
        ]))
        .unwrap_err();
        assert_eq!(
            e["population"],
            "人口 1 少于户数 2275：每户至少一人，请核对（人口不详可填 0）"
        );
    }

    #[test]
    fn declared_figures_stand_in_for_unregistered_places() {
        let d = Figures {
            communities: 1,
            grids: 9,
            compounds: 10,
            households: 4350,
            population: 15225,
        };
        assert_eq!(effective_figures(0, 0, 0, 0, Some(&d)), d);
        let f = effective_figures(2, 3, 100, 300, Some(&d));
        assert_eq!((f.grids, f.compounds, f.households), (2, 3, 100));
    }
}
