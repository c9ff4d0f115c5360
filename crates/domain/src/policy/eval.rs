//! Evaluation: registry snapshot + policy + year → budgets and findings. Pure and
//! deterministic: the same inputs give the same output, in the snapshot's order. Money is
//! integer fen throughout; every total is the sum of the lines below it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::format::{GridSubsidy, MonthRule, StaffingBasis};
use super::input::*;
use super::{FEN_PER_YUAN, Policy};
use crate::place::{CommunityKind, CompoundKind, Date, GridKind, Tier};

/// Everything the policy makes of the registry in one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub policy_file: String,
    pub jurisdiction_code: String,
    pub jurisdiction_name: String,
    pub effective_from: Date,
    pub year: i32,
    pub county_code: String,
    pub county_name: String,
    /// Grid-staff subsidies and equipment of the county: the sum of its streets.
    pub subsidy: SubsidyTotals,
    /// The equipment is paid once, in the year a grid is set up (`equipment_once`).
    pub equipment_once: bool,
    /// Community money and staff of the county: the sum of its streets.
    pub money: MoneyTotals,
    /// County-level funds paid in the year (not split between communities).
    pub county_funds: Vec<FundLine>,
    pub streets: Vec<StreetBudget>,
    pub findings: Vec<Finding>,
}

/// Grid-staff subsidies of a grid, or summed over a community, street or county.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubsidyTotals {
    /// Grids budgeted (of the kinds the policy's subsidies cover).
    pub grids: i64,
    /// Grid staff paid (person-posts: a person in two grids counts twice).
    pub staff: i64,
    /// 办公设施设备费用: what equipping the grids costs (附件4's column, every grid).
    pub equipment_fen: i64,
    /// The part of `equipment_fen` paid in the year: all of it, or, when the equipment is
    /// bought once (`equipment_once`), that of the grids set up in the year.
    pub equipment_due_fen: i64,
    /// Subsidies of each month, January first.
    pub monthly_fen: [i64; 12],
    /// Subsidies of the year: the sum of `monthly_fen`.
    pub year_fen: i64,
    /// Existing community police assistants among the staff, and their part of `year_fen`
    /// (spending that was already in the budget before the policy).
    pub existing_assistants: i64,
    pub existing_assistants_fen: i64,
    /// `year_fen − existing_assistants_fen`: the real increase of spending.
    pub increase_fen: i64,
}

impl SubsidyTotals {
    fn add(&mut self, o: &SubsidyTotals) {
        self.grids += o.grids;
        self.staff += o.staff;
        self.equipment_fen += o.equipment_fen;
        self.equipment_due_fen += o.equipment_due_fen;
        for (a, b) in self.monthly_fen.iter_mut().zip(o.monthly_fen) {
            *a += b;
        }
        self.year_fen += o.year_fen;
        self.existing_assistants += o.existing_assistants;
        self.existing_assistants_fen += o.existing_assistants_fen;
        self.increase_fen += o.increase_fen;
    }
}

/// Community money and staff, of a community or summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MoneyTotals {
    /// The community funds of the year.
    pub funds_fen: i64,
    pub social_workers_needed: i64,
    pub social_workers_present: i64,
    /// Cost of the workers present, and of the workers needed, for the year.
    pub social_workers_cost_fen: i64,
    pub social_workers_needed_cost_fen: i64,
    /// Committee subsidies tied to the minimum wage, for the year.
    pub committee_fen: i64,
}

impl MoneyTotals {
    fn add(&mut self, o: &MoneyTotals) {
        self.funds_fen += o.funds_fen;
        self.social_workers_needed += o.social_workers_needed;
        self.social_workers_present += o.social_workers_present;
        self.social_workers_cost_fen += o.social_workers_cost_fen;
        self.social_workers_needed_cost_fen += o.social_workers_needed_cost_fen;
        self.committee_fen += o.committee_fen;
    }
}

/// One fund paid, and the rule that pays it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FundLine {
    pub name: String,
    /// The rule that pays it, as a path into the policy file.
    pub rule: String,
    /// How the amount is reached, in words (每户 3 元 × 1,200 户).
    pub basis: String,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreetBudget {
    pub code: String,
    pub name: String,
    pub subsidy: SubsidyTotals,
    pub money: MoneyTotals,
    pub communities: Vec<CommunityBudget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityBudget {
    pub code: String,
    pub name: String,
    pub kind: CommunityKind,
    pub tier: Option<Tier>,
    pub households: i64,
    pub subsidy: SubsidyTotals,
    pub money: MoneyTotals,
    pub funds: Vec<FundLine>,
    /// Street staff sent down to the community in the year (persons).
    pub staff_sent_down: i64,
    pub grids: Vec<GridBudget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridBudget {
    pub code: String,
    pub name: String,
    pub kind: GridKind,
    pub tier: Option<Tier>,
    pub households: i64,
    /// Retired during the year: only its staff's months there are counted.
    pub retired_on: Option<Date>,
    /// Whether the policy's subsidies cover this kind of grid.
    pub budgeted: bool,
    pub subsidy: SubsidyTotals,
    pub persons: Vec<PersonSubsidy>,
}

/// One person's subsidy at one grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonSubsidy {
    pub person_id: String,
    pub person_name: String,
    /// The roles held at the grid during the year.
    pub roles: Vec<StaffRole>,
    pub monthly_fen: [i64; 12],
    pub year_fen: i64,
    /// Months paid.
    pub months: i64,
    /// The key paths of the rules that set the amounts.
    pub rules: Vec<String>,
    /// What decided the tier, in words (e.g. “小区 蓝宝石花园：无物业，350 户”).
    pub basis: Option<String>,
    pub existing_assistant: bool,
    /// Part of `year_fen` that is an existing assistant's pay.
    pub existing_assistant_fen: i64,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A rule the source states as a minimum, maximum or requirement is broken.
    Violation,
    /// A rule stated "in principle" (原则上), a recommendation, or a data problem.
    Notice,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Violation => "不符合",
            Severity::Notice => "提示",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    GridOverCeiling,
    GridUnderFloor,
    SmallGridsMergeable,
    CompoundSplit,
    RuralGridNotOneGroup,
    InstructorsShort,
    WorkersShort,
    WorkersOver,
    StaffShort,
    LeaderMissing,
    LeaderNotAllowed,
    PoliceAssistantNotHeld,
    SocialWorkersShort,
    ServiceCentreTooSmall,
    ServiceHallTooSmall,
    RoomMissing,
    GridStationTooSmall,
    NewCompoundSpaceShort,
    NewCompoundCommunityShareShort,
    DemonstrationGridsOutOfRange,
    MinimumWageMissing,
    PolicyNotInForce,
    DataInconsistent,
}

impl FindingKind {
    pub fn label(self) -> &'static str {
        use FindingKind::*;
        match self {
            GridOverCeiling => "网格户数超过上限",
            GridUnderFloor => "网格户数低于下限",
            SmallGridsMergeable => "小网格可合并",
            CompoundSplit => "小区被拆分到多个网格",
            RuralGridNotOneGroup => "农村网格不是一个居民小组",
            InstructorsShort => "网格指导员不足",
            WorkersShort => "网格员不足",
            WorkersOver => "网格员多于规定",
            StaffShort => "网格工作人员不足",
            LeaderMissing => "未设网格长",
            LeaderNotAllowed => "不符合设网格长的条件",
            PoliceAssistantNotHeld => "警务助理未由网格长或网格员兼任",
            SocialWorkersShort => "全科社工不足",
            ServiceCentreTooSmall => "社区服务中心面积不足",
            ServiceHallTooSmall => "便民服务大厅面积不足",
            RoomMissing => "缺少功能用房",
            GridStationTooSmall => "网格服务站面积不足",
            NewCompoundSpaceShort => "新建小区社区服务用房不足",
            NewCompoundCommunityShareShort => "新建小区交社区使用的服务用房不足",
            DemonstrationGridsOutOfRange => "示范网格数量不在规定范围",
            MinimumWageMissing => "缺少当年最低工资标准",
            PolicyNotInForce => "政策当年尚未施行",
            DataInconsistent => "数据不一致",
        }
    }
}

