//! Compliance findings, and that changing only the policy text changes findings and budgets.

mod common;

use common::*;
use wangge_domain::policy::*;
use wangge_domain::{CompoundKind, GridKind};

fn kinds(e: &Evaluation) -> Vec<(FindingKind, Option<String>)> {
    e.findings
        .iter()
        .map(|f| (f.kind, f.grid.clone()))
        .collect()
}

fn find(e: &Evaluation, kind: FindingKind) -> Finding {
    e.findings
        .iter()
        .find(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {:#?}", e.findings))
        .clone()
}

#[test]
fn service_centre_under_minimum() {
    let mut c = community("c", vec![grid("g", vec![compound("a", 550, false)])]);
    c.service_centre_area_m2 = Some(650);
    c.service_hall_area_m2 = Some(200);
    c.rooms = Some(vec!["一站式服务大厅".into(), "文体活动室".into()]);
    let e = evaluate(
        &changle(),
        &snapshot(vec![street("s", vec![c])], vec![]),
        2021,
    );
    let f = find(&e, FindingKind::ServiceCentreTooSmall);
    assert_eq!((f.actual, f.limit), (Some(650), Some(700)));
    assert_eq!(f.rule, "venues.service_centre_min_m2");
    assert_eq!(f.severity, Severity::Violation);
    assert_eq!(f.message, "社区服务中心 650 平方米，低于 700 平方米标准");
    assert!(
        !kinds(&e)
            .iter()
            .any(|k| k.0 == FindingKind::ServiceHallTooSmall)
    );
    let rooms: Vec<String> = e
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::RoomMissing)
        .map(|f| f.rule.clone())
        .collect();
    assert_eq!(
        rooms,
        ["venues.required_rooms[1]", "venues.required_rooms[3]"]
    );
}

#[test]
fn grid_over_ceiling_and_under_floor() {
    let big = grid(
        "big",
        vec![compound("a", 800, false), compound("b", 600, false)],
    );
    let single = grid("single", vec![compound("c", 1400, false)]);
    let small = grid("small", vec![compound("d", 120, false)]);
    let e = evaluate(
        &changle(),
        &snapshot(
            vec![street("s", vec![community("c", vec![big, single, small])])],
            vec![],
        ),
        2021,
    );
    let over: Vec<&Finding> = e
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::GridOverCeiling)
        .collect();
    assert_eq!(over.len(), 2);
    assert_eq!(over[0].grid.as_deref(), Some("big"));
    assert_eq!((over[0].actual, over[0].limit), (Some(1400), Some(600)));
    assert_eq!(over[0].severity, Severity::Violation);
    assert_eq!(over[0].rule, "grid_division.household_ceiling");
    // One compound is never split: only a notice.
    assert_eq!(over[1].grid.as_deref(), Some("single"));
    assert_eq!(over[1].severity, Severity::Notice);
    let under = find(&e, FindingKind::GridUnderFloor);
    assert_eq!((under.actual, under.limit), (Some(120), Some(500)));
}

#[test]
fn compound_split_across_grids() {
    let g1 = grid(
        "g1",
        vec![compound("x", 300, true), compound("a", 250, true)],
    );
    let g2 = grid(
        "g2",
        vec![compound("x", 280, true), compound("b", 270, true)],
    );
    let e = evaluate(
        &changle(),
        &snapshot(
            vec![street("s", vec![community("c", vec![g1, g2])])],
            vec![],
        ),
        2021,
    );
    let f = find(&e, FindingKind::CompoundSplit);
    assert_eq!(f.compound.as_deref(), Some("x"));
    assert_eq!(f.actual, Some(2));
    assert_eq!(f.rule, "grid_division.one_compound_one_grid");
    // “原则上一个小区划分一个网格，不再拆分”: a notice.
    assert_eq!(f.severity, Severity::Notice);
}

#[test]
fn in_principle_names_only_rules_that_can_be_broken() {
    let text = CHANGLE_2020.replace(
        "in_principle = [\"grid_division.one_compound_one_grid\"]",
        "in_principle = [\"grid_division.one_compound_one_grid\", \"grid_divison.household_floor\", \"grid_division.one_compound_one_grid\"]",
    );
    assert_ne!(text, CHANGLE_2020);
    let e = wangge_domain::policy::Policy::parse("370725-changle-2020.toml", &text).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("in_principle[1]")
            && text.contains("“grid_divison.household_floor”不是可写作“原则上”的规则"),
        "{text}"
    );
    assert!(
        text.contains("in_principle[2]") && text.contains("重复"),
        "{text}"
    );
}

