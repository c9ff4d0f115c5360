//! Diagnostic: the plan of a generated town against the exact optimum (most in-band grids) of
//! every connected group the exact search ([`wangge_plan::exact`]) can finish.
//!
//! ```text
//! cargo run --release -p wangge-plan --example exact -- [COMPOUNDS] [MIN] [MAX] [TOWN_SEED] [BUDGET]
//! ```
//! BUDGET: search nodes per group (default 50,000,000); groups it cannot finish are left out.

use wangge_plan::{Band, Options, audit, plan, town};

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n: usize = arg(1, 300);
    let band = Band {
        min: arg(2, 500),
        max: arg(3, 600),
    };
    let town_seed: u64 = arg(4, 1);
    let budget: u64 = arg(5, 50_000_000);
    let t = town::generate(n, town_seed);
    let p = plan(&t.input, &Options { band, seed: 1 }).expect("valid town");
    println!("{}", audit(&t.input, &p, band, budget));
}
