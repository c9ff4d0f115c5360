//! Kinds and tiers of places, names, dates: the small values the registry is made of.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value that is not one of an enumeration's members.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{value}”不是有效的{what}，可选：{choices}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub choices: String,
}

macro_rules! labelled_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($variant:ident => ($key:literal, $label:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const WHAT: &'static str = $what;

            /// The stable key used in the database and the API.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            /// The Chinese label shown to users.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Accepts the key or the Chinese label.
            pub fn parse(s: &str) -> Result<Self, UnknownValue> {
                let s = s.trim();
                $(if s == $key || s == $label { return Ok($name::$variant); })+
                Err(UnknownValue {
                    what: $what,
                    value: s.to_string(),
                    choices: [$($label),+].join("、"),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

labelled_enum!(
    /// 城市社区 / "村改居"社区.
    CommunityKind, "社区类型", {
        Urban => ("urban", "城市社区"),
        ConvertedVillage => ("converted_village", "村改居社区"),
    }
);

labelled_enum!(
    /// 建设标准: 示范 / 规范 / 基础 (for communities the sources say 基本).
    Tier, "建设标准", {
        Demonstration => ("demonstration", "示范"),
        Standard => ("standard", "规范"),
        Basic => ("basic", "基础"),
    }
);

impl Tier {
    /// The label for a community: the sources call the third tier of communities 基本社区
    /// (附件3), of grids 基础性网格 (附件4).
    pub fn community_label(self) -> &'static str {
        match self {
            Tier::Basic => "基本",
            t => t.label(),
        }
    }
}

labelled_enum!(
    /// 城市网格 / 农村网格.
    GridKind, "网格类型", {
        Urban => ("urban", "城市网格"),
        Rural => ("rural", "农村网格"),
    }
);

labelled_enum!(
    /// 小区 / 村庄 / 居民小组.
    CompoundKind, "小区类型", {
        Compound => ("compound", "小区"),
        Village => ("village", "村庄"),
        ResidentsGroup => ("residents_group", "居民小组"),
    }
);

/// Why a field's value is refused. Messages are for users (zh-CN).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("不能为空")]
    Empty,
    #[error("不能超过 {max} 个字")]
    TooLong { max: usize },
    #[error("应为非负整数，现为“{0}”")]
    NotCount(String),
    #[error("应为非负数，现为“{0}”")]
    NotArea(String),
    #[error("应为日期（如 2020-05-31），现为“{0}”")]
    NotDate(String),
    #[error("不能大于 {max}，现为 {value}（请核对）")]
    TooLarge { max: i64, value: String },
    #[error("{0}")]
    Other(String),
}

/// A trimmed, non-empty name of at most `max` characters.
pub fn parse_name(s: &str, max: usize) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::Empty);
    }
    if s.chars().count() > max {
        return Err(FieldError::TooLong { max });
    }
    Ok(s.to_string())
}

/// An optional free text: empty becomes `None`.
pub fn parse_optional_text(s: &str, max: usize) -> Result<Option<String>, FieldError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_name(s, max).map(Some)
    }
}

/// A count of households, people, grids…: a non-negative integer. Accepts thousands
/// separators and a spreadsheet's float rendering of a whole number ("4350.0").
pub fn parse_count(s: &str) -> Result<i64, FieldError> {
    // Full-width digits (２２７５, as Chinese input methods type them) read as digits.
    let t: String = s
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' => '.',
            c => c,
        })
        .collect();
    if t.is_empty() {
        return Err(FieldError::Empty);
    }
    let whole = t.strip_suffix(".0").unwrap_or(&t);
    match whole.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(FieldError::NotCount(s.trim().to_string())),
    }
}

/// An amount in 万元 as written in the official tables ("328.6", "0.5"), exactly in fen
/// (1 fen = 0.000001 万元). Negative amounts and more than six decimals are refused.
pub fn parse_wan_fen(s: &str) -> Result<i64, FieldError> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    let t = t
        .strip_suffix("万元")
        .or_else(|| t.strip_suffix('万'))
        .unwrap_or(&t)
        .trim();
    if t.is_empty() {
        return Err(FieldError::Empty);
    }
    let bad = || {
        FieldError::Other(format!(
            "应为以万元计的金额（如 328.6），现为“{}”",
            s.trim()
        ))
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 6
        || whole.len() > 9
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().map_err(|_| bad())?
    };
    Ok(whole * 1_000_000 + frac)
}

/// An area in square metres: a non-negative number, empty meaning unknown.
pub fn parse_area(s: &str) -> Result<Option<f64>, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(a) if a.is_finite() && a >= 0.0 => Ok(Some(a)),
        _ => Err(FieldError::NotArea(t.to_string())),
    }
}

/// The most positions one compound's boundary may have: far more than any parcel drawn by
/// hand or surveyed, few enough that deriving neighbours stays cheap.
pub const MAX_BOUNDARY_POSITIONS: usize = 20_000;

