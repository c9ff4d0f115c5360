//! The synthetic residents: valid, unique ID numbers; households with one head; the importer
//! accepts what the generator makes.

use std::collections::HashSet;

use wangge_domain::Date;
use wangge_domain::people::stats::PeopleStats;
use wangge_domain::people::{HouseholdKind, IdNumber, Relation, synth};

fn grids() -> Vec<String> {
    (1..=20).map(|i| format!("370725001001{i:03}")).collect()
}

#[test]
fn a_hundred_thousand_residents_have_valid_unique_ids() {
    let as_of = Date::new(2025, 6, 30).unwrap();
    let g = grids();
    let mut seen = HashSet::new();
    let mut stats = PeopleStats::default();
    let mut households = 0;
    let mut special = 0;
    for h in synth::residents(42, 100_000, &g, as_of) {
        households += 1;
        stats.add_households(h.kind, 1);
        assert_eq!(h.members[0].relation, Relation::Head);
        assert_eq!(
            h.members
                .iter()
                .filter(|m| m.relation == Relation::Head)
                .count(),
            1
        );
        assert!((1..=6).contains(&h.members.len()));
        for m in &h.members {
            let id = IdNumber::parse_as_of(m.id_number.as_str(), as_of).unwrap();
            assert_eq!(id.region_code(), "370725");
            assert!(seen.insert(*id.as_str().as_bytes().first_chunk::<18>().unwrap()));
            if let Some(r) = m.relation.implied_sex() {
                assert_eq!(r, id.sex(), "{:?} of {}", m.relation, m.name);
            }
            assert!(m.moved_in >= id.birth_date());
            if let Some(p) = &m.phone {
                assert!(p.as_str().starts_with("13800"));
            }
            special += usize::from(m.special.is_some());
            stats.add_resident(true, true, id.sex(), id.age_on(as_of));
        }
    }
    assert_eq!(seen.len(), 100_000);
    assert_eq!(stats.residents, 100_000);
    // About 2.6 people a household, both sexes, every age band, some special groups.
    assert!((35_000..42_000).contains(&households), "{households}");
    assert!(stats.male > 45_000 && stats.female > 45_000);
    assert!(stats.age_bands.iter().all(|n| *n > 1_000), "{stats:?}");
    assert!(stats.residing_households > 0);
    assert!((1_000..8_000).contains(&special), "{special}");
}

#[test]
fn the_importer_accepts_generated_households() {
    let as_of = Date::new(2025, 6, 30).unwrap();
    let g = grids();
    let mut rows = vec![
        [
            "户号",
            "户类型",
            "与户主关系",
            "姓名",
            "公民身份号码",
            "联系电话",
            "民族",
            "政治面貌",
            "就业状况",
            "网格编码",
            "门牌号",
            "迁入日期",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut n = 0;
    for h in synth::households(9, 300, &g, as_of) {
        for m in &h.members {
            n += 1;
            rows.push(vec![
                h.number.clone(),
                h.kind.label().into(),
                m.relation.label().into(),
                m.name.clone(),
                m.id_number.as_str().into(),
                m.phone
                    .as_ref()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                m.ethnicity.label().into(),
                m.political_status.label().into(),
                m.employment.label().into(),
                h.grid_code.clone(),
                h.address.clone(),
                m.moved_in.to_string(),
            ]);
        }
    }
    let sheet = wangge_domain::annex2::Sheet { name: None, rows };
    let read = wangge_domain::people::import::read(&[sheet], as_of).unwrap();
    assert_eq!(read.len(), n);
    assert!(
        read.iter()
            .any(|r| r.household_kind == HouseholdKind::Residing)
    );
}

/// `cargo test --release -p wangge-domain --test people_synth -- --ignored --nocapture`
#[test]
#[ignore = "a million residents: run in release"]
fn a_million_residents_generate_and_import_fast() {
    use std::time::Instant;
    let as_of = Date::new(2025, 6, 30).unwrap();
    let g = grids();
    let t = Instant::now();
    let mut rows = vec![
        [
            "户号",
            "与户主关系",
            "姓名",
            "公民身份号码",
            "联系电话",
            "民族",
            "政治面貌",
            "网格编码",
            "门牌号",
            "迁入日期",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for h in synth::residents(1, 1_000_000, &g, as_of) {
        for m in &h.members {
            rows.push(vec![
                h.number.clone(),
                m.relation.label().into(),
                m.name.clone(),
                m.id_number.as_str().into(),
                m.phone
                    .as_ref()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                m.ethnicity.label().into(),
                m.political_status.label().into(),
                h.grid_code.clone(),
                h.address.clone(),
                m.moved_in.to_string(),
            ]);
        }
    }
    let generated = t.elapsed();
    let sheets = [wangge_domain::annex2::Sheet { name: None, rows }];
    let t = Instant::now();
    let read = wangge_domain::people::import::read(&sheets, as_of).unwrap();
    let imported = t.elapsed();
    eprintln!("generated 1,000,000 residents in {generated:?}; read them in {imported:?}");
    assert_eq!(read.len(), 1_000_000);
    assert!(imported.as_secs_f64() < 10.0);
}
