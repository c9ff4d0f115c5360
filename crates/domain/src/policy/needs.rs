//! What a grid plan asks of a jurisdiction under its policy, before anyone is assigned: the
//! posts every grid must or may have, the grid workers its compounds call for, their monthly
//! subsidies, the office equipment and the service-station floor area. Used to weigh
//! household standards against each other (a smaller band means more grids, so more
//! instructors, leaders, equipment and stations; the workers follow the compounds).

use std::ops::AddAssign;

use serde::Serialize;

use super::Policy;
use super::format::GridStaffing;
use crate::place::{CompoundKind, GridKind};

/// A compound as a proposed grid holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub households: i64,
    pub kind: CompoundKind,
    pub has_property_management: bool,
}

impl Member {
    /// A compound as a planner's input gives it: its kind by key or label (unknown: 小区),
    /// property management when known (unknown: without).
    pub fn of(
        households: i64,
        kind: Option<&str>,
        has_property_management: Option<bool>,
    ) -> Member {
        Member {
            households,
            kind: kind
                .and_then(|k| CompoundKind::parse(k).ok())
                .unwrap_or(CompoundKind::Compound),
            has_property_management: has_property_management.unwrap_or(false),
        }
    }
}

/// A new grid's kind, from what it holds: rural when villages and residents' groups hold
/// more than half its households, urban otherwise.
pub fn grid_kind_of(members: impl IntoIterator<Item = (CompoundKind, i64)>) -> GridKind {
    let (mut rural, mut all) = (0i64, 0i64);
    for (kind, households) in members {
        all += households.max(0);
        if matches!(kind, CompoundKind::Village | CompoundKind::ResidentsGroup) {
            rural += households.max(0);
        }
    }
    if all > 0 && 2 * rural > all {
        GridKind::Rural
    } else {
        GridKind::Urban
    }
}

/// The posts, money and space a set of grids needs under a policy; sums with `+=`. Money in
/// fen. `None`: the policy does not state it (魏都 states no subsidy), not zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Needs {
    pub grids: i64,
    /// Grids of a kind the policy budgets subsidies and equipment for (昌乐: urban grids).
    pub budgeted_grids: i64,
    /// 网格指导员 posts (street cadres): `instructors_per_grid` a grid.
    pub instructors: Option<i64>,
    /// 网格长 posts the policy requires (魏都: every grid).
    pub leaders_required: i64,
    /// Grids that may have a 网格长 (昌乐: 1,000 households, more than 2 workers or 2
    /// compounds), those that must included.
    pub leaders_allowed: i64,
    /// Grid staff besides the leader: `workers_per_compound` a compound (two where the
    /// two-worker rule covers it, in budgeted grids, as the budget counts them), at least
    /// `min_staff_per_grid` a grid.
    pub workers: i64,
    /// Whether `workers` is counted by grid (魏都's "长四员": four grid staff of any role
    /// besides the leader) rather than as 网格员 by compound.
    pub staff_per_grid: bool,
    /// The 网格员's monthly subsidies in budgeted grids, by the compound each serves (the
    /// leader's and police assistants' subsidies not included).
    pub worker_monthly_fen: Option<i64>,
    /// 办公设施设备费用, per budgeted grid.
    pub equipment_fen: Option<i64>,
    /// The least floor area of each grid's 网格服务站, m².
    pub station_min_m2: Option<i64>,
}

impl Needs {
    /// The workers' subsidies for a year.
    pub fn worker_year_fen(&self) -> Option<i64> {
        self.worker_monthly_fen.map(|m| m * 12)
    }

    /// What `workers` counts, as the pages name it.
    pub fn workers_label(&self) -> &'static str {
        if self.staff_per_grid {
            "网格长以外的网格工作人员"
        } else {
            "网格员"
        }
    }

    /// The figures in a sentence, for a plan reckoned under the policy named `policy`
    /// (e.g. 昌乐县 2020 年); what the policy does not state is left out.
    pub fn sentence(&self, policy: &str) -> String {
        let wan = super::tables::wan_text;
        let mut parts = Vec::new();
        if let Some(n) = self.instructors {
            parts.push(format!("网格指导员岗位 {n} 个（由街道干部担任）"));
        }
        if self.leaders_required > 0 {
            parts.push(format!(
                "网格长 {} 名（每个网格应设）",
                self.leaders_required
            ));
        } else if self.leaders_allowed > 0 {
            parts.push(format!("可设网格长的网格 {} 个", self.leaders_allowed));
        }
        if self.workers > 0 {
            parts.push(format!("{} {} 名", self.workers_label(), self.workers));
        }
        let mut money = Vec::new();
        if let Some(y) = self.worker_year_fen() {
            money.push(format!(
                "网格员补贴每年 {} 万元（不含网格长、警务助理的补贴）",
                wan(y)
            ));
        }
        if let Some(e) = self.equipment_fen {
            money.push(format!("办公设施设备费用 {} 万元", wan(e)));
        }
        if !money.is_empty() {
            parts.push(format!(
                "计补贴的网格 {} 个，{}",
                self.budgeted_grids,
                money.join("，")
            ));
        }
        if let Some(m) = self.station_min_m2 {
            parts.push(format!("网格服务站 {} 个，每个不少于 {m} ㎡", self.grids));
        }
        if parts.is_empty() {
            return format!("{policy}政策未规定网格的人员和经费。");
        }
        format!(
            "按{policy}政策测算，方案 {} 个网格需{}。",
            self.grids,
            parts.join("；")
        )
    }
}