/// A compound's boundary as GeoJSON (what GIS tools export): a `Polygon` or `MultiPolygon`
/// geometry, or a `Feature` holding one. Rings need at least four positions and are closed
/// (first = last; an open ring is closed here); coordinates are finite numbers. Returns the
/// geometry as compact JSON, as stored. The planner finds neighbours by shared boundaries, so
/// points are refused.
pub fn parse_geometry(s: &str) -> Result<String, FieldError> {
    use serde_json::Value;
    let bad = |m: &str| {
        FieldError::Other(format!(
            "边界应为 GeoJSON 多边形（Polygon 或 MultiPolygon）：{m}"
        ))
    };
    let v: Value = serde_json::from_str(s.trim()).map_err(|e| {
        bad(&format!(
            "不是有效的 JSON（{}）",
            crate::text::json_error(&e)
        ))
    })?;
    let g = match v.get("type").and_then(Value::as_str) {
        Some("Feature") => v.get("geometry").cloned().unwrap_or(Value::Null),
        _ => v,
    };
    let polygons: Vec<&Value> = match (g.get("type").and_then(Value::as_str), g.get("coordinates"))
    {
        (Some("Polygon"), Some(c)) => vec![c],
        (Some("MultiPolygon"), Some(Value::Array(ps))) => ps.iter().collect(),
        (Some(t), _) if t != "Polygon" && t != "MultiPolygon" => {
            return Err(bad(&format!("类型为 {t}")));
        }
        _ => return Err(bad("缺少 type 或 coordinates")),
    };
    if polygons.is_empty() {
        return Err(bad("没有多边形"));
    }
    let mut out_polys = Vec::with_capacity(polygons.len());
    let mut positions = 0usize;
    for poly in polygons {
        let rings = poly.as_array().ok_or_else(|| bad("多边形应为环的数组"))?;
        if rings.is_empty() {
            return Err(bad("多边形没有外环"));
        }
        let mut out_rings = Vec::with_capacity(rings.len());
        for ring in rings {
            let mut out = positions_of(ring, "环").map_err(|m| bad(&m))?;
            if out.first() != out.last() {
                let first = out[0];
                out.push(first);
            }
            let mut distinct = out.clone();
            distinct.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
            distinct.dedup();
            if distinct.len() < 3 {
                return Err(bad("每个环至少要有三个不同的点"));
            }
            count_positions(&mut positions, out.len()).map_err(|m| bad(&m))?;
            ring_problem(&out).map_err(|m| bad(&m))?;
            out_rings.push(out);
        }
        out_polys.push(out_rings);
    }
    let geometry = if out_polys.len() == 1 {
        serde_json::json!({"type": "Polygon", "coordinates": out_polys[0]})
    } else {
        serde_json::json!({"type": "MultiPolygon", "coordinates": out_polys})
    };
    Ok(geometry.to_string())
}

/// The finite `[x, y]` positions of one ring or line (`what`: 环 or 线), or what is wrong.
fn positions_of(v: &serde_json::Value, what: &str) -> Result<Vec<[f64; 2]>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what}应为坐标的数组"))?
        .iter()
        .map(|p| {
            p.as_array()
                .filter(|a| a.len() >= 2)
                .and_then(|a| Some([a[0].as_f64()?, a[1].as_f64()?]))
                .filter(|q| q[0].is_finite() && q[1].is_finite())
                .ok_or_else(|| "坐标应为 [x, y] 数对".to_string())
        })
        .collect()
}

/// The largest coordinate accepted: longitude/latitude, or metres in any projected system
/// (a Gauss–Krüger easting with its zone number is about 4 × 10⁷).
const MAX_COORDINATE: f64 = 1e8;

/// What is wrong with a closed ring, if anything: coordinates beyond any map, no area (its
/// points on one line), or edges that cross (a figure of eight).
fn ring_problem(ring: &[[f64; 2]]) -> Result<(), String> {
    if let Some(q) = ring
        .iter()
        .find(|q| q[0].abs() > MAX_COORDINATE || q[1].abs() > MAX_COORDINATE)
    {
        return Err(format!("坐标（{}, {}）超出任何地图的范围", q[0], q[1]));
    }
    // Edges i and j cross when they are not neighbours along the ring (checked for rings of
    // up to 2,000 points; longer outlines come from GIS tools that keep them simple).
    let n = ring.len() - 1;
    if n <= 2000 {
        let cross = |a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]| {
            let side = |p: [f64; 2], q: [f64; 2], r: [f64; 2]| {
                (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
            };
            let (d1, d2) = (side(a, b, c), side(a, b, d));
            let (d3, d4) = (side(c, d, a), side(c, d, b));
            d1 * d2 < 0.0 && d3 * d4 < 0.0
        };
        for i in 0..n {
            for j in i + 2..n {
                if i == 0 && j == n - 1 {
                    continue;
                }
                if cross(ring[i], ring[i + 1], ring[j], ring[j + 1]) {
                    return Err(format!(
                        "环的第 {} 条边与第 {} 条边相交（边界线不能自相交叉）",
                        i + 1,
                        j + 1
                    ));
                }
            }
        }
    }
    let twice_area: f64 = ring
        .windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum();
    let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
    for q in ring {
        for k in 0..2 {
            lo[k] = lo[k].min(q[k]);
            hi[k] = hi[k].max(q[k]);
        }
    }
    let span = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    if twice_area.abs() <= span * span * 1e-9 {
        return Err("环的面积为零（各点在一条直线上）".into());
    }
    Ok(())
}

