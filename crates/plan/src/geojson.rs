//! Reading and writing the planner's file formats.
//!
//! - **Compounds**: a GeoJSON `FeatureCollection`; each feature has the properties `id` (string
//!   or number) and `households` (non-negative integer), optionally `community`, `kind` and
//!   `has_property_management`; geometry `Polygon`, `MultiPolygon` or `Point`.
//! - **Adjacency**: `{"edges": [[id_a, id_b, …], …]}`; elements after the two ids (an edge kind,
//!   say) are ignored. Without this file, [`derive_adjacency`] derives it from shared boundaries.
//! - **Current grids**: a `FeatureCollection` whose features have `code` and `compounds` (list
//!   of compound ids), i.e. the plan output format; geometry is ignored.
//! - **Barriers**: a `FeatureCollection` of `LineString`/`MultiLineString` (polygon rings also
//!   accepted) features.
//! - **Plan** (output): one feature per grid with `code`, `households`, `compounds`, `in_band`,
//!   `compactness`, `community`, and, when not in band, `reason` (machine name) and
//!   `reason_text` (Chinese). Geometry: the `MultiPolygon` of the grid's compound polygons
//!   (not dissolved), or a `MultiPoint` when its compounds are points; mixed grids give a
//!   `GeometryCollection`. At the top level, `retired_codes` (when there are any): the codes
//!   given as retired and those of current grids the plan does not keep, read back when the
//!   file is given as current grids so that no later round reuses them.
//!
//! Errors name the file, the feature (1-based) and the field, in Chinese; nothing panics on
//! user input.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::{Compound, CurrentGrid, Geometry, Input, Plan, Pt};

/// Why an input file cannot be read (zh-CN messages).
#[derive(Debug, thiserror::Error)]
pub enum GeoJsonError {
    #[error("无法读取 {file}：{}", wangge_domain::text::io_error(.source))]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("无法写入 {file}：{}", wangge_domain::text::io_error(.source))]
    Write {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} 不是有效的 JSON：{detail}")]
    Json { file: String, detail: String },
    #[error(
        "{file} 应为 GeoJSON FeatureCollection（顶层 \"type\": \"FeatureCollection\"，并含 \"features\" 数组）"
    )]
    NotFeatureCollection { file: String },
    #[error("{file} 第 {index} 个要素「{field}」{problem}")]
    Field {
        file: String,
        index: usize,
        field: String,
        problem: String,
    },
    #[error("{file} 第 {index} 个要素的 id「{id}」与第 {first} 个要素重复")]
    DuplicateId {
        file: String,
        index: usize,
        first: usize,
        id: String,
    },
    #[error("{file} 应为 {{\"edges\": [[id_a, id_b], …]}} 格式")]
    NotAdjacency { file: String },
    #[error("{file} 第 {index} 条边{problem}")]
    Edge {
        file: String,
        index: usize,
        problem: String,
    },
}

fn field_err(file: &str, index: usize, field: &str, problem: impl Into<String>) -> GeoJsonError {
    GeoJsonError::Field {
        file: file.to_string(),
        index: index + 1,
        field: field.to_string(),
        problem: problem.into(),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn read_text(path: &Path) -> Result<(String, String), GeoJsonError> {
    let name = file_name(path);
    let bytes = std::fs::read(path).map_err(|source| GeoJsonError::Io {
        file: name.clone(),
        source,
    })?;
    Ok((decode(&bytes), name))
}

/// A file's text, UTF-8 or GBK (see [`wangge_domain::text::decode`]).
pub use wangge_domain::text::decode;

fn parse_json(text: &str, file: &str) -> Result<Value, GeoJsonError> {
    // Text handed over by a caller may still start with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| GeoJsonError::Json {
        file: file.to_string(),
        detail: wangge_domain::text::json_error(&e),
    })
}

fn features<'a>(v: &'a Value, file: &str) -> Result<&'a Vec<Value>, GeoJsonError> {
    let nf = || GeoJsonError::NotFeatureCollection {
        file: file.to_string(),
    };
    if v.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(nf());
    }
    v.get("features").and_then(Value::as_array).ok_or_else(nf)
}

/// A compound id from a JSON value: a string, or a number written in its shortest form.
/// An id or code as text. A number is taken by its value: 1, 1.0 and 1e0 are one id, and a
/// code a spreadsheet wrote as 370725001001.0 is 370725001001.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (_, Some(i), _) => i.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 9e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

fn point(v: &Value) -> Option<Pt> {
    let a = v.as_array()?;
    if a.len() < 2 {
        return None;
    }
    let x = a[0].as_f64()?;
    let y = a[1].as_f64()?;
    (x.is_finite() && y.is_finite()).then_some([x, y])
}

fn ring(v: &Value) -> Option<Vec<Pt>> {
    let pts = v
        .as_array()?
        .iter()
        .map(point)
        .collect::<Option<Vec<Pt>>>()?;
    (pts.len() >= 3).then_some(pts)
}

fn polygon(v: &Value) -> Option<Vec<Vec<Pt>>> {
    let rings = v.as_array()?.iter().map(ring).collect::<Option<Vec<_>>>()?;
    (!rings.is_empty()).then_some(rings)
}

fn geometry(v: &Value, file: &str, index: usize) -> Result<Geometry, GeoJsonError> {
    let bad = |p: &str| field_err(file, index, "geometry", p);
    let Some(obj) = v.as_object() else {
        return Err(bad("缺失，应为 Polygon、MultiPolygon 或 Point"));
    };
    let coords = obj.get("coordinates").unwrap_or(&Value::Null);
    match obj.get("type").and_then(Value::as_str) {
        Some("Point") => point(coords)
            .map(Geometry::Point)
            .ok_or_else(|| bad("的坐标应为 [经度, 纬度]")),
        Some("Polygon") => polygon(coords)
            .map(|p| Geometry::Polygons(vec![p]))
            .ok_or_else(|| bad("的坐标应为至少含 3 个点的环的数组")),
        Some("MultiPolygon") => coords
            .as_array()
            .and_then(|a| a.iter().map(polygon).collect::<Option<Vec<_>>>())
            .filter(|p| !p.is_empty())
            .map(Geometry::Polygons)
            .ok_or_else(|| bad("的坐标应为多边形的数组")),
        Some(other) => Err(bad(&format!(
            "类型为 {other}，应为 Polygon、MultiPolygon 或 Point"
        ))),
        None => Err(bad("缺少 type")),
    }
}

