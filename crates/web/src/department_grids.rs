//! Department grids (部门网格): a department's own grids, uploaded from its GIS layer, laid
//! over the unified grids, then revoked and folded into them (撤销，统一归属新网格管理).

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use wangge_domain::access::Permission;
use wangge_plan::{Geometry, fold, geojson};
use wangge_store::{DepartmentGrid, NewDepartmentGrid};

use crate::error::{ApiError, AppError, PageError};
use crate::pages::{Crumb, Me};
use crate::planning::{MapView, Upload, upload_reply};
use crate::{Principal, SharedState};

pub(crate) fn routes() -> crate::Routes {
    crate::Routes::new()
        .route(
            "/departments/{id}/grids",
            &["GET", "POST"],
            get(page).post(upload),
        )
        .route("/departments/{id}/grids/fold", &["POST"], post(fold_page))
        .route("/departments/{id}/grids/clear", &["POST"], post(clear_page))
        .route(
            "/departments/{id}/grids/export.xlsx",
            &["GET"],
            get(export_xlsx),
        )
        .route(
            "/departments/{id}/grids/export.csv",
            &["GET"],
            get(export_csv),
        )
        .route(
            "/api/departments/{id}/grids",
            &["GET", "PUT", "DELETE"],
            get(api_grids).put(api_replace).delete(api_clear),
        )
        .route(
            "/api/departments/{id}/grids/fold",
            &["POST"],
            post(api_fold),
        )
}

/// A unified grid's part of a department grid, as the page shows it.
pub struct ShareRow {
    pub code: String,
    pub label: String,
    pub compounds: usize,
    pub households: i64,
}

/// A department grid as the page lists it.
pub struct GridRow {
    pub name: String,
    pub code: String,
    pub compounds: usize,
    pub households: i64,
    pub outline: bool,
    pub shares: Vec<ShareRow>,
    /// Compounds in no unified grid yet.
    pub unplaced: usize,
    pub folded_on: String,
    pub folded_into: String,
}

