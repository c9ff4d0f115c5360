//! 附件3 社区建设和运行投入基本费用情况表 and 附件4 网格建设和运行投入基本费用情况表, laid out as
//! the source lays them out: a title row, a multi-row header with merged cells, rows grouped by
//! tier, the remarks column, and a 合计 row that is the sum of the rows above it. Plain data
//! (cells and merge ranges) for a spreadsheet writer in another crate.

use serde::Serialize;

use super::eval::{Evaluation, StreetBudget};
use super::format::TierTable;
use super::input::SnapshotStreet;
use super::{FEN_PER_YUAN, Policy};
use crate::place::Tier;

pub use super::FEN_PER_WAN;

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Cell {
    Empty,
    Text(String),
    /// A count or an area (m²).
    Int(i64),
    /// Money shown in 万元, carried exactly in fen (write `fen as f64 / 1e6` as the number).
    Wan(i64),
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The cell as the source prints it: 0.5, 196.2, 1432.64.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Wan(fen) => wan_text(*fen),
        }
    }

    /// The number in the cell, in its unit (fen for money); `None` if it holds none.
    pub fn number(&self) -> Option<i64> {
        match self {
            Cell::Int(n) | Cell::Wan(n) => Some(*n),
            _ => None,
        }
    }
}

/// Fen as 万元 without trailing zeros: 5,000,000 fen → "5"; 500,000 → "0.5"; 1,432,640,000 → "1432.64".
pub fn wan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    let whole = f / FEN_PER_WAN as u64;
    let frac = f % FEN_PER_WAN as u64;
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let s = format!("{frac:06}");
    format!("{sign}{whole}.{}", s.trim_end_matches('0'))
}

/// A rectangle of merged cells, 0-based and inclusive, in the table's own rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Merge {
    pub first_row: usize,
    pub first_col: usize,
    pub last_row: usize,
    pub last_col: usize,
}

/// A laid-out table: row 0 is the title, then `header_rows` header rows, the data rows, and
/// the 合计 row last. Every row has `columns` cells; a merged range's value is in its top-left cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The sheet-name-sized name, e.g. 附件4.
    pub annex: String,
    pub title: String,
    pub columns: usize,
    pub header_rows: usize,
    pub rows: Vec<Vec<Cell>>,
    pub merges: Vec<Merge>,
    /// Columns whose 合计 cell is the sum of the data rows' cells.
    pub sum_columns: Vec<usize>,
}

impl Table {
    /// The first data row.
    pub fn first_data_row(&self) -> usize {
        1 + self.header_rows
    }

    /// The 合计 row.
    pub fn total_row(&self) -> usize {
        self.rows.len() - 1
    }

    /// Columns where the 合计 row is not the sum of the data rows (empty: all add up).
    pub fn unbalanced_columns(&self) -> Vec<usize> {
        let data = &self.rows[self.first_data_row()..self.total_row()];
        self.sum_columns
            .iter()
            .copied()
            .filter(|&c| {
                let sum: i64 = data.iter().filter_map(|r| r[c].number()).sum();
                self.rows[self.total_row()][c].number().unwrap_or(0) != sum
            })
            .collect()
    }

