//! Phone numbers: mainland mobiles (11 digits, 1[3-9]…) and landlines with their area code
//! (0xx or 0xxx, a 7- or 8-digit local number, an optional extension).

use std::fmt;

/// Why a phone number is refused. The messages never repeat the number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("不能为空")]
    Empty,
    #[error("固定电话请加区号，如 0536-1234567")]
    NoAreaCode,
    #[error("手机号码不能带分机号")]
    MobileExtension,
    #[error("分机号应为 1–6 位数字")]
    Extension,
    #[error("不是有效的手机号码（11 位，以 13–19 开头）或固定电话（区号-号码）")]
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    Mobile,
    Landline,
}

/// A valid phone number in canonical form: `13812345678`, `0536-6212345` or
/// `0536-6212345-801` (extension last).
///
/// Like [`super::IdNumber`]: no `Display`, no `Serialize`, a masked `Debug`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone {
    text: String,
    /// For landlines: the length of the area code and of the local number.
    area: u8,
    local: u8,
}

impl Phone {
    /// Accepts blanks, dashes, brackets, full-width digits, a +86/0086 prefix on mobiles and
    /// an extension written 转801, ext801, #801 or as a last dash group.
    pub fn parse(s: &str) -> Result<Phone, PhoneError> {
        let s = s.trim().trim_start_matches('\'');
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        // Normalise to ASCII digits and '-' separators, with the extension split off.
        let mut main = String::with_capacity(s.len());
        let mut ext = String::new();
        let mut in_ext = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            let c = match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                '－' | '—' | '–' | '(' | ')' | '（' | '）' | '.' => '-',
                c => c,
            };
            match c {
                '0'..='9' if in_ext => ext.push(c),
                '0'..='9' => main.push(c),
                '-' if !in_ext => main.push('-'),
                ' ' | '\u{3000}' | '\t' => {}
                '+' if main.is_empty() => main.push('+'),
                '转' | '#' | '，' | ',' if !in_ext => in_ext = true,
                'e' | 'E' if !in_ext => {
                    let rest: String = chars.by_ref().take(2).collect();
                    if !rest.eq_ignore_ascii_case("xt") {
                        return Err(PhoneError::Invalid);
                    }
                    if chars.peek() == Some(&'.') {
                        chars.next();
                    }
                    in_ext = true;
                }
                _ => return Err(PhoneError::Invalid),
            }
        }
        if in_ext && (ext.is_empty() || ext.len() > 6) {
            return Err(PhoneError::Extension);
        }
        let main = main
            .strip_prefix("+86")
            .or_else(|| main.strip_prefix("0086"))
            .map(|m| m.trim_start_matches('-'))
            .unwrap_or(&main);
        let groups: Vec<&str> = main.split('-').filter(|g| !g.is_empty()).collect();
        let digits: String = groups.concat();
        if digits.len() == 11
            && digits.starts_with('1')
            && (b'3'..=b'9').contains(&digits.as_bytes()[1])
        {
            if in_ext {
                return Err(PhoneError::MobileExtension);
            }
            return Ok(Phone {
                text: digits,
                area: 0,
                local: 0,
            });
        }
        if !digits.starts_with('0') {
            return if (7..=8).contains(&digits.len()) {
                Err(PhoneError::NoAreaCode)
            } else {
                Err(PhoneError::Invalid)
            };
        }
        // Area code: the first group if the number was written in groups, else 010 and 02x
        // (3 digits) or 4 digits, as the national plan assigns them.
        let (area, local, tail_ext) = if groups.len() >= 2 {
            let tail = if groups.len() == 3 {
                Some(groups[2])
            } else {
                None
            };
            if groups.len() > 3 {
                return Err(PhoneError::Invalid);
            }
            (groups[0].to_string(), groups[1].to_string(), tail)
        } else {
            let n = if digits.starts_with("010") || digits.starts_with("02") {
                3
            } else {
                4
            };
            if digits.len() <= n {
                return Err(PhoneError::Invalid);
            }
            (digits[..n].to_string(), digits[n..].to_string(), None)
        };
        let area_ok = (3..=4).contains(&area.len()) && area.as_bytes()[1] != b'0';
        let local_ok = (7..=8).contains(&local.len()) && !local.starts_with(['0', '1']);
        if !area_ok || !local_ok {
            return Err(PhoneError::Invalid);
        }
        let ext = match (tail_ext, in_ext) {
            (Some(_), true) => return Err(PhoneError::Invalid),
            (Some(t), false) if t.len() <= 6 => t.to_string(),
            (Some(_), false) => return Err(PhoneError::Extension),
            (None, _) => ext,
        };
        let mut text = format!("{area}-{local}");
        if !ext.is_empty() {
            text.push('-');
            text.push_str(&ext);
        }
        Ok(Phone {
            area: area.len() as u8,
            local: local.len() as u8,
            text,
        })
    }

    pub fn kind(&self) -> PhoneKind {
        if self.area == 0 {
            PhoneKind::Mobile
        } else {
            PhoneKind::Landline
        }
    }

    /// The canonical text: what is encrypted, blind-indexed, or revealed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Mobiles keep the first 3 and last 4 digits (`138****5678`); landlines keep the area
    /// code and the last 2 digits of the local number (`0536-*****45`), extension dropped.
    pub fn mask(&self) -> String {
        let t = &self.text;
        match self.kind() {
            PhoneKind::Mobile => format!("{}****{}", &t[..3], &t[7..]),
            PhoneKind::Landline => {
                let a = usize::from(self.area);
                let l = usize::from(self.local);
                let local = &t[a + 1..a + 1 + l];
                format!("{}-{}{}", &t[..a], "*".repeat(l - 2), &local[l - 2..])
            }
        }
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.mask())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        Phone::parse(s).unwrap().as_str().to_string()
    }

    #[test]
    fn mobiles() {
        assert_eq!(ok("138 1234 5678"), "13812345678");
        assert_eq!(ok("+86 138-1234-5678"), "13812345678");
        assert_eq!(ok("008613812345678"), "13812345678");
        assert_eq!(ok("１３８１２３４５６７８"), "13812345678");
        let p = Phone::parse("13812345678").unwrap();
        assert_eq!(p.mask(), "138****5678");
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
        assert_eq!(
            Phone::parse("12812345678").unwrap_err(),
            PhoneError::Invalid
        );
    }

    #[test]
    fn landlines() {
        assert_eq!(ok("0536-6212345"), "0536-6212345");
        assert_eq!(ok("(0536)6212345"), "0536-6212345");
        assert_eq!(ok("05366212345"), "0536-6212345");
        assert_eq!(ok("01062345678"), "010-62345678");
        assert_eq!(ok("0536-6212345转801"), "0536-6212345-801");
        assert_eq!(ok("0536-6212345-801"), "0536-6212345-801");
        assert_eq!(ok("0536 6212345 ext. 801"), "0536-6212345-801");
        let p = Phone::parse("0536-6212345-801").unwrap();
        assert_eq!(p.kind(), PhoneKind::Landline);
        assert_eq!(p.mask(), "0536-*****45");
        assert_eq!(Phone::parse("6212345").unwrap_err(), PhoneError::NoAreaCode);
        assert_eq!(
            Phone::parse("13812345678转1").unwrap_err(),
            PhoneError::MobileExtension
        );
        assert_eq!(Phone::parse("电话").unwrap_err(), PhoneError::Invalid);
        assert_eq!(
            Phone::parse("0536-0212345").unwrap_err(),
            PhoneError::Invalid
        );
    }
}