impl GridRow {
    fn of(g: &DepartmentGrid) -> GridRow {
        let names: HashMap<&str, &str> = g
            .members
            .iter()
            .filter_map(|m| Some((m.grid_code.as_deref()?, m.grid_name.as_deref()?)))
            .collect();
        let (shares, unplaced) = g.shares();
        GridRow {
            name: g.name.clone(),
            code: g.code.clone().unwrap_or_default(),
            compounds: g.members.len(),
            households: g.households(),
            outline: g.has_outline,
            shares: shares
                .into_iter()
                .map(|s| ShareRow {
                    label: names.get(s.grid.as_str()).unwrap_or(&"").to_string(),
                    code: s.grid,
                    compounds: s.compounds,
                    households: s.households,
                })
                .collect(),
            unplaced,
            folded_on: g.folded_on.clone().unwrap_or_default(),
            folded_into: g.folded_into.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "department_grids.html")]
struct GridsView {
    me: Me,
    crumbs: Vec<Crumb>,
    department: wangge_store::Department,
    live: Vec<GridRow>,
    folded: Vec<GridRow>,
    /// Unified grids the grids in force fall in, and how many of them span several.
    unified: usize,
    spanning: usize,
    unplaced: usize,
    can_write: bool,
    can_fold: bool,
    can_export: bool,
    upload: Upload,
    /// After folding: what it did; or why it was refused.
    folded_now: Option<wangge_store::FoldSummary>,
    refused: Option<String>,
    /// The upload the grids in force came in: folding takes it or nothing.
    layer: String,
    /// The compounds of the grids in force coloured by department grid and by unified grid,
    /// the department's outlines drawn over both; `None` without boundaries or when too many.
    maps: Option<(MapView, MapView)>,
    /// Compounds of the grids in force, when too many to draw.
    too_many: Option<usize>,
}

/// The most compounds the page draws.
const MAX_MAP_COMPOUNDS: usize = 5_000;

/// The two maps of the department grids in force: compounds coloured by department grid
/// (labelled by their number in the table) and by unified grid (labelled by the last three
/// digits of the code), with the outlines the department gave.
fn maps(
    live: &[&DepartmentGrid],
    outlines: &HashMap<String, String>,
) -> Option<(MapView, MapView)> {
    let mut input = wangge_plan::Input::default();
    let mut names: Vec<&str> = Vec::new();
    let (mut dept_of, mut unified_of) = (Vec::new(), Vec::new());
    let mut unified: Vec<String> = Vec::new();
    for (k, g) in live.iter().enumerate() {
        for m in &g.members {
            let Some(geometry) = m
                .geometry
                .as_deref()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .and_then(|v| geojson::geometry_from_json(&v))
            else {
                continue;
            };
            input.compounds.push(wangge_plan::Compound {
                id: m.compound_id.clone(),
                geometry,
                households: m.households,
                community: None,
                kind: None,
                has_property_management: None,
            });
            names.push(&m.compound_name);
            dept_of.push(Some(k));
            unified_of.push(m.grid_code.as_ref().map(|c| {
                unified.iter().position(|u| u == c).unwrap_or_else(|| {
                    unified.push(c.clone());
                    unified.len() - 1
                })
            }));
        }
    }
    if input.compounds.is_empty() {
        return None;
    }
    let numbers: Vec<String> = (1..=live.len()).map(|n| format!("{n:03}")).collect();
    let lines: Vec<(wangge_store::Barrier, Vec<wangge_plan::Pt>)> = live
        .iter()
        .filter_map(|g| Some((g, outlines.get(&g.id)?)))
        .filter_map(|(g, t)| {
            let v = serde_json::from_str::<serde_json::Value>(t).ok()?;
            let Some(Geometry::Polygons(polys)) = geojson::geometry_from_json(&v) else {
                return None;
            };
            let b = wangge_store::Barrier {
                id: g.id.clone(),
                name: g.name.clone(),
                kind: "部门网格边界".into(),
                geometry: String::new(),
            };
            Some(
                polys
                    .into_iter()
                    .flatten()
                    .map(move |ring| (b.clone(), ring)),
            )
        })
        .flatten()
        .collect();
    let lines: Vec<(&wangge_store::Barrier, Vec<wangge_plan::Pt>)> =
        lines.iter().map(|(b, l)| (b, l.clone())).collect();
    Some((
        crate::planning::map(&input, &names, &dept_of, &numbers, &lines),
        crate::planning::map(&input, &names, &unified_of, &unified, &lines),
    ))
}

async fn view(s: &SharedState, p: &Principal, id: &str) -> Result<GridsView, AppError> {
    let department = s.store.department(&p.access, id).await?;
    let grids = s.store.department_grids(&p.access, id).await?;
    let in_force: Vec<&DepartmentGrid> = grids.iter().filter(|g| g.folded_on.is_none()).collect();
    let drawn: usize = in_force.iter().map(|g| g.members.len()).sum();
    let (maps, too_many) = if drawn > MAX_MAP_COMPOUNDS {
        (None, Some(drawn))
    } else {
        let outlines = s.store.department_grid_outlines(&p.access, id).await?;
        (maps(&in_force, &outlines), None)
    };
    let (live, folded): (Vec<GridRow>, Vec<GridRow>) = grids
        .iter()
        .map(GridRow::of)
        .partition(|g| g.folded_on.is_empty());
    let mut unified: Vec<&str> = live
        .iter()
        .flat_map(|g| g.shares.iter().map(|s| s.code.as_str()))
        .collect();
    unified.sort_unstable();
    unified.dedup();
    let county = s.store.county().await?.map(|c| c.code).unwrap_or_default();
    Ok(GridsView {
        me: Me::of(p),
        crumbs: vec![
            Crumb {
                label: "总览".into(),
                href: "/".into(),
            },
            Crumb {
                label: "职能部门".into(),
                href: "/departments".into(),
            },
            Crumb {
                label: format!("{} 部门网格", department.name),
                href: format!("/departments/{id}/grids"),
            },
        ],
        unified: unified.len(),
        spanning: live.iter().filter(|g| g.shares.len() > 1).count(),
        unplaced: live.iter().map(|g| g.unplaced).sum(),
        can_write: department.valid_to.is_none()
            && p.access.can(Permission::RegistryWrite, &county),
        can_fold: p.access.can(Permission::PlanAdopt, &county),
        can_export: p.access.can_somewhere(Permission::RegistryExport)
            || p.access.can_in_department(Permission::RegistryExport, id),
        department,
        live,
        folded,
        upload: Upload::default(),
        folded_now: None,
        refused: None,
        layer: in_force
            .first()
            .map(|g| g.layer.clone())
            .unwrap_or_default(),
        maps,
        too_many,
    })
}

async fn page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Ok(crate::auth::render(&view(&s, &p, &id).await?))
}

