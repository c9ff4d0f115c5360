//! 公民身份号码 (GB 11643-1999): 6-digit region code, 8-digit birth date, 3-digit sequence
//! (odd for men), and a check character (ISO 7064 MOD 11-2; X stands for 10).

use std::fmt;

use super::calendar;
use super::kinds::Sex;
use crate::place::Date;

/// Weights of the first 17 digits (2^(17-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character by the weighted sum mod 11.
const CHECK: [u8; 11] = *b"10X98765432";

/// The first two digits that name a province-level division (GB/T 2260), with 71 台湾 and
/// 81/82/83 (the residence permits of Hong Kong, Macao and Taiwan residents).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// Why an ID number is refused. The messages never repeat the number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("不能为空")]
    Empty,
    #[error("长度不对：应为 18 位（旧版 15 位），现为 {0} 位")]
    Length(usize),
    #[error("含非数字字符（第 {0} 位）")]
    NotDigit(usize),
    #[error("被表格软件转成了科学计数法，请把该列设为文本格式后重新填写")]
    Scientific,
    #[error("地区码无效：前两位不是省级行政区代码")]
    Region,
    #[error("出生日期无效（第 7–14 位）")]
    BirthDate,
    #[error("出生日期晚于今天")]
    BornInFuture,
    #[error("校验码错误，应为 {0}")]
    Check(char),
    #[error("顺序码应为 0–999")]
    Sequence,
}

/// A valid 18-character citizen ID number, in canonical form (digits and upper-case X).
///
/// No `Display`, no `Serialize`, and a masked `Debug`: the full number is read only through
/// [`IdNumber::as_str`], for encryption, the blind index, or a deliberate reveal.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber {
    text: [u8; 18],
    birth: Date,
}

