//! The planning algorithm.
//!
//! 1. **Graph.** Compounds are nodes weighted by households. Adjacency edges are kept only
//!    between two compounds of the same community, when the segment between their centroids
//!    crosses no barrier line, and when neither compound is *alone*: over the ceiling, or made a
//!    grid of its own by the policy ([`crate::Input::alone`]); such a compound is always a grid
//!    of its own, so it connects nothing. The connected components of this graph
//!    are the *connected groups*; each is planned independently.
//! 2. **Current grids.** A current grid that is valid (known compounds, one community,
//!    contiguous, not overlapping another) and in band is kept as it is, with its code. The
//!    remaining compounds are planned; a leftover piece below the floor that touches a kept grid
//!    is merged into it (the only case where a kept grid changes before step 7; it stays locked
//!    while the other pieces are planned). Where the current grids cover a piece and the grids
//!    planned for it are no better by the objective (after step 7's splits), the current grids
//!    stay. A current grid the user keeps as it is ([`crate::Input::fixed`]) is locked for
//!    good, in band or not: it takes in nothing, and the compounds around it are planned
//!    without it.
//! 3. **Region growing.** In each group, seeds are taken west→east; a grid grows from its seed by
//!    adding the neighbouring compound that lands it in band, or else one that keeps a way into
//!    the band open (one-step look-ahead), preferring compounds close to the grid's centroid and
//!    compounds with few free neighbours (so that none is stranded).
//! 4. **Local repair.** For every grid outside the band: move a boundary compound in or out,
//!    or re-partition the union with a neighbouring grid (multi-start growing, up to three
//!    parts), whichever improves the score most; repeat until nothing improves. Scores:
//!    in band +1, over the ceiling −0.05 − 0.2·excess/ceiling, below the floor
//!    −3 + ½·households/floor. The excess counts in households, not as a share of the grid:
//!    as a share, one grid of 1,600 at 200–300 scored better than five of 320. Around a hub
//!    (a compound touching hundreds of others, e.g. a road parcel) what a re-partition gives
//!    is often read from the hub's statistics instead of grown: the same result, in time
//!    linear in the compounds (`HubStats`); where the hub's neighbours also touch one another,
//!    a part is grown only from starts in the pieces around the hub that reach the floor
//!    (`Work::light_starts`).
//! 5. **Feasibility.** A grid still below the floor is merged into the neighbour where the merge
//!    costs least, so no grid is below the floor unless it is a whole connected group.
//!    Steps 3–5 run several times per group (other sweep directions and tie-breaking) and the
//!    result with the most grids in band is kept (then the best score); they stop early when a
//!    result reaches the group's upper bound.
//! 6. **Exact search.** When the best result stays below the group's upper bound and the group
//!    has at most 64 compounds, [`crate::exact`] looks for a partition with more in-band grids
//!    (within a budget of search nodes) and replaces the result if it finds one. On generated
//!    towns the plan then reaches the proven optimum on nearly every group ([`audit`]).
//! 7. **Splitting.** A grid of several compounds still over the ceiling is split in two where
//!    both parts reach the floor and score better (in band, or less over the ceiling), and
//!    again in its parts (rule 2 of the objective; without it, re-planning an adopted plan
//!    could split such a grid the second time, as it did on the demo county). Among splits
//!    that score the same, the one with a part nearest the ceiling is taken, so the rest can
//!    split again. Then two neighbouring grids over the ceiling are split again as one, where
//!    that scores better (480 + 480 of six 160-household compounds become 320 + 320 + 320).
//!    Candidate parts are prefixes of a breadth-first order from a start compound (every
//!    compound, or 64 spread over a larger grid); whether each remainder is connected comes
//!    from one union-find pass over the order, built from its end.
//! 8. **Codes.** Grids keep the code of the current grid holding more than half of their
//!    households (and of whose households they hold more than half). New grids are numbered per
//!    community in reading order — rows north→south, each row west→east — starting above the
//!    highest sequence used by any current or retired code of the community.
//!
//! **Upper bound.** In a connected group with total `W`, let `B` be the number of compounds
//! with at least `min` households and `S` the households of the others. An in-band grid has at
//! least `min` households, so in-band grids holding a compound of the first kind are at most `B`
//! and the in-band grids made only of the other compounds hold at least `min` each of the `S`
//! households: at most `B + ⌊S / min⌋` in-band grids (≤ `⌊W / min⌋`), and 0 when `W < min`.
//! Over-ceiling compounds are never in band. The reported bound is the sum over groups of the
//! proven optimum where it is known — the plan reaches `B + ⌊S / min⌋`, or the exact search
//! finished — and of `B + ⌊S / min⌋` elsewhere. When current grids were kept in band, the
//! groups planned are not the whole groups: the whole groups are then planned afresh for the
//! bound alone, so that re-planning an adopted plan reports the bound its drawing proved.
//! [`crate::Summary::proven_groups`] counts the groups proven optimal.
//!
//! **Compactness** of a grid is the moment-of-inertia index `A² / (2π·I)`, where `A` is its area
//! and `I` its polar moment about its centroid, treating each compound as a disc of its own
//! area at its centroid: 1 for a disc, smaller for elongated or scattered grids. Point compounds
//! get a nominal area (input bounding box / number of compounds).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::exact;
use crate::geom::{BBox, Projection, polygon_area_centroid, segments_intersect};
use crate::{Band, Geometry, Grid, Input, Options, Plan, PlanError, Pt, Reason, Summary};

const NONE: u32 = u32::MAX;
/// Multi-start attempts per connected group (fewer when the group's upper bound is reached).
const ATTEMPTS: u64 = 10;
/// Stop the multi-start after this many attempts without improvement.
const PATIENCE: u64 = 4;
/// Depth of the recursive split search (parts found one after another).
const MAX_SPLIT_DEPTH: u32 = 12;
/// Passes over neighbouring grids over the ceiling, re-splitting their union.
const MAX_RESPLIT_PASSES: usize = 3;
/// Start compounds tried when splitting one grid in two.
const MAX_SPLIT_STARTS: usize = 64;
/// Search nodes the exact search may spend on a group the heuristic left below its bound.
const EXACT_BUDGET: u64 = 100_000;

/// Plans grids for `input` (see the module documentation). Deterministic for a given input
/// and options.
pub fn plan(input: &Input, opts: &Options) -> Result<Plan, PlanError> {
    plan_with_progress(input, opts, &|_, _| {})
}

/// Like [`plan`], calling `progress(done, total)` (in compounds) as groups are planned, so a
/// caller can drive a progress bar. `done == total` on the last call.
pub fn plan_with_progress(
    input: &Input,
    opts: &Options,
    progress: &dyn Fn(usize, usize),
) -> Result<Plan, PlanError> {
    let Band { min: lo, max: hi } = opts.band;
    if lo <= 0 || lo > hi {
        return Err(PlanError::BadBand { min: lo, max: hi });
    }
    let n = input.compounds.len();
    for (i, c) in input.compounds.iter().enumerate() {
        if c.households < 0 {
            return Err(PlanError::NegativeHouseholds {
                index: i + 1,
                id: c.id.clone(),
                households: c.households,
            });
        }
        if c.households > crate::MAX_HOUSEHOLDS {
            return Err(PlanError::TooManyHouseholds {
                index: i + 1,
                id: c.id.clone(),
                households: c.households,
                max: crate::MAX_HOUSEHOLDS,
            });
        }
    }
    for (k, &idx) in input.alone.iter().enumerate() {
        if idx >= n {
            return Err(PlanError::BadAlone {
                position: k + 1,
                index: idx,
                count: n,
            });
        }
    }
    for (k, &(a, b)) in input.adjacency.iter().enumerate() {
        for idx in [a, b] {
            if idx >= n {
                return Err(PlanError::BadEdge {
                    edge: k + 1,
                    index: idx,
                    count: n,
                });
            }
        }
    }
    let prep = Prepared::new(input, lo, hi);
    let mut work = Work::new(&prep, lo, hi, opts.seed);
    let mut warnings = Vec::new();

    // Current grids: validate; lock those the user keeps as they are, and those in band.
    for code in &input.fixed {
        if !input.current.iter().any(|c| &c.code == code) {
            return Err(PlanError::UnknownFixed { code: code.clone() });
        }
    }
    let current = validate_current(input, &prep, &mut warnings)?;
    for cg in current.iter().filter(|c| c.valid && c.fixed) {
        let id = work.new_grid(cg.members.clone(), true);
        work.fixed.push(id);
    }
    for cg in current.iter().filter(|c| c.valid && !c.fixed) {
        let w: i64 = cg.members.iter().map(|&v| prep.h[v as usize]).sum();
        if lo <= w && w <= hi && !cg.members.iter().any(|&v| prep.alone[v as usize]) {
            let id = work.new_grid(cg.members.clone(), true);
            let _ = id;
        }
    }

    // Compounds over the ceiling or made a grid of their own by the policy: alone.
    for v in 0..n {
        if prep.alone[v] && work.part[v] == NONE {
            work.new_grid(vec![v as u32], false);
        }
    }

    // Groups of free compounds.
    let free_comps = components(&prep, |v| work.part[v] == NONE);
    let mut done = n - free_comps.iter().map(|c| c.len()).sum::<usize>();
    progress(done.min(n), n);
    // Without kept current grids the free groups are the full groups.
    let whole_groups = !work.grids.iter().any(|g| g.locked);
    let mut optima = Vec::with_capacity(free_comps.len());
    // Each compound's valid current grid.
    let mut owner = vec![NONE; n];
    for (k, c) in current.iter().enumerate().filter(|(_, c)| c.valid) {
        for &v in &c.members {
            owner[v as usize] = k as u32;
        }
    }
    for comp in &free_comps {
        let first = work.grids.len();
        optima.push(work.plan_component(comp));
        work.keep_current_unless_worse(comp, first, &current, &owner);
        done += comp.len();
        progress(done, n);
    }
    if free_comps.is_empty() {
        progress(n, n);
    }

    for g in std::mem::take(&mut work.absorbed) {
        work.grids[g as usize].locked = false;
    }
    work.split_over_ceiling();

    // Upper bound over full groups: the proven optimum where the groups planned are the full
    // groups (no current grid kept) and it is known, else `B + ⌊S / min⌋`. Grids kept as
    // the user asked are as they are (in pieces, or holding a compound the policy makes a
    // grid of its own, if so): they count as they stand, and the groups are what is left.
    let mut fixed_member = vec![false; n];
    let mut fixed_in_band = 0usize;
    for cg in current.iter().filter(|c| c.valid && c.fixed) {
        let w: i64 = cg.members.iter().map(|&v| prep.h[v as usize]).sum();
        fixed_in_band += usize::from(lo <= w && w <= hi);
        for &v in &cg.members {
            fixed_member[v as usize] = true;
        }
    }
    let (full_comps, optima) = if whole_groups {
        (free_comps, optima)
    } else {
        // Current grids kept in band made the groups planned smaller than the full groups:
        // the bound comes from planning the full groups afresh (the grids the user keeps as
        // they are stay), so that keeping an adopted plan reports the same proven bound as
        // drawing it did.
        let full = components(&prep, |v| !prep.alone[v] && !fixed_member[v]);
        let mut fresh = Work::new(&prep, lo, hi, opts.seed);
        for cg in current.iter().filter(|c| c.valid && c.fixed) {
            let id = fresh.new_grid(cg.members.clone(), true);
            fresh.fixed.push(id);
        }
        for v in 0..n {
            if prep.alone[v] && fresh.part[v] == NONE {
                fresh.new_grid(vec![v as u32], false);
            }
        }
        let optima = full.iter().map(|comp| fresh.plan_component(comp)).collect();
        (full, optima)
    };
    let (mut upper_bound, mut groups, mut proven_groups) = (fixed_in_band, 0usize, 0usize);
    for (i, comp) in full_comps.iter().enumerate() {
        let total: i64 = comp.iter().map(|&v| prep.h[v as usize]).sum();
        if total < lo {
            continue;
        }
        groups += 1;
        if let Some(Some(opt)) = optima.get(i) {
            proven_groups += 1;
            upper_bound += opt;
            continue;
        }
        // A compound over the ceiling is a grid of its own, never in band.
        let big = comp
            .iter()
            .filter(|&&v| (lo..=hi).contains(&prep.h[v as usize]))
            .count();
        let small: i64 = comp
            .iter()
            .map(|&v| prep.h[v as usize])
            .filter(|&h| h < lo)
            .sum();
        upper_bound += big + (small / lo) as usize;
    }

    let mut plan = finish(
        input,
        &prep,
        work,
        &current,
        upper_bound,
        warnings,
        opts.band,
    );
    plan.summary.groups = groups;
    plan.summary.proven_groups = proven_groups;
    Ok(plan)
}

/// Geometry and graph derived from the input.
pub(crate) struct Prepared {
    pub h: Vec<i64>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub area: Vec<f64>,
    pub community: Vec<u32>,
    pub community_names: Vec<Option<String>>,
    /// Made a grid of its own by the policy ([`crate::Input::alone`]).
    pub own: Vec<bool>,
    /// A grid of its own: over the ceiling, or by the policy.
    pub alone: Vec<bool>,
    pub off: Vec<u32>,
    pub nbr: Vec<u32>,
    /// Centroids in input coordinates.
    pub centroid: Vec<Pt>,
}

