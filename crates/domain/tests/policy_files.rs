//! The shipped policy files load, and malformed ones are refused with the key named.

mod common;

use common::*;
use wangge_domain::policy::Policy;

#[test]
fn shipped_files_load() {
    let c = changle();
    assert_eq!(c.jurisdiction_code(), "370725");
    assert_eq!(c.jurisdiction_name(), "昌乐县");
    let w13 = Policy::parse("411002-weidu-2013.toml", WEIDU_2013).unwrap();
    let w17 = Policy::parse("411002-weidu-2017.toml", WEIDU_2017).unwrap();
    assert_eq!(
        w13.doc().grid_division.as_ref().unwrap().household_ceiling,
        500
    );
    assert_eq!(
        w17.doc().grid_division.as_ref().unwrap().household_ceiling,
        300
    );
    let w14 = Policy::parse("411002-weidu-2014.toml", WEIDU_2014).unwrap();
    let w15 = Policy::parse("411002-weidu-2015.toml", WEIDU_2015).unwrap();
    // The policy in force picks the latest effective on or before the date.
    let all = vec![c, w13, w14, w15, w17];
    let p = Policy::in_force(&all, "411002", date("2013-12-31")).unwrap();
    assert_eq!(p.file(), "411002-weidu-2013.toml");
    let p = Policy::in_force(&all, "411002", date("2016-06-30")).unwrap();
    assert_eq!(p.file(), "411002-weidu-2015.toml");
    let p = Policy::in_force(&all, "411002", date("2017-06-30")).unwrap();
    assert_eq!(p.file(), "411002-weidu-2017.toml");
    assert!(Policy::in_force(&all, "370725", date("2019-12-31")).is_none());
}

#[test]
fn only_weidu_2017_makes_each_residents_group_a_grid_of_its_own() {
    use wangge_domain::CompoundKind::*;
    let w17 = Policy::parse("411002-weidu-2017.toml", WEIDU_2017).unwrap();
    let d = w17.doc().grid_division.as_ref().unwrap();
    assert!(d.makes_own_grid(ResidentsGroup));
    assert!(!d.makes_own_grid(Compound) && !d.makes_own_grid(Village));
    // By kind as typed: key or label; none or an unknown kind is an ordinary compound.
    assert_eq!(
        d.own_grids([
            Some("residents_group"),
            None,
            Some("居民小组"),
            Some("村庄"),
            Some("小区甲"),
        ]),
        vec![0, 2]
    );
    let w13 = Policy::parse("411002-weidu-2013.toml", WEIDU_2013).unwrap();
    for p in [changle(), w13] {
        let d = p.doc().grid_division.as_ref().unwrap();
        assert!(!d.makes_own_grid(ResidentsGroup), "{}", p.file());
    }
}

fn refused(from: &str, to: &str) -> String {
    // Only whole lines are replaced, never the comments that quote them.
    let (from, to) = (format!("\n{from}"), format!("\n{to}"));
    assert!(
        CHANGLE_2020.contains(&from),
        "fixture line not found: {from}"
    );
    let text = CHANGLE_2020.replacen(&from, &to, 1);
    let e = Policy::parse("370725-changle-2020.toml", &text).unwrap_err();
    e.to_string()
}

#[test]
fn unknown_key_is_named() {
    let m = refused(
        "household_ceiling = 600",
        "household_ceiling = 600\nhousehold_cieling = 650",
    );
    assert!(
        m.starts_with("370725-changle-2020.toml: grid_division.household_cieling: 未知的键"),
        "{m}"
    );
    let m = refused(
        "existing_monthly_yuan = 600",
        "existing_monthly_yuan = 600\nbonus_yuan = 1",
    );
    assert!(
        m.contains("grid_subsidy.police_assistant.bonus_yuan: 未知的键"),
        "{m}"
    );
    let m = refused("[meta]", "[meta]\nfoo = 1");
    assert!(m.contains("meta.foo: 未知的键"), "{m}");
    let m = refused("[venues]", "[venue]\nx = 1\n[venues]");
    assert!(m.contains(": venue: 未知的键"), "{m}");
}

#[test]
fn overlapping_tier_is_named() {
    // The third tier with property management starts at 150, inside 100–200.
    let m = refused(
        "min_households = 200\nmax_households = 500",
        "min_households = 150\nmax_households = 500",
    );
    assert_eq!(
        m,
        "370725-changle-2020.toml: grid_subsidy.with_property_management.tiers[2].min_households: 与上一档重叠：下限 150 户小于上一档上限 200 户"
    );
}

#[test]
fn gapped_tier_is_named() {
    let m = refused(
        "min_households = 100\nmax_households = 200\nmonthly_yuan = 500",
        "min_households = 120\nmax_households = 200\nmonthly_yuan = 500",
    );
    assert_eq!(
        m,
        "370725-changle-2020.toml: grid_subsidy.without_property_management.tiers[2].min_households: 与上一档之间有空档：100 户至 120 户没有对应的补贴标准"
    );
    // The two-worker rule must start where the last tier with property management ends.
    let m = refused(
        "min_households = 1000\nworkers = 2",
        "min_households = 1200\nworkers = 2",
    );
    assert!(
        m.contains("grid_subsidy.two_workers.min_households: 与 grid_subsidy.with_property_management 最后一档之间有空档：1000 户至 1200 户"),
        "{m}"
    );
}

#[test]
fn negative_amount_is_named() {
    let m = refused("monthly_yuan = 600\n", "monthly_yuan = -600\n");
    assert_eq!(
        m,
        "370725-changle-2020.toml: grid_subsidy.without_property_management.tiers[3].monthly_yuan: 不能为负数，现为 -600"
    );
    let m = refused(
        "equipment_per_grid_yuan = 5000",
        "equipment_per_grid_yuan = -5000",
    );
    assert!(
        m.contains("grid_subsidy.equipment_per_grid_yuan: 不能为负数"),
        "{m}"
    );
}

#[test]
fn floor_above_ceiling_is_named() {
    let m = refused("household_floor = 500\n", "household_floor = 700\n");
    assert!(
        m.contains(
            "grid_division.household_ceiling: 下限 700（grid_division.household_floor）大于上限 600"
        ),
        "{m}"
    );
}

#[test]
fn wrong_types_and_values_are_named() {
    let m = refused("household_floor = 500\n", "household_floor = \"500\"\n");
    assert!(
        m.contains("grid_division.household_floor: 类型不对，应为整数"),
        "{m}"
    );
    let m = refused("boundary = \"upper_tier\"", "boundary = \"middle\"");
    assert!(
        m.contains("grid_subsidy.boundary: “middle”不是可选值"),
        "{m}"
    );
    let m = refused(
        "jurisdiction_code = \"370725\"",
        "jurisdiction_code = \"37072\"",
    );
    assert!(m.contains("meta.jurisdiction_code:"), "{m}");
    let m = refused("per_used = 400", "per_used = 350");
    assert!(
        m.contains(
            "community_staff.general_social_worker.per_used: 应等于 per_min（300）或 per_max（400）"
        ),
        "{m}"
    );
    let m = refused("[meta]", "[meta\n");
    assert!(m.contains("TOML 语法错误"), "{m}");
}

#[test]
fn every_error_is_reported() {
    let text = CHANGLE_2020
        .replacen("monthly_yuan = 600\n", "monthly_yuan = -1\n", 1)
        .replacen("grid_station_min_m2 = 15", "grid_station_min_m2 = -15", 1);
    let e = Policy::parse("x.toml", &text).unwrap_err();
    assert_eq!(e.0.len(), 2, "{e}");
}
