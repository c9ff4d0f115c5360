//! Day arithmetic on [`Date`] without allocating (ages, follow-up due dates, the generator).

use crate::place::Date;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// Days since 1970-01-01 of a [`Date`] (`Date` shows only its year; the rest is found by
/// bisection within the year, nine comparisons at most).
pub fn unix_days(d: Date) -> i64 {
    let mut lo = days_from_civil(d.year(), 1, 1);
    let mut hi = lo + 366;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if Date::from_unix_days(mid) < d {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Year, month and day of a [`Date`].
pub fn ymd(d: Date) -> (i32, u8, u8) {
    civil_from_days(unix_days(d))
}

/// The date `n` days after `d` (before, if negative); `None` outside the years `Date` holds.
pub fn add_days(d: Date, n: i64) -> Option<Date> {
    let (y, m, dd) = civil_from_days(unix_days(d) + n);
    Date::new(y, m, dd)
}

/// Whole years from `birth` to `on` (0 if `on` is before `birth`). Someone born on 29
/// February comes of age on 1 March in common years.
pub fn years_between(birth: (i32, u8, u8), on: Date) -> u32 {
    let (by, bm, bd) = birth;
    let years = on.year() - by;
    if years <= 0 {
        return 0;
    }
    let birthday = Date::new(on.year(), bm, bd)
        .or_else(|| Date::new(on.year(), 3, 1))
        .unwrap_or(on);
    let years = if on < birthday { years - 1 } else { years };
    years.max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for days in [-25_567, -1, 0, 1, 59, 365, 11_016, 20_414, 47_482] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            if let Some(date) = Date::new(y, m, d) {
                assert_eq!(unix_days(date), days);
                assert_eq!(ymd(date), (y, m, d));
            }
        }
        let d = Date::new(2024, 2, 28).unwrap();
        assert_eq!(add_days(d, 1).unwrap().to_string(), "2024-02-29");
        assert_eq!(add_days(d, 2).unwrap().to_string(), "2024-03-01");
    }

    #[test]
    fn ages() {
        let on = |s| Date::parse(s).unwrap();
        assert_eq!(years_between((1990, 5, 31), on("2020-05-30")), 29);
        assert_eq!(years_between((1990, 5, 31), on("2020-05-31")), 30);
        assert_eq!(years_between((2000, 2, 29), on("2021-02-28")), 20);
        assert_eq!(years_between((2000, 2, 29), on("2021-03-01")), 21);
        assert_eq!(years_between((2030, 1, 1), on("2021-03-01")), 0);
    }
}
