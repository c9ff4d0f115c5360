//! `wangge plan` and `wangge bench plan`: the grid planner on files.

use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use wangge_domain::policy::Policy;
use wangge_domain::policy::needs::{Member, grid_kind_of};
use wangge_plan::{Band, Options, bench as pbench, geojson, plan_with_progress, town};

#[derive(Args)]
pub struct PlanArgs {
    /// Compounds: a GeoJSON FeatureCollection (properties `id`, `households`; optional
    /// `community`, `kind`, `has_property_management`).
    #[arg(long)]
    input: PathBuf,
    /// Adjacency `{"edges": [[id_a, id_b, …], …]}`; derived from shared boundaries if absent.
    #[arg(long)]
    adjacency: Option<PathBuf>,
    /// The band's floor (households); with --policy, taken from the policy file.
    #[arg(long)]
    min: Option<i64>,
    /// The band's ceiling (households).
    #[arg(long)]
    max: Option<i64>,
    /// A policy file (TOML) to take the band from, and its rule that a residents' group is a
    /// grid of its own (features with `kind` "residents_group" or "居民小组").
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The current grids (same format as the output): grids in band are kept.
    #[arg(long)]
    current: Option<PathBuf>,
    /// Codes of current grids to keep exactly as they are, in band or not (repeat the flag or
    /// separate codes with commas); needs --current.
    #[arg(long, value_delimiter = ',', value_name = "CODE")]
    keep: Vec<String>,
    /// Codes of grids retired before (repeat the flag or separate codes with commas): never
    /// given again. A plan file given as --current brings its own `retired_codes`.
    #[arg(long, value_delimiter = ',', value_name = "CODE")]
    retired: Vec<String>,
    /// When adjacency is derived: compounds whose boundaries come within this many metres
    /// (a lane between them) are neighbours; without it, only boundaries that touch.
    #[arg(long, value_name = "METRES")]
    gap: Option<f64>,
    /// Barriers (streets, rivers) as GeoJSON lines a grid must not cross.
    #[arg(long)]
    barriers: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
}

/// The band, and the policy when a policy file is given.
fn band(a: &PlanArgs) -> Result<(Band, Option<Policy>), String> {
    let policy = match &a.policy {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("无法读取政策文件 {}：{e}", p.display()))?;
            let policy =
                Policy::parse(&p.display().to_string(), &text).map_err(|e| e.to_string())?;
            if policy.doc().grid_division.is_none() {
                return Err(format!(
                    "{} 没有 grid_division（网格划分）一节",
                    p.display()
                ));
            }
            Some(policy)
        }
        None => None,
    };
    let division = policy.as_ref().and_then(|p| p.doc().grid_division.as_ref());
    let min = a.min.or(division.map(|d| d.household_floor));
    let max = a.max.or(division.map(|d| d.household_ceiling));
    match (min, max) {
        (Some(min), Some(max)) if min > 0 && min <= max => Ok((Band { min, max }, policy)),
        (Some(min), Some(max)) => Err(format!("户数区间无效：下限 {min}，上限 {max}")),
        _ => Err("请用 --min 和 --max（或 --policy 政策文件）给出每个网格的户数区间".into()),
    }
}

