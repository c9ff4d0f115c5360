//! The policy file format: one TOML file per jurisdiction and effective date.
//!
//! Every section but `[meta]` is optional: a file carries only the numbers its source gives.
//! Unknown keys are refused (`deny_unknown_fields`); the semantic checks (tiers contiguous,
//! amounts non-negative, floor ≤ ceiling…) are in [`super::validate`]. Amounts in the file are
//! whole yuan (`*_yuan`), areas whole m², shares permille (`*_permille`) or basis points (`*_bp`);
//! the evaluation turns yuan into fen.

use serde::{Deserialize, Serialize};

use crate::code::CountyCode;
use crate::place::{CommunityKind, CompoundKind, Date, GridKind};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    /// Rules the source states "in principle" (原则上), by the key findings cite (e.g.
    /// `grid_division.household_ceiling`): breaking one is a notice (提示), not a violation
    /// (不符合). Only the keys in [`IN_PRINCIPLE_RULES`].
    #[serde(default)]
    pub in_principle: Vec<String>,
    pub meta: Meta,
    pub grid_division: Option<GridDivision>,
    pub grid_staffing: Option<GridStaffing>,
    pub grid_subsidy: Option<GridSubsidy>,
    pub community_money: Option<CommunityMoney>,
    pub community_staff: Option<CommunityStaff>,
    pub venues: Option<Venues>,
    /// The local monthly minimum wage by year: data of the jurisdiction, not of the rule.
    #[serde(default)]
    pub minimum_wage: Vec<MinimumWage>,
}

/// The rules that can be stated "in principle" ([`PolicyDoc::in_principle`]): every rule
/// whose breach is otherwise a violation.
pub const IN_PRINCIPLE_RULES: &[&str] = &[
    "grid_division.household_floor",
    "grid_division.household_ceiling",
    "grid_division.one_compound_one_grid",
    "grid_division.residents_group_is_grid",
    "grid_staffing.instructors_per_grid",
    "grid_staffing.leader_required",
    "grid_staffing.leader_if_households_at_least",
    "grid_staffing.min_staff_per_grid",
    "grid_staffing.police_assistant_held_by",
    "grid_subsidy.two_workers.workers",
    "community_staff.general_social_worker.per_used",
    "venues.service_centre_min_m2",
    "venues.service_hall_min_m2",
    "venues.grid_station_min_m2",
    "venues.required_rooms",
    "venues.new_compound_service_space.community_permille",
];

/// Whose policy, from when, from what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// GB/T 2260 code of the county or district.
    pub jurisdiction_code: CountyCode,
    pub jurisdiction_name: String,
    pub effective_from: Date,
    /// The document(s) the numbers are taken from.
    pub source: String,
    pub title: Option<String>,
}

/// 网格划分.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridDivision {
    /// The household band of a grid (网格规模).
    pub household_floor: i64,
    pub household_ceiling: i64,
    /// The kinds of grid the band applies to.
    #[serde(default = "all_grid_kinds")]
    pub band_grid_kinds: Vec<GridKind>,
    /// 一个小区划分一个网格，不再拆分.
    #[serde(default)]
    pub one_compound_one_grid: bool,
    /// Choice: a grid that is one compound over the ceiling is only a notice (the compound
    /// cannot be split), not a violation.
    #[serde(default)]
    pub oversized_single_compound_allowed: bool,
    /// 户数少的小区可以多个小区划为一个网格.
    #[serde(default)]
    pub merge_small_compounds: bool,
    /// 涉农社区以居民小组为一个网格: a rural grid is exactly one residents' group.
    #[serde(default)]
    pub residents_group_is_grid: bool,
    /// Recorded, not evaluated: the "about 500–1000 households a unit" of a layout adjustment.
    pub layout_unit_floor: Option<i64>,
    pub layout_unit_ceiling: Option<i64>,
}

