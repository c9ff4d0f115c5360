//! The planner benchmark: plans generated towns, hub stars (one compound touching all the
//! others) and hub rings (the same, the others also touching the next round a ring), and
//! reports time, memory and quality.
//!
//! ```no_run
//! use wangge_plan::{bench, town};
//! let report = bench::run(&town::SIZES, &bench::BANDS, 1, &|_| {});
//! println!("{report}");
//! let stars = bench::run_stars(&bench::STAR_SIZES, &bench::BANDS, 1, &|_| {});
//! println!("{stars}");
//! let rings = bench::run_rings(&bench::RING_SIZES, &bench::BANDS, 1, &|_| {});
//! println!("{rings}");
//! ```

use std::fmt;
use std::time::Instant;

use crate::{Band, Input, Options, PlanError, plan, town};

/// The two bands of issue 4: 昌乐's 500–600 and 魏都's 200–300.
pub const BANDS: [Band; 2] = [Band { min: 500, max: 600 }, Band { min: 200, max: 300 }];

/// Sizes (compounds, the hub included) of the hub stars ([`town::star`]).
pub const STAR_SIZES: [usize; 3] = [1_000, 3_000, 10_000];

/// Sizes (compounds, the hub included) of the hub rings ([`town::ring`]).
pub const RING_SIZES: [usize; 3] = [1_000, 3_000, 10_000];

/// One benchmark run: one town, one band.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    pub compounds: usize,
    pub band: Band,
    pub households: i64,
    /// Wall time of `plan` alone (town generation excluded), seconds.
    pub seconds: f64,
    /// Peak resident memory of the process while planning (Linux `VmHWM` after resetting it
    /// through `/proc/self/clear_refs`), MiB; `None` where unavailable. Includes the town.
    pub peak_rss_mib: Option<f64>,
    pub grids: usize,
    /// Grids that are not a single compound over the ceiling.
    pub eligible: usize,
    pub in_band: usize,
    pub households_share: f64,
    pub largest_multi_compound: i64,
    pub upper_bound: usize,
    /// Connected groups (at least the floor in households), and those proven optimal.
    pub groups: usize,
    pub proven_groups: usize,
    pub small_group: usize,
    pub merged_over_ceiling: usize,
    /// Households above the ceiling in those grids, summed.
    pub merged_excess: i64,
}

impl BenchRow {
    /// In-band grids / eligible grids.
    pub fn in_band_share(&self) -> f64 {
        if self.eligible == 0 {
            1.0
        } else {
            self.in_band as f64 / self.eligible as f64
        }
    }
    /// Upper bound minus in-band grids.
    pub fn gap(&self) -> usize {
        self.upper_bound.saturating_sub(self.in_band)
    }
}

/// All runs of a benchmark.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BenchReport {
    pub rows: Vec<BenchRow>,
}

impl fmt::Display for BenchReport {
    /// A markdown table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| compounds | band | time (s) | peak RSS (MiB) | grids | in band / eligible | share | households in in-band grids | largest multi-compound grid | upper bound | gap | groups proven optimal | small groups | merged over ceiling | their excess (households) |"
        )?;
        writeln!(
            f,
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {}–{} | {:.3} | {} | {} | {} / {} | {:.1}% | {:.1}% | {} | {} | {} | {} / {} | {} | {} | {} |",
                r.compounds,
                r.band.min,
                r.band.max,
                r.seconds,
                r.peak_rss_mib
                    .map(|m| format!("{m:.0}"))
                    .unwrap_or_else(|| "–".into()),
                r.grids,
                r.in_band,
                r.eligible,
                100.0 * r.in_band_share(),
                100.0 * r.households_share,
                r.largest_multi_compound,
                r.upper_bound,
                r.gap(),
                r.proven_groups,
                r.groups,
                r.small_group,
                r.merged_over_ceiling,
                r.merged_excess,
            )?;
        }
        Ok(())
    }
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn peak_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Plans one input at one band and measures it (`compounds` is taken from the input).
pub fn measure(input: &Input, band: Band, seed: u64) -> Result<BenchRow, PlanError> {
    let can_reset = reset_peak();
    let start = Instant::now();
    let p = plan(input, &Options { band, seed })?;
    let seconds = start.elapsed().as_secs_f64();
    let peak = if can_reset { peak_mib() } else { None };
    let s = &p.summary;
    Ok(BenchRow {
        compounds: input.compounds.len(),
        band,
        households: s.households,
        seconds,
        peak_rss_mib: peak,
        grids: s.grids,
        eligible: s.eligible,
        in_band: s.in_band,
        households_share: s.households_share(),
        largest_multi_compound: s.largest_multi_compound,
        upper_bound: s.upper_bound,
        groups: s.groups,
        proven_groups: s.proven_groups,
        small_group: s.small_group,
        merged_over_ceiling: s.merged_over_ceiling,
        merged_excess: s.merged_excess,
    })
}

/// Plans the hub star ([`town::star`]) of each size (generated with `seed`) at each band:
/// one compound touching all the others. `progress` receives a line of text before each run.
pub fn run_stars(
    sizes: &[usize],
    bands: &[Band],
    seed: u64,
    progress: &dyn Fn(&str),
) -> BenchReport {
    run_each(
        sizes,
        bands,
        seed,
        progress,
        "的星形实例（一个小区与其余所有小区相邻）",
        |n| town::star(n, seed),
    )
}

/// Plans the hub ring ([`town::ring`]) of each size (generated with `seed`) at each band: one
/// compound touching all the others, which also touch the next round a ring (every fourth
/// link left out). `progress` receives a line of text before each run.
pub fn run_rings(
    sizes: &[usize],
    bands: &[Band],
    seed: u64,
    progress: &dyn Fn(&str),
) -> BenchReport {
    run_each(
        sizes,
        bands,
        seed,
        progress,
        "的环形实例（一个小区与其余所有小区相邻，其余小区首尾相接成环）",
        |n| town::ring(n, seed),
    )
}

/// Plans the town of each size (generated with `seed`) at each band. `progress` receives a
/// line of text before each run.
pub fn run(sizes: &[usize], bands: &[Band], seed: u64, progress: &dyn Fn(&str)) -> BenchReport {
    run_each(sizes, bands, seed, progress, "的模拟城镇", |n| {
        town::generate(n, seed).input
    })
}

/// Plans the instance `make` gives for each size at each band (`what` names it in the
/// progress line).
fn run_each(
    sizes: &[usize],
    bands: &[Band],
    seed: u64,
    progress: &dyn Fn(&str),
    what: &str,
    make: impl Fn(usize) -> Input,
) -> BenchReport {
    let mut rows = Vec::new();
    for &n in sizes {
        let input = make(n);
        for &band in bands {
            progress(&format!(
                "规划 {n} 个小区{what}，标准 {}–{} 户……",
                band.min, band.max
            ));
            if let Ok(row) = measure(&input, band, seed) {
                rows.push(row);
            }
        }
    }
    BenchReport { rows }
}
