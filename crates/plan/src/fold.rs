//! Department grids folded into the unified grids (各部门自行划定的网格撤销，统一归属新网格):
//! which compounds a department grid's outline takes in. A compound belongs to the outline
//! that holds the larger part of its area ([`place`]), measured on a lattice of points inside
//! the compound; a point compound, to the outline that holds it.

use crate::Geometry;
use crate::geom::{BBox, Pt, polygon_area_centroid};

/// Polygons, each a list of rings (first the outer, then holes).
type Polygons = [Vec<Vec<Pt>>];

/// Whether `p` lies inside the polygons (each a list of rings, first the outer, then holes;
/// a point inside a hole is outside). Points on an edge may go either way.
pub fn contains(polygons: &Polygons, p: Pt) -> bool {
    polygons.iter().any(|rings| {
        // Even-odd over all rings: inside the outer ring and in no hole.
        let mut inside = false;
        for ring in rings {
            let n = ring.len();
            for i in 0..n {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                if (a[1] > p[1]) != (b[1] > p[1])
                    && p[0] < a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
                {
                    inside = !inside;
                }
            }
        }
        inside
    })
}

/// A point inside the geometry to place it by: a point itself; for polygons the centroid of
/// the largest one when it lies inside, else the middle of the widest stretch of the
/// horizontal line through that centroid that lies inside.
pub fn anchor(g: &Geometry) -> Pt {
    let polygons = match g {
        Geometry::Point(p) => return *p,
        Geometry::Polygons(p) => p,
    };
    let Some((_, c, rings)) = polygons
        .iter()
        .map(|rings| {
            let (a, c) = polygon_area_centroid(rings);
            (a, c, rings)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
    else {
        return [0.0, 0.0];
    };
    if contains(std::slice::from_ref(rings), c) {
        return c;
    }
    // Where the line y = c.y crosses the rings, in order: the stretches between the 1st and
    // 2nd, 3rd and 4th… crossings are inside.
    let y = c[1];
    let mut xs: Vec<f64> = Vec::new();
    for ring in rings {
        let n = ring.len();
        for i in 0..n {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            if (a[1] > y) != (b[1] > y) {
                xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
            }
        }
    }
    xs.sort_by(f64::total_cmp);
    xs.chunks_exact(2)
        .max_by(|a, b| (a[1] - a[0]).total_cmp(&(b[1] - b[0])))
        .map(|s| [(s[0] + s[1]) / 2.0, y])
        .unwrap_or(c)
}

/// One polygon of an outline with its edges filed by horizontal band, so that a point test
/// or a "does an edge pass by this box" test looks at the edges near it only (a digitised
/// beat has thousands of vertices).
struct PolygonIndex {
    bb: BBox,
    y0: f64,
    height: f64,
    /// Every edge, in each band its height overlaps.
    bands: Vec<Vec<(Pt, Pt)>>,
}

impl PolygonIndex {
    fn new(rings: &[Vec<Pt>]) -> PolygonIndex {
        let mut bb = BBox::empty();
        let mut edges = Vec::new();
        for ring in rings {
            for i in 0..ring.len() {
                let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                bb.add(a);
                edges.push((a, b));
            }
        }
        let n = (edges.len() / 4).clamp(1, 1024);
        let (y0, height) = (bb.min[1], (bb.max[1] - bb.min[1]) / n as f64);
        let mut bands = vec![Vec::new(); n];
        for &(a, b) in &edges {
            let (lo, hi) = (a[1].min(b[1]), a[1].max(b[1]));
            let (first, last) = (Self::band(y0, height, n, lo), Self::band(y0, height, n, hi));
            for band in &mut bands[first..=last] {
                band.push((a, b));
            }
        }
        PolygonIndex {
            bb,
            y0,
            height,
            bands,
        }
    }

    fn band(y0: f64, height: f64, n: usize, y: f64) -> usize {
        if height > 0.0 && height.is_finite() {
            (((y - y0) / height).floor().max(0.0) as usize).min(n - 1)
        } else {
            0
        }
    }

    /// Even-odd over the polygon's rings, as [`contains`].
    fn contains(&self, p: Pt) -> bool {
        if !(self.bb.min[0] <= p[0]
            && p[0] <= self.bb.max[0]
            && self.bb.min[1] <= p[1]
            && p[1] <= self.bb.max[1])
        {
            return false;
        }
        let band = &self.bands[Self::band(self.y0, self.height, self.bands.len(), p[1])];
        let mut inside = false;
        for &(a, b) in band {
            if (a[1] > p[1]) != (b[1] > p[1])
                && p[0] < a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            {
                inside = !inside;
            }
        }
        inside
    }

    /// Whether an edge's box meets `bb` (an edge that may cross it).
    fn edge_near(&self, bb: &BBox) -> bool {
        let n = self.bands.len();
        let first = Self::band(self.y0, self.height, n, bb.min[1]);
        let last = Self::band(self.y0, self.height, n, bb.max[1]);
        self.bands[first..=last].iter().flatten().any(|&(a, b)| {
            a[0].min(b[0]) <= bb.max[0]
                && bb.min[0] <= a[0].max(b[0])
                && a[1].min(b[1]) <= bb.max[1]
                && bb.min[1] <= a[1].max(b[1])
        })
    }
}

/// Lattice points per side of a compound's box that [`place`] measures with (cell centres):
/// up to 144 points inside a compound that fills its box, fewer for a thin or slanted one.
const LATTICE: usize = 12;

/// For each compound, the outlines (indices into `areas`) it is placed in: the one holding the
/// largest part of its area, when the outlines together hold at least half of it (a compound
/// that only grazes an outline drawn along its wall stays out). Parts are measured on a
/// lattice of points inside the compound, with [`anchor`] among them (so that a compound too
/// thin for the lattice is still placed); equal parts go to the outline holding the anchor,
/// then to the first. A compound lying mostly inside several outlines (more than half of it
/// in each: they overlap there) is given all of them, for the caller to refuse. An outline
/// none of whose edges comes near the compound holds all of it or none, as its anchor says,
/// so only outlines whose boundary passes by are measured point by point. Outlines that are
/// points hold nothing.
pub fn place<'a>(
    areas: &[Geometry],
    compounds: impl IntoIterator<Item = &'a Geometry>,
) -> Vec<Vec<usize>> {
    let boxes: Vec<Option<(BBox, Vec<PolygonIndex>)>> = areas
        .iter()
        .map(|g| match g {
            Geometry::Polygons(p) => {
                let mut bb = BBox::empty();
                for q in p.iter().flatten().flatten() {
                    bb.add(*q);
                }
                Some((bb, p.iter().map(|rings| PolygonIndex::new(rings)).collect()))
            }
            Geometry::Point(_) => None,
        })
        .collect();
    let inside = |polys: &[PolygonIndex], q: Pt| polys.iter().any(|p| p.contains(q));
    let meets = |a: &BBox, b: &BBox| {
        a.min[0] <= b.max[0] && b.min[0] <= a.max[0] && a.min[1] <= b.max[1] && b.min[1] <= a.max[1]
    };
    compounds
        .into_iter()
        .map(|g| {
            let mut bb = BBox::empty();
            for q in g.points() {
                bb.add(*q);
            }
            // Only outlines whose box meets the compound's can hold any of it.
            let candidates: Vec<(usize, &[PolygonIndex])> = boxes
                .iter()
                .enumerate()
                .filter_map(|(k, b)| {
                    let (ob, polys) = b.as_ref()?;
                    meets(ob, &bb).then_some((k, polys.as_slice()))
                })
                .collect();
            if candidates.is_empty() {
                return Vec::new();
            }
            let a = anchor(g);
            // Whether an edge of the outline may cross the compound (its box meets the
            // compound's): if not, the compound is wholly inside or wholly outside.
            let crossing: Vec<bool> = candidates
                .iter()
                .map(|(_, polys)| polys.iter().any(|p| p.edge_near(&bb)))
                .collect();
            let at_anchor: Vec<bool> = candidates
                .iter()
                .map(|(_, polys)| inside(polys, a))
                .collect();
            let mut samples = vec![a];
            if let (Geometry::Polygons(p), true) = (g, crossing.contains(&true)) {
                let (w, h) = (bb.max[0] - bb.min[0], bb.max[1] - bb.min[1]);
                for i in 0..LATTICE {
                    for j in 0..LATTICE {
                        let q = [
                            bb.min[0] + w * (i as f64 + 0.5) / LATTICE as f64,
                            bb.min[1] + h * (j as f64 + 0.5) / LATTICE as f64,
                        ];
                        if contains(p, q) {
                            samples.push(q);
                        }
                    }
                }
            }
            // For each candidate, which samples it holds.
            let held: Vec<Vec<bool>> = candidates
                .iter()
                .enumerate()
                .map(|(slot, (_, polys))| {
                    if crossing[slot] {
                        samples.iter().map(|&q| inside(polys, q)).collect()
                    } else {
                        vec![at_anchor[slot]; samples.len()]
                    }
                })
                .collect();
            let count: Vec<usize> = held
                .iter()
                .map(|h| h.iter().filter(|&&x| x).count())
                .collect();
            let covered = (0..samples.len())
                .filter(|&i| held.iter().any(|h| h[i]))
                .count();
            if 2 * covered < samples.len() {
                return Vec::new();
            }
            let mostly: Vec<usize> = (0..candidates.len())
                .filter(|&slot| 2 * count[slot] > samples.len())
                .map(|slot| candidates[slot].0)
                .collect();
            if mostly.len() > 1 {
                return mostly;
            }
            (0..candidates.len())
                .filter(|&slot| count[slot] > 0)
                .max_by_key(|&slot| (count[slot], at_anchor[slot], std::cmp::Reverse(slot)))
                .map(|slot| candidates[slot].0)
                .into_iter()
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, side: f64) -> Vec<Pt> {
        vec![
            [x, y],
            [x + side, y],
            [x + side, y + side],
            [x, y + side],
            [x, y],
        ]
    }

    #[test]
    fn a_point_in_a_hole_is_outside() {
        let with_hole = vec![vec![square(0.0, 0.0, 10.0), square(4.0, 4.0, 2.0)]];
        assert!(contains(&with_hole, [1.0, 1.0]));
        assert!(!contains(&with_hole, [5.0, 5.0]));
        assert!(!contains(&with_hole, [11.0, 5.0]));
    }

    #[test]
    fn a_u_shaped_compound_is_placed_by_a_point_inside_it() {
        // A U open to the north: its centroid lies in the gap between the arms.
        let u = Geometry::Polygons(vec![vec![vec![
            [0.0, 0.0],
            [9.0, 0.0],
            [9.0, 9.0],
            [6.0, 9.0],
            [6.0, 2.0],
            [3.0, 2.0],
            [3.0, 9.0],
            [0.0, 9.0],
            [0.0, 0.0],
        ]]]);
        let Geometry::Polygons(p) = &u else {
            unreachable!()
        };
        let (_, c) = polygon_area_centroid(&p[0]);
        assert!(!contains(p, c), "the test needs a centroid outside");
        let a = anchor(&u);
        assert!(contains(p, a), "{a:?}");
        // The largest of several polygons places a compound.
        let two = Geometry::Polygons(vec![
            vec![square(0.0, 0.0, 1.0)],
            vec![square(5.0, 5.0, 3.0)],
        ]);
        assert_eq!(anchor(&two), [6.5, 6.5]);
        assert_eq!(anchor(&Geometry::Point([2.0, 3.0])), [2.0, 3.0]);
    }

    #[test]
    fn a_compound_goes_to_the_outline_holding_most_of_it() {
        let outline = |x: f64, w: f64| {
            Geometry::Polygons(vec![vec![vec![
                [x, -50.0],
                [x + w, -50.0],
                [x + w, 150.0],
                [x, 150.0],
                [x, -50.0],
            ]]])
        };
        let compound = |x: f64, w: f64| {
            Geometry::Polygons(vec![vec![vec![
                [x, 0.0],
                [x + w, 0.0],
                [x + w, 100.0],
                [x, 100.0],
                [x, 0.0],
            ]]])
        };
        // Outlines split at x = 100 and x = 300; nothing beyond x = 400.
        let areas = vec![
            outline(0.0, 100.0),
            outline(100.0, 200.0),
            outline(300.0, 100.0),
        ];
        let got = place(
            &areas,
            &[
                // 30% west of the line, 70% east: east, though its centre-line point is near.
                compound(70.0, 100.0),
                // 70% west, 30% east.
                compound(30.0, 100.0),
                // Halves: the outline holding its anchor (its centre, x = 100 falls to the east).
                compound(50.0, 100.0),
                // 40% in the last outline, 60% in none: out.
                compound(360.0, 100.0),
                // 60% in, 40% out: in.
                compound(340.0, 100.0),
                // Wholly inside.
                compound(150.0, 20.0),
                // A point compound: where the point is.
                Geometry::Point([10.0, 10.0]),
                Geometry::Point([500.0, 10.0]),
            ],
        );
        assert_eq!(
            got,
            vec![
                vec![1],
                vec![0],
                vec![1],
                vec![],
                vec![2],
                vec![1],
                vec![0],
                vec![]
            ]
        );
        // Overlapping outlines (the overlap is x = 100–300): a compound wholly or mostly in
        // the overlap is in both, for the caller to refuse.
        let overlapping = vec![outline(0.0, 300.0), outline(100.0, 300.0)];
        assert_eq!(
            place(
                &overlapping,
                &[compound(150.0, 50.0), compound(95.0, 100.0)]
            ),
            vec![vec![0, 1], vec![0, 1]]
        );
        // Mostly outside the overlap (40% in it): the outline holding it whole.
        assert_eq!(place(&overlapping, &[compound(40.0, 100.0)]), vec![vec![0]]);
    }

    #[test]
    fn the_filed_edges_answer_as_the_plain_point_test() {
        // A star-shaped ring of 997 vertices with a square hole, probed on a fine lattice
        // (edges, vertices and the hole included).
        let star: Vec<Pt> = (0..=996)
            .map(|k| {
                let t = std::f64::consts::TAU * k as f64 / 996.0;
                let r = if k % 2 == 0 { 100.0 } else { 60.0 };
                [r * t.cos(), r * t.sin()]
            })
            .collect();
        let rings = vec![star, square(-10.0, -10.0, 20.0)];
        let index = PolygonIndex::new(&rings);
        let polygons = vec![rings];
        let mut inside = 0;
        for i in -120..=120 {
            for j in -120..=120 {
                let p = [i as f64 * 0.9, j as f64 * 0.9];
                assert_eq!(index.contains(p), contains(&polygons, p), "{p:?}");
                inside += usize::from(index.contains(p));
            }
        }
        assert!(inside > 1000, "{inside}");
        let near = |x: f64, y: f64, side: f64| {
            let mut bb = BBox::empty();
            bb.add([x, y]);
            bb.add([x + side, y + side]);
            index.edge_near(&bb)
        };
        assert!(!near(20.0, 20.0, 5.0), "between the hole and the points");
        assert!(near(-12.0, -12.0, 4.0), "over the hole's corner");
        assert!(near(95.0, -2.0, 10.0), "over a point of the star");
    }

    #[test]
    fn an_outline_whose_edges_pass_far_from_a_compound_holds_it_whole_or_not_at_all() {
        // A detailed outline (a circle of 4,000 vertices): compounds well inside it, one
        // outside its edge but inside its box, one just inside the edge.
        let circle: Vec<Pt> = (0..=4000)
            .map(|k| {
                let t = std::f64::consts::TAU * k as f64 / 4000.0;
                [1000.0 * t.cos(), 1000.0 * t.sin()]
            })
            .collect();
        let areas = vec![Geometry::Polygons(vec![vec![circle]])];
        let square = |x: f64, y: f64| Geometry::Polygons(vec![vec![square(x, y, 20.0)]]);
        let got = place(
            &areas,
            &[
                square(0.0, 0.0),
                square(-500.0, 300.0),
                square(900.0, 900.0),
                square(960.0, -10.0),
                // Across the edge, three quarters inside: measured, and inside.
                square(985.0, -10.0),
            ],
        );
        assert_eq!(got, vec![vec![0], vec![0], vec![], vec![0], vec![0]]);
    }
}
