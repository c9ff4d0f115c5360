//! Shared fixtures of the policy tests: the shipped files and small snapshots.
#![allow(dead_code)]

use wangge_domain::policy::*;
use wangge_domain::{CommunityKind, CompoundKind, Date, GridKind, Tier};

pub const CHANGLE_2020: &str = include_str!("../../../../policies/370725-changle-2020.toml");
pub const WEIDU_2013: &str = include_str!("../../../../policies/411002-weidu-2013.toml");
pub const WEIDU_2014: &str = include_str!("../../../../policies/411002-weidu-2014.toml");
pub const WEIDU_2015: &str = include_str!("../../../../policies/411002-weidu-2015.toml");
pub const WEIDU_2017: &str = include_str!("../../../../policies/411002-weidu-2017.toml");

pub fn changle() -> Policy {
    Policy::parse("370725-changle-2020.toml", CHANGLE_2020).unwrap()
}

/// The 昌乐 policy with one line of its text replaced.
pub fn changle_with(from: &str, to: &str) -> Policy {
    // Only whole lines are replaced, never the comments that quote them.
    let (from, to) = (format!("\n{from}"), format!("\n{to}"));
    assert!(
        CHANGLE_2020.contains(&from),
        "fixture line not found: {from}"
    );
    Policy::parse(
        "370725-changle-2020.toml",
        &CHANGLE_2020.replacen(&from, &to, 1),
    )
    .unwrap()
}

pub fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

pub fn compound(id: &str, households: i64, pm: bool) -> SnapshotCompound {
    SnapshotCompound {
        id: id.to_string(),
        name: format!("{id}小区"),
        kind: CompoundKind::Compound,
        households,
        has_property_management: pm,
        residential_floor_area_m2: None,
        is_new: false,
        service_space_m2: None,
        service_space_to_community_m2: None,
    }
}

pub fn grid(code: &str, compounds: Vec<SnapshotCompound>) -> SnapshotGrid {
    SnapshotGrid {
        code: code.to_string(),
        name: format!("{code}网格"),
        kind: GridKind::Urban,
        tier: None,
        households: compounds.iter().map(|c| c.households).sum(),
        station_area_m2: None,
        set_up: None,
        retired_on: None,
        compounds,
    }
}

pub fn community(code: &str, grids: Vec<SnapshotGrid>) -> SnapshotCommunity {
    let households = grids.iter().map(|g| g.households).sum();
    SnapshotCommunity {
        code: code.to_string(),
        name: format!("{code}社区"),
        kind: CommunityKind::Urban,
        tier: Some(Tier::Standard),
        households,
        population: households * 3,
        service_centre_area_m2: None,
        service_hall_area_m2: None,
        general_social_workers: 0,
        rooms: None,
        committee: None,
        investment_fen: Default::default(),
        grids,
    }
}

pub fn street(code: &str, communities: Vec<SnapshotCommunity>) -> SnapshotStreet {
    SnapshotStreet {
        code: code.to_string(),
        name: format!("{code}街道"),
        communities,
        recruited_social_workers: Default::default(),
    }
}

pub fn snapshot(streets: Vec<SnapshotStreet>, assignments: Vec<Assignment>) -> Snapshot {
    Snapshot {
        county_code: "370725".into(),
        county_name: "昌乐县".into(),
        streets,
        assignments,
        partial: false,
    }
}

/// A whole-year assignment at a grid.
pub fn at_grid(person: &str, role: StaffRole, grid: &str) -> Assignment {
    Assignment {
        person_id: person.to_string(),
        person_name: person.to_string(),
        role,
        post: Post::Grid(grid.to_string()),
        compound_id: None,
        from: date("2020-01-01"),
        to: None,
    }
}