pub fn plan(a: PlanArgs) -> Result<(), String> {
    let (band, policy) = band(&a)?;
    let mut input = geojson::read_compounds_file(&a.input).map_err(|e| e.to_string())?;
    if let Some(d) = policy.as_ref().and_then(|p| p.doc().grid_division.as_ref()) {
        input.alone = d.own_grids(input.compounds.iter().map(|c| c.kind.as_deref()));
    }
    if let Some(g) = a.gap
        && !(g.is_finite() && (0.0..=200.0).contains(&g))
    {
        return Err(format!("--gap 应为 0–200 之间的米数，收到 {g}"));
    }
    input.adjacency = match (&a.adjacency, a.gap) {
        (Some(_), Some(_)) => {
            return Err("--gap 只用于由小区边界推导相邻关系，不能与 --adjacency 同用".into());
        }
        (Some(p), None) => {
            geojson::read_adjacency_file(p, &input.compounds).map_err(|e| e.to_string())?
        }
        (None, gap) => geojson::derive_adjacency(&input.compounds, gap),
    };
    if let Some(p) = &a.current {
        let (current, retired) =
            geojson::read_current_grids_file(p, &input.compounds).map_err(|e| e.to_string())?;
        input.current = current;
        input.retired_codes.extend(retired);
    }
    input.retired_codes.extend(
        a.retired
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
    );
    if !a.keep.is_empty() && a.current.is_none() {
        return Err("--keep 指明要保持不变的现有网格，需同时用 --current 给出现有网格".into());
    }
    input.fixed = a
        .keep
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if let Some(p) = &a.barriers {
        input.barriers = geojson::read_barriers_file(p).map_err(|e| e.to_string())?;
    }
    let bar = ProgressBar::new(input.compounds.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} 划分网格 [{bar:40}] {pos}/{len} 个小区 {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = plan_with_progress(&input, &Options { band, seed: a.seed }, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let plan = result.map_err(|e| e.to_string())?;
    print!("{}", plan.summary);
    if let Some(p) = &policy {
        // No registry here: a grid is rural when villages and residents' groups hold most of
        // its households.
        let needs = p.plan_needs(plan.grids.iter().map(|g| {
            let members: Vec<Member> = g
                .compounds
                .iter()
                .map(|&i| {
                    let c = &input.compounds[i];
                    Member::of(c.households, c.kind.as_deref(), c.has_property_management)
                })
                .collect();
            (
                grid_kind_of(members.iter().map(|m| (m.kind, m.households))),
                members,
            )
        }));
        println!("{}", needs.sentence(&p.short_name()));
    }
    for w in &plan.warnings {
        eprintln!("{w}");
    }
    geojson::write_plan_file(&a.out, &input, &plan).map_err(|e| e.to_string())?;
    println!("已写出 {}", a.out.display());
    Ok(())
}

#[derive(Args)]
pub struct BenchArgs {
    /// Town sizes (compounds).
    #[arg(long, value_delimiter = ',', default_values_t = town::SIZES)]
    sizes: Vec<usize>,
    /// Sizes (compounds) of the hub stars planned after the towns: one compound (a road parcel)
    /// touching all the others.
    #[arg(long, value_delimiter = ',', default_values_t = pbench::STAR_SIZES)]
    star_sizes: Vec<usize>,
    /// Sizes (compounds) of the hub rings planned after the stars: the same hub, the others
    /// also touching the next round a ring (every fourth link left out).
    #[arg(long, value_delimiter = ',', default_values_t = pbench::RING_SIZES)]
    ring_sizes: Vec<usize>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the generated towns (compounds and adjacency GeoJSON) to this directory,
    /// e.g. for the spopt comparison (bench/spopt).
    #[arg(long)]
    write_towns: Option<PathBuf>,
}

pub fn bench(a: BenchArgs) -> Result<(), String> {
    if let Some(dir) = &a.write_towns {
        std::fs::create_dir_all(dir).map_err(|e| format!("无法创建 {}：{e}", dir.display()))?;
        for n in &a.sizes {
            let t = town::generate(*n, a.seed);
            town::write(&t, dir, &format!("town_{n}")).map_err(|e| e.to_string())?;
            println!("已写出 {}/town_{n}.*", dir.display());
        }
    }
    let report = pbench::run(&a.sizes, &pbench::BANDS, a.seed, &|msg| eprintln!("{msg}"));
    println!("{report}");
    if !a.star_sizes.is_empty() {
        let stars = pbench::run_stars(&a.star_sizes, &pbench::BANDS, a.seed, &|msg| {
            eprintln!("{msg}")
        });
        println!("Hub stars (`town::star`: one compound touching all the others):\n\n{stars}");
    }
    if !a.ring_sizes.is_empty() {
        let rings = pbench::run_rings(&a.ring_sizes, &pbench::BANDS, a.seed, &|msg| {
            eprintln!("{msg}")
        });
        println!(
            "Hub rings (`town::ring`: one compound touching all the others, which touch the next):\n\n{rings}"
        );
    }
    Ok(())
}
