//! Subsidy tiers at every boundary, and totals that add up to the fen.

mod common;

use common::*;
use proptest::prelude::*;
use wangge_domain::policy::*;

/// The 昌乐 2020 tiers written out from 附件4's sentence, with the file's choice that a count
/// on a boundary belongs to the tier starting there: (monthly yuan, workers).
fn oracle(pm: bool, h: i64) -> (i64, i64) {
    if pm {
        match h {
            _ if h < 100 => (200, 1),
            _ if h < 200 => (300, 1),
            _ if h < 500 => (400, 1),
            _ if h < 1000 => (500, 1),
            _ => (500, 2),
        }
    } else {
        match h {
            _ if h < 50 => (300, 1),
            _ if h < 100 => (400, 1),
            _ if h < 200 => (500, 1),
            _ => (600, 1),
        }
    }
}

const BOUNDARIES: [i64; 5] = [50, 100, 200, 500, 1000];

fn near_boundary() -> impl Strategy<Value = i64> {
    (prop::sample::select(BOUNDARIES.to_vec()), -1i64..=1).prop_map(|(b, d)| b + d)
}

proptest! {
    #[test]
    fn tiers_at_every_boundary(h in near_boundary(), pm in any::<bool>()) {
        let p = changle();
        let t = p.worker_tier(pm, h).unwrap();
        let (yuan, workers) = oracle(pm, h);
        prop_assert_eq!(t.monthly_fen, yuan * FEN_PER_YUAN, "h={} pm={}", h, pm);
        prop_assert_eq!(t.workers, workers);
    }

    #[test]
    fn tiers_everywhere(h in 0i64..5000, pm in any::<bool>()) {
        let p = changle();
        let t = p.worker_tier(pm, h).unwrap();
        prop_assert_eq!((t.monthly_fen / FEN_PER_YUAN, t.workers), oracle(pm, h));
    }

    /// With the other boundary choice, a count on a boundary belongs to the lower tier.
    #[test]
    fn lower_tier_choice(h in near_boundary(), pm in any::<bool>()) {
        let p = changle_with("boundary = \"upper_tier\"", "boundary = \"lower_tier\"");
        let t = p.worker_tier(pm, h).unwrap();
        // (min, max] is [min + 1, max + 1) on integers.
        let (yuan, workers) = oracle(pm, h - 1);
        let expected = if h == 0 { oracle(pm, 0) } else { (yuan, workers) };
        prop_assert_eq!((t.monthly_fen / FEN_PER_YUAN, t.workers), expected, "h={}", h);
    }

    /// Any contiguous tier table written as TOML loads, and every count is in exactly the
    /// tier its bounds say.
    #[test]
    fn generated_tables(steps in prop::collection::vec((1i64..300, 0i64..2000), 1..6), h in 0i64..2000, upper in any::<bool>()) {
        let mut text = CHANGLE_2020.to_string();
        // Replace the table without property management by the generated one.
        let start = text.find("[[grid_subsidy.without_property_management.tiers]]").unwrap();
        let end = text.find("# “有物业管理的小区网格员").unwrap();
        let mut table = String::new();
        let mut lo = 0i64;
        let mut bounds = Vec::new();
        for (i, (width, yuan)) in steps.iter().enumerate() {
            table.push_str("[[grid_subsidy.without_property_management.tiers]]\n");
            if i > 0 { table.push_str(&format!("min_households = {lo}\n")); }
            let hi = lo + width;
            if i + 1 < steps.len() { table.push_str(&format!("max_households = {hi}\n")); }
            table.push_str(&format!("monthly_yuan = {yuan}\n\n"));
            bounds.push((lo, if i + 1 < steps.len() { Some(hi) } else { None }, *yuan));
            lo = hi;
        }
        text.replace_range(start..end, &table);
        if !upper {
            text = text.replacen("\nboundary = \"upper_tier\"", "\nboundary = \"lower_tier\"", 1);
        }
        let p = Policy::parse("gen.toml", &text).unwrap();
        let t = p.worker_tier(false, h).unwrap();
        let hits: Vec<i64> = bounds.iter().enumerate().filter(|(i, (lo, hi, _))| {
            let above = if *i == 0 || upper { h >= *lo } else { h > *lo };
            let below = match hi { None => true, Some(hi) => if upper { h < *hi } else { h <= *hi } };
            above && below
        }).map(|(_, b)| b.2).collect();
        prop_assert_eq!(hits.len(), 1);
        prop_assert_eq!(t.monthly_fen, hits[0] * FEN_PER_YUAN);
    }
}

// ── Totals ──────────────────────────────────────────────────────────────────────────────

fn role_strategy() -> impl Strategy<Value = StaffRole> {
    prop::sample::select(vec![
        StaffRole::GridLeader,
        StaffRole::GridWorker,
        StaffRole::GridWorker,
        StaffRole::PoliceAssistant,
        StaffRole::ExistingPoliceAssistant,
        StaffRole::GridInstructor,
    ])
}