/// A rule broken (or to look at), where, with its numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    /// Key path in the policy file of the rule (empty for data problems).
    pub rule: String,
    pub street: Option<String>,
    pub community: Option<String>,
    pub grid: Option<String>,
    pub compound: Option<String>,
    /// Where, in words: 宝都街道 / 南苑社区 / 南苑小区网格.
    pub place: String,
    /// The number found and the limit it is measured against, where there are numbers.
    pub actual: Option<i64>,
    pub limit: Option<i64>,
    pub message: String,
}

/// Where a finding is, while walking the tree.
#[derive(Clone, Default)]
struct At {
    street: Option<(String, String)>,
    community: Option<(String, String)>,
    grid: Option<(String, String)>,
}

impl At {
    fn place(&self) -> String {
        [&self.street, &self.community, &self.grid]
            .iter()
            .filter_map(|x| x.as_ref().map(|(_, n)| n.as_str()))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

struct Out {
    findings: Vec<Finding>,
    /// The policy's rules stated "in principle": their violations are notices.
    in_principle: Vec<String>,
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        at: &At,
        severity: Severity,
        kind: FindingKind,
        rule: &str,
        compound: Option<&str>,
        actual: Option<i64>,
        limit: Option<i64>,
        mut message: String,
    ) {
        let mut severity = severity;
        if severity == Severity::Violation
            && self.in_principle.iter().any(|r| {
                rule.strip_prefix(r.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
            })
        {
            severity = Severity::Notice;
            message.push_str("（政策原文为“原则上”，列为提示）");
        }
        self.findings.push(Finding {
            severity,
            kind,
            rule: rule.to_string(),
            street: at.street.as_ref().map(|x| x.0.clone()),
            community: at.community.as_ref().map(|x| x.0.clone()),
            grid: at.grid.as_ref().map(|x| x.0.clone()),
            compound: compound.map(str::to_string),
            place: at.place(),
            actual,
            limit,
            message,
        });
    }
}

/// The first and last day of a month.
fn month_bounds(year: i32, month: u8) -> (Date, Date) {
    let first = Date::new(year, month, 1).expect("valid month");
    let last = (28..=31)
        .rev()
        .find_map(|d| Date::new(year, month, d))
        .expect("a month has 28 days");
    (first, last)
}

fn active_in(a: &Assignment, first: Date, last: Date, rule: MonthRule) -> bool {
    let ends_after = |d: Date| a.to.is_none_or(|t| t >= d);
    match rule {
        MonthRule::AnyDay => a.from <= last && ends_after(first),
        MonthRule::WholeMonth => a.from <= first && ends_after(last),
    }
}

/// Where each person's grid posts were in the year. A person moved to another grid (a plan
/// adopted with staff following, a transfer) is one person: paid once a month, at the grid
/// posted to most recently among those held that month, and counted once, at the grid posted
/// to most recently in the year.
struct Owners<'a> {
    by_person: BTreeMap<&'a str, Vec<&'a Assignment>>,
}

impl<'a> Owners<'a> {
    fn new(assignments: impl Iterator<Item = &'a Assignment>) -> Owners<'a> {
        let mut by_person: BTreeMap<&str, Vec<&Assignment>> = BTreeMap::new();
        for a in assignments.filter(|a| a.role.is_grid_staff() && matches!(a.post, Post::Grid(_))) {
            by_person.entry(a.person_id.as_str()).or_default().push(a);
        }
        Owners { by_person }
    }

    /// The grid of the latest posting among those `held`.
    fn latest(&self, person: &str, held: impl Fn(&Assignment) -> bool) -> Option<&'a Post> {
        self.by_person
            .get(person)?
            .iter()
            .filter(|a| held(a))
            .max_by_key(|a| (a.from, a.to.is_none(), a.to))
            .map(|a| &a.post)
    }

    fn paid_at(&self, person: &str, grid: &Post, first: Date, last: Date, rule: MonthRule) -> bool {
        self.latest(person, |a| active_in(a, first, last, rule))
            .is_none_or(|p| p == grid)
    }

