//! 附件3 and 附件4 laid out as the source lays them out, with 合计 rows that add up.

mod common;

use common::*;
use wangge_domain::Tier;
use wangge_domain::policy::tables::*;
use wangge_domain::policy::*;

/// 附件3 宝都 as the source gives it: (name, tier, 建筑面积, 2020, 2021, 2022 in 万元 × 100, 下沉).
const BAODU_A3: &[(&str, Tier, i64, [i64; 3], i64)] = &[
    ("南苑", Tier::Demonstration, 2300, [500, 0, 0], 5),
    ("恒盛", Tier::Demonstration, 1200, [18500, 0, 0], 5),
    ("故城", Tier::Demonstration, 2300, [15000, 17860, 0], 5),
    ("昌盛", Tier::Standard, 1400, [5000, 8000, 0], 4),
    ("永康", Tier::Standard, 930, [0, 0, 13350], 4),
    ("恒安", Tier::Standard, 780, [500, 0, 0], 4),
    ("月亮湾", Tier::Standard, 1200, [0, 1997, 0], 4),
    ("新昌", Tier::Standard, 2000, [2607, 0, 0], 4),
    ("站前", Tier::Standard, 555, [500, 0, 7460], 4),
    ("西湖", Tier::Standard, 1600, [0, 22960, 0], 4),
    ("宝昌", Tier::Basic, 460, [500, 2100, 0], 3),
    ("三和", Tier::Basic, 1600, [0, 2600, 0], 3),
    ("西河", Tier::Basic, 120, [500, 600, 0], 3),
    ("恒昌", Tier::Basic, 320, [1000, 0, 0], 3),
    ("东山", Tier::Basic, 1300, [1500, 3500, 0], 3),
    ("湖滨", Tier::Basic, 70, [1500, 0, 0], 3),
    ("翰苑", Tier::Basic, 599, [1000, 7600, 0], 3),
    ("流泉", Tier::Basic, 462, [500, 0, 6130], 3),
];

fn baodu_annex3() -> Table {
    let mut communities = Vec::new();
    let mut assignments = Vec::new();
    for (i, (name, tier, area, inv, down)) in BAODU_A3.iter().enumerate() {
        let code = format!("c{i:02}");
        let mut c = community(&code, vec![]);
        c.name = format!("{name}社区");
        c.tier = Some(*tier);
        c.service_centre_area_m2 = Some(*area);
        for (y, v) in [2020, 2021, 2022].into_iter().zip(inv) {
            if *v > 0 {
                // 万元 × 100 → fen.
                c.investment_fen.insert(y, v * FEN_PER_WAN / 100);
            }
        }
        for k in 0..*down {
            let mut a = at_grid(&format!("{code}d{k}"), StaffRole::StaffSentDown, "");
            a.post = Post::Community(code.clone());
            assignments.push(a);
        }
        communities.push(c);
    }
    let mut st = street("宝都", communities);
    st.name = "宝都街道".into();
    st.recruited_social_workers = [(2020, 11), (2021, 64), (2022, 63)].into_iter().collect();
    let s = snapshot(vec![st], assignments);
    let e = evaluate(&changle(), &s, 2021);
    let (a3, _) = annex_tables(&changle(), &s.streets, &e, &[2020, 2021, 2022]);
    a3.into_iter().next().unwrap()
}

