//! Time-based one-time passwords (RFC 6238 over RFC 4226: HMAC-SHA1, 30-second steps,
//! 6 digits), and the base32 secrets authenticator apps read.

use hmac::{Hmac, Mac};
use sha1::Sha1;

const STEP: i64 = 30;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes base32, ignoring case, spaces and padding; `None` if a character is not base32.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = ALPHABET
            .iter()
            .position(|&a| a as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The 6-digit code of a secret at a counter.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    bin % 1_000_000
}

/// The code for a secret at Unix time `now`.
pub fn code_at(secret: &[u8], now: i64) -> String {
    format!("{:06}", hotp(secret, (now / STEP) as u64))
}

/// The time step a code belongs to, allowing one step of clock drift either way; `None` if
/// the code is wrong. A right code is not yet an accepted one: a step is good once per user
/// (see `auth::accept_totp`, which every check goes through).
pub fn step_of(secret_b32: &str, code: &str, now: i64) -> Option<i64> {
    let secret = base32_decode(secret_b32)?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (-1..=1)
        .map(|d| now / STEP + d)
        .filter(|step| *step >= 0)
        .find(|step| format!("{:06}", hotp(&secret, *step as u64)) == code)
}

/// The URI an authenticator app imports (often shown as a QR code).
pub fn otpauth_uri(secret_b32: &str, account: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc("wangge"),
        enc(account),
        enc("wangge")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890" (8-digit codes there;
        // the last 6 digits here).
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(code_at(secret, 1_111_111_109), "081804");
        assert_eq!(code_at(secret, 2_000_000_000), "279037");
        let b32 = base32_encode(secret);
        assert_eq!(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode(&b32.to_lowercase()).unwrap(), secret);
        assert_eq!(step_of(&b32, "287082", 59), Some(1));
        assert_eq!(step_of(&b32, "287082", 59 + 30), Some(1));
        assert_eq!(step_of(&b32, "287082", 59 + 90), None);
        assert_eq!(step_of(&b32, "28708", 59), None);
    }
}

/// A QR code of `text` (an `otpauth://` address) as the SVG path of its dark modules, one
/// unit each, and the code's width in modules; `None` if it does not fit a QR code.
pub fn qr_path(text: &str) -> Option<(i32, String)> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let n = qr.size();
    let mut d = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                d.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
    }
    Some((n, d))
}

#[cfg(test)]
mod qr_tests {
    #[test]
    fn an_enrolment_address_makes_a_square_code() {
        let uri = super::otpauth_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "admin");
        let (n, d) = super::qr_path(&uri).unwrap();
        // Version 5 or so for a ~110-character address: 37 modules a side.
        assert!((29..=49).contains(&n), "{n}");
        // The three finder patterns: the top-left corner module is dark, and so is a
        // good share of all the others.
        assert!(d.starts_with("M0 0h1v1h-1z"));
        let dark = d.matches('M').count() as i32;
        assert!(
            dark > n * n / 3 && dark < n * n * 2 / 3,
            "{dark} of {}",
            n * n
        );
    }
}