/// Parses compounds GeoJSON text; `file` names the file in error messages. Returns an
/// [`Input`] holding only the compounds (no adjacency yet).
pub fn read_compounds(text: &str, file: &str) -> Result<Input, GeoJsonError> {
    let v = parse_json(text, file)?;
    let feats = features(&v, file)?;
    let mut compounds = Vec::with_capacity(feats.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(feats.len());
    let empty = Map::new();
    for (i, f) in feats.iter().enumerate() {
        let props = match f.get("properties") {
            Some(Value::Object(m)) => m,
            Some(Value::Null) | None => &empty,
            Some(_) => return Err(field_err(file, i, "properties", "应为对象")),
        };
        let id = match props.get("id").or_else(|| f.get("id")) {
            None | Some(Value::Null) => return Err(field_err(file, i, "id", "缺失")),
            Some(x) => id_of(x).ok_or_else(|| field_err(file, i, "id", "应为非空字符串或数字"))?,
        };
        if let Some(&first) = seen.get(&id) {
            return Err(GeoJsonError::DuplicateId {
                file: file.to_string(),
                index: i + 1,
                first: first + 1,
                id,
            });
        }
        seen.insert(id.clone(), i);
        let households = match props.get("households") {
            None | Some(Value::Null) => return Err(field_err(file, i, "households", "缺失")),
            // A number, but past what a compound can hold: too large, not "not an integer".
            Some(Value::Number(n))
                if n.as_f64().is_some_and(|f| f > crate::MAX_HOUSEHOLDS as f64) =>
            {
                return Err(field_err(
                    file,
                    i,
                    "households",
                    format!("过大（{n}），一个小区不超过 {} 户", crate::MAX_HOUSEHOLDS),
                ));
            }
            Some(x) => x
                .as_i64()
                .or_else(|| {
                    x.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9e15)
                        .map(|f| f as i64)
                })
                .or_else(|| x.as_str().and_then(|s| s.trim().parse::<i64>().ok()))
                .filter(|&h| h >= 0)
                .ok_or_else(|| field_err(file, i, "households", "应为非负整数"))?,
        };
        let community = match props.get("community") {
            None | Some(Value::Null) => None,
            Some(x) => Some(
                id_of(x)
                    .ok_or_else(|| field_err(file, i, "community", "应为社区代码（字符串）"))?,
            ),
        };
        let kind = match props.get("kind") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(field_err(file, i, "kind", "应为字符串")),
        };
        let has_property_management = match props.get("has_property_management") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::Number(n)) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Some(n.as_i64() == Some(1))
            }
            Some(Value::String(s)) if ["是", "有", "true", "1"].contains(&s.trim()) => Some(true),
            Some(Value::String(s)) if ["否", "无", "false", "0"].contains(&s.trim()) => {
                Some(false)
            }
            Some(_) => {
                return Err(field_err(
                    file,
                    i,
                    "has_property_management",
                    "应为 true 或 false",
                ));
            }
        };
        let geometry = geometry(f.get("geometry").unwrap_or(&Value::Null), file, i)?;
        compounds.push(Compound {
            id,
            geometry,
            households,
            community,
            kind,
            has_property_management,
        });
    }
    one_coordinate_system(&compounds, file)?;
    Ok(Input {
        compounds,
        ..Default::default()
    })
}

/// Refuses a file whose outlines are mostly longitude/latitude but some not (a parcel left in
/// a projected system by a GIS export): read as metres, no compound would touch another. A
/// planar file in metres cannot have most of its compounds within 180 m of its origin.
fn one_coordinate_system(compounds: &[Compound], file: &str) -> Result<(), GeoJsonError> {
    let lonlat = compounds
        .iter()
        .filter(|c| c.geometry.looks_lonlat())
        .count();
    if lonlat < 3 || lonlat * 2 <= compounds.len() {
        return Ok(());
    }
    match compounds.iter().position(|c| !c.geometry.looks_lonlat()) {
        None => Ok(()),
        Some(i) => {
            let q = compounds[i]
                .geometry
                .points()
                .find(|q| !crate::geom::looks_lonlat(q))
                .copied()
                .unwrap_or_default();
            Err(field_err(
                file,
                i,
                "geometry",
                format!(
                    "小区「{}」的坐标（{}, {}）不是经纬度，而文件中另有 {lonlat} 个小区是经纬度：\
                     同一文件应使用同一坐标系（这个小区可能是从投影坐标系导出的）",
                    compounds[i].id, q[0], q[1]
                ),
            ))
        }
    }
}

/// Reads a compounds GeoJSON file (see [`read_compounds`]).
pub fn read_compounds_file(path: &Path) -> Result<Input, GeoJsonError> {
    let (text, name) = read_text(path)?;
    read_compounds(&text, &name)
}

fn id_index(compounds: &[Compound]) -> HashMap<&str, usize> {
    compounds
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect()
}

/// Parses an adjacency file `{"edges": [[id_a, id_b, …], …]}` against `compounds`.
pub fn read_adjacency(
    text: &str,
    file: &str,
    compounds: &[Compound],
) -> Result<Vec<(usize, usize)>, GeoJsonError> {
    let v = parse_json(text, file)?;
    let edges =
        v.get("edges")
            .and_then(Value::as_array)
            .ok_or_else(|| GeoJsonError::NotAdjacency {
                file: file.to_string(),
            })?;
    let index = id_index(compounds);
    let mut out = Vec::with_capacity(edges.len());
    for (k, e) in edges.iter().enumerate() {
        let err = |p: String| GeoJsonError::Edge {
            file: file.to_string(),
            index: k + 1,
            problem: p,
        };
        let a = e
            .as_array()
            .filter(|a| a.len() >= 2)
            .ok_or_else(|| err("应为至少含两个小区 id 的数组".into()))?;
        let mut ends = [0usize; 2];
        for j in 0..2 {
            let id =
                id_of(&a[j]).ok_or_else(|| err(format!("的第 {} 个元素应为小区 id", j + 1)))?;
            ends[j] = *index
                .get(id.as_str())
                .ok_or_else(|| err(format!("引用了不存在的小区 id「{id}」")))?;
        }
        out.push((ends[0], ends[1]));
    }
    Ok(out)
}

