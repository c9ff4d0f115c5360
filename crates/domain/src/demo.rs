//! The demo county: 昌乐县 (370725) with 宝都街道 and 宝城街道 and their 22 communities as
//! 附件2 gives them, and grids, compounds and buildings generated deterministically so that
//! every community's counts and sums equal its 附件2 row.
//!
//! What the sources do not give is chosen here, and said so:
//! - street and community codes are placeholders, assigned in table order;
//! - community tiers are 附件3's; grid tiers follow 附件4 (its named demonstration grids, then
//!   standard and basic grids in table order up to 附件4's counts);
//! - 附件2 says 宝都's 132 grids are 101 urban and 31 rural but not where the rural ones are.
//!   The communities whose service centre is a village committee or a resettlement block
//!   are taken as converted villages, and half their grids (rounded up) as rural: that makes 31.
//! - 宝城's 合计 row in the source (19994 households, 30293 people) does not equal its rows
//!   (20594, 32293); the rows are loaded as given, and the export writes the true sums.

use crate::annex2::CommunityRow;
use crate::code::{CommunityCode, CountyCode, GridCode, StreetCode};
use crate::place::{Boundary, CommunityKind, CompoundKind, GridKind, Tier};

pub const COUNTY_CODE: &str = "370725";
pub const COUNTY_NAME: &str = "昌乐县";
/// Said on every page that shows demo data.
pub const PLACEHOLDER_NOTE: &str = "演示数据：社区基本情况取自附件2；街道、社区代码为按表序分配的占位代码，小区、网格、楼栋为按附件2合计生成的模拟数据。";

struct Row {
    name: &'static str,
    grids: i64,
    compounds: i64,
    households: i64,
    population: i64,
    centre: &'static str,
    boundary: &'static str,
    tier: Tier,
    converted: bool,
}

#[allow(clippy::too_many_arguments)] // one row of 附件2, in its column order
const fn row(
    name: &'static str,
    grids: i64,
    compounds: i64,
    households: i64,
    population: i64,
    centre: &'static str,
    boundary: &'static str,
    tier: Tier,
    converted: bool,
) -> Row {
    Row {
        name,
        grids,
        compounds,
        households,
        population,
        centre,
        boundary,
        tier,
        converted,
    }
}

use Tier::{Basic as B, Demonstration as D, Standard as S};

const BAODU: &[Row] = &[
    row(
        "宝昌社区",
        9,
        10,
        4350,
        15225,
        "车站村委",
        "东至车站村东，北至恒信首府北、新城街、北关创业园北，西至北海路，南至铁路线",
        B,
        true,
    ),
    row(
        "三和社区",
        7,
        7,
        2703,
        9461,
        "三和小区办公楼",
        "东至青年路、西湖花园以西，北至铁路线，西至北海路，南至昌盛街",
        B,
        false,
    ),
    row(
        "故城社区",
        8,
        15,
        5899,
        20647,
        "北关安置区办公楼",
        "东至新昌路，北至铁路线，西至青年路，南至利民街",
        D,
        true,
    ),
    row(
        "站前社区",
        9,
        36,
        5737,
        20080,
        "东田安置楼办公室",
        "东至永康路北头，北至铁路，西至新昌路，南至利民街",
        S,
        true,
    ),
    row(
        "西湖社区",
        7,
        21,
        7022,
        24577,
        "南关安置楼办公室",
        "东至新昌路，北至利民街，西至青年路，南至恒安街",
        S,
        true,
    ),
    row(
        "新昌社区",
        8,
        31,
        6809,
        23832,
        "新昌社区",
        "东至永康路，北至利民街，西至新昌路，南至孤山街",
        S,
        false,
    ),
    row(
        "永康社区",
        7,
        14,
        7015,
        24552,
        "曲周安置楼办公室",
        "东至恒信伯爵公馆以东，北至铁路线，西至永康路，南至孤山街、宝石山庄北",
        S,
        true,
    ),
    row(
        "西河社区",
        5,
        5,
        3548,
        12418,
        "五闫庄村委",
        "东至湖滨路，北至恒安湖公园北，西至西湖花园西、恒信沁园西，南至流泉街",
        B,
        true,
    ),
    row(
        "南苑社区",
        5,
        11,
        5164,
        18074,
        "西湖社区",
        "东至新昌路，北至恒安街，西至湖滨路，南至昌盛街",
        D,
        false,
    ),
    row(
        "恒昌社区",
        8,
        32,
        4729,
        16552,
        "恒安社区",
        "东至文化路，北至孤山街，西至新昌路，南至昌盛街",
        B,
        false,
    ),
    row(
        "恒盛社区",
        8,
        35,
        4390,
        15365,
        "老妇幼保健院",
        "东至永康路、方山路，北至孤山街，西至文化路，南至昌盛街、东村街",
        D,
        false,
    ),
    row(
        "东山社区",
        6,
        10,
        7005,
        24518,
        "民政大厦",
        "东至宝石山庄以东，北至宝石山庄以北、孤山街，西至永康路，南至东村街、旅游路",
        B,
        false,
    ),
    row(
        "湖滨社区",
        4,
        10,
        5700,
        19950,
        "无",
        "东至新昌路，北至昌盛街，西至湖滨路，南至流泉街",
        B,
        false,
    ),
    row(
        "恒安社区",
        13,
        18,
        6984,
        24444,
        "流泉社区",
        "东至方山路，北至昌盛街，西至新昌路，南至北流泉南河道、气象局南、彩虹桥",
        S,
        false,
    ),
    row(
        "昌盛社区",
        7,
        10,
        6043,
        21151,
        "东山王办公楼",
        "东至首阳山森林公园，北至东村街，西至方山路，南至一中街、洪阳街、卡纳圣菲北",
        S,
        true,
    ),
    row(
        "月亮湾社区",
        12,
        13,
        6301,
        22054,
        "月亮湾办公楼",
        "东至新昌路、小丹河，北至流泉街，西至北海路，南至宝通街",
        S,
        false,
    ),
    row(
        "翰苑社区",
        5,
        8,
        5262,
        18417,
        "颐轩国际社区用房",
        "东至卡纳圣菲以东，北至卡纳圣菲以北、洪阳街、一中街，西至方山路，南至彩虹桥、颐轩国际南河道、卡纳圣菲南",
        B,
        false,
    ),
    row(
        "流泉社区",
        4,
        8,
        3500,
        12250,
        "南萧安置区办公楼",
        "东至鼎恒伴山以东，北至卡纳圣菲南、颐轩国际南河道、彩虹桥，西至小丹河河道，南至宝通街",
        B,
        true,
    ),
];

