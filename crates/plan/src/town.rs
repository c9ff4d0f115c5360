//! A deterministic generator of realistic towns, for benchmarks and tests.
//!
//! Layout (in metres, written as longitude/latitude around 昌乐 county seat):
//! - a street grid of blocks (120–220 m × 100–180 m) separated by lanes and minor streets
//!   (12 m); every 3–5 blocks an arterial road (30 m) and, across the middle, a river (60 m;
//!   in larger towns also a second, north–south one). Arterials and rivers are **barriers**:
//!   no adjacency edge crosses them. Minor streets are not: compounds facing each other across
//!   one are adjacent (edge kind `street`); compounds sharing a boundary inside a block are
//!   adjacent (kind `shared`).
//! - each block is cut (guillotine cuts) into 1–8 compounds with heavy-tailed households:
//!   log-normal with median 130 and σ 0.85 clipped to 20–3,000, plus 3% new high-rise estates
//!   of 600–3,000 (log-uniform); about 7% of compounds are over 600 households, 20% over 300.
//!   Compounds facing each other across a minor street are adjacent where their fronts overlap.
//! - communities are 2×3 blocks inside the arterial super-blocks (about 4,500 households,
//!   close to 宝都's 5,450), coded `370725` + street (3 digits, 30 communities a street) +
//!   community (3 digits).
//! - about 3% of the compounds are villages in clusters of 1–4 out at the edge of town,
//!   connected only inside their cluster (kind `lane`), each belonging to the nearest
//!   community: small isolated groups, as in real counties.
//!
//! The same `(compounds, seed)` always gives the same town.

use std::collections::HashMap;
use std::path::Path;

use crate::geojson::{self, GeoJsonError};
use crate::{Compound, Geometry, Input, Pt};

/// A generated town.
#[derive(Debug, Clone)]
pub struct Town {
    /// Compounds and adjacency (barriers are already applied to the adjacency, so
    /// `input.barriers` is empty).
    pub input: Input,
    /// Kind of each adjacency edge: `shared`, `street` or `lane`.
    pub edge_kinds: Vec<&'static str>,
    /// Arterial roads and rivers, longitude/latitude.
    pub barriers: Vec<Vec<Pt>>,
}

/// The town sizes used by the benchmarks.
pub const SIZES: [usize; 3] = [300, 5_000, 50_000];

struct Rng(u64);

