//! 居民信息导入: households and residents from a spreadsheet, one row a resident.
//!
//! Reading is pure, like `annex2`: the `sheets` crate turns a file into [`Sheet`]s, this
//! module finds each sheet's header row by its Chinese column names, validates every row and
//! the file as a whole (duplicate ID numbers, one head per household, one place per
//! household), and returns either every row or every error with sheet, row and column.
//! Whether grids, compounds and buildings exist is the store's to check afterwards; it
//! reports with [`cell_error`].
//!
//! Choices: the header is the first row (of the first 30) naming both 姓名 and an ID column;
//! an empty 户类型 means 户籍户; 性别 and 出生日期 columns, when present, are checked against the
//! ID number (never stored from the sheet); messages never repeat an ID number or a phone.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::id::IdNumber;
use super::input::relation_conflict;
use super::kinds::{EmploymentStatus, Ethnicity, HouseholdKind, PoliticalStatus, Relation, Sex};
use super::phone::Phone;
use crate::annex2::{CellError, Sheet};
use crate::code::GridCode;
use crate::place::{Date, FieldError, parse_name};

/// The columns of the resident table, in the order the template and the export write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Household,
    HouseholdKind,
    Relation,
    Name,
    IdNumber,
    Sex,
    BirthDate,
    Ethnicity,
    PoliticalStatus,
    Employment,
    Phone,
    Grid,
    Compound,
    Building,
    Address,
    ResidingHousehold,
    MovedIn,
}

impl Column {
    pub const COUNT: usize = 17;
    pub const ALL: [Column; Column::COUNT] = [
        Column::Household,
        Column::HouseholdKind,
        Column::Relation,
        Column::Name,
        Column::IdNumber,
        Column::Sex,
        Column::BirthDate,
        Column::Ethnicity,
        Column::PoliticalStatus,
        Column::Employment,
        Column::Phone,
        Column::Grid,
        Column::Compound,
        Column::Building,
        Column::Address,
        Column::ResidingHousehold,
        Column::MovedIn,
    ];