const BAOCHENG: &[Row] = &[
    row(
        "昌明社区",
        8,
        11,
        7633,
        10001,
        "新昌路西侧、北盛小区（西区）门口北侧",
        "北至新城街，南至胶济铁路线，西至宝昌路、车站村东，东至方山路。",
        S,
        false,
    ),
    row(
        "艳阳天社区",
        3,
        10,
        3244,
        6576,
        "新城街以北、立伟国际广场门口西侧",
        "北至营丘街，南至胶济铁路线，西至方山路，东至首阳山路。",
        S,
        false,
    ),
    row(
        "学府社区",
        5,
        7,
        5778,
        7358,
        "行政街西头、二中门口对面西南侧",
        "北至青银高速，南至新城街，西至北海路，东至新昌路。",
        D,
        false,
    ),
    row(
        "宝石城社区",
        4,
        10,
        3939,
        8358,
        "日科化学南门南侧，黄埠小区东门",
        "北至青银高速，南至营丘街、新城街，西至新昌路，东至首阳山路、方山路。",
        S,
        false,
    ),
];

/// 附件4's named demonstration grids: (community, grid name).
const DEMONSTRATION_GRIDS: &[(&str, &str)] = &[
    ("新昌社区", "蓝宝石花园网格"),
    ("新昌社区", "爱伦堡网格"),
    ("站前社区", "假日广场网格"),
    ("恒盛社区", "绿源网格"),
    ("恒盛社区", "中心城网格"),
    ("永康社区", "矿机花园网格"),
    ("东山社区", "宝石山庄网格"),
    ("东山社区", "相府锦苑网格"),
    ("昌盛社区", "昌盛花园二期东区网格"),
    ("翰苑社区", "上海花园网格"),
    ("翰苑社区", "碧水龙庭网格"),
    ("恒安社区", "盛景网格"),
    ("恒安社区", "福荣网格"),
    ("月亮湾社区", "书香门第网格"),
    ("月亮湾社区", "鲁昱绿城网格"),
    ("月亮湾社区", "盛港府地网格"),
    ("西湖社区", "蓝宝石网格"),
    ("西湖社区", "帝都国际网格"),
    ("西湖社区", "天鹅湾网格"),
    ("南苑社区", "齐都名郡网格"),
    ("南苑社区", "南苑小区网格"),
    ("南苑社区", "铂金水岸网格"),
    ("西河社区", "西湖花园网格"),
    ("湖滨社区", "润泽龙凤苑网格"),
    ("昌明社区", "昌明网格"),
    ("昌明社区", "民生网格"),
    ("学府社区", "科文网格"),
    ("宝石城社区", "龙脉网格"),
    ("艳阳天社区", "金地网格"),
];

/// Departments (职能部门) named in the plan as lead or supporting units, with the duty the plan
/// gives them; the demo's branch of the org tree beside the places.
pub const DEPARTMENTS: &[(&str, &str)] = &[
    (
        "县委政法委",
        "牵头网格划分与网格人员配备；网格化服务管理中心",
    ),
    ("县民政局", "社区布局调整；城市社区规范化建设领导小组办公室"),
    ("县委组织部", "社区党组织建设；“社区吹哨、部门报到”机制"),
    ("县公安局", "网格警务助理；重点人员协控"),
    ("县司法局", "矛盾纠纷调解；法律服务"),
    ("县财政局", "社区经费与网格人员补贴纳入预算"),
    ("县人社局", "公开招聘全科社工"),
    ("县住房和城乡建设局", "新建小区社区服务用房配置与移交"),
    ("县自然资源和规划局", "社区服务用房规划；网格划分配合"),
    ("县房产发展促进中心", "业主委员会与物业服务企业考核"),
    ("县审批服务局", "政务服务事项下放社区"),
    ("县大数据中心", "智慧社区与信息共享"),
];

/// The department whose own grids the demo loads (see [`police_grids`]).
pub const POLICE: &str = "县公安局";