    fn counted_at(&self, person: &str, grid: &Post, year: i32) -> bool {
        self.latest(person, |a| active_in_year(a, year))
            .is_none_or(|p| p == grid)
    }
}

fn active_in_year(a: &Assignment, year: i32) -> bool {
    let (first, _) = month_bounds(year, 1);
    let (_, last) = month_bounds(year, 12);
    active_in(a, first, last, MonthRule::AnyDay)
}

fn ceil_div(a: i64, b: i64) -> i64 {
    if b <= 0 { 0 } else { (a + b - 1).div_euclid(b) }
}

/// `amount × bp / 10000`, rounded half up (amounts non-negative).
fn share_bp(amount_fen: i64, bp: i64) -> i64 {
    (amount_fen * bp + 5_000).div_euclid(10_000)
}

fn yuan(y: i64) -> i64 {
    y * FEN_PER_YUAN
}

/// Evaluates `policy` over `snapshot` for `year`.
pub fn evaluate(policy: &Policy, snapshot: &Snapshot, year: i32) -> Evaluation {
    let doc = policy.doc();
    let mut out = Out {
        findings: Vec::new(),
        in_principle: doc.in_principle.clone(),
    };

    // Assignments in force in the year, by post, in snapshot order.
    let mut by_post: BTreeMap<&Post, Vec<&Assignment>> = BTreeMap::new();
    for a in snapshot
        .assignments
        .iter()
        .filter(|a| active_in_year(a, year))
    {
        by_post.entry(&a.post).or_default().push(a);
    }
    let mut known_posts: BTreeSet<Post> = BTreeSet::new();
    let owners = Owners::new(by_post.values().flatten().copied());
    // When each existing police assistant first took that post, wherever: one who followed
    // his households into a redrawn grid has a new row from that day, not a new start.
    let mut first_existing: BTreeMap<&str, Date> = BTreeMap::new();
    for a in snapshot
        .assignments
        .iter()
        .filter(|a| a.role == StaffRole::ExistingPoliceAssistant)
    {
        let first = first_existing.entry(a.person_id.as_str()).or_insert(a.from);
        *first = (*first).min(a.from);
    }

    // Compound id → grids it appears in (for the split rule).
    let mut compound_grids: BTreeMap<&str, Vec<(At, &str)>> = BTreeMap::new();

    let mut streets = Vec::new();
    let mut county_subsidy = SubsidyTotals::default();
    let mut county_money = MoneyTotals::default();
    let mut demonstration_grids = 0i64;

    for st in &snapshot.streets {
        let at_s = At {
            street: Some((st.code.clone(), st.name.clone())),
            ..At::default()
        };
        let mut s_sub = SubsidyTotals::default();
        let mut s_money = MoneyTotals::default();
        let mut communities = Vec::new();
        for c in &st.communities {
            let at_c = At {
                community: Some((c.code.clone(), c.name.clone())),
                ..at_s.clone()
            };
            known_posts.insert(Post::Community(c.code.clone()));
            let mut c_sub = SubsidyTotals::default();
            let mut grids = Vec::new();
            for g in &c.grids {
                let at_g = At {
                    grid: Some((g.code.clone(), g.name.clone())),
                    ..at_c.clone()
                };
                let post = Post::Grid(g.code.clone());
                let staff: Vec<&Assignment> = by_post.get(&post).cloned().unwrap_or_default();
                known_posts.insert(post);
                if g.retired_on.is_none() {
                    if g.tier == Some(Tier::Demonstration) {
                        demonstration_grids += 1;
                    }
                    for cp in &g.compounds {
                        compound_grids
                            .entry(cp.id.as_str())
                            .or_default()
                            .push((at_g.clone(), cp.name.as_str()));
                    }
                    grid_findings(policy, g, &staff, &first_existing, &at_g, &mut out);
                }
                grids.push(grid_budget(
                    policy, g, &staff, &owners, year, &at_g, &mut out,
                ));
            }
            equipment_handed_on(policy, year, &c.grids, &mut grids);
            for gb in &grids {
                c_sub.add(&gb.subsidy);
            }
            mergeable_findings(policy, c, &at_c, &mut out);
            let c_staff: Vec<&Assignment> = by_post
                .get(&Post::Community(c.code.clone()))
                .cloned()
                .unwrap_or_default();
            let (money, funds) = community_money(policy, c, year, &at_c, &mut out);
            community_findings(policy, c, &at_c, &mut out);
            let sent_down: BTreeSet<&str> = c_staff
                .iter()
                .filter(|a| a.role == StaffRole::StaffSentDown)
                .map(|a| a.person_id.as_str())
                .collect();
            s_sub.add(&c_sub);
            s_money.add(&money);
            communities.push(CommunityBudget {
                code: c.code.clone(),
                name: c.name.clone(),
                kind: c.kind,
                tier: c.tier,
                households: c.households,
                subsidy: c_sub,
                money,
                funds,
                staff_sent_down: sent_down.len() as i64,
                grids,
            });
        }
        county_subsidy.add(&s_sub);
        county_money.add(&s_money);
        streets.push(StreetBudget {
            code: st.code.clone(),
            name: st.name.clone(),
            subsidy: s_sub,
            money: s_money,
            communities,
        });
    }

    // A compound in more than one grid.
    if doc
        .grid_division
        .as_ref()
        .is_some_and(|d| d.one_compound_one_grid)
    {
        for (id, places) in &compound_grids {
            if places.len() > 1 {
                let names: Vec<String> = places.iter().map(|(at, _)| at.place()).collect();
                let (at, name) = &places[0];
                let at = At {
                    grid: None,
                    ..at.clone()
                };
                out.push(
                    &at,
                    Severity::Violation,
                    FindingKind::CompoundSplit,
                    "grid_division.one_compound_one_grid",
                    Some(id),
                    Some(places.len() as i64),
                    Some(1),
                    format!(
                        "小区“{name}”被拆分到 {} 个网格（{}），应一个小区一个网格、不再拆分",
                        places.len(),
                        names.join("；")
                    ),
                );
            }
        }
    }

    // Assignments to posts the snapshot does not hold.
    for (post, list) in &by_post {
        if !known_posts.contains(*post) {
            let (what, code) = match post {
                Post::Grid(c) => ("网格", c),
                Post::Community(c) => ("社区", c),
            };
            let people: BTreeSet<&str> = list.iter().map(|a| a.person_name.as_str()).collect();
            out.push(
                &At::default(),
                Severity::Notice,
                FindingKind::DataInconsistent,
                "",
                None,
                Some(list.len() as i64),
                None,
                format!(
                    "{} 条任职记录指向不存在的{what}“{code}”（{}），未计入",
                    list.len(),
                    people.into_iter().collect::<Vec<_>>().join("、")
                ),
            );
        }
    }

    if year < policy.effective_from().year() {
        out.push(
            &At::default(),
            Severity::Notice,
            FindingKind::PolicyNotInForce,
            "meta.effective_from",
            None,
            Some(i64::from(year)),
            Some(i64::from(policy.effective_from().year())),
            format!(
                "{} 自 {} 起施行，{year} 年尚未施行",
                policy.file(),
                policy.effective_from()
            ),
        );
    }

    // County-level rules, on the whole county only.
    if let Some(v) = doc.venues.as_ref().filter(|_| !snapshot.partial) {
        let lo = v.demonstration_grids_min;
        let hi = v.demonstration_grids_max;
        let n = demonstration_grids;
        if lo.is_some_and(|lo| n < lo) || hi.is_some_and(|hi| n > hi) {
            let (rule, limit) = if lo.is_some_and(|lo| n < lo) {
                ("venues.demonstration_grids_min", lo)
            } else {
                ("venues.demonstration_grids_max", hi)
            };
            out.push(
                &At::default(),
                Severity::Notice,
                FindingKind::DemonstrationGridsOutOfRange,
                rule,
                None,
                Some(n),
                limit,
                format!(
                    "全县示范网格 {n} 个，规定重点打造 {}—{} 个",
                    lo.map_or("…".into(), |x| x.to_string()),
                    hi.map_or("…".into(), |x| x.to_string())
                ),
            );
        }
    }
    let county_funds = doc
        .community_money
        .iter()
        .flat_map(|m| m.county_funds.iter().enumerate())
        .filter(|(_, f)| year >= f.first_year && year < f.first_year + f.years)
        .map(|(i, f)| FundLine {
            name: f.name.clone(),
            rule: format!("community_money.county_funds[{i}].yuan_per_year"),
            basis: format!(
                "每年 {} 元（{}—{} 年）",
                f.yuan_per_year,
                f.first_year,
                f.first_year + f.years - 1
            ),
            amount_fen: yuan(f.yuan_per_year),
        })
        .collect();
    if let Some(cs) = doc
        .community_staff
        .as_ref()
        .and_then(|s| s.committee_subsidy.as_ref())
        && !doc.minimum_wage.iter().any(|w| w.year == year)
        && snapshot.streets.iter().any(|s| {
            s.communities
                .iter()
                .any(|c| c.committee.is_some() && cs.community_kinds.contains(&c.kind))
        })
    {
        out.push(
            &At::default(),
            Severity::Notice,
            FindingKind::MinimumWageMissing,
            "minimum_wage",
            None,
            None,
            None,
            format!("政策文件没有 {year} 年当地最低工资标准，无法计算社区工作人员补贴"),
        );
    }

    Evaluation {
        policy_file: policy.file().to_string(),
        jurisdiction_code: policy.jurisdiction_code().to_string(),
        jurisdiction_name: policy.jurisdiction_name().to_string(),
        effective_from: policy.effective_from(),
        year,
        county_code: snapshot.county_code.clone(),
        county_name: snapshot.county_name.clone(),
        subsidy: county_subsidy,
        equipment_once: policy
            .doc()
            .grid_subsidy
            .as_ref()
            .is_some_and(|s| s.equipment_once),
        money: county_money,
        county_funds,
        streets,
        findings: out.findings,
    }
}

/// The roles a person holds at a grid in a month.
#[derive(Default, Clone, Copy)]
struct Held {
    leader: bool,
    worker: bool,
    assistant: bool,
    existing: bool,
}

/// What a worker's tier is measured on: a compound, or the whole grid.
fn worker_basis<'g>(
    g: &'g SnapshotGrid,
    compound_id: Option<&str>,
) -> (i64, bool, String, Option<&'g SnapshotCompound>) {
    let found = compound_id
        .and_then(|id| g.compounds.iter().find(|c| c.id == id))
        .or(if g.compounds.len() == 1 {
            g.compounds.first()
        } else {
            None
        });
    match found {
        Some(c) => (
            c.households,
            c.has_property_management,
            format!(
                "小区“{}”：{}，{} 户",
                c.name,
                if c.has_property_management {
                    "有物业"
                } else {
                    "无物业"
                },
                c.households
            ),
            Some(c),
        ),
        None => {
            let pm =
                !g.compounds.is_empty() && g.compounds.iter().all(|c| c.has_property_management);
            (
                g.households,
                pm,
                format!(
                    "网格整体：{}，{} 户",
                    if pm { "有物业" } else { "无物业" },
                    g.households
                ),
                None,
            )
        }
    }
}