    /// The header the template and the export write.
    pub fn header(self) -> &'static str {
        match self {
            Column::Household => "户号",
            Column::HouseholdKind => "户类型",
            Column::Relation => "与户主关系",
            Column::Name => "姓名",
            Column::IdNumber => "公民身份号码",
            Column::Sex => "性别",
            Column::BirthDate => "出生日期",
            Column::Ethnicity => "民族",
            Column::PoliticalStatus => "政治面貌",
            Column::Employment => "就业状况",
            Column::Phone => "联系电话",
            Column::Grid => "网格编码",
            Column::Compound => "小区",
            Column::Building => "楼栋",
            Column::Address => "门牌号",
            Column::ResidingHousehold => "现居住户号",
            Column::MovedIn => "迁入日期",
        }
    }

    /// Headers accepted on import (after removing blanks, `*` and a bracketed note).
    pub fn from_header(h: &str) -> Option<Column> {
        Some(match h {
            "户号" | "户编号" | "户籍户号" | "户口编号" => Column::Household,
            "户类型" | "户别" | "住户类型" | "户籍类型" => Column::HouseholdKind,
            "与户主关系" | "与户主的关系" | "户主关系" => Column::Relation,
            "姓名" | "居民姓名" | "人员姓名" => Column::Name,
            "公民身份号码"
            | "身份证号"
            | "身份证号码"
            | "身份证"
            | "证件号码"
            | "居民身份证号码" => Column::IdNumber,
            "性别" => Column::Sex,
            "出生日期" | "出生年月日" => Column::BirthDate,
            "民族" => Column::Ethnicity,
            "政治面貌" => Column::PoliticalStatus,
            "就业状况" | "就业情况" | "就业状态" | "职业状况" => Column::Employment,
            "联系电话" | "电话" | "手机" | "手机号" | "手机号码" | "联系方式" => {
                Column::Phone
            }
            "网格编码" | "网格代码" | "网格编号" | "所属网格" => Column::Grid,
            "小区" | "小区名称" | "小区（村庄）" | "村庄" | "所属小区" => {
                Column::Compound
            }
            "楼栋" | "楼号" | "楼栋号" => Column::Building,
            "门牌号" | "房号" | "住址" | "详细地址" | "地址" | "单元房号" => {
                Column::Address
            }
            "现居住户号" | "居住户号" | "实际居住户号" => Column::ResidingHousehold,
            "迁入日期" | "入住日期" | "迁入时间" => Column::MovedIn,
            _ => return None,
        })
    }

    fn required(self) -> bool {
        matches!(self, Column::Name | Column::IdNumber | Column::Household)
    }

    /// How the column is filled in, for the template's notes: what it holds and, for a
    /// choice, every value accepted.
    pub fn note(self) -> String {
        let choices = |labels: &mut dyn Iterator<Item = &'static str>| {
            format!("填写其一：{}", labels.collect::<Vec<_>>().join("、"))
        };
        match self {
            Column::Household => {
                "户口簿上的户号（或本社区自编的户号，最多 30 个字）；同一户的成员填同一个户号"
                    .into()
            }
            Column::HouseholdKind => format!(
                "{}；不填为户籍户。租住、流动人口的户为居住户",
                choices(&mut HouseholdKind::ALL.iter().map(|k| k.label()))
            ),
            Column::Relation => format!(
                "{}（也认 GB/T 4761 的代码和常见写法，如 01、长子、儿媳）；每户一名户主",
                choices(&mut Relation::ALL.iter().map(|k| k.label()))
            ),
            Column::Name => "最多 50 个字".into(),
            Column::IdNumber => {
                "18 位公民身份号码，校验位会核对；号码只加密保存，页面和导出中隐去".into()
            }
            Column::Sex => "可不填；填了须与公民身份号码一致（男、女）".into(),
            Column::BirthDate => {
                "可不填；填了须与公民身份号码一致，如 1980-05-31、1980/5/31、1980年5月31日".into()
            }
            Column::Ethnicity => "可不填；如 汉族、回族（写“汉”“回”也认）".into(),
            Column::PoliticalStatus => format!(
                "可不填；{}",
                choices(&mut PoliticalStatus::ALL.iter().map(|k| k.label()))
            ),
            Column::Employment => format!(
                "可不填；{}",
                choices(&mut EmploymentStatus::ALL.iter().map(|k| k.label()))
            ),
            Column::Phone => "可不填；手机号或带区号的固定电话".into(),
            Column::Grid => "15 位网格编码；不填时由“小区”（及“楼栋”）得出所属网格".into(),
            Column::Compound => "小区（村庄）名称，须与系统中登记的一致".into(),
            Column::Building => "楼栋名称，须与系统中该小区登记的一致；可不填".into(),
            Column::Address => "单元、门牌号，最多 100 个字；可不填".into(),
            Column::ResidingHousehold => "人户分离的，填实际居住的户的户号；住在本户的不填".into(),
            Column::MovedIn => "可不填；迁入本户的日期，不晚于今天、不早于出生".into(),
        }
    }
}

/// The import template: a sheet to fill in (the header, required columns marked `*`) and a
/// sheet of notes, one row per column.
pub fn template() -> (Vec<String>, Vec<Vec<String>>) {
    let header = Column::ALL
        .iter()
        .map(|c| {
            if c.required() {
                format!("*{}", c.header())
            } else {
                c.header().to_string()
            }
        })
        .collect();
    let mut notes = vec![vec!["列".to_string(), "必填".into(), "填写说明".into()]];
    notes.extend(Column::ALL.iter().map(|c| {
        vec![
            c.header().to_string(),
            if c.required() { "是" } else { "否" }.into(),
            c.note(),
        ]
    }));
    (header, notes)
}

/// Where each column is in one sheet: the header row and 0-based column indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// 1-based row of the header.
    pub header_row: usize,
    columns: [Option<usize>; Column::COUNT],
    /// The headers as the file writes them, for messages.
    headers: Vec<String>,
}

impl Layout {
    /// 1-based column of a field, if the sheet has it.
    pub fn column(&self, c: Column) -> Option<usize> {
        self.columns[c as usize].map(|i| i + 1)
    }

    fn field(&self, i: usize) -> String {
        self.headers.get(i).cloned().unwrap_or_default()
    }
}

