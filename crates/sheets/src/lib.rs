//! Official tables as files: reads .xlsx, .xls and .csv (UTF-8 or GBK) into sheets of text
//! cells, and writes sheets back as .xlsx (title merged across the table, bold header) or
//! .csv (UTF-8 with a BOM, or GBK for older office software).
//!
//! Architecture invariant: no database and no HTTP here; what the cells mean is the domain's
//! business (`wangge_domain::annex2`).

use std::io::Cursor;

use calamine::{Data, Reader};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use wangge_domain::annex2::Sheet;

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("文件“{file}”无法读取：{reason}")]
    Unreadable { file: String, reason: String },
    #[error("{}", if file.is_empty() { "没有选择文件：请先选择要导入的文件".to_string() } else { format!("文件“{file}”是空的") })]
    Empty { file: String },
    #[error("无法写出表格：{0}")]
    Write(String),
}

/// The file kinds we read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Xlsx,
    Xls,
    Csv,
}

/// Recognises a file by its first bytes (the name's extension can lie), falling back to CSV.
pub fn detect(bytes: &[u8]) -> FileKind {
    if bytes.starts_with(b"PK\x03\x04") {
        FileKind::Xlsx
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        FileKind::Xls
    } else {
        FileKind::Csv
    }
}

/// Reads every sheet of a workbook, or the one table of a CSV file. `file` names the file in
/// error messages. Row and column positions are kept as the spreadsheet shows them.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Sheet>, SheetError> {
    if bytes.is_empty() {
        return Err(SheetError::Empty { file: file.into() });
    }
    let unreadable = |reason: String| SheetError::Unreadable {
        file: file.into(),
        reason,
    };
    match detect(bytes) {
        FileKind::Csv => Ok(vec![Sheet {
            name: None,
            rows: read_csv(bytes).map_err(unreadable)?,
        }]),
        FileKind::Xlsx => {
            let mut wb = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|_| not_excel(file))?;
            let mut sheets = Vec::new();
            for name in wb.sheet_names() {
                let mut grid = Cells::new(file, &name);
                let mut cells = wb
                    .worksheet_cells_reader(&name)
                    .map_err(|e| unreadable(format!("工作表“{name}”读取失败（{e}）")))?;
                while let Some(cell) = cells
                    .next_cell()
                    .map_err(|e| unreadable(format!("工作表“{name}”读取失败（{e}）")))?
                {
                    let (r, c) = cell.get_position();
                    grid.put(r, c, cell_text(&Data::from(cell.get_value().clone())))?;
                }
                sheets.push(grid.sheet()?);
            }
            Ok(sheets)
        }
        FileKind::Xls => {
            let mut wb = calamine::Xls::new(Cursor::new(bytes)).map_err(|_| not_excel(file))?;
            let mut sheets = Vec::new();
            for name in wb.sheet_names() {
                let range = wb
                    .worksheet_range(&name)
                    .map_err(|e| unreadable(format!("工作表“{name}”读取失败（{e}）")))?;
                let (r0, c0) = range.start().unwrap_or((0, 0));
                let mut grid = Cells::new(file, &name);
                for (r, c, d) in range.used_cells() {
                    grid.put(r0 + r as u32, c0 + c as u32, cell_text(d))?;
                }
                sheets.push(grid.sheet()?);
            }
            Ok(sheets)
        }
    }
}

fn not_excel(file: &str) -> SheetError {
    SheetError::Unreadable {
        file: file.into(),
        reason: "不是有效的 Excel 文件：无法读取，请确认是 .xlsx、.xls 或 .csv 文件且未损坏".into(),
    }
}

/// The widest sheet read: official tables have a few dozen columns.
pub const MAX_COLUMNS: u32 = 256;
/// The most cells a sheet may hold once its rows are laid out (rows × their width): enough
/// for a county's residents, small enough that a crafted file cannot exhaust memory.
pub const MAX_CELLS: usize = 8_000_000;