/// The check character of 17 ASCII digits.
fn check_char(digits: &[u8; 17]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

fn num(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
}

impl IdNumber {
    /// Parses an 18-character number (or upgrades a 15-digit one). Accepts a lower-case x,
    /// full-width digits, surrounding blanks and a spreadsheet's leading apostrophe.
    pub fn parse(s: &str) -> Result<IdNumber, IdError> {
        let s = s.trim().trim_start_matches('\'').trim();
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        let mut buf = [0u8; 18];
        let mut len = 0usize;
        let mut bad: Option<usize> = None;
        for c in s.chars() {
            let b = match c {
                '0'..='9' => c as u8,
                'x' | 'X' | 'ｘ' | 'Ｘ' => b'X',
                '０'..='９' => b'0' + (c as u32 - '０' as u32) as u8,
                _ => {
                    bad.get_or_insert(len + 1);
                    b'?'
                }
            };
            if len < 18 {
                buf[len] = b;
            }
            len += 1;
        }
        if bad.is_some() && (s.contains("E+") || s.contains("e+")) {
            return Err(IdError::Scientific);
        }
        match len {
            18 => {}
            15 => return Self::upgrade(&buf),
            n => return Err(IdError::Length(n)),
        }
        if let Some(p) = bad {
            return Err(IdError::NotDigit(p));
        }
        if let Some(p) = buf[..17].iter().position(|b| !b.is_ascii_digit()) {
            return Err(IdError::NotDigit(p + 1));
        }
        let mut first = [0u8; 17];
        first.copy_from_slice(&buf[..17]);
        let id = Self::from_digits(&first)?;
        if id.text[17] != buf[17] {
            return Err(IdError::Check(id.text[17] as char));
        }
        Ok(id)
    }

    /// Parses, and refuses a birth date after `today`: what forms and imports use.
    pub fn parse_as_of(s: &str, today: Date) -> Result<IdNumber, IdError> {
        let id = Self::parse(s)?;
        if id.birth > today {
            return Err(IdError::BornInFuture);
        }
        Ok(id)
    }

    /// Builds the number of a region, a birth date and a sequence (0–999; odd for men), with
    /// its check character. For generated data and tests.
    pub fn from_parts(region: &str, birth: Date, sequence: u16) -> Result<IdNumber, IdError> {
        let r = region.as_bytes();
        if r.len() != 6 || !r.iter().all(u8::is_ascii_digit) {
            return Err(IdError::Region);
        }
        if sequence > 999 {
            return Err(IdError::Sequence);
        }
        let (y, m, d) = calendar::ymd(birth);
        let mut first = [0u8; 17];
        first[..6].copy_from_slice(r);
        put_digits(&mut first[6..10], y.max(0) as u32);
        put_digits(&mut first[10..12], u32::from(m));
        put_digits(&mut first[12..14], u32::from(d));
        put_digits(&mut first[14..17], u32::from(sequence));
        Self::from_digits(&first)
    }

    /// The check character that completes 17 digits, if they are 17 ASCII digits.
    pub fn check_character(first17: &str) -> Option<char> {
        let b: &[u8; 17] = first17.as_bytes().try_into().ok()?;
        b.iter()
            .all(u8::is_ascii_digit)
            .then(|| check_char(b) as char)
    }

    /// A 15-digit number (before 1999: two-digit year in the 1900s, no check character)
    /// as its 18-character form.
    fn upgrade(buf: &[u8; 18]) -> Result<IdNumber, IdError> {
        if let Some(p) = buf[..15].iter().position(|b| !b.is_ascii_digit()) {
            return Err(IdError::NotDigit(p + 1));
        }
        let mut first = [0u8; 17];
        first[..6].copy_from_slice(&buf[..6]);
        first[6] = b'1';
        first[7] = b'9';
        first[8..].copy_from_slice(&buf[6..15]);
        Self::from_digits(&first)
    }

    /// 17 ASCII digits → the number, after checking region and birth date.
    fn from_digits(first: &[u8; 17]) -> Result<IdNumber, IdError> {
        let province = num(&first[..2]) as u8;
        if !PROVINCES.contains(&province) {
            return Err(IdError::Region);
        }
        let year = num(&first[6..10]) as i32;
        let month = num(&first[10..12]) as u8;
        let day = num(&first[12..14]) as u8;
        let birth = Date::new(year, month, day).ok_or(IdError::BirthDate)?;
        let mut text = [0u8; 18];
        text[..17].copy_from_slice(first);
        text[17] = check_char(first);
        Ok(IdNumber { text, birth })
    }

    /// The canonical 18 characters: what is encrypted, blind-indexed, or revealed.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and X are ever stored.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The first 17 digits as a number: a compact key for duplicate detection.
    pub(crate) fn key(&self) -> u64 {
        self.text[..17]
            .iter()
            .fold(0, |n, d| n * 10 + u64::from(d - b'0'))
    }

    /// The 6-digit administrative division code of the place of first registration.
    pub fn region_code(&self) -> &str {
        &self.as_str()[..6]
    }

    pub fn birth_date(&self) -> Date {
        self.birth
    }

    /// The 17th digit: odd for men, even for women.
    pub fn sex(&self) -> Sex {
        if (self.text[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Age in whole years on a date (0 before birth).
    pub fn age_on(&self, on: Date) -> u32 {
        let y = num(&self.text[6..10]) as i32;
        let m = num(&self.text[10..12]) as u8;
        let d = num(&self.text[12..14]) as u8;
        calendar::years_between((y, m, d), on)
    }

    /// The first 6 characters (the issuing place), 12 stars after: `370725************`.
    /// Lists show the birth date and sex beside it, so the mask hides the sequence and check
    /// digits too: the usual `370725********123X` plus the birth date is the whole number.
    pub fn mask(&self) -> String {
        format!("{}************", &self.as_str()[..6])
    }
}

/// Writes `n` right-aligned, zero-padded, into `out`.
fn put_digits(out: &mut [u8], mut n: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.mask())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_example() {
        // GB 11643-1999's own example.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date().to_string(), "1949-12-31");
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.region_code(), "110105");
        assert_eq!(id.mask(), "110105************");
        assert_eq!(format!("{id:?}"), "IdNumber(110105************)");
        let lower = IdNumber::parse(" 11010519491231002x ").unwrap();
        assert_eq!(lower.as_str(), "11010519491231002X");
        assert_eq!(
            IdNumber::parse("110105194912310021")
                .unwrap_err()
                .to_string(),
            "校验码错误，应为 X"
        );
    }

    #[test]
    fn messages() {
        let e = |s: &str| IdNumber::parse(s).unwrap_err().to_string();
        assert_eq!(
            e("1101051949"),
            "长度不对：应为 18 位（旧版 15 位），现为 10 位"
        );
        assert_eq!(e("11010519491231A02X"), "含非数字字符（第 15 位）");
        assert_eq!(e("110105194913310021"), "出生日期无效（第 7–14 位）");
        assert_eq!(
            e("990105194912310021"),
            "地区码无效：前两位不是省级行政区代码"
        );
        assert_eq!(
            e("3.70725199001011E+17"),
            "被表格软件转成了科学计数法，请把该列设为文本格式后重新填写"
        );
        let today = Date::new(2025, 1, 1).unwrap();
        let future = IdNumber::from_parts("370725", Date::new(2025, 6, 1).unwrap(), 1).unwrap();
        assert_eq!(
            IdNumber::parse_as_of(future.as_str(), today).unwrap_err(),
            IdError::BornInFuture
        );
    }

    #[test]
    fn fifteen_digits_upgrade() {
        let id = IdNumber::parse("370725800101123").unwrap();
        assert_eq!(&id.as_str()[..17], "37072519800101123");
        assert_eq!(id.birth_date().to_string(), "1980-01-01");
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(IdNumber::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn ages() {
        let id = IdNumber::from_parts("370725", Date::new(1990, 5, 31).unwrap(), 12).unwrap();
        assert_eq!(id.age_on(Date::new(2020, 5, 30).unwrap()), 29);
        assert_eq!(id.age_on(Date::new(2020, 5, 31).unwrap()), 30);
        assert_eq!(
            IdNumber::check_character(&id.as_str()[..17]),
            id.as_str().chars().last()
        );
    }
}
