//! Department grids folded into the unified grids (各部门自行划定的网格撤销，统一归属新网格):
//! which compounds a department grid's outline takes in. A compound belongs to the outline
//! that holds a point inside the compound (its centroid, or a point of its widest span when
//! the centroid falls outside, as for an L- or U-shaped compound).

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

/// For each point, the outlines (indices into `areas`) that contain it, in order. Outlines
/// that are points contain nothing.
pub fn locate(areas: &[Geometry], points: &[Pt]) -> Vec<Vec<usize>> {
    let boxes: Vec<Option<(BBox, &Polygons)>> = areas
        .iter()
        .map(|g| match g {
            Geometry::Polygons(p) => {
                let mut bb = BBox::empty();
                for q in p.iter().flatten().flatten() {
                    bb.add(*q);
                }
                Some((bb, p.as_slice()))
            }
            Geometry::Point(_) => None,
        })
        .collect();
    points
        .iter()
        .map(|&q| {
            boxes
                .iter()
                .enumerate()
                .filter_map(|(k, b)| {
                    let (bb, polys) = b.as_ref()?;
                    let in_box = q[0] >= bb.min[0]
                        && q[0] <= bb.max[0]
                        && q[1] >= bb.min[1]
                        && q[1] <= bb.max[1];
                    (in_box && contains(polys, q)).then_some(k)
                })
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
    fn points_are_located_in_every_outline_that_holds_them() {
        let areas = vec![
            Geometry::Polygons(vec![vec![square(0.0, 0.0, 10.0)]]),
            Geometry::Polygons(vec![vec![square(8.0, 0.0, 10.0)]]),
            Geometry::Point([1.0, 1.0]),
        ];
        let got = locate(&areas, &[[1.0, 1.0], [9.0, 1.0], [15.0, 1.0], [30.0, 1.0]]);
        assert_eq!(got, vec![vec![0], vec![0, 1], vec![1], vec![]]);
    }
}
