//! Runs the planner benchmark, writes the generated towns for outside tools, or benchmarks
//! towns read back from those files (the exact instance outside tools see).
//!
//! ```text
//! cargo run --release -p wangge-plan --example plan_bench                 # all sizes, both bands
//! cargo run --release -p wangge-plan --example plan_bench -- 300 5000     # chosen sizes
//! cargo run --release -p wangge-plan --example plan_bench -- 300 --star-sizes 1000,3000
//! cargo run --release -p wangge-plan --example plan_bench -- 300 --ring-sizes 1000,3000
//! cargo run --release -p wangge-plan --example plan_bench -- --write-towns DIR [SIZES…]
//! cargo run --release -p wangge-plan --example plan_bench -- --from-files DIR [--derive] [SIZES…]
//! ```
//! Towns are written as `DIR/town_{n}.compounds.geojson`, `.adjacency.json`, `.barriers.geojson`
//! (generator seed 1). After the towns, hub stars (`town::star`) of `--star-sizes` compounds
//! (default `bench::STAR_SIZES`) are planned and reported in a second table, then hub rings
//! (`town::ring`) of `--ring-sizes` compounds (default `bench::RING_SIZES`) in a third.

use std::path::PathBuf;

use wangge_plan::{bench, geojson, town};

fn take_dir(args: &mut Vec<String>, flag: &str) -> Option<PathBuf> {
    let i = args.iter().position(|a| a == flag)?;
    if i + 1 >= args.len() {
        eprintln!("{flag} 需要一个目录");
        std::process::exit(2);
    }
    let dir = PathBuf::from(args.remove(i + 1));
    args.remove(i);
    Some(dir)
}

/// The comma-separated sizes after `flag`, or `default`.
fn take_sizes(args: &mut Vec<String>, flag: &str, what: &str, default: &[usize]) -> Vec<usize> {
    match args.iter().position(|a| a == flag) {
        Some(i) if i + 1 < args.len() => {
            let list = args.remove(i + 1);
            args.remove(i);
            match list.split(',').map(str::parse).collect() {
                Ok(v) => v,
                Err(_) => {
                    eprintln!("无法识别的{what}实例规模：{list}");
                    std::process::exit(2);
                }
            }
        }
        Some(_) => {
            eprintln!("{flag} 需要以逗号分隔的小区数");
            std::process::exit(2);
        }
        None => default.to_vec(),
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let write_dir = take_dir(&mut args, "--write-towns");
    let from_dir = take_dir(&mut args, "--from-files");
    let star_sizes = take_sizes(&mut args, "--star-sizes", "星形", &bench::STAR_SIZES);
    let ring_sizes = take_sizes(&mut args, "--ring-sizes", "环形", &bench::RING_SIZES);
    let derive = args.iter().any(|a| a == "--derive");
    args.retain(|a| a != "--derive");
    // `--derive-gap METRES`: derive with that neighbour distance instead of touching only.
    let derive_gap: Option<f64> = take_dir(&mut args, "--derive-gap").map(|g| {
        g.to_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| {
            eprintln!("--derive-gap 需要米数");
            std::process::exit(2);
        })
    });
    let mut sizes: Vec<usize> = Vec::new();
    for a in &args {
        match a.parse() {
            Ok(n) => sizes.push(n),
            Err(_) => {
                eprintln!("无法识别的参数：{a}");
                std::process::exit(2);
            }
        }
    }
    if sizes.is_empty() {
        sizes = town::SIZES.to_vec();
    }
    if let Some(dir) = write_dir {
        for n in sizes {
            let t = town::generate(n, 1);
            if let Err(e) = town::write(&t, &dir, &format!("town_{n}")) {
                eprintln!("{e}");
                std::process::exit(1);
            }
            eprintln!("已写出 {}/town_{n}.*", dir.display());
        }
        return;
    }
    if let Some(dir) = from_dir {
        let mut report = bench::BenchReport::default();
        for n in sizes {
            let (c, a, _) = town::file_names(&format!("town_{n}"));
            let read = || -> Result<wangge_plan::Input, geojson::GeoJsonError> {
                let mut input = geojson::read_compounds_file(&dir.join(&c))?;
                if derive {
                    // Timing of boundary-derived adjacency (not used for planning here).
                    let t = std::time::Instant::now();
                    let e = geojson::derive_adjacency(&input.compounds, derive_gap);
                    eprintln!(
                        "derive_adjacency{}: {} edges in {:.3} s",
                        derive_gap.map_or(String::new(), |g| format!(" (gap {g} m)")),
                        e.len(),
                        t.elapsed().as_secs_f64()
                    );
                }
                input.adjacency = geojson::read_adjacency_file(&dir.join(&a), &input.compounds)?;
                Ok(input)
            };
            let input = match read() {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            };
            for band in bench::BANDS {
                match bench::measure(&input, band, 1) {
                    Ok(row) => report.rows.push(row),
                    Err(e) => eprintln!("{e}"),
                }
            }
        }
        print!("{report}");
        return;
    }
    let report = bench::run(&sizes, &bench::BANDS, 1, &|s| eprintln!("{s}"));
    print!("{report}");
    if !star_sizes.is_empty() {
        let stars = bench::run_stars(&star_sizes, &bench::BANDS, 1, &|s| eprintln!("{s}"));
        print!("\nHub stars (`town::star`: one compound touching all the others):\n\n{stars}");
    }
    if !ring_sizes.is_empty() {
        let rings = bench::run_rings(&ring_sizes, &bench::BANDS, 1, &|s| eprintln!("{s}"));
        print!(
            "\nHub rings (`town::ring`: one compound touching all the others, which touch the next):\n\n{rings}"
        );
    }
}