#[test]
fn grid_over_1000_with_one_worker() {
    let g = grid("g", vec![compound("a", 1400, true)]);
    let e = evaluate(
        &changle(),
        &snapshot(
            vec![street("s", vec![community("c", vec![g])])],
            vec![at_grid("w", StaffRole::GridWorker, "g")],
        ),
        2021,
    );
    let f = find(&e, FindingKind::WorkersShort);
    assert_eq!((f.actual, f.limit), (Some(1), Some(2)));
    assert_eq!(f.rule, "grid_subsidy.two_workers.workers");
    assert_eq!(f.severity, Severity::Violation);
    // The one worker is paid 500 a month.
    assert_eq!(e.subsidy.year_fen, 12 * 500 * FEN_PER_YUAN);
}

#[test]
fn more_workers_than_the_compounds_call_for_are_noticed_and_still_paid() {
    let g = grid("g", vec![compound("a", 470, true)]);
    let staff: Vec<_> = ["w1", "w2", "w3"]
        .iter()
        .map(|w| at_grid(w, StaffRole::GridWorker, "g"))
        .collect();
    let e = evaluate(
        &changle(),
        &snapshot(vec![street("s", vec![community("c", vec![g])])], staff),
        2021,
    );
    let f = find(&e, FindingKind::WorkersOver);
    assert_eq!((f.actual, f.limit), (Some(3), Some(1)));
    assert_eq!(f.severity, Severity::Notice);
    assert!(f.message.contains("多出的 2 名仍计补贴"), "{}", f.message);
    assert!(
        !e.findings
            .iter()
            .any(|f| f.kind == FindingKind::WorkersShort)
    );
}

#[test]
fn staffing_rules() {
    use StaffRole::*;
    // A 550-household one-compound grid with a leader and two workers: no condition for a leader.
    let g = grid("g", vec![compound("a", 550, false)]);
    let e = evaluate(
        &changle(),
        &snapshot(
            vec![street("s", vec![community("c", vec![g])])],
            vec![
                at_grid("l", GridLeader, "g"),
                at_grid("w1", GridWorker, "g"),
                at_grid("pa", PoliceAssistant, "g"),
            ],
        ),
        2021,
    );
    let ks: Vec<FindingKind> = e.findings.iter().map(|f| f.kind).collect();
    assert!(ks.contains(&FindingKind::LeaderNotAllowed), "{ks:?}");
    assert!(ks.contains(&FindingKind::InstructorsShort), "{ks:?}");
    let f = find(&e, FindingKind::PoliceAssistantNotHeld);
    assert!(f.message.contains("“pa”"), "{}", f.message);
}

#[test]
fn new_compound_service_space() {
    let mut a = compound("a", 550, true);
    a.is_new = true;
    a.residential_floor_area_m2 = Some(100_000);
    a.service_space_m2 = Some(650);
    a.service_space_to_community_m2 = Some(300);
    let mut b = compound("b", 200, true);
    b.is_new = true;
    b.residential_floor_area_m2 = Some(50_000);
    b.service_space_m2 = Some(500);
    let e = evaluate(
        &changle(),
        &snapshot(
            vec![street(
                "s",
                vec![community("c", vec![grid("g", vec![a, b])])],
            )],
            vec![],
        ),
        2021,
    );
    let short: Vec<&Finding> = e
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::NewCompoundSpaceShort)
        .collect();
    // 100,000 m² × 7‰ = 700 > 650; 50,000 × 7‰ = 350, so the 600 minimum applies to 500.
    assert_eq!(short.len(), 2);
    assert_eq!((short[0].actual, short[0].limit), (Some(650), Some(700)));
    assert_eq!(
        short[0].rule,
        "venues.new_compound_service_space.permille_of_residential_area"
    );
    assert_eq!((short[1].actual, short[1].limit), (Some(500), Some(600)));
    assert_eq!(short[1].rule, "venues.new_compound_service_space.min_m2");
    let half = find(&e, FindingKind::NewCompoundCommunityShareShort);
    assert_eq!((half.actual, half.limit), (Some(300), Some(325)));
}

