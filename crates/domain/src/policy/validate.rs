//! Checks a parsed file beyond its shape: amounts non-negative, bands and ranges ordered,
//! subsidy tiers contiguous (no overlap, no gap). Every error names its key path.

use super::format::*;

/// One semantic error: key path and message.
pub(crate) type KeyError = (String, String);

#[derive(Default)]
struct Checker {
    errors: Vec<KeyError>,
}

impl Checker {
    fn err(&mut self, key: impl Into<String>, msg: impl Into<String>) {
        self.errors.push((key.into(), msg.into()));
    }

    fn non_negative(&mut self, key: impl Into<String>, v: i64) {
        if v < 0 {
            self.err(key, format!("不能为负数，现为 {v}"));
        }
    }

    fn opt_non_negative(&mut self, key: impl Into<String>, v: Option<i64>) {
        if let Some(v) = v {
            self.non_negative(key, v);
        }
    }

    fn positive(&mut self, key: impl Into<String>, v: i64) {
        if v <= 0 {
            self.err(key, format!("应为正整数，现为 {v}"));
        }
    }

    fn not_empty(&mut self, key: impl Into<String>, s: &str) {
        if s.trim().is_empty() {
            self.err(key, "不能为空");
        }
    }

    /// `lo ≤ hi`, reported at `hi_key`.
    fn ordered(&mut self, lo_key: &str, lo: i64, hi_key: &str, hi: i64) {
        if lo > hi {
            self.err(
                hi_key,
                format!("下限 {lo}（{lo_key}）大于上限 {hi}（{hi_key}）"),
            );
        }
    }
}