impl Rng {
    /// A compound's households as the towns draw them: log-normal, and now and then a new
    /// high-rise estate, log-uniform 600–3,000.
    fn households(&mut self) -> i64 {
        if self.unit() < NEW_ESTATES {
            (600.0 * 5f64.powf(self.unit())).round() as i64
        } else {
            self.lognormal(MEDIAN, SIGMA, 20.0, 3000.0)
        }
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.unit()
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    fn lognormal(&mut self, median: f64, sigma: f64, lo: f64, hi: f64) -> i64 {
        (median * (sigma * self.normal()).exp())
            .clamp(lo, hi)
            .round() as i64
    }
}

#[derive(Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// Guillotine cut of `r` into parts with areas proportional to `weights`.
fn cut(r: Rect, weights: &[f64], out: &mut Vec<Rect>) {
    if weights.len() == 1 {
        out.push(r);
        return;
    }
    let total: f64 = weights.iter().sum();
    // Split the list where the cumulative weight is closest to half.
    let mut acc = 0.0;
    let mut k = 1;
    let mut best = f64::INFINITY;
    for i in 1..weights.len() {
        acc += weights[i - 1];
        let d = (acc - total / 2.0).abs();
        if d < best {
            best = d;
            k = i;
        }
    }
    let left: f64 = weights[..k].iter().sum();
    let t = left / total;
    if r.x1 - r.x0 >= r.y1 - r.y0 {
        let xm = r.x0 + (r.x1 - r.x0) * t;
        cut(Rect { x1: xm, ..r }, &weights[..k], out);
        cut(Rect { x0: xm, ..r }, &weights[k..], out);
    } else {
        let ym = r.y0 + (r.y1 - r.y0) * t;
        cut(Rect { y1: ym, ..r }, &weights[..k], out);
        cut(Rect { y0: ym, ..r }, &weights[k..], out);
    }
}

fn overlap(a0: f64, a1: f64, b0: f64, b1: f64) -> f64 {
    a1.min(b1) - a0.max(b0)
}

/// Households of ordinary compounds: log-normal with this median and sigma.
const MEDIAN: f64 = 130.0;
const SIGMA: f64 = 0.85;
/// Share of new high-rise estates (600–3,000 households).
const NEW_ESTATES: f64 = 0.03;

const LON0: f64 = 118.78;
const LAT0: f64 = 36.68;

fn to_lonlat(x: f64, y: f64) -> Pt {
    let lat = LAT0 + y / 110_574.0;
    let lon = LON0 + x / (111_320.0 * LAT0.to_radians().cos());
    // Round to ~1 cm so that files are compact and shared vertices stay identical.
    [(lon * 1e7).round() / 1e7, (lat * 1e7).round() / 1e7]
}

fn rect_geometry(r: &Rect) -> Geometry {
    Geometry::Polygons(vec![vec![vec![
        to_lonlat(r.x0, r.y0),
        to_lonlat(r.x1, r.y0),
        to_lonlat(r.x1, r.y1),
        to_lonlat(r.x0, r.y1),
        to_lonlat(r.x0, r.y0),
    ]]])
}

fn community_code(idx: usize) -> String {
    format!("370725{:03}{:03}", idx / 30 + 1, idx % 30 + 1)
}

/// Generates a town of exactly `compounds` compounds (deterministic in `seed`).
#[allow(clippy::needless_range_loop)] // parallel arrays indexed by row/column
pub fn generate(compounds: usize, seed: u64) -> Town {
    let mut rng = Rng(seed ^ 0x005E_ED0F_7077);
    let n_villages = (compounds * 3) / 100;
    let n_urban = compounds - n_villages;
    let blocks_needed = (n_urban as f64 / 4.5).ceil().max(1.0);
    let cols = ((blocks_needed * 1.3).sqrt().ceil() as usize).max(1);
    let rows = (blocks_needed as usize).div_ceil(cols) + 2;

    // Arterials: after every 3–5 blocks.
    let arterials = |rng: &mut Rng, count: usize| {
        let mut v = vec![false; count + 1];
        let mut next = 3 + rng.below(3) as usize;
        let mut i = next;
        while i < count {
            v[i] = true;
            next = 3 + rng.below(3) as usize;
            i += next;
        }
        v
    };
    let col_art = arterials(&mut rng, cols);
    let row_art = arterials(&mut rng, rows);
    // River: the arterial gap closest to the middle (rows); a second one (cols) in big towns.
    let mid = |v: &[bool], n: usize| (1..n).filter(|&i| v[i]).min_by_key(|&i| i.abs_diff(n / 2));
    let river_row = mid(&row_art, rows);
    let river_col = if compounds >= 5_000 {
        mid(&col_art, cols)
    } else {
        None
    };
    let gap = |art: bool, river: bool| {
        if river {
            60.0
        } else if art {
            30.0
        } else {
            12.0
        }
    };
    let mut xs = Vec::with_capacity(cols + 1); // left edge of each column
    let mut widths = Vec::with_capacity(cols);
    let mut x = 0.0;
    for c in 0..cols {
        if c > 0 {
            x += gap(col_art[c], river_col == Some(c));
        }
        xs.push(x);
        let w = rng.range(120.0, 220.0);
        widths.push(w);
        x += w;
    }
    let width_total = x;
    // Rows from north to south: y decreases.
    let mut ys = Vec::with_capacity(rows);
    let mut heights = Vec::with_capacity(rows);
    let mut y = 0.0;
    for r in 0..rows {
        if r > 0 {
            y -= gap(row_art[r], river_row == Some(r));
        }
        let h = rng.range(100.0, 180.0);
        ys.push(y); // top edge
        heights.push(h);
        y -= h;
    }
    let height_total = -y;

    // Super-block index of each column/row, then communities of 2×3 blocks inside them.
    let super_index = |art: &[bool], n: usize, k: usize| {
        let mut out = Vec::with_capacity(n);
        let (mut s, mut start) = (0usize, 0usize);
        for i in 0..n {
            if i > 0 && art[i] {
                s += 1;
                start = i;
            }
            out.push((s, (i - start) / k));
        }
        out
    };
    let col_sup = super_index(&col_art, cols, 3);
    let row_sup = super_index(&row_art, rows, 2);
    let mut comm_ids: HashMap<(usize, usize, usize, usize), usize> = HashMap::new();
    let mut block_comm: HashMap<(usize, usize), usize> = HashMap::new();

    let mut out: Vec<Compound> = Vec::with_capacity(compounds);
    let mut rects: Vec<Rect> = Vec::with_capacity(compounds);
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut kinds: Vec<&'static str> = Vec::new();
    // Compounds of each block, for cross-street adjacency.
    let mut block_members: HashMap<(usize, usize), Vec<usize>> = HashMap::new();

    'blocks: for r in 0..rows {
        for c in 0..cols {
            if out.len() >= n_urban {
                break 'blocks;
            }
            let key = (row_sup[r].0, col_sup[c].0, row_sup[r].1, col_sup[c].1);
            let next_id = comm_ids.len();
            let comm = *comm_ids.entry(key).or_insert(next_id);
            block_comm.insert((r, c), comm);
            let m = (1 + rng.below(8) as usize).min(n_urban - out.len());
            let hs: Vec<i64> = (0..m).map(|_| rng.households()).collect();
            let weights: Vec<f64> = hs.iter().map(|&h| (h as f64).powf(0.7) + 30.0).collect();
            let block = Rect {
                x0: xs[c],
                x1: xs[c] + widths[c],
                y0: ys[r] - heights[r],
                y1: ys[r],
            };
            let mut parts = Vec::with_capacity(m);
            cut(block, &weights, &mut parts);
            let first = out.len();
            for (k, (h, rect)) in hs.into_iter().zip(parts).enumerate() {
                let pm = rng.unit() < 0.3 + 0.5 * (h as f64 / 1000.0).min(1.0);
                out.push(Compound {
                    id: format!("C{:06}", first + k + 1),
                    geometry: rect_geometry(&rect),
                    households: h,
                    community: Some(community_code(comm)),
                    kind: Some("compound".into()),
                    has_property_management: Some(pm),
                });
                rects.push(rect);
            }
            // Shared boundaries inside the block.
            for i in first..out.len() {
                for j in i + 1..out.len() {
                    let (a, b) = (rects[i], rects[j]);
                    let touch_x =
                        (a.x1 == b.x0 || b.x1 == a.x0) && overlap(a.y0, a.y1, b.y0, b.y1) > 1.0;
                    let touch_y =
                        (a.y1 == b.y0 || b.y1 == a.y0) && overlap(a.x0, a.x1, b.x0, b.x1) > 1.0;
                    if touch_x || touch_y {
                        edges.push((i, j));
                        kinds.push("shared");
                    }
                }
            }
            block_members.insert((r, c), (first..out.len()).collect());
        }
    }
    // Across minor streets (not arterials, not rivers).
    let mut keys: Vec<(usize, usize)> = block_members.keys().copied().collect();
    keys.sort_unstable();
    for &(r, c) in &keys {
        let here = &block_members[&(r, c)];
        // East neighbour.
        if c + 1 < cols
            && !col_art[c + 1]
            && let Some(east) = block_members.get(&(r, c + 1))
        {
            let bx = xs[c] + widths[c];
            let ex = xs[c + 1];
            for &i in here.iter().filter(|&&i| rects[i].x1 == bx) {
                for &j in east.iter().filter(|&&j| rects[j].x0 == ex) {
                    if overlap(rects[i].y0, rects[i].y1, rects[j].y0, rects[j].y1) > 0.0 {
                        edges.push((i, j));
                        kinds.push("street");
                    }
                }
            }
        }
        // South neighbour.
        if r + 1 < rows
            && !row_art[r + 1]
            && let Some(south) = block_members.get(&(r + 1, c))
        {
            let by = ys[r] - heights[r];
            let sy = ys[r + 1];
            for &i in here.iter().filter(|&&i| rects[i].y0 == by) {
                for &j in south.iter().filter(|&&j| rects[j].y1 == sy) {
                    if overlap(rects[i].x0, rects[i].x1, rects[j].x0, rects[j].x1) > 0.0 {
                        edges.push((i, j));
                        kinds.push("street");
                    }
                }
            }
        }
    }

