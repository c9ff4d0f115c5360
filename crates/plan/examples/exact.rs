//! Diagnostic: the exact optimum (most in-band grids) on every connected group of a generated
//! town small enough for a subset DP, compared with the planner.
//!
//! ```text
//! cargo run --release -p wangge-plan --example exact -- [COMPOUNDS] [MIN] [MAX] [TOWN_SEED] [LIMIT]
//! ```
//! LIMIT (default 16, at most 20) is the largest group solved exactly (time ~3^LIMIT).

use std::collections::HashMap;

use wangge_plan::{Band, Options, plan, town};

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n: usize = arg(1, 300);
    let lo: i64 = arg(2, 500);
    let hi: i64 = arg(3, 600);
    let town_seed: u64 = arg(4, 1);
    let limit: usize = arg::<usize>(5, 16).min(20);
    let t = town::generate(n, town_seed);
    let inp = &t.input;
    let p = plan(
        inp,
        &Options {
            band: Band { min: lo, max: hi },
            seed: 1,
        },
    )
    .expect("valid town");
    let h: Vec<i64> = inp.compounds.iter().map(|c| c.households).collect();
    let nn = h.len();
    let mut adj = vec![vec![]; nn];
    for &(a, b) in &inp.adjacency {
        if inp.compounds[a].community == inp.compounds[b].community && h[a] <= hi && h[b] <= hi {
            adj[a].push(b);
            adj[b].push(a);
        }
    }
    let mut grid_of = vec![0; nn];
    for (gi, g) in p.grids.iter().enumerate() {
        for &c in &g.compounds {
            grid_of[c] = gi;
        }
    }
    let mut seen = vec![false; nn];
    let (mut ours_total, mut opt_total, mut solved, mut skipped) = (0, 0, 0, 0);
    for s in 0..nn {
        if seen[s] || h[s] > hi {
            continue;
        }
        let mut comp = vec![s];
        seen[s] = true;
        let mut i = 0;
        while i < comp.len() {
            let v = comp[i];
            i += 1;
            for &u in &adj[v] {
                if !seen[u] {
                    seen[u] = true;
                    comp.push(u);
                }
            }
        }
        let k = comp.len();
        let mut gs: Vec<usize> = comp.iter().map(|&v| grid_of[v]).collect();
        gs.sort_unstable();
        gs.dedup();
        let ours = gs.iter().filter(|&&g| p.grids[g].in_band).count();
        if k > limit {
            skipped += 1;
            continue;
        }
        solved += 1;
        let idx: HashMap<usize, usize> = comp.iter().enumerate().map(|(i, &v)| (v, i)).collect();
        let nb: Vec<u32> = comp
            .iter()
            .map(|&v| adj[v].iter().fold(0, |m, u| m | (1u32 << idx[u])))
            .collect();
        let full = (1u32 << k) - 1;
        let w: Vec<i64> = (0..=full)
            .map(|m| (0..k).filter(|i| m >> i & 1 == 1).map(|i| h[comp[i]]).sum())
            .collect();
        let connected = |m: u32| {
            let mut r = m & m.wrapping_neg();
            loop {
                let mut nr = r;
                for (i, &b) in nb.iter().enumerate() {
                    if r >> i & 1 == 1 {
                        nr |= b & m;
                    }
                }
                if nr == r {
                    return r == m;
                }
                r = nr;
            }
        };
        // f[mask]: most in-band parts over partitions of mask into connected parts >= lo.
        let neg = i32::MIN / 2;
        let mut f = vec![neg; full as usize + 1];
        f[0] = 0;
        for m in 1..=full {
            let low = m & m.wrapping_neg();
            let rest = m ^ low;
            let mut sub = rest;
            loop {
                let part = sub | low;
                let pw = w[part as usize];
                let r = f[(m ^ part) as usize];
                if pw >= lo && r > neg && connected(part) {
                    f[m as usize] = f[m as usize].max(r + i32::from(pw <= hi));
                }
                if sub == 0 {
                    break;
                }
                sub = (sub - 1) & rest;
            }
        }
        let opt = if w[full as usize] < lo {
            0
        } else {
            f[full as usize].max(0) as usize
        };
        ours_total += ours;
        opt_total += opt;
        if ours < opt {
            println!("group of {k}: planner {ours}, optimum {opt}");
        }
    }
    println!(
        "groups of at most {limit} compounds: {solved}; in-band grids: planner {ours_total}, optimum {opt_total}; larger groups not checked: {skipped}"
    );
}
