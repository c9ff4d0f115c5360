//! What the rules determine in 附件4's notes, reproduced from staff assignments.

mod common;

use common::*;
use wangge_domain::Tier;
use wangge_domain::policy::*;

/// 附件4 宝都: 101 urban grids (24 demonstration, 29 standard, 48 basic), 268 grid staff.
///
/// The staff are chosen so that the rules give 附件4's total: the 70 existing community police
/// assistants at 600 a month; 9 grid workers who are also police assistants, on compounds
/// without property management of over 200 households (600 + 300 = 900 a month); 189 grid
/// workers on such compounds (600 a month). 70×600 + 9×900 + 189×600 = 163,500 a month,
/// ×12 = 1,962,000 yuan = 196.2万.
fn baodu() -> Snapshot {
    let tiers = [
        (Tier::Demonstration, 24),
        (Tier::Standard, 29),
        (Tier::Basic, 48),
    ];
    let mut grids = Vec::new();
    for (tier, n) in tiers {
        for _ in 0..n {
            let code = format!("g{:03}", grids.len());
            let mut g = grid(&code, vec![compound(&format!("{code}c"), 550, false)]);
            g.tier = Some(tier);
            grids.push(g);
        }
    }
    let codes: Vec<String> = grids.iter().map(|g| g.code.clone()).collect();
    // Communities of about 6 grids, all in one street.
    let communities = grids
        .chunks(6)
        .enumerate()
        .map(|(i, gs)| community(&format!("c{i:02}"), gs.to_vec()))
        .collect();
    let mut assignments = Vec::new();
    for i in 0..268usize {
        let g = &codes[i % codes.len()];
        let id = format!("p{i:03}");
        match i {
            0..70 => assignments.push(at_grid(&id, StaffRole::ExistingPoliceAssistant, g)),
            70..79 => {
                assignments.push(at_grid(&id, StaffRole::GridWorker, g));
                assignments.push(at_grid(&id, StaffRole::PoliceAssistant, g));
            }
            _ => assignments.push(at_grid(&id, StaffRole::GridWorker, g)),
        }
    }
    snapshot(vec![street("宝都", communities)], assignments)
}

#[test]
fn existing_police_assistants_make_50_4_wan() {
    let e = evaluate(&changle(), &baodu(), 2021);
    assert_eq!(e.subsidy.existing_assistants, 70);
    // 70 × 600 × 12 = 504,000 yuan.
    assert_eq!(e.subsidy.existing_assistants_fen, 504_000 * FEN_PER_YUAN);
    assert_eq!(e.subsidy.existing_assistants_fen * 100 / FEN_PER_WAN, 5040); // 50.40万
}

#[test]
fn baodu_total_and_real_increase() {
    let e = evaluate(&changle(), &baodu(), 2021);
    assert_eq!(e.subsidy.grids, 101);
    assert_eq!(e.subsidy.staff, 268);
    // 101 × 0.5万 = 50.5万.
    assert_eq!(e.subsidy.equipment_fen, 505_000 * FEN_PER_YUAN);
    // 196.2万 in total.
    assert_eq!(e.subsidy.year_fen, 1_962_000 * FEN_PER_YUAN);
    // 196.2万 − 50.4万 = 145.8万 real increase.
    assert_eq!(e.subsidy.increase_fen, 1_458_000 * FEN_PER_YUAN);
    assert_eq!(
        e.subsidy.year_fen - e.subsidy.existing_assistants_fen,
        e.subsidy.increase_fen
    );
    // Every month the same: 163,500 yuan.
    assert!(
        e.subsidy
            .monthly_fen
            .iter()
            .all(|m| *m == 163_500 * FEN_PER_YUAN)
    );
}