    /// The table as lines of tab-separated text (merged cells left empty but the first): for
    /// snapshots and CSV.
    pub fn to_tsv(&self) -> String {
        self.rows
            .iter()
            .map(|r| r.iter().map(Cell::display).collect::<Vec<_>>().join("\t"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

struct Builder {
    columns: usize,
    rows: Vec<Vec<Cell>>,
    merges: Vec<Merge>,
}

impl Builder {
    fn new(columns: usize) -> Builder {
        Builder {
            columns,
            rows: Vec::new(),
            merges: Vec::new(),
        }
    }

    fn row(&mut self) -> usize {
        self.rows.push(vec![Cell::Empty; self.columns]);
        self.rows.len() - 1
    }

    fn set(&mut self, r: usize, c: usize, v: Cell) {
        self.rows[r][c] = v;
    }

    fn merge(&mut self, r0: usize, c0: usize, r1: usize, c1: usize) {
        if r0 != r1 || c0 != c1 {
            self.merges.push(Merge {
                first_row: r0,
                first_col: c0,
                last_row: r1,
                last_col: c1,
            });
        }
    }

    fn finish(self, annex: &str, title: String, header_rows: usize, sum: Vec<usize>) -> Table {
        Table {
            annex: annex.to_string(),
            title,
            columns: self.columns,
            header_rows,
            rows: self.rows,
            merges: self.merges,
            sum_columns: sum,
        }
    }
}

/// The street's short name as the tables' titles write it: 宝都街道 → 宝都.
fn short(street: &str) -> &str {
    street
        .strip_suffix("街道")
        .or_else(|| street.strip_suffix("街办"))
        .unwrap_or(street)
}

const TIERS: [Option<Tier>; 4] = [
    Some(Tier::Demonstration),
    Some(Tier::Standard),
    Some(Tier::Basic),
    None,
];

/// A grid's name in 附件4, with the day it was retired when that fell in the year.
fn grid_name(g: &super::eval::GridBudget) -> String {
    match g.retired_on {
        Some(d) => format!("{}（{d} 撤销）", g.name),
        None => g.name.clone(),
    }
}

fn community_tier_label(t: Option<Tier>) -> &'static str {
    match t {
        Some(Tier::Demonstration) => "示范社区",
        Some(Tier::Standard) => "规范社区",
        Some(Tier::Basic) => "基本社区",
        None => "未定标准",
    }
}

fn grid_tier_label(t: Option<Tier>) -> &'static str {
    match t {
        Some(Tier::Demonstration) => "示范性网格",
        Some(Tier::Standard) => "规范性网格",
        Some(Tier::Basic) => "基础性网格",
        None => "未定标准",
    }
}

/// 附件4 for one street: demonstration grids one row each, the other tiers one row each, the
/// remarks (from the policy's numbers) in a column merged over the data rows.
pub fn annex4(policy: &Policy, budget: &StreetBudget) -> Table {
    const COLS: usize = 8;
    let mut b = Builder::new(COLS);
    let title = format!(
        "网格建设和运行投入基本费用情况表（{}）",
        short(&budget.name)
    );
    let r = b.row();
    b.set(r, 0, Cell::text(&title));
    b.merge(r, 0, r, COLS - 1);
    let r = b.row();
    for (c, h) in [
        "序号",
        "网格建设标准",
        "网格名称",
        "所属社区",
        "配备办公设施设备费用（万元）",
        "网格工作人员数量（个）",
        "网格工作人员补贴（万元）",
        "备注",
    ]
    .into_iter()
    .enumerate()
    {
        b.set(r, c, Cell::text(h));
    }

    let grids: Vec<(&str, &super::eval::GridBudget)> = budget
        .communities
        .iter()
        .flat_map(|c| c.grids.iter().map(move |g| (c.name.as_str(), g)))
        .filter(|(_, g)| g.budgeted)
        .collect();
    let first_data = b.rows.len();
    let mut seq = 0;
    for tier in TIERS {
        let in_tier: Vec<_> = grids.iter().filter(|(_, g)| g.tier == tier).collect();
        if in_tier.is_empty() {
            continue;
        }
        seq += 1;
        // Grids retired during the year keep their staff's row, not a place in the count.
        let n = in_tier
            .iter()
            .filter(|(_, g)| g.retired_on.is_none())
            .count();
        let retired = in_tier.len() - n;
        let count = if retired > 0 {
            format!("{n}个（另有年内撤销 {retired} 个）")
        } else {
            format!("{n}个")
        };
        if tier == Some(Tier::Demonstration) {
            let top = b.rows.len();
            for (community, g) in &in_tier {
                let r = b.row();
                b.set(r, 2, Cell::text(grid_name(g)));
                b.set(r, 3, Cell::text(*community));
                b.set(r, 4, Cell::Wan(g.subsidy.equipment_fen));
                b.set(r, 5, Cell::Int(g.subsidy.staff));
                b.set(r, 6, Cell::Wan(g.subsidy.year_fen));
            }
            let bottom = b.rows.len() - 1;
            b.set(top, 0, Cell::Int(seq));
            b.set(
                top,
                1,
                Cell::text(format!("{}\n{count}", grid_tier_label(tier))),
            );
            b.merge(top, 0, bottom, 0);
            b.merge(top, 1, bottom, 1);
        } else {
            let r = b.row();
            b.set(r, 0, Cell::Int(seq));
            b.set(r, 1, Cell::text(grid_tier_label(tier)));
            b.set(r, 2, Cell::text(count));
            b.set(
                r,
                4,
                Cell::Wan(in_tier.iter().map(|(_, g)| g.subsidy.equipment_fen).sum()),
            );
            b.set(
                r,
                5,
                Cell::Int(in_tier.iter().map(|(_, g)| g.subsidy.staff).sum()),
            );
            b.set(
                r,
                6,
                Cell::Wan(in_tier.iter().map(|(_, g)| g.subsidy.year_fen).sum()),
            );
        }
    }
    if b.rows.len() == first_data {
        b.row();
    }
    let last_data = b.rows.len() - 1;
    b.set(first_data, 7, Cell::text(annex4_remarks(policy, budget)));
    b.merge(first_data, 7, last_data, 7);

    let r = b.row();
    b.set(r, 0, Cell::text("合计"));
    b.merge(r, 0, r, 1);
    b.set(r, 2, Cell::text(format!("{}个", budget.subsidy.grids)));
    b.set(r, 4, Cell::Wan(budget.subsidy.equipment_fen));
    b.set(r, 5, Cell::Int(budget.subsidy.staff));
    b.set(r, 6, Cell::Wan(budget.subsidy.year_fen));
    b.finish("附件4", title, 1, vec![4, 5, 6])
}

fn tier_phrases(t: &TierTable) -> (String, String) {
    let last = t.tiers.len() - 1;
    let bands: Vec<String> = t
        .tiers
        .iter()
        .enumerate()
        .map(
            |(i, tier)| match (tier.min_households, tier.max_households) {
                (_, Some(max)) if i == 0 => format!("{max}户以下"),
                (min, None) if i == last => format!("{}户以上", min.unwrap_or(0)),
                (min, Some(max)) => format!("{}-{max}户", min.unwrap_or(0)),
                (min, None) => format!("{}户以上", min.unwrap_or(0)),
            },
        )
        .collect();
    let amounts: Vec<String> = t
        .tiers
        .iter()
        .map(|tier| format!("{}元", tier.monthly_yuan))
        .collect();
    (bands.join("、"), amounts.join("、"))
}

/// The remarks column, in the source's words, with the policy's numbers.
pub fn annex4_remarks(policy: &Policy, budget: &StreetBudget) -> String {
    let Some(s) = policy.doc().grid_subsidy.as_ref() else {
        return String::new();
    };
    let mut notes = Vec::new();
    if let Some(e) = s.equipment_per_grid_yuan {
        notes.push(format!(
            "每个网格配备办公设施设备费用为{}万。",
            wan_text(e * FEN_PER_YUAN)
        ));
    }
    let mut rules = Vec::new();
    for (who, t) in [
        ("无物业管理的小区网格员", &s.without_property_management),
        ("有物业管理的小区网格员", &s.with_property_management),
    ] {
        if let Some(t) = t {
            let (bands, amounts) = tier_phrases(t);
            rules.push(format!(
                "{who}按照{bands}的标准，分别给予每月{amounts}的补助"
            ));
        }
    }
    if let Some(t) = &s.two_workers {
        rules.push(format!(
            "{}户以上配备{}名网格员给予每人每月{}元的补助",
            t.min_households, t.workers, t.monthly_yuan_each
        ));
    }
    if let Some(p) = &s.police_assistant {
        let range = match (p.worker_min_yuan, p.worker_max_yuan) {
            (Some(lo), Some(hi)) => format!("{lo}-{hi}元/月"),
            _ => String::new(),
        };
        rules.push(format!(
            "网格长兼任警务助理{}元/月，网格员兼任警务助理{range}（网格员补贴加{}元）",
            p.leader_monthly_yuan, p.worker_supplement_yuan
        ));
    }
    if !rules.is_empty() {
        notes.push(format!("{}。", rules.join("；")));
    }
    let sub = &budget.subsidy;
    if sub.existing_assistants > 0
        && let Some(e) = s
            .police_assistant
            .as_ref()
            .and_then(|p| p.existing_monthly_yuan)
    {
        // A year the policy covers only in part (2020, from its start) is said as such.
        let months = sub.monthly_fen.iter().filter(|v| **v > 0).count();
        let span = if months == 12 {
            "实际每年增加财政支出".to_string()
        } else {
            format!("本年按 {months} 个月计，实际增加财政支出")
        };
        notes.push(format!(
            "网格工作人员补贴含原有社区警务助理{}人薪酬每人{e}元/月，{}总计 {}万元。{span}{}万元。",
            sub.existing_assistants,
            if months == 12 {
                String::new()
            } else {
                format!("{months} 个月")
            },
            wan_text(sub.existing_assistants_fen),
            wan_text(sub.increase_fen)
        ));
    }
    notes
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{}、{n}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

/// 附件3 for one street over `years` (e.g. 2020–2022): communities by tier, their upgrade
/// area and investment by year, staff sent down, and the street's recruited social workers by
/// year (merged over the rows, as in the source) at the policy's cost per worker-year.
pub fn annex3(
    policy: &Policy,
    street: &SnapshotStreet,
    budget: &StreetBudget,
    years: &[i32],
) -> Table {
    let ny = years.len();
    // 序号, 标准, 名称, 建筑面积, 投资总额, years…, 下沉, (数量, 总额) per year.
    let c_area = 3;
    let c_total = 4;
    let c_year0 = 5;
    let c_down = c_year0 + ny;
    let c_rec0 = c_down + 1;
    let cols = c_rec0 + 2 * ny;
    let mut b = Builder::new(cols);
    let title = format!(
        "社区建设和运行投入基本费用情况表（{}）",
        short(&budget.name)
    );
    let r = b.row();
    b.set(r, 0, Cell::text(&title));
    b.merge(r, 0, r, cols - 1);

    let cost = policy
        .doc()
        .community_staff
        .as_ref()
        .and_then(|s| s.general_social_worker.as_ref())
        .and_then(|g| g.yuan_per_worker_year)
        .map(|y| y * FEN_PER_YUAN);
    let h0 = b.row();
    let h1 = b.row();
    let h2 = b.row();
    let h3 = b.row();
    for (c, h) in ["序号", "社区建设标准", "社区名称"].into_iter().enumerate() {
        b.set(h0, c, Cell::text(h));
        b.merge(h0, c, h3, c);
    }
    b.set(h0, c_area, Cell::text("社区改造升级费用（万元）"));
    b.merge(h0, c_area, h0, c_down - 1);
    b.set(h0, c_down, Cell::text("人员配备"));
    b.merge(h0, c_down, h0, cols - 1);
    b.set(h1, c_area, Cell::text("建筑\n面积"));
    b.set(h1, c_total, Cell::text("投资\n总额"));
    for (i, y) in years.iter().enumerate() {
        b.set(h1, c_year0 + i, Cell::text(y.to_string()));
    }
    for c in c_area..=c_down {
        b.merge(h1, c, h3, c);
    }
    b.set(h1, c_down, Cell::text("街办下沉人员数量（人）"));
    let recruit = match cost {
        Some(f) => format!("社会招聘人员（每人每年{}万元）", wan_text(f)),
        None => "社会招聘人员".to_string(),
    };
    b.set(h1, c_rec0, Cell::text(recruit));
    if ny > 0 {
        b.merge(h1, c_rec0, h1, cols - 1);
    }
    for (i, y) in years.iter().enumerate() {
        let c = c_rec0 + 2 * i;
        b.set(h2, c, Cell::text(format!("{y}年")));
        b.merge(h2, c, h2, c + 1);
        b.set(h3, c, Cell::text("数量"));
        b.set(h3, c + 1, Cell::text("总额"));
    }

    let first_data = b.rows.len();
    let mut seq = 0;
    let mut sums = vec![0i64; cols];
    for tier in TIERS {
        let in_tier: Vec<_> = budget
            .communities
            .iter()
            .filter(|c| c.tier == tier)
            .collect();
        if in_tier.is_empty() {
            continue;
        }
        let top = b.rows.len();
        for cb in &in_tier {
            seq += 1;
            let snap = street.communities.iter().find(|c| c.code == cb.code);
            let r = b.row();
            b.set(r, 0, Cell::Int(seq));
            b.set(r, 2, Cell::text(&cb.name));
            if let Some(a) = snap.and_then(|c| c.service_centre_area_m2) {
                b.set(r, c_area, Cell::Int(a));
                sums[c_area] += a;
            }
            let mut total = 0;
            let mut any = false;
            for (i, y) in years.iter().enumerate() {
                if let Some(v) = snap.and_then(|c| c.investment_fen.get(y)) {
                    b.set(r, c_year0 + i, Cell::Wan(*v));
                    sums[c_year0 + i] += v;
                    total += v;
                    any = true;
                }
            }
            if any {
                b.set(r, c_total, Cell::Wan(total));
                sums[c_total] += total;
            }
            b.set(r, c_down, Cell::Int(cb.staff_sent_down));
            sums[c_down] += cb.staff_sent_down;
        }
        let bottom = b.rows.len() - 1;
        b.set(
            top,
            1,
            Cell::text(format!(
                "{}\n{}个",
                community_tier_label(tier),
                in_tier.len()
            )),
        );
        b.merge(top, 1, bottom, 1);
    }
    if b.rows.len() == first_data {
        b.row();
    }
    let last_data = b.rows.len() - 1;
    for (i, y) in years.iter().enumerate() {
        let c = c_rec0 + 2 * i;
        let n = street.recruited_social_workers.get(y).copied().unwrap_or(0);
        b.set(first_data, c, Cell::Int(n));
        b.merge(first_data, c, last_data, c);
        sums[c] = n;
        if let Some(f) = cost {
            b.set(first_data, c + 1, Cell::Wan(n * f));
            sums[c + 1] = n * f;
        }
        b.merge(first_data, c + 1, last_data, c + 1);
    }

    let r = b.row();
    b.set(r, 0, Cell::text("合计"));
    b.merge(r, 0, r, 1);
    b.set(r, 2, Cell::Int(budget.communities.len() as i64));
    let mut sum_cols = vec![c_area, c_total, c_down];
    b.set(r, c_area, Cell::Int(sums[c_area]));
    b.set(r, c_total, Cell::Wan(sums[c_total]));
    for i in 0..ny {
        b.set(r, c_year0 + i, Cell::Wan(sums[c_year0 + i]));
        sum_cols.push(c_year0 + i);
    }
    b.set(r, c_down, Cell::Int(sums[c_down]));
    for i in 0..ny {
        let c = c_rec0 + 2 * i;
        b.set(r, c, Cell::Int(sums[c]));
        sum_cols.push(c);
        if cost.is_some() {
            b.set(r, c + 1, Cell::Wan(sums[c + 1]));
            sum_cols.push(c + 1);
        }
    }
    sum_cols.sort_unstable();
    b.finish("附件3", title, 4, sum_cols)
}

/// Both annexes for every street of an evaluation: (附件3 tables, 附件4 tables), in street order.
pub fn annex_tables(
    policy: &Policy,
    streets: &[SnapshotStreet],
    evaluation: &Evaluation,
    years: &[i32],
) -> (Vec<Table>, Vec<Table>) {
    let a3 = evaluation
        .streets
        .iter()
        .map(|sb| {
            let empty = SnapshotStreet::default();
            let st = streets.iter().find(|s| s.code == sb.code).unwrap_or(&empty);
            annex3(policy, st, sb, years)
        })
        .collect();
    let a4 = evaluation
        .streets
        .iter()
        .map(|sb| annex4(policy, sb))
        .collect();
    (a3, a4)
}