#[test]
fn annex3_baodu_totals_are_the_sources() {
    let t = baodu_annex3();
    assert_eq!(t.title, "社区建设和运行投入基本费用情况表（宝都）");
    assert_eq!(t.columns, 15);
    assert!(t.unbalanced_columns().is_empty());
    let total: Vec<String> = t.rows[t.total_row()].iter().map(Cell::display).collect();
    // The source's 合计 row: 18 | 19196 | 1432.64 | 491.07 | 672.17 | 269.4 | 67 | 11 | 39.6 |
    // 64 | 230.4 | 63 | 226.8 (its first row prints 64.8 for 2020's 11 recruits; 11 × 3.6 = 39.6,
    // which is what its 合计 says).
    assert_eq!(
        total,
        [
            "合计", "", "18", "19196", "1432.64", "491.07", "672.17", "269.4", "67", "11", "39.6",
            "64", "230.4", "63", "226.8"
        ]
    );
    // Header: 4 rows, merged as in the source.
    assert_eq!(t.header_rows, 4);
    assert_eq!(t.rows[2][9].display(), "社会招聘人员（每人每年3.6万元）");
    assert!(t.merges.contains(&Merge {
        first_row: 1,
        first_col: 0,
        last_row: 4,
        last_col: 0
    }));
    assert!(t.merges.contains(&Merge {
        first_row: 1,
        first_col: 3,
        last_row: 1,
        last_col: 7
    }));
    assert!(t.merges.contains(&Merge {
        first_row: 2,
        first_col: 9,
        last_row: 2,
        last_col: 14
    }));
    assert!(t.merges.contains(&Merge {
        first_row: 3,
        first_col: 9,
        last_row: 3,
        last_col: 10
    }));
    // Tier groups: 示范社区 3个 over rows 5–7.
    assert_eq!(t.rows[5][1].display(), "示范社区\n3个");
    assert!(t.merges.contains(&Merge {
        first_row: 5,
        first_col: 1,
        last_row: 7,
        last_col: 1
    }));
    assert_eq!(t.rows[8][1].display(), "规范社区\n7个");
    assert_eq!(t.rows[15][1].display(), "基本社区\n8个");
    // Recruits merged over all data rows.
    assert!(t.merges.contains(&Merge {
        first_row: 5,
        first_col: 9,
        last_row: 22,
        last_col: 9
    }));
}