/// One person's monthly amount at a grid, the rule, and the existing assistant's part.
fn monthly_amount(
    policy: &Policy,
    s: &GridSubsidy,
    g: &SnapshotGrid,
    held: Held,
    compound_id: Option<&str>,
) -> (i64, Option<String>, Option<String>, i64) {
    let pa = s.police_assistant.as_ref();
    if held.existing
        && let Some(p) = pa.filter(|p| p.existing_paid_fixed)
    {
        let amt = yuan(p.existing_monthly_yuan.unwrap_or(0));
        return (
            amt,
            Some("grid_subsidy.police_assistant.existing_monthly_yuan".into()),
            None,
            amt,
        );
    }
    let assistant = held.assistant || held.existing;
    let existing_part = |amt: i64| {
        if held.existing {
            pa.and_then(|p| p.existing_monthly_yuan)
                .map_or(0, |e| yuan(e).min(amt))
        } else {
            0
        }
    };
    if held.leader
        && assistant
        && let Some(p) = pa
    {
        let amt = yuan(p.leader_monthly_yuan);
        return (
            amt,
            Some("grid_subsidy.police_assistant.leader_monthly_yuan".into()),
            None,
            existing_part(amt),
        );
    }
    let tier = |cid: Option<&str>| {
        let (h, pm, basis, _) = worker_basis(g, cid);
        policy.worker_tier(pm, h).map(|t| (t, basis))
    };
    if held.worker {
        let Some((t, basis)) = tier(compound_id) else {
            return (0, None, None, 0);
        };
        if assistant && let Some(p) = pa {
            let mut amt = t.monthly_fen + yuan(p.worker_supplement_yuan);
            if p.clamp_worker_to_range {
                if let Some(lo) = p.worker_min_yuan {
                    amt = amt.max(yuan(lo));
                }
                if let Some(hi) = p.worker_max_yuan {
                    amt = amt.min(yuan(hi));
                }
            }
            return (
                amt,
                Some(format!(
                    "{} + grid_subsidy.police_assistant.worker_supplement_yuan",
                    t.rule
                )),
                Some(basis),
                existing_part(amt),
            );
        }
        return (t.monthly_fen, Some(t.rule), Some(basis), 0);
    }
    if held.leader {
        if let Some(l) = s.leader_monthly_yuan {
            return (
                yuan(l),
                Some("grid_subsidy.leader_monthly_yuan".into()),
                None,
                0,
            );
        }
        let Some((t, basis)) = tier(None) else {
            return (0, None, None, 0);
        };
        return (t.monthly_fen, Some(t.rule), Some(basis), 0);
    }
    (0, None, None, 0)
}