/// Reads an adjacency file (see [`read_adjacency`]).
pub fn read_adjacency_file(
    path: &Path,
    compounds: &[Compound],
) -> Result<Vec<(usize, usize)>, GeoJsonError> {
    let (text, name) = read_text(path)?;
    read_adjacency(&text, &name, compounds)
}

/// Derives adjacency from polygon boundaries: two compounds are neighbours when, within some
/// distance up to `gap` metres, a stretch of one's boundary longer than that distance (and
/// than 1 m) faces the other — a shared side, a side across a lane no wider than the gap,
/// or one ending at a T-junction (a corner of one on the side of the other). Compounds that
/// meet only at a corner are not neighbours, however wide the gap: a grid joined through a
/// corner is not one piece on the ground. A wider gap only adds neighbours. The gap is at
/// least 0.5 m (`None` picks that), so boundaries that touch as drawn stay neighbours.
/// Planar coordinates are taken as metres; longitude/latitude are first projected to local
/// metres (east–west distances shrink by the cosine of the latitude), so a gap reaches as
/// far across a north–south lane as across an east–west one. Point compounds get no
/// edges. Edges are walked through a uniform grid of cells about twice the mean edge length
/// (larger when one long edge would fill too many), so the work is linear in the number of
/// vertices for ordinary parcels.
pub fn derive_adjacency(compounds: &[Compound], gap: Option<f64>) -> Vec<(usize, usize)> {
    let to_metres = metres_of(compounds);
    // A tolerance below the default would part boundaries that touch as drawn.
    let default = 0.5;
    let tol = gap
        .filter(|t| t.is_finite())
        .map_or(default, |t| t.max(default));
    // Every boundary edge, with its compound.
    let mut edges: Vec<(u32, Pt, Pt)> = Vec::new();
    for (i, c) in compounds.iter().enumerate() {
        if let Geometry::Polygons(p) = &c.geometry {
            for ring in p.iter().flatten() {
                // Rings are closed in GeoJSON; an open one is closed here.
                let closing = match (ring.first(), ring.last()) {
                    (Some(f), Some(l)) if f != l => Some([*l, *f]),
                    _ => None,
                };
                for w in ring.windows(2).map(|w| [w[0], w[1]]).chain(closing) {
                    if w[0] != w[1] {
                        edges.push((i as u32, to_metres(w[0]), to_metres(w[1])));
                    }
                }
            }
        }
    }
    if edges.is_empty() {
        return Vec::new();
    }
    let length = |a: Pt, b: Pt| (b[0] - a[0]).abs().max((b[1] - a[1]).abs());
    let total: f64 = edges.iter().map(|&(_, a, b)| length(a, b)).sum();
    // Cells about twice the mean edge, never so small that the edges, walked cell by cell,
    // make more than about 20 million entries (one long edge among many short ones).
    let cell = (2.0 * total / edges.len() as f64)
        .max(4.0 * tol)
        .max(total / 1e7);
    let key = |v: f64| (v / cell).floor() as i64;
    // Per cell: (compound, edge), sorted, so a vertex skips its own compound's edges at once.
    let mut buckets: HashMap<(i64, i64), Vec<(u32, u32)>> = HashMap::new();
    for (k, &(j, a, b)) in edges.iter().enumerate() {
        // The cells along the edge, sampled every half cell; a vertex looks in its own cell
        // and the eight around it, which covers every point within `tol` (< cell / 4).
        let steps = (2.0 * length(a, b) / cell).ceil().max(1.0) as usize;
        let mut last = None;
        for t in 0..=steps {
            let f = t as f64 / steps as f64;
            let c = (key(a[0] + f * (b[0] - a[0])), key(a[1] + f * (b[1] - a[1])));
            if last != Some(c) {
                buckets.entry(c).or_default().push((j, k as u32));
                last = Some(c);
            }
        }
    }
    for list in buckets.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    // Facing points, by pair (lower, higher compound) and the compound whose boundary the
    // point is on (`true`: the lower): where a vertex of one compound within `tol` of the
    // other finds that compound's nearest point, that point; and the vertex itself when that
    // point lies inside an edge (the vertex faces a side, not a corner).
    let mut contacts: Vec<(u32, u32, bool, Pt, f64)> = Vec::new();
    let mut near: Vec<(u32, f64, Pt, bool)> = Vec::new();
    let mut stamp: Vec<u32> = vec![0; edges.len()];
    let mut tok = 0u32;
    for (i, c) in compounds.iter().enumerate() {
        let Geometry::Polygons(p) = &c.geometry else {
            continue;
        };
        let i = i as u32;
        for q in p.iter().flatten().flatten().map(|&q| to_metres(q)) {
            // The nearest point of each other compound within `tol`: (compound, distance²,
            // point, whether inside an edge).
            near.clear();
            tok = tok.wrapping_add(1);
            if tok == 0 {
                stamp.iter_mut().for_each(|s| *s = 0);
                tok = 1;
            }
            let (kx, ky) = (key(q[0]), key(q[1]));
            for dx in -1..=1 {
                for dy in -1..=1 {
                    let Some(list) = buckets.get(&(kx + dx, ky + dy)) else {
                        continue;
                    };
                    let mut at = 0;
                    while at < list.len() {
                        let (j, k) = list[at];
                        if j == i {
                            at += list[at..].partition_point(|e| e.0 == i);
                            continue;
                        }
                        at += 1;
                        if stamp[k as usize] == tok {
                            continue;
                        }
                        stamp[k as usize] = tok;
                        let (_, a, b) = edges[k as usize];
                        if let Some((d2, p, inside)) = near_segment(q, a, b, tol) {
                            match near.iter_mut().find(|n| n.0 == j) {
                                Some(n) if d2 < n.1 => *n = (j, d2, p, inside),
                                Some(_) => {}
                                None => near.push((j, d2, p, inside)),
                            }
                        }
                    }
                }
            }
            for &(j, d2, p, inside) in &near {
                let d = d2.sqrt();
                contacts.push((i.min(j), i.max(j), j < i, p, d));
                if inside {
                    contacts.push((i.min(j), i.max(j), i < j, q, d));
                }
            }
        }
    }
    // Adjacent: at some distance `s` up to the tolerance, the facing points found within `s`
    // spread along one compound's boundary over more than `s` (and more than twice the
    // drawing tolerance): a stretch of it faces the other compound, longer than the gap it
    // faces it across. Across a corner they gather at the corner; across a wide gap, a
    // compound narrower than the gap does not face its neighbour's neighbour. A wider
    // tolerance only adds distances to try, so it only ever adds neighbours.
    contacts.sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(x.4.total_cmp(&y.4)));
    let spread = |bb: &crate::geom::BBox| (bb.max[0] - bb.min[0]).max(bb.max[1] - bb.min[1]);
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < contacts.len() {
        let pair = (contacts[start].0, contacts[start].1);
        let mut end = start;
        let mut on = [crate::geom::BBox::empty(), crate::geom::BBox::empty()];
        let mut found = false;
        while end < contacts.len() && (contacts[end].0, contacts[end].1) == pair {
            let (_, _, side, p, d) = contacts[end];
            on[usize::from(side)].add(p);
            end += 1;
            let last_at_d = end == contacts.len()
                || (contacts[end].0, contacts[end].1) != pair
                || contacts[end].4 > d;
            let need = (2.0 * default).max(d);
            if !found && last_at_d && on.iter().any(|bb| !bb.is_empty() && spread(bb) > need) {
                found = true;
            }
        }
        if found {
            pairs.push((pair.0 as usize, pair.1 as usize));
        }
        start = end;
    }
    pairs
}

