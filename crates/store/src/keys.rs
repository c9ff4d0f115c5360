//! Encryption at rest of ID and phone numbers (AES-256-GCM, a key id stored with each value so
//! keys can rotate) and the keyed blind index (HMAC-SHA256) that lets exact search work
//! without decrypting the table.
//!
//! A keyring is text, one key a line: `<id> <64 hex digits>`; the last line encrypts, every line
//! decrypts; the first line's key also derives the blind-index key (so rotation never has to
//! rebuild the index).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::StoreError;

#[derive(Clone)]
pub struct Keyring {
    keys: Vec<(String, [u8; 32])>,
    /// The current key's cipher and the blind index's keyed MAC, set up once (a million
    /// values are encrypted and indexed in one import).
    cipher: Aes256Gcm,
    index_mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "Keyring({ids:?})")
    }
}

fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(DIGITS[usize::from(x >> 4)] as char);
        s.push(DIGITS[usize::from(x & 15)] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().into()
}

impl Keyring {
    /// Reads a keyring; `source` names it in errors (never the key material).
    pub fn parse(source: &str, text: &str) -> Result<Keyring, String> {
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, k) = line.split_once(char::is_whitespace).ok_or_else(|| {
                format!("{source} 第 {} 行应为“密钥编号 64位十六进制密钥”", i + 1)
            })?;
            let bytes = unhex(k.trim())
                .filter(|b| b.len() == 32)
                .ok_or_else(|| format!("{source} 第 {} 行的密钥应为 64 位十六进制数字", i + 1))?;
            if id.contains(':') || keys.iter().any(|(x, _): &(String, _)| x == id) {
                return Err(format!(
                    "{source} 第 {} 行的密钥编号“{id}”无效或重复",
                    i + 1
                ));
            }
            let mut key = [0u8; 32];
            key.copy_from_slice(&bytes);
            keys.push((id.to_string(), key));
        }
        let first = keys
            .first()
            .ok_or_else(|| format!("{source} 中没有密钥"))?
            .1;
        let index_key = hmac(&first, b"wangge blind index v1");
        let current = keys.last().map(|(_, k)| *k).unwrap_or(first);
        Ok(Keyring {
            cipher: Aes256Gcm::new_from_slice(&current).expect("32-byte key"),
            index_mac: <Hmac<Sha256> as Mac>::new_from_slice(&index_key)
                .expect("HMAC takes any key length"),
            keys,
        })
    }

    /// A new keyring's text with one random key.
    pub fn generate() -> String {
        Self::line("k1")
    }

    fn line(id: &str) -> String {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        format!("{id} {}\n", hex(&k))
    }

    /// The keyring's text with a new key appended (it becomes the one that encrypts).
    pub fn rotated(text: &str) -> Result<String, String> {
        let ring = Keyring::parse("密钥文件", text)?;
        let n = ring.keys.len() + 1;
        let mut id = format!("k{n}");
        while ring.keys.iter().any(|(x, _)| *x == id) {
            id.push('x');
        }
        let mut out = text.trim_end().to_string();
        out.push('\n');
        out.push_str(&Self::line(&id));
        Ok(out)
    }

    pub fn current_id(&self) -> &str {
        &self.keys.last().expect("a keyring has a key").0
    }

    /// `id:hex(nonce ‖ ciphertext)`.
    pub fn encrypt(&self, plain: &str) -> String {
        let (id, _) = self.keys.last().expect("a keyring has a key");
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM encryption does not fail on valid input");
        let mut out = String::with_capacity(id.len() + 1 + 2 * (nonce.len() + ct.len()));
        out.push_str(id);
        out.push(':');
        out.push_str(&hex(&nonce));
        out.push_str(&hex(&ct));
        out
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, StoreError> {
        let bad = || StoreError::Config("加密数据无法解密（密钥缺失或数据损坏）".into());
        let (id, body) = stored.split_once(':').ok_or_else(bad)?;
        let key = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, k)| k)
            .ok_or_else(|| StoreError::Config(format!("缺少编号为“{id}”的数据密钥")))?;
        let bytes = unhex(body).filter(|b| b.len() > 12).ok_or_else(bad)?;
        let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| bad())?;
        let plain = cipher
            .decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..])
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }

    /// Whether a stored value was encrypted with the current key.
    pub fn is_current(&self, stored: &str) -> bool {
        stored.split_once(':').map(|(id, _)| id) == Some(self.current_id())
    }

    /// The blind index of a canonical value (e.g. `IdNumber::as_str()`).
    pub fn index(&self, kind: &str, canonical: &str) -> String {
        let mut m = self.index_mac.clone();
        m.update(kind.as_bytes());
        m.update(&[0]);
        m.update(canonical.as_bytes());
        let tag: [u8; 32] = m.finalize().into_bytes().into();
        hex(&tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_rotation_and_index() {
        let text = Keyring::generate();
        let ring = Keyring::parse("t", &text).unwrap();
        let c = ring.encrypt("37072519800101123X");
        assert!(c.starts_with("k1:") && !c.contains("1980"));
        assert_eq!(ring.decrypt(&c).unwrap(), "37072519800101123X");
        assert_ne!(ring.encrypt("a"), ring.encrypt("a"), "random nonces");
        let rotated = Keyring::parse("t", &Keyring::rotated(&text).unwrap()).unwrap();
        assert_eq!(rotated.current_id(), "k2");
        assert_eq!(rotated.decrypt(&c).unwrap(), "37072519800101123X");
        assert!(!rotated.is_current(&c));
        assert_eq!(
            rotated.index("id", "x"),
            ring.index("id", "x"),
            "the index survives rotation"
        );
        assert_ne!(ring.index("id", "x"), ring.index("phone", "x"));
        let mut tampered = c.clone();
        tampered.pop();
        tampered.push('0');
        assert!(ring.decrypt(&tampered).is_err() || tampered == c);
        assert!(Keyring::parse("t", "k1 abc").is_err());
    }
}