/// Reads a department's layer and registers its grids, or writes nothing: every problem,
/// each naming its feature. A grid listing `compounds` takes those; a grid with only an
/// outline takes the county's compounds that lie mostly inside it (see [`fold::place`]).
async fn set_grids(
    s: &SharedState,
    p: &Principal,
    id: &str,
    text: &str,
) -> Result<Result<usize, Vec<String>>, AppError> {
    // Refuses those who may not register department grids before reading the file.
    let places = s.store.compound_places(&p.access).await?;
    s.store.department(&p.access, id).await?;
    let features = match wangge_domain::place::parse_department_grid_features(text) {
        Ok(f) => f,
        Err(problems) => return Ok(Err(problems)),
    };
    // Placing every compound of the county in every outline is CPU work: off the runtime.
    let items = tokio::task::spawn_blocking(move || resolve(features, &places))
        .await
        .map_err(|_| AppError::Internal)?;
    match items {
        Ok(items) => Ok(Ok(s
            .store
            .replace_department_grids(&p.access, id, &items)
            .await?)),
        Err(problems) => Ok(Err(problems)),
    }
}

/// The compounds of each grid of a layer (`domain::place::department_grid_members`), the
/// outlines placed here: a compound with a boundary lies in the outline that holds the larger
/// part of it (see [`fold::place`]).
fn resolve(
    features: Vec<wangge_domain::place::DepartmentGridFeature>,
    places: &[wangge_store::CompoundPlace],
) -> Result<Vec<NewDepartmentGrid>, Vec<String>> {
    use wangge_domain::place::{CompoundRef, OutlinePlacement, department_grid_members};
    let by_outline: Vec<usize> = (0..features.len())
        .filter(|&k| features[k].compounds.is_empty())
        .collect();
    let mut inside: Vec<Vec<usize>> = vec![Vec::new(); places.len()];
    let mut mismatch: Vec<Option<String>> = vec![None; features.len()];
    let mut without_boundary = 0;
    if !by_outline.is_empty() {
        let located: Vec<(usize, Geometry)> = places
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let v = serde_json::from_str::<serde_json::Value>(c.geometry.as_deref()?).ok()?;
                Some((i, geojson::geometry_from_json(&v)?))
            })
            .collect();
        without_boundary = places.len() - located.len();
        // The county's compounds are in longitude/latitude when most of them are.
        let lonlat = 2 * located.iter().filter(|(_, g)| g.looks_lonlat()).count() > located.len();
        let areas: Vec<Geometry> = by_outline
            .iter()
            .map(|&k| {
                features[k]
                    .geometry
                    .as_deref()
                    .and_then(|g| serde_json::from_str::<serde_json::Value>(g).ok())
                    .and_then(|v| geojson::geometry_from_json(&v))
                    .unwrap_or(Geometry::Polygons(Vec::new()))
            })
            .collect();
        for (a, &k) in by_outline.iter().enumerate() {
            if !located.is_empty() && areas[a].looks_lonlat() != lonlat {
                mismatch[k] = Some(
                    if lonlat {
                        "小区为经纬度，此边界为平面坐标"
                    } else {
                        "小区为平面坐标，此边界为经纬度"
                    }
                    .to_string(),
                );
            }
        }
        let placed = fold::place(&areas, located.iter().map(|(_, g)| g));
        for ((i, _), held) in located.iter().zip(placed) {
            inside[*i] = held.into_iter().map(|a| by_outline[a]).collect();
        }
    }
    let refs: Vec<CompoundRef<'_>> = places
        .iter()
        .map(|c| CompoundRef {
            id: &c.id,
            name: &c.name,
            community_code: &c.community_code,
            community_name: &c.community_name,
        })
        .collect();
    let placement = OutlinePlacement {
        inside: &inside,
        mismatch: &mismatch,
        without_boundary,
    };
    let members = department_grid_members(&features, &refs, &placement)?;
    Ok(features
        .into_iter()
        .zip(members)
        .map(|(f, m)| NewDepartmentGrid {
            code: f.code,
            name: f.name,
            // An outline is kept where it placed the compounds (a listed grid's is not used).
            geometry: f.geometry.filter(|_| f.compounds.is_empty()),
            compounds: m.into_iter().map(|i| places[i].id.clone()).collect(),
        })
        .collect())
}