fn grid_budget(
    policy: &Policy,
    g: &SnapshotGrid,
    staff: &[&Assignment],
    owners: &Owners,
    year: i32,
    at: &At,
    out: &mut Out,
) -> GridBudget {
    let sub = policy.doc().grid_subsidy.as_ref();
    let budgeted = sub.is_some_and(|s| s.grid_kinds.contains(&g.kind));
    let mut totals = SubsidyTotals::default();
    let mut persons = Vec::new();
    let here = Post::Grid(g.code.clone());

    // Grid staff by person, in order of first appearance.
    let mut order: Vec<&str> = Vec::new();
    let mut by_person: BTreeMap<&str, Vec<&Assignment>> = BTreeMap::new();
    for a in staff.iter().filter(|a| a.role.is_grid_staff()) {
        if !by_person.contains_key(a.person_id.as_str()) {
            order.push(&a.person_id);
        }
        by_person.entry(&a.person_id).or_default().push(a);
    }

    for pid in order {
        let list = &by_person[pid];
        let roles: Vec<StaffRole> = list
            .iter()
            .map(|a| a.role)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut p = PersonSubsidy {
            person_id: pid.to_string(),
            person_name: list[0].person_name.clone(),
            existing_assistant: roles.contains(&StaffRole::ExistingPoliceAssistant),
            roles,
            monthly_fen: [0; 12],
            year_fen: 0,
            months: 0,
            rules: Vec::new(),
            basis: None,
            existing_assistant_fen: 0,
        };
        if let (true, Some(s)) = (budgeted, sub) {
            for m in 1..=12u8 {
                let (first, last) = month_bounds(year, m);
                // Months before the policy took effect are not paid under it; the month it
                // takes effect in is, as far as the month rule allows from that day on.
                let from = policy.effective_from();
                if last < from || (first < from && s.month_paid_if == MonthRule::WholeMonth) {
                    continue;
                }
                let first = first.max(from);
                if !owners.paid_at(pid, &here, first, last, s.month_paid_if) {
                    continue;
                }
                let mut held = Held::default();
                let mut compound_id = None;
                for a in list
                    .iter()
                    .filter(|a| active_in(a, first, last, s.month_paid_if))
                {
                    match a.role {
                        StaffRole::GridLeader => held.leader = true,
                        StaffRole::GridWorker => {
                            held.worker = true;
                            if compound_id.is_none() {
                                compound_id = a.compound_id.as_deref();
                            }
                        }
                        StaffRole::PoliceAssistant => held.assistant = true,
                        StaffRole::ExistingPoliceAssistant => held.existing = true,
                        _ => {}
                    }
                }
                if !(held.leader || held.worker || held.assistant || held.existing) {
                    continue;
                }
                let (amt, rule, basis, existing) = monthly_amount(policy, s, g, held, compound_id);
                p.monthly_fen[usize::from(m - 1)] = amt;
                p.existing_assistant_fen += existing;
                if amt > 0 {
                    p.months += 1;
                }
                if let Some(r) = rule
                    && !p.rules.contains(&r)
                {
                    p.rules.push(r);
                }
                if basis.is_some() {
                    p.basis = basis;
                }
            }
            // A worker's compound that is not in the grid.
            for a in list.iter().filter(|a| a.role == StaffRole::GridWorker) {
                if let Some(id) = &a.compound_id
                    && !g.compounds.iter().any(|c| &c.id == id)
                {
                    out.push(
                        at,
                        Severity::Notice,
                        FindingKind::DataInconsistent,
                        "",
                        Some(id),
                        None,
                        None,
                        format!(
                            "网格员“{}”所负责的小区“{id}”不在本网格，按网格整体定档",
                            a.person_name
                        ),
                    );
                }
            }
        }
        p.year_fen = p.monthly_fen.iter().sum();
        let counted = owners.counted_at(pid, &here, year);
        if budgeted {
            for (t, v) in totals.monthly_fen.iter_mut().zip(p.monthly_fen) {
                *t += v;
            }
            totals.year_fen += p.year_fen;
            if counted {
                totals.staff += 1;
                if p.existing_assistant {
                    totals.existing_assistants += 1;
                }
            }
            totals.existing_assistants_fen += p.existing_assistant_fen;
        }
        // Someone who moved on and was paid nothing here is listed where he went.
        if counted || p.year_fen > 0 || !budgeted {
            persons.push(p);
        }
    }
    if budgeted && g.retired_on.is_none() {
        totals.grids = 1;
        totals.equipment_fen = sub.and_then(|s| s.equipment_per_grid_yuan).map_or(0, yuan);
        if sub.is_none_or(|s| !s.equipment_once || equipped_in(policy, g) == year) {
            totals.equipment_due_fen = totals.equipment_fen;
        }
    }
    totals.increase_fen = totals.year_fen - totals.existing_assistants_fen;
    GridBudget {
        code: g.code.clone(),
        name: g.name.clone(),
        kind: g.kind,
        tier: g.tier,
        households: g.households,
        retired_on: g.retired_on,
        budgeted,
        subsidy: totals,
        persons,
    }
}

/// A redraw hands the equipment of the grids it retires on to the grids it sets up: in a
/// year after the policy took effect, a community's grids set up in the year are equipped
/// anew only beyond the number of its equipped grids retired in the year (a merge of three
/// grids into one buys nothing; a split of one into two buys one set). The first new grids by
/// code take over; the rest are charged as set up.
fn equipment_handed_on(
    policy: &Policy,
    year: i32,
    snapshot: &[SnapshotGrid],
    grids: &mut [GridBudget],
) {
    if year <= policy.effective_from().year() {
        return;
    }
    // Sets in hand: those of grids retired in the year that were there before it (a grid
    // both set up and retired in the year held a set handed on, not one of its own).
    let mut freed = snapshot
        .iter()
        .zip(grids.iter())
        .filter(|(g, gb)| {
            gb.budgeted
                && gb.retired_on.is_some_and(|d| d.year() == year)
                && g.set_up.is_none_or(|d| d.year() < year)
        })
        .count();
    for (g, gb) in snapshot.iter().zip(grids.iter_mut()) {
        if freed == 0 {
            break;
        }
        let new_this_year = g.set_up.is_some_and(|d| d.year() == year);
        if new_this_year && gb.retired_on.is_none() && gb.subsidy.equipment_due_fen > 0 {
            gb.subsidy.equipment_due_fen = 0;
            freed -= 1;
        }
    }
}

/// The year a grid's one-off equipment is paid: the year it was set up, or the year the
/// policy takes effect for a grid set up before it.
fn equipped_in(policy: &Policy, g: &SnapshotGrid) -> i32 {
    let from = policy.effective_from().year();
    g.set_up.map_or(from, |d| d.year().max(from))
}