pub(crate) fn check(doc: &PolicyDoc) -> Vec<KeyError> {
    let mut c = Checker::default();
    for (i, rule) in doc.in_principle.iter().enumerate() {
        if !IN_PRINCIPLE_RULES.contains(&rule.as_str()) {
            c.err(
                format!("in_principle[{i}]"),
                format!(
                    "“{rule}”不是可写作“原则上”的规则，可用：{}",
                    IN_PRINCIPLE_RULES.join("、")
                ),
            );
        } else if doc.in_principle[..i].contains(rule) {
            c.err(format!("in_principle[{i}]"), format!("“{rule}”重复"));
        }
    }
    c.not_empty("meta.jurisdiction_name", &doc.meta.jurisdiction_name);
    c.not_empty("meta.source", &doc.meta.source);

    if let Some(d) = &doc.grid_division {
        let k = "grid_division";
        c.non_negative(format!("{k}.household_floor"), d.household_floor);
        c.positive(format!("{k}.household_ceiling"), d.household_ceiling);
        c.ordered(
            &format!("{k}.household_floor"),
            d.household_floor,
            &format!("{k}.household_ceiling"),
            d.household_ceiling,
        );
        if d.band_grid_kinds.is_empty() {
            c.err(format!("{k}.band_grid_kinds"), "至少列出一种网格类型");
        }
        c.opt_non_negative(format!("{k}.layout_unit_floor"), d.layout_unit_floor);
        c.opt_non_negative(format!("{k}.layout_unit_ceiling"), d.layout_unit_ceiling);
        if let (Some(lo), Some(hi)) = (d.layout_unit_floor, d.layout_unit_ceiling) {
            c.ordered(
                &format!("{k}.layout_unit_floor"),
                lo,
                &format!("{k}.layout_unit_ceiling"),
                hi,
            );
        }
    }

    if let Some(s) = &doc.grid_staffing {
        let k = "grid_staffing";
        c.opt_non_negative(format!("{k}.instructors_per_grid"), s.instructors_per_grid);
        c.opt_non_negative(format!("{k}.workers_per_compound"), s.workers_per_compound);
        c.opt_non_negative(format!("{k}.min_staff_per_grid"), s.min_staff_per_grid);
        c.opt_non_negative(
            format!("{k}.leader_if_households_at_least"),
            s.leader_if_households_at_least,
        );
        c.opt_non_negative(
            format!("{k}.leader_if_workers_more_than"),
            s.leader_if_workers_more_than,
        );
        c.opt_non_negative(
            format!("{k}.leader_if_compounds_at_least"),
            s.leader_if_compounds_at_least,
        );
    }

    if let Some(s) = &doc.grid_subsidy {
        check_subsidy(&mut c, s);
    }

    if let Some(m) = &doc.community_money {
        for (i, f) in m.funds.iter().enumerate() {
            let k = format!("community_money.funds[{i}]");
            c.not_empty(format!("{k}.name"), &f.name);
            c.opt_non_negative(format!("{k}.per_household_yuan"), f.per_household_yuan);
            c.opt_non_negative(format!("{k}.per_community_yuan"), f.per_community_yuan);
            if f.per_household_yuan.is_none() && f.per_community_yuan.is_none() {
                c.err(
                    k.clone(),
                    "应给出 per_household_yuan 或 per_community_yuan 之一",
                );
            }
            if f.community_kinds.is_empty() {
                c.err(format!("{k}.community_kinds"), "至少列出一种社区类型");
            }
        }
        for (i, f) in m.county_funds.iter().enumerate() {
            let k = format!("community_money.county_funds[{i}]");
            c.not_empty(format!("{k}.name"), &f.name);
            c.non_negative(format!("{k}.yuan_per_year"), f.yuan_per_year);
            c.positive(format!("{k}.years"), i64::from(f.years));
        }
    }

    if let Some(s) = &doc.community_staff {
        if let Some(g) = &s.general_social_worker {
            let k = "community_staff.general_social_worker";
            c.positive(format!("{k}.per_min"), g.per_min);
            c.positive(format!("{k}.per_max"), g.per_max);
            c.ordered(
                &format!("{k}.per_min"),
                g.per_min,
                &format!("{k}.per_max"),
                g.per_max,
            );
            if g.per_used != g.per_min && g.per_used != g.per_max {
                c.err(
                    format!("{k}.per_used"),
                    format!(
                        "应等于 per_min（{}）或 per_max（{}），现为 {}",
                        g.per_min, g.per_max, g.per_used
                    ),
                );
            }
            c.opt_non_negative(format!("{k}.yuan_per_worker_year"), g.yuan_per_worker_year);
        }
        if let Some(cs) = &s.committee_subsidy {
            let k = "community_staff.committee_subsidy";
            c.non_negative(format!("{k}.head_bp"), cs.head_bp);
            c.non_negative(format!("{k}.deputy_bp"), cs.deputy_bp);
            c.non_negative(format!("{k}.member_bp"), cs.member_bp);
        }
    }

    for (i, w) in doc.minimum_wage.iter().enumerate() {
        let k = format!("minimum_wage[{i}]");
        c.non_negative(format!("{k}.monthly_yuan"), w.monthly_yuan);
        if doc.minimum_wage[..i].iter().any(|p| p.year == w.year) {
            c.err(format!("{k}.year"), format!("{} 年重复出现", w.year));
        }
    }

    if let Some(v) = &doc.venues {
        let k = "venues";
        c.opt_non_negative(
            format!("{k}.service_centre_min_m2"),
            v.service_centre_min_m2,
        );
        c.opt_non_negative(format!("{k}.service_hall_min_m2"), v.service_hall_min_m2);
        c.opt_non_negative(format!("{k}.grid_station_min_m2"), v.grid_station_min_m2);
        c.opt_non_negative(
            format!("{k}.demonstration_grids_min"),
            v.demonstration_grids_min,
        );
        c.opt_non_negative(
            format!("{k}.demonstration_grids_max"),
            v.demonstration_grids_max,
        );
        if let (Some(lo), Some(hi)) = (v.demonstration_grids_min, v.demonstration_grids_max) {
            c.ordered(
                &format!("{k}.demonstration_grids_min"),
                lo,
                &format!("{k}.demonstration_grids_max"),
                hi,
            );
        }
        for (i, r) in v.required_rooms.iter().enumerate() {
            c.not_empty(format!("{k}.required_rooms[{i}]"), r);
        }
        if let Some(n) = &v.new_compound_service_space {
            let k = "venues.new_compound_service_space";
            c.non_negative(
                format!("{k}.permille_of_residential_area"),
                n.permille_of_residential_area,
            );
            c.non_negative(format!("{k}.min_m2"), n.min_m2);
            c.non_negative(
                format!("{k}.owners_committee_permille"),
                n.owners_committee_permille,
            );
            c.non_negative(format!("{k}.community_permille"), n.community_permille);
            if n.owners_committee_permille + n.community_permille != 1000 {
                c.err(
                    format!("{k}.community_permille"),
                    format!(
                        "业主委员会与社区的份额之和应为 1000‰，现为 {}‰ + {}‰",
                        n.owners_committee_permille, n.community_permille
                    ),
                );
            }
        }
    }
    c.errors
}