/// A grid a department drew on its own, its compounds by community and name.
pub struct DemoDepartmentGrid {
    pub name: String,
    pub code: String,
    pub compounds: Vec<(CommunityCode, String)>,
}

/// The police's own grids (警格) in the first street, as they stood before the unified grids:
/// one a community, each also taking the next community's first compound (a beat follows
/// streets, not community lines), so that the page of department grids shows grids that span
/// several unified grids and communities, ready to be folded in.
pub fn police_grids(county: &DemoCounty) -> Vec<DemoDepartmentGrid> {
    let Some(street) = county.streets.first() else {
        return Vec::new();
    };
    let cs = &street.communities;
    let mut out: Vec<DemoDepartmentGrid> = cs
        .iter()
        .enumerate()
        .map(|(k, c)| DemoDepartmentGrid {
            name: format!("{}警格", c.basics.name.trim_end_matches("社区")),
            code: format!("JG{:03}", k + 1),
            compounds: c
                .compounds
                .iter()
                .skip(usize::from(k > 0))
                .map(|m| (c.code.clone(), m.name.clone()))
                .collect(),
        })
        .collect();
    for k in 0..out.len().saturating_sub(1) {
        if let Some(first) = cs[k + 1].compounds.first() {
            out[k]
                .compounds
                .push((cs[k + 1].code.clone(), first.name.clone()));
        }
    }
    out.retain(|g| !g.compounds.is_empty());
    out
}

/// A line the demo registers for a street (街路河界线): a road, railway or river that bounds
/// one or more of its communities.
pub struct DemoBarrier {
    pub name: String,
    /// 道路, 铁路 or 河流.
    pub kind: &'static str,
    /// A GeoJSON LineString or MultiLineString, in the coordinates of [`cell`].
    pub geometry: String,
}

/// The roads, railways and rivers a 社区范围 names on one side ("北至恒信首府北、新城街…"
/// names 新城街; landmarks such as 恒信首府北 are not lines), each with its kind.
fn side_lines(side: &str) -> Vec<(&str, &'static str)> {
    side.split(['、', '，', ','])
        .map(str::trim)
        .filter_map(|item| {
            let kind = if item.ends_with('河') || item.ends_with("河道") {
                "河流"
            } else if item.ends_with("铁路") || item.ends_with("铁路线") {
                "铁路"
            } else if ["路", "街", "大道"].iter().any(|e| item.ends_with(e)) {
                "道路"
            } else {
                return None;
            };
            Some((item, kind))
        })
        .collect()
}

/// A straight stretch of a line: its two ends.
type Stretch = [[f64; 2]; 2];

/// The lines around the demo's communities, street by street: every road, railway and river
/// that 附件2's 社区范围 names as a community's east, north, west or south boundary, drawn
/// along that side of the community's block (see [`cell`]; north is up), 10 m outside it. A
/// line bounding several communities (北海路 west of 宝昌 and 三和) is one barrier of several
/// stretches, as a GIS road layer has it. The demo places communities apart, so these lines
/// frame communities on the maps; they cut no compound from another.
pub fn boundary_lines(county: &DemoCounty) -> Vec<(StreetCode, Vec<DemoBarrier>)> {
    county
        .streets
        .iter()
        .enumerate()
        .map(|(si, st)| {
            // (name, kind) → stretches, in the order first named.
            let mut lines: Vec<(String, &'static str, Vec<Stretch>)> = Vec::new();
            for (ci, c) in st.communities.iter().enumerate() {
                let n = c.compounds.len();
                if n == 0 {
                    continue;
                }
                let [x0, y0, _, _] = cell(si, ci, st.communities.len(), 0, n);
                let columns = (n as f64).sqrt().ceil().max(1.0) as usize;
                let rows = n.div_ceil(columns);
                let (x1, y1) = (x0 + columns as f64 * 100.0, y0 + rows as f64 * 100.0);
                let m = 10.0;
                let b = &c.boundary;
                let sides = [
                    (&b.east, [[x1 + m, y0 - m], [x1 + m, y1 + m]]),
                    (&b.north, [[x0 - m, y1 + m], [x1 + m, y1 + m]]),
                    (&b.west, [[x0 - m, y0 - m], [x0 - m, y1 + m]]),
                    (&b.south, [[x0 - m, y0 - m], [x1 + m, y0 - m]]),
                ];
                for (text, stretch) in sides {
                    let Some(text) = text else { continue };
                    let named = side_lines(text);
                    // A side naming a road and a river (新昌路、小丹河) has a line of each kind.
                    for kind in ["道路", "铁路", "河流"] {
                        let names: Vec<&str> = named
                            .iter()
                            .filter(|(_, k)| *k == kind)
                            .map(|(n, _)| *n)
                            .collect();
                        if names.is_empty() {
                            continue;
                        }
                        let name = names.join("、");
                        match lines.iter_mut().find(|(n, k, _)| *n == name && *k == kind) {
                            Some((_, _, s)) => s.push(stretch),
                            None => lines.push((name, kind, vec![stretch])),
                        }
                    }
                }
            }
            let barriers = lines
                .into_iter()
                .map(|(name, kind, stretches)| {
                    let coords: Vec<String> = stretches
                        .iter()
                        .map(|[a, b]| format!("[[{},{}],[{},{}]]", a[0], a[1], b[0], b[1]))
                        .collect();
                    let geometry = if coords.len() == 1 {
                        format!("{{\"type\":\"LineString\",\"coordinates\":{}}}", coords[0])
                    } else {
                        format!(
                            "{{\"type\":\"MultiLineString\",\"coordinates\":[{}]}}",
                            coords.join(",")
                        )
                    };
                    DemoBarrier {
                        name,
                        kind,
                        geometry,
                    }
                })
                .collect();
            (st.code.clone(), barriers)
        })
        .collect()
}

/// 附件4's standard-grid counts per street (the rest of the urban grids are basic).
const STANDARD_GRIDS: [usize; 2] = [29, 15];

pub struct DemoCounty {
    pub code: CountyCode,
    pub name: &'static str,
    pub streets: Vec<DemoStreet>,
}

pub struct DemoStreet {
    pub code: StreetCode,
    pub name: String,
    pub communities: Vec<DemoCommunity>,
}

pub struct DemoCommunity {
    pub code: CommunityCode,
    pub kind: CommunityKind,
    pub tier: Tier,
    /// The community's 附件2 row.
    pub basics: CommunityRow,
    pub boundary: Boundary,
    pub grids: Vec<DemoGrid>,
    pub compounds: Vec<DemoCompound>,
}

pub struct DemoGrid {
    pub code: GridCode,
    pub name: String,
    pub kind: GridKind,
    pub tier: Option<Tier>,
}

pub struct DemoCompound {
    pub name: String,
    pub kind: CompoundKind,
    /// Index into the community's `grids`.
    pub grid: usize,
    pub households: i64,
    pub population: i64,
    pub residential_area: f64,
    pub has_property_management: bool,
    pub buildings: u32,
}

/// A small deterministic generator (SplitMix64): the demo must be the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Splits `total` into parts proportional to `weights` (largest remainder), each at least
/// `floor` where the total allows it. Sums to `total` exactly.
pub fn apportion(total: i64, weights: &[f64], floor: i64) -> Vec<i64> {
    let n = weights.len() as i64;
    if n == 0 {
        return Vec::new();
    }
    let floor = if floor * n <= total { floor } else { total / n };
    let rest = total - floor * n;
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| rest as f64 * w / sum).collect();
    let mut parts: Vec<i64> = exact.iter().map(|e| e.floor() as i64).collect();
    let mut left = rest - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left <= 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts.iter().map(|p| p + floor).collect()
}