fn persons_with(staff: &[&Assignment], pred: impl Fn(StaffRole) -> bool) -> BTreeSet<String> {
    staff
        .iter()
        .filter(|a| pred(a.role))
        .map(|a| a.person_id.clone())
        .collect()
}

fn grid_findings(
    policy: &Policy,
    g: &SnapshotGrid,
    staff: &[&Assignment],
    first_existing: &BTreeMap<&str, Date>,
    at: &At,
    out: &mut Out,
) {
    let doc = policy.doc();
    let h = g.households;

    if !g.compounds.is_empty() {
        let sum: i64 = g.compounds.iter().map(|c| c.households).sum();
        if sum != h {
            out.push(
                at,
                Severity::Notice,
                FindingKind::DataInconsistent,
                "",
                None,
                Some(sum),
                Some(h),
                format!("网格户数 {h} 与其小区户数之和 {sum} 不符"),
            );
        }
    }

    if let Some(d) = &doc.grid_division {
        if d.band_grid_kinds.contains(&g.kind) {
            if h > d.household_ceiling {
                let single = g.compounds.len() == 1;
                let (sev, extra) = if single && d.oversized_single_compound_allowed {
                    (Severity::Notice, "；该网格为一个小区，小区不拆分")
                } else {
                    (Severity::Violation, "")
                };
                out.push(
                    at,
                    sev,
                    FindingKind::GridOverCeiling,
                    "grid_division.household_ceiling",
                    None,
                    Some(h),
                    Some(d.household_ceiling),
                    format!(
                        "网格 {h} 户，超过 {}—{} 户规模上限 {}{extra}",
                        d.household_floor, d.household_ceiling, d.household_ceiling
                    ),
                );
            } else if h < d.household_floor {
                out.push(
                    at,
                    Severity::Violation,
                    FindingKind::GridUnderFloor,
                    "grid_division.household_floor",
                    None,
                    Some(h),
                    Some(d.household_floor),
                    format!(
                        "网格 {h} 户，低于 {}—{} 户规模下限 {}",
                        d.household_floor, d.household_ceiling, d.household_floor
                    ),
                );
            }
        }
        if d.residents_group_is_grid && g.kind == GridKind::Rural {
            let groups = g
                .compounds
                .iter()
                .filter(|c| c.kind == CompoundKind::ResidentsGroup)
                .count() as i64;
            let n = g.compounds.len() as i64;
            if groups != 1 || n != 1 {
                out.push(
                    at,
                    Severity::Violation,
                    FindingKind::RuralGridNotOneGroup,
                    "grid_division.residents_group_is_grid",
                    None,
                    Some(n),
                    Some(1),
                    format!(
                        "农村网格应以一个居民小组为一个网格，现含 {n} 个小区/村庄/居民小组（其中居民小组 {groups} 个）"
                    ),
                );
            }
        }
    }

    let workers = persons_with(staff, |r| r == StaffRole::GridWorker);
    let leaders = persons_with(staff, |r| r == StaffRole::GridLeader);
    let n_workers = workers.len() as i64;
    let n_compounds = g.compounds.len() as i64;

    if let Some(s) = &doc.grid_staffing {
        if let Some(k) = s.instructors_per_grid {
            let n = persons_with(staff, |r| r == StaffRole::GridInstructor).len() as i64;
            if n < k {
                out.push(
                    at,
                    Severity::Violation,
                    FindingKind::InstructorsShort,
                    "grid_staffing.instructors_per_grid",
                    None,
                    Some(n),
                    Some(k),
                    format!("网格指导员 {n} 名，应为 {k} 名（由街道干部担任）"),
                );
            }
        }
        if s.leader_required && leaders.is_empty() {
            out.push(
                at,
                Severity::Violation,
                FindingKind::LeaderMissing,
                "grid_staffing.leader_required",
                None,
                Some(0),
                Some(1),
                "网格未设网格长".to_string(),
            );
        }
        if let Some(k) = s.min_staff_per_grid {
            let others: BTreeSet<String> = staff
                .iter()
                .filter(|a| a.role.is_grid_staff() && !leaders.contains(&a.person_id))
                .map(|a| a.person_id.clone())
                .collect();
            let n = others.len() as i64;
            if n < k {
                out.push(
                    at,
                    Severity::Violation,
                    FindingKind::StaffShort,
                    "grid_staffing.min_staff_per_grid",
                    None,
                    Some(n),
                    Some(k),
                    format!("网格长以外的网格工作人员 {n} 名，应不少于 {k} 名"),
                );
            }
        }
        let conds = [
            s.leader_if_households_at_least.map(|x| h >= x),
            s.leader_if_workers_more_than.map(|x| n_workers > x),
            s.leader_if_compounds_at_least.map(|x| n_compounds >= x),
        ];
        if !leaders.is_empty() && conds.iter().any(Option::is_some) && !conds.contains(&Some(true))
        {
            let mut why = Vec::new();
            if let Some(x) = s.leader_if_households_at_least {
                why.push(format!("{h} 户（需 {x} 户以上）"));
            }
            if let Some(x) = s.leader_if_workers_more_than {
                why.push(format!("网格员 {n_workers} 名（需超过 {x} 名）"));
            }
            if let Some(x) = s.leader_if_compounds_at_least {
                why.push(format!("{n_compounds} 个小区（需 {x} 个以上）"));
            }
            out.push(
                at,
                Severity::Violation,
                FindingKind::LeaderNotAllowed,
                "grid_staffing.leader_if_households_at_least",
                None,
                Some(h),
                s.leader_if_households_at_least,
                format!("设有网格长，但不符合任一条件：{}", why.join("，")),
            );
        }
        if !s.police_assistant_held_by.is_empty() {
            for pid in persons_with(staff, |r| r == StaffRole::PoliceAssistant) {
                let holds = s.police_assistant_held_by.iter().any(|r| match r {
                    super::format::HolderRole::GridLeader => leaders.contains(&pid),
                    super::format::HolderRole::GridWorker => workers.contains(&pid),
                });
                if !holds {
                    let name = staff
                        .iter()
                        .find(|a| a.person_id == pid)
                        .map_or(pid.as_str(), |a| a.person_name.as_str());
                    out.push(
                        at,
                        Severity::Violation,
                        FindingKind::PoliceAssistantNotHeld,
                        "grid_staffing.police_assistant_held_by",
                        None,
                        None,
                        None,
                        format!(
                            "网格警务助理“{name}”不是本网格的网格长或网格员（应由其兼任），未计补贴"
                        ),
                    );
                }
            }
        }
    }

    // 原有社区警务助理 are those already in post when the policy took effect (posted to their
    // grids as the grids were set up, within a quarter): one posted later is a new hire
    // entered in the wrong role (paid, but the pool is closed).
    let effective = policy.effective_from();
    let settled = crate::people::calendar::add_days(effective, 92).unwrap_or(effective);
    for a in staff.iter().filter(|a| {
        a.role == StaffRole::ExistingPoliceAssistant
            && first_existing
                .get(a.person_id.as_str())
                .copied()
                .unwrap_or(a.from)
                > settled
    }) {
        out.push(
            at,
            Severity::Notice,
            FindingKind::DataInconsistent,
            "grid_subsidy.police_assistant.existing_monthly_yuan",
            None,
            None,
            None,
            format!(
                "原有社区警务助理“{}”自 {} 起任职，比政策施行（{effective}）晚三个月以上：原有人员指政策施行时已在岗的，新聘的请登记为网格警务助理",
                a.person_name, a.from
            ),
        );
    }

    // Workers against compounds: one per compound in principle, two where the two-worker
    // rule covers the compound.
    let per_compound = doc
        .grid_staffing
        .as_ref()
        .and_then(|s| s.workers_per_compound);
    let budgeted = doc
        .grid_subsidy
        .as_ref()
        .is_some_and(|s| s.grid_kinds.contains(&g.kind));
    let covered = |households: i64, pm: bool| {
        policy
            .two_workers_cover(pm, households)
            .filter(|_| budgeted)
    };
    let units: Vec<(i64, bool)> = if g.compounds.is_empty() {
        vec![(h, false)]
    } else {
        g.compounds
            .iter()
            .map(|c| (c.households, c.has_property_management))
            .collect()
    };
    let mut needed = 0i64;
    let mut by_two = false;
    let mut any = false;
    for (hh, pm) in units {
        if let Some(t) = covered(hh, pm) {
            needed += t.workers;
            by_two = true;
            any = true;
        } else if let Some(k) = per_compound {
            needed += k;
            any = true;
        }
    }
    if any && n_workers < needed {
        if let Some(t) = doc
            .grid_subsidy
            .as_ref()
            .and_then(|s| s.two_workers.as_ref())
            .filter(|_| by_two)
        {
            out.push(
                at,
                Severity::Violation,
                FindingKind::WorkersShort,
                "grid_subsidy.two_workers.workers",
                None,
                Some(n_workers),
                Some(needed),
                format!(
                    "{} 户以上的有物业小区各应配备 {} 名网格员、其余小区各 {} 名：本网格应有 {needed} 名，现有 {n_workers} 名",
                    t.min_households,
                    t.workers,
                    per_compound.unwrap_or(1)
                ),
            );
        } else {
            out.push(
                at,
                Severity::Notice,
                FindingKind::WorkersShort,
                "grid_staffing.workers_per_compound",
                None,
                Some(n_workers),
                Some(needed),
                format!(
                    "网格有 {} 个小区，原则上每个小区设网格员 {} 名，应有 {needed} 名，现有 {n_workers} 名",
                    n_compounds.max(1),
                    per_compound.unwrap_or(1)
                ),
            );
        }
    }
    // More workers than the rules give the grid: each is paid (the sources cap no grid's
    // workers), but the county should know before it budgets them.
    if any && n_workers > needed {
        out.push(
            at,
            Severity::Notice,
            FindingKind::WorkersOver,
            if by_two {
                "grid_subsidy.two_workers.workers"
            } else {
                "grid_staffing.workers_per_compound"
            },
            None,
            Some(n_workers),
            Some(needed),
            format!(
                "网格有 {} 个小区，按规定应有网格员 {needed} 名（原则上每个小区 {} 名{}），现有 {n_workers} 名：多出的 {} 名仍计补贴，请核实是否应配",
                n_compounds.max(1),
                per_compound.unwrap_or(1),
                doc.grid_subsidy
                    .as_ref()
                    .and_then(|s| s.two_workers.as_ref())
                    .filter(|_| by_two)
                    .map(|t| format!("，{} 户以上有物业的小区 {} 名", t.min_households, t.workers))
                    .unwrap_or_default(),
                n_workers - needed
            ),
        );
    }

    if let Some(min) = doc.venues.as_ref().and_then(|v| v.grid_station_min_m2)
        && let Some(a) = g.station_area_m2
        && a < min
    {
        out.push(
            at,
            Severity::Violation,
            FindingKind::GridStationTooSmall,
            "venues.grid_station_min_m2",
            None,
            Some(a),
            Some(min),
            format!("网格服务站 {a} 平方米，低于 {min} 平方米标准"),
        );
    }

    if let Some(n) = doc
        .venues
        .as_ref()
        .and_then(|v| v.new_compound_service_space.as_ref())
    {
        for c in g.compounds.iter().filter(|c| c.is_new) {
            let Some(area) = c.residential_floor_area_m2 else {
                continue;
            };
            let by_share = ceil_div(area * n.permille_of_residential_area, 1000);
            let required = by_share.max(n.min_m2);
            if let Some(space) = c.service_space_m2 {
                if space < required {
                    let rule = if by_share >= n.min_m2 {
                        "venues.new_compound_service_space.permille_of_residential_area"
                    } else {
                        "venues.new_compound_service_space.min_m2"
                    };
                    out.push(
                        at,
                        Severity::Violation,
                        FindingKind::NewCompoundSpaceShort,
                        rule,
                        Some(&c.id),
                        Some(space),
                        Some(required),
                        format!(
                            "小区“{}”社区服务用房 {space} 平方米，应不小于住宅总建筑面积 {area} 平方米的 {}‰（{by_share} 平方米）且不低于 {} 平方米，即 {required} 平方米",
                            c.name, n.permille_of_residential_area, n.min_m2
                        ),
                    );
                }
                if let Some(to_c) = c.service_space_to_community_m2 {
                    let want = ceil_div(space * n.community_permille, 1000);
                    if to_c < want {
                        out.push(
                            at,
                            Severity::Violation,
                            FindingKind::NewCompoundCommunityShareShort,
                            "venues.new_compound_service_space.community_permille",
                            Some(&c.id),
                            Some(to_c),
                            Some(want),
                            format!(
                                "小区“{}”社区服务用房 {space} 平方米，交社区统筹使用 {to_c} 平方米，应为 {}‰即 {want} 平方米",
                                c.name, n.community_permille
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn mergeable_findings(policy: &Policy, c: &SnapshotCommunity, at: &At, out: &mut Out) {
    let Some(d) = policy.doc().grid_division.as_ref() else {
        return;
    };
    if !d.merge_small_compounds {
        return;
    }
    let mut small: Vec<&SnapshotGrid> = c
        .grids
        .iter()
        .filter(|g| g.retired_on.is_none())
        .filter(|g| d.band_grid_kinds.contains(&g.kind) && g.households < d.household_floor)
        .collect();
    if small.len() < 2 {
        return;
    }
    small.sort_by_key(|g| (g.households, g.code.clone()));
    // The pair to name: one whose sum reaches the band if any (the largest such sum, lowest
    // codes on a tie), else the two smallest — whether the two touch is for the map to tell.
    let mut pair = (0, 1);
    let mut best: Option<i64> = None;
    for i in 0..small.len() {
        for j in i + 1..small.len() {
            let sum = small[i].households + small[j].households;
            if sum >= d.household_floor
                && sum <= d.household_ceiling
                && best.is_none_or(|b| sum > b)
            {
                best = Some(sum);
                pair = (i, j);
            }
        }
    }
    let (a, b) = (small[pair.0], small[pair.1]);
    let sum = a.households + b.households;
    if sum <= d.household_ceiling {
        out.push(
            at,
            Severity::Notice,
            FindingKind::SmallGridsMergeable,
            "grid_division.merge_small_compounds",
            None,
            Some(small.len() as i64),
            Some(d.household_floor),
            format!(
                "社区有 {} 个网格低于 {} 户，其中“{}”（{} 户）与“{}”（{} 户）合并后 {sum} 户，{}（两格是否相邻请在地图上核对）",
                small.len(),
                d.household_floor,
                a.name,
                a.households,
                b.name,
                b.households,
                if sum >= d.household_floor {
                    format!("在 {}–{} 户之间", d.household_floor, d.household_ceiling)
                } else {
                    format!("不超过上限 {}", d.household_ceiling)
                }
            ),
        );
    }
}

fn community_money(
    policy: &Policy,
    c: &SnapshotCommunity,
    year: i32,
    at: &At,
    out: &mut Out,
) -> (MoneyTotals, Vec<FundLine>) {
    let doc = policy.doc();
    let mut m = MoneyTotals::default();
    let mut funds = Vec::new();
    if let Some(money) = &doc.community_money {
        for (i, f) in money.funds.iter().enumerate() {
            if !f.community_kinds.contains(&c.kind) {
                continue;
            }
            if let Some(p) = f.per_household_yuan {
                funds.push(FundLine {
                    name: f.name.clone(),
                    rule: format!("community_money.funds[{i}].per_household_yuan"),
                    basis: format!("每户 {p} 元 × {} 户", c.households),
                    amount_fen: yuan(p) * c.households,
                });
            }
            if let Some(p) = f.per_community_yuan {
                funds.push(FundLine {
                    name: f.name.clone(),
                    rule: format!("community_money.funds[{i}].per_community_yuan"),
                    basis: format!("每个社区 {p} 元"),
                    amount_fen: yuan(p),
                });
            }
        }
    }
    m.funds_fen = funds.iter().map(|f| f.amount_fen).sum();
    m.social_workers_present = c.general_social_workers;
    if let Some(staff) = &doc.community_staff {
        if let Some(g) = &staff.general_social_worker {
            let basis = match g.basis {
                StaffingBasis::Households => c.households,
                StaffingBasis::Population => c.population,
            };
            let needed = ceil_div(basis, g.per_used);
            m.social_workers_needed = needed;
            let cost = g.yuan_per_worker_year.map_or(0, yuan);
            m.social_workers_cost_fen = cost * c.general_social_workers;
            m.social_workers_needed_cost_fen = cost * needed;
            if c.general_social_workers < needed {
                let unit = match g.basis {
                    StaffingBasis::Households => "户",
                    StaffingBasis::Population => "人",
                };
                out.push(
                    at,
                    Severity::Violation,
                    FindingKind::SocialWorkersShort,
                    "community_staff.general_social_worker.per_used",
                    None,
                    Some(c.general_social_workers),
                    Some(needed),
                    format!(
                        "社区 {basis} {unit}，按每 {} {unit}配备 1 名应有全科社工 {needed} 名，现有 {} 名，缺 {} 名",
                        g.per_used,
                        c.general_social_workers,
                        needed - c.general_social_workers
                    ),
                );
            }
        }
        if let Some(cs) = &staff.committee_subsidy
            && cs.community_kinds.contains(&c.kind)
            && let Some(k) = c.committee
            && let Some(w) = doc.minimum_wage.iter().find(|w| w.year == year)
        {
            let wage = yuan(w.monthly_yuan);
            let monthly = k.heads * share_bp(wage, cs.head_bp)
                + k.deputies * share_bp(wage, cs.deputy_bp)
                + k.members * share_bp(wage, cs.member_bp);
            m.committee_fen = monthly * 12;
        }
    }
    (m, funds)
}

fn community_findings(policy: &Policy, c: &SnapshotCommunity, at: &At, out: &mut Out) {
    let Some(v) = policy.doc().venues.as_ref() else {
        return;
    };
    if let (Some(min), Some(a)) = (v.service_centre_min_m2, c.service_centre_area_m2)
        && a < min
    {
        out.push(
            at,
            Severity::Violation,
            FindingKind::ServiceCentreTooSmall,
            "venues.service_centre_min_m2",
            None,
            Some(a),
            Some(min),
            format!("社区服务中心 {a} 平方米，低于 {min} 平方米标准"),
        );
    }
    if let (Some(min), Some(a)) = (v.service_hall_min_m2, c.service_hall_area_m2)
        && a < min
    {
        out.push(
            at,
            Severity::Violation,
            FindingKind::ServiceHallTooSmall,
            "venues.service_hall_min_m2",
            None,
            Some(a),
            Some(min),
            format!("便民服务大厅 {a} 平方米，低于 {min} 平方米标准"),
        );
    }
    if let Some(rooms) = &c.rooms {
        for (i, r) in v.required_rooms.iter().enumerate() {
            if !rooms.iter().any(|x| x.trim() == r.trim()) {
                out.push(
                    at,
                    Severity::Violation,
                    FindingKind::RoomMissing,
                    &format!("venues.required_rooms[{i}]"),
                    None,
                    None,
                    None,
                    format!("社区服务中心缺少“{r}”（可一室多用）"),
                );
            }
        }
    }
}