fn check_subsidy(c: &mut Checker, s: &GridSubsidy) {
    let k = "grid_subsidy";
    if s.grid_kinds.is_empty() {
        c.err(format!("{k}.grid_kinds"), "至少列出一种网格类型");
    }
    c.opt_non_negative(
        format!("{k}.equipment_per_grid_yuan"),
        s.equipment_per_grid_yuan,
    );
    c.opt_non_negative(format!("{k}.leader_monthly_yuan"), s.leader_monthly_yuan);
    if let Some(t) = &s.two_workers {
        let k = "grid_subsidy.two_workers";
        c.positive(format!("{k}.min_households"), t.min_households);
        c.positive(format!("{k}.workers"), t.workers);
        c.non_negative(format!("{k}.monthly_yuan_each"), t.monthly_yuan_each);
    }
    for (name, table, covered_by_two) in [
        (
            "without_property_management",
            &s.without_property_management,
            s.two_workers
                .as_ref()
                .filter(|t| t.applies_without_property_management),
        ),
        (
            "with_property_management",
            &s.with_property_management,
            s.two_workers.as_ref(),
        ),
    ] {
        if let Some(t) = table {
            check_tiers(c, &format!("{k}.{name}"), t, covered_by_two);
        }
    }
    if let Some(p) = &s.police_assistant {
        let k = "grid_subsidy.police_assistant";
        c.non_negative(format!("{k}.leader_monthly_yuan"), p.leader_monthly_yuan);
        c.non_negative(
            format!("{k}.worker_supplement_yuan"),
            p.worker_supplement_yuan,
        );
        c.opt_non_negative(format!("{k}.worker_min_yuan"), p.worker_min_yuan);
        c.opt_non_negative(format!("{k}.worker_max_yuan"), p.worker_max_yuan);
        c.opt_non_negative(
            format!("{k}.existing_monthly_yuan"),
            p.existing_monthly_yuan,
        );
        if let (Some(lo), Some(hi)) = (p.worker_min_yuan, p.worker_max_yuan) {
            c.ordered(
                &format!("{k}.worker_min_yuan"),
                lo,
                &format!("{k}.worker_max_yuan"),
                hi,
            );
        }
        if p.clamp_worker_to_range && p.worker_min_yuan.is_none() && p.worker_max_yuan.is_none() {
            c.err(
                format!("{k}.clamp_worker_to_range"),
                "要求限定在范围内，但未给出 worker_min_yuan 或 worker_max_yuan",
            );
        }
        if p.existing_paid_fixed && p.existing_monthly_yuan.is_none() {
            c.err(
                format!("{k}.existing_paid_fixed"),
                "要求按固定薪酬发放，但未给出 existing_monthly_yuan",
            );
        }
    }
}

fn check_tiers(c: &mut Checker, k: &str, t: &TierTable, two: Option<&TwoWorkers>) {
    if t.tiers.is_empty() {
        c.err(format!("{k}.tiers"), "至少要有一档");
        return;
    }
    let mut prev_max: Option<i64> = None;
    let last = t.tiers.len() - 1;
    for (i, tier) in t.tiers.iter().enumerate() {
        let tk = format!("{k}.tiers[{i}]");
        c.non_negative(format!("{tk}.monthly_yuan"), tier.monthly_yuan);
        let min = tier.min_households.unwrap_or(0);
        if let Some(m) = tier.min_households {
            c.non_negative(format!("{tk}.min_households"), m);
        }
        if i > 0 {
            match (tier.min_households, prev_max) {
                (None, _) => c.err(
                    format!("{tk}.min_households"),
                    "除第一档外，每一档都要写明下限（应等于上一档的上限）",
                ),
                (Some(m), Some(p)) if m < p => c.err(
                    format!("{tk}.min_households"),
                    format!("与上一档重叠：下限 {m} 户小于上一档上限 {p} 户"),
                ),
                (Some(m), Some(p)) if m > p => c.err(
                    format!("{tk}.min_households"),
                    format!("与上一档之间有空档：{p} 户至 {m} 户没有对应的补贴标准"),
                ),
                _ => {}
            }
        }
        match tier.max_households {
            Some(m) if m <= min => c.err(
                format!("{tk}.max_households"),
                format!("上限 {m} 户应大于下限 {min} 户"),
            ),
            None if i < last => c.err(format!("{tk}.max_households"), "只有最后一档可以不写上限"),
            _ => {}
        }
        // An open tier before the last one was reported; carry its lower bound on so that
        // the next tier is not reported twice.
        prev_max = Some(tier.max_households.unwrap_or(min));
    }
    let tail = &t.tiers[last];
    let tail_key = format!("{k}.tiers[{last}].max_households");
    match (tail.max_households, two) {
        (None, None) => {}
        (None, Some(tw)) => c.err(
            "grid_subsidy.two_workers.min_households",
            format!(
                "与 {k} 最后一档（不设上限）重叠：{} 户以上两处都有补贴标准",
                tw.min_households
            ),
        ),
        (Some(m), None) => c.err(
            tail_key,
            format!("最后一档上限为 {m} 户，超过 {m} 户的没有对应的补贴标准"),
        ),
        (Some(m), Some(tw)) if tw.min_households < m => c.err(
            "grid_subsidy.two_workers.min_households",
            format!(
                "与 {k} 最后一档重叠：下限 {} 户小于该档上限 {m} 户",
                tw.min_households
            ),
        ),
        (Some(m), Some(tw)) if tw.min_households > m => c.err(
            "grid_subsidy.two_workers.min_households",
            format!(
                "与 {k} 最后一档之间有空档：{m} 户至 {} 户没有对应的补贴标准",
                tw.min_households
            ),
        ),
        _ => {}
    }
}
