//! What the evaluation reads: a plain snapshot of the registry, filled by the caller (the
//! store) from the database. Counts and areas are integers (areas in whole m²), money fen.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::place::{CommunityKind, CompoundKind, Date, GridKind, Tier};

/// The registry of one county as the evaluation sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub county_code: String,
    pub county_name: String,
    pub streets: Vec<SnapshotStreet>,
    /// Every staff assignment of the county; the evaluation keeps those in force in the year.
    pub assignments: Vec<Assignment>,
    /// Only the part of the county a reader may see (a street's administrator's budget):
    /// rules over the whole county (the number of 示范 grids) are not checked on it.
    #[serde(default)]
    pub partial: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotStreet {
    pub code: String,
    pub name: String,
    pub communities: Vec<SnapshotCommunity>,
    /// 附件3 社会招聘人员: general social workers recruited by the county for the street's
    /// communities, by year (head count paid that year).
    #[serde(default)]
    pub recruited_social_workers: BTreeMap<i32, i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCommunity {
    pub code: String,
    pub name: String,
    pub kind: CommunityKind,
    pub tier: Option<Tier>,
    pub households: i64,
    pub population: i64,
    /// 社区服务中心 total area (附件3 建筑面积), m²; `None` when unknown.
    pub service_centre_area_m2: Option<i64>,
    /// 便民服务大厅 area, m².
    pub service_hall_area_m2: Option<i64>,
    /// General social workers (全科社工) working in the community in the year.
    pub general_social_workers: i64,
    /// The function rooms the centre has, by name; `None` when unknown.
    pub rooms: Option<Vec<String>>,
    /// Committee members paid a subsidy tied to the minimum wage; `None` when unknown.
    pub committee: Option<CommitteeCounts>,
    /// 附件3 社区改造升级费用 by year, fen.
    #[serde(default)]
    pub investment_fen: BTreeMap<i32, i64>,
    pub grids: Vec<SnapshotGrid>,
}

/// 社区正职、副职、委员 head counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitteeCounts {
    pub heads: i64,
    pub deputies: i64,
    pub members: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotGrid {
    pub code: String,
    pub name: String,
    pub kind: GridKind,
    pub tier: Option<Tier>,
    pub households: i64,
    /// 网格服务站 area, m²; `None` when unknown.
    pub station_area_m2: Option<i64>,
    /// The day this version of the grid was set up; `None` when unknown (taken as set up
    /// before the policy). Decides the year a one-off equipment cost falls in.
    #[serde(default)]
    pub set_up: Option<Date>,
    /// The day the grid was retired, when that falls in the year evaluated (a grid redrawn
    /// mid-year): its staff are paid for their months there, but it is not one of the year's
    /// grids — not counted, equipped or checked against the rules.
    #[serde(default)]
    pub retired_on: Option<Date>,
    /// The compounds (or the part of a compound) the grid holds.
    pub compounds: Vec<SnapshotCompound>,
}

/// A compound, village or residents' group, or the part of one inside a grid: a compound that
/// appears in two grids (same `id`) is split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCompound {
    pub id: String,
    pub name: String,
    pub kind: CompoundKind,
    /// Households in this grid.
    pub households: i64,
    pub has_property_management: bool,
    /// 住宅总建筑面积, m².
    pub residential_floor_area_m2: Option<i64>,
    /// A new, building or unfinished compound (新建、在建和未建成小区), to which the service
    /// space rule applies.
    #[serde(default)]
    pub is_new: bool,
    /// 社区服务用房 the compound provides, m², and the part handed to the community.
    pub service_space_m2: Option<i64>,
    pub service_space_to_community_m2: Option<i64>,
}

/// A role a person holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    GridLeader,
    GridWorker,
    GridInstructor,
    PoliceAssistant,
    /// 原有社区警务助理: a community police assistant already paid before the plan.
    ExistingPoliceAssistant,
    GeneralSocialWorker,
    StaffSentDown,
}

impl StaffRole {
    pub fn label(self) -> &'static str {
        match self {
            StaffRole::GridLeader => "网格长",
            StaffRole::GridWorker => "网格员",
            StaffRole::GridInstructor => "网格指导员",
            StaffRole::PoliceAssistant => "网格警务助理",
            StaffRole::ExistingPoliceAssistant => "原有社区警务助理",
            StaffRole::GeneralSocialWorker => "全科社工",
            StaffRole::StaffSentDown => "街道下沉人员",
        }
    }

    pub const ALL: [StaffRole; 7] = [
        StaffRole::GridLeader,
        StaffRole::GridWorker,
        StaffRole::GridInstructor,
        StaffRole::PoliceAssistant,
        StaffRole::ExistingPoliceAssistant,
        StaffRole::GeneralSocialWorker,
        StaffRole::StaffSentDown,
    ];

    /// The stable key used in the database and the API.
    pub fn key(self) -> &'static str {
        match self {
            StaffRole::GridLeader => "grid_leader",
            StaffRole::GridWorker => "grid_worker",
            StaffRole::GridInstructor => "grid_instructor",
            StaffRole::PoliceAssistant => "police_assistant",
            StaffRole::ExistingPoliceAssistant => "existing_police_assistant",
            StaffRole::GeneralSocialWorker => "general_social_worker",
            StaffRole::StaffSentDown => "staff_sent_down",
        }
    }

    /// Accepts the key or the Chinese label.
    pub fn parse(s: &str) -> Option<StaffRole> {
        let s = s.trim();
        StaffRole::ALL
            .into_iter()
            .find(|r| r.key() == s || r.label() == s)
    }

    /// Whether the role is held at a grid (else at a community).
    pub fn at_grid(self) -> bool {
        !matches!(
            self,
            StaffRole::GeneralSocialWorker | StaffRole::StaffSentDown
        )
    }

    /// Grid staff (网格工作人员) counted and paid in 附件4: not instructors, who are street
    /// cadres.
    pub fn is_grid_staff(self) -> bool {
        matches!(
            self,
            StaffRole::GridLeader
                | StaffRole::GridWorker
                | StaffRole::PoliceAssistant
                | StaffRole::ExistingPoliceAssistant
        )
    }
}

/// Where an assignment is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "level", content = "code")]
pub enum Post {
    Grid(String),
    Community(String),
}

/// One person in one role at one post, from a date to a date (inclusive; open if `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub person_id: String,
    pub person_name: String,
    pub role: StaffRole,
    pub post: Post,
    /// For a grid worker: the compound (by id) the worker serves, if recorded.
    pub compound_id: Option<String>,
    pub from: Date,
    pub to: Option<Date>,
}