/// A sheet's non-empty cells, laid out in rows as the spreadsheet shows them.
struct Cells<'a> {
    file: &'a str,
    name: &'a str,
    rows: Vec<Vec<String>>,
    laid_out: usize,
}

impl<'a> Cells<'a> {
    fn new(file: &'a str, name: &'a str) -> Self {
        Cells {
            file,
            name,
            rows: Vec::new(),
            laid_out: 0,
        }
    }

    fn put(&mut self, r: u32, c: u32, text: String) -> Result<(), SheetError> {
        if text.is_empty() {
            return Ok(());
        }
        let too_big = |reason: String| SheetError::Unreadable {
            file: self.file.into(),
            reason: format!("工作表“{}”{reason}", self.name),
        };
        if c >= MAX_COLUMNS {
            return Err(too_big(format!(
                "第 {} 行第 {} 列有内容，超出可读取的 {MAX_COLUMNS} 列",
                r + 1,
                c + 1
            )));
        }
        let (r, c) = (r as usize, c as usize);
        if self.rows.len() <= r {
            self.rows.resize_with(r + 1, Vec::new);
        }
        let width = self.rows[r].len();
        if width <= c {
            self.laid_out += c + 1 - width;
            if self.laid_out.saturating_add(self.rows.len()) > MAX_CELLS {
                return Err(too_big(format!(
                    "过大（超过 {MAX_CELLS} 个单元格），请分批导入"
                )));
            }
            self.rows[r].resize(c + 1, String::new());
        }
        self.rows[r][c] = text;
        Ok(())
    }

    /// The sheet, its rows from the first one used laid out to the same width, as the
    /// spreadsheet shows them.
    fn sheet(mut self) -> Result<Sheet, SheetError> {
        let width = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let first = self.rows.iter().position(|r| !r.is_empty()).unwrap_or(0);
        if (self.rows.len() - first).saturating_mul(width) > MAX_CELLS {
            return Err(SheetError::Unreadable {
                file: self.file.into(),
                reason: format!(
                    "工作表“{}”过大（超过 {MAX_CELLS} 个单元格），请分批导入",
                    self.name
                ),
            });
        }
        for row in &mut self.rows[first..] {
            row.resize(width, String::new());
        }
        Ok(Sheet {
            name: Some(self.name.to_string()),
            rows: self.rows,
        })
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        // A date cell (出生日期 typed into Excel) reads as the date, not its serial number.
        Data::DateTime(t) if t.is_datetime() && (1.0..2_958_466.0).contains(&t.as_f64()) => {
            use calamine::{ExcelDateTime, ExcelDateTimeType::DateTime};
            // To the nearest second (08:29:59.9997 is 08:30:00), in the file's own epoch.
            let v = t.as_f64();
            let is_1904 = *t == ExcelDateTime::new(v, DateTime, true);
            let secs = (v * 86_400.0).round() as i64;
            let day = ExcelDateTime::new((secs / 86_400) as f64, DateTime, is_1904);
            let (y, m, d, ..) = day.to_ymd_hms_milli();
            let (h, min, sec) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
            if (h, min, sec) == (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{sec:02}")
            }
        }
        other => other.to_string(),
    }
}

/// Decodes UTF-8 (with or without BOM), else GBK (GB18030), and splits the CSV.
fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("第 {} 行不是有效的 CSV（{e}）", i + 1))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok(rows)
}

/// A table file's text, UTF-8 or GBK (see [`wangge_domain::text::decode`]).
pub use wangge_domain::text::decode;

/// How a sheet is written: the first `title_rows` rows are titles merged across the table,
/// the next row is the header.
pub struct OutSheet<'a> {
    pub name: &'a str,
    pub rows: &'a [Vec<String>],
    pub title_rows: usize,
    /// Columns whose cells are written as numbers when they are plain integers or decimals.
    pub numeric_columns: &'a [usize],
    pub widths: &'a [f64],
}

