//! # wangge-plan: the grid planner
//!
//! Divides compounds (小区, villages) into grids (网格) whose household counts fall inside a
//! policy band, e.g. 500–600 households. No database, no async: plain data in, plain data out.
//!
//! ```no_run
//! use wangge_plan::{geojson, plan, Band, Options};
//! let mut input = geojson::read_compounds_file("compounds.geojson".as_ref()).unwrap();
//! input.adjacency = geojson::derive_adjacency(&input.compounds, None);
//! let opts = Options { band: Band { min: 500, max: 600 }, seed: 1 };
//! let plan = plan(&input, &opts).unwrap();
//! println!("{}", plan.summary);
//! geojson::write_plan_file("plan.geojson".as_ref(), &input, &plan).unwrap();
//! ```
//!
//! ## Hard constraints (always hold in the output)
//! - every compound is in exactly one grid; a grid stays inside one community;
//! - grids are contiguous in the adjacency graph (edges between communities, and edges whose
//!   centroid-to-centroid segment crosses a barrier line, are dropped first);
//! - a compound over the ceiling is a grid of its own, and so is a compound the policy makes a
//!   grid of its own ([`Input::alone`], e.g. a residents' group in a converted-village
//!   community);
//! - no grid is below the floor, except a grid that is a whole *connected group*: a connected
//!   component of the graph after dropping those edges and the compounds that are grids of
//!   their own (they cannot connect anything), or a compound the policy makes a grid of its
//!   own.
//!
//! ## Objective, in order
//! as many grids in band as possible; grids over the ceiling as close to it as possible;
//! compact grids; when current grids are given, stability (grids already in band are kept
//! with their codes; re-planning an in-band plan changes nothing).
//!
//! See [`planner`] for the algorithm and the upper bound.

pub mod bench;
pub mod exact;
pub mod fold;
pub mod geojson;
pub mod geom;
pub mod planner;
pub mod town;

use std::fmt;

pub use geom::Pt;
pub use planner::{Audit, audit, plan, plan_with_progress};

/// Geometry of a compound.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// One or more polygons, each a list of rings (first the outer ring, then holes).
    Polygons(Vec<Vec<Vec<Pt>>>),
    /// A point (e.g. a village given by its centre).
    Point(Pt),
}

impl Geometry {
    /// How many coordinate positions it has (a point has one).
    pub fn positions(&self) -> usize {
        match self {
            Geometry::Polygons(p) => p.iter().flatten().map(Vec::len).sum(),
            Geometry::Point(_) => 1,
        }
    }

    /// Whether every coordinate could be longitude/latitude (else planar, e.g. metres).
    pub fn looks_lonlat(&self) -> bool {
        self.points().all(geom::looks_lonlat)
    }

    /// Every coordinate: the rings' vertices, or the point.
    pub fn points(&self) -> Box<dyn Iterator<Item = &Pt> + '_> {
        match self {
            Geometry::Polygons(p) => Box::new(p.iter().flatten().flatten()),
            Geometry::Point(q) => Box::new(std::iter::once(q)),
        }
    }
}

/// The box around the compounds' outlines and points.
pub fn bbox_of(compounds: &[Compound]) -> geom::BBox {
    let mut bb = geom::BBox::empty();
    for p in compounds.iter().flat_map(|c| c.geometry.points()) {
        bb.add(*p);
    }
    bb
}

/// A compound (小区) or village: the unit that is never split.
#[derive(Debug, Clone, PartialEq)]
pub struct Compound {
    pub id: String,
    pub geometry: Geometry,
    pub households: i64,
    /// Community code (12 digits in practice). `None`: all such compounds form one community
    /// and their grid codes are the bare 3-digit sequence.
    pub community: Option<String>,
    pub kind: Option<String>,
    pub has_property_management: Option<bool>,
}

/// A current grid: its code and its compounds (indices into [`Input::compounds`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentGrid {
    pub code: String,
    pub compounds: Vec<usize>,
}

/// Everything the planner looks at.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub compounds: Vec<Compound>,
    /// Undirected adjacency edges, as indices into `compounds`.
    pub adjacency: Vec<(usize, usize)>,
    /// Barrier polylines (streets, rivers) that a grid must not cross, in the compounds'
    /// coordinates. An edge whose centroid-to-centroid segment crosses one is dropped.
    pub barriers: Vec<Vec<Pt>>,
    /// Current grids, if any (for stability and code continuity).
    pub current: Vec<CurrentGrid>,
    /// Codes of retired grids: their sequences are never reused.
    pub retired_codes: Vec<String>,
    /// Compounds (indices into `compounds`) that the policy makes a grid of their own whatever
    /// their households, e.g. each residents' group under 涉农社区以居民小组为一个网格. Like a
    /// compound over the ceiling, such a compound connects nothing, and the band does not
    /// apply to its grid ([`Reason::OwnGrid`]).
    pub alone: Vec<usize>,
    /// Codes of current grids to keep exactly as they are (the user's choice, e.g. a
    /// demonstration grid with its own name and team): they are not planned again, take in no
    /// other compound and keep their code, even when out of band or not contiguous. The other
    /// compounds are planned around them.
    pub fixed: Vec<String>,
}