impl Prepared {
    fn new(input: &Input, _lo: i64, hi: i64) -> Self {
        let n = input.compounds.len();
        let bb = crate::bbox_of(&input.compounds);
        let proj = Projection::for_bbox(&bb);
        let mut x = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        let mut area = Vec::with_capacity(n);
        let mut centroid = Vec::with_capacity(n);
        for c in &input.compounds {
            let (a, cen) = match &c.geometry {
                Geometry::Point(p) => (0.0, *p),
                Geometry::Polygons(polys) => {
                    let mut a_tot = 0.0;
                    let (mut sx, mut sy) = (0.0, 0.0);
                    let mut fallback = None;
                    for poly in polys {
                        let rings: Vec<Vec<Pt>> = poly
                            .iter()
                            .map(|r| r.iter().map(|&p| proj.apply(p)).collect())
                            .collect();
                        let (a, c) = polygon_area_centroid(&rings);
                        a_tot += a;
                        sx += a * c[0];
                        sy += a * c[1];
                        fallback.get_or_insert(c);
                    }
                    let pc = if a_tot > 0.0 {
                        [sx / a_tot, sy / a_tot]
                    } else {
                        fallback.unwrap_or([0.0, 0.0])
                    };
                    (a_tot, [pc[0] / proj.x_scale, pc[1]])
                }
            };
            let cen = if cen[0].is_finite() && cen[1].is_finite() {
                cen
            } else {
                [0.0, 0.0]
            };
            let p = proj.apply(cen);
            x.push(p[0]);
            y.push(p[1]);
            area.push(if a.is_finite() { a } else { 0.0 });
            centroid.push(cen);
        }
        // Nominal area for points and degenerate polygons.
        let nominal = if bb.is_empty() || n == 0 {
            1.0
        } else {
            let a = bb.width() * proj.x_scale * bb.height() / n as f64;
            if a > 0.0 { a } else { 1.0 }
        };
        for a in area.iter_mut() {
            if *a <= 0.0 {
                *a = nominal;
            }
        }

        // Communities, numbered in name order for determinism.
        let names: std::collections::BTreeSet<Option<String>> = input
            .compounds
            .iter()
            .map(|c| c.community.clone())
            .collect();
        let community_names: Vec<Option<String>> = names.into_iter().collect();
        let index: HashMap<&Option<String>, u32> = community_names
            .iter()
            .enumerate()
            .map(|(i, c)| (c, i as u32))
            .collect();
        let community: Vec<u32> = input
            .compounds
            .iter()
            .map(|c| index[&c.community])
            .collect();
        let h: Vec<i64> = input.compounds.iter().map(|c| c.households).collect();
        let oversized: Vec<bool> = h.iter().map(|&v| v > hi).collect();
        let mut own = vec![false; n];
        for &v in &input.alone {
            own[v] = true;
        }
        let alone: Vec<bool> = (0..n).map(|v| oversized[v] || own[v]).collect();

        let mut centres = BBox::empty();
        for (&cx, &cy) in x.iter().zip(&y) {
            centres.add([cx, cy]);
        }
        let barriers = BarrierIndex::new(&input.barriers, &proj, &centres);
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity(input.adjacency.len() * 2);
        for &(a, b) in &input.adjacency {
            if a == b || community[a] != community[b] || alone[a] || alone[b] {
                continue;
            }
            if barriers.crosses([x[a], y[a]], [x[b], y[b]]) {
                continue;
            }
            edges.push((a as u32, b as u32));
            edges.push((b as u32, a as u32));
        }
        edges.sort_unstable();
        edges.dedup();
        let mut off = vec![0u32; n + 1];
        for &(a, _) in &edges {
            off[a as usize + 1] += 1;
        }
        for i in 0..n {
            off[i + 1] += off[i];
        }
        let nbr: Vec<u32> = edges.iter().map(|&(_, b)| b).collect();
        Prepared {
            h,
            x,
            y,
            area,
            community,
            community_names,
            own,
            alone,
            off,
            nbr,
            centroid,
        }
    }

    #[inline]
    pub fn nbrs(&self, v: u32) -> &[u32] {
        &self.nbr[self.off[v as usize] as usize..self.off[v as usize + 1] as usize]
    }
}

/// Uniform-grid index of barrier segments (projected coordinates).
struct BarrierIndex {
    cell: f64,
    segs: Vec<(Pt, Pt)>,
    cells: HashMap<(i64, i64), Vec<u32>>,
}

impl BarrierIndex {
    /// `centres`: the box of the (projected) compound centroids, whose edges are tested.
    fn new(lines: &[Vec<Pt>], proj: &Projection, centres: &BBox) -> Self {
        let mut segs = Vec::new();
        let mut bb = BBox::empty();
        for line in lines {
            for w in line.windows(2) {
                let (a, b) = (proj.apply(w[0]), proj.apply(w[1]));
                if a[0].is_finite() && a[1].is_finite() && b[0].is_finite() && b[1].is_finite() {
                    segs.push((a, b));
                    bb.add(a);
                    bb.add(b);
                }
            }
        }
        let mut idx = BarrierIndex {
            cell: 1.0,
            segs,
            cells: HashMap::new(),
        };
        if idx.segs.is_empty() {
            return idx;
        }
        // The box of both, so that an edge between compounds never needs more than about a
        // thousand samples: a box of the barriers alone, for one short barrier, made cells so
        // small that a long edge's samples stepped over the cell holding it.
        if !centres.is_empty() {
            bb.add(centres.min);
            bb.add(centres.max);
        }
        let span = bb.width().max(bb.height());
        // About 512 cells across, but never so small that the segments, walked cell by cell
        // (18 entries a cell's length), make more than about 4 million entries.
        let total: f64 = idx
            .segs
            .iter()
            .map(|(a, b)| ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt())
            .sum();
        idx.cell = if span > 0.0 {
            (span / 512.0).max(total * 18.0 / 4e6)
        } else {
            1.0
        };
        for (k, &(a, b)) in idx.segs.iter().enumerate() {
            let cells = idx.cells_along(a, b);
            for c in cells {
                idx.cells.entry(c).or_default().push(k as u32);
            }
        }
        for v in idx.cells.values_mut() {
            v.dedup();
        }
        idx
    }

