//! Small planar geometry helpers: shoelace area and centroid, bounding boxes, segment
//! intersection and a local equirectangular projection for longitude/latitude input.
//!
//! Hand-written on purpose: the planner only needs centroids, areas and a crossing test,
//! which does not justify a geometry crate.

/// A point `[x, y]` (longitude, latitude in GeoJSON input, or projected metres).
pub type Pt = [f64; 2];

/// Signed shoelace area of a ring (positive when counter-clockwise) and the area-weighted
/// centroid numerators.
fn ring_moments(ring: &[Pt]) -> (f64, f64, f64) {
    let n = ring.len();
    if n < 3 {
        return (0.0, 0.0, 0.0);
    }
    let (ox, oy) = (ring[0][0], ring[0][1]);
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let p = ring[i];
        let q = ring[(i + 1) % n];
        let (px, py, qx, qy) = (p[0] - ox, p[1] - oy, q[0] - ox, q[1] - oy);
        let cross = px * qy - qx * py;
        a += cross;
        cx += (px + qx) * cross;
        cy += (py + qy) * cross;
    }
    // Centroid numerators relative to the ring's first vertex, shifted back.
    let a = a / 2.0;
    if a == 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let (gx, gy) = (cx / (6.0 * a) + ox, cy / (6.0 * a) + oy);
    (a, gx * a, gy * a)
}

/// Area and centroid of a polygon given as rings (first outer, then holes), orientation-agnostic.
pub fn polygon_area_centroid(rings: &[Vec<Pt>]) -> (f64, Pt) {
    let mut area = 0.0;
    let (mut sx, mut sy) = (0.0, 0.0);
    for (k, ring) in rings.iter().enumerate() {
        let (a, mx, my) = ring_moments(ring);
        // Outer ring counts positive, holes negative, whatever their orientation.
        let sign = if (k == 0) == (a >= 0.0) { 1.0 } else { -1.0 };
        area += sign * a;
        sx += sign * mx;
        sy += sign * my;
    }
    if area.abs() > 0.0 {
        (area.abs(), [sx / area, sy / area])
    } else {
        // Degenerate polygon: fall back to the vertex mean.
        let pts: Vec<&Pt> = rings.iter().flatten().collect();
        if pts.is_empty() {
            return (0.0, [0.0, 0.0]);
        }
        let n = pts.len() as f64;
        (
            0.0,
            [
                pts.iter().map(|p| p[0]).sum::<f64>() / n,
                pts.iter().map(|p| p[1]).sum::<f64>() / n,
            ],
        )
    }
}

/// Axis-aligned bounding box `[min_x, min_y, max_x, max_y]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min: Pt,
    pub max: Pt,
}

impl BBox {
    pub fn empty() -> Self {
        BBox {
            min: [f64::INFINITY, f64::INFINITY],
            max: [f64::NEG_INFINITY, f64::NEG_INFINITY],
        }
    }
    pub fn add(&mut self, p: Pt) {
        self.min[0] = self.min[0].min(p[0]);
        self.min[1] = self.min[1].min(p[1]);
        self.max[0] = self.max[0].max(p[0]);
        self.max[1] = self.max[1].max(p[1]);
    }
    pub fn is_empty(&self) -> bool {
        self.min[0] > self.max[0]
    }
    pub fn width(&self) -> f64 {
        (self.max[0] - self.min[0]).max(0.0)
    }
    pub fn height(&self) -> f64 {
        (self.max[1] - self.min[1]).max(0.0)
    }
}

/// Whether a point could be longitude/latitude (else planar, e.g. metres).
pub fn looks_lonlat(q: &Pt) -> bool {
    q[0].abs() <= 180.0 && q[1].abs() <= 90.0
}