#[test]
fn community_money_and_social_workers() {
    let mut c = community("c", vec![grid("g", vec![compound("a", 4350, false)])]);
    c.general_social_workers = 5;
    let s = snapshot(vec![street("s", vec![c])], vec![]);
    let e = evaluate(&changle(), &s, 2021);
    let cb = &e.streets[0].communities[0];
    // 4350 × 20 yuan + 20万.
    assert_eq!(cb.money.funds_fen, (4350 * 20 + 200_000) * FEN_PER_YUAN);
    // ⌈4350 ÷ 400⌉ = 11 needed; 5 present at 3.6万.
    assert_eq!(cb.money.social_workers_needed, 11);
    assert_eq!(cb.money.social_workers_cost_fen, 5 * 36_000 * FEN_PER_YUAN);
    assert_eq!(
        cb.money.social_workers_needed_cost_fen,
        11 * 36_000 * FEN_PER_YUAN
    );
    let f = find(&e, FindingKind::SocialWorkersShort);
    assert_eq!((f.actual, f.limit), (Some(5), Some(11)));
    // The county's 500万 a year for three years: 2020–2022.
    assert_eq!(e.county_funds.len(), 1);
    assert_eq!(e.county_funds[0].amount_fen, 5_000_000 * FEN_PER_YUAN);
    assert!(evaluate(&changle(), &s, 2023).county_funds.is_empty());
    // Totals add up.
    assert_eq!(e.money, e.streets[0].money);
}

#[test]
fn weidu_rules() {
    let w17 = wangge_domain::policy::Policy::parse("411002-weidu-2017.toml", WEIDU_2017).unwrap();
    let w13 = wangge_domain::policy::Policy::parse("411002-weidu-2013.toml", WEIDU_2013).unwrap();
    let urban = grid("u", vec![compound("a", 420, false)]);
    let mut rural = grid(
        "r",
        vec![compound("v1", 120, false), compound("v2", 90, false)],
    );
    rural.kind = GridKind::Rural;
    rural.compounds[0].kind = CompoundKind::ResidentsGroup;
    rural.compounds[1].kind = CompoundKind::ResidentsGroup;
    let mut c = community("c", vec![urban, rural]);
    c.committee = Some(CommitteeCounts {
        heads: 1,
        deputies: 2,
        members: 3,
    });
    let s = snapshot(vec![street("s", vec![c])], vec![]);

    let e17 = evaluate(&w17, &s, 2017);
    let over = find(&e17, FindingKind::GridOverCeiling);
    assert_eq!((over.actual, over.limit), (Some(420), Some(300)));
    // “原则上以 200 户至 300 户为一个网格”: a notice, saying why.
    assert_eq!(over.severity, Severity::Notice);
    assert!(
        over.message.ends_with("（政策原文为“原则上”，列为提示）"),
        "{}",
        over.message
    );
    assert_eq!(
        find(&e17, FindingKind::RuralGridNotOneGroup).actual,
        Some(2)
    );
    assert_eq!(
        find(&e17, FindingKind::LeaderMissing).grid.as_deref(),
        Some("u")
    );
    // No minimum wage in the file: a notice, no committee amount.
    find(&e17, FindingKind::MinimumWageMissing);
    assert_eq!(e17.money.committee_fen, 0);
    assert_eq!(e17.money.funds_fen, 120_000 * FEN_PER_YUAN);

    // With a wage of 1,600 a month: 140% / 130% / 120%.
    let text = format!("{WEIDU_2017}\n[[minimum_wage]]\nyear = 2017\nmonthly_yuan = 1600\n");
    let w = wangge_domain::policy::Policy::parse("w.toml", &text).unwrap();
    let e = evaluate(&w, &s, 2017);
    assert_eq!(
        e.money.committee_fen,
        12 * (2240 + 2 * 2080 + 3 * 1920) * FEN_PER_YUAN
    );

    // 2013: 300–500 households, every grid; 420 is inside the band.
    let e13 = evaluate(&w13, &s, 2013);
    assert!(
        !e13.findings
            .iter()
            .any(|f| f.kind == FindingKind::GridOverCeiling && f.grid.as_deref() == Some("u"))
    );
    let under = find(&e13, FindingKind::GridUnderFloor);
    assert_eq!(under.grid.as_deref(), Some("r"));
    // 2013's “以 300 户至 500 户为标准” is firm.
    assert_eq!(under.severity, Severity::Violation);
    assert_eq!(e13.money.funds_fen, 12_000 * FEN_PER_YUAN);
}

