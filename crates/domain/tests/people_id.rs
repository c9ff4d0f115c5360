//! ID numbers and phones: valid numbers parse, any single changed character is refused,
//! 15-digit numbers upgrade, masks reveal no more than they should.

use proptest::prelude::*;
use wangge_domain::Date;
use wangge_domain::people::calendar::civil_from_days;
use wangge_domain::people::{IdNumber, Phone, PhoneKind, Sex};

const REGIONS: &[&str] = &["370725", "110105", "440305", "650102", "810000", "320581"];

fn date() -> impl Strategy<Value = Date> {
    // 1900-01-01 ..= 2024-12-31
    (-25_567i64..20_088).prop_map(|d| {
        let (y, m, dd) = civil_from_days(d);
        Date::new(y, m, dd).unwrap()
    })
}

fn id() -> impl Strategy<Value = IdNumber> {
    (prop::sample::select(REGIONS), date(), 0u16..1000)
        .prop_map(|(r, d, s)| IdNumber::from_parts(r, d, s).unwrap())
}

proptest! {
    #[test]
    fn every_valid_number_parses(id in id()) {
        let parsed = IdNumber::parse(id.as_str()).unwrap();
        prop_assert_eq!(parsed, id);
        prop_assert_eq!(parsed.as_str().len(), 18);
        // Lower-case x is accepted and normalised.
        let lower = id.as_str().to_ascii_lowercase();
        prop_assert_eq!(IdNumber::parse(&lower).unwrap(), id);
    }

    #[test]
    fn any_single_changed_character_is_refused(id in id(), pos in 0usize..18, by in 1u8..11) {
        let mut b = id.as_str().as_bytes().to_vec();
        let alphabet = b"0123456789X";
        let limit = if pos == 17 { 11 } else { 10 };
        let cur = alphabet.iter().position(|c| *c == b[pos]).unwrap();
        let by = usize::from(by) % limit;
        prop_assume!(by != 0);
        b[pos] = alphabet[(cur + by) % limit];
        let changed = String::from_utf8(b).unwrap();
        prop_assert!(IdNumber::parse(&changed).is_err(), "accepted {}", changed);
    }

    #[test]
    fn fifteen_digits_upgrade(r in prop::sample::select(REGIONS), d in date(), seq in 0u16..1000) {
        let id18 = IdNumber::from_parts(r, d, seq).unwrap();
        prop_assume!(d.year() < 2000);
        let s = id18.as_str();
        let old = format!("{}{}{}", &s[..6], &s[8..14], &s[14..17]);
        prop_assert_eq!(old.len(), 15);
        let up = IdNumber::parse(&old).unwrap();
        prop_assert_eq!(up, id18);
        prop_assert_eq!(up.birth_date(), d);
        prop_assert_eq!(up.sex(), if seq % 2 == 1 { Sex::Male } else { Sex::Female });
        prop_assert!(IdNumber::parse(up.as_str()).is_ok());
    }

    #[test]
    fn masks_show_only_the_issuing_place(id in id()) {
        let m = id.mask();
        let s = id.as_str();
        prop_assert_eq!(m.len(), 18);
        prop_assert_eq!(&m[..6], &s[..6]);
        prop_assert_eq!(&m[6..], "************");
        let debug = format!("{id:?}");
        prop_assert!(!debug.contains(&s[6..]));
        // The mask with the birth date and sex a list shows beside it leaves hundreds of
        // numbers possible (with the last four shown, as masks often do, only this one).
        let born = &s[6..14];
        let candidates = (0..1000)
            .filter_map(|n| {
                let body = format!("{}{born}{n:03}", &s[..6]);
                ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X"]
                    .iter()
                    .find_map(|c| IdNumber::parse(&format!("{body}{c}")).ok())
            })
            .filter(|c| c.sex() == id.sex() && c.mask() == m)
            .count();
        prop_assert!(candidates >= 400, "{candidates}");
    }

    #[test]
    fn mobiles_mask(n in 0u64..100_000_000, second in 3u8..10) {
        let text = format!("1{second}{n:09}");
        let p = Phone::parse(&text).unwrap();
        prop_assert_eq!(p.kind(), PhoneKind::Mobile);
        let m = p.mask();
        prop_assert_eq!(&m[..3], &text[..3]);
        prop_assert_eq!(&m[3..7], "****");
        prop_assert_eq!(&m[7..], &text[7..]);
        let debug = format!("{p:?}");
        prop_assert!(!debug.contains(&text));
    }

    #[test]
    fn landlines_mask(area in prop::sample::select(&["010", "021", "0536", "0371"][..]),
                      first in 2u32..10, rest in 0u32..10_000_000, eight in any::<bool>(),
                      ext in prop::option::of(1u32..10_000)) {
        let local = if eight { format!("{first}{rest:07}") } else { format!("{first}{:06}", rest % 1_000_000) };
        let mut text = format!("{area}-{local}");
        if let Some(e) = ext { text.push_str(&format!("转{e}")); }
        let p = Phone::parse(&text).unwrap();
        prop_assert_eq!(p.kind(), PhoneKind::Landline);
        let m = p.mask();
        let shown: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
        prop_assert_eq!(shown, format!("{area}{}", &local[local.len() - 2..]));
        let prefix = format!("{area}-");
        let full = format!("{area}-{local}");
        prop_assert!(m.starts_with(&prefix));
        prop_assert!(p.as_str().starts_with(&full));
        prop_assert_eq!(Phone::parse(p.as_str()).unwrap(), p);
    }
}

#[test]
fn age_and_future_births() {
    let id = IdNumber::from_parts("370725", Date::new(2000, 2, 29).unwrap(), 3).unwrap();
    assert_eq!(id.age_on(Date::new(2018, 2, 28).unwrap()), 17);
    assert_eq!(id.age_on(Date::new(2018, 3, 1).unwrap()), 18);
    assert!(IdNumber::parse_as_of(id.as_str(), Date::new(1999, 1, 1).unwrap()).is_err());
}