/// Heavy-tailed weights (a Pareto tail), for compound sizes.
pub fn heavy_tailed(rng: &mut Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.unit().powf(-0.8)).collect()
}

fn short(name: &str) -> &str {
    name.strip_suffix("社区").unwrap_or(name)
}

/// Where the demo draws a compound (the sources give no maps): each street in its own square
/// of the plane (10 km apart), its communities in a near-square array of blocks 800 m apart
/// (the largest block, 36 compounds, is 600 m wide), so that a street's map shows its
/// communities large; a community's compounds as 100 m square cells in a near-square block,
/// in table order. Local planar coordinates in metres: (x0, y0, x1, y1).
pub fn cell(
    street: usize,
    community: usize,
    communities: usize,
    compound: usize,
    compounds: usize,
) -> [f64; 4] {
    let columns = (compounds as f64).sqrt().ceil().max(1.0) as usize;
    let per_row = (communities as f64).sqrt().ceil().max(1.0) as usize;
    let (cx, cy) = (
        street as f64 * 10_000.0 + (community % per_row) as f64 * 800.0,
        (community / per_row) as f64 * 800.0,
    );
    let x = cx + (compound % columns) as f64 * 100.0;
    let y = cy + (compound / columns) as f64 * 100.0;
    [x, y, x + 100.0, y + 100.0]
}

/// A cell as a GeoJSON Polygon geometry.
pub fn cell_geojson(c: [f64; 4]) -> String {
    let [x0, y0, x1, y1] = c;
    format!(
        "{{\"type\":\"Polygon\",\"coordinates\":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}"
    )
}

