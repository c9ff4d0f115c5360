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

/// Where a JSON text goes wrong, in Chinese for users: "第 1 行第 17 列：文件在此处中断，内容不完整"
/// (serde_json's own message is English).
pub fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "内容在此处中断，不完整",
        Category::Syntax => "此处不是 JSON 的写法（缺少引号、逗号或括号？）",
        Category::Data => "内容的类型不符合要求",
        Category::Io => "读取出错",
    };
    format!("第 {} 行第 {} 列：{what}", e.line(), e.column())
}

/// A file system error in Chinese, for users: the kind of failure, with the system's own
/// words only when the kind is not one we name.
pub fn io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "找不到该文件或其所在的文件夹".into(),
        PermissionDenied => "没有权限".into(),
        AlreadyExists => "已存在".into(),
        IsADirectory => "这是一个文件夹，不是文件".into(),
        NotADirectory => "路径中有一段不是文件夹".into(),
        StorageFull => "磁盘已满".into(),
        FileTooLarge => "文件超过系统允许的大小".into(),
        ReadOnlyFilesystem => "文件系统只读".into(),
        InvalidData => "内容不是有效的文本".into(),
        _ => format!("系统错误（{e}）"),
    }
}

/// Orders names as people count: runs of digits by their value, so 2号楼 comes before
/// 10号楼 (text order puts 10号楼, 11号楼 … 19号楼 before 1号楼 and 2号楼).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let run = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut s = String::new();
                    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
                        s.push(c);
                        it.next();
                    }
                    s
                };
                let (m, n) = (run(&mut x), run(&mut y));
                let (m, n) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                let by_value = m.len().cmp(&n.len()).then_with(|| m.cmp(n));
                if by_value != Ordering::Equal {
                    return by_value;
                }
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(&q);
                }
                x.next();
                y.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_errors_say_where_in_chinese() {
        let e = serde_json::from_str::<serde_json::Value>("{\"type\":\"Polygon\"").unwrap_err();
        assert_eq!(
            super::json_error(&e),
            "第 1 行第 17 列：内容在此处中断，不完整"
        );
        let e = serde_json::from_str::<serde_json::Value>("abc").unwrap_err();
        assert!(super::json_error(&e).starts_with("第 1 行第 1 列：此处不是 JSON 的写法"));
    }

    #[test]
    fn names_order_by_the_numbers_in_them() {
        let mut names = vec![
            "10号楼",
            "2号楼",
            "1号楼",
            "19号楼",
            "2号楼2单元",
            "商铺",
            "02号楼",
        ];
        names.sort_by(|a, b| super::natural_cmp(a, b).then(a.cmp(b)));
        assert_eq!(
            names,
            [
                "1号楼",
                "02号楼",
                "2号楼",
                "2号楼2单元",
                "10号楼",
                "19号楼",
                "商铺"
            ]
        );
    }

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