    /// Cells touched by a segment (conservatively: the 2×2 neighbourhood of sample points
    /// spaced at most half a cell apart).
    fn cells_along(&self, a: Pt, b: Pt) -> Vec<(i64, i64)> {
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        let steps = ((len / (self.cell * 0.5)).ceil() as usize).clamp(1, 1_000_000);
        let mut out = Vec::with_capacity(steps + 1);
        for s in 0..=steps {
            let t = s as f64 / steps as f64;
            let px = a[0] + (b[0] - a[0]) * t;
            let py = a[1] + (b[1] - a[1]) * t;
            let cx = (px / self.cell).floor() as i64;
            let cy = (py / self.cell).floor() as i64;
            for dx in -1..=1 {
                for dy in -1..=1 {
                    out.push((cx + dx, cy + dy));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn crosses(&self, a: Pt, b: Pt) -> bool {
        if self.segs.is_empty() {
            return false;
        }
        for c in self.cells_along(a, b) {
            if let Some(list) = self.cells.get(&c) {
                for &k in list {
                    let (p, q) = self.segs[k as usize];
                    if segments_intersect(a, b, p, q) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// Connected components of the prepared graph restricted to nodes where `keep` holds; nodes in
/// each component in BFS order, components ordered by their smallest node.
pub(crate) fn components(prep: &Prepared, keep: impl Fn(usize) -> bool) -> Vec<Vec<u32>> {
    let n = prep.h.len();
    let mut seen = vec![false; n];
    let mut out = Vec::new();
    for s in 0..n {
        if seen[s] || !keep(s) {
            continue;
        }
        seen[s] = true;
        let mut comp = vec![s as u32];
        let mut i = 0;
        while i < comp.len() {
            let v = comp[i];
            i += 1;
            for &u in prep.nbrs(v) {
                if !seen[u as usize] && keep(u as usize) {
                    seen[u as usize] = true;
                    comp.push(u);
                }
            }
        }
        out.push(comp);
    }
    out
}

struct G {
    m: Vec<u32>,
    w: i64,
    alive: bool,
    locked: bool,
}

struct Work<'a> {
    p: &'a Prepared,
    lo: i64,
    hi: i64,
    part: Vec<u32>,
    grids: Vec<G>,
    avail: Vec<u32>,
    tok: u32,
    infront: Vec<u32>,
    ftok: u32,
    mark: Vec<u32>,
    mtok: u32,
    seed: u64,
    /// Current attempt of the multi-start (varies sweep direction and tie-breaking).
    attempt: u64,
    w_free: f64,
    w_noise: f64,
    scale: f64,
    /// Kept grids that took in a free piece below the floor: locked while the other pieces are
    /// planned (so nothing planned later moves their compounds), freed for the final split.
    absorbed: Vec<u32>,
    /// Grids the user keeps as they are ([`crate::Input::fixed`]): locked for good, and they
    /// take in nothing.
    fixed: Vec<u32>,
    /// Scratch of [`Work::grow`]: its frontier's households.
    fw: FrontierWeights,
    /// Scratch of [`Work::light_starts`]: each member's branch around the hub, and whether
    /// each branch is heavy.
    branch: Vec<u32>,
    branch_heavy: Vec<bool>,
    /// The hub of the last set [`Work::light_starts`] found light starts in.
    branch_hub: u32,
    /// [`Work::grow`] stops before taking this compound in (`NONE`: never), and says so.
    grow_stop: u32,
    grow_stopped: bool,
    /// Each member's branch in its grid's [`GridBranches`] (where they are kept).
    grid_branch: Vec<u32>,
}

/// The households of a growing grid's frontier as a sorted multiset, so that the look-ahead
/// asks "is there one in this range?" with two binary searches instead of a pass over the
/// frontier. Compounds that join or leave the frontier are merged in only when a count is
/// asked for (a step whose best compound finishes the grid asks for none).
#[derive(Default)]
struct FrontierWeights {
    sorted: Vec<i64>,
    added: Vec<i64>,
    taken: Vec<i64>,
    merged: Vec<i64>,
}

impl FrontierWeights {
    fn clear(&mut self) {
        self.sorted.clear();
        self.added.clear();
        self.taken.clear();
    }

    fn add(&mut self, h: i64) {
        self.added.push(h);
    }

    /// `h` leaves the multiset (it must be in it).
    fn take(&mut self, h: i64) {
        self.taken.push(h);
    }

    /// Merges what was added and taken since the last call into `sorted`.
    fn sync(&mut self) {
        if self.added.is_empty() && self.taken.is_empty() {
            return;
        }
        self.added.sort_unstable();
        self.taken.sort_unstable();
        self.merged.clear();
        let (mut i, mut j, mut k) = (0, 0, 0);
        loop {
            let next = match (self.sorted.get(i), self.added.get(j)) {
                (Some(&a), Some(&b)) if a <= b => {
                    i += 1;
                    a
                }
                (_, Some(&b)) => {
                    j += 1;
                    b
                }
                (Some(&a), None) => {
                    i += 1;
                    a
                }
                (None, None) => break,
            };
            while k < self.taken.len() && self.taken[k] < next {
                k += 1;
            }
            if k < self.taken.len() && self.taken[k] == next {
                k += 1;
                continue;
            }
            self.merged.push(next);
        }
        std::mem::swap(&mut self.sorted, &mut self.merged);
        self.added.clear();
        self.taken.clear();
    }

    /// How many households lie in `lo..=hi` (after [`Self::sync`]).
    fn count(&self, lo: i64, hi: i64) -> usize {
        if lo > hi {
            return 0;
        }
        let end = self.sorted.partition_point(|&x| x <= hi);
        let start = self.sorted.partition_point(|&x| x < lo);
        end.saturating_sub(start)
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<'a> Work<'a> {
    fn new(p: &'a Prepared, lo: i64, hi: i64, seed: u64) -> Self {
        let n = p.h.len();
        let mean_area = if n > 0 {
            p.area.iter().sum::<f64>() / n as f64
        } else {
            1.0
        };
        Work {
            p,
            lo,
            hi,
            part: vec![NONE; n],
            grids: Vec::new(),
            avail: vec![0; n],
            tok: 0,
            infront: vec![0; n],
            ftok: 0,
            mark: vec![0; n],
            mtok: 0,
            seed,
            attempt: 0,
            w_free: 0.3,
            w_noise: 0.01,
            scale: if mean_area > 0.0 { mean_area } else { 1.0 },
            absorbed: Vec::new(),
            fixed: Vec::new(),
            fw: FrontierWeights::default(),
            branch: vec![0; n],
            branch_heavy: Vec::new(),
            branch_hub: NONE,
            grow_stop: NONE,
            grow_stopped: false,
            grid_branch: vec![0; n],
        }
    }

    /// Deterministic tie-breaking noise in [0, 1) for node `v` in the current attempt.
    fn noise(&self, v: u32) -> f64 {
        let z = splitmix(self.seed ^ splitmix((v as u64) << 16 ^ self.attempt));
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Rule 2 of the objective: a grid of several compounds over the ceiling is split in two
    /// where both parts reach the floor and the parts score better (in band, or over the
    /// ceiling by less); the parts are split again in turn. Candidate parts are the prefixes
    /// of a breadth-first order from each compound (connected by construction) whose
    /// remainder is connected.
    fn split_over_ceiling(&mut self) {
        let todo: Vec<u32> = (0..self.grids.len() as u32)
            .filter(|&g| self.over_and_free(g))
            .collect();
        self.split_all(todo);
        // Two neighbouring grids over the ceiling: their union split again may come closer to
        // it (three compounds of 160 and three of 160 at 200–300 make 480 and 480; the six
        // make three grids of 320). No single split of either grid shows it.
        for _pass in 0..MAX_RESPLIT_PASSES {
            let mut changed = false;
            for a in 0..self.grids.len() as u32 {
                if !self.over_and_free(a) {
                    continue;
                }
                // The neighbours as they are now: after a re-split, `a` is another grid.
                for b in self.neighbour_grids(a) {
                    if b < a || !self.over_and_free(b) {
                        continue;
                    }
                    let (ga, gb) = (&self.grids[a as usize], &self.grids[b as usize]);
                    let before = self.score(ga.w, false) + self.score(gb.w, false);
                    let mut union = ga.m.clone();
                    union.extend_from_slice(&gb.m);
                    let parts = self.split_fully(union);
                    let after: f64 = parts
                        .iter()
                        .map(|p| self.score(p.iter().map(|&v| self.p.h[v as usize]).sum(), false))
                        .sum();
                    if after > before + 1e-9 {
                        let mut parts = parts.into_iter();
                        for g in [a, b] {
                            let m = parts.next().unwrap_or_default();
                            self.set_members(g, m);
                        }
                        for m in parts {
                            self.new_grid(m, false);
                        }
                        changed = true;
                        break;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Stability, the last rule of the objective: where the current grids cover `comp` (its
    /// compounds exactly, none below the floor), and the grids just planned for it (from
    /// `first` on) have no more grids in band and score no better, the current grids stay.
    /// Without it, re-planning an adopted plan could reshuffle grids over the ceiling.
    fn keep_current_unless_worse(
        &mut self,
        comp: &[u32],
        first: usize,
        current: &[CurrentInfo],
        owner: &[u32],
    ) {
        let inside: HashSet<u32> = comp.iter().copied().collect();
        let mut which: Vec<u32> = Vec::new();
        for &v in comp {
            match owner[v as usize] {
                NONE => return, // a compound in no current grid
                k => which.push(k),
            }
        }
        which.sort_unstable();
        which.dedup();
        let cur: Vec<&Vec<u32>> = which
            .iter()
            .map(|&k| &current[k as usize].members)
            .collect();
        if cur.iter().any(|m| m.iter().any(|v| !inside.contains(v))) {
            return; // a current grid reaches outside the piece planned
        }
        let weight = |m: &[u32]| -> i64 { m.iter().map(|&v| self.p.h[v as usize]).sum() };
        if cur.iter().any(|m| weight(m) < self.lo) {
            return;
        }
        // Both as they will be after the final step splits grids over the ceiling.
        let quality = |sets: Vec<Vec<u32>>| {
            sets.into_iter()
                .flat_map(|m| self.split_fully(m))
                .map(|m| weight(&m))
                .fold((0usize, 0.0), |(k, sc), w| {
                    (
                        k + usize::from(self.lo <= w && w <= self.hi),
                        sc + self.score(w, false),
                    )
                })
        };
        let (ck, cs) = quality(cur.iter().map(|m| m.to_vec()).collect());
        let planned: Vec<u32> = (first as u32..self.grids.len() as u32)
            .filter(|&g| self.grids[g as usize].alive && !self.grids[g as usize].m.is_empty())
            .collect();
        let (pk, ps) = quality(
            planned
                .iter()
                .map(|&g| self.grids[g as usize].m.clone())
                .collect(),
        );
        if pk > ck || (pk == ck && ps > cs + 1e-9) {
            return;
        }
        for g in planned {
            self.set_members(g, Vec::new());
        }
        for m in cur {
            self.new_grid(m.clone(), false);
        }
    }

    /// A grid of several compounds over the ceiling that the planner may change.
    fn over_and_free(&self, g: u32) -> bool {
        let g = &self.grids[g as usize];
        g.alive && !g.locked && g.m.len() > 1 && g.w > self.hi
    }

    /// Splits the grids `todo` in two, and their parts again, while a split scores better.
    fn split_all(&mut self, mut todo: Vec<u32>) {
        while let Some(g) = todo.pop() {
            let (m, w) = (self.grids[g as usize].m.clone(), self.grids[g as usize].w);
            if m.len() < 2 || w <= self.hi || w < 2 * self.lo {
                continue;
            }
            let Some(part) = self.split_in_two(&m, w) else {
                continue;
            };
            let rest: Vec<u32> = m.iter().copied().filter(|v| !part.contains(v)).collect();
            self.set_members(g, rest);
            let id = self.new_grid(part, false);
            todo.push(g);
            todo.push(id);
        }
    }

    /// The connected set `m` split in two, and the parts again, while a split scores better
    /// (without touching the grids).
    fn split_fully(&self, m: Vec<u32>) -> Vec<Vec<u32>> {
        let mut done = Vec::new();
        let mut todo = vec![m];
        while let Some(m) = todo.pop() {
            let w: i64 = m.iter().map(|&v| self.p.h[v as usize]).sum();
            let part = if m.len() < 2 || w <= self.hi || w < 2 * self.lo {
                None
            } else {
                self.split_in_two(&m, w)
            };
            match part {
                Some(part) => {
                    todo.push(m.iter().copied().filter(|v| !part.contains(v)).collect());
                    todo.push(part);
                }
                None => done.push(m),
            }
        }
        done
    }

    /// Gives grid `g` the members `m` (an empty `m` retires it).
    fn set_members(&mut self, g: u32, m: Vec<u32>) {
        let w = m.iter().map(|&v| self.p.h[v as usize]).sum();
        for &v in &m {
            self.part[v as usize] = g;
        }
        let gr = &mut self.grids[g as usize];
        gr.alive = !m.is_empty();
        gr.m = m;
        gr.w = w;
    }

    /// The best split of grid members `m` (total `w`) into two connected parts both at least
    /// the floor, if it scores better than the whole.
    fn split_in_two(&self, m: &[u32], w: i64) -> Option<Vec<u32>> {
        // The set's own edges by place in `m`, each member's in the order of its neighbours,
        // so that the searches below look up no compound.
        let local: NodeMap<u32> = m.iter().enumerate().map(|(i, &v)| (v, i as u32)).collect();
        let mut off = Vec::with_capacity(m.len() + 1);
        let mut adj: Vec<u32> = Vec::new();
        off.push(0);
        for &v in m {
            adj.extend(self.p.nbrs(v).iter().filter_map(|u| local.get(u).copied()));
            off.push(adj.len());
        }
        let set = LocalSet { off, adj };
        // Where every piece of the set without its hub is below the floor, no two disjoint
        // parts reach it: one misses the hub, so lies inside one such piece. Around a road
        // parcel, this spares the 64 searches.
        let branches = if m.len() >= HUB_STATS_MIN {
            self.set_branches(m, &set)
        } else {
            None
        };
        if branches.as_ref().is_some_and(|b| !b.heavy.contains(&true)) {
            if cfg!(debug_assertions) && m.len() <= 200 {
                assert_eq!(
                    self.split_in_two_by_search(m, w, &set, None),
                    None,
                    "a set without two parts at the floor split in two"
                );
            }
            return None;
        }
        self.split_in_two_by_search(m, w, &set, branches.as_ref())
    }

    /// The branches of the connected set `m` (its own edges `set`) around its *hub*, the
    /// member with the most neighbours in the set: the pieces of the set without it.
    fn set_branches(&self, m: &[u32], set: &LocalSet) -> Option<SetBranches> {
        let n = m.len();
        let hub = (0..n).max_by_key(|&i| (set.nbrs(i).len(), usize::MAX - i))?;
        let mut id = vec![NONE; n];
        let mut heavy = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        for i in 0..n {
            if i == hub || id[i] != NONE {
                continue;
            }
            let b = heavy.len() as u32;
            id[i] = b;
            stack.push(i);
            let mut w = 0;
            while let Some(x) = stack.pop() {
                w += self.p.h[m[x] as usize];
                for &u in set.nbrs(x) {
                    if u as usize != hub && id[u as usize] == NONE {
                        id[u as usize] = b;
                        stack.push(u as usize);
                    }
                }
            }
            heavy.push(w >= self.lo);
        }
        Some(SetBranches { hub, id, heavy })
    }

    /// [`Work::split_in_two`]: candidate parts are the prefixes of a breadth-first order from a
    /// start (every member, or 64 spread over a larger set) whose remainder is connected.
    /// With `branches` of the set, the remainders of a start that is the hub or in a light
    /// branch are checked only where they can be connected ([`LocalSet::tail_connected`]).
    fn split_in_two_by_search(
        &self,
        m: &[u32],
        w: i64,
        set: &LocalSet,
        branches: Option<&SetBranches>,
    ) -> Option<Vec<u32>> {
        let whole = self.score(w, false);
        let mut best: Option<(f64, Vec<u32>)> = None;
        // Every compound as a start on grids of usual size; on a huge one (hundreds of
        // compounds that could not be parted while growing) an even sample.
        let step = m.len().div_ceil(MAX_SPLIT_STARTS).max(1);
        let mut seen = vec![false; m.len()];
        let mut order: Vec<u32> = Vec::with_capacity(m.len());
        for start in (0..m.len()).step_by(step) {
            seen.iter_mut().for_each(|s| *s = false);
            seen[start] = true;
            order.clear();
            order.push(start as u32);
            let mut i = 0;
            while i < order.len() {
                for &j in set.nbrs(order[i] as usize) {
                    if !seen[j as usize] {
                        seen[j as usize] = true;
                        order.push(j);
                    }
                }
                i += 1;
            }
            if order.len() != m.len() {
                continue; // not connected: not a grid
            }
            // The key of a part of `wp` households, if both parts reach the floor and it
            // scores better than the whole.
            let key = |wp: i64| {
                let wr = w - wp;
                if wp < self.lo || wr < self.lo {
                    return None;
                }
                let gain = self.score(wp, false) + self.score(wr, false) - whole;
                // The score counts over-ceiling grids and their excess in total, so splits into
                // as many grids tie: take the one with a part nearest the ceiling, whose rest
                // may split again (960 as 320 + 640, then 320 + 320; not 480 + 480).
                let nearest = (wp - self.hi).max(0).min((wr - self.hi).max(0));
                (gain > 1e-9).then(|| gain - 1e-4 * nearest as f64 / self.hi as f64)
            };
            let beats = |best: &Option<(f64, Vec<u32>)>, key: f64| {
                best.as_ref().is_none_or(|(b, _)| *b < key)
            };
            // Whether the remainders are connected matters only if some prefix would beat the
            // best part so far.
            let mut wp = 0;
            let mut any = false;
            for &i in &order[..order.len() - 1] {
                wp += self.p.h[m[i as usize] as usize];
                if key(wp).is_some_and(|k| beats(&best, k)) {
                    any = true;
                    break;
                }
            }
            if !any {
                continue;
            }
            let rest_connected = match branches {
                Some(b) if start == b.hub || !b.heavy[b.id[start] as usize] => {
                    let tail = set.tail_connected(&order, b);
                    if cfg!(debug_assertions) && m.len() <= 200 {
                        let full = set.suffixes_connected(&order);
                        let after = 1 + order.iter().position(|&i| i as usize == b.hub).unwrap();
                        assert_eq!(tail[after..], full[after..], "tails around a hub");
                    }
                    tail
                }
                _ => set.suffixes_connected(&order),
            };
            let mut wp = 0;
            for k in 0..order.len() - 1 {
                wp += self.p.h[m[order[k] as usize] as usize];
                if !rest_connected[k + 1] {
                    continue;
                }
                let Some(key) = key(wp).filter(|&k| beats(&best, k)) else {
                    continue;
                };
                let mut p: Vec<u32> = order[..=k].iter().map(|&i| m[i as usize]).collect();
                p.sort_unstable();
                best = Some((key, p));
            }
        }
        best.map(|(_, p)| p)
    }

    fn new_grid(&mut self, m: Vec<u32>, locked: bool) -> u32 {
        let id = self.grids.len() as u32;
        let w = m.iter().map(|&v| self.p.h[v as usize]).sum();
        for &v in &m {
            self.part[v as usize] = id;
        }
        self.grids.push(G {
            m,
            w,
            alive: true,
            locked,
        });
        id
    }

    fn next(tok: &mut u32, arr: &mut [u32]) -> u32 {
        if *tok >= u32::MAX - 2 {
            arr.iter_mut().for_each(|x| *x = 0);
            *tok = 0;
        }
        *tok += 1;
        *tok
    }

    /// Score of a grid of `w` households (`empty`: no grid at all).
    fn score(&self, w: i64, empty: bool) -> f64 {
        if empty {
            0.0
        } else if w < self.lo {
            -3.0 + 0.5 * (w as f64 / self.lo as f64)
        } else if w <= self.hi {
            1.0
        } else {
            -0.05 - 0.2 * ((w - self.hi) as f64 / self.hi as f64)
        }
    }

    fn gscore(&self, g: u32) -> f64 {
        let g = &self.grids[g as usize];
        self.score(g.w, g.m.is_empty())
    }

    fn bad(&self, g: u32) -> bool {
        let g = &self.grids[g as usize];
        g.alive && !g.locked && !g.m.is_empty() && (g.w < self.lo || g.w > self.hi)
    }

    /// Grows a grid from `seed` over nodes with `avail == tok`, taking them (avail := 0).
    fn grow(&mut self, seed: u32, tok: u32) -> (Vec<u32>, i64) {
        let (lo, hi) = (self.lo, self.hi);
        let ftok = Self::next(&mut self.ftok, &mut self.infront);
        let mut members = vec![seed];
        self.avail[seed as usize] = 0;
        let mut w = self.p.h[seed as usize];
        let (mut sx, mut sy) = (self.p.x[seed as usize], self.p.y[seed as usize]);
        let mut frontier: Vec<u32> = Vec::new();
        self.infront[seed as usize] = ftok;
        // The frontier's households, for the look-ahead (see below).
        let mut fw = std::mem::take(&mut self.fw);
        fw.clear();
        for &u in self.p.nbrs(seed) {
            if self.avail[u as usize] == tok && self.infront[u as usize] != ftok {
                self.infront[u as usize] = ftok;
                frontier.push(u);
                fw.add(self.p.h[u as usize]);
            }
        }
        while w < lo {
            frontier.retain(|&c| self.avail[c as usize] == tok);
            if frontier.is_empty() {
                break;
            }
            let k = members.len() as f64;
            let (gx, gy) = (sx / k, sy / k);
            // The best compound that finishes the grid, and the best that fills it: (cost,
            // place in the frontier, compound); the first of equal costs.
            let mut best_finish: Option<(f64, usize, u32)> = None;
            let mut best_fill: Option<(f64, usize, u32)> = None;
            let beats = |best: Option<(f64, usize, u32)>, cost: f64, place: usize| {
                best.is_none_or(|(b, bp, _)| cost < b || (cost == b && place < bp))
            };
            let mut synced = false;
            // A compound with many neighbours (a hub) is looked at after the others: counting
            // its free neighbours costs thousands, and the cost without them (distance and
            // noise; they only add) usually shows it cannot be the best.
            let mut late: Vec<usize> = Vec::new();
            let (mut i, mut li) = (0, 0);
            loop {
                let (place, first) = if i < frontier.len() {
                    i += 1;
                    (i - 1, true)
                } else if li < late.len() {
                    li += 1;
                    (late[li - 1], false)
                } else {
                    break;
                };
                let c = frontier[place];
                let cu = c as usize;
                let nw = w + self.p.h[cu];
                if nw > hi {
                    continue;
                }
                if first && self.p.nbrs(c).len() > HUB_STATS_MIN {
                    late.push(place);
                    continue;
                }
                let d2 = ((self.p.x[cu] - gx).powi(2) + (self.p.y[cu] - gy).powi(2)) / self.scale;
                let noise = self.w_noise * self.noise(c);
                // At most the cost (rounding is monotone): a candidate it does not beat with
                // this cannot be the best.
                let near = d2 + noise;
                if nw >= lo {
                    if !beats(best_finish, near, place) {
                        continue;
                    }
                } else if best_finish.is_some() || !beats(best_fill, near, place) {
                    // Which compound fills matters only when none finishes the grid.
                    continue;
                }
                let free = self
                    .p
                    .nbrs(c)
                    .iter()
                    .filter(|&&u| self.avail[u as usize] == tok)
                    .count() as f64;
                let base = d2 + self.w_free * free + noise;
                if nw >= lo {
                    if beats(best_finish, base, place) {
                        best_finish = Some((base, place, c));
                    }
                } else {
                    // One whose cost before the look-ahead (which adds 0 or 2) does not beat
                    // the best fill's cannot be it: it needs no look-ahead.
                    if !beats(best_fill, base, place) {
                        continue;
                    }
                    // Look-ahead: can the grid land in band with one more compound? Another
                    // compound of the frontier (all of it is available) or a neighbour of `c`
                    // outside it. The frontier's households are kept sorted, so this is a
                    // count, not a pass over the frontier (around a hub, thousands).
                    let need_lo = lo - nw;
                    let need_hi = hi - nw;
                    let fits = |u: u32| {
                        let hu = self.p.h[u as usize];
                        u != c && hu >= need_lo && hu <= need_hi
                    };
                    if !synced {
                        fw.sync();
                        synced = true;
                    }
                    let own = usize::from(need_lo <= self.p.h[cu] && self.p.h[cu] <= need_hi);
                    let ok = fw.count(need_lo, need_hi) > own
                        || self.p.nbrs(c).iter().any(|&u| {
                            self.avail[u as usize] == tok
                                && self.infront[u as usize] != ftok
                                && fits(u)
                        });
                    let cost = base + if ok { 0.0 } else { 2.0 };
                    if beats(best_fill, cost, place) {
                        best_fill = Some((cost, place, c));
                    }
                }
            }
            let Some((_, _, c)) = best_finish.or(best_fill) else {
                break;
            };
            if c == self.grow_stop {
                self.grow_stopped = true;
                break;
            }
            let cu = c as usize;
            self.avail[cu] = 0;
            members.push(c);
            w += self.p.h[cu];
            sx += self.p.x[cu];
            sy += self.p.y[cu];
            fw.take(self.p.h[cu]);
            for &u in self.p.nbrs(c) {
                if self.avail[u as usize] == tok && self.infront[u as usize] != ftok {
                    self.infront[u as usize] = ftok;
                    frontier.push(u);
                    fw.add(self.p.h[u as usize]);
                }
            }
        }
        self.fw = fw;
        (members, w)
    }

    /// Plans one group of free compounds; returns the most in-band grids the group allows when
    /// that is proven (the result reaches the group's bound, or the exact search finished).
    fn plan_component(&mut self, comp: &[u32]) -> Option<usize> {
        let total: i64 = comp.iter().map(|&v| self.p.h[v as usize]).sum();
        if total < self.lo {
            // A piece below the floor: merge into a touching kept grid if there is one,
            // otherwise it is a whole small group.
            let mut best: Option<(f64, u32)> = None;
            for &v in comp {
                for &u in self.p.nbrs(v) {
                    let g = self.part[u as usize];
                    if g != NONE && self.grids[g as usize].locked && !self.fixed.contains(&g) {
                        let s = self.score(self.grids[g as usize].w + total, false);
                        if best.is_none_or(|(b, bg)| s > b || (s == b && g < bg)) {
                            best = Some((s, g));
                        }
                    }
                }
            }
            match best {
                Some((_, g)) => {
                    for &v in comp {
                        self.part[v as usize] = g;
                    }
                    let gr = &mut self.grids[g as usize];
                    gr.m.extend_from_slice(comp);
                    gr.w += total;
                    // Still locked: unlocked, the pieces planned next would take it for one
                    // of their own grids (their repair moved its compounds, and their
                    // rollback lost them).
                    self.absorbed.push(g);
                }
                None => {
                    self.new_grid(comp.to_vec(), false);
                }
            }
            return Some(0);
        }
        // Under the ceiling and too small for two grids: the whole group is the one grid in
        // band. (Under a wide band, 500–3,000 say, a group of 2,664 may make five.)
        if total <= self.hi && total < 2 * self.lo {
            self.new_grid(comp.to_vec(), false);
            return Some(1);
        }

        // Upper bound for this group: stop as soon as an attempt reaches it.
        let big = comp
            .iter()
            .filter(|&&v| (self.lo..=self.hi).contains(&self.p.h[v as usize]))
            .count();
        let small: i64 = comp
            .iter()
            .map(|&v| self.p.h[v as usize])
            .filter(|&h| h < self.lo)
            .sum();
        let bound = big + (small / self.lo) as usize;
        let first = self.grids.len() as u32;
        let mut best: Option<(f64, usize, Vec<Vec<u32>>)> = None;
        let mut last_gain = 0;
        for attempt in 0..ATTEMPTS {
            self.attempt = attempt;
            self.w_free = [0.3, 0.8, 0.1][attempt as usize % 3];
            self.w_noise = if attempt == 0 { 0.01 } else { 0.6 };
            let mine = self.attempt_component(comp, attempt);
            let mut score = 0.0;
            let mut in_band = 0;
            let mut parts = Vec::with_capacity(mine.len());
            for &g in &mine {
                let gr = &self.grids[g as usize];
                if !gr.alive || gr.m.is_empty() {
                    continue;
                }
                score += self.gscore(g) + 0.01 * compactness(self.p, &gr.m);
                if self.lo <= gr.w && gr.w <= self.hi {
                    in_band += 1;
                }
                parts.push(self.grids[g as usize].m.clone());
            }
            // Roll back.
            self.grids.truncate(first as usize);
            for &v in comp {
                self.part[v as usize] = NONE;
            }
            // In-band grids first (rule 1 of the objective), then the score.
            if best
                .as_ref()
                .is_none_or(|(b, bi, _)| in_band > *bi || (in_band == *bi && score > *b + 1e-12))
            {
                best = Some((score, in_band, parts));
                last_gain = attempt;
            }
            if in_band >= bound || attempt - last_gain >= PATIENCE {
                break;
            }
        }
        let (_, mut in_band, mut parts) = best?;
        let mut optimum = (in_band >= bound).then_some(in_band);
        // The exact search takes groups of at most 64 compounds (one bit each).
        if optimum.is_none() && comp.len() <= exact::MAX_NODES {
            let (h, adj) = group_masks(self.p, comp);
            let o = exact::solve(&h, &adj, self.lo, self.hi, EXACT_BUDGET, in_band + 1);
            if let Some(better) = o.best {
                in_band = better.in_band;
                parts = better
                    .parts
                    .iter()
                    .map(|&m| {
                        comp.iter()
                            .enumerate()
                            .filter(|&(i, _)| m >> i & 1 == 1)
                            .map(|(_, &v)| v)
                            .collect()
                    })
                    .collect();
            }
            optimum = o.proven.then_some(in_band);
        }
        for p in parts {
            self.new_grid(p, false);
        }
        optimum
    }

    /// One attempt of growing + repair on a group; returns its grids.
    fn attempt_component(&mut self, comp: &[u32], attempt: u64) -> Vec<u32> {
        let tok = Self::next(&mut self.tok, &mut self.avail);
        for &v in comp {
            self.avail[v as usize] = tok;
        }
        // Sweep direction: west→east first, then other directions.
        let ang = std::f64::consts::FRAC_PI_4 * (attempt % 8) as f64 + 0.3 * (attempt / 8) as f64;
        let (dx, dy) = (ang.cos(), ang.sin());
        let mut order: Vec<(f64, u32)> = comp
            .iter()
            .map(|&v| (self.p.x[v as usize] * dx + self.p.y[v as usize] * dy, v))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let first = self.grids.len() as u32;
        if attempt % 4 == 1 && comp.len() <= 300 {
            // Recursive multi-start split of the whole group.
            let (_, parts) = self.best_split(comp, 0);
            for p in parts {
                self.new_grid(p, false);
            }
        } else {
            for &(_, s) in &order {
                if self.avail[s as usize] != tok {
                    continue;
                }
                let (m, _) = self.grow(s, tok);
                self.new_grid(m, false);
            }
        }
        let mut mine: Vec<u32> = (first..self.grids.len() as u32).collect();
        self.repair(&mut mine);
        self.enforce_floor(&mut mine);
        mine
    }

    /// Distinct unlocked neighbouring grids of grid `a`, ascending.
    fn neighbour_grids(&self, a: u32) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::new();
        for &v in &self.grids[a as usize].m {
            for &u in self.p.nbrs(v) {
                let g = self.part[u as usize];
                if g != a && g != NONE && !self.grids[g as usize].locked {
                    out.push(g);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether grid `g` stays connected without node `skip`.
    fn connected_without(&mut self, g: u32, skip: u32) -> bool {
        let m = &self.grids[g as usize].m;
        if m.len() <= 2 {
            return true;
        }
        let mt = Self::next(&mut self.mtok, &mut self.mark);
        let m = &self.grids[g as usize].m;
        let start = if m[0] == skip { m[1] } else { m[0] };
        let mut stack = vec![start];
        self.mark[start as usize] = mt;
        self.mark[skip as usize] = mt;
        let mut reached = 1;
        while let Some(v) = stack.pop() {
            for &u in self.p.nbrs(v) {
                if self.part[u as usize] == g && self.mark[u as usize] != mt {
                    self.mark[u as usize] = mt;
                    reached += 1;
                    stack.push(u);
                }
            }
        }
        reached == m.len() - 1
    }

    fn move_node(&mut self, v: u32, from: u32, to: u32) {
        let h = self.p.h[v as usize];
        let fm = &mut self.grids[from as usize].m;
        if let Some(pos) = fm.iter().position(|&x| x == v) {
            fm.swap_remove(pos);
        }
        self.grids[from as usize].w -= h;
        if self.grids[from as usize].m.is_empty() {
            self.grids[from as usize].alive = false;
        }
        self.grids[to as usize].m.push(v);
        self.grids[to as usize].w += h;
        self.part[v as usize] = to;
    }

    /// Best partition of a connected node set: multi-start growing, then the remainder's
    /// pieces (recursively once). Returns the score and the parts. [`Work::hub_split`] tells
    /// its answer for sets around a hub without running it, by the argument in [`HubStats`]:
    /// a change here (starts, estimates, the order of the parts) must be made there too
    /// (debug builds check the two against each other).
    fn best_split(&mut self, set: &[u32], depth: u32) -> (f64, Vec<Vec<u32>>) {
        self.best_split_known(set, depth, None)
    }

    /// [`Work::best_split`], where the caller may know which of the starts (in order; see
    /// [`split_step`]) are light ([`Work::light_starts`]): `light[k]` for the `k`-th, around
    /// `hub`.
    fn best_split_known(
        &mut self,
        set: &[u32],
        depth: u32,
        light: Option<(&[bool], u32)>,
    ) -> (f64, Vec<Vec<u32>>) {
        let total: i64 = set.iter().map(|&v| self.p.h[v as usize]).sum();
        let whole = self.score(total, set.is_empty());
        if total < 2 * self.lo || depth >= MAX_SPLIT_DEPTH {
            return (whole, vec![set.to_vec()]);
        }
        let n = set.len();
        let step = split_step(n, depth);
        // Around a hub, the parts grown from most starts cannot beat the whole (see
        // `Work::light_starts`): those are not grown.
        let branches = light.is_none() && n >= HUB_STATS_MIN && self.light_starts(set, whole);
        // Where the bound holds, a part from any start that takes the hub in cannot beat the
        // whole either: its growing stops there.
        let hub = match light {
            Some((_, hub)) => hub,
            None if branches => self.branch_hub,
            None => NONE,
        };
        // (estimate, part weight, part, remainder pieces)
        let mut cands: Vec<SplitCandidate> = Vec::new();
        let mut si = 0;
        let mut k = 0;
        while si < n {
            let s = set[si];
            si += step;
            let skip = match light {
                Some((light, _)) => light[k],
                None => branches && !self.branch_heavy[self.branch[s as usize] as usize],
            };
            k += 1;
            if skip {
                if debug_checked(n)
                    && let Some(c) = self.split_candidate(set, s, None, NONE)
                {
                    assert!(
                        c.0 <= whole,
                        "a part from a light start beats the whole: {} > {whole}",
                        c.0,
                    );
                }
                continue;
            }
            // A candidate whose estimate is not above the whole's is never explored (below):
            // its pieces need not all be listed.
            if let Some(c) = self.split_candidate(set, s, Some((total, whole)), hub) {
                cands.push(c);
            }
        }
        cands.sort_by(|a, b| b.0.total_cmp(&a.0));
        let beam = match depth {
            0 => 3,
            1 => 2,
            _ => 1,
        };
        // The set whole unless a split scores better (listed only then).
        let mut best: (f64, Option<Vec<Vec<u32>>>) = (whole, None);
        let mut tried: Vec<Vec<u32>> = Vec::new();
        for (est, pw, mut p, pieces) in cands {
            if tried.len() >= beam || est <= best.0 {
                break;
            }
            p.sort_unstable();
            if tried.contains(&p) {
                continue;
            }
            tried.push(p.clone());
            let mut sc = self.score(pw, false);
            let mut parts = vec![p];
            for piece in pieces.iter() {
                let (ps, pp) = self.best_split(piece, depth + 1);
                sc += ps;
                parts.extend(pp);
            }
            if sc > best.0 + 1e-9 {
                best = (sc, Some(parts));
            }
        }
        (best.0, best.1.unwrap_or_else(|| vec![set.to_vec()]))
    }

    /// A part grown in `set` from `s`, if it reaches the floor, with the pieces of the
    /// remainder and the estimate of the split ([`Work::best_split`]). With `drop`, the set's
    /// households and the whole's score: `None` as soon as the estimate cannot end above the
    /// whole's (the pieces not listed yet estimate at most their households / the floor), or
    /// as soon as the part grown would take in `hub`, where the bound of
    /// [`Work::light_starts`] holds around it (`NONE` otherwise).
    fn split_candidate(
        &mut self,
        set: &[u32],
        s: u32,
        drop: Option<(i64, f64)>,
        hub: u32,
    ) -> Option<SplitCandidate> {
        let tok = Self::next(&mut self.tok, &mut self.avail);
        for &v in set {
            self.avail[v as usize] = tok;
        }
        self.grow_stop = hub;
        let (p, pw) = self.grow(s, tok);
        self.grow_stop = NONE;
        if std::mem::take(&mut self.grow_stopped) {
            if debug_checked(set.len())
                && let Some((_, whole)) = drop
                && let Some(c) = self.split_candidate(set, s, None, NONE)
            {
                assert!(
                    c.0 <= whole,
                    "a part holding the hub beats the whole: {} > {whole}",
                    c.0
                );
            }
            return None;
        }
        if pw < self.lo {
            return None;
        }
        // Pieces of the remainder.
        let tok2 = Self::next(&mut self.tok, &mut self.avail);
        let mut pieces = Pieces::default();
        let mut est = self.score(pw, false);
        let mut left = drop.map_or(0, |(total, _)| total - pw);
        for &v in set {
            if self.avail[v as usize] != tok {
                continue;
            }
            self.avail[v as usize] = tok2;
            let start = pieces.members.len();
            pieces.members.push(v);
            let mut pw2 = 0;
            let mut i = start;
            while i < pieces.members.len() {
                let x = pieces.members[i];
                pw2 += self.p.h[x as usize];
                i += 1;
                for &u in self.p.nbrs(x) {
                    if self.avail[u as usize] == tok {
                        self.avail[u as usize] = tok2;
                        pieces.members.push(u);
                    }
                }
            }
            pieces.ends.push(pieces.members.len());
            est += self.estimate(pw2);
            if let Some((_, whole)) = drop {
                left -= pw2;
                // A margin far above the rounding of the sums.
                let most = est + left as f64 / self.lo as f64;
                if most + 1e-6 * (1.0 + pieces.ends.len() as f64) <= whole {
                    return None;
                }
            }
        }
        Some((est, pw, p, pieces))
    }

    /// Whether, in `set` (whose whole scores `whole`), no part grown
    /// from a start in a light branch around its hub can beat the whole, by the argument of
    /// [`HubStats`] with branches for pendants. The *hub* is the member with the most
    /// neighbours; the *branches* are the connected pieces of the set without it (a pendant is
    /// a branch of one), light below the floor, heavy at or above it. Where the hub is not
    /// over the ceiling, a part grown from the hub or from a light branch that reaches the
    /// floor holds the hub (inside the branch it stays below the floor), so holds at most the
    /// ceiling and scores at most 1. The remainder's pieces then each lie inside one branch:
    /// the pieces of a light branch not wholly in the part estimate at most the branch's own
    /// score (one piece below the floor scores less the lighter it is; two score below −5),
    /// those of a heavy branch at most `households / floor` in all (a piece at or above the
    /// floor estimates at most that). So the split's estimate is at most 1 + Σ heavy
    /// branches' `households / floor` + Σ light branches' scores − the scores of the light
    /// branches the part holds whole; those hold at most the ceiling less the hub, and the
    /// most that term can be is taken by the lightest branches that fit. Where that bound is
    /// at most the whole's score, such a part is never explored ([`Work::best_split`] stops
    /// at the first estimate not above the best score, which starts at the whole's), and
    /// only the starts in heavy branches need growing. Fills `branch` and `branch_heavy`.
    fn light_starts(&mut self, set: &[u32], whole: f64) -> bool {
        let (lo, hi) = (self.lo, self.hi);
        let mut hub = set[0];
        for &v in set {
            if self.p.nbrs(v).len() > self.p.nbrs(hub).len() {
                hub = v;
            }
        }
        let hub_h = self.p.h[hub as usize];
        if hub_h > hi {
            return false;
        }
        self.branch_hub = hub;
        let mt = Self::next(&mut self.mtok, &mut self.mark);
        for &v in set {
            self.mark[v as usize] = mt;
        }
        // Branch 0 is the hub itself (a start there grows a part holding it).
        self.branch_heavy.clear();
        self.branch_heavy.push(false);
        self.branch[hub as usize] = 0;
        self.mark[hub as usize] = 0;
        let mut light: Vec<i64> = Vec::new();
        let mut bound = 1.0;
        let mut stack: Vec<u32> = Vec::new();
        for &v in set {
            if self.mark[v as usize] != mt {
                continue;
            }
            let id = self.branch_heavy.len() as u32;
            self.mark[v as usize] = 0;
            self.branch[v as usize] = id;
            stack.push(v);
            let mut w = 0;
            while let Some(x) = stack.pop() {
                w += self.p.h[x as usize];
                for &u in self.p.nbrs(x) {
                    if self.mark[u as usize] == mt {
                        self.mark[u as usize] = 0;
                        self.branch[u as usize] = id;
                        stack.push(u);
                    }
                }
            }
            self.branch_heavy.push(w >= lo);
            if w >= lo {
                bound += w as f64 / lo as f64;
            } else {
                bound += self.score(w, false);
                light.push(w);
            }
        }
        light.sort_unstable();
        let mut room = hi - hub_h;
        for w in light {
            if w > room {
                break;
            }
            room -= w;
            bound -= self.score(w, false);
        }
        // A margin far above the rounding of the estimates' sums.
        bound + 1e-6 * self.branch_heavy.len() as f64 <= whole
    }

    /// A branch's term in the bound of [`Work::light_starts`]: `households / floor` for a
    /// heavy branch, its score for a light one.
    fn branch_term(&self, w: i64) -> f64 {
        if w >= self.lo {
            w as f64 / self.lo as f64
        } else {
            self.score(w, false)
        }
    }

    /// The branches of grid `g` around its member with the most neighbours.
    fn grid_branches(&mut self, g: u32) -> GridBranches {
        let len = self.grids[g as usize].m.len();
        let mut hub = self.grids[g as usize].m[0];
        for i in 0..len {
            let v = self.grids[g as usize].m[i];
            if self.p.nbrs(v).len() > self.p.nbrs(hub).len() {
                hub = v;
            }
        }
        let mt = Self::next(&mut self.mtok, &mut self.mark);
        self.mark[hub as usize] = mt;
        self.grid_branch[hub as usize] = NONE;
        let (mut weights, mut light, mut terms) = (Vec::new(), Vec::new(), 0.0);
        let mut stack: Vec<u32> = Vec::new();
        for i in 0..len {
            let v = self.grids[g as usize].m[i];
            if self.mark[v as usize] == mt {
                continue;
            }
            let id = weights.len() as u32;
            self.mark[v as usize] = mt;
            self.grid_branch[v as usize] = id;
            stack.push(v);
            let mut w = 0;
            while let Some(x) = stack.pop() {
                w += self.p.h[x as usize];
                for &u in self.p.nbrs(x) {
                    if self.part[u as usize] == g && self.mark[u as usize] != mt {
                        self.mark[u as usize] = mt;
                        self.grid_branch[u as usize] = id;
                        stack.push(u);
                    }
                }
            }
            weights.push(w);
            terms += self.branch_term(w);
            if w < self.lo {
                light.push(w);
            }
        }
        light.sort_unstable();
        let hub_h = self.p.h[hub as usize];
        let mut room = hub_h.max(self.hi) - hub_h;
        let mut fit = 0.0;
        for w in light {
            if w > room {
                break;
            }
            room -= w;
            fit -= self.score(w, false);
        }
        GridBranches {
            hub,
            hub_h,
            weights,
            terms,
            fit,
        }
    }

    /// Which starts of [`Work::best_split`]`(set, 0)` are light ([`Work::light_starts`]),
    /// where `set` is grid `a`'s members followed by `b`'s (if any), and the bound shows it:
    /// from the branches of the larger grid (kept in `cache`), the branches of the other
    /// joined with those it touches, which cost only the other's members. `None` where the
    /// bound does not hold.
    fn union_light(
        &mut self,
        a: u32,
        b: Option<u32>,
        cache: &mut HashMap<u32, GridBranches>,
    ) -> Option<(Vec<bool>, u32)> {
        let (big, small) = match b {
            Some(b) if self.grids[b as usize].m.len() > self.grids[a as usize].m.len() => {
                (b, Some(a))
            }
            _ => (a, b),
        };
        match cache.get(&big) {
            Some(gb) => {
                if cfg!(debug_assertions) && self.grids[big as usize].m.len() <= 1_000 {
                    let (hub, weights) = (gb.hub, gb.weights.clone());
                    let fresh = self.grid_branches(big);
                    assert!(
                        fresh.hub == hub && fresh.weights == weights,
                        "kept branches of grid {big} out of date"
                    );
                }
            }
            None => {
                let gb = self.grid_branches(big);
                cache.insert(big, gb);
            }
        }
        let gb = &cache[&big];
        let lo = self.lo;
        let len_a = self.grids[a as usize].m.len();
        let (len, total) = match b {
            Some(b) => (
                len_a + self.grids[b as usize].m.len(),
                self.grids[a as usize].w + self.grids[b as usize].w,
            ),
            None => (len_a, self.grids[a as usize].w),
        };
        if gb.hub_h > self.hi || total < 2 * lo {
            return None;
        }
        // Union-find over `small`'s members, then the branches of `big` they touch.
        let xs: &[u32] = match small {
            Some(x) => &self.grids[x as usize].m,
            None => &[],
        };
        let local: NodeMap<usize> = xs.iter().enumerate().map(|(i, &v)| (v, i)).collect();
        let mut touched: NodeMap<usize> = NodeMap::default();
        let mut parent: Vec<usize> = (0..xs.len()).collect();
        fn root(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for (i, &v) in xs.iter().enumerate() {
            for &u in self.p.nbrs(v) {
                let j = if let Some(&j) = local.get(&u) {
                    j
                } else if self.part[u as usize] == big && u != gb.hub {
                    let b = self.grid_branch[u as usize];
                    *touched.entry(b).or_insert_with(|| {
                        parent.push(parent.len());
                        parent.len() - 1
                    })
                } else {
                    continue;
                };
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                if ri != rj {
                    parent[ri] = rj;
                }
            }
        }
        // Households of each joined branch, by its root.
        let mut joined = vec![0i64; parent.len()];
        for (i, &v) in xs.iter().enumerate() {
            joined[root(&mut parent, i)] += self.p.h[v as usize];
        }
        let mut bound = 1.0 + gb.terms + gb.fit;
        for (&b, &j) in &touched {
            let w = gb.weights[b as usize];
            joined[root(&mut parent, j)] += w;
            bound -= self.branch_term(w);
        }
        let mut branches = gb.weights.len() - touched.len();
        for (j, &w) in joined.iter().enumerate() {
            if root(&mut parent, j) != j {
                continue;
            }
            branches += 1;
            bound += self.branch_term(w);
            if w < lo {
                // Held whole by a part, it adds at most this to the light branches held.
                bound -= self.score(w, false);
            }
        }
        if bound + 1e-6 * (branches + 1) as f64 > self.score(total, false) {
            return None;
        }
        let light = (0..len)
            .step_by(split_step(len, 0))
            .map(|i| {
                let s = match (i.checked_sub(len_a), b) {
                    (Some(j), Some(b)) => self.grids[b as usize].m[j],
                    _ => self.grids[a as usize].m[i],
                };
                if s == gb.hub {
                    return true;
                }
                let j = match local.get(&s) {
                    Some(&j) => j,
                    None => {
                        let b = self.grid_branch[s as usize];
                        match touched.get(&b) {
                            Some(&j) => j,
                            None => return gb.weights[b as usize] < lo,
                        }
                    }
                };
                joined[root(&mut parent, j)] < lo
            })
            .collect();
        Some((light, gb.hub))
    }

    /// Optimistic-ish value of a connected piece of `w` households, for ranking splits.
    fn estimate(&self, w: i64) -> f64 {
        if w < self.lo {
            self.score(w, false)
        } else if w <= self.hi {
            1.0
        } else {
            ((w as f64 / self.hi as f64).floor()).max(1.0) * 0.95
        }
    }

    /// Local repair of out-of-band grids among `mine` (new grids may be appended).
    fn repair(&mut self, mine: &mut Vec<u32>) {
        let mut queue: VecDeque<u32> = mine.iter().copied().filter(|&g| self.bad(g)).collect();
        let mut budget = 20 * mine.len() + 100;
        // Moves made so far, and for each grid how many had been made when it last found none:
        // a grid is queued again after every move that leaves it outside the band (a hub's
        // grid, once per compound it takes in), and while nothing has moved since, it would
        // find nothing again.
        let mut moves = 0u64;
        let mut idle: HashMap<u32, u64> = HashMap::new();
        // Hub statistics of grids (by grid), and those of the unions evaluated for one grid.
        let mut hubs = HubCache::default();
        let mut derived: Vec<(u32, u32, HubStats)> = Vec::new();
        // Branches of grids around their hubs (by grid), for the unions' splits.
        let mut branches: HashMap<u32, GridBranches> = HashMap::new();
        while let Some(a) = queue.pop_front() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            if !self.bad(a) || idle.get(&a) == Some(&moves) {
                continue;
            }
            let nbs = self.neighbour_grids(a);
            let sa = self.gscore(a);
            let wa = self.grids[a as usize].w;
            // (gain, kind, data)
            let mut best_gain = 1e-9;
            let mut best: Option<Move> = None;
            // Single-node moves across the boundary of a.
            let members = self.grids[a as usize].m.clone();
            for &v in &members {
                for &u in self.p.nbrs(v) {
                    let b = self.part[u as usize];
                    if b == a || b == NONE || self.grids[b as usize].locked {
                        continue;
                    }
                    let wb = self.grids[b as usize].w;
                    let sb = self.gscore(b);
                    // push v: a -> b
                    let hv = self.p.h[v as usize];
                    let na = self.grids[a as usize].m.len();
                    let gain = self.score(wa - hv, na == 1) + self.score(wb + hv, false) - sa - sb;
                    if gain > best_gain && self.connected_without(a, v) {
                        best_gain = gain;
                        best = Some(Move::Node(v, a, b));
                    }
                    // pull u: b -> a
                    let hu = self.p.h[u as usize];
                    let nb = self.grids[b as usize].m.len();
                    let gain = self.score(wa + hu, false) + self.score(wb - hu, nb == 1) - sa - sb;
                    if gain > best_gain && self.connected_without(b, u) {
                        best_gain = gain;
                        best = Some(Move::Node(u, b, a));
                    }
                }
            }
            // Re-partition a ∪ b.
            derived.clear();
            for &b in &nbs {
                let sb = self.gscore(b);
                // A hub's grid and one compound hanging off the hub: what `best_split` does
                // with their union may follow from the hub statistics, without growing a part
                // from 16 starts over the hub's whole neighbour list (see `HubStats`).
                if let Some(u) = self.union_stats(a, b, &mut hubs) {
                    derived.push((u.base, u.x, u.merged));
                    if let Some(split) = self.hub_split(&u.merged, u.heavy_index, u.len) {
                        let gain = split.score() - sa - sb;
                        if gain > best_gain || debug_checked(u.len) {
                            let mut set = self.grids[a as usize].m.clone();
                            set.extend_from_slice(&self.grids[b as usize].m);
                            let parts = self.hub_split_parts(&set, split);
                            if gain > best_gain {
                                best_gain = gain;
                                best = Some(Move::Split(vec![a, b], parts));
                            }
                        }
                        continue;
                    }
                }
                // Around a hub: which starts need growing, from the larger grid's branches;
                // where none does, the union stays whole, known without listing it.
                let len = self.grids[a as usize].m.len() + self.grids[b as usize].m.len();
                let light = if len >= HUB_STATS_MIN {
                    self.union_light(a, Some(b), &mut branches)
                } else {
                    None
                };
                let whole = light.as_ref().is_some_and(|(l, _)| l.iter().all(|&l| l));
                if whole && !debug_checked(len) {
                    let wu = self.grids[a as usize].w + self.grids[b as usize].w;
                    let gain = self.score(wu, false) - sa - sb;
                    if gain > best_gain {
                        let mut set = self.grids[a as usize].m.clone();
                        set.extend_from_slice(&self.grids[b as usize].m);
                        best_gain = gain;
                        best = Some(Move::Split(vec![a, b], vec![set]));
                    }
                    continue;
                }
                let mut set = self.grids[a as usize].m.clone();
                set.extend_from_slice(&self.grids[b as usize].m);
                let known = light.as_ref().map(|(l, hub)| (l.as_slice(), *hub));
                let (sc, parts) = self.best_split_known(&set, 0, known);
                if whole {
                    assert_eq!(parts, vec![set], "a union around a hub split after all");
                }
                let gain = sc - sa - sb;
                if gain > best_gain {
                    best_gain = gain;
                    best = Some(Move::Split(vec![a, b], parts));
                }
            }
            // Split a on its own.
            if wa > self.hi && members.len() > 1 {
                let known = if members.len() >= HUB_STATS_MIN {
                    let st = self.hub_stats_cached(a, &mut hubs);
                    let heavy_index = (st.heavy == 1).then_some(st.heavy_pos);
                    self.hub_split(&st, heavy_index, members.len())
                } else {
                    None
                };
                let (sc, parts) = match known {
                    Some(split) => (split.score(), self.hub_split_parts(&members, split)),
                    None => {
                        let light = if members.len() >= HUB_STATS_MIN {
                            self.union_light(a, None, &mut branches)
                        } else {
                            None
                        };
                        let known = light.as_ref().map(|(l, hub)| (l.as_slice(), *hub));
                        self.best_split_known(&members, 0, known)
                    }
                };
                let gain = sc - sa;
                if gain > best_gain {
                    best = Some(Move::Split(vec![a], parts));
                }
            }
            if best.is_some() {
                moves += 1;
            }
            // The statistics of the grids a move changes: known where a compound hung off a
            // hub joins its grid, recomputed when next asked for otherwise.
            match &best {
                None => {}
                Some(Move::Node(x, from, to)) => {
                    let st = derived
                        .iter()
                        .find(|&&(base, y, _)| base == *to && y == *x)
                        .map(|&(_, _, st)| st);
                    hubs.insert(*from, None);
                    hubs.insert(*to, st);
                    branches.remove(from);
                    branches.remove(to);
                }
                Some(Move::Split(olds, _)) => {
                    for &g in olds {
                        hubs.insert(g, None);
                        branches.remove(&g);
                    }
                }
            }
            match best {
                None => {
                    idle.insert(a, moves);
                }
                Some(Move::Node(v, from, to)) => {
                    self.move_node(v, from, to);
                    for g in [from, to] {
                        if self.bad(g) {
                            queue.push_back(g);
                        }
                    }
                }
                Some(Move::Split(olds, parts)) => {
                    for &g in &olds {
                        let gr = &mut self.grids[g as usize];
                        gr.m.clear();
                        gr.w = 0;
                        gr.alive = false;
                    }
                    let mut ids = olds.clone();
                    for (k, p) in parts.into_iter().enumerate() {
                        let id = if k < olds.len() {
                            ids[k]
                        } else {
                            let id = self.grids.len() as u32;
                            self.grids.push(G {
                                m: Vec::new(),
                                w: 0,
                                alive: true,
                                locked: false,
                            });
                            mine.push(id);
                            ids.push(id);
                            id
                        };
                        let w = p.iter().map(|&v| self.p.h[v as usize]).sum();
                        for &v in &p {
                            self.part[v as usize] = id;
                        }
                        let g = &mut self.grids[id as usize];
                        g.m = p;
                        g.w = w;
                        g.alive = true;
                    }
                    for g in ids {
                        if self.bad(g) {
                            queue.push_back(g);
                        }
                    }
                }
            }
        }
    }

    /// The hub statistics of grid `g`, from `cache` or computed (and kept there).
    fn hub_stats_cached(&self, g: u32, cache: &mut HubCache) -> HubStats {
        if let Some(st) = cache.get(g) {
            // Cheap next to the repair that asks: checked on all but huge grids.
            if cfg!(debug_assertions) && self.grids[g as usize].m.len() <= 1_000 {
                assert!(
                    st.same(&self.hub_stats_around(g, st.hub)),
                    "kept hub statistics of grid {g} out of date"
                );
            }
            return st;
        }
        let m = &self.grids[g as usize].m;
        let mut hub = m[0];
        for &v in m {
            if self.p.nbrs(v).len() > self.p.nbrs(hub).len() {
                hub = v;
            }
        }
        let st = self.hub_stats_around(g, hub);
        cache.insert(g, Some(st));
        st
    }

    /// The statistics of grid `g` around its member `hub`.
    fn hub_stats_around(&self, g: u32, hub: u32) -> HubStats {
        let m = &self.grids[g as usize].m;
        let mut st = HubStats::new(hub, self.p.h[hub as usize]);
        for (pos, &y) in m.iter().enumerate() {
            if y == hub {
                continue;
            }
            let mut inside = self
                .p
                .nbrs(y)
                .iter()
                .filter(|&&u| self.part[u as usize] == g);
            let pendant = inside.next() == Some(&hub) && inside.next().is_none();
            st.add(y, pos, self.p.h[y as usize], pendant, self.lo);
        }
        st
    }

    /// The hub statistics of `a ∪ b` where one of them is a single compound `x` whose only
    /// neighbour in the other is that one's hub, when the union is large enough for it to
    /// matter.
    fn union_stats(&self, a: u32, b: u32, cache: &mut HubCache) -> Option<UnionStats> {
        let (ga, gb) = (&self.grids[a as usize], &self.grids[b as usize]);
        let len = ga.m.len() + gb.m.len();
        if len < HUB_STATS_MIN {
            return None;
        }
        let (base, x) = match (ga.m.as_slice(), gb.m.as_slice()) {
            ([x], _) => (b, *x),
            (_, [x]) => (a, *x),
            _ => return None,
        };
        let mut st = self.hub_stats_cached(base, cache);
        let mut inside = self
            .p
            .nbrs(x)
            .iter()
            .filter(|&&u| self.part[u as usize] == base);
        if inside.next() != Some(&st.hub) || inside.next().is_some() {
            return None;
        }
        // `x` joins the end of the base grid's members.
        let base_len = self.grids[base as usize].m.len();
        st.add(x, base_len, self.p.h[x as usize], true, self.lo);
        // Where the one heavy pendant stands in `a`'s members followed by `b`'s.
        let heavy_index = (st.heavy == 1).then(|| match (st.heavy_node == x, base == b) {
            (true, true) => 0,
            (true, false) => ga.m.len(),
            (false, true) => ga.m.len() + st.heavy_pos,
            (false, false) => st.heavy_pos,
        });
        Some(UnionStats {
            base,
            x,
            merged: st,
            heavy_index,
            len,
        })
    }

    /// What [`Work::best_split`]`(set, 0)` returns for a connected set of `len` members with
    /// hub statistics `st` (`heavy_index`: where its one heavy pendant stands in the set),
    /// where that follows without growing (see [`HubStats`]); `None` where it does not.
    fn hub_split(&self, st: &HubStats, heavy_index: Option<usize>, len: usize) -> Option<HubSplit> {
        if st.rest >= self.lo || st.max_h > self.hi || st.heavy > 1 {
            return None;
        }
        let whole = self.score(st.total, false);
        if st.total < 2 * self.lo {
            return Some(HubSplit::Whole(whole));
        }
        // Pendants a part can hold besides the hub: it holds at most the ceiling.
        let room = self.hi - st.hub_h;
        let fit = match st.min_positive {
            i64::MAX => st.zero,
            m => st.zero.saturating_add((room / m) as usize),
        }
        .min(st.pendants);
        // The estimate of a part holding the hub, with every heavy pendant inside it; a
        // margin far above the rounding of the sums.
        let light = 1.0 + st.pendant_score + 3.0 * fit as f64 + 1e-6 * (1.0 + st.pendants as f64);
        if st.heavy == 0 {
            return (light <= whole).then_some(HubSplit::Whole(whole));
        }
        // One heavy pendant: a part holding the hub may leave it out (a piece in band, +1),
        // and the heavy pendant, where it is a start, is a part on its own.
        if light + 1.0 > whole {
            return None;
        }
        let y = st.heavy_node;
        if heavy_index? % len.div_ceil(16).max(1) != 0 {
            return Some(HubSplit::Whole(whole));
        }
        let hy = self.p.h[y as usize];
        let rest = st.total - hy;
        let est = self.score(hy, false) + self.estimate(rest);
        if est <= whole {
            return Some(HubSplit::Whole(whole));
        }
        // Explored: the rest, split in turn, stays whole (it has no heavy pendant).
        if rest >= 2 * self.lo && light > self.score(rest, false) {
            return None;
        }
        let score = self.score(hy, false) + self.score(rest, false);
        Some(if score > whole + 1e-9 {
            HubSplit::OffPendant { score, pendant: y }
        } else {
            HubSplit::Whole(whole)
        })
    }

    /// The parts of `split` of `set`, as [`Work::best_split`] gives them: the rest after a
    /// pendant is taken off in breadth-first order from its first member. In debug builds,
    /// checked against `best_split` itself (on sets it is quick on).
    fn hub_split_parts(&mut self, set: &[u32], split: HubSplit) -> Vec<Vec<u32>> {
        let parts = match split {
            HubSplit::Whole(_) => vec![set.to_vec()],
            HubSplit::OffPendant { pendant, .. } => {
                let tok = Self::next(&mut self.tok, &mut self.avail);
                for &v in set {
                    self.avail[v as usize] = tok;
                }
                self.avail[pendant as usize] = 0;
                let first = set.iter().copied().find(|&v| v != pendant);
                let mut rest: Vec<u32> = first.into_iter().collect();
                if let Some(v) = first {
                    self.avail[v as usize] = 0;
                }
                let mut i = 0;
                while i < rest.len() {
                    for &u in self.p.nbrs(rest[i]) {
                        if self.avail[u as usize] == tok {
                            self.avail[u as usize] = 0;
                            rest.push(u);
                        }
                    }
                    i += 1;
                }
                vec![vec![pendant], rest]
            }
        };
        if debug_checked(set.len()) {
            let (score, expected) = self.best_split(set, 0);
            assert_eq!(
                (score.to_bits(), &expected),
                (split.score().to_bits(), &parts),
                "hub statistics disagree with best_split"
            );
        }
        parts
    }

    /// Merge every grid below the floor into its best neighbour.
    fn enforce_floor(&mut self, mine: &mut [u32]) {
        loop {
            let mut changed = false;
            for &a in mine.iter() {
                let g = &self.grids[a as usize];
                if !g.alive || g.m.is_empty() || g.w >= self.lo {
                    continue;
                }
                let nbs = self.neighbour_grids(a);
                let wa = g.w;
                let mut best: Option<(f64, u32)> = None;
                for b in nbs {
                    let wb = self.grids[b as usize].w;
                    let gain = self.score(wa + wb, false) - self.gscore(b);
                    if best.is_none_or(|(s, _)| gain > s) {
                        best = Some((gain, b));
                    }
                }
                if let Some((_, b)) = best {
                    let m = std::mem::take(&mut self.grids[a as usize].m);
                    for &v in &m {
                        self.part[v as usize] = b;
                    }
                    self.grids[b as usize].w += wa;
                    self.grids[b as usize].m.extend(m);
                    self.grids[a as usize].alive = false;
                    self.grids[a as usize].w = 0;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
}

/// A map from compounds, hashed by one multiplication (lookups only: nothing depends on
/// its order). Looking compounds up in a set around a hub is most of splitting it.
type NodeMap<V> = HashMap<u32, V, std::hash::BuildHasherDefault<NodeHasher>>;

#[derive(Default)]
struct NodeHasher(u64);

impl std::hash::Hasher for NodeHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// A set's own edges, its members numbered by their place in it ([`Work::split_in_two`]).
struct LocalSet {
    off: Vec<usize>,
    adj: Vec<u32>,
}

/// The branches of a set around its hub ([`Work::set_branches`]), by place in the set.
struct SetBranches {
    hub: usize,
    /// Each member's branch (`NONE` for the hub).
    id: Vec<u32>,
    /// Whether each branch reaches the floor.
    heavy: Vec<bool>,
}

impl LocalSet {
    fn nbrs(&self, i: usize) -> &[u32] {
        &self.adj[self.off[i]..self.off[i + 1]]
    }

    /// [`Self::suffixes_connected`] where `order` (of the whole set, from a start that is the
    /// hub of `b` or in a light branch) is cut only after the hub: the parts before it lie in
    /// the start's branch, below the floor, so the answers there are not asked for and stay
    /// `false`. After the hub, a remainder is connected only inside one branch (branches meet
    /// only at the hub): only the longest tail of `order` inside one branch is searched.
    fn tail_connected(&self, order: &[u32], b: &SetBranches) -> Vec<bool> {
        let n = order.len();
        let mut out = vec![false; n + 1];
        out[n] = true;
        let after = 1 + order.iter().position(|&i| i as usize == b.hub).unwrap_or(n);
        let mut from = n;
        if let Some(&last) = order.last()
            && last as usize != b.hub
        {
            let id = b.id[last as usize];
            while from > after && b.id[order[from - 1] as usize] == id {
                from -= 1;
            }
        }
        let local: NodeMap<usize> = order[from..]
            .iter()
            .enumerate()
            .map(|(k, &i)| (i, k))
            .collect();
        let mut parent: Vec<usize> = (0..n - from).collect();
        fn root(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let mut components = 0usize;
        for k in (from..n).rev() {
            let a = k - from;
            components += 1;
            for &u in self.nbrs(order[k] as usize) {
                if let Some(&c) = local.get(&u)
                    && c > a
                {
                    let (ra, rc) = (root(&mut parent, a), root(&mut parent, c));
                    if ra != rc {
                        parent[ra] = rc;
                        components -= 1;
                    }
                }
            }
            out[k] = components == 1;
        }
        out
    }

    /// For each `k`, whether `order[k..]` is connected: the suffixes are built from the back
    /// with a union-find, so all of them cost one pass over their edges.
    fn suffixes_connected(&self, order: &[u32]) -> Vec<bool> {
        let n = order.len();
        let mut parent: Vec<usize> = (0..n).collect();
        let mut added = vec![false; n];
        fn root(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let mut out = vec![false; n + 1];
        out[n] = true;
        let mut components = 0usize;
        for k in (0..n).rev() {
            let a = order[k] as usize;
            added[a] = true;
            components += 1;
            for &b in self.nbrs(a) {
                if added[b as usize] {
                    let (ra, rb) = (root(&mut parent, a), root(&mut parent, b as usize));
                    if ra != rb {
                        parent[ra] = rb;
                        components -= 1;
                    }
                }
            }
            out[k] = components == 1;
        }
        out
    }
}

/// A first part grown inside a set: (estimated score, part households, part, remainder pieces).
type SplitCandidate = (f64, i64, Vec<u32>, Pieces);

/// Connected pieces of a set, one after another in one list.
#[derive(Default)]
struct Pieces {
    members: Vec<u32>,
    /// Where each piece ends in `members`.
    ends: Vec<usize>,
}

impl Pieces {
    fn iter(&self) -> impl Iterator<Item = &[u32]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(a, b)| &self.members[a..b])
    }
}

/// [`Work::best_split`] of a set of `n` members at `depth` grows a part from every
/// `split_step`-th member, from the first on.
fn split_step(n: usize, depth: u32) -> usize {
    let max_seeds = if depth == 0 { 16 } else { 8 };
    n.div_ceil(max_seeds).max(1)
}

/// Sets smaller than this are split by [`Work::best_split`] without looking at their hub
/// statistics first (cheap, but rarely conclusive there). In debug builds nearly every set
/// is looked at, and the answer checked against `best_split` ([`debug_checked`]).
const HUB_STATS_MIN: usize = if cfg!(debug_assertions) { 4 } else { 64 };

/// Whether a debug build checks what the hub statistics tell about a set of `len` members
/// against the slow way (up to a size where the check keeps tests quick).
fn debug_checked(len: usize) -> bool {
    cfg!(debug_assertions) && len <= 100
}

/// What a connected set looks like around one member, the *hub*: its *pendants* (members whose
/// only neighbour in the set is the hub), light (below the floor) or heavy, and the rest. A
/// road parcel with thousands of compounds around it makes such sets, and
/// [`Work::best_split`] of one grows a part over the hub's whole neighbour list from each of
/// 16 starts, where the repair asks for it once for every compound the hub's grid takes in.
/// The statistics often tell its answer without growing ([`Work::hub_split`]):
///
/// When no member is over the ceiling and the rest is below the floor, a part grown in the
/// set reaches the floor only if it holds the hub, or is a heavy pendant alone (a part
/// without the hub lies inside the rest, or is one pendant). With the hub, the pendants
/// outside it are pieces of their own — a light one scores `score(h) < −2.5`, a heavy one 1 —
/// and the pieces of the rest score below 0, so the part's estimate is at most
/// `1 + Σ score(light pendants) + 3·k (+ 1 for a heavy pendant left out)`, `k` bounding the
/// light pendants inside (with the hub the part holds at most the ceiling). Where that is
/// at most the score of the whole set, no such part is explored. Without heavy pendants,
/// `best_split` then returns the set whole. With one, it is a part on its own where it is a
/// start; if its estimate beats the whole, the rest is split in turn — and kept whole, by the
/// same bound — and the split is taken where it scores better.
#[derive(Clone, Copy, Debug, PartialEq)]
struct HubStats {
    hub: u32,
    hub_h: i64,
    /// Households of the whole set.
    total: i64,
    /// The heaviest member.
    max_h: i64,
    /// Light pendants, and their scores summed.
    pendants: usize,
    pendant_score: f64,
    /// Light pendants with no households, and the fewest households of the others.
    zero: usize,
    min_positive: i64,
    /// Heavy pendants (at or above the floor), and the last one with its place among the
    /// members.
    heavy: usize,
    heavy_node: u32,
    heavy_pos: usize,
    /// Households of the members that are neither the hub nor pendants.
    rest: i64,
}

impl HubStats {
    fn new(hub: u32, hub_h: i64) -> Self {
        HubStats {
            hub,
            hub_h,
            total: hub_h,
            max_h: hub_h,
            pendants: 0,
            pendant_score: 0.0,
            zero: 0,
            min_positive: i64::MAX,
            heavy: 0,
            heavy_node: NONE,
            heavy_pos: 0,
            rest: 0,
        }
    }

    /// Equal, but for the rounding of the summed scores (debug checks).
    fn same(&self, other: &HubStats) -> bool {
        let close =
            (self.pendant_score - other.pendant_score).abs() <= 1e-9 * (1.0 + self.pendants as f64);
        close
            && HubStats {
                pendant_score: 0.0,
                ..*self
            } == HubStats {
                pendant_score: 0.0,
                ..*other
            }
    }

    /// Member `v` at place `pos`, of `h` households, a pendant or not (`lo`: the floor).
    fn add(&mut self, v: u32, pos: usize, h: i64, pendant: bool, lo: i64) {
        self.total += h;
        self.max_h = self.max_h.max(h);
        if !pendant {
            self.rest += h;
        } else if h >= lo {
            self.heavy += 1;
            self.heavy_node = v;
            self.heavy_pos = pos;
        } else {
            self.pendants += 1;
            self.pendant_score += -3.0 + 0.5 * (h as f64 / lo as f64);
            if h == 0 {
                self.zero += 1;
            } else {
                self.min_positive = self.min_positive.min(h);
            }
        }
    }
}

/// The hub statistics of a union `a ∪ b` ([`Work::union_stats`]).
struct UnionStats {
    /// The grid whose hub the single compound `x` of the other hangs off.
    base: u32,
    x: u32,
    /// Of the union, members in the order of `base` after `x` joins it.
    merged: HubStats,
    /// Where the one heavy pendant stands in `a`'s members followed by `b`'s.
    heavy_index: Option<usize>,
    len: usize,
}

/// [`Work::best_split`]'s answer, where hub statistics tell it.
#[derive(Clone, Copy, Debug)]
enum HubSplit {
    /// The set whole, of this score.
    Whole(f64),
    /// This pendant on its own, and the rest.
    OffPendant { score: f64, pendant: u32 },
}

impl HubSplit {
    fn score(&self) -> f64 {
        match *self {
            HubSplit::Whole(score) | HubSplit::OffPendant { score, .. } => score,
        }
    }
}

/// Hub statistics by grid, for one repair.
#[derive(Default)]
struct HubCache(HashMap<u32, HubStats>);

impl HubCache {
    fn get(&self, g: u32) -> Option<HubStats> {
        self.0.get(&g).copied()
    }

    fn insert(&mut self, g: u32, st: Option<HubStats>) {
        match st {
            Some(st) => self.0.insert(g, st),
            None => self.0.remove(&g),
        };
    }
}

/// The branches of a grid around its hub ([`Work::light_starts`]), kept through a repair so
/// that the union of the grid with a small neighbouring grid costs the small grid's members
/// ([`Work::union_light`]). Each member's branch is in `Work::grid_branch`.
struct GridBranches {
    hub: u32,
    hub_h: i64,
    /// Households of each branch.
    weights: Vec<i64>,
    /// The bound's terms summed over the branches ([`Work::branch_term`]).
    terms: f64,
    /// The most the light branches a part holds whole can add to the bound.
    fit: f64,
}

enum Move {
    Node(u32, u32, u32),
    Split(Vec<u32>, Vec<Vec<u32>>),
}

/// A current grid after validation.
pub(crate) struct CurrentInfo {
    code: String,
    members: Vec<u32>,
    valid: bool,
    community: Option<u32>,
    /// Kept as it is because the user asked ([`crate::Input::fixed`]).
    fixed: bool,
}

/// Checks the current grids: one that is not a grid of its community's compounds is left out
/// with a warning, and is an error when the user asked to keep it. A grid kept as asked may
/// be in pieces or hold a compound the policy makes a grid of its own: that is the user's
/// choice.
fn validate_current(
    input: &Input,
    prep: &Prepared,
    warnings: &mut Vec<String>,
) -> Result<Vec<CurrentInfo>, PlanError> {
    let n = input.compounds.len();
    let mut owner: Vec<u32> = vec![NONE; n];
    let mut seen_codes: HashSet<&str> = HashSet::new();
    let retired: HashSet<&str> = input.retired_codes.iter().map(|c| c.as_str()).collect();
    let mut out = Vec::new();
    for (k, cg) in input.current.iter().enumerate() {
        let fixed = input.fixed.contains(&cg.code);
        let mut members: Vec<u32> = cg
            .compounds
            .iter()
            .filter(|&&v| v < n)
            .map(|&v| v as u32)
            .collect();
        members.sort_unstable();
        members.dedup();
        let mut problem: Option<String> = None;
        if members.len() != cg.compounds.len() {
            problem = Some("含有不存在或重复的小区".into());
        } else if members.is_empty() {
            problem = Some("没有小区".into());
        } else if !seen_codes.insert(cg.code.as_str()) {
            problem = Some("编码重复".into());
        } else if members.iter().any(|&v| owner[v as usize] != NONE) {
            problem = Some("与其他现有网格有重叠的小区".into());
        } else if members
            .iter()
            .any(|&v| prep.community[v as usize] != prep.community[members[0] as usize])
        {
            problem = Some("跨越了社区".into());
        } else if sequence_of(
            &cg.code,
            prep.community_names[prep.community[members[0] as usize] as usize]
                .as_deref()
                .unwrap_or(""),
        )
        .is_none()
        {
            problem = Some("的编码不是其社区的网格编码（社区代码加 3 位序号）".into());
        } else if retired.contains(cg.code.as_str()) {
            problem = Some("的编码已撤销，不再使用".into());
        } else if fixed {
            // As the user keeps it.
        } else if members.len() > 1 && members.iter().any(|&v| prep.own[v as usize]) {
            problem = Some("含有按政策应单独成格的小区（如居民小组）".into());
        } else if members.len() > 1 && !is_connected(prep, &members) {
            problem = Some("不连通（或跨越了街路河、超大小区）".into());
        }
        if let (Some(problem), true) = (&problem, fixed) {
            return Err(PlanError::BadFixed {
                code: cg.code.clone(),
                problem: problem.clone(),
            });
        }
        if let Some(p) = &problem {
            warnings.push(format!(
                "第 {} 个现有网格「{}」{}，未作为现有网格保留",
                k + 1,
                cg.code,
                p
            ));
        } else {
            for &v in &members {
                owner[v as usize] = k as u32;
            }
        }
        let community = members.first().map(|&v| prep.community[v as usize]);
        out.push(CurrentInfo {
            code: cg.code.clone(),
            members,
            valid: problem.is_none(),
            community,
            fixed,
        });
    }
    Ok(out)
}

fn is_connected(prep: &Prepared, members: &[u32]) -> bool {
    let set: HashSet<u32> = members.iter().copied().collect();
    let mut seen: HashSet<u32> = HashSet::new();
    let mut stack = vec![members[0]];
    seen.insert(members[0]);
    while let Some(v) = stack.pop() {
        for &u in prep.nbrs(v) {
            if set.contains(&u) && seen.insert(u) {
                stack.push(u);
            }
        }
    }
    seen.len() == members.len()
}

fn compactness(prep: &Prepared, m: &[u32]) -> f64 {
    let a: f64 = m.iter().map(|&v| prep.area[v as usize]).sum();
    if a <= 0.0 {
        return 1.0;
    }
    let cx = m
        .iter()
        .map(|&v| prep.area[v as usize] * prep.x[v as usize])
        .sum::<f64>()
        / a;
    let cy = m
        .iter()
        .map(|&v| prep.area[v as usize] * prep.y[v as usize])
        .sum::<f64>()
        / a;
    let mut i = 0.0;
    for &v in m {
        let (av, vx, vy) = (
            prep.area[v as usize],
            prep.x[v as usize],
            prep.y[v as usize],
        );
        i += av * ((vx - cx).powi(2) + (vy - cy).powi(2)) + av * av / (2.0 * std::f64::consts::PI);
    }
    let c = a * a / (2.0 * std::f64::consts::PI * i);
    if c.is_finite() {
        c.clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// Sequence number of `code` under community prefix `prefix`, if it has that shape.
fn sequence_of(code: &str, prefix: &str) -> Option<u32> {
    let rest = code.strip_prefix(prefix)?;
    if rest.len() >= 3 && rest.bytes().all(|b| b.is_ascii_digit()) {
        rest.parse().ok()
    } else {
        None
    }
}

fn finish(
    input: &Input,
    prep: &Prepared,
    work: Work<'_>,
    current: &[CurrentInfo],
    upper_bound: usize,
    warnings: Vec<String>,
    band: Band,
) -> Plan {
    let Work { grids, .. } = work;
    let weight = |v: u32| prep.h[v as usize] + 1;
    // Final grids.
    struct Out {
        m: Vec<u32>,
        w: i64,
        comm: u32,
        cx: f64,
        cy: f64,
        code: Option<String>,
    }
    let mut outs: Vec<Out> = Vec::new();
    for g in grids.into_iter().filter(|g| g.alive && !g.m.is_empty()) {
        let mut m = g.m;
        m.sort_unstable();
        let a: f64 = m.iter().map(|&v| prep.area[v as usize]).sum();
        let cx = m
            .iter()
            .map(|&v| prep.area[v as usize] * prep.x[v as usize])
            .sum::<f64>()
            / a;
        let cy = m
            .iter()
            .map(|&v| prep.area[v as usize] * prep.y[v as usize])
            .sum::<f64>()
            / a;
        outs.push(Out {
            comm: prep.community[m[0] as usize],
            m,
            w: g.w,
            cx,
            cy,
            code: None,
        });
    }
    // Code inheritance: strict majority on both sides.
    let n = prep.h.len();
    let mut cur_of: Vec<u32> = vec![NONE; n];
    let mut cur_weight: Vec<i64> = vec![0; current.len()];
    for (k, c) in current.iter().enumerate() {
        if !c.valid {
            continue;
        }
        for &v in &c.members {
            cur_of[v as usize] = k as u32;
            cur_weight[k] += weight(v);
        }
    }
    let mut used: HashSet<String> = HashSet::new();
    for o in outs.iter_mut() {
        let mut overlap: BTreeMap<u32, i64> = BTreeMap::new();
        for &v in &o.m {
            let k = cur_of[v as usize];
            if k != NONE {
                *overlap.entry(k).or_default() += weight(v);
            }
        }
        let total: i64 = o.m.iter().map(|&v| weight(v)).sum();
        for (k, ov) in overlap {
            let c = &current[k as usize];
            if 2 * ov > total && 2 * ov > cur_weight[k as usize] && c.community == Some(o.comm) {
                o.code = Some(c.code.clone());
                used.insert(c.code.clone());
            }
        }
    }
    // Reserved sequences per community.
    let mut max_seq: Vec<u32> = vec![0; prep.community_names.len()];
    let all_codes: Vec<&str> = input
        .current
        .iter()
        .map(|c| c.code.as_str())
        .chain(input.retired_codes.iter().map(|s| s.as_str()))
        .collect();
    for code in &all_codes {
        used.insert(code.to_string());
    }
    for (ci, name) in prep.community_names.iter().enumerate() {
        let prefix = name.as_deref().unwrap_or("");
        for code in &all_codes {
            if let Some(s) = sequence_of(code, prefix) {
                max_seq[ci] = max_seq[ci].max(s);
            }
        }
    }
    // New codes in reading order per community.
    let mut by_comm: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, o) in outs.iter().enumerate() {
        if o.code.is_none() {
            by_comm.entry(o.comm).or_default().push(i);
        }
    }
    for (comm, mut idx) in by_comm {
        let mut bb = BBox::empty();
        for &i in &idx {
            bb.add([outs[i].cx, outs[i].cy]);
        }
        let row = (bb.width() * bb.height() / idx.len() as f64).sqrt();
        let row = if row > 0.0 { row } else { 1.0 };
        let key = |o: &Out| ((bb.max[1] - o.cy) / row).floor() as i64;
        idx.sort_by(|&a, &b| {
            key(&outs[a])
                .cmp(&key(&outs[b]))
                .then(outs[a].cx.total_cmp(&outs[b].cx))
                .then(outs[a].m[0].cmp(&outs[b].m[0]))
        });
        let prefix = prep.community_names[comm as usize]
            .clone()
            .unwrap_or_default();
        // Above the highest sequence ever used; past 999, the lowest never used (a code has
        // three digits); only when all 999 are taken does a fourth digit appear.
        let mut seq = max_seq[comm as usize];
        let mut wrapped = false;
        for i in idx {
            let code = loop {
                seq += 1;
                if seq > 999 && !wrapped {
                    wrapped = true;
                    seq = 1;
                }
                let c = format!("{prefix}{seq:03}");
                if !used.contains(&c) {
                    break c;
                }
            };
            used.insert(code.clone());
            outs[i].code = Some(code);
        }
    }

    let proj_scale = {
        // Recover input-coordinate centroids from projected ones via compound centroids.
        |m: &[u32]| {
            let a: f64 = m.iter().map(|&v| prep.area[v as usize]).sum();
            let x = m
                .iter()
                .map(|&v| prep.area[v as usize] * prep.centroid[v as usize][0])
                .sum::<f64>()
                / a;
            let y = m
                .iter()
                .map(|&v| prep.area[v as usize] * prep.centroid[v as usize][1])
                .sum::<f64>()
                / a;
            [x, y]
        }
    };
    let mut summary = Summary {
        compounds: n,
        households: prep.h.iter().sum(),
        upper_bound,
        ignored_current: current.iter().filter(|c| !c.valid).count(),
        ..Default::default()
    };
    let mut grids: Vec<Grid> = Vec::with_capacity(outs.len());
    for o in outs {
        let code = o.code.unwrap_or_default();
        let own = o.m.len() == 1 && prep.own[o.m[0] as usize];
        let in_band = !own && band.contains(o.w);
        let fixed = current.iter().any(|c| c.valid && c.fixed && c.code == code);
        let reason = if in_band {
            None
        } else if own {
            Some(Reason::OwnGrid)
        } else if o.m.len() == 1 && o.w > band.max {
            Some(Reason::OversizedCompound)
        } else if fixed {
            Some(Reason::Fixed)
        } else if o.w < band.min {
            Some(Reason::SmallGroup)
        } else {
            Some(Reason::MergedOverCeiling)
        };
        let kept_from = current
            .iter()
            .any(|c| c.valid && c.code == code)
            .then(|| code.clone());
        summary.grids += 1;
        match reason {
            None => {
                summary.in_band += 1;
                summary.households_in_band += o.w;
            }
            Some(Reason::OversizedCompound) => summary.oversized_single += 1,
            Some(Reason::SmallGroup) => summary.small_group += 1,
            Some(Reason::MergedOverCeiling) => {
                summary.merged_over_ceiling += 1;
                summary.merged_excess += o.w - band.max;
            }
            Some(Reason::OwnGrid) => summary.own_grid += 1,
            Some(Reason::Fixed) => {}
        }
        summary.fixed += usize::from(fixed);
        if o.m.len() > 1 {
            summary.largest_multi_compound = summary.largest_multi_compound.max(o.w);
        }
        if kept_from.is_some() {
            summary.kept += 1;
        }
        grids.push(Grid {
            compactness: compactness(prep, &o.m),
            centroid: proj_scale(&o.m),
            community: prep.community_names[o.comm as usize].clone(),
            compounds: o.m.iter().map(|&v| v as usize).collect(),
            households: o.w,
            in_band,
            reason,
            kept_from,
            code,
        });
    }
    summary.eligible = summary.grids - summary.oversized_single - summary.own_grid;
    grids.sort_by(|a, b| a.community.cmp(&b.community).then(a.code.cmp(&b.code)));
    // Moved compounds: in a valid current grid, now under another code.
    let mut code_of: Vec<&str> = vec![""; n];
    for g in &grids {
        for &v in &g.compounds {
            code_of[v] = &g.code;
        }
    }
    summary.moved_compounds = (0..n)
        .filter(|&v| cur_of[v] != NONE && current[cur_of[v] as usize].code != code_of[v])
        .count();
    Plan {
        grids,
        summary,
        warnings,
    }
}

/// Households and neighbour bit masks of a group of at most 64 compounds, in local indices
/// (the group's order), as [`exact::solve`] takes them.
fn group_masks(prep: &Prepared, comp: &[u32]) -> (Vec<i64>, Vec<u64>) {
    let local: HashMap<u32, usize> = comp.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let adj = comp
        .iter()
        .map(|&v| {
            prep.nbrs(v)
                .iter()
                .filter_map(|u| local.get(u))
                .fold(0u64, |m, &i| m | (1u64 << i))
        })
        .collect();
    (comp.iter().map(|&v| prep.h[v as usize]).collect(), adj)
}

/// How a plan compares with the exact optimum, group by group (see [`audit`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// Connected groups with at least the floor in households.
    pub groups: usize,
    /// Groups whose optimum the exact search proved within the budget.
    pub proven: usize,
    /// In-band grids of the plan in the proven groups.
    pub plan_in_band: usize,
    /// The proven optimum summed over those groups.
    pub optimum: usize,
    /// Proven groups where the plan has fewer in-band grids than the optimum.
    pub below_optimum: usize,
}

impl std::fmt::Display for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "groups {}, optimum proven for {}: in-band grids there: plan {}, optimum {}; groups below the optimum: {}",
            self.groups, self.proven, self.plan_in_band, self.optimum, self.below_optimum
        )
    }
}

/// Checks `plan` (made from `input` at `band` without current grids) against the exact
/// optimum of every connected group the exact search can finish within `budget` search nodes.
pub fn audit(input: &Input, plan: &Plan, band: Band, budget: u64) -> Audit {
    let (lo, hi) = (band.min, band.max);
    let prep = Prepared::new(input, lo, hi);
    let mut grid_of = vec![usize::MAX; input.compounds.len()];
    for (gi, g) in plan.grids.iter().enumerate() {
        for &c in &g.compounds {
            grid_of[c] = gi;
        }
    }
    let mut a = Audit::default();
    for comp in components(&prep, |v| !prep.alone[v]) {
        if comp.iter().map(|&v| prep.h[v as usize]).sum::<i64>() < lo {
            continue;
        }
        a.groups += 1;
        if comp.len() > exact::MAX_NODES {
            continue;
        }
        let (h, adj) = group_masks(&prep, &comp);
        let o = exact::solve(&h, &adj, lo, hi, budget, 0);
        let (true, Some(r)) = (o.proven, o.best) else {
            continue;
        };
        let mut gs: Vec<usize> = comp.iter().map(|&v| grid_of[v as usize]).collect();
        gs.sort_unstable();
        gs.dedup();
        let ours = gs
            .iter()
            .filter(|&&g| plan.grids.get(g).is_some_and(|g| g.in_band))
            .count();
        a.proven += 1;
        a.plan_in_band += ours;
        a.optimum += r.in_band;
        a.below_optimum += usize::from(ours < r.in_band);
    }
    a
}