/// Writes a workbook: one sheet each, in the official layout.
pub fn write_xlsx(sheets: &[OutSheet<'_>]) -> Result<Vec<u8>, SheetError> {
    let err = |e: rust_xlsxwriter::XlsxError| SheetError::Write(e.to_string());
    let mut wb = Workbook::new();
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let body = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(s.name)).map_err(err)?;
        let width = s.rows.iter().map(Vec::len).max().unwrap_or(1).max(1) as u16;
        for (c, w) in s.widths.iter().enumerate() {
            ws.set_column_width(c as u16, *w).map_err(err)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            let r32 = r as u32;
            if r < s.title_rows {
                let text = row.first().map(String::as_str).unwrap_or("");
                if width > 1 {
                    ws.merge_range(r32, 0, r32, width - 1, text, &title)
                        .map_err(err)?;
                } else {
                    ws.write_string_with_format(r32, 0, text, &title)
                        .map_err(err)?;
                }
                continue;
            }
            let fmt = if r == s.title_rows { &header } else { &body };
            for (c, cell) in row.iter().enumerate() {
                let c16 = c as u16;
                match plain_number(cell) {
                    Some(n) if s.numeric_columns.contains(&c) && r > s.title_rows => {
                        ws.write_number_with_format(r32, c16, n, fmt).map_err(err)?;
                    }
                    _ => {
                        ws.write_string_with_format(r32, c16, cell, fmt)
                            .map_err(err)?;
                    }
                }
            }
        }
    }
    wb.save_to_buffer().map_err(err)
}

/// A workbook to fill in and import: a sheet with the header in bold, every column formatted
/// as text (an 18-digit ID number typed into a General cell would lose its last digits, a
/// leading zero of a household number would go), wide enough to read; and a sheet of notes.
pub fn fill_in_xlsx(
    name: &str,
    header: &[String],
    notes_name: &str,
    notes: &[Vec<String>],
) -> Result<Vec<u8>, SheetError> {
    let err = |e: rust_xlsxwriter::XlsxError| SheetError::Write(e.to_string());
    let mut wb = Workbook::new();
    let bold = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_num_format("@");
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(name)).map_err(err)?;
    for (c, h) in header.iter().enumerate() {
        let c = c as u16;
        let width = (h.chars().count() as f64 * 2.2 + 2.0).max(12.0);
        ws.set_column_width(c, width).map_err(err)?;
        ws.set_column_format(c, &text).map_err(err)?;
        ws.write_string_with_format(0, c, h, &bold).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    let ns = wb.add_worksheet();
    ns.set_name(sheet_name(notes_name)).map_err(err)?;
    ns.set_column_width(0, 14.0).map_err(err)?;
    ns.set_column_width(1, 6.0).map_err(err)?;
    ns.set_column_width(2, 90.0).map_err(err)?;
    let wrap = Format::new().set_text_wrap().set_border(FormatBorder::Thin);
    let head = Format::new().set_bold().set_border(FormatBorder::Thin);
    for (r, row) in notes.iter().enumerate() {
        let fmt = if r == 0 { &head } else { &wrap };
        for (c, cell) in row.iter().enumerate() {
            ns.write_string_with_format(r as u32, c as u16, cell, fmt)
                .map_err(err)?;
        }
    }
    wb.save_to_buffer().map_err(err)
}

/// A cell's text as a number when it is a plain integer or decimal (`12`, `-3`, `112.68`,
/// as wangge writes 万元), not `1e3`, `inf` or `NaN`.
fn plain_number(cell: &str) -> Option<f64> {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let plain = !digits.is_empty()
        && !digits.starts_with('.')
        && !digits.ends_with('.')
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1;
    if plain {
        cell.parse::<f64>().ok()
    } else {
        None
    }
}

/// Excel sheet names: at most 31 characters, none of []:*?/\.
fn sheet_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if cleaned.is_empty() {
        "Sheet1".into()
    } else {
        cleaned
    }
}