fn header_key(s: &str) -> String {
    let mut t: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '＊')
        .collect();
    for (open, close) in [('（', '）'), ('(', ')')] {
        if t.ends_with(close)
            && let Some(i) = t.rfind(open)
            && i > 0
            && Column::from_header(&t).is_none()
        {
            t.truncate(i);
        }
    }
    t
}

/// Finds the header row of a sheet (in its first 30 rows).
pub fn layout(sheet: &Sheet) -> Option<Layout> {
    for (r, cells) in sheet.rows.iter().enumerate().take(30) {
        let mut columns = [None; Column::COUNT];
        for (i, c) in cells.iter().enumerate() {
            if let Some(col) = Column::from_header(&header_key(c)) {
                columns[col as usize].get_or_insert(i);
            }
        }
        if columns[Column::Name as usize].is_some() && columns[Column::IdNumber as usize].is_some()
        {
            return Some(Layout {
                header_row: r + 1,
                columns,
                headers: cells.iter().map(|c| c.trim().to_string()).collect(),
            });
        }
    }
    None
}

/// One resident's row, valid.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidentRow {
    /// Index of the sheet in the slice given to [`read`], and 1-based row.
    pub sheet: usize,
    pub row: usize,
    pub household: String,
    pub household_kind: HouseholdKind,
    pub relation: Option<Relation>,
    pub name: String,
    pub id_number: IdNumber,
    pub ethnicity: Option<Ethnicity>,
    pub political_status: Option<PoliticalStatus>,
    pub employment: Option<EmploymentStatus>,
    pub phone: Option<Phone>,
    /// A well-formed grid code; whether it exists is the store's to check.
    pub grid: Option<String>,
    pub compound: Option<String>,
    pub building: Option<String>,
    pub address: Option<String>,
    /// 人户分离: the number of the household lived in, when not the row's own.
    pub residing_household: Option<String>,
    pub moved_in: Option<Date>,
}

/// An error about a row found after reading (unknown grid, building…), placed like the
/// reader's own errors. `column` `None` names the row only.
pub fn cell_error(
    sheets: &[Sheet],
    row: &ResidentRow,
    column: Option<Column>,
    message: impl Into<String>,
) -> CellError {
    let sheet = sheets.get(row.sheet);
    let at = sheet
        .and_then(layout)
        .zip(column)
        .and_then(|(l, c)| l.columns[c as usize].map(|i| (i + 1, l.field(i))));
    CellError {
        sheet: sheet.and_then(|s| s.name.clone()),
        row: row.row,
        column: at.as_ref().map(|(i, _)| *i),
        field: at.map(|(_, f)| f),
        message: message.into(),
    }
}

/// Dates as spreadsheets write them: 2020-05-31, 2020/5/31, 2020.5.31, 2020年5月31日, 20200531,
/// and Excel's day number (33407) where a cell's date format was not recognised as one (the
/// built-in Chinese formats): five digits, 1927-05-18 to 2173-10-14.
pub fn parse_date_cell(s: &str) -> Result<Date, FieldError> {
    let t = s.trim();
    if t.len() == 5
        && t.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = t.parse::<i64>()
        && n >= 10_000
    {
        // Excel's 1900 system: day 25569 is 1970-01-01.
        return Ok(Date::from_unix_days(n - 25_569));
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        let n = |r: std::ops::Range<usize>| t[r].parse::<u32>().unwrap_or(0);
        return Date::new(n(0..4) as i32, n(4..6) as u8, n(6..8) as u8)
            .ok_or_else(|| FieldError::NotDate(t.to_string()));
    }
    if t.contains('年') {
        let u = t.replace(['年', '月'], "-").replace('日', "");
        return Date::parse(&u).map_err(|_| FieldError::NotDate(t.to_string()));
    }
    // A time of day after the date (2020-05-31 00:00:00) is dropped.
    let d = t.split_once(' ').map_or(t, |(d, _)| d);
    Date::parse(d).map_err(|_| FieldError::NotDate(t.to_string()))
}

struct Household<'a> {
    sheet: usize,
    row: usize,
    kind: HouseholdKind,
    place: [&'a str; 3],
    head: Option<usize>,
}

struct Errors<'a> {
    sheets: &'a [Sheet],
    list: Vec<CellError>,
}