/// Maps the compounds' coordinates to metres: planar ones as they are; longitude/latitude
/// (when every outline could be) to local metres about the outlines' middle latitude
/// (111,320 m a degree of latitude, that times the latitude's cosine a degree of longitude;
/// within a county the error is well under one per cent).
fn metres_of(compounds: &[Compound]) -> impl Fn(Pt) -> Pt {
    let polygons = || {
        compounds
            .iter()
            .filter(|c| matches!(c.geometry, Geometry::Polygons(_)))
    };
    let lonlat = polygons().all(|c| c.geometry.looks_lonlat());
    let mut bb = crate::geom::BBox::empty();
    for p in polygons().flat_map(|c| c.geometry.points()) {
        bb.add(*p);
    }
    const DEGREE: f64 = 111_320.0;
    let (kx, ky) = if lonlat && !bb.is_empty() {
        let x = crate::geom::Projection::for_bbox(&bb).x_scale;
        (x * DEGREE, DEGREE)
    } else {
        (1.0, 1.0)
    };
    move |q: Pt| [q[0] * kx, q[1] * ky]
}

/// The point of the segment `a`–`b` nearest to `q`, its squared distance and whether it lies
/// strictly inside the segment, if `q` lies within `tol` of it.
fn near_segment(q: Pt, a: Pt, b: Pt, tol: f64) -> Option<(f64, Pt, bool)> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let p = [a[0] + t * dx, a[1] + t * dy];
    let (px, py) = (p[0] - q[0], p[1] - q[1]);
    let d2 = px * px + py * py;
    (d2 <= tol * tol).then_some((d2, p, t > 0.0 && t < 1.0))
}

/// Parses current grids (the plan output format: `code`, `compounds`) against `compounds`.
pub fn read_current_grids(
    text: &str,
    file: &str,
    compounds: &[Compound],
) -> Result<Vec<CurrentGrid>, GeoJsonError> {
    let v = parse_json(text, file)?;
    let feats = features(&v, file)?;
    let index = id_index(compounds);
    let mut out = Vec::with_capacity(feats.len());
    for (i, f) in feats.iter().enumerate() {
        let props = f
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| field_err(file, i, "properties", "缺失"))?;
        let code = props
            .get("code")
            .and_then(id_of)
            .ok_or_else(|| field_err(file, i, "code", "缺失或不是字符串"))?;
        let list = props
            .get("compounds")
            .and_then(Value::as_array)
            .ok_or_else(|| field_err(file, i, "compounds", "应为小区 id 的数组"))?;
        let mut members = Vec::with_capacity(list.len());
        for x in list {
            let id =
                id_of(x).ok_or_else(|| field_err(file, i, "compounds", "应为小区 id 的数组"))?;
            // A compound no longer in the input (demolished, merged): the grid is not used as
            // a current grid, with a warning (see `Summary::ignored_current`).
            members.push(index.get(id.as_str()).copied().unwrap_or(usize::MAX));
        }
        out.push(CurrentGrid {
            code,
            compounds: members,
        });
    }
    Ok(out)
}

/// Reads a current grids file (see [`read_current_grids`]), with the codes it records as
/// retired (a plan file's `retired_codes`, see [`plan_to_geojson`]).
pub fn read_current_grids_file(
    path: &Path,
    compounds: &[Compound],
) -> Result<(Vec<CurrentGrid>, Vec<String>), GeoJsonError> {
    let (text, name) = read_text(path)?;
    let grids = read_current_grids(&text, &name, compounds)?;
    Ok((grids, retired_codes(&parse_json(&text, &name)?)))
}