/// Writes rows as CSV: UTF-8 with a BOM (so that Excel opens it right), or GBK.
pub fn write_csv(rows: &[Vec<String>], gbk: bool) -> Result<Vec<u8>, SheetError> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in rows {
        for c in r {
            w.write_field(defused(c).as_bytes())
                .map_err(|e| SheetError::Write(e.to_string()))?;
        }
        w.write_record(None::<&[u8]>)
            .map_err(|e| SheetError::Write(e.to_string()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| SheetError::Write(e.to_string()))?;
    if gbk {
        let text = String::from_utf8(bytes).map_err(|e| SheetError::Write(e.to_string()))?;
        let (out, _, unmappable) = encoding_rs::GBK.encode(&text);
        if unmappable {
            return Err(SheetError::Write(
                "有字符无法用 GBK 编码，请改用 UTF-8 导出".into(),
            ));
        }
        Ok(out.into_owned())
    } else {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        out.extend(bytes);
        Ok(out)
    }
}

/// A cell as a spreadsheet will take it as text: one that Excel or WPS would run as a formula
/// (starting with `=`, `@`, a tab or a line break, or `+`/`-` not before a number: a user
/// name typed as `=HYPERLINK(…)`, say) gets a leading `'`. Numbers stay numbers.
fn defused(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r' | '\n') => true,
        Some('+' | '-') => cell[1..].parse::<f64>().is_err(),
        _ => false,
    };
    if risky {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// 附件2 as a workbook: one sheet per street in the official layout.
pub fn annex2_xlsx(
    tables: &[(String, Vec<wangge_domain::annex2::CommunityRow>)],
) -> Result<Vec<u8>, SheetError> {
    let layouts: Vec<(String, Vec<Vec<String>>)> = or_blank(tables)
        .iter()
        .map(|(street, rows)| (street.clone(), wangge_domain::annex2::layout(street, rows)))
        .collect();
    let sheets: Vec<OutSheet<'_>> = layouts
        .iter()
        .map(|(name, rows)| OutSheet {
            name,
            rows,
            title_rows: 1,
            numeric_columns: &[0, 1, 2, 3, 4, 5],
            widths: &[6.0, 14.0, 10.0, 12.0, 10.0, 10.0, 24.0, 60.0, 16.0],
        })
        .collect();
    write_xlsx(&sheets)
}

/// The streets' tables, or, for a county with no street yet, one blank table (title, header
/// and 合计 row) to fill in as a template: its title names the street to replace.
fn or_blank(
    tables: &[(String, Vec<wangge_domain::annex2::CommunityRow>)],
) -> Vec<(String, Vec<wangge_domain::annex2::CommunityRow>)> {
    if tables.is_empty() {
        vec![("街道名称".to_string(), Vec::new())]
    } else {
        tables.to_vec()
    }
}

/// 附件2 as one CSV file: the streets' tables one after another, a blank row between.
pub fn annex2_csv(
    tables: &[(String, Vec<wangge_domain::annex2::CommunityRow>)],
    gbk: bool,
) -> Result<Vec<u8>, SheetError> {
    let mut rows = Vec::new();
    for (i, (street, r)) in or_blank(tables).iter().enumerate() {
        if i > 0 {
            rows.push(vec![String::new()]);
        }
        rows.extend(wangge_domain::annex2::layout(street, r));
    }
    write_csv(&rows, gbk)
}

/// 附件3 / 附件4 tables as a workbook: one sheet per table, title and header cells merged as
/// the table says, money as numbers in 万元 (carried exactly in fen until written).
pub fn policy_tables_xlsx(
    tables: &[&wangge_domain::policy::tables::Table],
) -> Result<Vec<u8>, SheetError> {
    use wangge_domain::policy::tables::Cell;
    let err = |e: rust_xlsxwriter::XlsxError| SheetError::Write(e.to_string());
    let mut wb = Workbook::new();
    let title = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let body = Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    // 万元 as the tables write them: 196.2, 0.5, 10 ("0.####" would show "10." in Excel).
    let money = Format::new()
        .set_border(FormatBorder::Thin)
        .set_num_format("General");
    let mut names = std::collections::HashSet::new();
    for t in tables {
        let ws = wb.add_worksheet();
        let mut name = sheet_name(&format!("{}{}", t.annex, street_of_title(&t.title)));
        while !names.insert(name.clone()) {
            name = sheet_name(&format!("{name}_"));
        }
        ws.set_name(name).map_err(err)?;
        for c in 0..t.columns {
            ws.set_column_width(c as u16, if c == t.columns - 1 { 36.0 } else { 11.0 })
                .map_err(err)?;
        }
        let fmt_of = |r: usize| {
            if r == 0 {
                &title
            } else if r <= t.header_rows {
                &header
            } else {
                &body
            }
        };
        let mut merged = std::collections::HashSet::new();
        for m in &t.merges {
            let cell = &t.rows[m.first_row][m.first_col];
            ws.merge_range(
                m.first_row as u32,
                m.first_col as u16,
                m.last_row as u32,
                m.last_col as u16,
                &cell.display(),
                fmt_of(m.first_row),
            )
            .map_err(err)?;
            // A merged figure stays a number (Excel sums it), written over the merge's text.
            let (r0, c0) = (m.first_row as u32, m.first_col as u16);
            match cell {
                Cell::Int(n) => {
                    ws.write_number_with_format(r0, c0, *n as f64, fmt_of(m.first_row))
                        .map_err(err)?;
                }
                Cell::Wan(fen) => {
                    ws.write_number_with_format(r0, c0, *fen as f64 / 1e6, &money)
                        .map_err(err)?;
                }
                Cell::Empty | Cell::Text(_) => {}
            }
            for r in m.first_row..=m.last_row {
                for c in m.first_col..=m.last_col {
                    merged.insert((r, c));
                }
            }
        }
        for (r, row) in t.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if merged.contains(&(r, c)) {
                    continue;
                }
                let (r32, c16) = (r as u32, c as u16);
                match cell {
                    Cell::Empty => ws.write_blank(r32, c16, fmt_of(r)).map(|_| ()),
                    Cell::Text(s) => ws
                        .write_string_with_format(r32, c16, s, fmt_of(r))
                        .map(|_| ()),
                    Cell::Int(n) => ws
                        .write_number_with_format(r32, c16, *n as f64, fmt_of(r))
                        .map(|_| ()),
                    Cell::Wan(fen) => ws
                        .write_number_with_format(r32, c16, *fen as f64 / 1e6, &money)
                        .map(|_| ()),
                }
                .map_err(err)?;
            }
        }
    }
    wb.save_to_buffer().map_err(err)
}

