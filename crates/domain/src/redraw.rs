//! What redrawing a community's grids hands on from the grids it replaces to the grids that
//! replace them: households registered by grid alone and staff follow a retired grid's main
//! successor; a new grid takes its kind and tier from its predecessors.

use std::collections::{BTreeMap, HashMap};

use crate::place::{CompoundKind, GridKind, Tier};

/// One compound as a plan places it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved<'a> {
    /// The grid it is in now, if any.
    pub from: Option<&'a str>,
    /// The grid of the plan it goes to.
    pub to: &'a str,
    pub households: i64,
    pub kind: CompoundKind,
}

/// A grid's kind and tier (建设标准).
pub type Traits = (GridKind, Option<Tier>);

/// The plan grid that takes most of grid `from`'s households (by its compounds; the lowest
/// code on a tie), if any.
pub fn main_successor<'a>(moves: &[Moved<'a>], from: &str) -> Option<&'a str> {
    let mut shares: BTreeMap<&str, i64> = BTreeMap::new();
    for m in moves.iter().filter(|m| m.from == Some(from)) {
        *shares.entry(m.to).or_default() += m.households.max(0);
    }
    shares
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(code, _)| code)
}

/// One unified grid's part of a department grid being folded in (部门网格撤销并入).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Share {
    pub grid: String,
    pub compounds: usize,
    pub households: i64,
}

/// Where a department grid's compounds are among the unified grids: `members` gives each
/// compound's grid (if it has one) and households. One share per grid, most households
/// first (then most compounds, then the lowest code), so the first is the grid it folds into
/// mainly; and how many compounds are in no grid yet.
pub fn fold_shares<'a>(
    members: impl IntoIterator<Item = (Option<&'a str>, i64)>,
) -> (Vec<Share>, usize) {
    let mut by_grid: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    let mut unplaced = 0;
    for (grid, households) in members {
        match grid {
            Some(g) => {
                let e = by_grid.entry(g).or_default();
                e.0 += 1;
                e.1 += households.max(0);
            }
            None => unplaced += 1,
        }
    }
    let mut shares: Vec<Share> = by_grid
        .into_iter()
        .map(|(grid, (compounds, households))| Share {
            grid: grid.to_string(),
            compounds,
            households,
        })
        .collect();
    shares.sort_by(|a, b| {
        (b.households, b.compounds)
            .cmp(&(a.households, a.compounds))
            .then_with(|| a.grid.cmp(&b.grid))
    });
    (shares, unplaced)
}

