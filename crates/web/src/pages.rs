//! The pages: overview → street → community → grid → compound, the forms that create, edit
//! and retire each level, search, and the 附件2 table's upload and download.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form};
use serde::Deserialize;
use wangge_domain::access::Permission;
use wangge_domain::annex2::CellError;
use wangge_domain::registry::{FieldErrors, Fields};
use wangge_domain::{CountyCode, demo};
use wangge_store::{
    CommunityPage, CompoundPage, Department, GridPage, ImportSummary, Overview, SearchHit,
    StreetOverview,
};

use crate::auth::render;
use crate::entity::{Entity, FieldView};
use crate::error::{AppError, PageError};
use crate::{Principal, SharedState};

type PageResult = Result<Response, PageError>;

pub(crate) fn routes() -> crate::Routes {
    crate::Routes::new()
        .route("/", &["GET"], get(overview))
        .route("/county", &["POST"], post(set_county))
        .route("/streets/{code}", &["GET"], get(street))
        .route("/communities/{code}", &["GET"], get(community))
        .route("/grids/{code}", &["GET"], get(grid))
        .route("/compounds/{id}", &["GET"], get(compound))
        .route("/communities/{code}/staff", &["POST"], post(add_staff))
        .route("/staff/{id}/end", &["POST"], post(end_staff))
        .route("/departments", &["GET"], get(departments))
        .route("/search", &["GET"], get(search))
        .route(
            "/new/{entity}",
            &["GET", "POST"],
            get(new_form).post(create),
        )
        .route(
            "/edit/{entity}/{key}",
            &["GET", "POST"],
            get(edit_form).post(update),
        )
        .route("/retire/{entity}/{key}", &["POST"], post(retire))
        .route("/import", &["GET", "POST"], get(import_form).post(import))
        .route("/export/communities.xlsx", &["GET"], get(export_xlsx))
        .route("/export/communities.csv", &["GET"], get(export_csv))
}

/// What every page's frame needs: who is logged in, the form token, which menus to show.
pub struct Me {
    pub username: String,
    pub csrf: String,
    pub users: bool,
    pub roles: bool,
    pub audit: bool,
    pub import: bool,
    pub registry: bool,
    pub budget: bool,
    pub people: bool,
    pub people_write: bool,
}

impl Me {
    pub fn of(p: &Principal) -> Me {
        let can = |x| p.access.can_somewhere(x);
        Me {
            username: p.username.clone(),
            csrf: p.csrf_token.clone(),
            users: can(Permission::UserManage) || can(Permission::RoleManage),
            roles: can(Permission::RoleManage),
            audit: can(Permission::AuditRead),
            import: can(Permission::RegistryImport),
            registry: can(Permission::RegistryRead),
            budget: can(Permission::BudgetRead),
            people: can(Permission::PersonRead),
            people_write: can(Permission::PersonWrite),
        }
    }
}

/// A link in the breadcrumb trail.
pub struct Crumb {
    pub label: String,
    pub href: String,
}

fn crumbs(items: &[(&str, String)]) -> Vec<Crumb> {
    let mut v = vec![Crumb {
        label: "总览".into(),
        href: "/".into(),
    }];
    v.extend(items.iter().map(|(l, h)| Crumb {
        label: l.to_string(),
        href: h.clone(),
    }));
    v
}

/// The trail with the links the user may not follow (a street, community or grid outside
/// what he may read) left as plain text: a grid worker's trail names his community and
/// street without leading to pages that would refuse him.
pub(crate) fn readable_trail(p: &Principal, mut trail: Vec<Crumb>) -> Vec<Crumb> {
    for c in &mut trail {
        let code = ["/streets/", "/communities/", "/grids/"]
            .iter()
            .find_map(|prefix| c.href.strip_prefix(prefix));
        if let Some(code) = code
            && !code.contains(['/', '?'])
            && !p.access.can(Permission::RegistryRead, code)
        {
            c.href.clear();
        }
    }
    trail
}

/// A bar of the households chart, laid out on the server.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub label: String,
    pub value: i64,
    pub href: String,
}

