//! 附件2 社区基本情况表: the official table of a street's communities, as a grid of cells.
//!
//! Reading is pure: the `sheets` crate turns a file into [`Sheet`]s of strings, this module
//! finds each street's block (title, header, rows, 合计), validates every cell and every
//! 合计 against the rows it sums, and reports every error with its sheet, row and column.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::place::{FieldError, parse_count, parse_name, parse_optional_text};

/// One sheet of a workbook (or a whole CSV file): rows of cells as text; row 0 is row 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// The sheet's name; `None` for a CSV file.
    pub name: Option<String>,
    pub rows: Vec<Vec<String>>,
}

/// Where an error is, and what is wrong, in words for users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    pub sheet: Option<String>,
    /// 1-based row number as the spreadsheet shows it.
    pub row: usize,
    /// 1-based column number, if the error is in one cell.
    pub column: Option<usize>,
    /// The column's header, e.g. 户数.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(sheet) = &self.sheet {
            write!(f, "工作表「{sheet}」")?;
        }
        write!(f, "第 {} 行", self.row)?;
        if let Some(c) = self.column {
            write!(f, " {} 列", column_letter(c))?;
        }
        if let Some(field) = &self.field {
            write!(f, "「{field}」")?;
        }
        write!(f, "：{}", self.message)
    }
}

/// Spreadsheet column letters: 1 → A, 27 → AA.
pub fn column_letter(mut col: usize) -> String {
    let mut s = Vec::new();
    while col > 0 {
        let r = (col - 1) % 26;
        s.push(b'A' + r as u8);
        col = (col - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// The columns of the table, in the order the export writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Seq,
    Name,
    Grids,
    Compounds,
    Households,
    Population,
    Centre,
    Boundary,
    Code,
}

impl Column {
    pub const ALL: [Column; 9] = [
        Column::Seq,
        Column::Name,
        Column::Grids,
        Column::Compounds,
        Column::Households,
        Column::Population,
        Column::Centre,
        Column::Boundary,
        Column::Code,
    ];
    const SUMMED: [Column; 4] = [
        Column::Grids,
        Column::Compounds,
        Column::Households,
        Column::Population,
    ];

    /// The header the export writes.
    pub fn header(self) -> &'static str {
        match self {
            Column::Seq => "序号",
            Column::Name => "社区名称",
            Column::Grids => "网格数量",
            Column::Compounds => "小区及村庄数",
            Column::Households => "户数",
            Column::Population => "人口",
            Column::Centre => "服务中心位置",
            Column::Boundary => "社区范围",
            Column::Code => "社区代码",
        }
    }

    /// Headers accepted on import (the two streets' sheets word some differently).
    fn from_header(h: &str) -> Option<Column> {
        Some(match h {
            "序号" => Column::Seq,
            "社区名称" | "社区" => Column::Name,
            "网格数量" | "网格数" => Column::Grids,
            "小区及村庄数" | "小区及村庄数量" | "小区数量" | "小区数" => {
                Column::Compounds
            }
            "户数" => Column::Households,
            "人口" | "人口数" => Column::Population,
            "服务中心位置" => Column::Centre,
            "社区范围" => Column::Boundary,
            "社区代码" | "统一编码" | "社区编码" => Column::Code,
            _ => return None,
        })
    }

    fn required(self) -> bool {
        matches!(
            self,
            Column::Name
                | Column::Grids
                | Column::Compounds
                | Column::Households
                | Column::Population
        )
    }
}

/// The title the export writes above a street's table.
pub fn title(street_name: &str) -> String {
    format!("社区基本情况表（{street_name}）")
}

/// What a text cell reads when a community has no service centre.
pub const NO_CENTRE: &str = "无";

/// One community's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityRow {
    /// The row's number in its sheet, for errors found later (unknown codes and the like).
    pub row: usize,
    pub code: Option<String>,
    pub name: String,
    pub grids: i64,
    pub compounds: i64,
    pub households: i64,
    pub population: i64,
    pub centre_location: Option<String>,
    pub boundary: Option<String>,
}