    // Villages at the edge, in small clusters.
    let urban_rows = ys.len();
    let mut placed = 0;
    while placed < n_villages {
        let k = (1 + rng.below(4) as usize).min(n_villages - placed);
        // A point on a ring 300–900 m outside the town's bounding box.
        let d = rng.range(300.0, 900.0);
        let side = rng.below(4);
        let t = rng.unit();
        let (vx, vy) = match side {
            0 => (-d, -t * height_total),
            1 => (width_total + d, -t * height_total),
            2 => (t * width_total, d),
            _ => (t * width_total, -height_total - d),
        };
        // Nearest block's community (clamped into the grid).
        let col = xs.iter().rposition(|&x0| x0 <= vx).unwrap_or(0);
        let row = ys
            .iter()
            .rposition(|&y0| y0 >= vy)
            .unwrap_or(0)
            .min(urban_rows - 1);
        let comm = (0..=rows)
            .flat_map(|dr| [row.saturating_sub(dr), (row + dr).min(rows - 1)])
            .find_map(|rr| block_comm.get(&(rr, col)).copied())
            .unwrap_or(0);
        let first = out.len();
        let mut x0 = vx;
        for i in 0..k {
            let s = rng.range(60.0, 100.0);
            let rect = Rect {
                x0,
                x1: x0 + s,
                y0: vy,
                y1: vy + 70.0,
            };
            x0 += s;
            let h = rng.lognormal(150.0, 0.7, 20.0, 800.0);
            out.push(Compound {
                id: format!("V{:06}", first + i + 1),
                geometry: rect_geometry(&rect),
                households: h,
                community: Some(community_code(comm)),
                kind: Some("village".into()),
                has_property_management: Some(false),
            });
            rects.push(rect);
            if i > 0 {
                edges.push((first + i - 1, first + i));
                kinds.push("lane");
            }
        }
        placed += k;
    }