/// Builds the demo county. Pure and deterministic.
pub fn county() -> DemoCounty {
    let county = CountyCode::parse(COUNTY_CODE).expect("demo county code");
    let mut streets = Vec::new();
    for (si, (name, rows)) in [("宝都街道", BAODU), ("宝城街道", BAOCHENG)]
        .into_iter()
        .enumerate()
    {
        let street = StreetCode::compose(&county, si as u16 + 1).expect("street code");
        let mut standard_left = STANDARD_GRIDS[si];
        let mut communities = Vec::new();
        for (ci, r) in rows.iter().enumerate() {
            let code = CommunityCode::compose(&street, ci as u16 + 1).expect("community code");
            let mut rng = Rng::new(code.as_str().parse::<u64>().unwrap_or(0));
            let rural = if r.converted { (r.grids + 1) / 2 } else { 0 } as usize;
            let urban = r.grids as usize - rural;
            let named: Vec<&str> = DEMONSTRATION_GRIDS
                .iter()
                .filter(|(c, _)| *c == r.name)
                .map(|(_, g)| *g)
                .collect();
            let mut grids = Vec::new();
            for gi in 0..r.grids as usize {
                let gcode = GridCode::compose(&code, gi as u16 + 1).expect("grid code");
                let (name, kind, tier) = if gi < named.len() {
                    (
                        named[gi].to_string(),
                        GridKind::Urban,
                        Some(Tier::Demonstration),
                    )
                } else if gi < urban {
                    let tier = if standard_left > 0 {
                        standard_left -= 1;
                        Tier::Standard
                    } else {
                        Tier::Basic
                    };
                    (
                        crate::registry::default_grid_name(r.name, gi as u32 + 1),
                        GridKind::Urban,
                        Some(tier),
                    )
                } else {
                    (
                        crate::registry::default_grid_name(r.name, gi as u32 + 1),
                        GridKind::Rural,
                        None,
                    )
                };
                grids.push(DemoGrid {
                    code: gcode,
                    name,
                    kind,
                    tier,
                });
            }
            let compounds = compounds(r, &grids, &mut rng);
            let basics = CommunityRow {
                row: ci + 3,
                code: Some(code.to_string()),
                name: r.name.to_string(),
                grids: r.grids,
                compounds: r.compounds,
                households: r.households,
                population: r.population,
                centre_location: (r.centre != crate::annex2::NO_CENTRE)
                    .then(|| r.centre.to_string()),
                boundary: Some(r.boundary.to_string()),
            };
            communities.push(DemoCommunity {
                code,
                kind: if r.converted {
                    CommunityKind::ConvertedVillage
                } else {
                    CommunityKind::Urban
                },
                tier: r.tier,
                boundary: Boundary::parse(r.boundary),
                basics,
                grids,
                compounds,
            });
        }
        streets.push(DemoStreet {
            code: street,
            name: name.to_string(),
            communities,
        });
    }
    DemoCounty {
        code: county,
        name: COUNTY_NAME,
        streets,
    }
}

fn compounds(r: &Row, grids: &[DemoGrid], rng: &mut Rng) -> Vec<DemoCompound> {
    let n = r.compounds as usize;
    // Every grid gets one compound; the rest go round the grids in turn.
    let owner: Vec<usize> = (0..n).map(|i| i % grids.len()).collect();
    let households = apportion(r.households, &heavy_tailed(rng, n), 20);
    let weights: Vec<f64> = households.iter().map(|&h| h as f64).collect();
    let population = apportion(r.population, &weights, 0);
    let mut seen = vec![0usize; grids.len()];
    (0..n)
        .map(|i| {
            let grid = &grids[owner[i]];
            seen[owner[i]] += 1;
            let rural = grid.kind == GridKind::Rural;
            let base = grid.name.strip_suffix("网格").unwrap_or(&grid.name);
            let name = match (rural, seen[owner[i]]) {
                (true, k) => format!("{}{}村", short(r.name), owner[i] * 4 + k),
                (false, 1) if grid.tier == Some(Tier::Demonstration) => base.to_string(),
                (false, k) => format!("{}{}区", base, k),
            };
            let h = households[i];
            DemoCompound {
                name,
                kind: if rural {
                    CompoundKind::Village
                } else {
                    CompoundKind::Compound
                },
                grid: owner[i],
                households: h,
                population: population[i],
                residential_area: (h * 95 + rng.below(20) as i64 * h) as f64,
                has_property_management: !rural && (h >= 300 || rng.below(10) < 6),
                buildings: if rural {
                    0
                } else {
                    (h as u32).div_ceil(60).max(1)
                },
            }
        })
        .collect()
}

/// A large synthetic county for benchmarks: `streets` streets of `communities` communities of
/// `grids` grids each, and `compounds` compounds spread over the grids of each community.
/// Deterministic; codes are generated, names are numbered.
pub fn synthetic(streets: usize, communities: usize, grids: usize, compounds: usize) -> DemoCounty {
    let county = CountyCode::parse(COUNTY_CODE).expect("demo county code");
    let mut rng = Rng::new(2020);
    let streets = (0..streets)
        .map(|si| {
            let code = StreetCode::compose(&county, si as u16 + 1).expect("street code");
            let communities = (0..communities)
                .map(|ci| {
                    let ccode =
                        CommunityCode::compose(&code, ci as u16 + 1).expect("community code");
                    let grid_list: Vec<DemoGrid> = (0..grids)
                        .map(|gi| DemoGrid {
                            code: GridCode::compose(&ccode, gi as u16 + 1).expect("grid code"),
                            name: format!("第{}网格", gi + 1),
                            kind: GridKind::Urban,
                            tier: Some(Tier::Basic),
                        })
                        .collect();
                    let compound_list: Vec<DemoCompound> = (0..compounds)
                        .map(|k| {
                            let h = 20 + rng.below(600) as i64;
                            DemoCompound {
                                name: format!("第{}小区", k + 1),
                                kind: CompoundKind::Compound,
                                grid: k % grids.max(1),
                                households: h,
                                population: h * 3,
                                residential_area: (h * 95) as f64,
                                has_property_management: rng.below(2) == 0,
                                buildings: 0,
                            }
                        })
                        .collect();
                    let households = compound_list.iter().map(|c| c.households).sum();
                    let population = compound_list.iter().map(|c| c.population).sum();
                    let name = format!("{}街道第{}社区", si + 1, ci + 1);
                    DemoCommunity {
                        code: ccode.clone(),
                        kind: CommunityKind::Urban,
                        tier: Tier::Basic,
                        basics: CommunityRow {
                            row: ci + 3,
                            code: Some(ccode.to_string()),
                            name,
                            grids: grids as i64,
                            compounds: compounds as i64,
                            households,
                            population,
                            centre_location: None,
                            boundary: None,
                        },
                        boundary: Boundary::default(),
                        grids: grid_list,
                        compounds: compound_list,
                    }
                })
                .collect();
            DemoStreet {
                code,
                name: format!("第{}街道", si + 1),
                communities,
            }
        })
        .collect();
    DemoCounty {
        code: county,
        name: COUNTY_NAME,
        streets,
    }
}