impl Errors<'_> {
    fn at(&mut self, sheet: usize, layout: &Layout, row: usize, col: Option<Column>, msg: String) {
        let i = col.and_then(|c| layout.columns[c as usize]);
        self.list.push(CellError {
            sheet: self.sheets[sheet].name.clone(),
            row,
            column: i.map(|i| i + 1),
            field: i.map(|i| layout.field(i)),
            message: msg,
        });
    }
}

/// Where a row is, in words (for "与…重复").
fn place_words(sheets: &[Sheet], sheet: usize, row: usize, this_sheet: usize) -> String {
    match &sheets[sheet].name {
        Some(n) if sheet != this_sheet => format!("工作表「{n}」第 {row} 行"),
        _ => format!("第 {row} 行"),
    }
}

/// Reads every resident row of the sheets. Either every row, or every error. `today` bounds
/// birth and moving-in dates.
pub fn read(sheets: &[Sheet], today: Date) -> Result<Vec<ResidentRow>, Vec<CellError>> {
    let mut errors = Errors {
        sheets,
        list: Vec::new(),
    };
    let total: usize = sheets.iter().map(|s| s.rows.len()).sum();
    let mut rows: Vec<ResidentRow> = Vec::with_capacity(total);
    // First 17 digits of each ID number → (sheet, row).
    let mut ids: HashMap<u64, (usize, usize)> = HashMap::with_capacity(total);
    let mut households: HashMap<&str, Household<'_>> = HashMap::new();
    let mut found = false;
    let mut last_grid = "";
    for (si, sheet) in sheets.iter().enumerate() {
        let Some(layout) = layout(sheet) else {
            continue;
        };
        found = true;
        let missing: Vec<&str> = Column::ALL
            .iter()
            .filter(|c| c.required() && layout.columns[**c as usize].is_none())
            .map(|c| c.header())
            .collect();
        if !missing.is_empty() {
            let msg = format!("缺少「{}」列", missing.join("」「"));
            errors.at(si, &layout, layout.header_row, None, msg);
            continue;
        }
        if [Column::Grid, Column::Compound, Column::Building]
            .iter()
            .all(|c| layout.columns[*c as usize].is_none())
        {
            let msg = "缺少所在位置：应有「网格编码」「小区」「楼栋」中至少一列".to_string();
            errors.at(si, &layout, layout.header_row, None, msg);
            continue;
        }
        let before = rows.len();
        for r in layout.header_row..sheet.rows.len() {
            read_row(
                sheets,
                si,
                r,
                &layout,
                today,
                &mut errors,
                &mut rows,
                &mut ids,
                &mut households,
                &mut last_grid,
            );
        }
        if rows.len() == before && errors.list.is_empty() {
            errors.at(
                si,
                &layout,
                layout.header_row,
                None,
                "表中没有居民行".into(),
            );
        }
    }
    if !found {
        errors.list.push(CellError {
            sheet: None,
            row: 1,
            column: None,
            field: None,
            message: "未找到居民信息表：表头应含「户号」「姓名」「公民身份号码」".into(),
        });
    }
    // Households: a registered household has its head; every household has a place.
    let mut ends: Vec<(usize, usize, String)> = Vec::new();
    for (number, h) in &households {
        if h.kind == HouseholdKind::Registered && h.head.is_none() {
            ends.push((
                h.sheet,
                h.row,
                format!("户号“{number}”没有户主（与户主关系应有一行为“户主”或“本人”）"),
            ));
        }
        if h.place.iter().all(|p| p.is_empty()) {
            ends.push((
                h.sheet,
                h.row,
                format!("户号“{number}”未填写网格编码、小区或楼栋"),
            ));
        }
    }
    ends.sort();
    for (si, row, msg) in ends {
        errors.list.push(CellError {
            sheet: sheets[si].name.clone(),
            row,
            column: None,
            field: None,
            message: msg,
        });
    }
    if errors.list.is_empty() {
        Ok(rows)
    } else {
        errors
            .list
            .sort_by(|a, b| (&a.sheet, a.row, a.column).cmp(&(&b.sheet, b.row, b.column)));
        Err(errors.list)
    }
}

