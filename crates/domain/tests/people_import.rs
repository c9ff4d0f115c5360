//! The residents' import: every kind of error named by sheet, row and column.

use wangge_domain::Date;
use wangge_domain::annex2::Sheet;
use wangge_domain::people::import::{self, Column};
use wangge_domain::people::{HouseholdKind, IdNumber, Relation, Sex};

fn today() -> Date {
    Date::new(2025, 6, 30).unwrap()
}

fn id(y: i32, m: u8, d: u8, seq: u16) -> String {
    IdNumber::from_parts("370725", Date::new(y, m, d).unwrap(), seq)
        .unwrap()
        .as_str()
        .to_string()
}

const HEADER: &[&str] = &[
    "户号",
    "与户主关系",
    "姓名",
    "身份证号",
    "民族",
    "政治面貌",
    "联系电话",
    "网格编码",
    "小区",
    "楼栋",
    "迁入日期",
];

fn sheet(name: Option<&str>, rows: &[Vec<String>]) -> Sheet {
    let mut all = vec![
        vec!["居民信息登记表".to_string()],
        HEADER.iter().map(|s| s.to_string()).collect(),
    ];
    all.extend(rows.iter().cloned());
    Sheet {
        name: name.map(str::to_string),
        rows: all,
    }
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

fn good_rows() -> Vec<Vec<String>> {
    let grid = "370725001001001";
    vec![
        row(&[
            "H1",
            "户主",
            "王伟",
            &id(1970, 3, 1, 11),
            "汉族",
            "中共党员",
            "13800001234",
            grid,
            "蓝宝石花园",
            "3号楼",
            "2001-05-01",
        ]),
        row(&[
            "H1",
            "妻",
            "李芳",
            &id(1972, 8, 9, 22),
            "汉",
            "群众",
            "",
            grid,
            "蓝宝石花园",
            "3号楼",
            "2001/5/1",
        ]),
        row(&[
            "H1",
            "子",
            "王磊",
            &id(1998, 1, 2, 31),
            "",
            "共青团员",
            "",
            "",
            "",
            "",
            "",
        ]),
        row(&[]),
        row(&[
            "H2",
            "户主",
            "张娜",
            &id(1985, 12, 30, 42).to_lowercase(),
            "回族",
            "",
            "0536-6212345",
            grid,
            "蓝宝石花园",
            "5号楼",
            "2020年1月5日",
        ]),
    ]
}

#[test]
fn reads_households_and_residents() {
    let s = sheet(Some("居民"), &good_rows());
    let rows = import::read(&[s], today()).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].row, 3);
    assert_eq!(rows[0].relation, Some(Relation::Head));
    assert_eq!(rows[1].id_number.sex(), Sex::Female);
    assert_eq!(rows[2].household, "H1");
    assert_eq!(rows[3].row, 7);
    assert_eq!(rows[3].household_kind, HouseholdKind::Registered);
    assert_eq!(rows[3].moved_in, Some(Date::new(2020, 1, 5).unwrap()));
    assert_eq!(rows[3].phone.as_ref().unwrap().as_str(), "0536-6212345");
}

