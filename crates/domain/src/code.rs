//! Unified codes of the place tree.
//!
//! County codes follow GB/T 2260 (6 digits), street codes GB/T 10114 (county + 3 digits),
//! community codes the street's 9 digits + 3, and grid codes (网格统一编码) the community's
//! 12 digits + a 3-digit sequence. A value of these types is a valid code: parse, don't validate.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a code of the expected level. Messages are for users (zh-CN).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("{level}代码不能为空")]
    Empty { level: &'static str },
    #[error("{level}代码只能由数字组成，现为“{value}”")]
    NotDigits { level: &'static str, value: String },
    #[error("{level}代码应为 {expected} 位数字，现为 {got} 位")]
    WrongLength {
        level: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{level}代码“{value}”的末 3 位不能为 000")]
    ZeroSequence { level: &'static str, value: String },
    #[error("县级代码“{value}”不是有效的行政区划代码（省级代码或县级部分无效）")]
    BadCounty { value: String },
    #[error("{level}代码“{value}”应以上级代码“{parent}”开头")]
    WrongParent {
        level: &'static str,
        value: String,
        parent: String,
    },
}

/// Province-level prefixes of GB/T 2260.
const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

fn digits(level: &'static str, s: &str, len: usize) -> Result<String, CodeError> {
    // Full-width digits (３７０７２５), as a Chinese input method types them, are digits.
    let s: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            c => c,
        })
        .collect();
    let s = s.as_str();
    if s.is_empty() {
        return Err(CodeError::Empty { level });
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::NotDigits {
            level,
            value: s.to_string(),
        });
    }
    if s.len() != len {
        return Err(CodeError::WrongLength {
            level,
            expected: len,
            got: s.len(),
        });
    }
    Ok(s.to_string())
}

fn sequence_nonzero(level: &'static str, s: String) -> Result<String, CodeError> {
    if s.ends_with("000") {
        return Err(CodeError::ZeroSequence { level, value: s });
    }
    Ok(s)
}

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident, $level:literal, $len:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const LEVEL: &'static str = $level;
            pub const LEN: usize = $len;

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CodeError;
            fn try_from(s: String) -> Result<Self, CodeError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

code_type!(
    /// 县级行政区划代码 (GB/T 2260), e.g. 370725 昌乐县.
    CountyCode, "县", 6
);
code_type!(
    /// 乡级（街道）代码 (GB/T 10114): county code + 3 digits.
    StreetCode, "街道", 9
);
code_type!(
    /// 社区代码: street code + 3 digits.
    CommunityCode, "社区", 12
);
code_type!(
    /// 网格统一编码: community code + 3-digit sequence.
    GridCode, "网格", 15
);

impl CountyCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = digits(Self::LEVEL, s, Self::LEN)?;
        if !PROVINCES.contains(&&s[..2]) || &s[4..] == "00" {
            return Err(CodeError::BadCounty { value: s });
        }
        Ok(Self(s))
    }
}

macro_rules! child_code {
    ($name:ident, $parent:ident) => {
        impl $name {
            /// Parses a code on its own (digits, length, non-zero sequence).
            pub fn parse(s: &str) -> Result<Self, CodeError> {
                let s = sequence_nonzero(Self::LEVEL, digits(Self::LEVEL, s, Self::LEN)?)?;
                $parent::parse(&s[..$parent::LEN])?;
                Ok(Self(s))
            }

            /// Parses a code that must lie under `parent`.
            pub fn parse_under(s: &str, parent: &$parent) -> Result<Self, CodeError> {
                let code = Self::parse(s)?;
                if code.parent() != *parent {
                    return Err(CodeError::WrongParent {
                        level: Self::LEVEL,
                        value: code.0,
                        parent: parent.to_string(),
                    });
                }
                Ok(code)
            }

            /// The code of the level above, which this code begins with.
            pub fn parent(&self) -> $parent {
                $parent(self.0[..$parent::LEN].to_string())
            }

            /// The last three digits as a number (1–999).
            pub fn sequence(&self) -> u16 {
                self.0[$parent::LEN..].parse().unwrap_or(0)
            }

            /// The code with the given 3-digit sequence under `parent`; `None` outside 1–999.
            pub fn compose(parent: &$parent, sequence: u16) -> Option<Self> {
                (1..=999)
                    .contains(&sequence)
                    .then(|| Self(format!("{}{:03}", parent, sequence)))
            }
        }
    };
}