#[test]
fn weidu_funds_rise_in_2015_and_the_500_m2_standard_holds_from_2014() {
    let all: Vec<Policy> = [
        ("411002-weidu-2013.toml", WEIDU_2013),
        ("411002-weidu-2014.toml", WEIDU_2014),
        ("411002-weidu-2015.toml", WEIDU_2015),
        ("411002-weidu-2017.toml", WEIDU_2017),
    ]
    .into_iter()
    .map(|(f, t)| Policy::parse(f, t).unwrap())
    .collect();
    let mut c = community("c", vec![grid("g", vec![compound("a", 400, false)])]);
    c.service_centre_area_m2 = Some(420);
    let s = snapshot(vec![street("s", vec![c])], vec![]);
    let year = |y: i32| {
        let day = wangge_domain::Date::new(y, 12, 31).unwrap();
        evaluate(Policy::in_force(&all, "411002", day).unwrap(), &s, y)
    };
    // “2015 城市社区服务群众工作经费每年 12 万元”: 1.2万 until 2014, 12万 from 2015 (2016
    // used to fall back to 2013's 1.2万).
    let funds: Vec<i64> = (2013..=2017)
        .map(|y| year(y).money.funds_fen / FEN_PER_YUAN)
        .collect();
    assert_eq!(funds, [12_000, 12_000, 120_000, 120_000, 120_000]);
    // “2014 社区办公服务用房面积原则上不少于 500 平方米”: a notice from 2014 on, none in 2013.
    assert!(
        !year(2013)
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::ServiceCentreTooSmall)
    );
    for y in [2014, 2016] {
        let e = year(y);
        let f = find(&e, FindingKind::ServiceCentreTooSmall);
        assert_eq!(
            (f.actual, f.limit, f.severity),
            (Some(420), Some(500), Severity::Notice),
            "{y}"
        );
    }
}

/// Only the policy text changes, and findings and budgets follow.
#[test]
fn changing_the_policy_text_changes_findings_and_budgets() {
    let mut a = compound("a", 250, false);
    a.is_new = true;
    a.residential_floor_area_m2 = Some(100_000);
    a.service_space_m2 = Some(800);
    let g = grid("g", vec![a, compound("b", 300, false)]);
    let s = snapshot(
        vec![street("s", vec![community("c", vec![g])])],
        vec![Assignment {
            compound_id: Some("a".into()),
            ..at_grid("w", StaffRole::GridWorker, "g")
        }],
    );
    let base = evaluate(&changle(), &s, 2021);
    assert!(
        !base
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::GridOverCeiling)
    );
    assert!(
        !base
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::NewCompoundSpaceShort)
    );
    assert_eq!(base.subsidy.year_fen, 12 * 600 * FEN_PER_YUAN);

    // The band to 200–300: the 550-household grid is now over the ceiling.
    let p = changle_with(
        "household_floor = 500\nhousehold_ceiling = 600",
        "household_floor = 200\nhousehold_ceiling = 300",
    );
    let e = evaluate(&p, &s, 2021);
    let f = find(&e, FindingKind::GridOverCeiling);
    assert_eq!((f.actual, f.limit), (Some(550), Some(300)));

    // 7‰ to 10‰: 100,000 m² now needs 1,000 m², and 800 is short.
    let p = changle_with(
        "permille_of_residential_area = 7",
        "permille_of_residential_area = 10",
    );
    let e = evaluate(&p, &s, 2021);
    let f = find(&e, FindingKind::NewCompoundSpaceShort);
    assert_eq!((f.actual, f.limit), (Some(800), Some(1000)));

    // The boundary choice: 250 households stays at 600; move the tier to start at 300…
    let p = changle_with(
        "min_households = 100\nmax_households = 200\nmonthly_yuan = 500\n\n[[grid_subsidy.without_property_management.tiers]]\nmin_households = 200",
        "min_households = 100\nmax_households = 300\nmonthly_yuan = 500\n\n[[grid_subsidy.without_property_management.tiers]]\nmin_households = 300",
    );
    assert_eq!(
        evaluate(&p, &s, 2021).subsidy.year_fen,
        12 * 500 * FEN_PER_YUAN
    );
    // …or the amount of a tier.
    let p = changle_with(
        "min_households = 200\nmonthly_yuan = 600",
        "min_households = 200\nmonthly_yuan = 650",
    );
    assert_eq!(
        evaluate(&p, &s, 2021).subsidy.year_fen,
        12 * 650 * FEN_PER_YUAN
    );
    // Equipment per grid.
    let p = changle_with(
        "equipment_per_grid_yuan = 5000",
        "equipment_per_grid_yuan = 8000",
    );
    assert_eq!(
        evaluate(&p, &s, 2021).subsidy.equipment_fen,
        8000 * FEN_PER_YUAN
    );
}