/// A plan file's `retired_codes`: the grid codes retired so far, never to be used again.
pub fn retired_codes(v: &Value) -> Vec<String> {
    v.get("retired_codes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses barrier lines (LineString, MultiLineString; Polygon/MultiPolygon rings are taken as
/// closed lines).
pub fn read_barriers(text: &str, file: &str) -> Result<Vec<Vec<Pt>>, GeoJsonError> {
    let v = parse_json(text, file)?;
    let feats = features(&v, file)?;
    let mut out = Vec::new();
    for (i, f) in feats.iter().enumerate() {
        let g = f.get("geometry").unwrap_or(&Value::Null);
        let lines = barrier_lines(g)
            .ok_or_else(|| field_err(file, i, "geometry", "应为 LineString 或 MultiLineString"))?;
        out.extend(lines);
    }
    Ok(out)
}

/// The lines of one barrier geometry: a LineString or MultiLineString, or the rings of a
/// Polygon or MultiPolygon (a river drawn as an area); `None` for anything else.
pub fn barrier_lines(g: &Value) -> Option<Vec<Vec<Pt>>> {
    let coords = g.get("coordinates")?;
    let line = |c: &Value| {
        c.as_array()
            .and_then(|a| a.iter().map(point).collect::<Option<Vec<Pt>>>())
    };
    let mut out = Vec::new();
    match g.get("type").and_then(Value::as_str)? {
        "LineString" => out.push(line(coords)?),
        "MultiLineString" | "Polygon" => {
            for l in coords.as_array()? {
                out.push(line(l)?);
            }
        }
        "MultiPolygon" => {
            for p in coords.as_array()? {
                for l in p.as_array()? {
                    out.push(line(l)?);
                }
            }
        }
        _ => return None,
    }
    Some(out)
}

/// Reads a barriers file (see [`read_barriers`]).
pub fn read_barriers_file(path: &Path) -> Result<Vec<Vec<Pt>>, GeoJsonError> {
    let (text, name) = read_text(path)?;
    read_barriers(&text, &name)
}

fn pt_json(p: &Pt) -> Value {
    json!([p[0], p[1]])
}

fn rings_json(rings: &[Vec<Pt>]) -> Value {
    Value::Array(
        rings
            .iter()
            .map(|r| {
                let mut pts: Vec<Value> = r.iter().map(pt_json).collect();
                // GeoJSON rings are closed.
                if r.first() != r.last()
                    && let Some(f) = r.first()
                {
                    pts.push(pt_json(f));
                }
                Value::Array(pts)
            })
            .collect(),
    )
}

fn geometry_json(g: &Geometry) -> Value {
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": pt_json(p)}),
        Geometry::Polygons(polys) if polys.len() == 1 => {
            json!({"type": "Polygon", "coordinates": rings_json(&polys[0])})
        }
        Geometry::Polygons(polys) => json!({
            "type": "MultiPolygon",
            "coordinates": polys.iter().map(|p| rings_json(p)).collect::<Vec<_>>()
        }),
    }
}

/// The compounds as a GeoJSON FeatureCollection (the input format).
pub fn compounds_to_geojson(compounds: &[Compound]) -> Value {
    let feats: Vec<Value> = compounds
        .iter()
        .map(|c| {
            let mut props = Map::new();
            props.insert("id".into(), json!(c.id));
            props.insert("households".into(), json!(c.households));
            if let Some(x) = &c.community {
                props.insert("community".into(), json!(x));
            }
            if let Some(x) = &c.kind {
                props.insert("kind".into(), json!(x));
            }
            if let Some(x) = c.has_property_management {
                props.insert("has_property_management".into(), json!(x));
            }
            json!({"type": "Feature", "properties": props, "geometry": geometry_json(&c.geometry)})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": feats})
}

/// Adjacency as `{"edges": [[id_a, id_b, kind?], …]}`; `kinds`, when given, is parallel to
/// `edges`.
pub fn adjacency_to_json(
    compounds: &[Compound],
    edges: &[(usize, usize)],
    kinds: Option<&[&str]>,
) -> Value {
    let list: Vec<Value> = edges
        .iter()
        .enumerate()
        .map(|(k, &(a, b))| match kinds.and_then(|ks| ks.get(k)) {
            Some(kind) => json!([compounds[a].id, compounds[b].id, kind]),
            None => json!([compounds[a].id, compounds[b].id]),
        })
        .collect();
    json!({ "edges": list })
}

/// Barrier lines as a FeatureCollection of LineStrings.
pub fn barriers_to_geojson(lines: &[Vec<Pt>]) -> Value {
    let feats: Vec<Value> = lines
        .iter()
        .map(|l| {
            json!({"type": "Feature", "properties": {},
                   "geometry": {"type": "LineString", "coordinates": l.iter().map(pt_json).collect::<Vec<_>>()}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": feats})
}

/// The plan as a GeoJSON FeatureCollection (format in the module documentation).
pub fn plan_to_geojson(input: &Input, plan: &Plan) -> Value {
    let feats: Vec<Value> = plan
        .grids
        .iter()
        .map(|g| {
            let mut props = Map::new();
            props.insert("code".into(), json!(g.code));
            props.insert("households".into(), json!(g.households));
            let ids: Vec<&str> = g
                .compounds
                .iter()
                .filter_map(|&i| input.compounds.get(i).map(|c| c.id.as_str()))
                .collect();
            props.insert("compounds".into(), json!(ids));
            props.insert("in_band".into(), json!(g.in_band));
            if let Some(r) = g.reason {
                props.insert("reason".into(), json!(r.as_str()));
                props.insert("reason_text".into(), json!(r.message()));
            }
            props.insert(
                "compactness".into(),
                json!((g.compactness * 1000.0).round() / 1000.0),
            );
            if let Some(c) = &g.community {
                props.insert("community".into(), json!(c));
            }
            if let Some(k) = &g.kept_from {
                props.insert("kept_from".into(), json!(k));
            }
            let mut polys: Vec<Value> = Vec::new();
            let mut points: Vec<Value> = Vec::new();
            for &i in &g.compounds {
                match input.compounds.get(i).map(|c| &c.geometry) {
                    Some(Geometry::Polygons(ps)) => polys.extend(ps.iter().map(|p| rings_json(p))),
                    Some(Geometry::Point(p)) => points.push(pt_json(p)),
                    None => {}
                }
            }
            let geometry = match (polys.is_empty(), points.is_empty()) {
                (false, true) => json!({"type": "MultiPolygon", "coordinates": polys}),
                (true, _) => json!({"type": "MultiPoint", "coordinates": points}),
                (false, false) => json!({"type": "GeometryCollection", "geometries": [
                    {"type": "MultiPolygon", "coordinates": polys},
                    {"type": "MultiPoint", "coordinates": points}
                ]}),
            };
            json!({"type": "Feature", "properties": props, "geometry": geometry})
        })
        .collect();
    // The codes retired so far — given, and those of current grids this plan does not keep —
    // so that a later round planned on this file never reuses them.
    let kept: std::collections::HashSet<&str> =
        plan.grids.iter().map(|g| g.code.as_str()).collect();
    let mut retired: Vec<&str> = input
        .retired_codes
        .iter()
        .map(String::as_str)
        .chain(input.current.iter().map(|c| c.code.as_str()))
        .filter(|c| !kept.contains(c))
        .collect();
    retired.sort_unstable();
    retired.dedup();
    if retired.is_empty() {
        json!({"type": "FeatureCollection", "features": feats})
    } else {
        json!({"type": "FeatureCollection", "features": feats, "retired_codes": retired})
    }
}

/// Writes any JSON value to `path` (compact): to a temporary file beside it, renamed into
/// place once whole, so a failed write (a full disk) leaves no partial file and the previous
/// one as it was.
pub fn write_json_file(path: &Path, value: &Value) -> Result<(), GeoJsonError> {
    let err = |source| GeoJsonError::Write {
        file: path.display().to_string(),
        source,
    };
    let tmp = path.with_file_name(format!(".{}.{}.tmp", file_name(path), std::process::id()));
    let written = (|| {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        serde_json::to_writer(&mut w, value).map_err(std::io::Error::other)?;
        std::io::Write::flush(&mut w)?;
        w.get_ref().sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

/// Writes the plan GeoJSON to `path`.
pub fn write_plan_file(path: &Path, input: &Input, plan: &Plan) -> Result<(), GeoJsonError> {
    write_json_file(path, &plan_to_geojson(input, plan))
}

/// A GeoJSON geometry (Point, Polygon or MultiPolygon) as the planner's [`Geometry`];
/// `None` when it is neither.
pub fn geometry_from_json(v: &Value) -> Option<Geometry> {
    geometry(v, "", 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fc(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }
    const SQ: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;

    #[test]
    fn reads_files_in_gbk_and_with_a_byte_order_mark() {
        let text = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":"宝昌一区","households":120,"community":"宝昌社区"}},"geometry":{SQ}}}"#
        ));
        let dir = std::env::temp_dir().join(format!("wangge-decode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        for (name, bytes) in [("gbk.geojson", gbk.into_owned()), ("bom.geojson", bom)] {
            assert!(std::str::from_utf8(&bytes).is_err() || bytes.starts_with(b"\xEF"));
            let path = dir.join(name);
            std::fs::write(&path, &bytes).unwrap();
            let input = read_compounds_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(input.compounds[0].id, "宝昌一区", "{name}");
            assert_eq!(input.compounds[0].community.as_deref(), Some("宝昌社区"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
        // A UTF-8 file with one stray bad byte is still read as UTF-8, not garbled as GBK.
        let mut stray = "{\"name\":\"北海路\",\"kind\":\"道路\",\"note\":\"x"
            .as_bytes()
            .to_vec();
        stray.extend_from_slice(&[0xFF, b'"', b'}']);
        let text = decode(&stray);
        assert!(text.contains("北海路") && text.contains("道路"), "{text}");
        // GBK stays GBK.
        assert_eq!(
            decode(&encoding_rs::GBK.encode("北海路，道路").0),
            "北海路，道路"
        );
        let text = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":"宝昌一区","households":120,"community":"宝昌社区"}},"geometry":{SQ}}}"#
        ));
        // Text a caller decoded itself may keep the mark.
        assert!(read_compounds(&format!("\u{feff}{text}"), "x.geojson").is_ok());
    }

    #[test]
    fn reads_compounds_with_number_ids() {
        let t = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":7,"households":120,"community":"370725001001","has_property_management":true}},"geometry":{SQ}}},
               {{"type":"Feature","properties":{{"id":"b","households":"30"}},"geometry":{{"type":"Point","coordinates":[2,0]}}}}"#
        ));
        let input = read_compounds(&t, "c.geojson").unwrap();
        assert_eq!(input.compounds.len(), 2);
        assert_eq!(input.compounds[0].id, "7");
        assert_eq!(input.compounds[1].households, 30);
        assert_eq!(input.compounds[0].has_property_management, Some(true));
        // A number is its value, however written: 1.0 and 1e0 are 1; a spreadsheet's
        // 370725001001.0 is the community 370725001001.
        let t = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":1.0,"households":120,"community":370725001001.0}},"geometry":{SQ}}},
               {{"type":"Feature","properties":{{"id":2.5,"households":30}},"geometry":{SQ}}}"#
        ));
        let input = read_compounds(&t, "c.geojson").unwrap();
        assert_eq!(input.compounds[0].id, "1");
        assert_eq!(
            input.compounds[0].community.as_deref(),
            Some("370725001001")
        );
        assert_eq!(input.compounds[1].id, "2.5");
        let edges = read_adjacency(r#"{"edges":[[1e0, 2.5]]}"#, "a.json", &input.compounds);
        assert_eq!(edges.unwrap(), [(0, 1)]);
        let dup = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":100,"households":1}},"geometry":{SQ}}},
               {{"type":"Feature","properties":{{"id":1e2,"households":1}},"geometry":{SQ}}}"#
        ));
        assert!(
            read_compounds(&dup, "d.geojson")
                .unwrap_err()
                .to_string()
                .contains("重复")
        );
        let huge = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":"a","households":18446744073709551615}},"geometry":{SQ}}}"#
        ));
        assert_eq!(
            read_compounds(&huge, "h.geojson").unwrap_err().to_string(),
            "h.geojson 第 1 个要素「households」过大（18446744073709551615），一个小区不超过 10000000 户"
        );
    }

    #[test]
    fn error_messages_name_file_feature_and_field() {
        let t = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":"a","households":10}},"geometry":{SQ}}},
               {{"type":"Feature","properties":{{"id":"b","households":-3}},"geometry":{SQ}}}"#
        ));
        let e = read_compounds(&t, "compounds.geojson")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "compounds.geojson 第 2 个要素「households」应为非负整数");

        let t = fc(&format!(
            r#"{{"type":"Feature","properties":{{"households":10}},"geometry":{SQ}}}"#
        ));
        let e = read_compounds(&t, "c.geojson").unwrap_err().to_string();
        assert!(e.contains("第 1 个要素「id」缺失"), "{e}");

        let t = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":"a","households":1}},"geometry":{SQ}}},
               {{"type":"Feature","properties":{{"id":"a","households":1}},"geometry":{SQ}}}"#
        ));
        let e = read_compounds(&t, "c.geojson").unwrap_err().to_string();
        assert!(e.contains("id「a」与第 1 个要素重复"), "{e}");

        let t = fc(
            r#"{"type":"Feature","properties":{"id":"a","households":1},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}"#,
        );
        let e = read_compounds(&t, "c.geojson").unwrap_err().to_string();
        assert!(e.contains("「geometry」类型为 LineString"), "{e}");

        let t =
            fc(r#"{"type":"Feature","properties":{"id":"a","households":1.5},"geometry":null}"#);
        let e = read_compounds(&t, "c.geojson").unwrap_err().to_string();
        assert!(e.contains("「households」应为非负整数"), "{e}");

        let e = read_compounds("{", "c.geojson").unwrap_err().to_string();
        assert!(e.starts_with("c.geojson 不是有效的 JSON"), "{e}");
        assert!(
            e.contains("内容在此处中断，不完整") && !e.contains("EOF"),
            "{e}"
        );
        let e = read_compounds(r#"{"type":"Feature"}"#, "c.geojson")
            .unwrap_err()
            .to_string();
        assert!(e.contains("FeatureCollection"), "{e}");
        let t = fc(
            r#"{"type":"Feature","properties":{"id":"a","households":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,"x"]]]}}"#,
        );
        assert!(read_compounds(&t, "c.geojson").is_err());
    }

    #[test]
    fn adjacency_and_current() {
        let t = fc(&format!(
            r#"{{"type":"Feature","properties":{{"id":"a","households":1}},"geometry":{SQ}}},
               {{"type":"Feature","properties":{{"id":"b","households":1}},"geometry":{SQ}}}"#
        ));
        let input = read_compounds(&t, "c.geojson").unwrap();
        let e = read_adjacency(
            r#"{"edges":[["a","b","street"]]}"#,
            "adj.json",
            &input.compounds,
        )
        .unwrap();
        assert_eq!(e, vec![(0, 1)]);
        let err = read_adjacency(r#"{"edges":[["a","zz"]]}"#, "adj.json", &input.compounds)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "adj.json 第 1 条边引用了不存在的小区 id「zz」");
        let err = read_adjacency(r#"[]"#, "adj.json", &input.compounds)
            .unwrap_err()
            .to_string();
        assert!(err.contains("edges"), "{err}");
        let cur = fc(
            r#"{"type":"Feature","properties":{"code":"001","compounds":["a","b"]},"geometry":null}"#,
        );
        let g = read_current_grids(&cur, "g.geojson", &input.compounds).unwrap();
        assert_eq!(g[0].compounds, vec![0, 1]);
        let cur = fc(
            r#"{"type":"Feature","properties":{"code":"001","compounds":["q"]},"geometry":null}"#,
        );
        // A compound no longer there: the grid is read, and the planner sets it aside.
        let g = read_current_grids(&cur, "g.geojson", &input.compounds).unwrap();
        assert_eq!(g[0].compounds, vec![usize::MAX]);
        assert_eq!(
            retired_codes(&serde_json::from_str(r#"{"type":"FeatureCollection","features":[],"retired_codes":["370725001001003", 7]}"#).unwrap()),
            ["370725001001003"]
        );
    }

    /// An open square ring of `side` with its lower left corner at (x, y).
    fn square(x: f64, y: f64, side: f64) -> Geometry {
        Geometry::Polygons(vec![vec![vec![
            [x, y],
            [x + side, y],
            [x + side, y + side],
            [x, y + side],
        ]]])
    }

    fn mk(id: &str, geometry: Geometry) -> Compound {
        Compound {
            id: id.into(),
            geometry,
            households: 1,
            community: None,
            kind: None,
            has_property_management: None,
        }
    }

    #[test]
    fn a_gap_in_longitude_latitude_is_metres_both_ways() {
        // 100 m compounds at 昌乐's latitude, 10 m lanes between a and b (east–west) and a and
        // c (north–south). In raw degrees the east–west lane is 12.5 m wide, so an 11 m gap
        // used to find only the north–south neighbour.
        let (lat, m_lat) = (36.7_f64, 1.0 / 111_320.0);
        let m_lon = m_lat / lat.to_radians().cos();
        let at = |east: f64, north: f64| {
            let (x, y) = (118.8 + east * m_lon, lat + north * m_lat);
            Geometry::Polygons(vec![vec![vec![
                [x, y],
                [x + 100.0 * m_lon, y],
                [x + 100.0 * m_lon, y + 100.0 * m_lat],
                [x, y + 100.0 * m_lat],
                [x, y],
            ]]])
        };
        let cs = vec![
            mk("a", at(0.0, 0.0)),
            mk("b", at(110.0, 0.0)),
            mk("c", at(0.0, 110.0)),
        ];
        assert!(derive_adjacency(&cs, None).is_empty());
        assert!(derive_adjacency(&cs, Some(9.0)).is_empty());
        assert_eq!(derive_adjacency(&cs, Some(11.0)), vec![(0, 1), (0, 2)]);
    }

    #[test]
    fn a_gap_only_ever_adds_neighbours() {
        let sq = |x: f64| square(x, 0.0, 100.0);
        // 0.4 apart: touching as drawn (within the default 0.5).
        let touching = vec![mk("a", sq(0.0)), mk("b", sq(100.4))];
        assert_eq!(derive_adjacency(&touching, None), vec![(0, 1)]);
        assert_eq!(derive_adjacency(&touching, Some(0.3)), vec![(0, 1)]);
        // 12 apart (a lane): neighbours only within a gap of 12 or more.
        let lane = vec![mk("a", sq(0.0)), mk("b", sq(112.0))];
        assert!(derive_adjacency(&lane, None).is_empty());
        assert!(derive_adjacency(&lane, Some(8.0)).is_empty());
        assert_eq!(derive_adjacency(&lane, Some(15.0)), vec![(0, 1)]);
        // A gap as wide as half the compounds, or wider, still finds the side by side (the
        // demo's compounds are 100 m squares; 50 m and more used to find none).
        for gap in [49.0, 50.0, 60.0, 150.0, 200.0] {
            assert_eq!(derive_adjacency(&lane, Some(gap)), vec![(0, 1)], "{gap}");
        }
        // …and still not a corner across a crossing, with few vertices or many.
        let diagonal = vec![mk("a", sq(0.0)), mk("b", square(112.0, 112.0, 100.0))];
        let dense = |x: f64, y: f64| {
            let mut ring = Vec::new();
            for k in 0..100 {
                ring.push([x + k as f64, y]);
            }
            for k in 0..100 {
                ring.push([x + 100.0, y + k as f64]);
            }
            for k in 0..100 {
                ring.push([x + 100.0 - k as f64, y + 100.0]);
            }
            for k in 0..100 {
                ring.push([x, y + 100.0 - k as f64]);
            }
            Geometry::Polygons(vec![vec![ring]])
        };
        let dense_diagonal = vec![mk("a", dense(0.0, 0.0)), mk("b", dense(112.0, 112.0))];
        for gap in [20.0, 60.0, 150.0] {
            assert!(derive_adjacency(&diagonal, Some(gap)).is_empty(), "{gap}");
            assert!(
                derive_adjacency(&dense_diagonal, Some(gap)).is_empty(),
                "dense, {gap}"
            );
        }
        let dense_lane = vec![mk("a", dense(0.0, 0.0)), mk("b", dense(112.0, 0.0))];
        assert_eq!(derive_adjacency(&dense_lane, Some(60.0)), vec![(0, 1)]);
        // Staggered across the lane, 25 m face to face, each with one corner on the other's
        // side: neighbours under a narrow gap and a wide one.
        let rect = |x0: f64, y0: f64, x1: f64, y1: f64| {
            Geometry::Polygons(vec![vec![vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]]])
        };
        let staggered = vec![
            mk("a", rect(0.0, 0.0, 100.0, 50.0)),
            mk("b", rect(112.0, 25.0, 212.0, 75.0)),
        ];
        for gap in [15.0, 60.0] {
            assert_eq!(
                derive_adjacency(&staggered, Some(gap)),
                vec![(0, 1)],
                "{gap}"
            );
        }
        // Corners cut at a crossing 10 m wide face each other along the cuts, 5 m long,
        // across 21 m: a corner still, at any gap.
        let poly = |pts: &[[f64; 2]]| Geometry::Polygons(vec![vec![pts.to_vec()]]);
        let chamfered = vec![
            mk(
                "a",
                poly(&[
                    [0.0, 0.0],
                    [100.0, 0.0],
                    [100.0, 95.0],
                    [95.0, 100.0],
                    [0.0, 100.0],
                ]),
            ),
            mk(
                "b",
                poly(&[
                    [110.0, 115.0],
                    [115.0, 110.0],
                    [210.0, 110.0],
                    [210.0, 210.0],
                    [110.0, 210.0],
                ]),
            ),
        ];
        for gap in [15.0, 30.0, 60.0, 200.0] {
            assert!(derive_adjacency(&chamfered, Some(gap)).is_empty(), "{gap}");
        }
        // A row of 50 m compounds with 10 m lanes: under a 75 m gap each is its neighbours'
        // neighbour, not the one beyond (70 m off, facing it along 50 m only). (From x = 1000,
        // so that the coordinates cannot be longitude and latitude.)
        let row: Vec<Compound> = (0..3)
            .map(|k| {
                mk(
                    &format!("r{k}"),
                    square(1000.0 + 60.0 * k as f64, 0.0, 50.0),
                )
            })
            .collect();
        assert_eq!(derive_adjacency(&row, Some(75.0)), vec![(0, 1), (1, 2)]);
        // And a wider gap never takes a neighbour away.
        let mut before: Vec<(usize, usize)> = Vec::new();
        for gap in [1.0, 5.0, 10.0, 12.0, 20.0, 50.0, 100.0, 200.0] {
            let now = derive_adjacency(&row, Some(gap));
            assert!(
                before.iter().all(|e| now.contains(e)),
                "{gap}: {before:?} → {now:?}"
            );
            before = now;
        }
    }

    #[test]
    fn derives_adjacency_from_shared_vertices() {
        let sq = |x: f64, y: f64| square(x, y, 10.0);
        let cs = vec![
            mk("a", sq(1000.0, 1000.0)),
            mk("b", sq(1010.0, 1000.0)),
            mk("c", sq(1030.0, 1000.0)),
            // Slightly off: snapped.
            mk("d", sq(1030.1, 1010.0)),
            // Touches b and c only at corners.
            mk("e", sq(1020.0, 990.0)),
            // Half a side along a's bottom: a T-junction, one shared vertex (1000, 1000).
            mk(
                "f",
                Geometry::Polygons(vec![vec![vec![
                    [1000.0, 990.0],
                    [1005.0, 990.0],
                    [1005.0, 1000.0],
                    [1000.0, 1000.0],
                ]]]),
            ),
        ];
        assert_eq!(derive_adjacency(&cs, None), vec![(0, 1), (0, 5), (2, 3)]);
        // Corners a fraction of a metre apart, each on the other's side: still one corner.
        let rect = |x0: f64, y0: f64, x1: f64, y1: f64| {
            Geometry::Polygons(vec![vec![vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]]])
        };
        let corner = vec![
            mk("a", rect(0.0, 0.0, 10.2, 10.0)),
            mk("b", rect(10.3, 10.0, 20.0, 20.0)),
        ];
        assert!(derive_adjacency(&corner, None).is_empty());
    }

    #[test]
    fn one_long_edge_among_many_short_ones_stays_cheap() {
        // A 100 km diagonal beside a ring of 20,000 vertices in a metre: the cells must not
        // follow the tiny edges down to a size the diagonal would fill by the billion.
        let ring: Vec<Pt> = (0..20_000)
            .map(|k| {
                let a = k as f64 / 20_000.0 * std::f64::consts::TAU;
                [60.0 + a.cos(), 40.0 + a.sin()]
            })
            .collect();
        let poly = |id: &str, ring: Vec<Pt>| Compound {
            id: id.into(),
            geometry: Geometry::Polygons(vec![vec![ring]]),
            households: 1,
            community: None,
            kind: None,
            has_property_management: None,
        };
        let cs = vec![
            poly(
                "big",
                vec![[0.0, 0.0], [100_000.0, 100_000.0], [0.0, 100_000.0]],
            ),
            poly("tiny", ring),
        ];
        assert!(derive_adjacency(&cs, None).is_empty());
    }
}