    // Barriers: arterial centre lines and rivers (gentle meanders inside their gap).
    let mut barriers: Vec<Vec<Pt>> = Vec::new();
    for c in 1..cols {
        if col_art[c] {
            let xm = (xs[c - 1] + widths[c - 1] + xs[c]) / 2.0;
            let river = river_col == Some(c);
            let line = (0..=20)
                .map(|i| {
                    let yy = 200.0 - (height_total + 400.0) * i as f64 / 20.0;
                    let dx = if river {
                        12.0 * (i as f64 * 0.9).sin()
                    } else {
                        0.0
                    };
                    to_lonlat(xm + dx, yy)
                })
                .collect();
            barriers.push(line);
        }
    }
    for r in 1..rows {
        if row_art[r] {
            let ym = (ys[r - 1] - heights[r - 1] + ys[r]) / 2.0;
            let river = river_row == Some(r);
            let line = (0..=20)
                .map(|i| {
                    let xx = -200.0 + (width_total + 400.0) * i as f64 / 20.0;
                    let dy = if river {
                        12.0 * (i as f64 * 0.9).sin()
                    } else {
                        0.0
                    };
                    to_lonlat(xx, ym + dy)
                })
                .collect();
            barriers.push(line);
        }
    }

    Town {
        input: Input {
            compounds: out,
            adjacency: edges,
            ..Default::default()
        },
        edge_kinds: kinds,
        barriers,
    }
}