/// 宝都 out of 社区建设和运行投入基本费用情况表（宝都）.
fn street_of_title(title: &str) -> String {
    title
        .rsplit_once('（')
        .map(|(_, s)| format!("（{}", s))
        .unwrap_or_default()
}

/// The tables as CSV: one after another, a blank row between.
pub fn policy_tables_csv(
    tables: &[&wangge_domain::policy::tables::Table],
    gbk: bool,
) -> Result<Vec<u8>, SheetError> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            rows.push(vec![String::new()]);
        }
        rows.extend(
            t.rows
                .iter()
                .map(|r| r.iter().map(|c| c.display()).collect()),
        );
    }
    write_csv(&rows, gbk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_county_without_streets_gets_a_blank_annex2_to_fill_in() {
        let bytes = annex2_xlsx(&[]).unwrap();
        let sheets = read("附件2.xlsx", &bytes).unwrap();
        assert_eq!(sheets.len(), 1);
        let rows = &sheets[0].rows;
        assert_eq!(rows[0][0], "社区基本情况表（街道名称）");
        assert_eq!(rows[1][1], "社区名称");
        assert_eq!(rows.last().unwrap()[0], "合计");
        let csv = String::from_utf8(annex2_csv(&[], false).unwrap()).unwrap();
        assert!(csv.contains("社区基本情况表（街道名称）"), "{csv}");
    }

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_written_as_text() {
        let rows = vec![vec![
            "=HYPERLINK(\"http://x\",\"点此\")".to_string(),
            "@SUM(A1)".into(),
            "+1+1".into(),
            "-A1".into(),
            "-12.5".into(),
            "+86".into(),
            "王 = 李".into(),
            "".into(),
        ]];
        let bytes = write_csv(&rows, false).unwrap();
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(
            text.trim_end(),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"点此\"\")\",'@SUM(A1),'+1+1,'-A1,-12.5,+86,王 = 李,"
        );
    }

    fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (r, c, v) in cells {
            ws.write_string(*r, *c, *v).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn a_tiny_file_with_far_away_cells_is_refused_not_laid_out() {
        // Two cells, XFD1 and XFD1048576: laying the rows out in full would take hundreds of
        // gigabytes; the file is about 6 KB.
        let bytes = workbook(&[(0, 16383, "x"), (1_048_575, 16383, "y")]);
        let err = read("炸弹.xlsx", &bytes).unwrap_err().to_string();
        assert_eq!(
            err,
            "文件“炸弹.xlsx”无法读取：工作表“Sheet1”第 1 行第 16384 列有内容，超出可读取的 256 列"
        );
        // Far rows are fine while the cells stay few; the rows keep their positions.
        let bytes = workbook(&[(0, 2, "头"), (99_999, 0, "尾")]);
        let rows = &read("远.xlsx", &bytes).unwrap()[0].rows;
        assert_eq!(rows.len(), 100_000);
        assert_eq!(rows[0], ["", "", "头"]);
        assert_eq!(rows[1], ["", "", ""]);
        assert_eq!(rows[99_999], ["尾", "", ""]);
        // Wide rows far down count against the cell limit.
        let many: Vec<(u32, u16, &str)> = (0..40_000).map(|r| (r * 25, 255, "z")).collect();
        let err = read("宽.xlsx", &workbook(&many)).unwrap_err().to_string();
        assert!(
            err.contains("过大（超过 8000000 个单元格），请分批导入"),
            "{err}"
        );
    }

    #[test]
    fn a_date_typed_into_excel_reads_as_the_date() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let day = rust_xlsxwriter::Format::new().set_num_format("yyyy/m/d");
        let chinese = rust_xlsxwriter::Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
        // 1996-03-14 is serial 35138; 2026-11-25 08:30 is 46351.354166…
        ws.write_number_with_format(0, 0, 35138.0, &day).unwrap();
        ws.write_number_with_format(0, 1, 35138.0, &chinese)
            .unwrap();
        ws.write_number_with_format(0, 2, 46351.0 + 8.5 / 24.0, &day)
            .unwrap();
        ws.write_number(0, 3, 35138.0).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let rows = &read("居民.xlsx", &bytes).unwrap()[0].rows;
        assert_eq!(
            rows[0],
            ["1996-03-14", "1996-03-14", "2026-11-25 08:30:00", "35138"],
            "a plain number stays a number"
        );
    }

    #[test]
    fn a_merged_figure_is_written_as_a_number() {
        use wangge_domain::policy::tables::{Cell as T, Merge, Table};
        let t = Table {
            annex: "附件3".into(),
            title: "表".into(),
            columns: 2,
            header_rows: 1,
            rows: vec![
                vec![T::Text("表".into()), T::Empty],
                vec![T::Text("人数".into()), T::Text("费用".into())],
                vec![T::Int(11), T::Wan(39_600_000)],
                vec![T::Empty, T::Empty],
            ],
            merges: vec![
                Merge {
                    first_row: 0,
                    first_col: 0,
                    last_row: 0,
                    last_col: 1,
                },
                Merge {
                    first_row: 2,
                    first_col: 0,
                    last_row: 3,
                    last_col: 0,
                },
                Merge {
                    first_row: 2,
                    first_col: 1,
                    last_row: 3,
                    last_col: 1,
                },
            ],
            sum_columns: vec![],
        };
        let bytes = policy_tables_xlsx(&[&t]).unwrap();
        let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let name = wb.sheet_names()[0].clone();
        let range = wb.worksheet_range(&name).unwrap();
        assert_eq!(range.get_value((2, 0)), Some(&Data::Float(11.0)));
        assert_eq!(range.get_value((2, 1)), Some(&Data::Float(39.6)));
    }

    #[test]
    fn an_upload_without_a_file_asks_for_one() {
        assert_eq!(
            read("", b"").unwrap_err().to_string(),
            "没有选择文件：请先选择要导入的文件"
        );
        assert_eq!(
            read("a.csv", b"").unwrap_err().to_string(),
            "文件“a.csv”是空的"
        );
    }

    #[test]
    fn csv_in_gbk_and_utf8() {
        let rows = vec![vec!["社区名称".to_string(), "户数".to_string()]];
        for gbk in [false, true] {
            let bytes = write_csv(&rows, gbk).unwrap();
            let sheets = read("t.csv", &bytes).unwrap();
            assert_eq!(sheets[0].rows, rows);
        }
    }

    #[test]
    fn xlsx_round_trip_keeps_positions() {
        let rows = vec![
            vec!["社区基本情况表（宝城）".to_string()],
            vec!["序号".into(), "户数".into()],
            vec!["1".into(), "7633".into()],
        ];
        let bytes = write_xlsx(&[OutSheet {
            name: "宝城街道",
            rows: &rows,
            title_rows: 1,
            numeric_columns: &[0, 1],
            widths: &[],
        }])
        .unwrap();
        assert_eq!(detect(&bytes), FileKind::Xlsx);
        let sheets = read("t.xlsx", &bytes).unwrap();
        assert_eq!(sheets[0].name.as_deref(), Some("宝城街道"));
        assert_eq!(sheets[0].rows[2], vec!["1", "7633"]);
        assert_eq!(sheets[0].rows[0][0], "社区基本情况表（宝城）");
    }

    #[test]
    fn plain_decimals_are_numbers_in_numeric_columns() {
        let rows = vec![
            vec!["方案表".to_string()],
            vec!["名称".into(), "万元".into()],
            vec!["合计".into(), "112.68".into()],
            vec!["甲".into(), "-3".into()],
            vec!["乙".into(), "1e3".into()],
            vec!["丙".into(), "12.".into()],
        ];
        let bytes = write_xlsx(&[OutSheet {
            name: "汇总",
            rows: &rows,
            title_rows: 1,
            numeric_columns: &[1],
            widths: &[],
        }])
        .unwrap();
        let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("汇总").unwrap();
        let cell = |r: u32| range.get_value((r, 1)).cloned().unwrap();
        assert_eq!(cell(2), Data::Float(112.68));
        assert_eq!(cell(3), Data::Float(-3.0));
        assert_eq!(cell(4), Data::String("1e3".into()));
        assert_eq!(cell(5), Data::String("12.".into()));
        // The header row and other columns stay text.
        assert_eq!(cell(1), Data::String("万元".into()));
        assert_eq!(range.get_value((2, 0)), Some(&Data::String("合计".into())));
    }

    #[test]
    fn a_broken_workbook_is_named() {
        let e = read("坏.xlsx", b"PK\x03\x04garbage")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("文件“坏.xlsx”无法读取"), "{e}");
        // In Chinese, not the reader library's English.
        assert!(
            e.contains("不是有效的 Excel 文件") && !e.is_ascii() && !e.contains("Cannot"),
            "{e}"
        );
    }
}