/// A random county: streets → communities → grids → compounds, and assignments with random
/// roles and dates over random grids (some people hold two roles).
fn county() -> impl Strategy<Value = Snapshot> {
    let compound_s = (1i64..1500, any::<bool>());
    let grid_s = (prop::collection::vec(compound_s, 1..4), any::<bool>());
    let community_s = prop::collection::vec(grid_s, 1..4);
    let street_s = prop::collection::vec(community_s, 1..3);
    let streets = prop::collection::vec(street_s, 1..3);
    let assignment = (
        0usize..100,
        0usize..40,
        role_strategy(),
        1u8..=12,
        0u8..=12,
        any::<bool>(),
    );
    (streets, prop::collection::vec(assignment, 0..60)).prop_map(|(streets, asg)| {
        let mut grid_codes = Vec::new();
        let streets: Vec<SnapshotStreet> = streets
            .into_iter()
            .enumerate()
            .map(|(si, cs)| {
                let comms = cs
                    .into_iter()
                    .enumerate()
                    .map(|(ci, gs)| {
                        let grids = gs
                            .into_iter()
                            .enumerate()
                            .map(|(gi, (cps, rural))| {
                                let code = format!("g{si}{ci}{gi}");
                                grid_codes.push(code.clone());
                                let cps = cps
                                    .into_iter()
                                    .enumerate()
                                    .map(|(k, (h, pm))| compound(&format!("{code}c{k}"), h, pm))
                                    .collect();
                                let mut g = grid(&code, cps);
                                if rural {
                                    g.kind = wangge_domain::GridKind::Rural;
                                }
                                g
                            })
                            .collect();
                        community(&format!("c{si}{ci}"), grids)
                    })
                    .collect();
                street(&format!("s{si}"), comms)
            })
            .collect();
        let assignments = asg
            .into_iter()
            .map(|(person, g, role, from_m, len, open)| {
                let mut a = at_grid(
                    &format!("p{person}"),
                    role,
                    &grid_codes[g % grid_codes.len()],
                );
                a.from = date(&format!("2020-{from_m:02}-10"));
                let to_m = (from_m + len).min(12);
                a.to = if open {
                    None
                } else {
                    Some(date(&format!("2020-{to_m:02}-20")))
                };
                a
            })
            .collect();
        snapshot(streets, assignments)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn totals_add_up_to_the_fen(s in county()) {
        let p = changle();
        let e = evaluate(&p, &s, 2020);
        let mut county_year = 0;
        let mut county_months = [0i64; 12];
        let mut persons_total = 0;
        for st in &e.streets {
            let mut street_year = 0;
            for c in &st.communities {
                let grids_year: i64 = c.grids.iter().map(|g| g.subsidy.year_fen).sum();
                prop_assert_eq!(grids_year, c.subsidy.year_fen);
                let grids_eq: i64 = c.grids.iter().map(|g| g.subsidy.equipment_fen).sum();
                prop_assert_eq!(grids_eq, c.subsidy.equipment_fen);
                for g in &c.grids {
                    let persons: i64 = g.persons.iter().map(|p| p.year_fen).sum();
                    if g.budgeted {
                        prop_assert_eq!(persons, g.subsidy.year_fen);
                        persons_total += persons;
                    } else {
                        prop_assert_eq!(g.subsidy.year_fen, 0);
                    }
                    prop_assert_eq!(g.subsidy.monthly_fen.iter().sum::<i64>(), g.subsidy.year_fen);
                    prop_assert_eq!(g.subsidy.increase_fen, g.subsidy.year_fen - g.subsidy.existing_assistants_fen);
                    for (m, v) in g.subsidy.monthly_fen.iter().enumerate() {
                        county_months[m] += v;
                    }
                }
                street_year += c.subsidy.year_fen;
            }
            prop_assert_eq!(street_year, st.subsidy.year_fen);
            county_year += st.subsidy.year_fen;
        }
        prop_assert_eq!(county_year, e.subsidy.year_fen);
        prop_assert_eq!(persons_total, e.subsidy.year_fen);
        prop_assert_eq!(county_months, e.subsidy.monthly_fen);
        prop_assert_eq!(e.subsidy.monthly_fen.iter().sum::<i64>(), e.subsidy.year_fen);
        let grids: i64 = e.streets.iter().flat_map(|s| &s.communities).flat_map(|c| &c.grids).filter(|g| g.budgeted).count() as i64;
        prop_assert_eq!(e.subsidy.grids, grids);
        prop_assert_eq!(e.subsidy.equipment_fen, grids * 5000 * FEN_PER_YUAN);
        // Deterministic.
        prop_assert_eq!(&e, &evaluate(&p, &s, 2020));
    }
}

// ── Single rules ────────────────────────────────────────────────────────────────────────

fn one_grid(compounds: Vec<SnapshotCompound>, assignments: Vec<Assignment>) -> Evaluation {
    let s = snapshot(
        vec![street(
            "s",
            vec![community("c", vec![grid("g", compounds)])],
        )],
        assignments,
    );
    evaluate(&changle(), &s, 2021)
}

fn person(e: &Evaluation, id: &str) -> PersonSubsidy {
    e.streets[0].communities[0].grids[0]
        .persons
        .iter()
        .find(|p| p.person_id == id)
        .unwrap()
        .clone()
}

#[test]
fn police_assistant_amounts() {
    use StaffRole::*;
    let e = one_grid(
        vec![compound("a", 250, false), compound("b", 150, true)],
        vec![
            at_grid("leader", GridLeader, "g"),
            at_grid("leader", PoliceAssistant, "g"),
            Assignment {
                compound_id: Some("a".into()),
                ..at_grid("w600", GridWorker, "g")
            },
            Assignment {
                compound_id: Some("a".into()),
                ..at_grid("w900", GridWorker, "g")
            },
            at_grid("w900", PoliceAssistant, "g"),
            Assignment {
                compound_id: Some("b".into()),
                ..at_grid("w700", GridWorker, "g")
            },
            at_grid("w700", PoliceAssistant, "g"),
            at_grid("old", ExistingPoliceAssistant, "g"),
            at_grid("old", GridWorker, "g"),
            at_grid("instr", GridInstructor, "g"),
        ],
    );
    assert_eq!(person(&e, "leader").monthly_fen[0], 1000 * FEN_PER_YUAN);
    assert_eq!(person(&e, "w600").monthly_fen[0], 600 * FEN_PER_YUAN);
    // 600 + 300 = 900.
    assert_eq!(person(&e, "w900").monthly_fen[0], 900 * FEN_PER_YUAN);
    // 300 + 300 = 600, raised to the 700 the source states as the least.
    assert_eq!(person(&e, "w700").monthly_fen[0], 700 * FEN_PER_YUAN);
    let old = person(&e, "old");
    assert_eq!(old.year_fen, 12 * 600 * FEN_PER_YUAN);
    assert_eq!(old.existing_assistant_fen, old.year_fen);
    // The instructor is a street cadre, not grid staff.
    assert!(
        e.streets[0].communities[0].grids[0]
            .persons
            .iter()
            .all(|p| p.person_id != "instr")
    );
    let g = &e.streets[0].communities[0].grids[0].subsidy;
    assert_eq!(g.staff, 5);
    assert_eq!(
        g.year_fen,
        12 * (1000 + 600 + 900 + 700 + 600) * FEN_PER_YUAN
    );
}

/// One grid of one compound of 80 households without property management (400 a month),
/// with these assignments.
fn one_small_compound(assignments: Vec<Assignment>) -> Snapshot {
    snapshot(
        vec![street(
            "s",
            vec![community(
                "c",
                vec![grid("g", vec![compound("a", 80, false)])],
            )],
        )],
        assignments,
    )
}

/// 昌乐's policy paying a month only when the post is held the whole month.
fn whole_month() -> Policy {
    changle_with(
        "month_paid_if = \"any_day\"",
        "month_paid_if = \"whole_month\"",
    )
}

#[test]
fn no_month_is_paid_before_the_policy_takes_effect() {
    // 昌乐's policy takes effect on 2020-05-31; a worker in post all 2020 is paid under it
    // from May (in post on its last day) under "any day", from June under "whole month".
    let s = one_small_compound(vec![at_grid("w", StaffRole::GridWorker, "g")]);
    let e = evaluate(&changle(), &s, 2020);
    let p = &e.streets[0].communities[0].grids[0].persons[0];
    assert_eq!(p.months, 8);
    assert_eq!(&p.monthly_fen[..4], &[0; 4]);
    assert_eq!(p.year_fen, 8 * 400 * FEN_PER_YUAN);
    let whole = whole_month();
    assert_eq!(
        evaluate(&whole, &s, 2020).subsidy.year_fen,
        7 * 400 * FEN_PER_YUAN
    );
    assert_eq!(
        evaluate(&changle(), &s, 2021).subsidy.year_fen,
        12 * 400 * FEN_PER_YUAN
    );
}

#[test]
fn months_follow_the_dates() {
    let mut a = at_grid("w", StaffRole::GridWorker, "g");
    a.from = date("2021-03-15");
    a.to = Some(date("2021-06-10"));
    let e = one_grid(vec![compound("a", 80, false)], vec![a.clone()]);
    let p = person(&e, "w");
    assert_eq!(p.months, 4);
    assert_eq!(p.year_fen, 4 * 400 * FEN_PER_YUAN);
    let policy = whole_month();
    let s = one_small_compound(vec![a]);
    let e = evaluate(&policy, &s, 2021);
    assert_eq!(e.subsidy.year_fen, 2 * 400 * FEN_PER_YUAN);
    // Not in force in 2021.
    let mut b = at_grid("w", StaffRole::GridWorker, "g");
    b.to = Some(date("2020-12-31"));
    let s = one_small_compound(vec![b]);
    assert_eq!(evaluate(&changle(), &s, 2021).subsidy.year_fen, 0);
}