/// The stretches of a line that come into a box: runs of consecutive segments whose own box
/// meets it (a segment crossing the box with both ends outside is kept).
pub fn clip_to_box(line: &[Pt], bb: &BBox) -> Vec<Vec<Pt>> {
    let meets = |a: Pt, b: Pt| {
        a[0].min(b[0]) <= bb.max[0]
            && a[0].max(b[0]) >= bb.min[0]
            && a[1].min(b[1]) <= bb.max[1]
            && a[1].max(b[1]) >= bb.min[1]
    };
    let mut out = Vec::new();
    let mut run: Vec<Pt> = Vec::new();
    for w in line.windows(2) {
        if meets(w[0], w[1]) {
            if run.is_empty() {
                run.push(w[0]);
            }
            run.push(w[1]);
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

fn orient(a: Pt, b: Pt, c: Pt) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn on_segment(a: Pt, b: Pt, p: Pt) -> bool {
    p[0] >= a[0].min(b[0])
        && p[0] <= a[0].max(b[0])
        && p[1] >= a[1].min(b[1])
        && p[1] <= a[1].max(b[1])
}

/// Whether closed segments `a1a2` and `b1b2` intersect (touching counts).
pub fn segments_intersect(a1: Pt, a2: Pt, b1: Pt, b2: Pt) -> bool {
    let d1 = orient(b1, b2, a1);
    let d2 = orient(b1, b2, a2);
    let d3 = orient(a1, a2, b1);
    let d4 = orient(a1, a2, b2);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(b1, b2, a1))
        || (d2 == 0.0 && on_segment(b1, b2, a2))
        || (d3 == 0.0 && on_segment(a1, a2, b1))
        || (d4 == 0.0 && on_segment(a1, a2, b2))
}

/// Local projection: when all coordinates look like longitude/latitude, x is scaled by
/// cos(mean latitude) so that distances and areas are proportional to metres.
#[derive(Debug, Clone, Copy)]
pub struct Projection {
    pub x_scale: f64,
}

impl Projection {
    pub fn for_bbox(b: &BBox) -> Self {
        let lonlat = !b.is_empty()
            && b.min[0] >= -180.0
            && b.max[0] <= 180.0
            && b.min[1] >= -90.0
            && b.max[1] <= 90.0;
        let x_scale = if lonlat {
            ((b.min[1] + b.max[1]) / 2.0).to_radians().cos().max(0.01)
        } else {
            1.0
        };
        Projection { x_scale }
    }
    pub fn apply(&self, p: Pt) -> Pt {
        [p[0] * self.x_scale, p[1]]
    }
}

/// Convex hull (Andrew's monotone chain), counter-clockwise, without repeating the first point.
pub fn convex_hull(mut pts: Vec<Pt>) -> Vec<Pt> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut lower: Vec<Pt> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && orient(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<Pt> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && orient(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_clipped_to_the_stretches_that_meet_a_box() {
        let bb = BBox {
            min: [0.0, 0.0],
            max: [10.0, 10.0],
        };
        // In, out (far away), back in across the box with both ends outside.
        let line = [
            [5.0, 5.0],
            [5.0, 50.0],
            [50.0, 50.0],
            [50.0, 5.0],
            [-20.0, 5.0],
        ];
        assert_eq!(
            clip_to_box(&line, &bb),
            vec![
                vec![[5.0, 5.0], [5.0, 50.0]],
                vec![[50.0, 5.0], [-20.0, 5.0]]
            ]
        );
        assert!(clip_to_box(&line, &BBox::empty()).is_empty());
    }

    #[test]
    fn square_area_and_centroid() {
        let sq = vec![vec![
            [0.0, 0.0],
            [2.0, 0.0],
            [2.0, 2.0],
            [0.0, 2.0],
            [0.0, 0.0],
        ]];
        let (a, c) = polygon_area_centroid(&sq);
        assert!((a - 4.0).abs() < 1e-12);
        assert!((c[0] - 1.0).abs() < 1e-12 && (c[1] - 1.0).abs() < 1e-12);
        // Clockwise outer ring with a clockwise hole: area still outer minus hole.
        let with_hole = vec![
            vec![[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0]],
            vec![[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0]],
        ];
        let (a, _) = polygon_area_centroid(&with_hole);
        assert!((a - 15.0).abs() < 1e-12);
    }

    #[test]
    fn crossings() {
        assert!(segments_intersect(
            [0.0, 0.0],
            [2.0, 2.0],
            [0.0, 2.0],
            [2.0, 0.0]
        ));
        assert!(!segments_intersect(
            [0.0, 0.0],
            [1.0, 0.0],
            [0.0, 1.0],
            [1.0, 1.0]
        ));
        assert!(segments_intersect(
            [0.0, 0.0],
            [2.0, 0.0],
            [1.0, 0.0],
            [1.0, 5.0]
        ));
    }

    #[test]
    fn hull() {
        let h = convex_hull(vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.5, 0.5],
        ]);
        assert_eq!(h.len(), 4);
    }
}