async fn upload(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    mut mp: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let (file, bytes) = crate::pages::uploaded_file(&mut mp).await?;
    let result = set_grids(&s, &p, &id, &geojson::decode(&bytes)).await?;
    let mut v = view(&s, &p, &id).await?;
    v.upload = Upload::of(file, result);
    let mut res = crate::auth::render(&v);
    *res.status_mut() = v.upload.status();
    Ok(res)
}

/// Withdraws the department's grids in force (a layer uploaded by mistake): they end today,
/// kept as history like every replaced layer; grids folded in stay.
async fn clear_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    s.store
        .replace_department_grids(&p.access, &id, &[])
        .await?;
    let mut v = view(&s, &p, &id).await?;
    v.upload.updated = Some(0);
    Ok(crate::auth::render(&v))
}

async fn api_clear(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.store
        .replace_department_grids(&p.access, &id, &[])
        .await?;
    Ok(axum::Json(serde_json::json!({ "grids": 0 })).into_response())
}

/// What the fold form and API carry: the layer the user saw (see `GridsView::layer`).
#[derive(serde::Deserialize, Default)]
struct FoldForm {
    layer: Option<String>,
}

async fn fold_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<FoldForm>,
) -> Result<Response, PageError> {
    let layer = f.layer.filter(|l| !l.is_empty());
    let done = s
        .store
        .fold_department_grids(&p.access, &id, layer.as_deref())
        .await;
    let (folded_now, refused) = match done {
        Ok(f) => (Some(f), None),
        Err(wangge_store::StoreError::Conflict(m)) => (None, Some(m)),
        Err(e) => return Err(AppError::from(e).into()),
    };
    let mut v = view(&s, &p, &id).await?;
    v.folded_now = folded_now;
    v.refused = refused;
    let mut res = crate::auth::render(&v);
    if v.refused.is_some() {
        *res.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(res)
}

/// A department grid in the API: its compounds, and where they are among the unified grids.
fn grid_json(g: &DepartmentGrid) -> serde_json::Value {
    let (shares, unplaced) = g.shares();
    serde_json::json!({
        "id": g.id,
        "layer": g.layer,
        "code": g.code,
        "name": g.name,
        "has_outline": g.has_outline,
        "valid_from": g.valid_from,
        "folded_on": g.folded_on,
        "folded_into": g.folded_into,
        "compounds": g.members,
        "households": g.households(),
        "shares": shares,
        "unplaced": unplaced,
    })
}

async fn api_grids(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = s.store.department(&p.access, &id).await?;
    let grids = s.store.department_grids(&p.access, &id).await?;
    let (folded, live): (Vec<&DepartmentGrid>, Vec<&DepartmentGrid>) =
        grids.iter().partition(|g| g.folded_on.is_some());
    Ok(axum::Json(serde_json::json!({
        "department": {"id": d.id, "name": d.name},
        "in_force": live.into_iter().map(grid_json).collect::<Vec<_>>(),
        "folded": folded.into_iter().map(grid_json).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// Registers the department's grids: the body is its layer (FeatureCollection); `{"grids":
/// n}`, or 422 with `problems` and nothing written.
async fn api_replace(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let result = set_grids(&s, &p, &id, &geojson::decode(&body)).await?;
    Ok(upload_reply(result, "grids", "部门网格"))
}

/// Folds the grids in force in; with `{"layer": …}` (an in-force grid's `layer` from the
/// GET) only if they are still that upload's, else 409 and nothing changes.
async fn api_fold(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let form: FoldForm = if body.iter().all(u8::is_ascii_whitespace) {
        FoldForm::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!("请求体应为 JSON：{e}")))?
    };
    let f = s
        .store
        .fold_department_grids(&p.access, &id, form.layer.as_deref())
        .await?;
    Ok(axum::Json(f).into_response())
}

/// 部门网格与统一网格对照表: one row per compound of each department grid (a grid without
/// compounds has a row of its own), with the unified grid it is in now or was in when folded.
fn table(department: &str, grids: &[DepartmentGrid]) -> Vec<Vec<String>> {
    let mut rows = vec![
        vec![format!("{department}部门网格与统一网格对照表")],
        [
            "序号",
            "部门网格",
            "部门编码",
            "状态",
            "小区（村庄）",
            "社区",
            "统一网格编码",
            "统一网格",
            "户数",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for g in grids {
        let state = match &g.folded_on {
            Some(d) => format!("已于 {d} 撤销并入"),
            None => "待撤销并入".to_string(),
        };
        let head = |n: usize| {
            vec![
                n.to_string(),
                g.name.clone(),
                g.code.clone().unwrap_or_default(),
                state.clone(),
            ]
        };
        if g.members.is_empty() {
            let mut r = head(rows.len() - 1);
            r.extend(["（无在册小区）", "", "", "", "0"].map(String::from));
            rows.push(r);
        }
        for m in &g.members {
            let mut r = head(rows.len() - 1);
            r.extend([
                m.compound_name.clone(),
                m.community_name.clone(),
                m.grid_code.clone().unwrap_or_default(),
                m.grid_name
                    .clone()
                    .unwrap_or_else(|| "（未划入网格）".into()),
                m.households.to_string(),
            ]);
            rows.push(r);
        }
    }
    rows
}

async fn export_rows(
    s: &SharedState,
    p: &Principal,
    id: &str,
) -> Result<(String, Vec<Vec<String>>), AppError> {
    let d = s.store.department(&p.access, id).await?;
    let grids = s.store.export_department_grids(&p.access, id).await?;
    Ok((d.name.clone(), table(&d.name, &grids)))
}

async fn export_xlsx(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (name, rows) = export_rows(&s, &p, &id).await?;
    let bytes = wangge_sheets::write_xlsx(&[wangge_sheets::OutSheet {
        name: "对照表",
        rows: &rows,
        title_rows: 1,
        numeric_columns: &[0, 8],
        widths: &[6.0, 18.0, 12.0, 20.0, 20.0, 14.0, 18.0, 16.0, 8.0],
    }])
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(crate::pages::download_as(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("{name}部门网格对照表.xlsx"),
        "department-grids",
    ))
}

/// The table as CSV: UTF-8 with a BOM, or GBK with `?encoding=gbk`.
async fn export_csv(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<crate::pages::CsvQuery>,
) -> Result<Response, PageError> {
    let (name, rows) = export_rows(&s, &p, &id).await?;
    let gbk = q.encoding.as_deref() == Some("gbk");
    let bytes =
        wangge_sheets::write_csv(&rows, gbk).map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(crate::pages::download_as(
        bytes,
        if gbk {
            "text/csv; charset=gbk"
        } else {
            "text/csv; charset=utf-8"
        },
        &format!("{name}部门网格对照表.csv"),
        "department-grids",
    ))
}