/// A snapshot of 附件4's layout for a small street.
#[test]
fn annex4_layout_snapshot() {
    use StaffRole::*;
    let mut d1 = grid("d1", vec![compound("x", 650, false)]);
    d1.name = "昌明网格".into();
    d1.tier = Some(Tier::Demonstration);
    let mut d2 = grid(
        "d2",
        vec![compound("y", 300, false), compound("z", 260, true)],
    );
    d2.name = "龙脉网格".into();
    d2.tier = Some(Tier::Demonstration);
    let mut s1 = grid("s1", vec![compound("w", 150, true)]);
    s1.tier = Some(Tier::Standard);
    let mut s2 = grid("s2", vec![compound("v", 40, false)]);
    s2.tier = Some(Tier::Standard);
    let mut c1 = community("c1", vec![d1, s1]);
    c1.name = "昌明社区".into();
    let mut c2 = community("c2", vec![d2, s2]);
    c2.name = "宝石城社区".into();
    let mut st = street("b", vec![c1, c2]);
    st.name = "宝城街道".into();
    let s = snapshot(
        vec![st],
        vec![
            at_grid("a", GridLeader, "d1"),
            at_grid("a", PoliceAssistant, "d1"),
            at_grid("b", GridWorker, "d1"),
            at_grid("c", GridLeader, "d2"),
            at_grid("c", PoliceAssistant, "d2"),
            at_grid("e", GridWorker, "s1"),
            at_grid("f", GridWorker, "s2"),
            at_grid("g", ExistingPoliceAssistant, "s2"),
        ],
    );
    let p = changle();
    let e = evaluate(&p, &s, 2021);
    let (_, a4) = annex_tables(&p, &s.streets, &e, &[2020, 2021, 2022]);
    let t = &a4[0];
    assert!(t.unbalanced_columns().is_empty());
    let tsv: Vec<String> = t
        .rows
        .iter()
        .map(|r| {
            r[..7]
                .iter()
                .map(Cell::display)
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    assert_eq!(
        tsv,
        [
            "网格建设和运行投入基本费用情况表（宝城）||||||",
            "序号|网格建设标准|网格名称|所属社区|配备办公设施设备费用（万元）|网格工作人员数量（个）|网格工作人员补贴（万元）",
            "1|示范性网格\n2个|昌明网格|昌明社区|0.5|2|1.92",
            "||龙脉网格|宝石城社区|0.5|1|1.2",
            // 300 (w: 有物业 150 户) + 300 (f: 无物业 40 户) + 600 (g: 原有警务助理), × 12.
            "2|规范性网格|2个||1|3|1.44",
            "合计||4个||2|6|4.56",
        ]
    );
    assert_eq!(
        t.merges,
        [
            Merge {
                first_row: 0,
                first_col: 0,
                last_row: 0,
                last_col: 7
            },
            Merge {
                first_row: 2,
                first_col: 0,
                last_row: 3,
                last_col: 0
            },
            Merge {
                first_row: 2,
                first_col: 1,
                last_row: 3,
                last_col: 1
            },
            Merge {
                first_row: 2,
                first_col: 7,
                last_row: 4,
                last_col: 7
            },
            Merge {
                first_row: 5,
                first_col: 0,
                last_row: 5,
                last_col: 1
            },
        ]
    );
    assert_eq!(
        t.rows[2][7].display(),
        "1、每个网格配备办公设施设备费用为0.5万。\n\
         2、无物业管理的小区网格员按照50户以下、50-100户、100-200户、200户以上的标准，分别给予每月300元、400元、500元、600元的补助；\
         有物业管理的小区网格员按照100户以下、100-200户、200-500户、500-1000户的标准，分别给予每月200元、300元、400元、500元的补助；\
         1000户以上配备2名网格员给予每人每月500元的补助；网格长兼任警务助理1000元/月，网格员兼任警务助理700-900元/月（网格员补贴加300元）。\n\
         3、网格工作人员补贴含原有社区警务助理1人薪酬每人600元/月，总计 0.72万元。实际每年增加财政支出3.84万元。"
    );
}

#[test]
fn wan_text_trims() {
    assert_eq!(wan_text(5_000 * FEN_PER_YUAN), "0.5");
    assert_eq!(wan_text(1_962_000 * FEN_PER_YUAN), "196.2");
    assert_eq!(wan_text(14_326_400 * FEN_PER_YUAN), "1432.64");
    assert_eq!(wan_text(1), "0.000001");
    assert_eq!(wan_text(0), "0");
}

#[test]
fn annex3_spans_the_funding_programme_whichever_of_its_years_is_asked() {
    // 昌乐 pays 社区工作经费 for 2020–2022: 附件3 of any of those years lays out all three, as
    // the source does (asking for 2020 used to give 2019–2021 and drop 2022's 269.4万).
    for year in 2020..=2022 {
        assert_eq!(
            changle().annex_years(year),
            vec![2020, 2021, 2022],
            "{year}"
        );
    }
    // Outside the programme: the year between the one before and the one after.
    assert_eq!(changle().annex_years(2023), vec![2022, 2023, 2024]);
    assert_eq!(changle().annex_years(2019), vec![2018, 2019, 2020]);
}

/// A grid retired during the year keeps its row (its staff were paid there) but not a place
/// in the count, and the count says so.
#[test]
fn annex4_counts_grids_retired_in_the_year_apart() {
    let mut d1 = grid("d1", vec![compound("x", 650, false)]);
    d1.tier = Some(Tier::Demonstration);
    let mut d2 = grid("d2", vec![compound("y", 560, false)]);
    d2.tier = Some(Tier::Demonstration);
    d2.retired_on = Some(wangge_domain::Date::parse("2021-06-30").unwrap());
    let s = snapshot(
        vec![street("b", vec![community("c1", vec![d1, d2])])],
        vec![],
    );
    let p = changle();
    let e = evaluate(&p, &s, 2021);
    let (_, a4) = annex_tables(&p, &s.streets, &e, &[2020, 2021, 2022]);
    assert_eq!(
        a4[0].rows[2][1].display(),
        "示范性网格\n1个（另有年内撤销 1 个）"
    );
}
