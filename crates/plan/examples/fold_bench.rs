//! Placing a department's layer: the 50,000-compound town under 500 outlines (25 × 20 cells
//! over its box), each compound by the larger part of its area (`fold::place`). The outlines
//! are drawn twice: as plain rectangles, and with every side traced by 250 vertices (1,000 a
//! cell, as a digitised police beat has them).
//! `cargo run --release -p wangge-plan --example fold_bench`
use wangge_plan::{Geometry, fold, town};

fn main() {
    let input = town::generate(50_000, 1).input;
    let bb = wangge_plan::bbox_of(&input.compounds);
    let (w, h) = (bb.max[0] - bb.min[0], bb.max[1] - bb.min[1]);
    for per_side in [1usize, 250] {
        let mut areas = Vec::new();
        for i in 0..25 {
            for j in 0..20 {
                let (x0, y0) = (
                    bb.min[0] + w * i as f64 / 25.0,
                    bb.min[1] + h * j as f64 / 20.0,
                );
                let (x1, y1) = (x0 + w / 25.0, y0 + h / 20.0);
                let corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
                let mut ring = Vec::with_capacity(4 * per_side + 1);
                for k in 0..4 {
                    let (a, b) = (corners[k], corners[(k + 1) % 4]);
                    for t in 0..per_side {
                        let f = t as f64 / per_side as f64;
                        ring.push([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f]);
                    }
                }
                ring.push(ring[0]);
                areas.push(Geometry::Polygons(vec![vec![ring]]));
            }
        }
        let t = std::time::Instant::now();
        let placed = fold::place(&areas, input.compounds.iter().map(|c| &c.geometry));
        println!(
            "{} compounds, {} outlines of {} vertices: {:?}, placed {}",
            placed.len(),
            areas.len(),
            4 * per_side,
            t.elapsed(),
            placed.iter().filter(|p| p.len() == 1).count()
        );
    }
}