/// 附件3 宝都 as the source gives it, per community: (name, 建筑面积 m², 社区改造升级费用
/// 2020 / 2021 / 2022 in 万元 × 100, 街办下沉人员数量).
pub const BAODU_ANNEX3: &[(&str, i64, [i64; 3], i64)] = &[
    ("南苑社区", 2300, [500, 0, 0], 5),
    ("恒盛社区", 1200, [18500, 0, 0], 5),
    ("故城社区", 2300, [15000, 17860, 0], 5),
    ("昌盛社区", 1400, [5000, 8000, 0], 4),
    ("永康社区", 930, [0, 0, 13350], 4),
    ("恒安社区", 780, [500, 0, 0], 4),
    ("月亮湾社区", 1200, [0, 1997, 0], 4),
    ("新昌社区", 2000, [2607, 0, 0], 4),
    ("站前社区", 555, [500, 0, 7460], 4),
    ("西湖社区", 1600, [0, 22960, 0], 4),
    ("宝昌社区", 460, [500, 2100, 0], 3),
    ("三和社区", 1600, [0, 2600, 0], 3),
    ("西河社区", 120, [500, 600, 0], 3),
    ("恒昌社区", 320, [1000, 0, 0], 3),
    ("东山社区", 1300, [1500, 3500, 0], 3),
    ("湖滨社区", 70, [1500, 0, 0], 3),
    ("翰苑社区", 599, [1000, 7600, 0], 3),
    ("流泉社区", 462, [500, 0, 6130], 3),
];

/// 附件3 宝都 社会招聘人员 (general social workers recruited), by year.
pub const BAODU_RECRUITED: [(i32, i64); 3] = [(2020, 11), (2021, 64), (2022, 63)];

/// 附件3 宝城 as the source gives it, per community: (name, 社区改造升级费用 2020 / 2021 / 2022
/// in 万元 × 100, 街办下沉人员数量). Its table has no 建筑面积 column.
pub const BAOCHENG_ANNEX3: &[Annex3Row] = &[
    ("学府社区", [0, 17860, 0], 9),
    ("艳阳天社区", [0, 18950, 0], 9),
    ("宝石城社区", [0, 0, 0], 9),
    ("昌明社区", [0, 0, 0], 9),
];

/// 附件3 宝城 社会招聘人员, by year.
pub const BAOCHENG_RECRUITED: [(i32, i64); 3] = [(2020, 2), (2021, 28), (2022, 22)];

/// A community's 附件3 row: (name, investment 2020–2022 in 万元 × 100, staff sent down).
pub type Annex3Row = (&'static str, [i64; 3], i64);

/// A street's 附件3 figures: per community, and the social workers it recruited by year.
pub fn annex3_of(street: usize) -> (Vec<Annex3Row>, [(i32, i64); 3]) {
    if street == 0 {
        (
            BAODU_ANNEX3
                .iter()
                .map(|(name, _, investment, down)| (*name, *investment, *down))
                .collect(),
            BAODU_RECRUITED,
        )
    } else {
        (BAOCHENG_ANNEX3.to_vec(), BAOCHENG_RECRUITED)
    }
}

/// When the demo's staff took up their posts.
pub const STAFF_FROM: (i32, u8, u8) = (2020, 6, 1);

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英",
];

/// A deterministic Chinese name for the demo's n-th person.
pub fn person_name(n: usize) -> String {
    format!(
        "{}{}",
        SURNAMES[n % SURNAMES.len()],
        GIVEN[(n / SURNAMES.len() + n) % GIVEN.len()]
    )
}