#[test]
fn demonstration_grids_out_of_range() {
    let grids: Vec<SnapshotGrid> = (0..25)
        .map(|i| {
            let mut g = grid(
                &format!("g{i}"),
                vec![compound(&format!("x{i}"), 550, false)],
            );
            g.tier = Some(wangge_domain::Tier::Demonstration);
            g
        })
        .collect();
    let e = evaluate(
        &changle(),
        &snapshot(vec![street("s", vec![community("c", grids)])], vec![]),
        2021,
    );
    let f = find(&e, FindingKind::DemonstrationGridsOutOfRange);
    assert_eq!((f.actual, f.limit), (Some(25), Some(20)));
}

/// 原有社区警务助理 are those in post when the policy took effect: one posted after it is a new
/// hire in the wrong role, and said so; the one in post from the start is not.
#[test]
fn an_existing_police_assistant_posted_after_the_policy_is_pointed_out() {
    let g = grid("g", vec![compound("a", 300, false)]);
    let mut late = at_grid("晚来", StaffRole::ExistingPoliceAssistant, "g");
    late.from = date("2021-03-01");
    let e = evaluate(
        &changle(),
        &snapshot(
            vec![street("s", vec![community("c", vec![g])])],
            vec![
                at_grid("早在", StaffRole::ExistingPoliceAssistant, "g"),
                late,
            ],
        ),
        2021,
    );
    let said: Vec<&str> = e
        .findings
        .iter()
        .filter(|f| f.message.contains("比政策施行"))
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("“晚来”自 2021-03-01 起任职"),
        "{}",
        said[0]
    );
}

#[test]
fn the_small_grids_named_for_merging_reach_the_band_together() {
    let g = |code: &str, h: i64| grid(code, vec![compound(code, h, true)]);
    // 150 + 311 = 461 stays under 500; 150 + 384 = 534 reaches it.
    let e = evaluate(
        &changle(),
        &snapshot(
            vec![street(
                "s",
                vec![community(
                    "c",
                    vec![g("g1", 150), g("g2", 311), g("g3", 384)],
                )],
            )],
            vec![],
        ),
        2021,
    );
    let f = find(&e, FindingKind::SmallGridsMergeable);
    assert!(
        f.message
            .contains("（150 户）与“g3网格”（384 户）合并后 534 户，在 500–600 户之间"),
        "{}",
        f.message
    );
}

#[test]
fn an_existing_police_assistant_who_followed_his_households_is_no_late_hire() {
    let g1 = grid("g1", vec![compound("a", 300, false)]);
    let g2 = grid("g2", vec![compound("b", 300, false)]);
    let mut before = at_grid("p", StaffRole::ExistingPoliceAssistant, "g1");
    before.to = Some(date("2022-06-30"));
    let mut after = at_grid("p", StaffRole::ExistingPoliceAssistant, "g2");
    after.from = date("2022-07-01");
    let mut hired = at_grid("q", StaffRole::ExistingPoliceAssistant, "g2");
    hired.from = date("2022-07-01");
    let e = evaluate(
        &changle(),
        &snapshot(
            vec![street("s", vec![community("c", vec![g1, g2])])],
            vec![before, after, hired],
        ),
        2022,
    );
    let late: Vec<&str> = e
        .findings
        .iter()
        .filter(|f| f.message.contains("晚三个月以上"))
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(late.len(), 1, "{late:?}");
    assert!(late[0].contains("“q”"), "{late:?}");
}