/// The policy band: a grid is in band when `min <= households <= max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub min: i64,
    pub max: i64,
}

impl Band {
    pub fn contains(&self, h: i64) -> bool {
        h >= self.min && h <= self.max
    }
}

/// Planner options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub band: Band,
    /// Seed for tie-breaking; the plan is a pure function of input and options.
    pub seed: u64,
}

/// Why a grid is outside the band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A single compound over the ceiling (policy decides its staffing).
    OversizedCompound,
    /// A whole connected group of compounds (within a community, not crossing a barrier)
    /// that is below the floor, e.g. an isolated small village.
    SmallGroup,
    /// Several compounds over the ceiling: no split into parts at or above the floor was found
    /// (e.g. small compounds hanging off a grid that is already full).
    MergedOverCeiling,
    /// A compound the policy makes a grid of its own ([`Input::alone`]): the band does not
    /// apply to it.
    OwnGrid,
    /// A current grid kept as it is because the user asked ([`Input::fixed`]).
    Fixed,
}

impl Reason {
    /// Stable machine name, used in GeoJSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::OversizedCompound => "oversized_compound",
            Reason::SmallGroup => "small_group",
            Reason::MergedOverCeiling => "merged_over_ceiling",
            Reason::OwnGrid => "own_grid",
            Reason::Fixed => "fixed",
        }
    }
    /// User message (zh-CN).
    pub fn message(&self) -> &'static str {
        match self {
            Reason::OversizedCompound => "单个小区户数超过上限，单独成格",
            Reason::SmallGroup => {
                "相连小区总户数不足下限（被社区边界、街路河、超大小区或保持不变的网格隔开）"
            }
            Reason::MergedOverCeiling => "多个小区合并后超过上限，无法拆分成均达下限的网格",
            Reason::OwnGrid => "按政策单独成格（如涉农社区以居民小组为一个网格），不适用户数标准",
            Reason::Fixed => "按要求保持原网格不变",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A planned grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Community code + 3-digit sequence (a 4th digit appears only past 999 grids).
    pub code: String,
    pub community: Option<String>,
    /// Indices into [`Input::compounds`], ascending.
    pub compounds: Vec<usize>,
    pub households: i64,
    /// Moment-of-inertia compactness in (0, 1]: 1 for a disc (see [`planner`]).
    pub compactness: f64,
    pub in_band: bool,
    /// Set exactly when `in_band` is false.
    pub reason: Option<Reason>,
    /// Code of the current grid this grid continues (same code), if any.
    pub kept_from: Option<String>,
    /// Centroid in input coordinates (households-independent, area-weighted).
    pub centroid: Pt,
}

/// Figures about a plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub compounds: usize,
    pub households: i64,
    pub grids: usize,
    pub in_band: usize,
    pub oversized_single: usize,
    pub small_group: usize,
    pub merged_over_ceiling: usize,
    /// Grids that are one compound the policy makes a grid of its own ([`Input::alone`]).
    pub own_grid: usize,
    /// Current grids kept as they are because the user asked (in band or not).
    pub fixed: usize,
    /// Grids the band applies to and the planner shapes: all grids except a single compound
    /// over the ceiling and a compound the policy makes a grid of its own.
    pub eligible: usize,
    /// Households living in in-band grids.
    pub households_in_band: i64,
    /// Households of the largest grid made of two or more compounds.
    pub largest_multi_compound: i64,
    /// Households above the ceiling, summed over the grids of several compounds over it: what
    /// rule 2 of the objective keeps small.
    pub merged_excess: i64,
    /// Upper bound on the number of grids that can be in band on this instance: per connected
    /// group, the proven optimum where it is known (see [`Summary::proven_groups`]), otherwise
    /// `B + ⌊S / min⌋` (see [`planner`]).
    pub upper_bound: usize,
    /// Connected groups with at least the floor in households.
    pub groups: usize,
    /// Of those, the groups whose most in-band grids possible is proven (a plan reaches the
    /// group's bound, or the exact search finished). With current grids kept, the proof comes
    /// from planning the whole group afresh, so the plan itself may keep fewer in band.
    pub proven_groups: usize,
    /// Grids kept from the current grids (same code).
    pub kept: usize,
    /// Compounds whose grid changed code compared with the current grids (0 without them).
    pub moved_compounds: usize,
    /// Current grids that could not be used (unknown compounds, overlapping, not contiguous…).
    pub ignored_current: usize,
}