impl GridDivision {
    /// Whether a compound of this kind is a grid of its own whatever its households, so that
    /// grid planning must neither merge it with others nor hold it to the band: under
    /// [`GridDivision::residents_group_is_grid`], each residents' group (居民小组) is one
    /// (rural) grid.
    pub fn makes_own_grid(&self, kind: CompoundKind) -> bool {
        self.residents_group_is_grid && kind == CompoundKind::ResidentsGroup
    }

    /// The positions of the compounds, given by their kind as typed (the key or the Chinese
    /// label; none, or one that is not a compound kind, is an ordinary compound), that are
    /// grids of their own ([`GridDivision::makes_own_grid`]).
    pub fn own_grids<'a>(&self, kinds: impl IntoIterator<Item = Option<&'a str>>) -> Vec<usize> {
        kinds
            .into_iter()
            .enumerate()
            .filter(|(_, k)| {
                k.and_then(|k| CompoundKind::parse(k).ok())
                    .is_some_and(|k| self.makes_own_grid(k))
            })
            .map(|(i, _)| i)
            .collect()
    }
}

fn all_grid_kinds() -> Vec<GridKind> {
    vec![GridKind::Urban, GridKind::Rural]
}

fn all_community_kinds() -> Vec<CommunityKind> {
    vec![CommunityKind::Urban, CommunityKind::ConvertedVillage]
}

/// Roles a police assistant may be held together with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderRole {
    GridLeader,
    GridWorker,
}

/// 网格人员配备.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridStaffing {
    /// Grid instructors (street cadres) a grid has.
    pub instructors_per_grid: Option<i64>,
    /// Grid workers a compound has in principle.
    pub workers_per_compound: Option<i64>,
    /// Minimum grid staff (leader excluded) a grid has (魏都 2013 "长四员").
    pub min_staff_per_grid: Option<i64>,
    /// Every grid has a grid leader.
    #[serde(default)]
    pub leader_required: bool,
    /// A grid may have a leader if any of these holds; none given means always.
    pub leader_if_households_at_least: Option<i64>,
    pub leader_if_workers_more_than: Option<i64>,
    pub leader_if_compounds_at_least: Option<i64>,
    /// The roles that may hold the police assistant's post; empty means any.
    #[serde(default)]
    pub police_assistant_held_by: Vec<HolderRole>,
}

/// Which tier a household count on a stated boundary belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryRule {
    /// 100 in "100户以下、100-200户" is in "100–200": tiers are [min, max).
    UpperTier,
    /// 100 is in "100户以下": tiers are (min, max].
    LowerTier,
}

/// When an assignment makes a month paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthRule {
    /// The role is held on at least one day of the month.
    AnyDay,
    /// The role is held on every day of the month.
    WholeMonth,
}

/// 网格工作人员补贴.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSubsidy {
    /// The kinds of grid the subsidies and equipment are budgeted for.
    #[serde(default = "all_grid_kinds")]
    pub grid_kinds: Vec<GridKind>,
    pub boundary: BoundaryRule,
    pub month_paid_if: MonthRule,
    /// 每个网格配备办公设施设备费用.
    pub equipment_per_grid_yuan: Option<i64>,
    /// The equipment is bought once (配备), in the year the grid is set up — for grids set up
    /// before the policy, the year it takes effect — not every year.
    #[serde(default)]
    pub equipment_once: bool,
    pub without_property_management: Option<TierTable>,
    pub with_property_management: Option<TierTable>,
    pub two_workers: Option<TwoWorkers>,
    pub police_assistant: Option<PoliceAssistant>,
    /// A grid leader who is not police assistant; absent: paid as a grid worker of the grid.
    pub leader_monthly_yuan: Option<i64>,
}

/// Monthly subsidy tiers by households.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierTable {
    pub tiers: Vec<SubsidyTier>,
}