/// The sums a 合计 row holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub communities: i64,
    pub grids: i64,
    pub compounds: i64,
    pub households: i64,
    pub population: i64,
}

impl Totals {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a CommunityRow>) -> Totals {
        let mut t = Totals::default();
        for r in rows {
            t.communities += 1;
            t.grids += r.grids;
            t.compounds += r.compounds;
            t.households += r.households;
            t.population += r.population;
        }
        t
    }

    fn get(&self, c: Column) -> i64 {
        match c {
            Column::Grids => self.grids,
            Column::Compounds => self.compounds,
            Column::Households => self.households,
            Column::Population => self.population,
            _ => self.communities,
        }
    }
}

/// One street's table as read from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreetTable {
    pub sheet: Option<String>,
    /// The street as the title (or else the sheet's name) names it, e.g. 宝都 or 宝都街道.
    pub street: String,
    /// The row that names the street (title or header), for errors about the street.
    pub row: usize,
    /// 1-based columns of 社区名称 and 社区代码, for errors found later.
    pub name_column: Option<usize>,
    pub code_column: Option<usize>,
    pub rows: Vec<CommunityRow>,
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn street_in_title(cells: &[String]) -> Option<String> {
    cells.iter().find_map(|c| {
        let c = norm(c);
        let rest = c.split_once("社区基本情况表")?.1;
        let inner = rest
            .trim_start_matches(['（', '('])
            .trim_end_matches(['）', ')']);
        (!inner.is_empty()).then(|| inner.to_string())
    })
}

struct Ctx<'a> {
    sheet: &'a Option<String>,
    errors: Vec<CellError>,
}

impl Ctx<'_> {
    fn err(&mut self, row: usize, column: Option<(usize, Column)>, message: impl Into<String>) {
        self.errors.push(CellError {
            sheet: self.sheet.clone(),
            row,
            column: column.map(|(i, _)| i + 1),
            field: column.map(|(_, c)| c.header().to_string()),
            message: message.into(),
        });
    }
}