fn messages(sheets: &[Sheet]) -> Vec<String> {
    import::read(sheets, today())
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn every_kind_of_error_names_row_and_column() {
    let mut rows = good_rows();
    let first_id = rows[0][3].clone();
    // Check character wrong (row 3).
    let mut bad = first_id[..17].to_string();
    let wrong = if first_id.ends_with('0') { '1' } else { '0' };
    bad.push(wrong);
    let right = first_id.chars().last().unwrap();
    rows[0][3] = bad;
    // Unknown ethnicity and political status, bad phone, bad date (row 4).
    rows[1][4] = "火星族".into();
    rows[1][5] = "党外".into();
    rows[1][6] = "12345".into();
    rows[1][10] = "2001-13-01".into();
    // Relation contradicts the ID number's sex; duplicate of row 4's ID (row 5).
    rows[2][1] = "子".into();
    rows[2][3] = rows[1][3].clone();
    // Bad grid code, moved in before birth, empty name (row 7).
    rows[4][7] = "37072500100100A".into();
    rows[4][10] = "1980-01-01".into();
    rows[4][2] = "".into();
    // A second head for H1 in another place (row 8), and a future birth (row 9).
    rows.push(row(&[
        "H1",
        "户主",
        "王强",
        &id(1960, 1, 1, 51),
        "",
        "",
        "",
        "370725001001002",
        "",
        "",
        "",
    ]));
    rows.push(row(&[
        "H3",
        "本人",
        "赵敏",
        &id(2026, 1, 1, 62),
        "",
        "",
        "",
        "370725001001001",
        "",
        "",
        "",
    ]));
    let msgs = messages(&[sheet(Some("居民"), &rows)]);
    let expected = [
        format!("工作表「居民」第 3 行 D 列「身份证号」：校验码错误，应为 {right}"),
        "工作表「居民」第 4 行 E 列「民族」：“火星族”不是有效的民族".into(),
        "工作表「居民」第 4 行 F 列「政治面貌」：“党外”不是有效的政治面貌".into(),
        "工作表「居民」第 4 行 G 列「联系电话」：不是有效的手机号码".into(),
        "工作表「居民」第 4 行 K 列「迁入日期」：应为日期（如 2020-05-31），现为“2001-13-01”"
            .into(),
        "工作表「居民」第 5 行 B 列「与户主关系」：与户主关系为“子”，但公民身份号码显示性别为女"
            .into(),
        "工作表「居民」第 5 行 D 列「身份证号」：公民身份号码与第 4 行重复".into(),
        "工作表「居民」第 7 行 C 列「姓名」：不能为空".into(),
        "工作表「居民」第 7 行 H 列「网格编码」：".into(),
        "工作表「居民」第 7 行 K 列「迁入日期」：迁入日期不能早于出生日期".into(),
        "工作表「居民」第 8 行 B 列「与户主关系」：户号“H1”已有户主（第 3 行）".into(),
        "工作表「居民」第 8 行 H 列「网格编码」：与同户第 3 行的网格编码不一致".into(),
        "工作表「居民」第 9 行 D 列「身份证号」：出生日期晚于今天".into(),
    ];
    for e in &expected {
        assert!(
            msgs.iter().any(|m| m.starts_with(e.as_str())),
            "missing {e}\nin {msgs:#?}"
        );
    }
    assert_eq!(msgs.len(), expected.len(), "{msgs:#?}");
    // No message repeats an ID number.
    for m in &msgs {
        assert!(!m.contains(&first_id[..14]));
    }
}

#[test]
fn file_level_errors() {
    let no_header = Sheet {
        name: None,
        rows: vec![row(&["说明"]), row(&["随便什么"])],
    };
    assert_eq!(
        messages(&[no_header]),
        vec!["第 1 行：未找到居民信息表：表头应含「户号」「姓名」「公民身份号码」"]
    );
    let missing = Sheet {
        name: Some("表1".into()),
        rows: vec![
            row(&["姓名", "公民身份号码"]),
            row(&["王伟", &id(1970, 1, 1, 1)]),
        ],
    };
    let msgs = messages(&[missing]);
    assert_eq!(msgs[0], "工作表「表1」第 1 行：缺少「户号」列");
    // A registered household without a head, and a household nowhere.
    let s = Sheet {
        name: None,
        rows: vec![
            row(&["户号", "与户主关系", "姓名", "公民身份号码", "小区"]),
            row(&["H9", "子", "王伟", &id(1990, 1, 1, 1), "蓝宝石花园"]),
            row(&["H8", "户主", "李明", &id(1991, 1, 1, 3), ""]),
        ],
    };
    assert_eq!(
        messages(&[s]),
        vec![
            "第 2 行：户号“H9”没有户主（与户主关系应有一行为“户主”或“本人”）",
            "第 3 行：户号“H8”未填写网格编码、小区或楼栋",
        ]
    );
}

#[test]
fn duplicates_across_sheets_name_both() {
    let a = sheet(Some("一"), &good_rows());
    let mut rows = good_rows();
    for r in &mut rows {
        if !r.is_empty() {
            r[0] = format!("{}b", r[0]);
        }
    }
    rows.truncate(1);
    let b = sheet(Some("二"), &rows);
    let msgs = messages(&[a, b]);
    assert_eq!(
        msgs,
        vec!["工作表「二」第 3 行 D 列「身份证号」：公民身份号码与工作表「一」第 3 行重复"]
    );
}

#[test]
fn later_errors_are_placed_like_the_readers() {
    let sheets = [sheet(Some("居民"), &good_rows())];
    let rows = import::read(&sheets, today()).unwrap();
    let e = import::cell_error(
        &sheets,
        &rows[3],
        Some(Column::Building),
        "楼栋“5号楼”不存在",
    );
    assert_eq!(
        e.to_string(),
        "工作表「居民」第 7 行 J 列「楼栋」：楼栋“5号楼”不存在"
    );
    // The export writes masked numbers unless revealed, and reads back when revealed.
    let out = import::export_row(&rows[0], false);
    assert!(out[4].contains("********"));
    let mut back = vec![import::header_row()];
    back.extend(rows.iter().map(|r| import::export_row(r, true)));
    let again = import::read(
        &[Sheet {
            name: None,
            rows: back,
        }],
        today(),
    )
    .unwrap();
    assert_eq!(again.len(), rows.len());
    assert_eq!(again[1].id_number, rows[1].id_number);
    assert_eq!(again[3].phone, rows[3].phone);
}

/// A date cell Excel wrote in a format its reader does not know as a date (yyyy"年"m"月"d"日")
/// comes as the day number; five digits read as that day, other numbers stay refused.
#[test]
fn excel_day_numbers_read_as_dates() {
    use wangge_domain::people::import::parse_date_cell;
    assert_eq!(parse_date_cell("33407").unwrap().to_string(), "1991-06-18");
    assert_eq!(parse_date_cell("45943").unwrap().to_string(), "2025-10-13");
    assert_eq!(
        parse_date_cell("20200531").unwrap().to_string(),
        "2020-05-31"
    );
    assert!(parse_date_cell("1234").is_err());
    assert!(parse_date_cell("123456").is_err());
}

#[test]
fn the_template_reads_back_and_its_notes_list_only_values_accepted() {
    let (header, notes) = import::template();
    assert_eq!(header.len(), Column::COUNT);
    assert_eq!(header[0], "*户号");
    // A row filled in under the template's own header is read.
    let mut filled = vec![String::new(); Column::COUNT];
    let mut put = |c: Column, v: &str| filled[c as usize] = v.to_string();
    put(Column::Household, "H9");
    put(Column::Relation, "户主");
    put(Column::Name, "李娜");
    put(Column::IdNumber, &id(1985, 7, 9, 22));
    put(Column::Sex, "女");
    put(Column::Grid, "370725001001001");
    put(Column::MovedIn, "2010年5月1日");
    let s = Sheet {
        name: Some("居民".into()),
        rows: vec![header.clone(), filled],
    };
    let rows = import::read(&[s], today()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].name, "李娜");
    assert_eq!(rows[0].household_kind, HouseholdKind::Registered);
    // One note per column; the choices it lists are each accepted.
    assert_eq!(notes.len(), Column::COUNT + 1);
    let relation = &notes[1 + Column::Relation as usize][2];
    let listed = relation
        .strip_prefix("填写其一：")
        .and_then(|t| t.split('（').next())
        .unwrap();
    for v in listed.split('、') {
        assert!(Relation::parse(v).is_ok(), "{v}");
    }
    assert_eq!(listed.split('、').count(), Relation::ALL.len());
    assert!(notes[1 + Column::Sex as usize][2].contains(Sex::Female.label()));
}
