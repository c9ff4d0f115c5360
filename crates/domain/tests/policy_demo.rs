//! The demo county through the 昌乐 policy: how a snapshot is filled from registry records,
//! and 附件4's equipment figures (宝都 101 urban grids → 50.5万; 宝城 20 grids → 10万).

mod common;

use common::*;
use wangge_domain::demo;
use wangge_domain::policy::*;

fn demo_snapshot() -> Snapshot {
    let county = demo::county();
    let streets = county
        .streets
        .iter()
        .map(|s| SnapshotStreet {
            code: s.code.to_string(),
            name: s.name.to_string(),
            recruited_social_workers: Default::default(),
            communities: s
                .communities
                .iter()
                .map(|c| {
                    let grids = c
                        .grids
                        .iter()
                        .enumerate()
                        .map(|(gi, g)| {
                            let compounds: Vec<SnapshotCompound> = c
                                .compounds
                                .iter()
                                .enumerate()
                                .filter(|(_, cp)| cp.grid == gi)
                                .map(|(ci, cp)| SnapshotCompound {
                                    id: format!("{}-{ci}", c.code),
                                    name: cp.name.clone(),
                                    kind: cp.kind,
                                    households: cp.households,
                                    has_property_management: cp.has_property_management,
                                    residential_floor_area_m2: Some(
                                        cp.residential_area.round() as i64
                                    ),
                                    is_new: false,
                                    service_space_m2: None,
                                    service_space_to_community_m2: None,
                                })
                                .collect();
                            SnapshotGrid {
                                code: g.code.to_string(),
                                name: g.name.clone(),
                                kind: g.kind,
                                tier: g.tier,
                                households: compounds.iter().map(|x| x.households).sum(),
                                station_area_m2: None,
                                set_up: None,
                                retired_on: None,
                                compounds,
                            }
                        })
                        .collect();
                    SnapshotCommunity {
                        code: c.code.to_string(),
                        name: c.basics.name.clone(),
                        kind: c.kind,
                        tier: Some(c.tier),
                        households: c.basics.households,
                        population: c.basics.population,
                        service_centre_area_m2: None,
                        service_hall_area_m2: None,
                        general_social_workers: 0,
                        rooms: None,
                        committee: None,
                        investment_fen: Default::default(),
                        grids,
                    }
                })
                .collect(),
        })
        .collect();
    Snapshot {
        county_code: county.code.to_string(),
        county_name: county.name.to_string(),
        streets,
        assignments: vec![],
        partial: false,
    }
}

#[test]
fn demo_county_equipment_and_totals() {
    let s = demo_snapshot();
    let e = evaluate(&changle(), &s, 2021);
    let baodu = e
        .streets
        .iter()
        .find(|s| s.name.starts_with("宝都"))
        .unwrap();
    assert_eq!(baodu.subsidy.grids, 101);
    assert_eq!(baodu.subsidy.equipment_fen, 505_000 * FEN_PER_YUAN);
    let baocheng = e
        .streets
        .iter()
        .find(|s| s.name.starts_with("宝城"))
        .unwrap();
    assert_eq!(baocheng.subsidy.equipment_fen, 100_000 * FEN_PER_YUAN);
    // Community funds: 20 yuan a household and 20万 a community, every community.
    let households: i64 = s
        .streets
        .iter()
        .flat_map(|s| &s.communities)
        .map(|c| c.households)
        .sum();
    let communities = s
        .streets
        .iter()
        .map(|s| s.communities.len() as i64)
        .sum::<i64>();
    assert_eq!(
        e.money.funds_fen,
        (households * 20 + communities * 200_000) * FEN_PER_YUAN
    );
    // The demo's 24 + 5 demonstration grids are more than the 10—20 the plan builds.
    assert!(
        e.findings
            .iter()
            .any(|f| f.kind == FindingKind::DemonstrationGridsOutOfRange)
    );
    // The tables add up.
    let (a3, a4) = tables::annex_tables(&changle(), &s.streets, &e, &[2020, 2021, 2022]);
    assert!(
        a3.iter()
            .chain(&a4)
            .all(|t| t.unbalanced_columns().is_empty())
    );
}

#[test]
fn demo_findings_summary() {
    let s = demo_snapshot();
    let e = evaluate(&changle(), &s, 2019);
    assert!(
        e.findings
            .iter()
            .any(|f| f.kind == FindingKind::PolicyNotInForce)
    );
    let mut counts = std::collections::BTreeMap::new();
    for f in &e.findings {
        *counts.entry(f.kind.label()).or_insert(0) += 1;
    }
    println!("{counts:#?}");
    for f in e.findings.iter().take(8) {
        println!(
            "[{}] {} — {}: {}",
            f.severity.label(),
            f.place,
            f.rule,
            f.message
        );
    }
}

#[test]
fn the_demo_staff_give_annex4s_figures_for_baodu() {
    let mut s = demo_snapshot();
    let county = demo::county();
    s.assignments = demo::staff(&county, &changle());
    let e = evaluate(&changle(), &s, 2021);
    let baodu = e
        .streets
        .iter()
        .find(|s| s.name.starts_with("宝都"))
        .unwrap();
    assert_eq!(baodu.subsidy.staff, 268);
    assert_eq!(baodu.subsidy.year_fen, 1_962_000 * FEN_PER_YUAN, "196.2万");
    assert_eq!(
        baodu.subsidy.existing_assistants_fen,
        504_000 * FEN_PER_YUAN,
        "50.4万"
    );
    assert_eq!(
        baodu.subsidy.year_fen - baodu.subsidy.existing_assistants_fen,
        1_458_000 * FEN_PER_YUAN,
        "145.8万"
    );
    let down: i64 = baodu.communities.iter().map(|c| c.staff_sent_down).sum();
    assert_eq!(down, 67);
    let baocheng = e
        .streets
        .iter()
        .find(|s| s.name.starts_with("宝城"))
        .unwrap();
    assert_eq!(baocheng.subsidy.staff, 54);
}
