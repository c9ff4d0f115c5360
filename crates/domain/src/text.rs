//! Text as people's files carry it: GIS exports and tables from Chinese Windows are often GBK,
//! others UTF-8 with or without a byte-order mark. Pure: the caller reads the bytes.

/// A file's text: UTF-8 (a byte-order mark dropped) or, when the bytes are not UTF-8,
/// GB18030, a superset of the GBK that GIS tools and spreadsheets on Chinese Windows still
/// write. A UTF-8 file with a stray bad byte stays UTF-8 (the byte replaced): read as GBK it
/// would come out wholly garbled.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            // GBK read as UTF-8 is nearly all bad sequences; UTF-8 with a stray byte is not.
            let lossy = String::from_utf8_lossy(bytes);
            let bad = lossy.chars().filter(|&c| c == '\u{fffd}').count();
            let good = lossy
                .chars()
                .filter(|&c| !c.is_ascii() && c != '\u{fffd}')
                .count();
            if good >= 4 * bad {
                lossy.into_owned()
            } else {
                encoding_rs::GB18030.decode(bytes).0.into_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn utf8_with_or_without_a_mark_gbk_and_a_stray_byte() {
        let text = "社区名称,户数\n宝昌社区,7633\n";
        assert_eq!(decode(text.as_bytes()), text);
        let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(decode(&bom), text);
        assert_eq!(decode(&encoding_rs::GBK.encode(text).0), text);
        let mut stray = "北海路，道路，备注 x".as_bytes().to_vec();
        stray.push(0xFF);
        let read = decode(&stray);
        assert!(read.starts_with("北海路，道路，备注 x"), "{read}");
    }
}
