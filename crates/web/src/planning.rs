//! "Propose a grid plan" for a community: the planner on the registry's compounds, current and
//! proposed grids side by side as SVG maps, the diff, and adopting it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form};
use serde::Deserialize;
use wangge_domain::GridKind;
use wangge_domain::access::Permission;
use wangge_domain::place::CompoundKind;
use wangge_domain::policy::Policy;
use wangge_domain::policy::needs::{Member, Needs};
use wangge_domain::policy::tables::wan_text;
use wangge_plan::{Band, Compound, CurrentGrid, Input, Options, Plan, geojson};
use wangge_store::{AdoptGrid, PlanSource};

use crate::error::{AppError, PageError};
use crate::pages::{Crumb, Me};
use crate::{Principal, SharedState};

pub(crate) fn routes() -> crate::Routes {
    crate::Routes::new()
        .route("/plan/communities/{code}", &["GET"], get(propose))
        .route("/plan/communities/{code}/adopt", &["POST"], post(adopt))
        .route(
            "/plan/communities/{code}/export.xlsx",
            &["GET"],
            get(export_community),
        )
        .route("/plan/streets/{code}", &["GET"], get(street_plans))
        .route(
            "/plan/streets/{code}/export.xlsx",
            &["GET"],
            get(export_street),
        )
        .route("/api/plan/streets/{code}", &["GET"], get(api_street_plans))
        .route(
            "/api/plan/streets/{code}/geojson",
            &["GET"],
            get(api_street_geojson),
        )
        .route("/plan/streets/{code}/compare", &["GET"], get(compare_page))
        .route(
            "/api/plan/streets/{code}/compare",
            &["GET"],
            get(api_compare),
        )
        .route("/plan/compare", &["GET"], get(county_compare_page))
        .route("/api/plan/compare", &["GET"], get(api_county_compare))
        .route("/plan/streets/{code}/adopt", &["POST"], post(adopt_street))
        .route(
            "/api/plan/streets/{code}/adopt",
            &["POST"],
            post(api_adopt_street),
        )
        .route(
            "/communities/{code}/boundaries",
            &["GET", "POST"],
            get(boundaries_page).post(boundaries_upload),
        )
        .route(
            "/api/communities/{code}/boundaries",
            &["POST"],
            post(api_boundaries),
        )
        .route(
            "/streets/{code}/barriers",
            &["GET", "POST"],
            get(barriers_page).post(barriers_upload),
        )
        .route(
            "/streets/{code}/barriers/clear",
            &["POST"],
            post(barriers_clear),
        )
        .route(
            "/api/streets/{code}/barriers",
            &["GET", "PUT", "DELETE"],
            get(api_barriers)
                .put(api_barriers_replace)
                .delete(api_barriers_clear),
        )
        .route("/api/plan/communities/{code}", &["GET"], get(api_propose))
        .route(
            "/api/plan/communities/{code}/adopt",
            &["POST"],
            post(api_adopt),
        )
}

/// The band asked for (query string, adopt form or JSON body), as typed: empty means "the
/// policy's"; the distance across which compounds are neighbours (`gap`, metres; empty means
/// touching); and, on adopting, the fingerprint of the plan the page showed.
#[derive(Deserialize, Default)]
pub struct BandQuery {
    min: Option<String>,
    max: Option<String>,
    gap: Option<String>,
    plan: Option<String>,
    /// On adopting: post the staff of retired grids at their main successors (`on`).
    staff_follow: Option<String>,
    /// Current grids to keep as they are: codes separated by commas or spaces (on a
    /// community's page also by their last 3 digits).
    keep: Option<String>,
}

