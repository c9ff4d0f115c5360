//! Quality on generated towns (deterministic: counts, never timing).

use wangge_plan::{Band, Options, audit, plan, town};

const BANDS: [Band; 2] = [Band { min: 500, max: 600 }, Band { min: 200, max: 300 }];

fn share(n: usize, town_seed: u64, band: Band) -> (f64, usize, usize) {
    let t = town::generate(n, town_seed);
    let p = plan(&t.input, &Options { band, seed: 1 }).unwrap();
    let s = &p.summary;
    assert!(s.upper_bound >= s.in_band);
    (s.in_band_share(), s.in_band, s.eligible)
}

#[test]
fn town_5000_at_least_75_percent_in_band() {
    for band in BANDS {
        let (sh, a, b) = share(5_000, 1, band);
        assert!(sh >= 0.75, "{}–{}: {a}/{b}", band.min, band.max);
    }
}

#[test]
fn town_300_at_least_75_percent_in_band_on_average() {
    // A 300-compound town has only ~80–110 eligible grids, so one instance swings by several
    // points (the seed-1 town reaches 72.7% at 200–300, and that is the most in-band grids the
    // town allows: see `plans_reach_the_proven_optimum`). The mean over twenty towns is the
    // stable figure.
    for band in BANDS {
        let shares: Vec<f64> = (1..=20).map(|s| share(300, s, band).0).collect();
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        assert!(mean >= 0.75, "{}–{}: {shares:?}", band.min, band.max);
        assert!(
            shares.iter().all(|&x| x >= 0.68),
            "{}–{}: {shares:?}",
            band.min,
            band.max
        );
    }
}

#[test]
fn town_300_seed_1_at_500_600() {
    let (sh, a, b) = share(300, 1, BANDS[0]);
    assert!(sh >= 0.75, "{a}/{b}");
}

#[test]
fn plans_reach_the_proven_optimum_on_every_group() {
    // The exact search (branch and bound) proves the most in-band grids a connected group
    // allows (it finishes on all but a rare large group); the planner must reach it on every
    // group where it is proven.
    for town_seed in 1..=4 {
        let t = town::generate(300, town_seed);
        for band in BANDS {
            let p = plan(&t.input, &Options { band, seed: 1 }).unwrap();
            let a = audit(&t.input, &p, band, 20_000_000);
            let what = format!("town {town_seed}, {}–{}: {a}", band.min, band.max);
            assert!(a.proven * 10 >= a.groups * 9, "{what}");
            assert_eq!(a.below_optimum, 0, "{what}");
            assert_eq!(a.plan_in_band, a.optimum, "{what}");
        }
    }
}

#[test]
fn town_300_seed_1_at_200_300_has_the_most_in_band_grids_possible() {
    // 72.7% of eligible grids: below 75%, but proven to be the most in-band grids this town
    // allows (every group proven optimal, so the reported bound equals the count). The 30
    // grids outside the band: 5 isolated small groups and 25 of several compounds over the
    // ceiling, as close to it as the town allows (rule 2 of the objective; before that rule
    // was followed the same 80 grids came with 23 such grids, up to 1,092 households).
    let t = town::generate(300, 1);
    let p = plan(
        &t.input,
        &Options {
            band: BANDS[1],
            seed: 1,
        },
    )
    .unwrap();
    let s = &p.summary;
    assert_eq!((s.in_band, s.eligible), (80, 110));
    assert_eq!((s.small_group, s.merged_over_ceiling), (5, 25));
    assert!(
        s.largest_multi_compound <= 600,
        "{}",
        s.largest_multi_compound
    );
    assert_eq!(s.proven_groups, s.groups);
    assert_eq!(s.upper_bound, s.in_band);
}