/// Adds `n` positions to a geometry's count: at most [`MAX_BOUNDARY_POSITIONS`] in all.
fn count_positions(total: &mut usize, n: usize) -> Result<(), String> {
    *total += n;
    if *total > MAX_BOUNDARY_POSITIONS {
        return Err(format!(
            "坐标点过多（超过 {MAX_BOUNDARY_POSITIONS} 个），请在 GIS 中简化后再导入"
        ));
    }
    Ok(())
}

/// One feature of an uploaded boundary file: which compound (by `id`, else by `name`) and its
/// boundary (see [`parse_geometry`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryFeature {
    /// 1-based position in the file, for messages.
    pub index: usize,
    pub id: Option<String>,
    pub name: Option<String>,
    pub geometry: String,
}

/// Reads a GeoJSON FeatureCollection of compound boundaries, as GIS tools export them: every
/// feature names its compound in `properties.id` or `properties.name` and carries a polygon.
/// Every problem is reported, each naming the feature (第 n 个要素).
pub fn parse_boundary_features(text: &str) -> Result<Vec<BoundaryFeature>, Vec<String>> {
    read_features(
        text,
        |_| None,
        |index, f| {
            let (id, name) = (feature_prop(f, "id"), feature_prop(f, "name"));
            if id.is_none() && name.is_none() {
                return Err("properties 中缺少小区的 id 或 name".into());
            }
            let geometry = f
                .get("geometry")
                .map(serde_json::Value::to_string)
                .unwrap_or_default();
            Ok(BoundaryFeature {
                index,
                id,
                name,
                geometry: parse_geometry(&geometry).map_err(|e| e.to_string())?,
            })
        },
    )
}