/// One tier: households from `min_households` (absent: 0) to `max_households` (absent: no
/// bound), as the source states them; [`BoundaryRule`] says where the shared ends go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubsidyTier {
    pub min_households: Option<i64>,
    pub max_households: Option<i64>,
    pub monthly_yuan: i64,
}

/// "1000户以上配备2名网格员给予每人每月500元的补助".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoWorkers {
    pub min_households: i64,
    pub workers: i64,
    pub monthly_yuan_each: i64,
    /// Choice: whether compounds without property management are covered too.
    pub applies_without_property_management: bool,
}

/// 网格警务助理.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoliceAssistant {
    /// 网格长兼任警务助理.
    pub leader_monthly_yuan: i64,
    /// 网格员兼任警务助理: the worker's subsidy plus this…
    pub worker_supplement_yuan: i64,
    /// …kept within this range when `clamp_worker_to_range`.
    pub worker_min_yuan: Option<i64>,
    pub worker_max_yuan: Option<i64>,
    #[serde(default)]
    pub clamp_worker_to_range: bool,
    /// 原有社区警务助理薪酬.
    pub existing_monthly_yuan: Option<i64>,
    /// Choice: an existing assistant is paid that amount and nothing else.
    #[serde(default)]
    pub existing_paid_fixed: bool,
}

/// Funds of communities and of the county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityMoney {
    #[serde(default)]
    pub funds: Vec<CommunityFund>,
    #[serde(default)]
    pub county_funds: Vec<CountyFund>,
}

/// A yearly fund paid to each community of the given kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityFund {
    pub name: String,
    pub per_household_yuan: Option<i64>,
    pub per_community_yuan: Option<i64>,
    #[serde(default = "all_community_kinds")]
    pub community_kinds: Vec<CommunityKind>,
}

/// A yearly fund of the county for a number of years.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountyFund {
    pub name: String,
    pub yuan_per_year: i64,
    pub first_year: i32,
    pub years: i32,
}

/// What the general-social-worker ratio counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffingBasis {
    Households,
    Population,
}

/// Community staff: general social workers and the committee's subsidies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityStaff {
    pub general_social_worker: Option<GeneralSocialWorker>,
    pub committee_subsidy: Option<CommitteeSubsidy>,
}

/// "按照每300—400户/人的标准配备全科社工".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralSocialWorker {
    pub per_min: i64,
    pub per_max: i64,
    pub basis: StaffingBasis,
    /// Choice: the count needed is ⌈basis ÷ per_used⌉; must be `per_min` or `per_max`.
    pub per_used: i64,
    /// 社会招聘人员每人每年.
    pub yuan_per_worker_year: Option<i64>,
}

/// Committee members' subsidies as shares of the local monthly minimum wage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeSubsidy {
    pub head_bp: i64,
    pub deputy_bp: i64,
    pub member_bp: i64,
    #[serde(default = "all_community_kinds")]
    pub community_kinds: Vec<CommunityKind>,
}

/// The local monthly minimum wage of a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimumWage {
    pub year: i32,
    pub monthly_yuan: i64,
}

/// 服务场所.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Venues {
    pub service_centre_min_m2: Option<i64>,
    pub service_hall_min_m2: Option<i64>,
    pub grid_station_min_m2: Option<i64>,
    #[serde(default)]
    pub required_rooms: Vec<String>,
    /// The room scheme as the source names it (e.g. 一厅五室三站一校); recorded, not evaluated.
    pub room_scheme: Option<String>,
    pub demonstration_grids_min: Option<i64>,
    pub demonstration_grids_max: Option<i64>,
    pub new_compound_service_space: Option<NewCompoundSpace>,
}

/// "社区服务用房按照不小于建设项目住宅总建筑面积的7‰配置，且不低于600平方米…50%…50%".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCompoundSpace {
    pub permille_of_residential_area: i64,
    pub min_m2: i64,
    pub owners_committee_permille: i64,
    pub community_permille: i64,
}