/// Reads every street table in the sheets. Either every table, or every error.
pub fn read(sheets: &[Sheet]) -> Result<Vec<StreetTable>, Vec<CellError>> {
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    for sheet in sheets {
        let mut ctx = Ctx {
            sheet: &sheet.name,
            errors: Vec::new(),
        };
        read_sheet(sheet, &mut ctx, &mut tables);
        errors.append(&mut ctx.errors);
    }
    if tables.is_empty() && errors.is_empty() {
        errors.push(CellError {
            sheet: None,
            row: 1,
            column: None,
            field: None,
            message: "未找到社区基本情况表：表头应含「社区名称」「网格数量」「小区及村庄数」「户数」「人口」"
                .into(),
        });
    }
    // Codes must be unique across the whole file.
    let mut seen: HashMap<&str, (&Option<String>, usize)> = HashMap::new();
    for t in &tables {
        for r in &t.rows {
            if let Some(code) = &r.code {
                if let Some((sheet, row)) = seen.get(code.as_str()) {
                    let at = match sheet {
                        Some(s) => format!("工作表「{s}」第 {row} 行"),
                        None => format!("第 {row} 行"),
                    };
                    errors.push(CellError {
                        sheet: t.sheet.clone(),
                        row: r.row,
                        column: None,
                        field: Some(Column::Code.header().into()),
                        message: format!("社区代码“{code}”与{at}重复"),
                    });
                } else {
                    seen.insert(code, (&t.sheet, r.row));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(tables)
    } else {
        Err(errors)
    }
}

fn read_sheet(sheet: &Sheet, ctx: &mut Ctx<'_>, tables: &mut Vec<StreetTable>) {
    let mut street: Option<(String, usize)> = None;
    let mut i = 0;
    while i < sheet.rows.len() {
        let cells = &sheet.rows[i];
        if let Some(s) = street_in_title(cells) {
            street = Some((s, i + 1));
            i += 1;
            continue;
        }
        let header: Vec<Option<Column>> = cells
            .iter()
            .map(|c| Column::from_header(&norm(c)))
            .collect();
        if !header.contains(&Some(Column::Name)) {
            i += 1;
            continue;
        }
        // A header row: the block runs to the next title or header.
        let header_row = i + 1;
        let mut cols: HashMap<Column, usize> = HashMap::new();
        for (idx, c) in header.iter().enumerate() {
            if let Some(c) = c
                && cols.insert(*c, idx).is_some()
            {
                ctx.err(header_row, Some((idx, *c)), "表头重复");
            }
        }
        for c in Column::ALL {
            if c.required() && !cols.contains_key(&c) {
                ctx.err(header_row, None, format!("缺少「{}」列", c.header()));
            }
        }
        let (name, row) = match street.take() {
            Some(s) => s,
            None => match &sheet.name {
                Some(n) => (n.trim().to_string(), header_row),
                None => {
                    ctx.err(
                        header_row,
                        None,
                        "表头上方缺少表题“社区基本情况表（街道名称）”，无法确定所属街道",
                    );
                    (String::new(), header_row)
                }
            },
        };
        let mut end = i + 1;
        while end < sheet.rows.len()
            && street_in_title(&sheet.rows[end]).is_none()
            && !sheet.rows[end]
                .iter()
                .any(|c| Column::from_header(&norm(c)) == Some(Column::Name))
        {
            end += 1;
        }
        if Column::ALL
            .iter()
            .all(|c| !c.required() || cols.contains_key(c))
        {
            let rows = read_block(sheet, i + 1..end, &cols, ctx);
            if rows.is_empty() {
                ctx.err(header_row, None, "表中没有社区行");
            }
            tables.push(StreetTable {
                sheet: sheet.name.clone(),
                street: name,
                row,
                name_column: cols.get(&Column::Name).map(|i| i + 1),
                code_column: cols.get(&Column::Code).map(|i| i + 1),
                rows,
            });
        }
        i = end;
    }
}

fn read_block(
    sheet: &Sheet,
    range: std::ops::Range<usize>,
    cols: &HashMap<Column, usize>,
    ctx: &mut Ctx<'_>,
) -> Vec<CommunityRow> {
    let cell = |r: usize, c: Column| -> &str {
        cols.get(&c)
            .and_then(|&i| sheet.rows[r].get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    };
    let at = |c: Column| cols.get(&c).map(|&i| (i, c));
    let mut rows: Vec<CommunityRow> = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut total_seen = false;
    for r in range {
        let n = r + 1;
        if sheet.rows[r].iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let first = sheet.rows[r]
            .iter()
            .map(|c| norm(c))
            .find(|c| !c.is_empty())
            .unwrap_or_default();
        if first == "合计" || first == "总计" {
            total_seen = true;
            check_total(n, &rows, &|c| cell(r, c).to_string(), &at, ctx);
            continue;
        }
        if first.starts_with("注") {
            continue;
        }
        if total_seen {
            ctx.err(n, None, "合计行之后不应再有社区行");
            continue;
        }
        let mut field = |c: Column, res: Result<i64, FieldError>| match res {
            Ok(v) => v,
            Err(e) => {
                ctx.err(n, at(c), e.to_string());
                0
            }
        };
        if !cell(r, Column::Seq).is_empty() {
            field(Column::Seq, parse_count(cell(r, Column::Seq)));
        }
        let grids = field(Column::Grids, parse_count(cell(r, Column::Grids)));
        let compounds = field(Column::Compounds, parse_count(cell(r, Column::Compounds)));
        let households = field(Column::Households, parse_count(cell(r, Column::Households)));
        let population = field(Column::Population, parse_count(cell(r, Column::Population)));
        // A community of a million households, or fewer people than households, is a typing
        // error (a household has at least one person).
        for (c, v, max) in [
            (Column::Households, households, 1_000_000),
            (Column::Population, population, 3_000_000),
        ] {
            if v > max {
                ctx.err(n, at(c), format!("不能大于 {max}，现为 {v}（请核对）"));
            }
        }
        if households > 0 && population < households && population <= 3_000_000 {
            ctx.err(
                n,
                at(Column::Population),
                format!("人口 {population} 少于户数 {households}：每户至少一人，请核对"),
            );
        }
        let name = match parse_name(cell(r, Column::Name), 50) {
            Ok(v) => {
                if let Some(prev) = names.insert(v.clone(), n) {
                    ctx.err(
                        n,
                        at(Column::Name),
                        format!("社区名称“{v}”与第 {prev} 行重复"),
                    );
                }
                v
            }
            Err(e) => {
                ctx.err(n, at(Column::Name), e.to_string());
                String::new()
            }
        };
        let mut text = |c: Column, max: usize| match parse_optional_text(cell(r, c), max) {
            Ok(v) => v,
            Err(e) => {
                ctx.err(n, at(c), e.to_string());
                None
            }
        };
        let centre_location = text(Column::Centre, 100).filter(|s| s != NO_CENTRE);
        let boundary = text(Column::Boundary, 500);
        let code = text(Column::Code, 20);
        if let Some(c) = &code
            && let Err(e) = crate::code::CommunityCode::parse(c)
        {
            ctx.err(n, at(Column::Code), e.to_string());
        }
        rows.push(CommunityRow {
            row: n,
            code,
            name,
            grids,
            compounds,
            households,
            population,
            centre_location,
            boundary,
        });
    }
    // The official table ends each street with its 合计: without it nothing checks the rows.
    if !total_seen && let Some(last) = rows.last() {
        ctx.err(
            last.row + 1,
            None,
            "缺少合计行：附件2 每个街道的表以合计行结束，用来核对各社区之和",
        );
    }
    rows
}

fn check_total(
    n: usize,
    rows: &[CommunityRow],
    cell: &dyn Fn(Column) -> String,
    at: &dyn Fn(Column) -> Option<(usize, Column)>,
    ctx: &mut Ctx<'_>,
) {
    let sums = Totals::of(rows);
    // The 宝都 sheet counts its communities in the name column of the 合计 row.
    let count = cell(Column::Name);
    if !count.is_empty() && count != "合计" {
        match parse_count(&count) {
            Ok(v) if v != sums.communities => ctx.err(
                n,
                at(Column::Name),
                format!(
                    "合计行写有 {v} 个社区，但表中有 {} 个社区",
                    sums.communities
                ),
            ),
            Ok(_) => {}
            Err(e) => ctx.err(n, at(Column::Name), format!("合计行的社区数{e}")),
        }
    }
    for c in Column::SUMMED {
        match parse_count(&cell(c)) {
            Ok(v) if v != sums.get(c) => ctx.err(
                n,
                at(c),
                format!("合计为 {v}，但各社区之和为 {}", sums.get(c)),
            ),
            Ok(_) => {}
            Err(FieldError::Empty) => ctx.err(n, at(c), "合计行此列为空"),
            Err(e) => ctx.err(n, at(c), e.to_string()),
        }
    }
}

/// The rows of one street's table in the official layout: title, header, communities, 合计.
pub fn layout(street_name: &str, rows: &[CommunityRow]) -> Vec<Vec<String>> {
    let mut out = vec![vec![title(street_name)]];
    out.push(Column::ALL.iter().map(|c| c.header().to_string()).collect());
    for (i, r) in rows.iter().enumerate() {
        out.push(vec![
            (i + 1).to_string(),
            r.name.clone(),
            r.grids.to_string(),
            r.compounds.to_string(),
            r.households.to_string(),
            r.population.to_string(),
            r.centre_location
                .clone()
                .unwrap_or_else(|| NO_CENTRE.into()),
            r.boundary.clone().unwrap_or_default(),
            r.code.clone().unwrap_or_default(),
        ]);
    }
    let t = Totals::of(rows);
    out.push(vec![
        "合计".into(),
        t.communities.to_string(),
        t.grids.to_string(),
        t.compounds.to_string(),
        t.households.to_string(),
        t.population.to_string(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: &[&[&str]]) -> Sheet {
        Sheet {
            name: None,
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect(),
        }
    }

    const HEADER: &[&str] = &[
        "序号",
        "社区名称",
        "网格数量",
        "小区及村庄数",
        "户数",
        "人口",
        "服务中心位置",
        "社区范围",
    ];

    #[test]
    fn reads_a_street_with_its_total() {
        let s = sheet(&[
            &["社区基本情况表（宝城）"],
            HEADER,
            &[
                "1",
                "昌明社区",
                "8",
                "11",
                "7633",
                "10001",
                "北盛小区",
                "北至新城街，东至方山路。",
            ],
            &["2", "艳阳天社区", "3", "10", "3244", "6576", "无", ""],
            &["合计", "", "11", "21", "10877", "16577", "", ""],
        ]);
        let t = read(&[s]).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].street, "宝城");
        assert_eq!(t[0].rows[1].centre_location, None);
        assert_eq!(t[0].rows[1].row, 4);
    }

    #[test]
    fn a_table_without_its_total_is_refused() {
        let s = sheet(&[
            &["社区基本情况表（宝城）"],
            HEADER,
            &["1", "昌明社区", "8", "11", "7633", "10001", "", ""],
            &["2", "艳阳天社区", "3", "10", "3244", "6576", "", ""],
        ]);
        let msgs: Vec<String> = read(&[s])
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            msgs,
            ["第 5 行：缺少合计行：附件2 每个街道的表以合计行结束，用来核对各社区之和"]
        );
    }

    #[test]
    fn figures_no_community_can_have_are_refused() {
        let s = sheet(&[
            &["社区基本情况表（宝城）"],
            HEADER,
            &["1", "昌明社区", "8", "11", "4350", "10", "", ""],
            &[
                "2",
                "艳阳天社区",
                "3",
                "10",
                "3244",
                "1000000000000000",
                "",
                "",
            ],
            &["合计", "", "11", "21", "7594", "1000000000000010", "", ""],
        ]);
        let msgs: Vec<String> = read(&[s])
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            msgs,
            vec![
                "第 3 行 F 列「人口」：人口 10 少于户数 4350：每户至少一人，请核对",
                "第 4 行 F 列「人口」：不能大于 3000000，现为 1000000000000000（请核对）",
            ]
        );
    }

    #[test]
    fn a_wrong_total_and_a_bad_cell_are_named_by_row_and_column() {
        let s = sheet(&[
            &["社区基本情况表（宝城）"],
            HEADER,
            &["1", "昌明社区", "8", "11", "约3500", "10001", "", ""],
            &["2", "艳阳天社区", "3", "10", "3244", "6576", "", ""],
            &["合计", "", "11", "21", "10877", "16000", "", ""],
        ]);
        let errs = read(&[s]).unwrap_err();
        let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "第 3 行 E 列「户数」：应为非负整数，现为“约3500”",
                "第 5 行 E 列「户数」：合计为 10877，但各社区之和为 3244",
                "第 5 行 F 列「人口」：合计为 16000，但各社区之和为 16577",
            ]
        );
    }

    #[test]
    fn layout_reads_back() {
        let rows = vec![CommunityRow {
            row: 3,
            code: Some("370725002001".into()),
            name: "昌明社区".into(),
            grids: 8,
            compounds: 11,
            households: 7633,
            population: 10001,
            centre_location: None,
            boundary: Some("东至方山路".into()),
        }];
        let s = Sheet {
            name: Some("宝城街道".into()),
            rows: layout("宝城街道", &rows),
        };
        let t = read(&[s]).unwrap();
        assert_eq!(t[0].rows, rows);
        assert_eq!(t[0].street, "宝城街道");
    }

    #[test]
    fn missing_columns_and_titles() {
        let s = sheet(&[&["社区名称", "户数"], &["昌明社区", "1"]]);
        let msgs: Vec<String> = read(&[s])
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert!(msgs.contains(&"第 1 行：缺少「网格数量」列".to_string()));
        assert!(msgs.iter().any(|m| m.contains("无法确定所属街道")));
    }
}