/// The demo's staff, chosen so that 附件4 and 附件3's figures follow from the rules of
/// `policy` (the 昌乐 2020 policy):
/// - 宝都 (附件4: 268 grid staff, 196.2万 a year): the 70 existing community police
///   assistants at 600 a month; 9 grid workers who are also police assistants and 189 grid
///   workers, on urban grids whose subsidy tier is 600 (900 with the police-assistant
///   supplement) — 70×600 + 9×900 + 189×600 = 163,500 a month = 196.2万 a year;
/// - 宝都's 67 street staff sent down to its communities as 附件3 lists them;
/// - 宝城: a grid leader who is police assistant in each of its 20 grids, and 34 grid
///   workers spread over them (54 staff, as 附件4 counts; its 60万 is not reached by any
///   reading of the rules, see policies/README.md).
pub fn staff(
    county: &DemoCounty,
    policy: &crate::policy::Policy,
) -> Vec<crate::policy::Assignment> {
    use crate::policy::{Assignment, Post, StaffRole};
    let from = crate::Date::new(STAFF_FROM.0, STAFF_FROM.1, STAFF_FROM.2).expect("date");
    let mut out = Vec::new();
    let mut n = 0usize;
    // A person in `roles` at `post` from `from` (the demo's start when `None`) to `to`.
    let mut person =
        |out: &mut Vec<Assignment>,
         roles: &[StaffRole],
         post: Post,
         (start, to): (Option<crate::Date>, Option<crate::Date>)| {
            n += 1;
            let id = format!("demo-staff-{n:04}");
            for role in roles {
                out.push(Assignment {
                    person_id: id.clone(),
                    person_name: person_name(n),
                    role: *role,
                    post: post.clone(),
                    compound_id: None,
                    from: start.unwrap_or(from),
                    to,
                });
            }
        };
    for (si, street) in county.streets.iter().enumerate() {
        if si == 0 {
            // Urban grids, and those whose whole-grid tier is 600 a month.
            let mut urban = Vec::new();
            let mut six_hundred = Vec::new();
            for c in &street.communities {
                for (gi, g) in c.grids.iter().enumerate() {
                    if g.kind != GridKind::Urban {
                        continue;
                    }
                    urban.push(g.code.to_string());
                    let compounds: Vec<&DemoCompound> =
                        c.compounds.iter().filter(|m| m.grid == gi).collect();
                    let households: i64 = compounds.iter().map(|m| m.households).sum();
                    let all_pm = compounds.iter().all(|m| m.has_property_management);
                    let tier = policy.worker_tier(all_pm, households);
                    if tier.is_some_and(|t| t.monthly_fen == 60_000 && t.workers == 1) {
                        six_hundred.push(g.code.to_string());
                    }
                }
            }
            if six_hundred.is_empty() {
                six_hundred = urban.clone();
            }
            for i in 0..70 {
                let g = &urban[i % urban.len()];
                person(
                    &mut out,
                    &[StaffRole::ExistingPoliceAssistant],
                    Post::Grid(g.clone()),
                    (None, None),
                );
            }
            for i in 0..198 {
                let g = &six_hundred[i % six_hundred.len()];
                let roles: &[StaffRole] = if i < 9 {
                    &[StaffRole::GridWorker, StaffRole::PoliceAssistant]
                } else {
                    &[StaffRole::GridWorker]
                };
                person(&mut out, roles, Post::Grid(g.clone()), (None, None));
            }
        } else {
            let grids: Vec<String> = street
                .communities
                .iter()
                .flat_map(|c| c.grids.iter().map(|g| g.code.to_string()))
                .collect();
            for g in &grids {
                person(
                    &mut out,
                    &[StaffRole::GridLeader, StaffRole::PoliceAssistant],
                    Post::Grid(g.clone()),
                    (None, None),
                );
            }
            for i in 0..34 {
                let g = &grids[i % grids.len()];
                person(
                    &mut out,
                    &[StaffRole::GridWorker],
                    Post::Grid(g.clone()),
                    (None, None),
                );
            }
        }
        // 附件3: the street's staff sent down to its communities, and the 全科社工 it
        // recruited, each at a community (宝都: 11 in 2020, 64 in 2021, 63 in 2022, one leaving
        // at the end of 2021; 宝城: 2, 28, 22), so that the registry holds the people the
        // table counts.
        let (rows, recruited) = annex3_of(si);
        for c in &street.communities {
            let down = rows
                .iter()
                .find(|r| r.0 == c.basics.name)
                .map(|r| r.2)
                .unwrap_or(0);
            for _ in 0..down {
                person(
                    &mut out,
                    &[StaffRole::StaffSentDown],
                    Post::Community(c.code.to_string()),
                    (None, None),
                );
            }
        }
        let most = recruited.iter().map(|r| r.1).max().unwrap_or(0);
        let posts = recruit_posts(street, policy, most);
        for (k, code) in posts.into_iter().enumerate() {
            let k = k as i64;
            // Hired in the first year they are counted in, leaving after the last.
            let first = recruited.iter().find(|r| k < r.1).map(|r| r.0);
            let last = recruited.iter().rev().find(|r| k < r.1).map(|r| r.0);
            let (Some(first), Some(last)) = (first, last) else {
                continue;
            };
            let start =
                (first > STAFF_FROM.0).then(|| crate::Date::new(first, 1, 1).expect("date"));
            let end =
                (last < recruited[2].0).then(|| crate::Date::new(last, 12, 31).expect("date"));
            person(
                &mut out,
                &[StaffRole::GeneralSocialWorker],
                Post::Community(code),
                (start, end),
            );
        }
    }
    out
}

