//! Placing a department's layer: the 50,000-compound town under 500 rectangular outlines
//! (25 × 20 over its box), each compound by the larger part of its area (`fold::place`).
//! `cargo run --release -p wangge-plan --example fold_bench`
use wangge_plan::{Geometry, fold, town};
fn main() {
    let input = town::generate(50_000, 1).input;
    let bb = wangge_plan::bbox_of(&input.compounds);
    let (w, h) = (bb.max[0] - bb.min[0], bb.max[1] - bb.min[1]);
    let mut areas = Vec::new();
    for i in 0..25 {
        for j in 0..20 {
            let (x0, y0) = (
                bb.min[0] + w * i as f64 / 25.0,
                bb.min[1] + h * j as f64 / 20.0,
            );
            let (x1, y1) = (x0 + w / 25.0, y0 + h / 20.0);
            areas.push(Geometry::Polygons(vec![vec![vec![
                [x0, y0],
                [x1, y0],
                [x1, y1],
                [x0, y1],
                [x0, y0],
            ]]]));
        }
    }
    let t = std::time::Instant::now();
    let placed = fold::place(&areas, input.compounds.iter().map(|c| &c.geometry));
    println!(
        "{} compounds, {} outlines: {:?}, placed {}",
        placed.len(),
        areas.len(),
        t.elapsed(),
        placed.iter().filter(|p| p.len() == 1).count()
    );
}