/// A sum of figures a policy may leave unstated: stated if either is.
fn add(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (x, y) => x.or(y),
    }
}

impl AddAssign for Needs {
    fn add_assign(&mut self, o: Needs) {
        self.grids += o.grids;
        self.budgeted_grids += o.budgeted_grids;
        self.instructors = add(self.instructors, o.instructors);
        self.leaders_required += o.leaders_required;
        self.leaders_allowed += o.leaders_allowed;
        self.workers += o.workers;
        self.staff_per_grid |= o.staff_per_grid;
        self.worker_monthly_fen = add(self.worker_monthly_fen, o.worker_monthly_fen);
        self.equipment_fen = add(self.equipment_fen, o.equipment_fen);
        self.station_min_m2 = self.station_min_m2.max(o.station_min_m2);
    }
}

impl std::iter::Sum for Needs {
    fn sum<I: Iterator<Item = Needs>>(iter: I) -> Needs {
        iter.fold(Needs::default(), |mut total, n| {
            total += n;
            total
        })
    }
}

impl Policy {
    /// The policy as pages name it: 昌乐县 2020 年.
    pub fn short_name(&self) -> String {
        format!(
            "{} {} 年",
            self.jurisdiction_name(),
            self.effective_from().year()
        )
    }

    /// What the grids of a plan need, each given by its kind and compounds.
    pub fn plan_needs<G: IntoIterator<Item = Member>>(
        &self,
        grids: impl IntoIterator<Item = (GridKind, G)>,
    ) -> Needs {
        grids
            .into_iter()
            .map(|(kind, g)| self.grid_needs(kind, &g.into_iter().collect::<Vec<_>>()))
            .sum()
    }

    /// What one proposed grid of `kind` holding `members` needs under this policy, counted
    /// as the budget and its findings count an assigned grid ([`super::evaluate`]).
    pub fn grid_needs(&self, kind: GridKind, members: &[Member]) -> Needs {
        let doc = self.doc();
        let households: i64 = members.iter().map(|m| m.households.max(0)).sum();
        let subsidy = doc.grid_subsidy.as_ref();
        let budgeted = subsidy.is_some_and(|s| s.grid_kinds.contains(&kind));
        let staffing = doc.grid_staffing.as_ref();
        let mut n = Needs {
            grids: 1,
            budgeted_grids: i64::from(budgeted),
            instructors: staffing.and_then(|s| s.instructors_per_grid),
            worker_monthly_fen: subsidy.map(|_| 0),
            equipment_fen: subsidy
                .and_then(|s| s.equipment_per_grid_yuan)
                .map(|y| if budgeted { y * super::FEN_PER_YUAN } else { 0 }),
            station_min_m2: doc.venues.as_ref().and_then(|v| v.grid_station_min_m2),
            ..Needs::default()
        };
        let mut workers = 0;
        for m in members {
            // The two-worker rule is a subsidy rule: it counts in budgeted grids only.
            let two = self
                .two_workers_cover(m.has_property_management, m.households)
                .filter(|_| budgeted);
            let w = match (two, staffing.and_then(|s| s.workers_per_compound)) {
                (Some(t), _) => t.workers,
                (None, Some(k)) => k,
                (None, None) => 0,
            };
            workers += w;
            if budgeted
                && w > 0
                && let Some(tier) = self.worker_tier(m.has_property_management, m.households)
                && let Some(total) = n.worker_monthly_fen.as_mut()
            {
                *total += tier.monthly_fen * w;
            }
        }
        let min_staff = staffing.and_then(|s| s.min_staff_per_grid).unwrap_or(0);
        n.workers = workers.max(min_staff);
        n.staff_per_grid = min_staff > workers;
        if let Some(s) = staffing {
            n.leaders_required = i64::from(s.leader_required);
            n.leaders_allowed =
                i64::from(s.leader_required || leader_allowed(s, households, workers, members));
        }
        n
    }
}