/// 宝城's demonstration grids: 2 staff → 1.92万 a year; 1 staff → 1.2万 a year.
///
/// 19,200 ÷ 12 = 1,600 yuan a month for two people, 12,000 ÷ 12 = 1,000 for one. No grid
/// worker alone reaches 1,000 (the highest tier is 600, and a worker who is police assistant
/// gets at most 900), so the lone person is a **grid leader who is also police assistant**
/// (1,000 a month, “网格长兼任警务助理1000元/月”). With two staff, the same leader-assistant plus a
/// **grid worker of a compound without property management of 200 households or more**
/// (600 a month) gives 1,000 + 600 = 1,600. (Two grid workers who are both police assistants
/// on the 500 tier, 2 × (500 + 300), give 1,600 too; that reading is checked as well.)
/// The grid with a single leader must qualify for a leader: here it is made of two compounds.
#[test]
fn baocheng_demonstration_grids() {
    use StaffRole::*;
    let two = {
        let mut g = grid("chm", vec![compound("chm1", 650, false)]);
        g.tier = Some(Tier::Demonstration);
        g
    };
    let one = {
        let mut g = grid(
            "lm",
            vec![compound("lm1", 300, false), compound("lm2", 260, true)],
        );
        g.tier = Some(Tier::Demonstration);
        g
    };
    let alt = {
        let mut g = grid("alt", vec![compound("alt1", 700, true)]);
        g.tier = Some(Tier::Demonstration);
        g
    };
    let s = snapshot(
        vec![street("宝城", vec![community("c", vec![two, one, alt])])],
        vec![
            at_grid("a", GridLeader, "chm"),
            at_grid("a", PoliceAssistant, "chm"),
            at_grid("b", GridWorker, "chm"),
            at_grid("c", GridLeader, "lm"),
            at_grid("c", PoliceAssistant, "lm"),
            at_grid("d", GridWorker, "alt"),
            at_grid("d", PoliceAssistant, "alt"),
            at_grid("e", GridWorker, "alt"),
            at_grid("e", PoliceAssistant, "alt"),
        ],
    );
    let e = evaluate(&changle(), &s, 2021);
    let grids = &e.streets[0].communities[0].grids;
    assert_eq!(grids[0].subsidy.staff, 2);
    assert_eq!(grids[0].subsidy.year_fen, 19_200 * FEN_PER_YUAN); // 1.92万
    assert_eq!(grids[1].subsidy.staff, 1);
    assert_eq!(grids[1].subsidy.year_fen, 12_000 * FEN_PER_YUAN); // 1.2万
    assert_eq!(grids[2].subsidy.staff, 2);
    assert_eq!(grids[2].subsidy.year_fen, 19_200 * FEN_PER_YUAN);
    // The lone leader's grid qualifies (several compounds): no finding against it.
    assert!(
        !e.findings
            .iter()
            .any(|f| f.kind == FindingKind::LeaderNotAllowed && f.grid.as_deref() == Some("lm"))
    );
    // 宝城's 20 grids → 10万 of equipment.
    let twenty: Vec<_> = (0..20).map(|i| grid(&format!("b{i}"), vec![])).collect();
    let s = snapshot(vec![street("宝城", vec![community("c", twenty)])], vec![]);
    assert_eq!(
        evaluate(&changle(), &s, 2021).subsidy.equipment_fen,
        100_000 * FEN_PER_YUAN
    );
}

/// “每个网格配备办公设施设备费用为0.5万”: 附件4 lists the 0.5万 against every grid, but the
/// equipment is bought once — in the year the policy takes effect for grids already there,
/// in the year of its setting up for a grid set up later.
#[test]
fn equipment_is_paid_once_in_the_year_a_grid_is_set_up() {
    let mut s = baodu();
    let new_grid = &mut s.streets[0].communities[0].grids[0];
    new_grid.set_up = Some(wangge_domain::Date::parse("2021-03-01").unwrap());
    let old_grid = &mut s.streets[0].communities[0].grids[1];
    old_grid.set_up = Some(wangge_domain::Date::parse("2015-07-01").unwrap());
    let due = |year| evaluate(&changle(), &s, year).subsidy;
    // 2020, the policy's first year: the 100 grids there before it; 2021: the new one.
    assert_eq!(due(2020).equipment_due_fen, 500_000 * FEN_PER_YUAN);
    assert_eq!(due(2021).equipment_due_fen, 5_000 * FEN_PER_YUAN);
    assert_eq!(due(2022).equipment_due_fen, 0);
    // 附件4's column stays the cost of equipping every grid.
    for year in [2020, 2021, 2022] {
        assert_eq!(due(year).equipment_fen, 505_000 * FEN_PER_YUAN);
    }
    let grid = |year| evaluate(&changle(), &s, year).streets[0].communities[0].grids[0].clone();
    assert_eq!(grid(2021).subsidy.equipment_due_fen, 5_000 * FEN_PER_YUAN);
    assert_eq!(grid(2020).subsidy.equipment_due_fen, 0);
}

/// A redraw buys no equipment for the grids it sets up in place of the grids it retires:
/// two grids merged into one take over theirs; one split into two buys one more set.
#[test]
fn a_redraw_hands_equipment_on_to_the_grids_it_sets_up() {
    let day = |d: &str| Some(wangge_domain::Date::parse(d).unwrap());
    let mut s = baodu();
    let grids = &mut s.streets[0].communities[0].grids;
    // Merge: the first two retired, the third new in their place.
    grids[0].retired_on = day("2022-06-30");
    grids[1].retired_on = day("2022-06-30");
    grids[2].set_up = day("2022-07-01");
    let due = |s: &wangge_domain::policy::Snapshot| evaluate(&changle(), s, 2022).subsidy;
    assert_eq!(due(&s).equipment_due_fen, 0);
    // Split: one retired, two new: one set bought.
    let mut s = baodu();
    let grids = &mut s.streets[0].communities[0].grids;
    grids[0].retired_on = day("2022-06-30");
    grids[1].set_up = day("2022-07-01");
    grids[2].set_up = day("2022-07-01");
    assert_eq!(due(&s).equipment_due_fen, 5_000 * FEN_PER_YUAN);
    // Redrawn twice in the year: a grid set up and retired in it held a set handed on, and
    // frees none of its own. One retired, two new; then one of those retired, three new:
    // where there was one grid there are four, three sets bought.
    let mut s = baodu();
    let grids = &mut s.streets[0].communities[0].grids;
    grids[0].retired_on = day("2022-03-31");
    grids[1].set_up = day("2022-04-01");
    grids[1].retired_on = day("2022-09-30");
    grids[2].set_up = day("2022-04-01");
    for g in &mut grids[3..6] {
        g.set_up = day("2022-10-01");
    }
    assert_eq!(due(&s).equipment_due_fen, 3 * 5_000 * FEN_PER_YUAN);
}