/// The communities of `count` recruited general social workers, one entry a person: shared
/// out by each community's need under the policy (⌈households ÷ per_used⌉, largest
/// remainder), and ordered round by round so that the first hired are spread over the
/// communities.
fn recruit_posts(street: &DemoStreet, policy: &crate::policy::Policy, count: i64) -> Vec<String> {
    let per = policy
        .doc()
        .community_staff
        .as_ref()
        .and_then(|s| s.general_social_worker.as_ref())
        .map_or(400, |g| g.per_used.max(1));
    let need: Vec<i64> = street
        .communities
        .iter()
        .map(|c| (c.basics.households + per - 1) / per)
        .collect();
    let total: i64 = need.iter().sum::<i64>().max(1);
    let mut quota: Vec<i64> = need.iter().map(|n| count * n / total).collect();
    let mut rest: Vec<usize> = (0..need.len()).collect();
    rest.sort_by_key(|&i| (std::cmp::Reverse((count * need[i]) % total), i));
    let short = count - quota.iter().sum::<i64>();
    for &i in rest.iter().take(short.max(0) as usize) {
        quota[i] += 1;
    }
    let mut out = Vec::new();
    for round in 0..quota.iter().copied().max().unwrap_or(0) {
        for (c, q) in street.communities.iter().zip(&quota) {
            if round < *q {
                out.push(c.code.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annex2::Totals;

    #[test]
    fn the_lines_around_communities_are_the_roads_their_boundaries_name() {
        assert_eq!(
            side_lines("恒信首府北、新城街、北关创业园北"),
            vec![("新城街", "道路")]
        );
        assert_eq!(side_lines("铁路线"), vec![("铁路线", "铁路")]);
        assert_eq!(
            side_lines("新昌路、小丹河"),
            vec![("新昌路", "道路"), ("小丹河", "河流")]
        );
        assert!(side_lines("车站村东").is_empty());
        let county = county();
        let lines = boundary_lines(&county);
        assert_eq!(lines.len(), 2);
        let baodu = &lines[0].1;
        // 北海路 is west of 宝昌 and of 三和: one barrier, two stretches.
        let beihai = baodu.iter().find(|b| b.name == "北海路").unwrap();
        assert_eq!(beihai.kind, "道路");
        let g: serde_json::Value = serde_json::from_str(&beihai.geometry).unwrap();
        assert_eq!(g["type"], "MultiLineString");
        assert!(baodu.iter().any(|b| b.name == "铁路线" && b.kind == "铁路"));
        // 宝通: "东至新昌路、小丹河": the river is a line of its own kind.
        assert!(baodu.iter().any(|b| b.name == "小丹河" && b.kind == "河流"));
        for (_, barriers) in &lines {
            assert!(!barriers.is_empty());
            let mut names = std::collections::HashSet::new();
            for b in barriers {
                assert!(names.insert((&b.name, b.kind)), "{} once", b.name);
                let g: serde_json::Value = serde_json::from_str(&b.geometry).unwrap();
                crate::place::parse_line_geometry(&g).unwrap();
            }
        }
        // 宝昌 (the first community): 北海路 runs along the west side of its block, 10 m out.
        let first = &county.streets[0].communities[0];
        let [x0, y0, _, _] = cell(
            0,
            0,
            county.streets[0].communities.len(),
            0,
            first.compounds.len(),
        );
        let coords = &g["coordinates"][0];
        assert_eq!(coords[0][0].as_f64(), Some(x0 - 10.0));
        assert_eq!(coords[0][1].as_f64(), Some(y0 - 10.0));
    }

    #[test]
    fn every_community_matches_its_row() {
        let county = county();
        for street in &county.streets {
            for c in &street.communities {
                assert_eq!(c.grids.len() as i64, c.basics.grids, "{}", c.basics.name);
                assert_eq!(c.compounds.len() as i64, c.basics.compounds);
                assert_eq!(
                    c.compounds.iter().map(|x| x.households).sum::<i64>(),
                    c.basics.households
                );
                assert_eq!(
                    c.compounds.iter().map(|x| x.population).sum::<i64>(),
                    c.basics.population
                );
                for (gi, _) in c.grids.iter().enumerate() {
                    assert!(c.compounds.iter().any(|x| x.grid == gi), "empty grid");
                }
            }
        }
    }

    #[test]
    fn totals_and_tiers_match_the_annexes() {
        let county = county();
        let baodu = &county.streets[0];
        let rows: Vec<_> = baodu.communities.iter().map(|c| c.basics.clone()).collect();
        let t = Totals::of(&rows);
        assert_eq!(
            (
                t.communities,
                t.grids,
                t.compounds,
                t.households,
                t.population
            ),
            (18, 132, 294, 98161, 343567)
        );
        let grids: Vec<&DemoGrid> = baodu.communities.iter().flat_map(|c| &c.grids).collect();
        let count = |k: GridKind, t: Option<Tier>| {
            grids.iter().filter(|g| g.kind == k && g.tier == t).count()
        };
        assert_eq!(count(GridKind::Rural, None), 31);
        assert_eq!(count(GridKind::Urban, Some(Tier::Demonstration)), 24);
        assert_eq!(count(GridKind::Urban, Some(Tier::Standard)), 29);
        assert_eq!(count(GridKind::Urban, Some(Tier::Basic)), 48);
        let baocheng: Vec<&DemoGrid> = county.streets[1]
            .communities
            .iter()
            .flat_map(|c| &c.grids)
            .collect();
        assert_eq!(baocheng.len(), 20);
        assert_eq!(
            baocheng
                .iter()
                .filter(|g| g.tier == Some(Tier::Demonstration))
                .count(),
            5
        );
        let tiers = |t: Tier| baodu.communities.iter().filter(|c| c.tier == t).count();
        assert_eq!((tiers(D), tiers(S), tiers(B)), (3, 7, 8));
    }

    #[test]
    fn apportion_sums_exactly() {
        let mut rng = Rng::new(7);
        let w = heavy_tailed(&mut rng, 36);
        let parts = apportion(5737, &w, 20);
        assert_eq!(parts.iter().sum::<i64>(), 5737);
        assert!(parts.iter().all(|&p| p >= 20));
    }
}