/// The kind and tier of each new grid of a plan (a plan grid whose code is not in `current`,
/// the live grids' traits), handed on from the grids it replaces.
///
/// Kind: that of the current grid most of its households come from; a grid made only of
/// compounds that had no grid is rural when most of its households live in villages or
/// residents' groups. Tier: a replaced grid's tier goes to the one new grid that takes most of
/// its households (a 示范 grid split in two stays one 示范 grid), and a new grid heir to
/// several takes the highest of their tiers; a new grid heir to none
/// takes the tier of the grid most of its households come from, 示范 as 规范 (the designation
/// is not multiplied by splitting); a grid kept keeps its own tier, hands on none and inherits
/// none.
pub fn heritage<'a>(
    moves: &[Moved<'a>],
    current: &HashMap<&str, Traits>,
) -> HashMap<&'a str, Traits> {
    let planned: std::collections::BTreeSet<&str> = moves.iter().map(|m| m.to).collect();
    // Households flowing from each current grid into each plan grid, in a fixed order.
    let mut flow: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for m in moves {
        if let Some(from) = m.from {
            *flow.entry((from, m.to)).or_default() += m.households.max(0);
        }
    }
    // Each replaced grid's heir: the new grid taking most of its households (lowest code on
    // a tie).
    let mut heir: BTreeMap<&str, (&str, i64)> = BTreeMap::new();
    for (&(from, to), &h) in &flow {
        if planned.contains(from) || current.contains_key(to) {
            continue;
        }
        let best = heir.entry(from).or_insert((to, h));
        if h > best.1 {
            *best = (to, h);
        }
    }
    let mut out = HashMap::new();
    for &g in planned.iter().filter(|g| !current.contains_key(**g)) {
        let from_most = flow
            .iter()
            .filter(|((_, to), _)| *to == g)
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.0.cmp(a.0.0)))
            .map(|((from, _), _)| *from);
        let kind = match from_most.and_then(|f| current.get(f)) {
            Some((kind, _)) => *kind,
            None => crate::policy::needs::grid_kind_of(
                moves
                    .iter()
                    .filter(|m| m.to == g)
                    .map(|m| (m.kind, m.households)),
            ),
        };
        // Heir to several: the highest of their standards (a 示范 designation merged with
        // a 基础 grid is not lost; the county's count of them falls only by merging 示范s).
        let rank = |t: Option<Tier>| match t {
            Some(Tier::Demonstration) => 3,
            Some(Tier::Standard) => 2,
            Some(Tier::Basic) => 1,
            None => 0,
        };
        let tier = heir
            .iter()
            .filter(|(_, (to, _))| *to == g)
            .filter_map(|(from, (_, h))| current.get(*from).map(|(_, t)| (*t, *h, *from)))
            .max_by(|a, b| {
                rank(a.0)
                    .cmp(&rank(b.0))
                    .then(a.1.cmp(&b.1))
                    .then(b.2.cmp(a.2))
            })
            .and_then(|(tier, _, _)| tier)
            // Heir to none (the smaller part of a split): the standard of the grid most of
            // its households come from — a 示范 designation stays with the one heir, so the
            // others of its parts are 规范 — rather than none at all.
            .or_else(|| {
                from_most
                    .and_then(|f| current.get(f))
                    .and_then(|(_, tier)| *tier)
                    .map(|t| match t {
                        Tier::Demonstration => Tier::Standard,
                        other => other,
                    })
            });
        out.insert(g, (kind, tier));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_department_grid_folds_mainly_into_the_grid_with_most_of_its_households() {
        let (shares, unplaced) = fold_shares([
            (Some("370725001001002"), 300),
            (Some("370725001001001"), 200),
            (None, 80),
            (Some("370725001001001"), 100),
            (Some("370725001001003"), 300),
        ]);
        let got: Vec<(&str, usize, i64)> = shares
            .iter()
            .map(|s| (s.grid.as_str(), s.compounds, s.households))
            .collect();
        // 001 has as many households as 002 and 003 but more compounds; 002 and 003 tie and
        // the lower code comes first.
        assert_eq!(
            got,
            [
                ("370725001001001", 2, 300),
                ("370725001001002", 1, 300),
                ("370725001001003", 1, 300)
            ]
        );
        assert_eq!(unplaced, 1);
        assert_eq!(fold_shares([]), (Vec::new(), 0));
    }

    use super::*;

    fn moved<'a>(
        from: Option<&'a str>,
        to: &'a str,
        households: i64,
        kind: CompoundKind,
    ) -> Moved<'a> {
        Moved {
            from,
            to,
            households,
            kind,
        }
    }

    #[test]
    fn new_grids_inherit_kind_and_one_heir_takes_a_tier() {
        let (g1, g2, g3, g4) = (
            "370725001001001",
            "370725001001002",
            "370725001001003",
            "370725001001004",
        );
        let current: HashMap<&str, Traits> = [
            (g1, (GridKind::Urban, Some(Tier::Demonstration))),
            (g2, (GridKind::Urban, Some(Tier::Basic))),
        ]
        .into();
        // The 示范 grid 001 is split: 400 households stay in the kept grid 002 (which keeps
        // its own tier), 300 go to the new 003, which carries 示范 on. 004 is made of
        // compounds that had no grid, mostly a village: rural, no tier.
        let moves = [
            moved(Some(g1), g2, 400, CompoundKind::Compound),
            moved(Some(g1), g3, 300, CompoundKind::Compound),
            moved(Some(g2), g2, 200, CompoundKind::Compound),
            moved(None, g4, 300, CompoundKind::Village),
            moved(None, g4, 100, CompoundKind::Compound),
        ];
        let h = heritage(&moves, &current);
        assert_eq!(h.len(), 2, "kept grids inherit nothing");
        // 001 split in two (002 merged into its larger part): the heir keeps 示范, the
        // smaller part, heir to none, is 规范 rather than without a standard.
        let g5 = "370725001001005";
        let split = [
            moved(Some(g1), g3, 300, CompoundKind::Compound),
            moved(Some(g1), g5, 200, CompoundKind::Compound),
            moved(Some(g2), g3, 50, CompoundKind::Compound),
        ];
        let hs = heritage(&split, &current);
        assert_eq!(hs[g3], (GridKind::Urban, Some(Tier::Demonstration)));
        assert_eq!(hs[g5], (GridKind::Urban, Some(Tier::Standard)));
        // Heir to a 示范 grid and a larger 基础 one: 示范 stays.
        let merged = [
            moved(Some(g1), g3, 300, CompoundKind::Compound),
            moved(Some(g2), g3, 400, CompoundKind::Compound),
        ];
        assert_eq!(
            heritage(&merged, &current)[g3],
            (GridKind::Urban, Some(Tier::Demonstration))
        );
        assert_eq!(h[g3], (GridKind::Urban, Some(Tier::Demonstration)));
        assert_eq!(h[g4], (GridKind::Rural, None));
        // Staff and households registered by grid alone follow 001 to 002 (400 > 300).
        assert_eq!(main_successor(&moves, g1), Some(g2));
        assert_eq!(main_successor(&moves, "370725001001009"), None);
    }
}