/// A *hub star* of `compounds` compounds (deterministic in `seed`): one road parcel exported
/// as a compound (0 households) in the middle, touching every other compound, and nothing
/// else touching: the others stand in rows around it, 40 m apart, with the town's households
/// (so some are over the ceiling, some in band on their own, most below the floor). One
/// community. The planner has to look at the hub's whole neighbour list again and again;
/// this instance shows what that costs.
pub fn star(compounds: usize, seed: u64) -> Input {
    let mut rng = Rng(seed ^ 0x0057_A400_u64);
    let mut out = Vec::with_capacity(compounds);
    if compounds == 0 {
        return Input::default();
    }
    out.push(hub_compound("hub".into(), [0.0, 0.0], 0, "road"));
    // Cells of a square spiral around the hub's cell.
    let (mut cx, mut cy, mut dx, mut dy) = (0i64, 0i64, 1i64, 0i64);
    let mut leg = 1;
    let mut walked = 0;
    let mut turns = 0;
    while out.len() < compounds {
        cx += dx;
        cy += dy;
        walked += 1;
        if walked == leg {
            walked = 0;
            (dx, dy) = (-dy, dx);
            turns += 1;
            if turns % 2 == 0 {
                leg += 1;
            }
        }
        let households = rng.households();
        out.push(hub_compound(
            format!("s{}", out.len()),
            [cx as f64 * 40.0, cy as f64 * 40.0],
            households,
            "compound",
        ));
    }
    let adjacency = (1..out.len()).map(|i| (0, i)).collect();
    Input {
        compounds: out,
        adjacency,
        ..Default::default()
    }
}

/// A *hub ring* of `compounds` compounds (deterministic in `seed`): a road parcel (0
/// households, kind `road`) in the middle, as in [`star`], but the compounds around it stand
/// side by side along the road, so each also touches the next one round the ring (the last
/// the first) — except every fourth pair, where a lane or a wall parts them (links 3, 7, 11,
/// … of the ring are left out). Households are drawn as in the towns (log-normal, median 130,
/// 3% new estates of 600–3,000): at 500–600, 91% of the compounds are below the floor, 2% in
/// band on their own and 7% over the ceiling; at 200–300, 66%, 15% and 19% (seed 1, 10,000
/// compounds). Compounds over the ceiling are grids of their own and cut the ring. One community. Unlike the
/// star, the hub's neighbours are not pendants: a grid around the hub holds runs of the ring,
/// and re-partitioning it is real work. The geometry places the compounds (30 m squares, 40 m
/// apart) on a circle round the hub; like the star's, the adjacency is given, not derived
/// from it.
pub fn ring(compounds: usize, seed: u64) -> Input {
    let mut rng = Rng(seed ^ 0x0052_1C6E_u64);
    if compounds == 0 {
        return Input::default();
    }
    let mut out = Vec::with_capacity(compounds);
    out.push(hub_compound("hub".into(), [0.0, 0.0], 0, "road"));
    let m = compounds - 1;
    let radius = (40.0 * m as f64 / std::f64::consts::TAU).max(60.0);
    for k in 0..m {
        let households = rng.households();
        let a = std::f64::consts::TAU * k as f64 / m as f64;
        out.push(hub_compound(
            format!("r{}", k + 1),
            [radius * a.cos(), radius * a.sin()],
            households,
            "compound",
        ));
    }
    let mut adjacency: Vec<(usize, usize)> = (1..=m).map(|i| (0, i)).collect();
    // Link k joins ring compounds k and k + 1 (the last closes the ring, from three on).
    let links = if m >= 3 { m } else { m.saturating_sub(1) };
    for k in (0..links).filter(|k| k % 4 != 3) {
        adjacency.push((1 + k, 1 + (k + 1) % m));
    }
    Input {
        compounds: out,
        adjacency,
        ..Default::default()
    }
}