impl Summary {
    /// In-band grids / eligible grids (grids that are not a single oversized compound, nor a
    /// compound the policy makes a grid of its own).
    pub fn in_band_share(&self) -> f64 {
        if self.eligible == 0 {
            1.0
        } else {
            self.in_band as f64 / self.eligible as f64
        }
    }
    /// Households in in-band grids / all households.
    pub fn households_share(&self) -> f64 {
        if self.households == 0 {
            1.0
        } else {
            self.households_in_band as f64 / self.households as f64
        }
    }
}

impl fmt::Display for Summary {
    /// A markdown table in Chinese, for the CLI summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| 项目 | 数值 |")?;
        writeln!(f, "|---|---:|")?;
        writeln!(f, "| 小区数 | {} |", self.compounds)?;
        writeln!(f, "| 总户数 | {} |", self.households)?;
        writeln!(f, "| 网格数 | {} |", self.grids)?;
        writeln!(
            f,
            "| 户数在标准内的网格 | {} / {}（{:.1}%，不计单个超大小区和按政策单独成格的） |",
            self.in_band,
            self.eligible,
            100.0 * self.in_band_share()
        )?;
        writeln!(f, "| 在标准内网格的上界 | {} |", self.upper_bound)?;
        if self.proven_groups > 0 {
            writeln!(
                f,
                "| 已证明最优的相连小区组 | {} / {} |",
                self.proven_groups, self.groups
            )?;
        }
        writeln!(f, "| 单个小区超上限 | {} |", self.oversized_single)?;
        writeln!(f, "| 相连小区不足下限 | {} |", self.small_group)?;
        writeln!(f, "| 多小区合并超上限 | {} |", self.merged_over_ceiling)?;
        if self.merged_over_ceiling > 0 {
            writeln!(f, "| 其超出上限的户数合计 | {} |", self.merged_excess)?;
        }
        if self.own_grid > 0 {
            writeln!(f, "| 按政策单独成格 | {} |", self.own_grid)?;
        }
        if self.fixed > 0 {
            writeln!(f, "| 按要求保持不变的网格 | {} |", self.fixed)?;
        }
        writeln!(
            f,
            "| 住在标准内网格的户数 | {}（{:.1}%） |",
            self.households_in_band,
            100.0 * self.households_share()
        )?;
        writeln!(
            f,
            "| 最大多小区网格户数 | {} |",
            self.largest_multi_compound
        )?;
        if self.kept > 0 || self.moved_compounds > 0 || self.ignored_current > 0 {
            writeln!(f, "| 保留的现有网格 | {} |", self.kept)?;
            writeln!(f, "| 调整网格的小区 | {} |", self.moved_compounds)?;
            writeln!(f, "| 无法使用的现有网格 | {} |", self.ignored_current)?;
        }
        Ok(())
    }
}

/// The planner's result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Grids ordered by community, then code.
    pub grids: Vec<Grid>,
    pub summary: Summary,
    /// Non-fatal remarks for the user (zh-CN), e.g. ignored current grids.
    pub warnings: Vec<String>,
}

/// Most households a compound may have: far above any real compound, low enough that sums over
/// a whole county cannot overflow.
pub const MAX_HOUSEHOLDS: i64 = 10_000_000;

/// Input the planner cannot work with (zh-CN messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("户数标准无效：下限 {min}、上限 {max}（下限应为正数且不大于上限）")]
    BadBand { min: i64, max: i64 },
    #[error("第 {index} 个小区「{id}」的户数 {households} 为负数")]
    NegativeHouseholds {
        index: usize,
        id: String,
        households: i64,
    },
    #[error("第 {index} 个小区「{id}」的户数 {households} 过大（一个小区至多 {max} 户）")]
    TooManyHouseholds {
        index: usize,
        id: String,
        households: i64,
        max: i64,
    },
    #[error("单独成格的第 {position} 项引用了不存在的小区序号 {index}（共 {count} 个小区）")]
    BadAlone {
        position: usize,
        index: usize,
        count: usize,
    },
    #[error("相邻关系第 {edge} 条边引用了不存在的小区序号 {index}（共 {count} 个小区）")]
    BadEdge {
        edge: usize,
        index: usize,
        count: usize,
    },
    #[error("要求保持不变的网格 {code} 不是有小区的现有网格")]
    UnknownFixed { code: String },
    #[error("要求保持不变的网格 {code} {problem}")]
    BadFixed { code: String, problem: String },
}