child_code!(StreetCode, CountyCode);
child_code!(CommunityCode, StreetCode);
child_code!(GridCode, CommunityCode);

/// Whether `code` has the shape of a place code of some level (county, street, community,
/// grid): 6, 9, 12 or 15 digits. For a code whose level is not known in advance, such as a
/// statistics page's; a code of a known level is parsed with its type.
pub fn is_place_code(code: &str) -> bool {
    matches!(code.len(), 6 | 9 | 12 | 15) && code.bytes().all(|b| b.is_ascii_digit())
}

/// The sequence for a new code among `used` (every sequence ever used under the parent,
/// retired ones included, which are never given again): one above the highest, so codes
/// follow the order places were added; once 999 is used, the lowest never used. `None` when
/// all 999 are taken.
pub fn next_sequence(used: impl IntoIterator<Item = u16>) -> Option<u16> {
    let mut taken = [false; 1000];
    let mut max = 0;
    for s in used {
        if let Some(t) = taken.get_mut(s as usize) {
            *t = true;
            max = max.max(s);
        }
    }
    if max < 999 {
        return Some(max + 1);
    }
    (1..=999).find(|&s| !taken[s as usize])
}

#[cfg(test)]
mod tests {
    #[test]
    fn full_width_digits_are_digits() {
        assert_eq!(
            super::CountyCode::parse("３７０７８１").unwrap().as_str(),
            "370781"
        );
        assert_eq!(
            super::GridCode::parse(" 370725001001００1 ")
                .unwrap()
                .as_str(),
            "370725001001001"
        );
    }

    use super::*;

    #[test]
    fn place_codes_of_any_level() {
        for ok in ["370725", "370725001", "370725001001", "370725001001001"] {
            assert!(is_place_code(ok), "{ok}");
        }
        for bad in [
            "",
            "37072",
            "370725001001a",
            "3707250010010010",
            "３７０７２５",
        ] {
            assert!(!is_place_code(bad), "{bad}");
        }
    }

    #[test]
    fn county_codes() {
        assert!(CountyCode::parse("370725").is_ok());
        assert!(matches!(
            CountyCode::parse("37072"),
            Err(CodeError::WrongLength { .. })
        ));
        assert!(matches!(
            CountyCode::parse("99072x"),
            Err(CodeError::NotDigits { .. })
        ));
        assert!(matches!(
            CountyCode::parse("990725"),
            Err(CodeError::BadCounty { .. })
        ));
        assert!(matches!(
            CountyCode::parse("370700"),
            Err(CodeError::BadCounty { .. })
        ));
    }

    #[test]
    fn children_begin_with_their_parent() {
        let county = CountyCode::parse("370725").unwrap();
        let street = StreetCode::parse_under("370725001", &county).unwrap();
        assert_eq!(street.parent(), county);
        let community = CommunityCode::parse_under("370725001003", &street).unwrap();
        assert_eq!(community.sequence(), 3);
        let grid = GridCode::compose(&community, 12).unwrap();
        assert_eq!(grid.as_str(), "370725001003012");
        assert_eq!(grid.parent(), community);
        let err = CommunityCode::parse_under("370725002003", &street).unwrap_err();
        assert_eq!(
            err.to_string(),
            "社区代码“370725002003”应以上级代码“370725001”开头"
        );
        assert!(matches!(
            GridCode::parse("370725001003000"),
            Err(CodeError::ZeroSequence { .. })
        ));
        assert!(GridCode::compose(&community, 1000).is_none());
        assert_eq!(next_sequence([]), Some(1));
        assert_eq!(next_sequence([1, 2, 7]), Some(8));
        assert_eq!(next_sequence([1, 999]), Some(2));
        assert_eq!(next_sequence(1..=999), None);
    }
}