#[allow(clippy::too_many_arguments)] // the reader's state, threaded through one row
fn read_row<'a>(
    sheets: &'a [Sheet],
    si: usize,
    r: usize,
    layout: &Layout,
    today: Date,
    errors: &mut Errors<'_>,
    rows: &mut Vec<ResidentRow>,
    ids: &mut HashMap<u64, (usize, usize)>,
    households: &mut HashMap<&'a str, Household<'a>>,
    last_grid: &mut &'a str,
) {
    let cells = &sheets[si].rows[r];
    let n = r + 1;
    let cell = |c: Column| -> &'a str {
        layout.columns[c as usize]
            .and_then(|i| cells.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    };
    if cells.iter().all(|c| c.trim().is_empty()) {
        return;
    }
    // A repeated header (a multi-page export), or a note under the table.
    let name_cell = cell(Column::Name);
    if name_cell.trim_start_matches(['*', '＊']) == "姓名"
        || (name_cell.starts_with("注") && cell(Column::IdNumber).is_empty())
    {
        return;
    }
    let before = errors.list.len();
    let mut err = |c: Option<Column>, msg: String| errors.at(si, layout, n, c, msg);

    let name = match parse_name(cell(Column::Name), 50) {
        Ok(v) => v,
        Err(e) => {
            err(Some(Column::Name), e.to_string());
            String::new()
        }
    };
    let id = match IdNumber::parse_as_of(cell(Column::IdNumber), today) {
        Ok(id) => {
            match ids.entry(id.key()) {
                Entry::Occupied(o) => {
                    let (ps, pr) = *o.get();
                    err(
                        Some(Column::IdNumber),
                        format!("公民身份号码与{}重复", place_words(sheets, ps, pr, si)),
                    );
                }
                Entry::Vacant(v) => {
                    v.insert((si, n));
                }
            }
            Some(id)
        }
        Err(e) => {
            err(Some(Column::IdNumber), e.to_string());
            None
        }
    };
    if let Some(id) = &id {
        let s = cell(Column::Sex);
        if !s.is_empty() {
            match Sex::parse(s) {
                Ok(sex) if sex != id.sex() => err(
                    Some(Column::Sex),
                    format!("性别与公民身份号码不符（号码显示为{}）", id.sex().label()),
                ),
                Ok(_) => {}
                Err(e) => err(Some(Column::Sex), e.to_string()),
            }
        }
        let b = cell(Column::BirthDate);
        if !b.is_empty() {
            match parse_date_cell(b) {
                Ok(d) if d != id.birth_date() => err(
                    Some(Column::BirthDate),
                    "出生日期与公民身份号码不符".to_string(),
                ),
                Ok(_) => {}
                Err(e) => err(Some(Column::BirthDate), e.to_string()),
            }
        }
    }
    macro_rules! choice {
        ($col:expr, $parse:expr) => {{
            let s = cell($col);
            if s.is_empty() {
                None
            } else {
                match $parse(s) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        err(Some($col), e.to_string());
                        None
                    }
                }
            }
        }};
    }
    let ethnicity = choice!(Column::Ethnicity, Ethnicity::parse);
    let political_status = choice!(Column::PoliticalStatus, PoliticalStatus::parse);
    let employment = choice!(Column::Employment, EmploymentStatus::parse);
    let relation = choice!(Column::Relation, Relation::parse);
    let household_kind =
        choice!(Column::HouseholdKind, HouseholdKind::parse).unwrap_or(HouseholdKind::Registered);
    let phone = choice!(Column::Phone, Phone::parse);
    let moved_in = choice!(Column::MovedIn, parse_date_cell);
    if let (Some(r), Some(id)) = (relation, &id)
        && let Some(msg) = relation_conflict(r, id.sex())
    {
        err(Some(Column::Relation), msg);
    }
    if let Some(m) = moved_in {
        if m > today {
            err(Some(Column::MovedIn), format!("不能晚于今天（{today}）"));
        } else if id.as_ref().is_some_and(|id| m < id.birth_date()) {
            err(Some(Column::MovedIn), "迁入日期不能早于出生日期".into());
        }
    }
    let grid = cell(Column::Grid);
    // Rows of one grid follow each other: its code is checked once a run.
    if !grid.is_empty() && grid != *last_grid {
        match GridCode::parse(grid) {
            Ok(_) => *last_grid = grid,
            Err(e) => err(Some(Column::Grid), e.to_string()),
        }
    }
    let text = |c: Column, max: usize, err: &mut dyn FnMut(Option<Column>, String)| {
        let s = cell(c);
        if s.chars().count() > max {
            err(Some(c), FieldError::TooLong { max }.to_string());
        }
        (!s.is_empty()).then(|| s.to_string())
    };
    let compound = text(Column::Compound, 80, &mut err);
    let building = text(Column::Building, 50, &mut err);
    let address = text(Column::Address, 100, &mut err);
    let residing_household = text(Column::ResidingHousehold, 30, &mut err);

    // The household: one kind, one place, one head, across its rows.
    let number = cell(Column::Household);
    if number.is_empty() {
        err(Some(Column::Household), FieldError::Empty.to_string());
    } else if number.chars().count() > 30 {
        err(
            Some(Column::Household),
            FieldError::TooLong { max: 30 }.to_string(),
        );
    } else {
        let place = [grid, cell(Column::Compound), cell(Column::Building)];
        match households.entry(number) {
            Entry::Vacant(v) => {
                v.insert(Household {
                    sheet: si,
                    row: n,
                    kind: household_kind,
                    place,
                    head: (relation == Some(Relation::Head)).then_some(n),
                });
            }
            Entry::Occupied(mut o) => {
                let h = o.get_mut();
                let first = place_words(sheets, h.sheet, h.row, si);
                if h.kind != household_kind {
                    err(
                        Some(Column::HouseholdKind),
                        format!("与同户{first}的户类型不一致"),
                    );
                }
                for (i, c) in [Column::Grid, Column::Compound, Column::Building]
                    .into_iter()
                    .enumerate()
                {
                    if h.place[i].is_empty() {
                        h.place[i] = place[i];
                    } else if !place[i].is_empty() && place[i] != h.place[i] {
                        err(Some(c), format!("与同户{first}的{}不一致", c.header()));
                    }
                }
                if relation == Some(Relation::Head) {
                    match h.head {
                        Some(prev) => err(
                            Some(Column::Relation),
                            format!("户号“{number}”已有户主（第 {prev} 行）"),
                        ),
                        None => h.head = Some(n),
                    }
                }
            }
        }
    }
    if errors.list.len() > before {
        return;
    }
    let Some(id_number) = id else { return };
    rows.push(ResidentRow {
        sheet: si,
        row: n,
        household: number.to_string(),
        household_kind,
        relation,
        name,
        id_number,
        ethnicity,
        political_status,
        employment,
        phone,
        grid: (!grid.is_empty()).then(|| grid.to_string()),
        compound,
        building,
        address,
        residing_household,
        moved_in,
    });
}