/// Whether a grid may have a leader: any stated condition holds, or none is stated.
fn leader_allowed(s: &GridStaffing, households: i64, workers: i64, members: &[Member]) -> bool {
    let conds = [
        s.leader_if_households_at_least.map(|x| households >= x),
        s.leader_if_workers_more_than.map(|x| workers > x),
        s.leader_if_compounds_at_least
            .map(|x| members.len() as i64 >= x),
    ];
    conds.iter().all(Option::is_none) || conds.contains(&Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(file: &str) -> Policy {
        let path = format!("{}/../../policies/{file}", env!("CARGO_MANIFEST_DIR"));
        Policy::parse(file, &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn compound(households: i64, pm: bool) -> Member {
        Member {
            households,
            kind: CompoundKind::Compound,
            has_property_management: pm,
        }
    }

    #[test]
    fn changle_needs_follow_the_compounds_and_the_grid() {
        let p = policy("370725-changle-2020.toml");
        let urban = GridKind::Urban;
        // Two compounds: 300 without property management (600 元), 250 with (400 元).
        let n = p.grid_needs(urban, &[compound(300, false), compound(250, true)]);
        assert_eq!(
            n,
            Needs {
                grids: 1,
                budgeted_grids: 1,
                instructors: Some(1),
                leaders_required: 0,
                leaders_allowed: 1,
                workers: 2,
                staff_per_grid: false,
                worker_monthly_fen: Some(100_000),
                equipment_fen: Some(500_000),
                station_min_m2: Some(15),
            }
        );
        // One compound of 560 with property management: one worker at 500 元, no leader.
        let one = p.grid_needs(urban, &[compound(560, true)]);
        assert_eq!(
            (one.workers, one.worker_monthly_fen, one.leaders_allowed),
            (1, Some(50_000), 0)
        );
        // 1,000 households with property management: two workers at 500 元, a leader allowed.
        let big = p.grid_needs(urban, &[compound(1_000, true)]);
        assert_eq!(
            (big.workers, big.worker_monthly_fen, big.leaders_allowed),
            (2, Some(100_000), 1)
        );
        // Without property management the two-worker rule does not apply.
        let plain = p.grid_needs(urban, &[compound(1_000, false)]);
        assert_eq!((plain.workers, plain.worker_monthly_fen), (1, Some(60_000)));
        // A rural grid is staffed one worker a compound (the two-worker rule is the budget's,
        // as the findings count it) but not budgeted: no subsidy, no equipment.
        let village = Member {
            households: 1_300,
            kind: CompoundKind::Village,
            has_property_management: false,
        };
        let rural = p.grid_needs(GridKind::Rural, &[village, compound(1_200, true)]);
        assert_eq!(
            (
                rural.budgeted_grids,
                rural.workers,
                rural.worker_monthly_fen,
                rural.equipment_fen,
                rural.instructors
            ),
            (0, 2, Some(0), Some(0), Some(1))
        );
        let mut sum = n;
        sum += big;
        sum += rural;
        assert_eq!(
            (
                sum.grids,
                sum.budgeted_grids,
                sum.workers,
                sum.equipment_fen,
                sum.station_min_m2
            ),
            (3, 2, 6, Some(1_000_000), Some(15))
        );
        assert_eq!(sum.worker_year_fen(), Some(12 * 200_000));
        assert_eq!(
            sum.sentence("昌乐县 2020 年"),
            "按昌乐县 2020 年政策测算，方案 3 个网格需网格指导员岗位 3 个（由街道干部担任）；可设网格长的网格 3 个；网格员 6 名；计补贴的网格 2 个，网格员补贴每年 2.4 万元（不含网格长、警务助理的补贴），办公设施设备费用 1 万元；网格服务站 3 个，每个不少于 15 ㎡。"
        );
    }

    #[test]
    fn weidu_grids_have_a_leader_and_four_staff_and_no_stated_money() {
        let p = policy("411002-weidu-2017.toml");
        let n = p.plan_needs([
            (
                GridKind::Urban,
                vec![compound(120, true), compound(130, false)],
            ),
            (GridKind::Urban, vec![compound(260, false)]),
        ]);
        assert_eq!(
            n,
            Needs {
                grids: 2,
                budgeted_grids: 0,
                instructors: None,
                leaders_required: 2,
                leaders_allowed: 2,
                workers: 8,
                staff_per_grid: true,
                worker_monthly_fen: None,
                equipment_fen: None,
                station_min_m2: None,
            }
        );
        assert_eq!(
            n.sentence("魏都区 2017 年"),
            "按魏都区 2017 年政策测算，方案 2 个网格需网格长 2 名（每个网格应设）；网格长以外的网格工作人员 8 名。"
        );
    }

    #[test]
    fn rural_when_villages_hold_more_than_half() {
        use CompoundKind::*;
        assert_eq!(
            grid_kind_of([(Village, 51), (Compound, 49)]),
            GridKind::Rural
        );
        assert_eq!(
            grid_kind_of([(ResidentsGroup, 50), (Compound, 50)]),
            GridKind::Urban
        );
        assert_eq!(grid_kind_of([]), GridKind::Urban);
    }
}