impl BandQuery {
    /// The plan page with the band, gap and kept grids asked (to look at the plan again).
    fn plan_href(&self, path: &str) -> String {
        let pairs: Vec<String> = [
            ("min", &self.min),
            ("max", &self.max),
            ("gap", &self.gap),
            ("keep", &self.keep),
        ]
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", crate::pages::percent(v)))
        })
        .collect();
        if pairs.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", pairs.join("&"))
        }
    }

    /// The same from a JSON body: `min` and `max` as integers (or digit strings), `gap` as a
    /// number (or string), `plan` as a string; anything else is refused rather than ignored.
    fn from_json(v: &serde_json::Value) -> Result<BandQuery, AppError> {
        if !v.is_object() {
            return Err(AppError::BadRequest(
                "请求体应为 JSON 对象，如 {\"min\": 500, \"max\": 600}".into(),
            ));
        }
        const KEYS: [&str; 6] = ["min", "max", "gap", "keep", "plan", "staff_follow"];
        if let Some(k) = v
            .as_object()
            .and_then(|o| o.keys().find(|k| !KEYS.contains(&k.as_str())))
        {
            return Err(AppError::BadRequest(format!(
                "不认识的字段「{k}」，可用的字段：{}",
                KEYS.join("、")
            )));
        }
        let field = |key: &str, decimals: bool| -> Result<Option<String>, AppError> {
            match &v[key] {
                serde_json::Value::Null => Ok(None),
                serde_json::Value::Number(n) if n.is_i64() || decimals => Ok(Some(n.to_string())),
                serde_json::Value::String(t) => Ok(Some(t.clone())),
                other => Err(AppError::BadRequest(format!(
                    "{key} 应为{}或字符串，收到：{other}",
                    if decimals { "数" } else { "整数" }
                ))),
            }
        };
        let staff_follow = match &v["staff_follow"] {
            serde_json::Value::Null | serde_json::Value::Bool(false) => None,
            serde_json::Value::Bool(true) => Some("on".to_string()),
            other => {
                return Err(AppError::BadRequest(format!(
                    "staff_follow 应为 true 或 false，收到：{other}"
                )));
            }
        };
        let keep = match &v["keep"] {
            serde_json::Value::Null => None,
            serde_json::Value::String(t) => Some(t.clone()),
            serde_json::Value::Array(codes) => Some(
                codes
                    .iter()
                    .map(|c| match c {
                        serde_json::Value::String(t) => Ok(t.clone()),
                        other => Err(AppError::BadRequest(format!(
                            "keep 应为网格编码的数组或字符串，收到：{other}"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
            ),
            other => {
                return Err(AppError::BadRequest(format!(
                    "keep 应为网格编码的数组或字符串，收到：{other}"
                )));
            }
        };
        Ok(BandQuery {
            min: field("min", false)?,
            max: field("max", false)?,
            gap: field("gap", true)?,
            plan: field("plan", false)?,
            staff_follow,
            keep,
        })
    }

    /// What adopting does with the staff of retired grids, as asked.
    fn staff(&self) -> wangge_store::StaffOnRetired {
        match self.staff_follow.as_deref().map(str::trim) {
            Some("on" | "true" | "1") => wangge_store::StaffOnRetired::Follow,
            _ => wangge_store::StaffOnRetired::End,
        }
    }
}

/// A household count typed by a person: blank is "not given"; full-width digits are read as
/// digits; anything else but a positive whole number is an error naming the field.
fn households_param(label: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(raw) = value else { return Ok(None) };
    let text = half_width(raw);
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => Err(AppError::BadRequest(
            format!("户数{label}过大，收到「{raw}」"),
        )),
        _ => Err(AppError::BadRequest(format!(
            "户数{label}应为正整数（户），收到「{raw}」"
        ))),
    }
}

/// A number typed by a person, trimmed, with full-width digits and point read as ASCII.
fn half_width(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            c => c,
        })
        .collect()
}

/// The widest gap (metres) across which compounds may count as neighbours.
const MAX_GAP_METRES: f64 = 200.0;

/// The distance in metres across which compounds still count as neighbours (a lane or a
/// small road between them): blank or 0 is "their boundaries touch"; otherwise a number of
/// metres up to [`MAX_GAP_METRES`].
fn gap_param(value: Option<&str>) -> Result<Option<f64>, AppError> {
    let Some(raw) = value else { return Ok(None) };
    let text = half_width(raw);
    if text.is_empty() {
        return Ok(None);
    }
    // Centimetres are as fine as boundaries are drawn; less is touching.
    match text.parse::<f64>().map(|m| (m * 100.0).round() / 100.0) {
        Ok(0.0) => Ok(None),
        Ok(m) if m > 0.0 && m <= MAX_GAP_METRES => Ok(Some(m)),
        _ => Err(AppError::BadRequest(format!(
            "相邻距离应为 0–{MAX_GAP_METRES} 之间的米数，收到「{raw}」"
        ))),
    }
}

/// How a plan is asked for besides its band: the distance across which compounds are
/// neighbours, and the current grids kept as they are.
#[derive(Default, Clone)]
struct Knobs {
    gap: Option<f64>,
    /// Full grid codes, sorted.
    keep: Vec<String>,
}

impl Knobs {
    /// From the query or form, for a community's plan or a street's (`scope`, its code): on
    /// a community's page a grid may be named by the last 3 digits of its code.
    fn of(q: &BandQuery, scope: &str) -> Result<Knobs, AppError> {
        let mut keep = Vec::new();
        let raw = q.keep.as_deref().unwrap_or("");
        for token in raw
            .split([
                ',', '，', '、', ';', '；', ' ', '\u{3000}', '\n', '\r', '\t',
            ])
            .map(half_width)
            .filter(|t| !t.is_empty())
        {
            let digits = token.chars().all(|c| c.is_ascii_digit());
            let code = match token.len() {
                15 if digits && token.starts_with(scope) => token,
                3 if digits && scope.len() == 12 => format!("{scope}{token}"),
                _ => {
                    return Err(AppError::BadRequest(format!(
                        "保持不变的网格应为{}，收到「{token}」",
                        match scope.len() {
                            12 => "本社区网格的编码（15 位，或其末 3 位）",
                            9 => "本街道网格的 15 位编码",
                            _ => "本县网格的 15 位编码",
                        }
                    )));
                }
            };
            keep.push(code);
        }
        keep.sort();
        keep.dedup();
        Ok(Knobs {
            gap: gap_param(q.gap.as_deref())?,
            keep,
        })
    }

    /// Refuses a kept grid whose community is none of the streets' (a mistyped code would
    /// otherwise be passed over, and the grid planned again).
    fn keep_within(&self, streets: &[wangge_store::StreetOverview]) -> Result<(), AppError> {
        for code in &self.keep {
            let known = streets
                .iter()
                .flat_map(|st| &st.communities)
                .any(|c| code.starts_with(&c.code));
            if !known {
                return Err(AppError::BadRequest(format!(
                    "保持不变的网格 {code} 不在本{}的在册社区中",
                    if streets.len() == 1 {
                        "街道"
                    } else {
                        "县（区）"
                    }
                )));
            }
        }
        Ok(())
    }

    /// Refuses a kept grid that is not a live grid with compounds of its community, as the
    /// community's own page does: a street or county plan would otherwise set that
    /// community aside and sum the rest.
    fn keep_live<'a>(
        &self,
        sources: impl IntoIterator<Item = &'a (wangge_store::Community, PlanSource)>,
    ) -> Result<(), AppError> {
        let sources: Vec<_> = sources.into_iter().collect();
        for code in &self.keep {
            let live = sources.iter().any(|(c, src)| {
                code.starts_with(&c.code)
                    && src.live_grids.iter().any(|(g, _)| g == code)
                    && src
                        .compounds
                        .iter()
                        .any(|m| m.grid_code.as_deref() == Some(code.as_str()))
            });
            if !live {
                return Err(AppError::BadRequest(format!(
                    "保持不变的网格 {code} 不是有小区的现有网格"
                )));
            }
        }
        Ok(())
    }

    /// The gap as the form shows it.
    fn gap_text(&self) -> String {
        self.gap.map(|m| m.to_string()).unwrap_or_default()
    }

    /// The grids kept, as the form shows them: on a community's page by their last 3 digits.
    fn keep_text(&self, scope: &str) -> String {
        self.keep
            .iter()
            .map(|c| {
                if scope.len() == 12 {
                    c.strip_prefix(scope).unwrap_or(c)
                } else {
                    c
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Why a plan has no band: no policy of the county gives one and none was asked.
const NO_BAND: &str = "本县（区）还没有政策文件给出网格户数区间：请填写本次划分每个网格的户数下限和上限；\
     要按政策自动取值，请系统管理员以 wangge serve --policies 目录 载入本县的政策文件（见 policies/README.md）";

/// The band: as asked, else the policy in force for the county today.
fn band(s: &SharedState, county: &str, q: &BandQuery) -> Result<Band, AppError> {
    let from_policy = Policy::in_force(&s.policies, county, wangge_store::today())
        .and_then(|p| p.doc().grid_division.as_ref())
        .map(|d| (d.household_floor, d.household_ceiling));
    let min = households_param("下限", q.min.as_deref())?;
    let max = households_param("上限", q.max.as_deref())?;
    match (
        min.or(from_policy.map(|b| b.0)),
        max.or(from_policy.map(|b| b.1)),
    ) {
        (Some(min), Some(max)) if min > 0 && min <= max => Ok(Band { min, max }),
        (Some(min), Some(max)) => Err(AppError::BadRequest(format!(
            "户数区间无效：下限 {min}，上限 {max}"
        ))),
        _ => Err(AppError::BadRequest(NO_BAND.into())),
    }
}

/// The planner's input from the registry. Compounds without a location cannot be planned.
/// Compounds are neighbours when their boundaries touch, or come within `gap` metres; the
/// street's barriers cut neighbours apart.
/// The most boundary points a community may have for planning (a GIS export of a hundred
/// compounds at a few hundred points each is well under it).
const MAX_COMMUNITY_POINTS: usize = 40_000;

/// Planning is CPU work: it runs off the async runtime, one plan at a time, so that a large
/// community does not stall other requests.
async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _turn = PLANNING.acquire().await.map_err(|_| AppError::Internal)?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| AppError::Internal)
}

/// `run`, off the async runtime.
async fn run_async(
    s: &SharedState,
    src: &PlanSource,
    band: Band,
    k: &Knobs,
) -> Result<(Input, Plan), AppError> {
    let (s, src, k) = (s.clone(), src.clone(), k.clone());
    off_runtime(move || run(&s, &src, band, &k)).await?
}

fn input_of(src: &PlanSource, gap: Option<f64>) -> Result<Input, AppError> {
    let mut compounds = Vec::new();
    let mut missing = Vec::new();
    for c in &src.compounds {
        let geometry = c
            .geometry
            .as_deref()
            .and_then(|g| serde_json::from_str::<serde_json::Value>(g).ok())
            .and_then(|v| geojson::geometry_from_json(&v));
        match geometry {
            Some(geometry) => compounds.push(Compound {
                id: c.id.clone(),
                geometry,
                households: c.households,
                community: Some(src.community.clone()),
                kind: Some(c.kind.clone()),
                has_property_management: Some(c.has_property_management),
            }),
            None => missing.push(c.name.clone()),
        }
    }
    // Finding neighbours compares boundary points near each other: a community drawn with
    // hundreds of thousands of points would hold the planner for minutes.
    let points: usize = compounds.iter().map(|c| c.geometry.positions()).sum();
    if points > MAX_COMMUNITY_POINTS {
        return Err(AppError::Conflict(format!(
            "本社区小区边界共 {points} 个坐标点，超过自动划分可处理的 {MAX_COMMUNITY_POINTS} 个；\
             请在 GIS 中简化边界（如容差 0.5 米）后在“小区边界”页重新导入"
        )));
    }
    // Longitude/latitude and planar metres cannot be compared: neighbours would be found
    // across kilometres, or not at all.
    let planar: Vec<&str> = compounds
        .iter()
        .zip(&src.compounds)
        .filter(|(c, _)| !c.geometry.looks_lonlat())
        .map(|(_, m)| m.name.as_str())
        .collect();
    if !planar.is_empty() && planar.len() < compounds.len() {
        return Err(AppError::Conflict(format!(
            "小区边界的坐标系不一致：{} 个为经纬度，{} 个为平面坐标（{}）；请统一后重新导入",
            compounds.len() - planar.len(),
            planar.len(),
            planar
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join("、")
        )));
    }
    if !missing.is_empty() {
        return Err(AppError::Conflict(format!(
            "以下小区缺少边界，无法自动划分（在社区的“小区边界”页导入 GIS 导出的 GeoJSON，或在小区页点“修改”填写）：{}",
            missing.join("、")
        )));
    }
    let mut current: Vec<CurrentGrid> = Vec::new();
    for (code, _) in &src.live_grids {
        let members: Vec<usize> = src
            .compounds
            .iter()
            .enumerate()
            .filter(|(_, c)| c.grid_code.as_deref() == Some(code.as_str()))
            .map(|(i, _)| i)
            .collect();
        if !members.is_empty() {
            current.push(CurrentGrid {
                code: code.clone(),
                compounds: members,
            });
        }
    }
    // Every code ever used that is not a current grid with compounds is taken: retired codes,
    // and live grids without compounds (their code is not given to another grid).
    let retired_codes = src
        .used_codes
        .iter()
        .filter(|c| !current.iter().any(|g| &g.code == *c))
        .cloned()
        .collect();
    let lonlat = planar.is_empty();
    // Town compounds and villages (or residents' groups) are not put in one grid: a grid's
    // type — urban or rural — decides its staffing and subsidies, and a town compound would
    // otherwise land in a grid typed rural (or a village in an urban one).
    let rural = |i: usize| {
        matches!(
            CompoundKind::parse(&src.compounds[i].kind),
            Ok(CompoundKind::Village | CompoundKind::ResidentsGroup)
        )
    };
    // (Every compound has its boundary by now: `compounds[i]` is `src.compounds[i]`.)
    let mut adjacency = geojson::derive_adjacency(&compounds, gap);
    adjacency.retain(|&(a, b)| rural(a) == rural(b));
    let lines = barrier_lines(src);
    for (b, line) in &lines {
        let in_lonlat = line.iter().all(wangge_plan::geom::looks_lonlat);
        if !compounds.is_empty() && in_lonlat != lonlat {
            return Err(AppError::Conflict(format!(
                "街路河界线“{}”的坐标系与小区边界不一致（{}），请在街道的“街路河界线”页重新导入",
                b.name,
                if lonlat {
                    "小区为经纬度，界线为平面坐标"
                } else {
                    "小区为平面坐标，界线为经纬度"
                }
            )));
        }
    }
    let barriers = near(lines, &wangge_plan::bbox_of(&compounds))
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    Ok(Input {
        compounds,
        adjacency,
        barriers,
        current,
        retired_codes,
        alone: Vec::new(),
        fixed: Vec::new(),
    })
}

/// The street's barriers with their lines (stored geometry is checked on the way in).
fn barrier_lines(src: &PlanSource) -> Vec<(&wangge_store::Barrier, Vec<wangge_plan::Pt>)> {
    src.barriers
        .iter()
        .flat_map(|b| {
            serde_json::from_str::<serde_json::Value>(&b.geometry)
                .ok()
                .and_then(|v| geojson::barrier_lines(&v))
                .unwrap_or_default()
                .into_iter()
                .map(move |l| (b, l))
        })
        .collect()
}

/// The stretches of barrier lines that come into a box: a street's road network is large
/// and a community small. Nothing outside the compounds' box can cut two of them apart; a map
/// shows a little more (its frame is square), so it asks with a larger box.
fn near<'a>(
    lines: Vec<(&'a wangge_store::Barrier, Vec<wangge_plan::Pt>)>,
    bb: &wangge_plan::geom::BBox,
) -> Vec<(&'a wangge_store::Barrier, Vec<wangge_plan::Pt>)> {
    lines
        .into_iter()
        .flat_map(|(b, line)| {
            wangge_plan::geom::clip_to_box(&line, bb)
                .into_iter()
                .map(move |run| (b, run))
        })
        .collect()
}

/// A compound drawn on a map: its outline as an SVG path (every ring; holes by the even-odd
/// rule), and its centre for labels.
pub struct Tile {
    pub d: String,
    pub cx: f64,
    pub cy: f64,
    pub colour: &'static str,
    pub title: String,
}

/// A grid's label on a map.
#[derive(Clone)]
pub struct Label {
    pub x: f64,
    pub y: f64,
    pub text: String,
}

/// A barrier drawn on a map: its line as an SVG path, and its name.
pub struct Line {
    pub d: String,
    pub title: String,
}

/// A map of a community's compounds coloured by grid, with the street's barriers.
pub struct MapView {
    pub tiles: Vec<Tile>,
    pub labels: Vec<Label>,
    pub lines: Vec<Line>,
    pub height: f64,
}

const PALETTE: [&str; 12] = [
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46a0a0", "#c2185b", "#8a8a00",
    "#1b7f8f", "#9a6324", "#6a5acd", "#2f4f4f",
];

/// Lays out a map 380 wide, north up: every compound's outline as drawn in its geometry
/// (longitude scaled by the cosine of the latitude, so shapes keep their proportions; a
/// point as a small square), coloured by its grid. A grid's label sits on the compound of the
/// grid nearest to the mean of its compounds' centres (a grid in pieces would otherwise be
/// labelled on another grid). Barriers are drawn over the compounds (the map is framed by the
/// compounds, with a margin when there are barriers; a barrier running beyond is cut at the
/// frame).
pub(crate) fn map(
    input: &Input,
    names: &[&str],
    grid_of: &[Option<usize>],
    codes: &[String],
    barriers: &[(&wangge_store::Barrier, Vec<wangge_plan::Pt>)],
) -> MapView {
    let mut bb = wangge_plan::bbox_of(&input.compounds);
    if !barriers.is_empty() {
        // A margin, so that a road along the compounds' outer edge shows.
        let m = 0.04 * bb.width().max(bb.height());
        bb.min = [bb.min[0] - m, bb.min[1] - m];
        bb.max = [bb.max[0] + m, bb.max[1] + m];
    }
    let proj = wangge_plan::geom::Projection::for_bbox(&bb);
    let (lo, hi) = (proj.apply(bb.min), proj.apply(bb.max));
    let span = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let span = if span > 0.0 { span } else { 1.0 };
    let scale = 380.0 / span;
    let height = ((hi[1] - lo[1]) * scale).max(20.0);
    // North up: larger y drawn higher.
    let at = |p: [f64; 2]| {
        let q = proj.apply(p);
        ((q[0] - lo[0]) * scale, (hi[1] - q[1]) * scale)
    };
    let mut tiles = Vec::with_capacity(input.compounds.len());
    for (i, c) in input.compounds.iter().enumerate() {
        let mut d = String::new();
        let (mut sx, mut sy, mut k) = (0.0, 0.0, 0.0);
        match &c.geometry {
            wangge_plan::Geometry::Polygons(ps) => {
                for ring in ps.iter().flatten() {
                    for (j, &p) in ring.iter().enumerate() {
                        let (x, y) = at(p);
                        d.push_str(&format!("{}{x:.1},{y:.1} ", if j == 0 { "M" } else { "L" }));
                        sx += x;
                        sy += y;
                        k += 1.0;
                    }
                    d.push_str("Z ");
                }
            }
            wangge_plan::Geometry::Point(p) => {
                let (x, y) = at(*p);
                d = format!("M{:.1},{:.1} h4 v4 h-4 Z", x - 2.0, y - 2.0);
                (sx, sy, k) = (x, y, 1.0);
            }
        }
        let g = grid_of[i];
        tiles.push(Tile {
            d: d.trim_end().to_string(),
            cx: if k > 0.0 { sx / k } else { 0.0 },
            cy: if k > 0.0 { sy / k } else { 0.0 },
            colour: g.map(|g| PALETTE[g % PALETTE.len()]).unwrap_or("#cccccc"),
            title: format!(
                "{}：{} 户{}",
                names.get(i).copied().unwrap_or(&c.id),
                c.households,
                g.map(|g| format!("，网格 {}", codes[g]))
                    .unwrap_or_default()
            ),
        });
    }
    // Every compound of a grid carries the grid's number: a grid of several compounds apart
    // on the map is not told from its neighbours by colour alone.
    let labels = tiles
        .iter()
        .zip(grid_of)
        .filter_map(|(t, of)| {
            let code = &codes[(*of)?];
            Some(Label {
                x: t.cx,
                y: t.cy + 4.0,
                text: code[code.len().saturating_sub(3)..].to_string(),
            })
        })
        .collect();
    let lines = barriers
        .iter()
        .map(|(b, line)| {
            let mut d = String::new();
            for (j, &p) in line.iter().enumerate() {
                let (x, y) = at(p);
                d.push_str(&format!("{}{x:.1},{y:.1} ", if j == 0 { "M" } else { "L" }));
            }
            Line {
                d: d.trim_end().to_string(),
                title: if b.name.is_empty() {
                    b.kind.clone()
                } else {
                    format!("{}（{}）", b.name, b.kind)
                },
            }
        })
        .collect();
    MapView {
        tiles,
        labels,
        lines,
        height,
    }
}

/// One proposed grid as the page lists it.
pub struct ProposedGrid {
    pub code: String,
    pub households: i64,
    pub compounds: Vec<String>,
    pub in_band: bool,
    pub reason: String,
    /// 保留, 调整, 合并：…, 拆分自 …, 新建.
    pub change: String,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanView {
    me: Me,
    crumbs: Vec<Crumb>,
    community: wangge_store::Community,
    /// The community's live grids (registered, not as 附件2 declares them).
    current_grids: usize,
    band: Band,
    current: MapView,
    proposed: MapView,
    /// The neighbour distance asked for (metres), as the form shows it.
    gap: String,
    /// The street's barriers, and where to manage them (linked for those who may read the
    /// street).
    barriers: usize,
    street_code: String,
    street_link: bool,
    grids: Vec<ProposedGrid>,
    /// Every current grid, where its compounds go, and whether it is kept as it is.
    fates: Vec<Fate>,
    /// The grids kept as they are, as the form shows them.
    keep: String,
    retired: Vec<String>,
    moved: usize,
    /// Said when the plan changes grids without bringing more of them into the band.
    no_gain: Option<String>,
    summary: String,
    /// What the proposed grids need under the policy in force.
    needs: Option<String>,
    upper_bound: usize,
    in_band: usize,
    eligible: usize,
    can_adopt: bool,
    /// May download the plan as a workbook.
    can_export: bool,
    /// The plan's fingerprint, sent back by the adopt form.
    fingerprint: String,
    /// What adopting would do, or why it would be refused (checked without writing).
    adoption: Adoption,
}

/// A current grid on the plan page: where its compounds go, whether it is kept as it is (the
/// user's choice), and the page with that choice turned round.
pub struct Fate {
    pub grid: String,
    pub fate: String,
    pub kept: bool,
    /// Empty for a grid without compounds, which cannot be kept.
    pub href: String,
}

/// What adopting would do, in words, or why the store would refuse it — checked by adopting
/// in a transaction that is rolled back, so the page never offers a plan that cannot be taken.
async fn adoption(s: &SharedState, p: &Principal, plans: &[Planned]) -> Adoption {
    let plans = &to_adopt(plans);
    // Checked as if the staff followed, which also says who would end without a successor.
    match s
        .store
        .try_plans(&p.access, plans, wangge_store::StaffOnRetired::Follow)
        .await
    {
        Ok(a) if a.created == 0 && a.retired == 0 && a.moved == 0 && a.households_moved == 0 => {
            Adoption::Unchanged
        }
        Ok(a) => {
            let mut what = format!(
                "采用后：保留网格 {} 个，启用新编码的网格 {} 个（合并、拆分和新建的），撤销 {} 个；{} 个小区、{} 户住户调整所属网格。",
                a.kept, a.created, a.retired, a.moved, a.households_moved
            );
            let list = |items: &[String]| {
                let shown = items.len().min(20);
                format!(
                    "{}{}",
                    items[..shown].join("、"),
                    if shown < items.len() { " 等" } else { "" }
                )
            };
            let ended = a.staff_ended.len() + a.staff_moved.len();
            if ended > 0 {
                what.push_str(&format!(
                    "被撤销网格上的 {ended} 项人员配备同日结束，需在新网格重新配备。"
                ));
            }
            if !a.staff_moved.is_empty() {
                what.push_str(&format!(
                    "勾选“人员随网格调入”则其中 {} 项同日调入接收其主要住户的网格：{}。",
                    a.staff_moved.len(),
                    list(&a.staff_moved)
                ));
            }
            if !a.staff_ended.is_empty() {
                what.push_str(&format!(
                    "{}：{}。",
                    if a.staff_moved.is_empty() {
                        "结束的配备"
                    } else {
                        "其余结束"
                    },
                    list(&a.staff_ended)
                ));
            }
            if !a.accounts_moved.is_empty() {
                what.push_str(&format!(
                    "被撤销网格上的 {} 个账号改到接收其主要住户的网格：{}。",
                    a.accounts_moved.len(),
                    list(&a.accounts_moved)
                ));
            }
            Adoption::Offer(what)
        }
        // The database busy with another write (a lock), not a reason to refuse the plan:
        // adopting checks everything again.
        Err(wangge_store::StoreError::Db(e)) => {
            tracing::warn!(error = %e, "plan pre-check not run");
            Adoption::Offer("（预先检查暂未完成，采用时会再次检查。）".into())
        }
        Err(e) => Adoption::Refused(AppError::from(e).message()),
    }
}

/// What the page says about adopting the plan shown.
enum Adoption {
    /// It may be adopted; what adopting will do.
    Offer(String),
    /// The plan is the registry as it is: adopting would change nothing.
    Unchanged,
    /// Why it cannot be adopted.
    Refused(String),
}

/// What a plan's grids need under the policy in force for the community's county, each grid
/// of the kind adopting would give it.
fn plan_needs(s: &crate::AppState, src: &PlanSource, input: &Input, plan: &Plan) -> Needs {
    let county = &src.community[..6.min(src.community.len())];
    let Some(policy) = Policy::in_force(&s.policies, county, wangge_store::today()) else {
        return Needs::default();
    };
    let kinds = src.kinds_after(&adopt_grids(src, plan));
    policy.plan_needs(plan.grids.iter().map(|g| {
        let kind = kinds.get(&g.code).copied().unwrap_or(GridKind::Urban);
        let members = g.compounds.iter().map(|&i| {
            let c = &input.compounds[i];
            Member::of(c.households, c.kind.as_deref(), c.has_property_management)
        });
        (kind, members)
    }))
}

/// Plans the community of `src`. The policy in force for its county decides, besides the band
/// (given), which compounds are grids of their own: under 涉农社区以居民小组为一个网格 every
/// residents' group is, whatever the band asked for.
fn run(
    s: &crate::AppState,
    src: &PlanSource,
    band: Band,
    k: &Knobs,
) -> Result<(Input, Plan), AppError> {
    let mut input = input_of(src, k.gap)?;
    input.fixed = k
        .keep
        .iter()
        .filter(|c| c.starts_with(&src.community))
        .cloned()
        .collect();
    let county = &src.community[..6.min(src.community.len())];
    if let Some(d) = Policy::in_force(&s.policies, county, wangge_store::today())
        .and_then(|p| p.doc().grid_division.as_ref())
    {
        input.alone = d.own_grids(src.compounds.iter().map(|c| Some(c.kind.as_str())));
        // The band is the policy's for some kinds of grid only (昌乐: urban): the others are
        // kept as they are rather than drawn to a band that is not theirs.
        for g in &input.current {
            let kind = src.live_traits.get(&g.code).map(|t| t.0);
            if kind.is_some_and(|k| !d.band_grid_kinds.contains(&k))
                && !input.fixed.contains(&g.code)
            {
                input.fixed.push(g.code.clone());
            }
        }
    }
    let plan = wangge_plan::plan(&input, &Options { band, seed: 1 })
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok((input, plan))
}

async fn propose(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<BandQuery>,
) -> Result<Response, PageError> {
    let again = format!("/plan/communities/{code}");
    retry_on_bad_input(propose_as_asked(s, p, code, q).await, &again)
}

/// A plan page whose query could not be read (a band, gap or kept grid typed wrong) says why
/// and offers the page again as the policy would have it, instead of a dead end; one without
/// a band to plan under (no policy gives one; comparisons always have theirs) asks for it.
fn retry_on_bad_input(r: Result<Response, PageError>, again: &str) -> Result<Response, PageError> {
    match r {
        Err(PageError(AppError::BadRequest(why))) if why == NO_BAND => {
            Ok(crate::error::band_page(&why, again))
        }
        Err(PageError(AppError::BadRequest(why))) => Ok(crate::error::retry_page(&why, again)),
        other => other,
    }
}

async fn propose_as_asked(
    s: SharedState,
    p: Principal,
    code: String,
    q: BandQuery,
) -> Result<Response, PageError> {
    let community = s.store.community(&p.access, &code).await?;
    let src = s.store.plan_source(&p.access, &code).await?;
    let band = band(&s, &code[..6.min(code.len())], &q)?;
    let k = Knobs::of(&q, &code)?;
    let (input, plan) = run_async(&s, &src, band, &k).await?;
    let (current, proposed) = maps(&[(&src, &input, &plan)], barrier_lines(&src));
    let PlanDiff {
        grids,
        fates,
        retired,
        moved,
        ..
    } = diff(&src, &plan, &input.fixed);
    // Each current grid with a link that keeps it as it is, or lets it be planned again.
    let fates = fates
        .into_iter()
        .map(|(grid, fate)| {
            let kept = k.keep.contains(&grid);
            let mut keep: Vec<String> = k.keep.iter().filter(|c| **c != grid).cloned().collect();
            if !kept {
                keep.push(grid.clone());
                keep.sort();
            }
            let others = Knobs { gap: k.gap, keep };
            // A grid without compounds has nothing to keep (adopting retires it).
            let keepable = kept || input.current.iter().any(|c| c.code == grid);
            let href = if keepable {
                format!(
                    "/plan/communities/{code}?min={}&max={}&gap={}&keep={}",
                    band.min,
                    band.max,
                    others.gap_text(),
                    others.keep_text(&code)
                )
            } else {
                String::new()
            };
            Fate {
                grid,
                fate,
                kept,
                href,
            }
        })
        .collect();
    let plans = vec![planned(&code, &src, &plan)];
    let can_adopt = p.access.can(Permission::PlanAdopt, &code);
    let adoption = if can_adopt {
        adoption(&s, &p, &plans).await
    } else {
        Adoption::Refused(String::new())
    };
    Ok(crate::auth::render(&PlanView {
        me: Me::of(&p),
        crumbs: community_plan_crumbs(&p, &community),
        can_adopt,
        can_export: p.access.can(Permission::RegistryExport, &code),
        fingerprint: fingerprint(&plans),
        adoption,
        current_grids: src.live_grids.len(),
        community,
        band,
        current,
        proposed,
        gap: k.gap_text(),
        keep: k.keep_text(&code),
        barriers: src.barriers.len(),
        street_link: p
            .access
            .can(Permission::RegistryRead, &code[..9.min(code.len())]),
        street_code: code[..9.min(code.len())].to_string(),
        grids,
        fates,
        no_gain: no_gain(&input, &plan, band, moved > 0 || !retired.is_empty()),
        retired,
        moved,
        summary: format!(
            "{} 个小区、{} 户 → {} 个网格，{} 个在区间内（可计入的 {} 个中；理论上限 {}{}）{}{}",
            plan.summary.compounds,
            plan.summary.households,
            plan.summary.grids,
            plan.summary.in_band,
            plan.summary.eligible,
            plan.summary.upper_bound,
            if plan.summary.proven_groups > 0 {
                format!(
                    "；{} 个相连小区组中 {} 个已证明不能更多",
                    plan.summary.groups, plan.summary.proven_groups
                )
            } else {
                String::new()
            },
            if plan.summary.own_grid > 0 {
                format!(
                    "；按现行政策“涉农社区以居民小组为一个网格”，{} 个居民小组各自成格，不计入户数标准",
                    plan.summary.own_grid
                )
            } else {
                String::new()
            },
            if plan.summary.fixed > 0 {
                format!(
                    "；{} 个网格保持不变（按要求，或是户数标准不适用的农村网格）",
                    plan.summary.fixed
                )
            } else {
                String::new()
            }
        ),
        needs: needs_text(&s, &code, &plan_needs(&s, &src, &input, &plan)),
        upper_bound: plan.summary.upper_bound,
        in_band: plan.summary.in_band,
        eligible: plan.summary.eligible,
    }))
}

/// How many of the current grids are in the band.
fn in_band_now(input: &Input, band: Band) -> usize {
    input
        .current
        .iter()
        .filter(|g| {
            let h: i64 = g
                .compounds
                .iter()
                .map(|&i| input.compounds[i].households)
                .sum();
            (band.min..=band.max).contains(&h)
        })
        .count()
}

/// When a plan that changes grids brings no more of them into the band than the current
/// grids have: says so, and what to do instead.
fn no_gain(input: &Input, plan: &Plan, band: Band, changes: bool) -> Option<String> {
    let now = in_band_now(input, band);
    (changes && plan.summary.in_band <= now).then(|| {
        format!(
            "现有网格中已有 {now} 个在 {}–{} 户之间，方案为 {} 个：采用不会增加符合户数标准的网格，只会调整网格。\
             如无其他理由（如现有网格跨越街路河），可不采用，或点下表中网格旁的“保持不变”。",
            band.min, band.max, plan.summary.in_band
        )
    })
}

/// What a plan changes in a community: every proposed grid with where it comes from, every
/// current grid with where it goes, and the counts.
struct PlanDiff {
    grids: Vec<ProposedGrid>,
    /// Every current grid and where its compounds go.
    fates: Vec<(String, String)>,
    /// Current grids the plan retires.
    retired: Vec<String>,
    /// Compounds put in another grid.
    moved: usize,
    /// Proposed grids by change: kept (same code), made by merging, split off, new (a new
    /// code for one grid's compounds counts here). Adopting keeps `kept` and creates the rest.
    kept: usize,
    merged: usize,
    split: usize,
    created: usize,
}

/// What a grid kept as it is says of itself: a rural grid is kept under a band the policy
/// sets for urban grids only (or as asked); another, as asked.
fn kept_words(src: &PlanSource, code: &str) -> String {
    match src.live_traits.get(code).map(|t| t.0) {
        Some(GridKind::Rural) => "保持不变（农村网格）".to_string(),
        _ => "保持不变（按要求）".to_string(),
    }
}

fn diff(src: &PlanSource, plan: &Plan, fixed: &[String]) -> PlanDiff {
    use std::collections::{BTreeMap, BTreeSet};
    let current_codes: Vec<&str> = src.live_grids.iter().map(|(c, _)| c.as_str()).collect();
    let proposed_codes: Vec<&str> = plan.grids.iter().map(|g| g.code.as_str()).collect();
    let mut proposed_of: Vec<Option<&str>> = vec![None; src.compounds.len()];
    for g in &plan.grids {
        for &m in &g.compounds {
            proposed_of[m] = Some(g.code.as_str());
        }
    }
    let moved = src
        .compounds
        .iter()
        .zip(&proposed_of)
        .filter(|(c, to)| c.grid_code.as_deref() != **to)
        .count();
    // Where each current grid's compounds go.
    let mut goes_to: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (c, to) in src.compounds.iter().zip(&proposed_of) {
        if let (Some(from), Some(to)) = (c.grid_code.as_deref(), to) {
            goes_to.entry(from).or_default().insert(to);
        }
    }
    let (mut kept, mut merged, mut split, mut created) = (0, 0, 0, 0);
    let grids = plan
        .grids
        .iter()
        .map(|g| {
            let from: BTreeSet<&str> = g
                .compounds
                .iter()
                .filter_map(|&i| src.compounds[i].grid_code.as_deref())
                .collect();
            let change = if g.kept_from.is_some() {
                kept += 1;
                let code = g.code.as_str();
                // Kept under its code, perhaps with compounds taken in or handed on.
                let taken: BTreeSet<&str> = from.iter().copied().filter(|f| *f != code).collect();
                let handed: BTreeSet<&str> = goes_to
                    .get(code)
                    .map(|d| d.iter().copied().filter(|t| *t != code).collect())
                    .unwrap_or_default();
                let list = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join("、");
                if fixed.contains(&g.code) {
                    kept_words(src, &g.code)
                } else if taken.is_empty() && handed.is_empty() {
                    "保留".to_string()
                } else {
                    let mut what = Vec::new();
                    if !taken.is_empty() {
                        what.push(format!("并入 {} 的小区", list(&taken)));
                    }
                    if !handed.is_empty() {
                        what.push(format!("部分小区拆分到 {}", list(&handed)));
                    }
                    format!("保留并调整：{}", what.join("，"))
                }
            } else if from.len() > 1 {
                merged += 1;
                format!(
                    "合并：{}",
                    from.iter().copied().collect::<Vec<_>>().join("、")
                )
            } else if let Some(&one) = from.iter().next() {
                if goes_to.get(one).is_some_and(|d| d.len() > 1) {
                    split += 1;
                    format!("拆分自 {one}")
                } else {
                    // One grid's compounds (and perhaps some that had none) under a new code:
                    // adopting creates it and retires the old one.
                    created += 1;
                    format!("由 {one} 调整")
                }
            } else {
                created += 1;
                "新建".to_string()
            };
            ProposedGrid {
                code: g.code.clone(),
                households: g.households,
                compounds: g
                    .compounds
                    .iter()
                    .map(|&i| src.compounds[i].name.clone())
                    .collect(),
                in_band: g.in_band,
                reason: g
                    .reason
                    .map(|r| r.message().to_string())
                    .unwrap_or_default(),
                change,
            }
        })
        .collect();
    // Every current grid: kept, split, merged into another, or retired.
    let fates = current_codes
        .iter()
        .map(|&c| {
            let to: Vec<&str> = goes_to
                .get(c)
                .map(|d| d.iter().copied().collect())
                .unwrap_or_default();
            let fate = match to.as_slice() {
                _ if fixed.iter().any(|f| f == c) => kept_words(src, c),
                [] => "撤销（无小区）".to_string(),
                [one] if *one == c => "保留或调整".to_string(),
                [one] => format!("并入 {one}"),
                many => format!("拆分到 {}", many.join("、")),
            };
            (c.to_string(), fate)
        })
        .collect();
    let retired = current_codes
        .iter()
        .filter(|c| !proposed_codes.contains(c))
        .map(|c| c.to_string())
        .collect();
    PlanDiff {
        grids,
        fates,
        retired,
        moved,
        kept,
        merged,
        split,
        created,
    }
}

/// The current and the proposed map of one community, or of several side by side in their
/// common coordinates (a street: labels left out, as codes repeat across communities; every
/// compound's tooltip names its grid).
fn maps(
    parts: &[(&PlanSource, &Input, &Plan)],
    lines: Vec<(&wangge_store::Barrier, Vec<wangge_plan::Pt>)>,
) -> (MapView, MapView) {
    let mut all = Input::default();
    let mut names: Vec<&str> = Vec::new();
    let (mut current_codes, mut proposed_codes) = (Vec::new(), Vec::new());
    let (mut current_of, mut proposed_of) = (Vec::new(), Vec::new());
    for (src, input, plan) in parts {
        let base = proposed_codes.len();
        proposed_of.extend(std::iter::repeat_n(None, input.compounds.len()));
        for (gi, g) in plan.grids.iter().enumerate() {
            for &m in &g.compounds {
                proposed_of[all.compounds.len() + m] = Some(base + gi);
            }
        }
        proposed_codes.extend(plan.grids.iter().map(|g| g.code.clone()));
        let base = current_codes.len();
        current_of.extend(src.compounds.iter().map(|c| {
            c.grid_code
                .as_ref()
                .and_then(|g| src.live_grids.iter().position(|(x, _)| x == g))
                .map(|i| base + i)
        }));
        current_codes.extend(src.live_grids.iter().map(|(c, _)| c.clone()));
        names.extend(src.compounds.iter().map(|c| c.name.as_str()));
        all.compounds.extend(input.compounds.iter().cloned());
    }
    // The map's frame is as wide as the longer side: a box that much larger on every side
    // keeps whatever may show (the SVG cuts the rest).
    let mut frame = wangge_plan::bbox_of(&all.compounds);
    let pad = frame.width().max(frame.height());
    frame.min = [frame.min[0] - pad, frame.min[1] - pad];
    frame.max = [frame.max[0] + pad, frame.max[1] + pad];
    let lines = near(lines, &frame);
    let mut current = map(&all, &names, &current_of, &current_codes, &lines);
    let mut proposed = map(&all, &names, &proposed_of, &proposed_codes, &lines);
    if parts.len() > 1 {
        // A street's maps: too many grids to name; each community named at its middle.
        let mut start = 0;
        let mut labels = Vec::with_capacity(parts.len());
        for (src, input, _) in parts {
            let tiles = &current.tiles[start..start + input.compounds.len()];
            start += input.compounds.len();
            if tiles.is_empty() {
                continue;
            }
            let n = tiles.len() as f64;
            labels.push(Label {
                x: tiles.iter().map(|t| t.cx).sum::<f64>() / n,
                y: tiles.iter().map(|t| t.cy).sum::<f64>() / n,
                text: src
                    .community_name
                    .strip_suffix("社区")
                    .unwrap_or(&src.community_name)
                    .to_string(),
            });
        }
        current.labels = labels.clone();
        proposed.labels = labels;
    }
    (current, proposed)
}

/// The fingerprint of a set of plans (community code and grids): what the page shows is what
/// is adopted, or nothing.
fn fingerprint(plans: &[Planned]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (community, grids, live) in plans {
        h.update(community.as_bytes());
        for g in grids {
            h.update(b"\n");
            h.update(g.code.as_bytes());
            for m in &g.compounds {
                h.update(b",");
                h.update(m.as_bytes());
            }
        }
        // The grids in force when the page was drawn: one added since (empty, or with staff
        // posted) would be retired by adopting, unseen.
        h.update(b"\n-");
        for g in live {
            h.update(b",");
            h.update(g.as_bytes());
        }
        h.update(b"\n\n");
    }
    crate::auth::hex(&h.finalize()[..8])
}

/// Refuses when the plan the user saw (its fingerprint) is not the plan the registry gives now.
fn same_plan(q: &BandQuery, plans: &[Planned]) -> Result<(), AppError> {
    match q.plan.as_deref().map(str::trim) {
        Some(seen) if !seen.is_empty() && seen != fingerprint(plans) => Err(AppError::Conflict(
            "方案已变化：打开页面以来，小区、户数或网格的登记有变动（或户数标准等参数与页面不同），方案随之改变。请重新查看方案后再采用，未作任何修改"
                .into(),
        )),
        _ => Ok(()),
    }
}

/// Adopts the plan the page showed: the planner is deterministic, so running it again on the
/// same registry gives the same plan; if the registry changed meanwhile (the form's `plan`
/// fingerprint differs), adopting refuses.
async fn adopt(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Form(q): Form<BandQuery>,
) -> Result<Response, PageError> {
    let summary = match adopt_with(&s, &p, &code, &q).await {
        Err(AppError::Conflict(why)) => {
            let back = q.plan_href(&format!("/plan/communities/{code}"));
            return Ok(crate::error::conflict_page(&why, &back, "重新查看方案"));
        }
        r => r?,
    };
    tracing::info!(user = %p.username, community = %code, ?summary, "plan adopted");
    Ok(Redirect::to(&format!(
        "/communities/{code}?{}",
        crate::pages::AdoptedQuery::of(&summary)
    ))
    .into_response())
}

/// Runs the planner again on the registry as it is (deterministic: the plan shown) and adopts it.
async fn adopt_with(
    s: &SharedState,
    p: &Principal,
    code: &str,
    q: &BandQuery,
) -> Result<wangge_store::AdoptSummary, AppError> {
    if !p.access.can(Permission::PlanAdopt, code) {
        return Err(AppError::Forbidden("无权采用该社区的网格划分方案".into()));
    }
    let src = s.store.plan_source(&p.access, code).await?;
    let band = band(s, &code[..6.min(code.len())], q)?;
    let (_, plan) = run_async(s, &src, band, &Knobs::of(q, code)?).await?;
    let plans = vec![planned(code, &src, &plan)];
    same_plan(q, &plans)?;
    let done = s
        .store
        .adopt_plans(&p.access, &to_adopt(&plans), q.staff())
        .await?;
    audit_accounts_moved(s, p, &done).await?;
    Ok(done)
}

/// A role moved with its retired grid is a role change: one audit row each, as the account
/// page's changes write (`user:名 旧 → 新`).
async fn audit_accounts_moved(
    s: &SharedState,
    p: &Principal,
    done: &wangge_store::AdoptSummary,
) -> Result<(), AppError> {
    for line in &done.accounts_moved {
        s.store
            .audit(&wangge_store::AuditEntry {
                user: p.username.clone(),
                roles: p.roles(),
                action: "roles".into(),
                object: format!("user:{line}（采用网格划分方案）"),
                client: p.client.clone(),
                result: "ok".into(),
            })
            .await?;
    }
    Ok(())
}

/// What adopting did, as JSON, with the band it was planned under (the policy's when none
/// was asked).
fn adopted_json(
    s: &SharedState,
    code: &str,
    q: &BandQuery,
    summary: wangge_store::AdoptSummary,
) -> Result<Response, crate::error::ApiError> {
    let band = band(s, &code[..6.min(code.len())], q)?;
    let mut doc = serde_json::to_value(summary).map_err(|_| AppError::Internal)?;
    doc["band"] = serde_json::json!([band.min, band.max]);
    Ok(axum::Json(doc).into_response())
}

/// A plan as the store adopts it: grid codes and compound ids.
/// A community's plan as adopting takes it, with the grids in force it was drawn against
/// (for the fingerprint).
type Planned = (String, Vec<AdoptGrid>, Vec<String>);

fn planned(community: &str, src: &PlanSource, plan: &Plan) -> Planned {
    (
        community.to_string(),
        adopt_grids(src, plan),
        src.live_grids.iter().map(|(c, _)| c.clone()).collect(),
    )
}

fn to_adopt(plans: &[Planned]) -> Vec<(String, Vec<AdoptGrid>)> {
    plans
        .iter()
        .map(|(c, g, _)| (c.clone(), g.clone()))
        .collect()
}

fn adopt_grids(src: &PlanSource, plan: &Plan) -> Vec<AdoptGrid> {
    plan.grids
        .iter()
        .map(|g| AdoptGrid {
            code: g.code.clone(),
            compounds: g
                .compounds
                .iter()
                .map(|&i| src.compounds[i].id.clone())
                .collect(),
        })
        .collect()
}

/// Plans every community of a street that has compounds and adopts all the plans in one
/// transaction (all or none). Needs the right to adopt on the whole street.
async fn adopt_street_with(
    s: &SharedState,
    p: &Principal,
    code: &str,
    q: &BandQuery,
) -> Result<wangge_store::AdoptSummary, AppError> {
    if !p.access.can(Permission::PlanAdopt, code) {
        return Err(AppError::Forbidden(
            "无权一次采用整个街道的网格划分方案".into(),
        ));
    }
    let st = s.store.street(&p.access, code).await?;
    let band = band(s, &code[..6.min(code.len())], q)?;
    let k = Knobs::of(q, code)?;
    let (rows, plans, _) = street_rows(s, p, &st, band, &k).await?;
    if let Some(r) = rows.iter().find(|r| r.problem.is_some()) {
        return Err(AppError::Conflict(format!(
            "{}：{}",
            r.name,
            r.problem.clone().unwrap_or_default()
        )));
    }
    same_plan(q, &plans)?;
    let done = s
        .store
        .adopt_plans(&p.access, &to_adopt(&plans), q.staff())
        .await?;
    audit_accounts_moved(s, p, &done).await?;
    Ok(done)
}

async fn adopt_street(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Form(q): Form<BandQuery>,
) -> Result<Response, PageError> {
    let summary = match adopt_street_with(&s, &p, &code, &q).await {
        Err(AppError::Conflict(why)) => {
            let back = q.plan_href(&format!("/plan/streets/{code}"));
            return Ok(crate::error::conflict_page(&why, &back, "重新查看方案"));
        }
        r => r?,
    };
    tracing::info!(user = %p.username, street = %code, ?summary, "street plans adopted");
    Ok(Redirect::to(&format!(
        "/streets/{code}?{}",
        crate::pages::AdoptedQuery::of(&summary)
    ))
    .into_response())
}

async fn api_adopt_street(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    axum::Json(f): axum::Json<serde_json::Value>,
) -> Result<Response, crate::error::ApiError> {
    let q = BandQuery::from_json(&f)?;
    let summary = adopt_street_with(&s, &p, &code, &q).await?;
    adopted_json(&s, &code, &q, summary)
}

/// The proposal as GeoJSON: one feature per grid with `code`, `households`, `compounds` (ids),
/// `in_band` and, when not in band, `reason` — the same format `wangge plan` writes.
async fn api_propose(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<BandQuery>,
) -> Result<Response, crate::error::ApiError> {
    s.store.community(&p.access, &code).await?;
    let src = s.store.plan_source(&p.access, &code).await?;
    let band = band(&s, &code[..6.min(code.len())], &q)?;
    let k = Knobs::of(&q, &code)?;
    let (input, plan) = run_async(&s, &src, band, &k).await?;
    let mut doc = geojson::plan_to_geojson(&input, &plan);
    doc["summary"] = serde_json::json!({
        "grids": plan.summary.grids,
        "in_band": plan.summary.in_band,
        "eligible": plan.summary.eligible,
        "own_grid": plan.summary.own_grid,
        "merged_over_ceiling": plan.summary.merged_over_ceiling,
        "merged_excess": plan.summary.merged_excess,
        "upper_bound": plan.summary.upper_bound,
        "groups": plan.summary.groups,
        "proven_groups": plan.summary.proven_groups,
        "fixed": plan.summary.fixed,
        "needs": plan_needs(&s, &src, &input, &plan),
        "needs_policy": needs_policy(&s, &code),
        "band": [band.min, band.max],
        "gap": k.gap,
        "keep": k.keep,
        "barriers": src.barriers.len(),
        "plan": fingerprint(&[planned(&code, &src, &plan)]),
    });
    Ok(axum::Json(doc).into_response())
}

async fn api_adopt(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    axum::Json(f): axum::Json<serde_json::Value>,
) -> Result<Response, crate::error::ApiError> {
    let q = BandQuery::from_json(&f)?;
    let summary = adopt_with(&s, &p, &code, &q).await?;
    adopted_json(&s, &code, &q, summary)
}

impl CommunityPlanRow {
    /// A plan that changes grids without bringing more of them into the band.
    pub fn no_gain(&self) -> bool {
        self.problem.is_none()
            && (self.moved > 0 || self.retired > 0)
            && self.in_band <= self.current_in_band
    }

    /// The sums over `rows`, named 合计.
    fn total(rows: &[CommunityPlanRow]) -> CommunityPlanRow {
        let sum = |f: fn(&CommunityPlanRow) -> usize| rows.iter().map(f).sum();
        CommunityPlanRow {
            code: String::new(),
            name: "合计".into(),
            households: rows.iter().map(|r| r.households).sum(),
            planned_households: rows.iter().map(|r| r.planned_households).sum(),
            current: sum(|r| r.current),
            current_in_band: sum(|r| r.current_in_band),
            proposed: sum(|r| r.proposed),
            in_band: sum(|r| r.in_band),
            eligible: sum(|r| r.eligible),
            upper_bound: sum(|r| r.upper_bound),
            moved: sum(|r| r.moved),
            kept: sum(|r| r.kept),
            merged: sum(|r| r.merged),
            split: sum(|r| r.split),
            created: sum(|r| r.created),
            retired: sum(|r| r.retired),
            needs: rows.iter().map(|r| r.needs).sum(),
            problem: None,
        }
    }
}

/// One community's proposal, summarised for the street page.
#[derive(serde::Serialize)]
pub struct CommunityPlanRow {
    pub code: String,
    pub name: String,
    /// As registered (附件2's figure where no compound is registered).
    pub households: i64,
    /// The households of the compounds planned (0 where no plan could be made).
    pub planned_households: i64,
    pub current: usize,
    /// Current grids in the band.
    pub current_in_band: usize,
    pub proposed: usize,
    pub in_band: usize,
    pub eligible: usize,
    pub upper_bound: usize,
    pub moved: usize,
    /// Proposed grids kept (or adjusted), merged, split off and new; current grids retired.
    pub kept: usize,
    pub merged: usize,
    pub split: usize,
    pub created: usize,
    pub retired: usize,
    /// What the proposed grids need under the policy in force (posts, workers, subsidies,
    /// equipment, station area); zero without a policy.
    pub needs: Needs,
    pub problem: Option<String>,
}

#[derive(Template)]
#[template(path = "plan_street.html")]
struct StreetPlanView {
    me: Me,
    crumbs: Vec<Crumb>,
    street: wangge_store::Street,
    band: Band,
    /// The neighbour distance asked for (metres), as the form shows it.
    gap: String,
    /// The grids kept as they are (codes), as the form shows them.
    keep: String,
    /// The street's barriers.
    barriers: usize,
    /// The street's current and proposed grids (the communities that could be planned), or
    /// why there are no maps; and the communities left off them.
    current: Option<MapView>,
    proposed: Option<MapView>,
    map_note: Option<String>,
    not_drawn: Vec<String>,
    rows: Vec<CommunityPlanRow>,
    /// The sums over the communities planned.
    total: CommunityPlanRow,
    /// What the proposed grids need under the policy in force.
    needs: Option<String>,
    can_adopt: bool,
    /// May download the plan as a workbook.
    can_export: bool,
    fingerprint: String,
    adoption: Adoption,
}

impl StreetPlanView {
    /// The grids kept in one community, as its own plan page takes them (last 3 digits).
    fn keep_in(&self, community: &str) -> String {
        self.keep
            .split(',')
            .filter_map(|c| c.strip_prefix(community))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Every community of a street planned: a row each, the plans to adopt (communities with
/// compounds), and what was planned (for the maps).
type StreetPlans = (
    Vec<CommunityPlanRow>,
    Vec<Planned>,
    Vec<(PlanSource, Input, Plan)>,
);

/// A street's plans as a page or API asks for them: the street, the band (the policy's when
/// none is asked), the knobs, and every community planned.
async fn street_as_asked(
    s: &SharedState,
    p: &Principal,
    code: &str,
    q: &BandQuery,
) -> Result<(wangge_store::StreetOverview, Band, Knobs, StreetPlans), AppError> {
    let st = s.store.street(&p.access, code).await?;
    let band = band(s, &code[..6.min(code.len())], q)?;
    let k = Knobs::of(q, code)?;
    let plans = street_rows(s, p, &st, band, &k).await?;
    Ok((st, band, k, plans))
}

async fn street_rows(
    s: &SharedState,
    p: &Principal,
    st: &wangge_store::StreetOverview,
    band: Band,
    k: &Knobs,
) -> Result<StreetPlans, AppError> {
    k.keep_within(std::slice::from_ref(st))?;
    let mut rows = Vec::new();
    let mut plans = Vec::new();
    let mut drawn = Vec::new();
    let sources = street_sources(s, p, st).await?;
    k.keep_live(&sources)?;
    let (s, k) = (s.clone(), k.clone());
    off_runtime(move || {
        for (c, src) in sources {
            let (row, plan) = community_row(&s, &c, src, band, &k);
            rows.push(row);
            if let Some((src, input, plan)) = plan {
                plans.push(planned(&c.code, &src, &plan));
                drawn.push((src, input, plan));
            }
        }
        (rows, plans, drawn)
    })
    .await
}

/// The planner's view of every community of a street, read once.
async fn street_sources(
    s: &SharedState,
    p: &Principal,
    st: &wangge_store::StreetOverview,
) -> Result<Vec<(wangge_store::Community, PlanSource)>, AppError> {
    let mut out = Vec::with_capacity(st.communities.len());
    for c in &st.communities {
        out.push((c.clone(), s.store.plan_source(&p.access, &c.code).await?));
    }
    Ok(out)
}

/// One community planned for the street page: its row (or why it could not be planned), and
/// the plan when it has compounds to adopt. CPU only.
fn community_row(
    s: &crate::AppState,
    c: &wangge_store::Community,
    src: PlanSource,
    band: Band,
    k: &Knobs,
) -> (CommunityPlanRow, Option<(PlanSource, Input, Plan)>) {
    let mut row = CommunityPlanRow {
        code: c.code.clone(),
        name: c.name.clone(),
        households: c.figures.households,
        planned_households: 0,
        current: src.live_grids.len(),
        current_in_band: 0,
        proposed: 0,
        in_band: 0,
        eligible: 0,
        upper_bound: 0,
        moved: 0,
        kept: 0,
        merged: 0,
        split: 0,
        created: 0,
        retired: 0,
        needs: Needs::default(),
        problem: None,
    };
    match run(s, &src, band, k) {
        Ok((input, plan)) => {
            row.planned_households = plan.summary.households;
            row.current_in_band = in_band_now(&input, band);
            row.proposed = plan.grids.len();
            row.in_band = plan.summary.in_band;
            row.eligible = plan.summary.eligible;
            row.upper_bound = plan.summary.upper_bound;
            let d = diff(&src, &plan, &input.fixed);
            (row.moved, row.kept, row.merged, row.split, row.created) =
                (d.moved, d.kept, d.merged, d.split, d.created);
            row.retired = d.retired.len();
            row.needs = plan_needs(s, &src, &input, &plan);
            let plan = (!src.compounds.is_empty()).then_some((src, input, plan));
            (row, plan)
        }
        Err(e) => {
            row.problem = Some(e.message());
            (row, None)
        }
    }
}

/// The street's proposal as JSON: a row per community (or its problem), the sums, and the
/// fingerprint that `POST /api/plan/streets/{code}/adopt` takes as `plan`.
async fn api_street_plans(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<BandQuery>,
) -> Result<Response, crate::error::ApiError> {
    let (_, band, k, (rows, plans, _)) = street_as_asked(&s, &p, &code, &q).await?;
    Ok(axum::Json(serde_json::json!({
        "street": code,
        "band": [band.min, band.max],
        "gap": k.gap,
        "keep": k.keep,
        "barriers": s.store.street_barriers(&p.access, &code).await?.len(),
        "total": CommunityPlanRow::total(&rows),
        "communities": rows,
        "plan": fingerprint(&plans),
    }))
    .into_response())
}

/// The street's proposal as one GeoJSON FeatureCollection, for checking in GIS: a feature per
/// proposed grid of every community planned (properties as the community's plan gives them,
/// with `community` and `community_name`), and in `summary` the band, the knobs, the
/// fingerprint and the communities that could not be planned.
async fn api_street_geojson(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<BandQuery>,
) -> Result<Response, crate::error::ApiError> {
    let (_, band, k, (rows, plans, planned)) = street_as_asked(&s, &p, &code, &q).await?;
    let mut features = Vec::new();
    for (src, input, plan) in &planned {
        let doc = geojson::plan_to_geojson(input, plan);
        for mut f in doc["features"].as_array().cloned().unwrap_or_default() {
            f["properties"]["community"] = serde_json::json!(src.community);
            f["properties"]["community_name"] = serde_json::json!(src.community_name);
            features.push(f);
        }
    }
    let not_planned: Vec<serde_json::Value> = rows
        .iter()
        .filter_map(|r| {
            r.problem
                .as_ref()
                .map(|e| serde_json::json!({"code": r.code, "name": r.name, "problem": e}))
        })
        .collect();
    Ok(axum::Json(serde_json::json!({
        "type": "FeatureCollection",
        "features": features,
        "summary": {
            "street": code,
            "band": [band.min, band.max],
            "gap": k.gap,
            "keep": k.keep,
            "grids": features.len(),
            "not_planned": not_planned,
            "plan": fingerprint(&plans),
        },
    }))
    .into_response())
}

/// The trail to a community's plan: 总览 › the street's plan (for those who may read the
/// street) › the community › 网格划分方案.
fn community_plan_crumbs(p: &Principal, community: &wangge_store::Community) -> Vec<Crumb> {
    let mut crumbs = vec![Crumb {
        label: "总览".into(),
        href: "/".into(),
    }];
    if p.access
        .can(Permission::RegistryRead, &community.street_code)
    {
        crumbs.push(Crumb {
            label: format!("{}网格划分方案", community.street_name),
            href: format!("/plan/streets/{}", community.street_code),
        });
    }
    crumbs.push(Crumb {
        label: community.name.clone(),
        href: format!("/communities/{}", community.code),
    });
    crumbs.push(Crumb {
        label: "网格划分方案".into(),
        href: format!("/plan/communities/{}", community.code),
    });
    crumbs
}

/// The trail to a page of a street's: 总览 › the street › the page.
fn street_crumbs(street: &wangge_store::Street, label: &str, href: String) -> Vec<Crumb> {
    vec![
        Crumb {
            label: "总览".into(),
            href: "/".into(),
        },
        Crumb {
            label: street.name.clone(),
            href: format!("/streets/{}", street.code),
        },
        Crumb {
            label: label.into(),
            href,
        },
    ]
}

/// Every community of a street planned at once: what would change where.
async fn street_plans(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<BandQuery>,
) -> Result<Response, PageError> {
    let again = format!("/plan/streets/{code}");
    retry_on_bad_input(street_plans_as_asked(s, p, code, q).await, &again)
}

async fn street_plans_as_asked(
    s: SharedState,
    p: Principal,
    code: String,
    q: BandQuery,
) -> Result<Response, PageError> {
    let (st, band, k, (rows, plans, planned)) = street_as_asked(&s, &p, &code, &q).await?;
    let parts: Vec<(&PlanSource, &Input, &Plan)> =
        planned.iter().map(|(s, i, p)| (s, i, p)).collect();
    // One map for the street needs one coordinate system (each community's plan checks its
    // own compounds; longitude/latitude beside metres would squash one of them to a dot).
    let systems: std::collections::BTreeSet<bool> = planned
        .iter()
        .map(|(_, input, _)| input.compounds.iter().all(|c| c.geometry.looks_lonlat()))
        .collect();
    let (current, proposed, map_note) = match planned.first() {
        Some(_) if systems.len() > 1 => (
            None,
            None,
            Some(
                "各社区小区边界的坐标系不一致（经纬度与平面坐标），不能画在同一张图上".to_string(),
            ),
        ),
        Some((first, _, _)) => {
            let (c, p) = maps(&parts, barrier_lines(first));
            (Some(c), Some(p), None)
        }
        None => (None, None, None),
    };
    let not_drawn: Vec<String> = rows
        .iter()
        .filter(|r| r.problem.is_some())
        .map(|r| r.name.clone())
        .collect();
    let can_adopt =
        p.access.can(Permission::PlanAdopt, &code) && rows.iter().all(|r| r.problem.is_none());
    let adoption = if can_adopt {
        adoption(&s, &p, &plans).await
    } else {
        Adoption::Refused(String::new())
    };
    Ok(crate::auth::render(&StreetPlanView {
        me: Me::of(&p),
        crumbs: street_crumbs(&st.street, "网格划分方案", format!("/plan/streets/{code}")),
        can_adopt,
        can_export: p.access.can(Permission::RegistryExport, &code),
        fingerprint: fingerprint(&plans),
        adoption,
        total: CommunityPlanRow::total(&rows),
        needs: needs_text(&s, &code, &CommunityPlanRow::total(&rows).needs),
        street: st.street,
        band,
        gap: k.gap_text(),
        keep: k.keep_text(&code),
        barriers: s.store.street_barriers(&p.access, &code).await?.len(),
        current,
        proposed,
        map_note,
        not_drawn,
        rows,
    }))
}

// ---- household standards compared (标准比选) ---------------------------------------------------

/// The bands to compare, as asked: `bands=500-600,300-500` (a dash of any width, full-width
/// digits read as digits); the list is refused whole with the first bad item named.
#[derive(Deserialize, Default)]
pub struct CompareQuery {
    bands: Option<String>,
    gap: Option<String>,
    keep: Option<String>,
}

/// The most bands one comparison plans (each plans every community of the street).
const MAX_COMPARED: usize = 8;

/// A band to compare and where it comes from (a policy, or "as asked").
#[derive(serde::Serialize)]
pub struct Candidate {
    pub min: i64,
    pub max: i64,
    pub source: String,
}

/// The bands a comparison starts from when none is asked: the policy in force for the
/// county first, then every other policy's band and stated layout unit (e.g. 昌乐 2020's
/// "500—1000 户左右为单位"), each once.
fn default_bands(s: &SharedState, county: &str) -> Vec<Candidate> {
    let in_force = Policy::in_force(&s.policies, county, wangge_store::today());
    let mut ordered: Vec<&Policy> = in_force.into_iter().collect();
    ordered.extend(
        s.policies
            .iter()
            .filter(|p| !in_force.is_some_and(|f| std::ptr::eq(*p, f))),
    );
    let mut out: Vec<Candidate> = Vec::new();
    for p in ordered {
        let Some(d) = p.doc().grid_division.as_ref() else {
            continue;
        };
        let name = p.short_name();
        let mut add = |min: i64, max: i64, source: String| {
            if !out.iter().any(|c| c.min == min && c.max == max) {
                out.push(Candidate { min, max, source });
            }
        };
        let current = if in_force.is_some_and(|f| std::ptr::eq(p, f)) {
            "（现行）"
        } else {
            ""
        };
        add(
            d.household_floor,
            d.household_ceiling,
            format!("{name}网格规模{current}"),
        );
        if let (Some(lo), Some(hi)) = (d.layout_unit_floor, d.layout_unit_ceiling) {
            add(lo, hi, format!("{name}调整划分的原则性表述"));
        }
    }
    out
}

fn parse_bands(raw: &str) -> Result<Vec<Candidate>, AppError> {
    const DASHES: [char; 6] = ['-', '–', '—', '~', '～', '－'];
    if raw.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "户数标准太长：最多 200 个字符（如 500-600, 300-500）".into(),
        ));
    }
    // Any run of spaces is a separator, except round a dash: "500 - 600" is one band.
    let mut joined = String::with_capacity(raw.len());
    let mut space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        let after_dash = joined
            .chars()
            .next_back()
            .is_some_and(|p| DASHES.contains(&p));
        if space && !joined.is_empty() && !after_dash && !DASHES.contains(&c) {
            joined.push(' ');
        }
        space = false;
        joined.push(c);
    }
    let mut out: Vec<Candidate> = Vec::new();
    for item in joined
        .split([',', '，', '、', ';', '；', ' '])
        .map(half_width)
        .filter(|t| !t.is_empty())
    {
        let bad = || {
            AppError::BadRequest(format!(
                "户数标准应写成“下限-上限”（如 500-600），多个以逗号分隔，收到「{item}」"
            ))
        };
        let (lo, hi) = item.split_once(DASHES).ok_or_else(bad)?;
        let (lo, hi) = (
            lo.trim().parse::<i64>().map_err(|_| bad())?,
            hi.trim().parse::<i64>().map_err(|_| bad())?,
        );
        if lo <= 0 || lo > hi {
            return Err(AppError::BadRequest(format!(
                "户数标准无效：「{item}」（下限应为正数且不大于上限）"
            )));
        }
        if !out.iter().any(|c| c.min == lo && c.max == hi) {
            out.push(Candidate {
                min: lo,
                max: hi,
                source: "按输入".into(),
            });
        }
    }
    if out.is_empty() {
        return Err(AppError::BadRequest(
            "请给出至少一个户数标准，如 500-600".into(),
        ));
    }
    if out.len() > MAX_COMPARED {
        return Err(AppError::BadRequest(format!(
            "一次最多比较 {MAX_COMPARED} 个户数标准，收到 {} 个",
            out.len()
        )));
    }
    Ok(out)
}

/// One band planned over the whole street: the street plan's sums, and the households a
/// grid has on average.
#[derive(serde::Serialize)]
pub struct Compared {
    pub band: Candidate,
    pub total: CommunityPlanRow,
    /// Households per proposed grid, rounded.
    pub mean_households: i64,
    /// Communities whose plan could not be made (named in the street plan).
    pub problems: usize,
    /// The sums street by street (one street when a street is compared).
    pub streets: Vec<StreetSum>,
}

/// One street's sums under a band.
#[derive(serde::Serialize)]
pub struct StreetSum {
    pub code: String,
    pub name: String,
    pub total: CommunityPlanRow,
}

/// Plans `streets` under every band asked for (or the policies' bands); `scope` is the code
/// of the street or county compared.
async fn comparison(
    s: &SharedState,
    p: &Principal,
    scope: &str,
    streets: &[wangge_store::StreetOverview],
    q: &CompareQuery,
) -> Result<(Vec<Compared>, Knobs), AppError> {
    let bands = match q.bands.as_deref().map(str::trim) {
        Some(raw) if !raw.is_empty() => parse_bands(raw)?,
        _ => {
            let mut bands = default_bands(s, &scope[..6.min(scope.len())]);
            bands.truncate(MAX_COMPARED);
            bands
        }
    };
    let k = Knobs::of(
        &BandQuery {
            gap: q.gap.clone(),
            keep: q.keep.clone(),
            ..Default::default()
        },
        scope,
    )?;
    k.keep_within(streets)?;
    // Planning a county under several bands is seconds of CPU: one comparison at a time, off
    // the async runtime, every community's source read once for all bands.
    let _turn = PLANNING.acquire().await.map_err(|_| AppError::Internal)?;
    let mut sources = Vec::with_capacity(streets.len());
    for st in streets {
        sources.push((st.street.clone(), street_sources(s, p, st).await?));
    }
    k.keep_live(sources.iter().flat_map(|(_, own)| own))?;
    let state = s.clone();
    let knobs = k.clone();
    let out = tokio::task::spawn_blocking(move || {
        bands
            .into_iter()
            .map(|band| compare_band(&state, &sources, band, &knobs))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|_| AppError::Internal)?;
    Ok((out, k))
}

/// One plan or comparison runs at a time (the other core stays with the other requests).
static PLANNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// The streets planned under one band, summed street by street and over all.
fn compare_band(
    s: &crate::AppState,
    sources: &[(
        wangge_store::Street,
        Vec<(wangge_store::Community, PlanSource)>,
    )],
    band: Candidate,
    k: &Knobs,
) -> Compared {
    let mut all = Vec::new();
    let mut sums = Vec::with_capacity(sources.len());
    for (street, communities) in sources {
        let rows: Vec<CommunityPlanRow> = communities
            .iter()
            .map(|(c, src)| {
                let b = Band {
                    min: band.min,
                    max: band.max,
                };
                community_row(s, c, src.clone(), b, k).0
            })
            .collect();
        sums.push(StreetSum {
            code: street.code.clone(),
            name: street.name.clone(),
            total: CommunityPlanRow::total(&rows),
        });
        all.extend(rows);
    }
    let total = CommunityPlanRow::total(&all);
    Compared {
        mean_households: if total.proposed > 0 {
            (total.planned_households as f64 / total.proposed as f64).round() as i64
        } else {
            0
        },
        problems: all.iter().filter(|r| r.problem.is_some()).count(),
        band,
        total,
        streets: sums,
    }
}

#[derive(Template)]
#[template(path = "plan_compare.html")]
struct CompareView {
    me: Me,
    crumbs: Vec<Crumb>,
    /// The street's or the county's name, and the page's own address.
    name: String,
    action: String,
    /// Whether the county is compared (a column per street).
    county: bool,
    rows: Vec<Compared>,
    /// The bands as the form shows them.
    bands: String,
    gap: String,
    keep: String,
    /// The policy the grids' needs are reckoned under (the one in force), if any.
    policy: Option<String>,
}

/// Several household standards planned over a street side by side: how many grids each
/// gives, how many in band, moved compounds — for choosing a standard (the district redrew
/// at 300–500, then 200–300; the county's plan says both 500–600 and "about 500–1000").
async fn compare_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, PageError> {
    let again = format!("/plan/streets/{code}/compare");
    retry_on_bad_input(compare_page_as_asked(s, p, code, q).await, &again)
}

async fn compare_page_as_asked(
    s: SharedState,
    p: Principal,
    code: String,
    q: CompareQuery,
) -> Result<Response, PageError> {
    let st = s.store.street(&p.access, &code).await?;
    let (rows, k) = comparison(&s, &p, &code, std::slice::from_ref(&st), &q).await?;
    Ok(crate::auth::render(&CompareView {
        me: Me::of(&p),
        crumbs: street_crumbs(
            &st.street,
            "户数标准比选",
            format!("/plan/streets/{code}/compare"),
        ),
        name: st.street.name.clone(),
        action: format!("/plan/streets/{code}/compare"),
        county: false,
        bands: bands_text(&rows),
        gap: k.gap_text(),
        keep: k.keep_text(&code),
        policy: needs_policy(&s, &code),
        rows,
    }))
}

/// The policy in force where `code` lies, named as pages name it (昌乐县 2020 年), which
/// [`plan_needs`] reckons under.
fn needs_policy(s: &crate::AppState, code: &str) -> Option<String> {
    Policy::in_force(
        &s.policies,
        &code[..6.min(code.len())],
        wangge_store::today(),
    )
    .map(Policy::short_name)
}

/// A figure the policy may leave unstated, shown as “—” then.
fn unstated<T>(v: Option<T>, show: fn(T) -> String) -> String {
    v.map_or_else(|| "—".to_string(), show)
}

/// What a plan's grids need, as a sentence under the policy in force where `code` lies.
fn needs_text(s: &crate::AppState, code: &str, n: &Needs) -> Option<String> {
    needs_policy(s, code).map(|p| n.sentence(&p))
}

impl CompareView {
    /// A sum the policy may leave unstated (—).
    fn wan(&self, fen: &Option<i64>) -> String {
        unstated(*fen, wan_text)
    }

    fn wan_year(&self, n: &Needs) -> String {
        self.wan(&n.worker_year_fen())
    }

    /// The station area every grid needs, when the policy in force states it.
    fn station(&self) -> Option<i64> {
        self.rows.first().and_then(|r| r.total.needs.station_min_m2)
    }

    /// The grids kept in one street, as its plan page takes them.
    fn keep_in(&self, street: &str) -> String {
        self.keep
            .split(',')
            .filter(|c| c.starts_with(street))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The bands compared, as the form shows them.
fn bands_text(rows: &[Compared]) -> String {
    rows.iter()
        .map(|r| format!("{}-{}", r.band.min, r.band.max))
        .collect::<Vec<_>>()
        .join(",")
}

/// The county's streets, for a reader of the whole county.
async fn county_streets(
    s: &SharedState,
    p: &Principal,
) -> Result<(wangge_store::County, Vec<wangge_store::StreetOverview>), AppError> {
    let county = s
        .store
        .county()
        .await?
        .ok_or_else(|| AppError::NotFound("尚未建立县（区）".into()))?;
    if !p.access.can(Permission::RegistryRead, &county.code) {
        return Err(AppError::Forbidden("无权查看全县（区）".into()));
    }
    let o = s.store.overview(&p.access).await?;
    Ok((county, o.streets))
}

/// The same over the whole county, street by street: the county chooses its standard.
async fn county_compare_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, PageError> {
    retry_on_bad_input(county_compare_as_asked(s, p, q).await, "/plan/compare")
}

async fn county_compare_as_asked(
    s: SharedState,
    p: Principal,
    q: CompareQuery,
) -> Result<Response, PageError> {
    let (county, streets) = county_streets(&s, &p).await?;
    let (rows, k) = comparison(&s, &p, &county.code, &streets, &q).await?;
    Ok(crate::auth::render(&CompareView {
        me: Me::of(&p),
        crumbs: vec![
            Crumb {
                label: "总览".into(),
                href: "/".into(),
            },
            Crumb {
                label: "户数标准比选".into(),
                href: "/plan/compare".into(),
            },
        ],
        name: county.name.clone(),
        action: "/plan/compare".into(),
        county: true,
        bands: bands_text(&rows),
        gap: k.gap_text(),
        keep: k.keep_text(&county.code),
        policy: needs_policy(&s, &county.code),
        rows,
    }))
}

async fn api_county_compare(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, crate::error::ApiError> {
    let (county, streets) = county_streets(&s, &p).await?;
    let (rows, k) = comparison(&s, &p, &county.code, &streets, &q).await?;
    Ok(axum::Json(serde_json::json!({
        "county": county.code,
        "gap": k.gap,
        "keep": k.keep,
        "needs_policy": needs_policy(&s, &county.code),
        "bands": rows,
    }))
    .into_response())
}

/// The comparison as JSON: one item per band with its source, the street's sums and the mean
/// households per grid.
async fn api_compare(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, crate::error::ApiError> {
    let st = s.store.street(&p.access, &code).await?;
    let (rows, k) = comparison(&s, &p, &code, std::slice::from_ref(&st), &q).await?;
    Ok(axum::Json(serde_json::json!({
        "street": code,
        "gap": k.gap,
        "keep": k.keep,
        "needs_policy": needs_policy(&s, &code),
        "bands": rows,
    }))
    .into_response())
}

// ---- the plan as a workbook, for review before it is adopted --------------------------------

/// How a plan was asked for, for a workbook's title.
fn asked(band: Band, k: &Knobs, scope: &str, fingerprint: &str) -> String {
    let mut t = format!("每格 {}–{} 户", band.min, band.max);
    if let Some(g) = k.gap {
        t.push_str(&format!("，相邻距离 {g} 米"));
    }
    if !k.keep.is_empty() {
        t.push_str(&format!("，保持不变：{}", k.keep_text(scope)));
    }
    format!(
        "{t}；{} 生成，方案指纹 {fingerprint}",
        wangge_store::today()
    )
}

/// The proposed grids and what becomes of the current ones, as sheet rows (after a title
/// row and a header), over one community or several.
fn plan_sheets(title: &str, parts: &[(&str, PlanDiff)]) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut grids = vec![
        vec![title.to_string()],
        [
            "序号",
            "社区",
            "网格编码",
            "变化",
            "户数",
            "是否在区间内",
            "说明",
            "小区数",
            "小区",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut fates = vec![
        vec![format!("{title}：现有网格去向")],
        ["社区", "现有网格", "去向"].map(String::from).to_vec(),
    ];
    for (community, d) in parts {
        for g in &d.grids {
            grids.push(vec![
                (grids.len() - 1).to_string(),
                community.to_string(),
                g.code.clone(),
                g.change.clone(),
                g.households.to_string(),
                if g.in_band { "是" } else { "否" }.to_string(),
                g.reason.clone(),
                g.compounds.len().to_string(),
                names_cell(&g.compounds),
            ]);
        }
        for (grid, fate) in &d.fates {
            fates.push(vec![community.to_string(), grid.clone(), fate.clone()]);
        }
    }
    (grids, fates)
}

/// Compound names for one cell: an Excel cell holds at most 32,767 characters, so a grid
/// of thousands of compounds lists the first ones and how many more.
fn names_cell(names: &[String]) -> String {
    const LIMIT: usize = 30_000;
    let (mut out, mut chars) = (String::new(), 0);
    for (k, n) in names.iter().enumerate() {
        let sep = if k == 0 { "" } else { "、" };
        let more = sep.chars().count() + n.chars().count();
        if chars + more > LIMIT {
            out.push_str(&format!("……等共 {} 个", names.len()));
            break;
        }
        out.push_str(sep);
        out.push_str(n);
        chars += more;
    }
    out
}

/// The workbook: the street's summary first when there is one, then the proposed grids and
/// where the current ones go.
fn plan_workbook(
    summary: Option<&[Vec<String>]>,
    grids: &[Vec<String>],
    fates: &[Vec<String>],
    name: &str,
) -> Result<Response, AppError> {
    let mut sheets = Vec::with_capacity(3);
    if let Some(rows) = summary {
        sheets.push(wangge_sheets::OutSheet {
            name: "社区汇总",
            rows,
            title_rows: 1,
            numeric_columns: &[
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
            ],
            widths: &[
                14.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 6.0, 6.0, 6.0, 6.0, 6.0, 8.0, 10.0, 12.0,
                8.0, 10.0, 10.0, 40.0,
            ],
        });
    }
    sheets.push(wangge_sheets::OutSheet {
        name: "网格划分方案",
        rows: grids,
        title_rows: 1,
        numeric_columns: &[0, 4, 7],
        widths: &[6.0, 14.0, 18.0, 22.0, 8.0, 12.0, 40.0, 8.0, 60.0],
    });
    sheets.push(wangge_sheets::OutSheet {
        name: "现有网格去向",
        rows: fates,
        title_rows: 1,
        numeric_columns: &[],
        widths: &[14.0, 18.0, 40.0],
    });
    let bytes = wangge_sheets::write_xlsx(&sheets).map_err(|e| {
        tracing::error!(error = %e, "plan workbook");
        AppError::Internal
    })?;
    Ok(crate::pages::download_as(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        name,
        "grid-plan",
    ))
}

/// A community's proposal as a workbook (方案表): every proposed grid, and where every
/// current grid goes; the title says how it was asked for and carries the fingerprint that
/// adopting checks. Needs the right to export the community's registry.
async fn export_community(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<BandQuery>,
) -> Result<Response, PageError> {
    if !p.access.can(Permission::RegistryExport, &code) {
        return Err(AppError::Forbidden("无权导出该社区的网格划分方案".into()).into());
    }
    let community = s.store.community(&p.access, &code).await?;
    let src = s.store.plan_source(&p.access, &code).await?;
    let band = band(&s, &code[..6.min(code.len())], &q)?;
    let k = Knobs::of(&q, &code)?;
    let (input, plan) = run_async(&s, &src, band, &k).await?;
    let fp = fingerprint(&[planned(&code, &src, &plan)]);
    let title = format!(
        "{}网格划分方案（{}）",
        community.name,
        asked(band, &k, &code, &fp)
    );
    let d = diff(&src, &plan, &input.fixed);
    let (grids, fates) = plan_sheets(&title, &[(community.name.as_str(), d)]);
    Ok(plan_workbook(
        None,
        &grids,
        &fates,
        &format!("{}（{code}）网格划分方案.xlsx", community.name),
    )?)
}

/// A street's proposals as one workbook: a row per community with the sums, then every
/// proposed grid and where every current grid goes.
async fn export_street(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<BandQuery>,
) -> Result<Response, PageError> {
    if !p.access.can(Permission::RegistryExport, &code) {
        return Err(AppError::Forbidden("无权导出该街道的网格划分方案".into()).into());
    }
    let (st, band, k, (rows, plans, planned)) = street_as_asked(&s, &p, &code, &q).await?;
    let title = format!(
        "{}网格划分方案（{}）",
        st.street.name,
        asked(band, &k, &code, &fingerprint(&plans))
    );
    let summary_title = match needs_policy(&s, &code) {
        Some(policy) => format!("{title}；人员和经费按{policy}政策测算，“—”为政策未规定"),
        None => title.clone(),
    };
    let mut summary = vec![
        vec![summary_title],
        [
            "社区",
            "户数",
            "现有网格",
            "方案网格",
            "在区间内",
            "可计入",
            "理论上限",
            "移动小区",
            "保留",
            "合并",
            "拆分",
            "新建",
            "撤销",
            "网格指导员岗位",
            "可设网格长的网格（含应设）",
            "网格员（网格长以外的网格工作人员）",
            "计补贴的网格",
            "网格员补贴（万元/年）",
            "办公设施设备费用（万元）",
            "不能生成的原因",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let total = CommunityPlanRow::total(&rows);
    for r in rows.iter().chain(std::iter::once(&total)) {
        summary.push(vec![
            r.name.clone(),
            r.households.to_string(),
            r.current.to_string(),
            r.proposed.to_string(),
            r.in_band.to_string(),
            r.eligible.to_string(),
            r.upper_bound.to_string(),
            r.moved.to_string(),
            r.kept.to_string(),
            r.merged.to_string(),
            r.split.to_string(),
            r.created.to_string(),
            r.retired.to_string(),
            unstated(r.needs.instructors, |n| n.to_string()),
            r.needs.leaders_allowed.to_string(),
            r.needs.workers.to_string(),
            r.needs.budgeted_grids.to_string(),
            unstated(r.needs.worker_year_fen(), wan_text),
            unstated(r.needs.equipment_fen, wan_text),
            r.problem.clone().unwrap_or_default(),
        ]);
    }
    let names: Vec<String> = planned
        .iter()
        .map(|(src, _, _)| src.community_name.clone())
        .collect();
    let parts: Vec<(&str, PlanDiff)> = planned
        .iter()
        .zip(&names)
        .map(|((src, input, plan), name)| (name.as_str(), diff(src, plan, &input.fixed)))
        .collect();
    let (grids, fates) = plan_sheets(&title, &parts);
    Ok(plan_workbook(
        Some(&summary),
        &grids,
        &fates,
        &format!("{}（{code}）网格划分方案.xlsx", st.street.name),
    )?)
}

// ---- compound boundaries, uploaded from GIS -------------------------------------------------

/// What an uploaded GIS file did, for the page that took it: how many items were registered,
/// or every problem (and then nothing was written).
#[derive(Default)]
pub struct Upload {
    pub file: String,
    pub updated: Option<usize>,
    pub problems: Vec<String>,
}

impl Upload {
    pub(crate) fn of(file: String, result: Result<usize, Vec<String>>) -> Upload {
        match result {
            Ok(n) => Upload {
                file,
                updated: Some(n),
                problems: Vec::new(),
            },
            Err(problems) => Upload {
                file,
                updated: None,
                problems,
            },
        }
    }

    pub(crate) fn status(&self) -> axum::http::StatusCode {
        if self.problems.is_empty() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

/// The API's answer to an uploaded file: `{key: n}`, or 422 with `error` and `problems`
/// (`what`: the items, e.g. 边界).
pub(crate) fn upload_reply(result: Result<usize, Vec<String>>, key: &str, what: &str) -> Response {
    match result {
        Ok(n) => axum::Json(serde_json::json!({ key: n })).into_response(),
        Err(problems) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({
                "error": format!("{what}文件有 {} 处问题，未写入任何{what}", problems.len()),
                "problems": problems,
            })),
        )
            .into_response(),
    }
}

#[derive(Template)]
#[template(path = "boundaries.html")]
struct BoundariesView {
    me: Me,
    crumbs: Vec<Crumb>,
    community: wangge_store::Community,
    /// Compounds without a boundary, by name.
    missing: Vec<String>,
    total: usize,
    can_write: bool,
    upload: Upload,
}

async fn boundaries_view(
    s: &SharedState,
    p: &Principal,
    code: &str,
) -> Result<BoundariesView, AppError> {
    let page = s.store.community_page(&p.access, code).await?;
    let missing = page
        .compounds
        .iter()
        .filter(|m| !m.has_boundary)
        .map(|m| m.name.clone())
        .collect();
    Ok(BoundariesView {
        me: Me::of(p),
        crumbs: vec![
            Crumb {
                label: "总览".into(),
                href: "/".into(),
            },
            Crumb {
                label: page.community.name.clone(),
                href: format!("/communities/{code}"),
            },
            Crumb {
                label: "小区边界".into(),
                href: format!("/communities/{code}/boundaries"),
            },
        ],
        can_write: p.access.can(Permission::RegistryWrite, code),
        total: page.compounds.len(),
        community: page.community,
        missing,
        upload: Upload::default(),
    })
}

async fn boundaries_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    Ok(crate::auth::render(&boundaries_view(&s, &p, &code).await?))
}

/// Matches an uploaded FeatureCollection to the community's compounds (by `id`, else `name`)
/// and stores every boundary, or none: the problems, each naming its feature.
async fn set_boundaries(
    s: &SharedState,
    p: &Principal,
    code: &str,
    text: &str,
) -> Result<Result<usize, Vec<String>>, AppError> {
    if !p.access.can(Permission::RegistryWrite, code) {
        return Err(AppError::Forbidden("无权修改该社区的小区".into()));
    }
    let features = match wangge_domain::place::parse_boundary_features(text) {
        Ok(f) => f,
        Err(problems) => return Ok(Err(problems)),
    };
    let page = s.store.community_page(&p.access, code).await?;
    let mut problems = Vec::new();
    let mut items: Vec<(String, String)> = Vec::new();
    for f in &features {
        let found = page.compounds.iter().find(|m| match (&f.id, &f.name) {
            (Some(id), _) => &m.id == id,
            (None, Some(name)) => &m.name == name,
            (None, None) => false,
        });
        let label = f.id.as_deref().or(f.name.as_deref()).unwrap_or("");
        match found {
            None => problems.push(format!("第 {} 个要素：本社区没有小区“{label}”", f.index)),
            Some(m) if items.iter().any(|(id, _)| id == &m.id) => problems.push(format!(
                "第 {} 个要素：小区“{}”在文件中出现了两次",
                f.index, m.name
            )),
            Some(m) => items.push((m.id.clone(), f.geometry.clone())),
        }
    }
    // More points than planning compares in reasonable time: said now, not at planning.
    let points: usize = items
        .iter()
        .filter_map(|(_, g)| serde_json::from_str::<serde_json::Value>(g).ok())
        .filter_map(|v| geojson::geometry_from_json(&v))
        .map(|g| g.positions())
        .sum();
    if points > MAX_COMMUNITY_POINTS {
        problems.push(format!(
            "文件中的边界共 {points} 个坐标点，超过一个社区自动划分可处理的 {MAX_COMMUNITY_POINTS} 个；\
             请在 GIS 中简化边界（如容差 0.5 米）后再导入"
        ));
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    Ok(Ok(s
        .store
        .set_compound_geometries(&p.access, code, &items)
        .await?))
}

async fn boundaries_upload(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    mut mp: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let (file, bytes) = crate::pages::uploaded_file(&mut mp).await?;
    let result = set_boundaries(&s, &p, &code, &geojson::decode(&bytes)).await?;
    let mut view = boundaries_view(&s, &p, &code).await?;
    view.upload = Upload::of(file, result);
    let mut res = crate::auth::render(&view);
    *res.status_mut() = view.upload.status();
    Ok(res)
}

/// The API: the body is the FeatureCollection; `{"updated": n}`, or 422 with `problems`.
async fn api_boundaries(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, crate::error::ApiError> {
    let result = set_boundaries(&s, &p, &code, &geojson::decode(&body)).await?;
    Ok(upload_reply(result, "updated", "边界"))
}

// ---- barriers: streets, roads, rivers a grid must not cross, uploaded from GIS ---------------

/// One barrier as the page lists it.
pub struct BarrierRow {
    pub name: String,
    pub kind: String,
    /// Lines and points, to tell a sketch from a surveyed line.
    pub lines: usize,
    pub points: usize,
}

#[derive(Template)]
#[template(path = "barriers.html")]
struct BarriersView {
    me: Me,
    crumbs: Vec<Crumb>,
    street: wangge_store::Street,
    rows: Vec<BarrierRow>,
    can_write: bool,
    /// After an upload: how many were registered (`Some(0)` after clearing).
    upload: Upload,
}

async fn barriers_view(
    s: &SharedState,
    p: &Principal,
    code: &str,
) -> Result<BarriersView, AppError> {
    let st = s.store.street(&p.access, code).await?;
    let rows = s
        .store
        .street_barriers(&p.access, code)
        .await?
        .into_iter()
        .map(|b| {
            let lines = serde_json::from_str::<serde_json::Value>(&b.geometry)
                .ok()
                .and_then(|v| geojson::barrier_lines(&v))
                .unwrap_or_default();
            BarrierRow {
                name: b.name,
                kind: b.kind,
                lines: lines.len(),
                points: lines.iter().map(Vec::len).sum(),
            }
        })
        .collect();
    Ok(BarriersView {
        me: Me::of(p),
        crumbs: vec![
            Crumb {
                label: "总览".into(),
                href: "/".into(),
            },
            Crumb {
                label: st.street.name.clone(),
                href: format!("/streets/{code}"),
            },
            Crumb {
                label: "街路河界线".into(),
                href: format!("/streets/{code}/barriers"),
            },
        ],
        can_write: p.access.can(Permission::RegistryWrite, code),
        street: st.street,
        rows,
        upload: Upload::default(),
    })
}

async fn barriers_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    Ok(crate::auth::render(&barriers_view(&s, &p, &code).await?))
}

/// Reads an uploaded FeatureCollection of lines and makes it the street's barriers, or
/// writes nothing: the problems, each naming its feature.
async fn set_barriers(
    s: &SharedState,
    p: &Principal,
    code: &str,
    text: &str,
) -> Result<Result<usize, Vec<String>>, AppError> {
    if !p.access.can(Permission::RegistryWrite, code) {
        return Err(AppError::Forbidden("无权修改该街道的街路河界线".into()));
    }
    let features = match wangge_domain::place::parse_barrier_features(text) {
        Ok(f) => f,
        Err(problems) => return Ok(Err(problems)),
    };
    let items: Vec<wangge_store::NewBarrier> = features
        .into_iter()
        .map(|f| wangge_store::NewBarrier {
            name: f.name.unwrap_or_default(),
            kind: f.kind,
            geometry: f.geometry,
        })
        .collect();
    Ok(Ok(s
        .store
        .replace_barriers(&p.access, code, &items)
        .await?))
}

async fn barriers_upload(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    mut mp: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let (file, bytes) = crate::pages::uploaded_file(&mut mp).await?;
    let result = set_barriers(&s, &p, &code, &geojson::decode(&bytes)).await?;
    let mut view = barriers_view(&s, &p, &code).await?;
    view.upload = Upload::of(file, result);
    let mut res = crate::auth::render(&view);
    *res.status_mut() = view.upload.status();
    Ok(res)
}

async fn barriers_clear(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    s.store.replace_barriers(&p.access, &code, &[]).await?;
    let mut view = barriers_view(&s, &p, &code).await?;
    view.upload.updated = Some(0);
    Ok(crate::auth::render(&view))
}

/// The street's barriers as a GeoJSON FeatureCollection (`name`, `kind` in properties).
async fn api_barriers(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Result<Response, crate::error::ApiError> {
    let features: Vec<serde_json::Value> = s
        .store
        .street_barriers(&p.access, &code)
        .await?
        .into_iter()
        .map(|b| {
            serde_json::json!({
                "type": "Feature",
                "id": b.id,
                "properties": {"name": b.name, "kind": b.kind},
                "geometry": serde_json::from_str::<serde_json::Value>(&b.geometry)
                    .unwrap_or(serde_json::Value::Null),
            })
        })
        .collect();
    Ok(
        axum::Json(serde_json::json!({"type": "FeatureCollection", "features": features}))
            .into_response(),
    )
}

/// Replaces the street's barriers: the body is the FeatureCollection; `{"barriers": n}`, or
/// 422 with `problems` and nothing written.
async fn api_barriers_replace(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, crate::error::ApiError> {
    let result = set_barriers(&s, &p, &code, &geojson::decode(&body)).await?;
    Ok(upload_reply(result, "barriers", "界线"))
}

async fn api_barriers_clear(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Result<Response, crate::error::ApiError> {
    s.store.replace_barriers(&p.access, &code, &[]).await?;
    Ok(axum::Json(serde_json::json!({ "barriers": 0 })).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cell_of_compound_names_stays_within_excel_s_limit() {
        let few: Vec<String> = vec!["甲院".into(), "乙院".into()];
        assert_eq!(super::names_cell(&few), "甲院、乙院");
        let many: Vec<String> = (0..5000).map(|k| format!("小区{k:05}")).collect();
        let cell = super::names_cell(&many);
        assert!(cell.chars().count() <= 30_020, "{}", cell.chars().count());
        assert!(cell.starts_with("小区00000、小区00001") && cell.ends_with("……等共 5000 个"));
    }

    use super::*;
    use wangge_store::PlanCompound;

    #[test]
    fn bands_are_read_in_one_pass_and_a_long_list_is_refused() {
        let bands = |raw: &str| -> Vec<(i64, i64)> {
            parse_bands(raw)
                .unwrap()
                .iter()
                .map(|c| (c.min, c.max))
                .collect()
        };
        assert_eq!(bands("500 - 600   300 –500"), [(500, 600), (300, 500)]);
        assert_eq!(bands(" 200～ 300，500-600 "), [(200, 300), (500, 600)]);
        // 60,000 spaces before a dash (a query string of "+"): refused at once, not
        // rewritten 60,000 times.
        let long = format!("500{}-600", " ".repeat(60_000));
        match parse_bands(&long) {
            Err(AppError::BadRequest(m)) => assert!(m.starts_with("户数标准太长"), "{m}"),
            _ => panic!("a 60,000-character list must be refused"),
        }
        assert_eq!(bands(&format!("500{}-600", " ".repeat(150))), [(500, 600)]);
    }

    fn compound(id: &str, grid: Option<&str>) -> PlanCompound {
        PlanCompound {
            id: id.into(),
            name: id.into(),
            households: 100,
            kind: "compound".into(),
            has_property_management: false,
            grid_code: grid.map(Into::into),
            geometry: None,
        }
    }

    fn grid(code: &str, compounds: Vec<usize>, kept: bool) -> wangge_plan::Grid {
        wangge_plan::Grid {
            code: code.into(),
            community: None,
            compounds,
            households: 0,
            compactness: 1.0,
            in_band: true,
            reason: None,
            kept_from: kept.then(|| code.to_string()),
            centroid: [0.0, 0.0],
        }
    }

    #[test]
    fn town_compounds_and_villages_are_never_neighbours_in_a_plan() {
        let square = |x: i32| {
            Some(format!(
                r#"{{"type":"Polygon","coordinates":[[[{x},0],[{},0],[{},10],[{x},10],[{x},0]]]}}"#,
                x + 10,
                x + 10
            ))
        };
        let mut town = compound("town", None);
        town.geometry = square(0);
        let mut village = compound("village", None);
        village.kind = "village".into();
        village.geometry = square(10);
        let mut other_town = compound("town2", None);
        other_town.geometry = square(-10);
        let src = PlanSource {
            community: "370725001001".into(),
            community_name: "宝昌社区".into(),
            compounds: vec![town, village, other_town],
            used_codes: Vec::new(),
            live_traits: Default::default(),
            live_grids: Vec::new(),
            barriers: Vec::new(),
        };
        let input = input_of(&src, None).unwrap();
        // The two town compounds touch and are neighbours; the village touches the first
        // but is not its neighbour.
        assert_eq!(input.adjacency.len(), 1, "{:?}", input.adjacency);
        let (a, b) = input.adjacency[0];
        assert_eq!((a.min(b), a.max(b)), (0, 2));
    }

    #[test]
    fn the_diff_counts_as_adopting_does() {
        let (g1, g2, g3) = ("370725001001001", "370725001001002", "370725001001003");
        let src = PlanSource {
            community: "370725001001".into(),
            community_name: "宝昌社区".into(),
            compounds: vec![
                compound("a", Some(g1)),
                compound("b", None),
                compound("c", Some(g2)),
                compound("d", Some(g3)),
                compound("e", Some(g3)),
            ],
            used_codes: vec![g1.into(), g2.into(), g3.into()],
            live_traits: Default::default(),
            live_grids: vec![
                (g1.into(), "一".into()),
                (g2.into(), "二".into()),
                (g3.into(), "三".into()),
            ],
            barriers: Vec::new(),
        };
        // 001's compound and one that had no grid under a new code; 002 kept; 003 split.
        let diff_of = |grids: Vec<wangge_plan::Grid>| {
            let plan = Plan {
                grids,
                summary: Default::default(),
                warnings: Vec::new(),
            };
            diff(&src, &plan, &[])
        };
        let changes =
            |d: &PlanDiff| -> Vec<String> { d.grids.iter().map(|g| g.change.clone()).collect() };
        let d = diff_of(vec![
            grid(g2, vec![2], true),
            grid("370725001001004", vec![0, 1], false),
            grid("370725001001005", vec![3], false),
            grid("370725001001006", vec![4], false),
        ]);
        assert_eq!(
            changes(&d),
            [
                "保留",
                "由 370725001001001 调整",
                "拆分自 370725001001003",
                "拆分自 370725001001003"
            ]
        );
        // What the store does: keeps 002, creates three, retires 001 and 003.
        assert_eq!((d.kept, d.merged + d.split + d.created), (1, 3));
        assert_eq!(d.retired, [g1, g3]);
        assert_eq!(d.moved, 4);
        // A grid kept under its code that takes in another's compound, and one that hands a
        // compound on, say so rather than "保留".
        let d = diff_of(vec![
            grid(g2, vec![2, 0], true),
            grid(g3, vec![3], true),
            grid("370725001001004", vec![4, 1], false),
        ]);
        assert_eq!(
            changes(&d),
            [
                "保留并调整：并入 370725001001001 的小区",
                "保留并调整：部分小区拆分到 370725001001004",
                "拆分自 370725001001003"
            ]
        );
    }
}