/// The template's (and the export's) header row.
pub fn header_row() -> Vec<String> {
    Column::ALL.iter().map(|c| c.header().to_string()).collect()
}

/// A resident as the export writes it: the ID number and phone masked unless `reveal`.
pub fn export_row(r: &ResidentRow, reveal: bool) -> Vec<String> {
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    let label = |l: Option<&'static str>| l.unwrap_or("").to_string();
    vec![
        r.household.clone(),
        r.household_kind.label().to_string(),
        label(r.relation.map(Relation::label)),
        r.name.clone(),
        if reveal {
            r.id_number.as_str().to_string()
        } else {
            r.id_number.mask()
        },
        r.id_number.sex().label().to_string(),
        r.id_number.birth_date().to_string(),
        label(r.ethnicity.map(Ethnicity::label)),
        label(r.political_status.map(PoliticalStatus::label)),
        label(r.employment.map(EmploymentStatus::label)),
        r.phone
            .as_ref()
            .map(|p| {
                if reveal {
                    p.as_str().to_string()
                } else {
                    p.mask()
                }
            })
            .unwrap_or_default(),
        opt(&r.grid),
        opt(&r.compound),
        opt(&r.building),
        opt(&r.address),
        opt(&r.residing_household),
        r.moved_in.map(|d| d.to_string()).unwrap_or_default(),
    ]
}