/// Bars of a chart 640 wide and 160 high (plus labels), one per item.
fn bars(items: &[(String, i64, String)]) -> Vec<Bar> {
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let n = items.len().max(1) as i64;
    let slot = (640 / n).max(8);
    items
        .iter()
        .enumerate()
        .map(|(i, (label, value, href))| {
            let h = value * 150 / max;
            Bar {
                x: i as i64 * slot + (slot - (slot - 4).clamp(2, 60)) / 2,
                y: 160 - h,
                w: (slot - 4).clamp(2, 60),
                h,
                label: label.clone(),
                value: *value,
                href: href.clone(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    me: Me,
    crumbs: Vec<Crumb>,
    o: Overview,
    note: &'static str,
    bars: Vec<Bar>,
    people: Option<crate::care::PeopleSection>,
    /// May compare household standards over the county (reads all of it).
    can_compare: bool,
    /// May create a street (write on the county) / export 附件2.
    can_create_street: bool,
    can_export: bool,
    /// The places and departments the user works in, below the county: (what, link).
    mine: Vec<(String, String)>,
    /// The streets whose pages the user may open.
    open_streets: Vec<String>,
    /// For a user whose roles open nothing here (a department's staff before their
    /// permissions are set): his roles, in words.
    nothing_open: Option<String>,
}

/// The user's places and departments below the county that he may open, as links: a grid
/// worker's grid, a community's staff their community, a department's staff its grids.
async fn my_places(s: &SharedState, p: &Principal) -> Result<Vec<(String, String)>, AppError> {
    use wangge_domain::access::ScopeKind;
    let departments = s.store.department_names().await?;
    let mut out: Vec<(String, String)> = Vec::new();
    for g in p.access.grants() {
        let key = &g.scope.key;
        let readable = match g.scope.kind {
            ScopeKind::Department => p.access.can_in_department(Permission::RegistryRead, key),
            _ => p.access.can(Permission::RegistryRead, key),
        };
        if !readable {
            continue;
        }
        let href = match g.scope.kind {
            ScopeKind::County => continue,
            ScopeKind::Street => format!("/streets/{key}"),
            ScopeKind::Community => format!("/communities/{key}"),
            ScopeKind::Grid => format!("/grids/{key}"),
            ScopeKind::Department => format!("/departments/{key}/grids"),
        };
        if out.iter().any(|(_, h)| *h == href) {
            continue;
        }
        // The place by its name, with its code (by its code alone if it cannot be read).
        let name = match g.scope.kind {
            ScopeKind::Department => departments.get(key.as_str()).cloned(),
            ScopeKind::Street => s
                .store
                .street(&p.access, key)
                .await
                .ok()
                .map(|x| x.street.name),
            ScopeKind::Community => s.store.community(&p.access, key).await.ok().map(|x| x.name),
            ScopeKind::Grid => s.store.grid(&p.access, key).await.ok().map(|x| x.name),
            ScopeKind::County => None,
        };
        let label = match (name, g.scope.kind) {
            (Some(name), ScopeKind::Department) => format!("{}：{name}", g.role.label()),
            (Some(name), _) => format!("{}：{name}（{key}）", g.role.label()),
            (None, kind) => format!("{}：{} {key}", g.role.label(), kind.label()),
        };
        out.push((label, href));
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    me: Me,
    crumbs: Vec<Crumb>,
    error: Option<String>,
    code: String,
    name: String,
}

async fn overview(State(s): State<SharedState>, Extension(p): Extension<Principal>) -> PageResult {
    let Some(county) = s.store.county().await? else {
        return Ok(render(&SetupPage {
            me: Me::of(&p),
            crumbs: crumbs(&[]),
            error: None,
            code: String::new(),
            name: String::new(),
        }));
    };
    let o = s.store.overview(&p.access).await?;
    let names: Vec<(String, String, String)> = o
        .streets
        .iter()
        .map(|st| {
            (
                st.street.code.clone(),
                st.street.name.clone(),
                format!("/streets/{}", st.street.code),
            )
        })
        .collect();
    let people = crate::care::PeopleSection::load(&s, &p, &county.code, &names).await?;
    let open_streets: Vec<String> = o
        .streets
        .iter()
        .map(|st| st.street.code.clone())
        .filter(|c| p.access.can(Permission::RegistryRead, c))
        .collect();
    let bars = bars(
        &o.streets
            .iter()
            .map(|st| {
                (
                    st.street.name.clone(),
                    st.street.figures.households,
                    if open_streets.contains(&st.street.code) {
                        format!("/streets/{}", st.street.code)
                    } else {
                        String::new()
                    },
                )
            })
            .collect::<Vec<_>>(),
    );
    let mine = my_places(&s, &p).await?;
    let nothing_open = if mine.is_empty() && o.streets.is_empty() {
        let departments = s.store.department_names().await?;
        let roles: Vec<String> = p
            .access
            .grants()
            .map(|g| {
                format!(
                    "{}（{}）",
                    g.role.label(),
                    crate::admin::scope_text(g, &departments)
                )
            })
            .collect();
        Some(if roles.is_empty() {
            "您的账号还没有角色。".to_string()
        } else {
            format!("您的角色：{}。", roles.join("、"))
        })
    } else {
        None
    };
    Ok(render(&OverviewPage {
        me: Me::of(&p),
        crumbs: crumbs(&[]),
        note: if county.demo {
            demo::PLACEHOLDER_NOTE
        } else {
            ""
        },
        can_compare: p.access.can(
            wangge_domain::access::Permission::RegistryRead,
            &county.code,
        ),
        can_create_street: p.access.can(Permission::RegistryWrite, &county.code),
        can_export: p.access.can_somewhere(Permission::RegistryExport),
        mine,
        nothing_open,
        open_streets,
        o,
        bars,
        people,
    }))
}

#[derive(Deserialize)]
struct CountyForm {
    code: String,
    name: String,
}

async fn set_county(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Form(f): Form<CountyForm>,
) -> PageResult {
    let result = match CountyCode::parse(&f.code) {
        Err(e) => Err(e.to_string()),
        Ok(code) if f.name.trim().is_empty() => {
            let _ = code;
            Err("县（区）名称不能为空".to_string())
        }
        Ok(code) => match s
            .store
            .set_county(&p.access, &p.user_id, &code, f.name.trim())
            .await
        {
            Ok(()) => Ok(()),
            Err(wangge_store::StoreError::Invalid(e)) => {
                Err(e.values().cloned().collect::<Vec<_>>().join("；"))
            }
            Err(e) => return Err(e.into()),
        },
    };
    match result {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(error) => {
            let mut res = render(&SetupPage {
                me: Me::of(&p),
                crumbs: crumbs(&[]),
                error: Some(error),
                code: f.code,
                name: f.name,
            });
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

#[derive(Template)]
#[template(path = "street.html")]
struct StreetPage {
    me: Me,
    crumbs: Vec<Crumb>,
    s: StreetOverview,
    bars: Vec<Bar>,
    people: Option<crate::care::PeopleSection>,
    /// What adopting the street's grid plans just did.
    notice: Option<String>,
    /// May add communities, edit or retire the street.
    can_write: bool,
}

/// What a page says after a grid plan was adopted and the browser sent back to it
/// (`?adopted=kept,created,retired,compounds,households`, as the adopt form's redirect
/// writes it).
#[derive(serde::Deserialize, Default)]
pub(crate) struct AdoptedQuery {
    adopted: Option<String>,
}

impl AdoptedQuery {
    fn notice(&self) -> Option<String> {
        let n: Vec<u64> = self
            .adopted
            .as_deref()?
            .split(',')
            .map(|x| x.trim().parse().ok())
            .collect::<Option<_>>()?;
        let [kept, created, retired, moved, households] = n[..] else {
            return None;
        };
        Some(format!(
            "网格划分方案已采用：保留网格 {kept} 个，启用新编码的网格 {created} 个，撤销 {retired} 个；{moved} 个小区、{households} 户住户调整了所属网格。被撤销的网格列在“历史网格”中。"
        ))
    }

    /// The query for a page to show what adopting did.
    pub(crate) fn of(a: &wangge_store::AdoptSummary) -> String {
        format!(
            "adopted={},{},{},{},{}",
            a.kept, a.created, a.retired, a.moved, a.households_moved
        )
    }
}

async fn street(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<AdoptedQuery>,
) -> PageResult {
    let st = s.store.street(&p.access, &code).await?;
    let bars = bars(
        &st.communities
            .iter()
            .map(|c| {
                (
                    c.name.trim_end_matches("社区").to_string(),
                    c.figures.households,
                    format!("/communities/{}", c.code),
                )
            })
            .collect::<Vec<_>>(),
    );
    let names: Vec<(String, String, String)> = st
        .communities
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                c.name.clone(),
                format!("/communities/{}", c.code),
            )
        })
        .collect();
    let people = crate::care::PeopleSection::load(&s, &p, &code, &names).await?;
    Ok(render(&StreetPage {
        me: Me::of(&p),
        crumbs: crumbs(&[(&st.street.name, String::new())]),
        s: st,
        bars,
        people,
        notice: q.notice(),
        can_write: p.access.can(Permission::RegistryWrite, &code),
    }))
}

#[derive(Template)]
#[template(path = "community.html")]
struct CommunityView {
    me: Me,
    crumbs: Vec<Crumb>,
    c: CommunityPage,
    staff: Vec<wangge_store::StaffRow>,
    roles: Vec<(&'static str, &'static str)>,
    can_write: bool,
    staff_error: Option<String>,
    /// What the staff form held when it was refused, to fill it again.
    staff_form: Fields,
    /// What adopting a grid plan just did here.
    notice: Option<String>,
    people: Option<crate::care::PeopleSection>,
}

impl CommunityView {
    /// A staff form field as the user last typed it.
    fn sv(&self, k: &str) -> &str {
        self.staff_form.get(k).map_or("", String::as_str)
    }
}

async fn community(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<AdoptedQuery>,
) -> PageResult {
    community_view(&s, &p, &code, None, q.notice(), Fields::new()).await
}

async fn community_view(
    s: &SharedState,
    p: &Principal,
    code: &str,
    staff_error: Option<String>,
    notice: Option<String>,
    staff_form: Fields,
) -> PageResult {
    let c = s.store.community_page(&p.access, code).await?;
    let staff = s.store.community_staff(&p.access, code).await?;
    let names: Vec<(String, String, String)> = c
        .grids
        .iter()
        .map(|g| (g.code.clone(), g.name.clone(), format!("/grids/{}", g.code)))
        .collect();
    let people = crate::care::PeopleSection::load(s, p, code, &names).await?;
    let status = if staff_error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut res = render(&CommunityView {
        me: Me::of(p),
        crumbs: readable_trail(
            p,
            crumbs(&[
                (
                    &c.community.street_name,
                    format!("/streets/{}", c.community.street_code),
                ),
                (&c.community.name, String::new()),
            ]),
        ),
        can_write: p.access.can(Permission::RegistryWrite, code),
        roles: wangge_domain::policy::StaffRole::ALL
            .iter()
            .map(|r| (r.key(), r.label()))
            .collect(),
        staff,
        staff_error,
        staff_form,
        notice,
        people,
        c,
    });
    *res.status_mut() = status;
    Ok(res)
}

async fn add_staff(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Form(values): Form<Fields>,
) -> PageResult {
    let input = match wangge_domain::registry::StaffInput::parse(&values) {
        Ok(i) => i,
        Err(e) => {
            let msg = crate::error::describe(&e);
            return community_view(&s, &p, &code, Some(msg), None, values).await;
        }
    };
    match s.store.add_staff(&p.access, &code, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/communities/{code}")).into_response()),
        Err(wangge_store::StoreError::Invalid(e)) => {
            let msg = crate::error::describe(&e);
            community_view(&s, &p, &code, Some(msg), None, values).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn end_staff(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<RetireForm>,
) -> PageResult {
    let on = match f
        .valid_to
        .as_deref()
        .map(str::trim)
        .filter(|x| !x.is_empty())
    {
        Some(d) => {
            Some(wangge_domain::Date::parse(d).map_err(|e| AppError::BadRequest(e.to_string()))?)
        }
        None => None,
    };
    let community = s.store.end_staff(&p.access, &id, on).await?;
    Ok(Redirect::to(&format!("/communities/{community}")).into_response())
}

#[derive(Template)]
#[template(path = "grid.html")]
struct GridView {
    me: Me,
    crumbs: Vec<Crumb>,
    g: GridPage,
    people: Option<crate::care::PeopleSection>,
    residents: Vec<wangge_store::ResidentView>,
    records: Vec<wangge_store::SpecialRecordView>,
    visits: Vec<wangge_store::VisitView>,
    page: usize,
    more: bool,
    /// May edit or retire the grid.
    can_write: bool,
    /// The other grids named in its compound moves that the user may open.
    readable: std::collections::HashSet<String>,
}

impl GridView {
    fn may_read(&self, code: &str) -> bool {
        self.readable.contains(code)
    }
}

async fn grid(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(page): Query<crate::people::PageQuery>,
) -> PageResult {
    let g = s.store.grid_page(&p.access, &code).await?;
    let c = &g.community;
    let crumbs = readable_trail(
        &p,
        crumbs(&[
            (&c.street_name, format!("/streets/{}", c.street_code)),
            (&c.name, format!("/communities/{}", c.code)),
            (&g.grid.name, String::new()),
        ]),
    );
    let people = crate::care::PeopleSection::load(&s, &p, &code, &[]).await?;
    let (residents, records, visits) = if people.is_some() {
        (
            s.store.grid_residents(&p.access, &code, page.page).await?,
            s.store.grid_special_records(&p.access, &code).await?,
            s.store.grid_visits(&p.access, &code, 20).await?,
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let readable = g
        .moves
        .iter()
        .flat_map(|v| [&v.from_grid, &v.to_grid])
        .flatten()
        .filter(|c| p.access.can(Permission::RegistryRead, c))
        .cloned()
        .collect();
    Ok(render(&GridView {
        me: Me::of(&p),
        crumbs,
        g,
        more: people.as_ref().is_some_and(|c| {
            page.page
                .saturating_add(1)
                .saturating_mul(wangge_store::Store::PAGE)
                < c.total.residents as usize
        }),
        page: page.page,
        can_write: p.access.can(Permission::RegistryWrite, &code),
        readable,
        people,
        residents,
        records,
        visits,
    }))
}

#[derive(Template)]
#[template(path = "compound.html")]
struct CompoundView {
    me: Me,
    crumbs: Vec<Crumb>,
    m: CompoundPage,
    /// The compound's households, for users who may read people in its grid.
    households: Option<Vec<wangge_store::HouseholdRow>>,
    can_add_household: bool,
    household_error: Option<String>,
    /// May add buildings, edit or retire the compound.
    can_write: bool,
}

async fn compound(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> PageResult {
    compound_view(&s, &p, &id, None).await
}

/// The compound's page, with an error next to the new-household form (422).
pub(crate) async fn compound_view(
    s: &SharedState,
    p: &Principal,
    id: &str,
    household_error: Option<String>,
) -> PageResult {
    let m = s.store.compound_page(&p.access, id).await?;
    let grid = m.grid.as_ref().map(|g| g.code.clone());
    let readable = m.compound.valid_to.is_none()
        && grid
            .as_deref()
            .is_some_and(|g| p.access.can(Permission::PersonRead, g));
    let households = if readable {
        Some(s.store.compound_households(&p.access, id).await?)
    } else {
        None
    };
    let can_add_household = m.compound.valid_to.is_none()
        && grid
            .as_deref()
            .is_some_and(|g| p.access.can(Permission::PersonWrite, g));
    let c = &m.community;
    let mut trail = vec![
        (
            c.street_name.as_str(),
            format!("/streets/{}", c.street_code),
        ),
        (c.name.as_str(), format!("/communities/{}", c.code)),
    ];
    if let Some(g) = &m.grid {
        trail.push((g.name.as_str(), format!("/grids/{}", g.code)));
    }
    trail.push((m.compound.name.as_str(), String::new()));
    let crumbs = readable_trail(p, crumbs(&trail));
    let can_write = p.access.can(Permission::RegistryWrite, &c.code);
    let status = if household_error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut res = render(&CompoundView {
        me: Me::of(p),
        crumbs,
        m,
        households,
        can_add_household,
        household_error,
        can_write,
    });
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Template)]
#[template(path = "departments.html")]
struct DepartmentsView {
    me: Me,
    crumbs: Vec<Crumb>,
    departments: Vec<Department>,
    /// May create and edit departments (write on the county).
    can_write: bool,
}

async fn departments(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> PageResult {
    let can_write = s
        .store
        .county()
        .await?
        .is_some_and(|c| p.access.can(Permission::RegistryWrite, &c.code));
    Ok(render(&DepartmentsView {
        me: Me::of(&p),
        crumbs: crumbs(&[("职能部门", "/departments".into())]),
        departments: s.store.departments(&p.access).await?,
        can_write,
    }))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchView {
    me: Me,
    crumbs: Vec<Crumb>,
    q: String,
    hits: Vec<SearchHit>,
    /// More matched than are listed.
    more: bool,
}

pub fn hit_href(h: &SearchHit) -> String {
    match h.level.as_str() {
        "street" => format!("/streets/{}", h.key),
        "community" => format!("/communities/{}", h.key),
        "grid" => format!("/grids/{}", h.key),
        _ => format!("/compounds/{}", h.key),
    }
}

async fn search(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    // One more than shown, to know whether there are more.
    const SHOWN: usize = 100;
    let mut hits = s.store.search(&p.access, &q.q, SHOWN as u64 + 1).await?;
    let more = hits.len() > SHOWN;
    hits.truncate(SHOWN);
    Ok(render(&SearchView {
        me: Me::of(&p),
        crumbs: crumbs(&[("搜索", "/search".into())]),
        q: q.q,
        hits,
        more,
    }))
}

// ---- forms -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    me: Me,
    crumbs: Vec<Crumb>,
    title: String,
    action: String,
    fields: Vec<FieldView>,
    back: String,
    retire_action: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct ParentQuery {
    parent: Option<String>,
}

fn entity_of(s: &str) -> Result<Entity, PageError> {
    Entity::parse(s).ok_or_else(|| PageError(AppError::NotFound(format!("没有“{s}”这一类"))))
}

/// Fills a form's fields with values and errors, and the grid choices for a compound.
async fn fill(
    s: &SharedState,
    p: &Principal,
    entity: Entity,
    creating: bool,
    values: &Fields,
    errors: &FieldErrors,
    community: Option<&str>,
) -> Result<Vec<FieldView>, PageError> {
    let mut fields = entity.fields(creating);
    for f in &mut fields {
        f.value = values.get(f.name).cloned().unwrap_or_default();
        f.error = errors.get(f.name).cloned();
        if f.name == "grid" {
            f.options = vec![(String::new(), "（暂未划入网格）".into())];
            if let Some(c) = community {
                let page = s.store.community_page(&p.access, c).await?;
                f.options.extend(
                    page.grids
                        .into_iter()
                        .map(|g| (g.code.clone(), format!("{} {}", g.code, g.name))),
                );
            }
        }
    }
    Ok(fields)
}

/// Where a new record goes back to, and the community whose grids a compound may choose.
fn parent_context(entity: Entity, parent: Option<&str>) -> (String, Option<String>) {
    let p = parent.unwrap_or("");
    match entity {
        Entity::Street => ("/".into(), None),
        Entity::Department => ("/departments".into(), None),
        Entity::Community => (format!("/streets/{p}"), None),
        Entity::Grid | Entity::Compound => (format!("/communities/{p}"), Some(p.to_string())),
        Entity::Building => (format!("/compounds/{p}"), None),
    }
}

async fn new_form(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(entity): Path<String>,
    Query(q): Query<ParentQuery>,
) -> PageResult {
    let entity = entity_of(&entity)?;
    s.store
        .may_write(&p.access, entity.plural(), q.parent.as_deref(), None)
        .await?;
    let (back, community) = parent_context(entity, q.parent.as_deref());
    let mut values = Fields::new();
    if entity == Entity::Grid {
        values.insert("kind".into(), "urban".into());
    }
    let fields = fill(
        &s,
        &p,
        entity,
        true,
        &values,
        &FieldErrors::new(),
        community.as_deref(),
    )
    .await?;
    Ok(render(&FormPage {
        me: Me::of(&p),
        crumbs: crumbs(&[]),
        title: format!("新建{}", entity.label()),
        action: new_action(entity, q.parent.as_deref()),
        fields,
        back,
        retire_action: None,
        error: None,
    }))
}

fn new_action(entity: Entity, parent: Option<&str>) -> String {
    match parent {
        Some(p) => format!("/new/{}?parent={p}", entity.plural()),
        None => format!("/new/{}", entity.plural()),
    }
}

async fn create(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(entity): Path<String>,
    Query(q): Query<ParentQuery>,
    Form(values): Form<Fields>,
) -> PageResult {
    let entity = entity_of(&entity)?;
    match entity
        .create(&s.store, &p.access, q.parent.as_deref(), &values)
        .await
    {
        Ok(key) => {
            tracing::info!(user = %p.username, entity = entity.plural(), key = %key, "created");
            Ok(Redirect::to(&entity.page_of(&s.store, &p.access, &key).await?).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let (back, community) = parent_context(entity, q.parent.as_deref());
            let fields = fill(&s, &p, entity, true, &values, &errors, community.as_deref()).await?;
            let mut res = render(&FormPage {
                me: Me::of(&p),
                crumbs: crumbs(&[]),
                title: format!("新建{}", entity.label()),
                action: new_action(entity, q.parent.as_deref()),
                fields,
                back,
                retire_action: None,
                error: Some(form_error(&errors)),
            });
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

fn form_error(errors: &FieldErrors) -> String {
    if errors.contains_key("parent")
        || errors
            .keys()
            .any(|k| k.ends_with("_code") || k == "compound_id")
    {
        format!(
            "请修改以下 {} 处后再提交：{}",
            errors.len(),
            errors.values().cloned().collect::<Vec<_>>().join("；")
        )
    } else {
        format!("请修改标出的 {} 处后再提交", errors.len())
    }
}

async fn compound_community(
    s: &SharedState,
    p: &Principal,
    entity: Entity,
    key: &str,
) -> Result<Option<String>, PageError> {
    Ok(if entity == Entity::Compound {
        Some(s.store.compound(&p.access, key).await?.community_code)
    } else {
        None
    })
}

async fn edit_form(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path((entity, key)): Path<(String, String)>,
) -> PageResult {
    let entity = entity_of(&entity)?;
    s.store
        .may_write(&p.access, entity.plural(), None, Some(&key))
        .await?;
    // A retired record has no values to edit (409): no form that could only be refused.
    let (values, title, back) = entity.current(&s.store, &p.access, &key).await?;
    let community = compound_community(&s, &p, entity, &key).await?;
    let fields = fill(
        &s,
        &p,
        entity,
        false,
        &values,
        &FieldErrors::new(),
        community.as_deref(),
    )
    .await?;
    Ok(render(&FormPage {
        me: Me::of(&p),
        crumbs: crumbs(&[(title.as_str(), back.clone())]),
        title: format!("修改{}：{title}", entity.label()),
        action: format!("/edit/{}/{key}", entity.plural()),
        fields,
        back,
        retire_action: Some(format!("/retire/{}/{key}", entity.plural())),
        error: None,
    }))
}

async fn update(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path((entity, key)): Path<(String, String)>,
    Form(values): Form<Fields>,
) -> PageResult {
    let entity = entity_of(&entity)?;
    match entity.update(&s.store, &p.access, &key, &values).await {
        Ok(()) => {
            tracing::info!(user = %p.username, entity = entity.plural(), key = %key, "updated");
            Ok(Redirect::to(&entity.page_of(&s.store, &p.access, &key).await?).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let (_, title, back) = entity.current(&s.store, &p.access, &key).await?;
            let community = compound_community(&s, &p, entity, &key).await?;
            let fields = fill(
                &s,
                &p,
                entity,
                false,
                &values,
                &errors,
                community.as_deref(),
            )
            .await?;
            let mut res = render(&FormPage {
                me: Me::of(&p),
                crumbs: crumbs(&[(title.as_str(), back.clone())]),
                title: format!("修改{}：{title}", entity.label()),
                action: format!("/edit/{}/{key}", entity.plural()),
                fields,
                back,
                retire_action: Some(format!("/retire/{}/{key}", entity.plural())),
                error: Some(form_error(&errors)),
            });
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RetireForm {
    valid_to: Option<String>,
}

async fn retire(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path((entity, key)): Path<(String, String)>,
    Form(f): Form<RetireForm>,
) -> PageResult {
    let entity = entity_of(&entity)?;
    // Where to go afterwards: the level above.
    let back = match entity {
        Entity::Street => "/".to_string(),
        Entity::Community => format!(
            "/streets/{}",
            s.store.community(&p.access, &key).await?.street_code
        ),
        Entity::Grid => format!(
            "/communities/{}",
            s.store.grid(&p.access, &key).await?.community_code
        ),
        Entity::Compound => format!(
            "/communities/{}",
            s.store.compound(&p.access, &key).await?.community_code
        ),
        Entity::Building => format!(
            "/compounds/{}",
            s.store.building(&p.access, &key).await?.compound_id
        ),
        Entity::Department => "/departments".to_string(),
    };
    entity
        .retire(&s.store, &p.access, &key, f.valid_to.as_deref())
        .await?;
    tracing::info!(user = %p.username, entity = entity.plural(), key = %key, "retired");
    Ok(Redirect::to(&back).into_response())
}

// ---- 附件2 in and out --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "import.html")]
struct ImportView {
    me: Me,
    crumbs: Vec<Crumb>,
    file: String,
    errors: Vec<CellError>,
    summary: Option<ImportSummary>,
    problem: Option<String>,
}

async fn import_form(Extension(p): Extension<Principal>) -> PageResult {
    if !p.access.can_somewhere(Permission::RegistryImport) {
        return Err(AppError::Forbidden("无权导入官方表格".into()).into());
    }
    Ok(render(&ImportView {
        me: Me::of(&p),
        crumbs: crumbs(&[("导入社区基本情况表", "/import".into())]),
        file: String::new(),
        errors: Vec::new(),
        summary: None,
        problem: None,
    }))
}

/// The `file` field of an upload form: its name as the user's computer gave it (“上传文件”
/// without one) and its bytes.
pub(crate) async fn uploaded_file(mp: &mut Multipart) -> Result<(String, Vec<u8>), AppError> {
    let (file, bytes, _) = uploaded_form(mp).await?;
    Ok((file, bytes))
}

/// The uploaded file (name and bytes) and the form's other fields (short text; CSRF among
/// them).
pub(crate) async fn uploaded_form(
    mp: &mut Multipart,
) -> Result<(String, Vec<u8>, Fields), AppError> {
    let mut file = String::from("上传文件");
    let mut bytes = Vec::new();
    let mut fields = Fields::new();
    while let Ok(Some(field)) = mp.next_field().await {
        match field.name().map(str::to_string) {
            Some(name) if name == "file" => {
                file = field.file_name().unwrap_or("上传文件").to_string();
                bytes = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::BadRequest(format!("上传失败：{e}")))?
                    .to_vec();
            }
            Some(name) => {
                let text = field.text().await.unwrap_or_default();
                fields.insert(name, text.chars().take(200).collect());
            }
            None => {}
        }
    }
    Ok((file, bytes, fields))
}

/// How an import's result shows on its page: the status and what was imported, or the
/// errors by cell, or what is wrong with the file, beside the form; other errors are the
/// page's own.
pub(crate) fn upload_answer<T>(
    result: Result<T, AppError>,
    errors: &mut Vec<wangge_domain::annex2::CellError>,
    problem: &mut Option<String>,
) -> Result<(axum::http::StatusCode, Option<T>), PageError> {
    match result {
        Ok(done) => Ok((axum::http::StatusCode::OK, Some(done))),
        Err(AppError::Cells(cells)) => {
            *errors = cells;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, None))
        }
        Err(AppError::BadRequest(m)) => {
            *problem = Some(m);
            Ok((axum::http::StatusCode::BAD_REQUEST, None))
        }
        Err(e) => Err(e.into()),
    }
}

async fn import(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    mut mp: Multipart,
) -> PageResult {
    let (file, bytes, fields) = uploaded_form(&mut mp).await?;
    let since_text = fields.get("valid_from").cloned().unwrap_or_default();
    let mut view = ImportView {
        me: Me::of(&p),
        crumbs: crumbs(&[("导入社区基本情况表", "/import".into())]),
        file: file.clone(),
        errors: Vec::new(),
        summary: None,
        problem: None,
    };
    let result = async {
        let since = crate::api::import_since(Some(&since_text))?;
        crate::api::import_bytes(&s.store, &p.access, &file, &bytes, since).await
    }
    .await;
    let (status, summary) = upload_answer(result, &mut view.errors, &mut view.problem)?;
    if summary.is_some() {
        tracing::info!(user = %p.username, "imported 附件2");
    }
    view.summary = summary;
    let mut res = render(&view);
    *res.status_mut() = status;
    Ok(res)
}

fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    download_as(bytes, content_type, name, "annex2")
}

/// A file to save: `name` for browsers that take UTF-8 names, `ascii` and the same extension
/// for the others.
pub(crate) fn download_as(
    bytes: Vec<u8>,
    content_type: &'static str,
    name: &str,
    ascii: &str,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{ascii}.{ext}\"; filename*=UTF-8''{}",
                    percent(name),
                    ext = name.rsplit('.').next().unwrap_or("bin")
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn export_xlsx(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> PageResult {
    let tables = s.store.annex2_tables(&p.access).await?;
    let bytes =
        wangge_sheets::annex2_xlsx(&tables).map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "社区基本情况表.xlsx",
    ))
}

#[derive(Deserialize)]
pub struct CsvQuery {
    pub(crate) encoding: Option<String>,
}

async fn export_csv(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<CsvQuery>,
) -> PageResult {
    let tables = s.store.annex2_tables(&p.access).await?;
    let gbk = q.encoding.as_deref() == Some("gbk");
    let bytes =
        wangge_sheets::annex2_csv(&tables, gbk).map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(download(
        bytes,
        if gbk {
            "text/csv; charset=gbk"
        } else {
            "text/csv; charset=utf-8"
        },
        "社区基本情况表.csv",
    ))
}