/// Makes one item of every feature of a GeoJSON FeatureCollection, or reports every
/// feature's problem, each naming the feature (第 n 个要素, 1-based). `too_many` may refuse
/// the file by its number of features before any is read.
fn read_features<T>(
    text: &str,
    too_many: impl Fn(usize) -> Option<String>,
    item: impl Fn(usize, &serde_json::Value) -> Result<T, String>,
) -> Result<Vec<T>, Vec<String>> {
    let features = feature_collection(text)?;
    if let Some(e) = too_many(features.len()) {
        return Err(vec![e]);
    }
    let mut out = Vec::with_capacity(features.len());
    let mut errors = Vec::new();
    for (i, f) in features.iter().enumerate() {
        match item(i + 1, f) {
            Ok(t) => out.push(t),
            Err(e) => errors.push(format!("第 {} 个要素：{e}", i + 1)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The features of a GeoJSON FeatureCollection (a byte-order mark is skipped), or why the
/// text is not one.
fn feature_collection(text: &str) -> Result<Vec<serde_json::Value>, Vec<String>> {
    use serde_json::Value;
    let v: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        vec![format!(
            "文件不是有效的 JSON：{}",
            crate::text::json_error(&e)
        )]
    })?;
    let features = match v {
        Value::Object(mut o)
            if o.get("type").and_then(Value::as_str) == Some("FeatureCollection") =>
        {
            match o.remove("features") {
                Some(Value::Array(f)) => f,
                _ => return Err(vec!["文件应为 GeoJSON FeatureCollection".into()]),
            }
        }
        _ => return Err(vec!["文件应为 GeoJSON FeatureCollection".into()]),
    };
    if features.is_empty() {
        return Err(vec!["文件中没有要素".into()]);
    }
    Ok(features)
}

/// A feature's property as text (numbers too), trimmed; `None` when missing or blank.
fn feature_prop(f: &serde_json::Value, key: &str) -> Option<String> {
    use serde_json::Value;
    f.get("properties")
        .and_then(|p| p.get(key))
        .and_then(|x| match x {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
}

/// The most barrier lines one street registers.
pub const MAX_BARRIER_FEATURES: usize = 2_000;

/// The most positions all of one street's barrier lines have together: a county's streets,
/// roads and rivers drawn in detail, few enough that every plan and map of the street's
/// communities clips them quickly.
pub const MAX_BARRIER_POSITIONS: usize = 200_000;

/// A line a grid must not cross (街、路、河、铁路), as GIS exports it.
#[derive(Debug, Clone, PartialEq)]
pub struct BarrierFeature {
    /// 1-based position in the file, for messages.
    pub index: usize,
    /// `properties.name`, e.g. 新华路; may be absent.
    pub name: Option<String>,
    /// `properties.kind`, e.g. 道路, 河流; 道路 when absent.
    pub kind: String,
    /// GeoJSON LineString or MultiLineString, normalised (see [`parse_line_geometry`]).
    pub geometry: String,
}

/// Reads a GeoJSON FeatureCollection of barrier lines (streets, roads, rivers, railways that
/// a grid must not cross). Every problem is reported, each naming the feature (第 n 个要素).
pub fn parse_barrier_features(text: &str) -> Result<Vec<BarrierFeature>, Vec<String>> {
    let too_many = |n: usize| {
        (n > MAX_BARRIER_FEATURES).then(|| {
            format!(
                "文件中有 {n} 条界线，超过 {MAX_BARRIER_FEATURES} 条；请只导入不可跨越的主要街路河"
            )
        })
    };
    let total = std::cell::Cell::new(0usize);
    let features = read_features(text, too_many, |index, f| {
        let name = feature_prop(f, "name");
        let kind = feature_prop(f, "kind").unwrap_or_else(|| "道路".into());
        if name.as_ref().is_some_and(|n| n.chars().count() > 60) {
            return Err("名称过长（最多 60 个字）".into());
        }
        if kind.chars().count() > 20 {
            return Err("类别过长（最多 20 个字）".into());
        }
        let geometry = f.get("geometry").cloned().unwrap_or_default();
        let (geometry, positions) = line_geometry(&geometry)?;
        total.set(total.get() + positions);
        Ok(BarrierFeature {
            index,
            name,
            kind,
            geometry,
        })
    })?;
    if total.get() > MAX_BARRIER_POSITIONS {
        return Err(vec![format!(
            "文件中的界线共 {} 个坐标点，超过一个街道可登记的 {MAX_BARRIER_POSITIONS} 个；请在 GIS 中简化线条后再导入，或只导入主要街路河",
            total.get()
        )]);
    }
    Ok(features)
}

/// A barrier's geometry: a GeoJSON LineString or MultiLineString, every line with at least
/// two distinct points and finite `[x, y]` coordinates, at most [`MAX_BOUNDARY_POSITIONS`]
/// positions in all. Returned as normalised GeoJSON text.
pub fn parse_line_geometry(g: &serde_json::Value) -> Result<String, String> {
    line_geometry(g).map(|(text, _)| text)
}

/// [`parse_line_geometry`], with the number of positions.
fn line_geometry(g: &serde_json::Value) -> Result<(String, usize), String> {
    use serde_json::Value;
    let bad = |m: &str| format!("界线应为 GeoJSON 线（LineString 或 MultiLineString）：{m}");
    let lines: Vec<&Value> = match (g.get("type").and_then(Value::as_str), g.get("coordinates")) {
        (Some("LineString"), Some(c)) => vec![c],
        (Some("MultiLineString"), Some(Value::Array(ls))) => ls.iter().collect(),
        (Some(t), _) if t != "LineString" && t != "MultiLineString" => {
            return Err(bad(&format!("类型为 {t}")));
        }
        _ => return Err(bad("缺少 type 或 coordinates")),
    };
    if lines.is_empty() {
        return Err(bad("没有线"));
    }
    let mut out_lines = Vec::with_capacity(lines.len());
    let mut positions = 0usize;
    for line in lines {
        let out = positions_of(line, "线").map_err(|m| bad(&m))?;
        if !out.iter().any(|q| *q != out[0]) {
            return Err(bad("每条线至少要有两个不同的点"));
        }
        count_positions(&mut positions, out.len()).map_err(|m| bad(&m))?;
        out_lines.push(out);
    }
    let geometry = if out_lines.len() == 1 {
        serde_json::json!({"type": "LineString", "coordinates": out_lines[0]})
    } else {
        serde_json::json!({"type": "MultiLineString", "coordinates": out_lines})
    };
    Ok((geometry.to_string(), positions))
}

/// The most grids one department's layer may hold.
pub const MAX_DEPARTMENT_GRID_FEATURES: usize = 5_000;

/// One grid a department drew on its own (部门自行划定的网格: a police 警格, a city-management
/// grid…), as its GIS layer exports it, to be revoked and folded into the unified grids.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentGridFeature {
    /// 1-based position in the file, for messages.
    pub index: usize,
    /// `properties.name`, required.
    pub name: String,
    /// `properties.code`: the department's own code for it, if any.
    pub code: Option<String>,
    /// `properties.compounds`: the compounds it covers, when the layer lists them, each by its
    /// id or its name.
    pub compounds: Vec<String>,
    /// `properties.community`: the community (code or name) its listed names are in, when a
    /// name alone is not unique in the county.
    pub community: Option<String>,
    /// Its outline (normalised, see [`parse_geometry`]), when the layer has one: compounds
    /// lying inside it are its compounds unless `compounds` lists them.
    pub geometry: Option<String>,
}

/// Reads a department's grid layer: a GeoJSON FeatureCollection whose every feature has
/// `properties.name` and either `properties.compounds` (the compounds it covers, by id or
/// name, with `properties.community` naming their community where a name needs it) or a
/// Polygon / MultiPolygon outline, or both. Every problem is reported, each naming the
/// feature (第 n 个要素).
pub fn parse_department_grid_features(
    text: &str,
) -> Result<Vec<DepartmentGridFeature>, Vec<String>> {
    use serde_json::Value;
    let too_many = |n: usize| {
        (n > MAX_DEPARTMENT_GRID_FEATURES).then(|| {
            format!("文件中有 {n} 个网格，超过 {MAX_DEPARTMENT_GRID_FEATURES} 个；请按部门分别导入")
        })
    };
    read_features(text, too_many, |index, f| {
        let name = feature_prop(f, "name").ok_or("properties 中缺少网格名称 name")?;
        if name.chars().count() > 60 {
            return Err("名称过长（最多 60 个字）".into());
        }
        let code = feature_prop(f, "code");
        let community = feature_prop(f, "community");
        if code.as_ref().is_some_and(|c| c.chars().count() > 40) {
            return Err("编码过长（最多 40 个字符）".into());
        }
        let compounds = match f.get("properties").and_then(|p| p.get("compounds")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ids)) => ids
                .iter()
                .map(|x| match x {
                    Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err("compounds 应为小区编号的数组（文本或数字）".to_string()),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("compounds 应为小区编号的数组".into()),
        };
        let geometry = match f.get("geometry") {
            None | Some(Value::Null) => None,
            Some(g) => Some(parse_geometry(&g.to_string()).map_err(|e| e.to_string())?),
        };
        if compounds.is_empty() && geometry.is_none() {
            return Err("既没有 compounds（所含小区编号），也没有多边形边界".into());
        }
        Ok(DepartmentGridFeature {
            index,
            name,
            code,
            compounds,
            community,
            geometry,
        })
    })
}

/// A live compound of the county, as a department's layer may name it.
#[derive(Debug, Clone, Copy)]
pub struct CompoundRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub community_code: &'a str,
    pub community_name: &'a str,
}

/// Where a layer's outlines fall, worked out from geometry by the caller.
pub struct OutlinePlacement<'a> {
    /// For each compound (as in `places`), the features whose outline holds it.
    pub inside: &'a [Vec<usize>],
    /// For each feature, why its outline cannot be used (another coordinate system), if so.
    pub mismatch: &'a [Option<String>],
    /// How many compounds have no boundary (outlines cannot place them).
    pub without_boundary: usize,
}

/// The compounds (indices into `places`) of each grid of a department's layer: those it
/// lists (by id, else by name, inside its `community` when it names one), or for a grid that
/// lists none, those its outline holds. Every problem, each naming its feature: an unknown or
/// ambiguous compound, an outline in another coordinate system or holding no compound, a
/// compound in two grids (a compound belongs to one grid of a department).
pub fn department_grid_members(
    features: &[DepartmentGridFeature],
    places: &[CompoundRef<'_>],
    outlines: &OutlinePlacement<'_>,
) -> Result<Vec<Vec<usize>>, Vec<String>> {
    use std::collections::HashMap;
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, c) in places.iter().enumerate() {
        by_id.insert(c.id, k);
        by_name.entry(c.name).or_default().push(k);
    }
    let mut problems = Vec::new();
    // Compound → the features that take it.
    let mut taken: Vec<Vec<usize>> = vec![Vec::new(); places.len()];
    for (k, f) in features.iter().enumerate() {
        let at = |what: String| format!("第 {} 个要素“{}”：{what}", f.index, f.name);
        let in_community = |i: &usize| {
            f.community
                .as_deref()
                .is_none_or(|m| places[*i].community_code == m || places[*i].community_name == m)
        };
        for c in &f.compounds {
            let found: Vec<usize> = match by_id.get(c.as_str()) {
                Some(&i) => vec![i],
                None => by_name
                    .get(c.as_str())
                    .map(|v| v.iter().copied().filter(in_community).collect())
                    .unwrap_or_default(),
            };
            match found[..] {
                [i] => {
                    if !taken[i].contains(&k) {
                        taken[i].push(k);
                    }
                }
                [] => problems.push(at(match &f.community {
                    Some(m) => format!("社区“{m}”中没有编号或名称为“{c}”的在册小区"),
                    None => format!("本县没有编号或名称为“{c}”的在册小区"),
                })),
                _ => {
                    let mut communities: Vec<&str> =
                        found.iter().map(|&i| places[i].community_name).collect();
                    communities.dedup();
                    problems.push(at(format!(
                        "名为“{c}”的在册小区有 {} 个（{}），请写明编号，或在 community 中写明社区",
                        found.len(),
                        communities.join("、")
                    )));
                }
            }
        }
    }
    let mut held = vec![0usize; features.len()];
    for (i, ks) in outlines.inside.iter().enumerate() {
        for &k in ks.iter().filter(|&&k| features[k].compounds.is_empty()) {
            held[k] += 1;
            taken[i].push(k);
        }
    }
    for (k, f) in features.iter().enumerate() {
        if !f.compounds.is_empty() {
            continue;
        }
        match outlines.mismatch.get(k).and_then(Option::as_ref) {
            Some(why) => problems.push(format!(
                "第 {} 个要素“{}”：边界的坐标系与小区边界不一致（{why}）",
                f.index, f.name
            )),
            None if held[k] == 0 => problems.push(format!(
                "第 {} 个要素“{}”：边界内没有找到在册小区{}；请核对边界，或在 compounds 中列出所含小区的编号",
                f.index,
                f.name,
                if outlines.without_boundary > 0 {
                    format!(
                        "（本县有 {} 个小区未登记边界，无法按边界归入）",
                        outlines.without_boundary
                    )
                } else {
                    String::new()
                }
            )),
            None => {}
        }
    }
    for (i, ks) in taken.iter().enumerate() {
        if let [a, b, ..] = ks[..] {
            let (fa, fb) = (&features[a.min(b)], &features[a.max(b)]);
            problems.push(format!(
                "小区“{}”（编号 {}）同时在第 {} 个要素“{}”和第 {} 个要素“{}”中：一个小区只能属于本部门的一个网格",
                places[i].name, places[i].id, fa.index, fa.name, fb.index, fb.name
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); features.len()];
    for (i, ks) in taken.iter().enumerate() {
        if let Some(&k) = ks.first() {
            members[k].push(i);
        }
    }
    Ok(members)
}

/// A calendar date, stored and shown as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1900..=2999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if leap => 29,
            _ => 28,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    pub fn parse(s: &str) -> Result<Date, FieldError> {
        let t = s.trim();
        let bad = || FieldError::NotDate(t.to_string());
        let mut parts = t.split(['-', '/', '.']);
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse()) else {
            return Err(bad());
        };
        Date::new(y, m, d).ok_or_else(bad)
    }

    /// The civil date of a count of days since 1970-01-01 (proleptic Gregorian).
    pub fn from_unix_days(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// 1–31.
    pub fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl TryFrom<String> for Date {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Date::parse(&s)
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

/// A community's extent as the official table writes it: 东至…，北至…，西至…，南至….
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Boundary {
    pub east: Option<String>,
    pub north: Option<String>,
    pub west: Option<String>,
    pub south: Option<String>,
}

impl Boundary {
    /// Reads the four directions out of a 社区范围 text; parts that name no direction are
    /// left out (the text itself is kept beside it).
    pub fn parse(text: &str) -> Boundary {
        let mut b = Boundary::default();
        let text = text.trim().trim_end_matches(['。', '.']);
        for part in text.split(['，', ',', '；', ';']) {
            let part = part.trim();
            let (slot, rest) = if let Some(r) = part.strip_prefix("东至") {
                (&mut b.east, r)
            } else if let Some(r) = part.strip_prefix("北至") {
                (&mut b.north, r)
            } else if let Some(r) = part.strip_prefix("西至") {
                (&mut b.west, r)
            } else if let Some(r) = part.strip_prefix("南至") {
                (&mut b.south, r)
            } else {
                continue;
            };
            let rest = rest.trim();
            if !rest.is_empty() {
                *slot = Some(rest.to_string());
            }
        }
        b
    }

    /// The canonical text: 东至…，北至…，西至…，南至… (directions that are unknown left out).
    pub fn to_text(&self) -> String {
        [
            ("东至", &self.east),
            ("北至", &self.north),
            ("西至", &self.west),
            ("南至", &self.south),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}{v}")))
        .collect::<Vec<_>>()
        .join("，")
    }

    pub fn is_empty(&self) -> bool {
        self.east.is_none() && self.north.is_none() && self.west.is_none() && self.south.is_none()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn boundary_files_name_every_bad_feature() {
        use super::parse_boundary_features;
        let ok = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"甲小区"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
            {"type":"Feature","properties":{"id":"abc"},"geometry":{"type":"Polygon","coordinates":[[[2,0],[3,0],[3,1],[2,0]]]}}]}"#;
        let f = parse_boundary_features(ok).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].name.as_deref(), f[1].id.as_deref()),
            (Some("甲小区"), Some("abc"))
        );
        let bad = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
            {"type":"Feature","properties":{"name":"乙"},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#;
        let e = parse_boundary_features(bad).unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(
            e[0].starts_with("第 1 个要素") && e[1].starts_with("第 2 个要素"),
            "{e:?}"
        );
        assert!(parse_boundary_features("[]").is_err());
    }

    #[test]
    fn a_layers_grids_take_their_compounds_by_id_name_or_outline() {
        use super::{
            CompoundRef, OutlinePlacement, department_grid_members, parse_department_grid_features,
        };
        let place = |id, name, community_code, community_name| CompoundRef {
            id,
            name,
            community_code,
            community_name,
        };
        let places = [
            place("c1", "甲院", "370725001001", "宝昌社区"),
            place("c2", "甲院", "370725002003", "宝城社区"),
            place("c3", "乙院", "370725002003", "宝城社区"),
        ];
        let layer = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"一","compounds":["甲院"],"community":"宝城社区"}},
            {"type":"Feature","properties":{"name":"二","compounds":["c1"]}},
            {"type":"Feature","properties":{"name":"三"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
        let features = parse_department_grid_features(layer).unwrap();
        // 乙院 lies in the third grid's outline.
        let inside = vec![vec![], vec![], vec![2]];
        let fine = OutlinePlacement {
            inside: &inside,
            mismatch: &[None, None, None],
            without_boundary: 0,
        };
        assert_eq!(
            department_grid_members(&features, &places, &fine).unwrap(),
            vec![vec![1], vec![0], vec![2]]
        );
        // The outline in another coordinate system, and holding nothing: said so.
        let nothing = vec![vec![], vec![], vec![]];
        let e = department_grid_members(
            &features,
            &places,
            &OutlinePlacement {
                inside: &nothing,
                mismatch: &[None, None, None],
                without_boundary: 4,
            },
        )
        .unwrap_err();
        assert_eq!(
            e,
            [
                "第 3 个要素“三”：边界内没有找到在册小区（本县有 4 个小区未登记边界，无法按边界归入）；请核对边界，或在 compounds 中列出所含小区的编号"
            ]
        );
        let e = department_grid_members(
            &features,
            &places,
            &OutlinePlacement {
                inside: &inside,
                mismatch: &[None, None, Some("小区为平面坐标，此边界为经纬度".into())],
                without_boundary: 0,
            },
        )
        .unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("坐标系"), "{e:?}");
    }

    #[test]
    fn department_grid_layers_take_compound_lists_or_outlines() {
        use super::parse_department_grid_features as parse;
        let ok = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"城关警格一","code":"JG-01","compounds":["c1", 7],"community":"宝昌社区"},"geometry":null},
            {"type":"Feature","properties":{"name":"城关警格二"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10]]]}}]}"#;
        let f = parse(ok).unwrap();
        assert_eq!(f[0].compounds, ["c1", "7"]);
        assert_eq!(f[0].community.as_deref(), Some("宝昌社区"));
        assert_eq!(
            (f[0].code.as_deref(), f[0].geometry.is_none()),
            (Some("JG-01"), true)
        );
        assert!(f[1].compounds.is_empty());
        // The open ring is closed.
        assert!(
            f[1].geometry.as_deref().unwrap().contains("[0.0,0.0]]]"),
            "{f:?}"
        );
        let bad = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"compounds":["c1"]}},
            {"type":"Feature","properties":{"name":"空格"}},
            {"type":"Feature","properties":{"name":"线","compounds":["c1"]},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}},
            {"type":"Feature","properties":{"name":"乱","compounds":"c1"}},
            {"type":"Feature","properties":{"name":"好","compounds":["c2"]}},
            {"type":"Feature","properties":{"name":"空"},"geometry":{"type":"MultiPolygon","coordinates":[]}}]}"#;
        let e = parse(bad).unwrap_err();
        assert_eq!(e.len(), 5, "{e:?}");
        assert!(
            e[4].starts_with("第 6 个要素") && e[4].contains("没有多边形"),
            "{e:?}"
        );
        for (k, n) in [(0, 1), (1, 2), (2, 3), (3, 4)] {
            assert!(e[k].starts_with(&format!("第 {n} 个要素")), "{e:?}");
        }
        assert!(e[0].contains("name") && e[1].contains("compounds") && e[2].contains("LineString"));
    }

    #[test]
    fn barrier_files_are_lines_and_name_every_bad_feature() {
        use super::parse_barrier_features;
        let ok = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"name":"新华路"},"geometry":{"type":"LineString","coordinates":[[0,0],[100,0]]}},
            {"type":"Feature","properties":{"name":"小清河","kind":"河流"},"geometry":{"type":"MultiLineString","coordinates":[[[0,5],[50,9]],[[50,9],[90,20]]]}}]}"#;
        let f = parse_barrier_features(ok).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].name.as_deref(), f[0].kind.as_str()),
            (Some("新华路"), "道路")
        );
        assert_eq!(f[1].kind, "河流");
        assert!(f[1].geometry.contains("MultiLineString"));
        let bad = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[0,0],[0,0]]}},
            {"type":"Feature","properties":{"name":"乙"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
            {"type":"Feature","properties":{"name":"丙"},"geometry":{"type":"LineString","coordinates":[[0,"x"],[1,1]]}},
            {"type":"Feature","properties":{"name":"丁"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#;
        let e = parse_barrier_features(bad).unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(
            e[0].starts_with("第 1 个要素") && e[0].contains("两个不同的点"),
            "{e:?}"
        );
        assert!(
            e[1].starts_with("第 2 个要素") && e[1].contains("Polygon"),
            "{e:?}"
        );
        assert!(
            e[2].starts_with("第 3 个要素") && e[2].contains("[x, y]"),
            "{e:?}"
        );
        assert!(parse_barrier_features(r#"{"type":"FeatureCollection","features":[]}"#).is_err());
        let line = r#"{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}"#;
        let many = format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            vec![line; super::MAX_BARRIER_FEATURES + 1].join(",")
        );
        assert_eq!(
            parse_barrier_features(&many).unwrap_err(),
            vec!["文件中有 2001 条界线，超过 2000 条；请只导入不可跨越的主要街路河".to_string()]
        );
        // Each line under its own limit, all of them together over the street's.
        let long = |k: usize| {
            let pts: Vec<String> = (0..10_001).map(|i| format!("[{i},{k}]")).collect();
            format!(
                r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"LineString","coordinates":[{}]}}}}"#,
                pts.join(",")
            )
        };
        let lines = |n: usize| {
            let f: Vec<String> = (0..n).map(long).collect();
            format!(
                r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                f.join(",")
            )
        };
        assert_eq!(parse_barrier_features(&lines(19)).unwrap().len(), 19);
        let e = parse_barrier_features(&lines(20)).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("文件中的界线共 200020 个坐标点，超过一个街道可登记的 200000 个"),
            "{e:?}"
        );
    }

    #[test]
    fn boundaries_are_geojson_polygons() {
        use super::parse_geometry;
        // An open ring is closed; a Feature gives its geometry.
        let g = parse_geometry(
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10]]]}}"#,
        )
        .unwrap();
        assert_eq!(
            g,
            r#"{"coordinates":[[[0.0,0.0],[10.0,0.0],[10.0,10.0],[0.0,10.0],[0.0,0.0]]],"type":"Polygon"}"#
        );
        let multi = r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}"#;
        assert!(parse_geometry(multi).unwrap().contains("MultiPolygon"));
        // A thin strip, a concave outline, and a Gauss–Krüger easting with its zone are fine.
        for good in [
            r#"{"type":"Polygon","coordinates":[[[0,0],[1000,0],[1000,1],[0,1],[0,0]]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[5,3],[0,10],[0,0]]]}"#,
            r#"{"type":"Polygon","coordinates":[[[39500000,4000000],[39500100,4000000],[39500100,4000100],[39500000,4000000]]]}"#,
        ] {
            assert!(parse_geometry(good).is_ok(), "{good}");
        }
        for (bad, says) in [
            (r#"{"type":"Point","coordinates":[1,2]}"#, "类型为 Point"),
            ("不是 JSON", "不是有效的 JSON"),
            (
                r#"{"type":"Polygon","coordinates":[[[0,0],[1,1]]]}"#,
                "三个不同的点",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[0,"a"],[1,1],[2,2]]]}"#,
                "[x, y]",
            ),
            (r#"{"type":"Polygon"}"#, "缺少"),
            (
                r#"{"type":"Polygon","coordinates":[[[0,0],[0,0],[0,0],[0,0]]]}"#,
                "三个不同的点",
            ),
            // A figure of eight, a ring on one line, a point beyond any map.
            (
                r#"{"type":"Polygon","coordinates":[[[6000,0],[6100,100],[6100,0],[6000,100],[6000,0]]]}"#,
                "环的第 1 条边与第 3 条边相交",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[6000,0],[6100,0],[6200,0],[6000,0]]]}"#,
                "面积为零",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[0,0],[1e300,0],[1e300,1e300],[0,0]]]}"#,
                "超出任何地图的范围",
            ),
        ] {
            let e = parse_geometry(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    use super::*;

    #[test]
    fn kinds_parse_keys_and_labels() {
        assert_eq!(Tier::parse("示范").unwrap(), Tier::Demonstration);
        assert_eq!(Tier::parse("standard").unwrap(), Tier::Standard);
        let e = GridKind::parse("郊区").unwrap_err();
        assert_eq!(
            e.to_string(),
            "“郊区”不是有效的网格类型，可选：城市网格、农村网格"
        );
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count(" 4,350 ").unwrap(), 4350);
        assert_eq!(parse_count("4350.0").unwrap(), 4350);
        assert_eq!(
            parse_count("约3500").unwrap_err().to_string(),
            "应为非负整数，现为“约3500”"
        );
        assert!(parse_count("-1").is_err());
    }

    #[test]
    fn wan_in_fen() {
        assert_eq!(parse_wan_fen("328.6").unwrap(), 328_600_000);
        assert_eq!(parse_wan_fen("0.5万元").unwrap(), 500_000);
        assert_eq!(parse_wan_fen("1,432.64").unwrap(), 1_432_640_000);
        assert_eq!(parse_wan_fen("0.000001").unwrap(), 1);
        assert!(parse_wan_fen("-1").is_err());
        assert!(parse_wan_fen("1.0000001").is_err());
        assert!(parse_wan_fen("约5").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(Date::parse("2020-05-31").unwrap().to_string(), "2020-05-31");
        assert!(Date::parse("2021-02-29").is_err());
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(20_414).to_string(), "2025-11-22");
    }

    #[test]
    fn boundaries() {
        let b = Boundary::parse("北至新城街，南至胶济铁路线，西至宝昌路、车站村东，东至方山路。");
        assert_eq!(b.east.as_deref(), Some("方山路"));
        assert_eq!(b.west.as_deref(), Some("宝昌路、车站村东"));
        assert_eq!(
            b.to_text(),
            "东至方山路，北至新城街，西至宝昌路、车站村东，南至胶济铁路线"
        );
    }
}