/// A compound of the hub instances ([`star`], [`ring`]): a 30 m square centred at `at`, in
/// the one community.
fn hub_compound(id: String, at: Pt, households: i64, kind: &str) -> Compound {
    Compound {
        id,
        geometry: rect_geometry(&Rect {
            x0: at[0] - 15.0,
            y0: at[1] - 15.0,
            x1: at[0] + 15.0,
            y1: at[1] + 15.0,
        }),
        households,
        community: Some(community_code(0)),
        kind: Some(kind.into()),
        has_property_management: None,
    }
}

/// File names written by [`write`] for a town called `name`:
/// `(compounds, adjacency, barriers)`.
pub fn file_names(name: &str) -> (String, String, String) {
    (
        format!("{name}.compounds.geojson"),
        format!("{name}.adjacency.json"),
        format!("{name}.barriers.geojson"),
    )
}

/// Writes the town into `dir` as `{name}.compounds.geojson`, `{name}.adjacency.json` and
/// `{name}.barriers.geojson`.
pub fn write(town: &Town, dir: &Path, name: &str) -> Result<(), GeoJsonError> {
    std::fs::create_dir_all(dir).map_err(|source| GeoJsonError::Write {
        file: dir.display().to_string(),
        source,
    })?;
    let (c, a, b) = file_names(name);
    let compounds = &town.input.compounds;
    geojson::write_json_file(&dir.join(c), &geojson::compounds_to_geojson(compounds))?;
    geojson::write_json_file(
        &dir.join(a),
        &geojson::adjacency_to_json(compounds, &town.input.adjacency, Some(&town.edge_kinds)),
    )?;
    geojson::write_json_file(&dir.join(b), &geojson::barriers_to_geojson(&town.barriers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_determinism() {
        for n in [1, 7, 300] {
            let t = generate(n, 1);
            assert_eq!(t.input.compounds.len(), n);
        }
        let a = generate(300, 42);
        let b = generate(300, 42);
        assert_eq!(a.input.adjacency, b.input.adjacency);
        assert_eq!(a.input.compounds, b.input.compounds);
        let h: Vec<i64> = a.input.compounds.iter().map(|c| c.households).collect();
        assert!(h.iter().all(|&x| (20..=3000).contains(&x)));
        assert!(h.iter().filter(|&&x| x > 600).count() > 5);
        assert!(
            a.input
                .compounds
                .iter()
                .any(|c| c.kind.as_deref() == Some("village"))
        );
    }

    #[test]
    fn a_star_is_one_hub_touching_everything_else() {
        assert!(star(0, 1).compounds.is_empty());
        let s = star(500, 3);
        assert_eq!(s.compounds.len(), 500);
        assert_eq!(s.adjacency, (1..500).map(|i| (0, i)).collect::<Vec<_>>());
        assert_eq!(s.compounds[0].households, 0);
        assert_eq!(star(500, 3).compounds, s.compounds);
        let ids: std::collections::HashSet<&str> =
            s.compounds.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 500);
    }

    #[test]
    fn a_ring_is_a_hub_and_a_ring_with_every_fourth_link_left_out() {
        assert!(ring(0, 1).compounds.is_empty());
        assert!(ring(1, 1).adjacency.is_empty());
        assert_eq!(ring(3, 1).adjacency, vec![(0, 1), (0, 2), (1, 2)]);
        let r = ring(9, 2);
        assert_eq!(
            r.adjacency,
            vec![
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (0, 5),
                (0, 6),
                (0, 7),
                (0, 8),
                (1, 2),
                (2, 3),
                (3, 4),
                (5, 6),
                (6, 7),
                (7, 8),
            ]
        );
        let r = ring(1_000, 3);
        assert_eq!(r.compounds.len(), 1_000);
        assert_eq!(r.compounds[0].households, 0);
        assert_eq!(r.compounds[0].kind.as_deref(), Some("road"));
        assert_eq!(ring(1_000, 3).compounds, r.compounds);
        // 999 spokes, and 999 ring links less the 249 left out.
        assert_eq!(r.adjacency.len(), 999 + 999 - 249);
        let ids: std::collections::HashSet<&str> =
            r.compounds.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 1_000);
    }
}
