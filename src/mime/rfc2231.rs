//! RFC 2231 parameter continuations (`filename*0*=utf-8''%E3%83%86;
//! filename*1*=%E3%82%B9%E3%83%88.txt`). mail-parser 0.11 decodes each
//! segment on its own and only the first with the charset, so a name whose
//! bytes run over a segment boundary, or any segment after the first in a
//! charset other than UTF-8, comes out garbled. Here the segments are put
//! back together as bytes first (RFC 2231 section 3 and 4.1: only the first
//! segment names the charset, the encoded ones are percent-encoded) and the
//! whole is decoded once.

use mail_parser::decoders::charsets::map::charset_decoder;

/// The value of parameter `name` in a raw `Content-Type` or
/// `Content-Disposition` field value, when it is given as RFC 2231
/// continuations (`name*0`, `name*0*`, ...); `None` otherwise (then the
/// parser's own value stands).
pub fn continued_param(field: &[u8], name: &str) -> Option<String> {
    let mut segments: Vec<(u32, bool, Vec<u8>)> = Vec::new();
    for param in split_params(field) {
        let Some(eq) = param.iter().position(|&b| b == b'=') else { continue };
        let key = String::from_utf8_lossy(&param[..eq]).trim().to_ascii_lowercase();
        let Some(rest) = key.strip_prefix(name).and_then(|r| r.strip_prefix('*')) else { continue };
        let (number, encoded) = match rest.strip_suffix('*') {
            Some(n) => (n, true),
            None => (rest, false),
        };
        let Ok(number) = number.parse::<u32>() else { continue };
        let value = unquote(trim(&param[eq + 1..]));
        if segments.iter().all(|(n, _, _)| *n != number) {
            segments.push((number, encoded, value));
        }
    }
    if segments.is_empty() {
        return None;
    }
    segments.sort_by_key(|(n, _, _)| *n);
    let mut charset: Option<String> = None;
    let mut bytes = Vec::new();
    for (i, (number, encoded, value)) in segments.iter().enumerate() {
        if *number as usize != i {
            break; // a gap: RFC 2231 says the segments are numbered without gaps
        }
        let mut value: &[u8] = value;
        if *encoded && i == 0 {
            // charset'language'value
            let mut fields = value.splitn(3, |&b| b == b'\'');
            if let (Some(cs), Some(_lang), Some(v)) = (fields.next(), fields.next(), fields.next()) {
                charset = Some(String::from_utf8_lossy(cs).trim().to_string()).filter(|c| !c.is_empty());
                value = v;
            }
        }
        if *encoded {
            percent_decode_into(value, &mut bytes);
        } else {
            bytes.extend_from_slice(value);
        }
    }
    Some(decode(&bytes, charset.as_deref()))
}

/// Bytes in `charset`, or UTF-8 (lossy) when it is missing or unknown: a
/// mis-declared charset degrades, it does not fail.
fn decode(bytes: &[u8], charset: Option<&str>) -> String {
    match charset.and_then(|c| charset_decoder(c.as_bytes())) {
        Some(decoder) => decoder(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The `;`-separated parameters after the type, quotes respected.
fn split_params(field: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in field.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b';' if !quoted => {
                out.push(&field[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&field[start..]);
    out.into_iter().skip(1).collect()
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

/// A quoted string's content with `\` escapes removed; a token as it is.
/// Folding (CRLF and the whitespace after it) inside is dropped.
fn unquote(v: &[u8]) -> Vec<u8> {
    let unfolded: Vec<u8> = v.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    let inner = match unfolded.as_slice() {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut escaped = false;
    for &b in inner {
        if b == b'\\' && !escaped {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(b);
    }
    out
}

fn percent_decode_into(v: &[u8], out: &mut Vec<u8>) {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%'
            && let (Some(h), Some(l)) = (v.get(i + 1).and_then(|&b| hex(b)), v.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_inside_a_character_is_joined_before_decoding() {
        // テスト.txt with the second character's bytes split over two segments.
        let field = b"attachment;\r\n filename*0*=UTF-8''%E3%83%86%E3%82;\r\n filename*1*=%B9%E3%83%88.txt";
        assert_eq!(continued_param(field, "filename").as_deref(), Some("\u{30c6}\u{30b9}\u{30c8}.txt"));
    }

    #[test]
    fn the_first_segments_charset_applies_to_all() {
        // "Größe Übersicht.pdf" in ISO-8859-1, the later segments without charset.
        let field =
            b"attachment; filename*0*=iso-8859-1'de'Gr%F6%DFe%20; filename*1*=%DCbersicht;\r\n\tfilename*2=\".pdf\"";
        assert_eq!(continued_param(field, "filename").as_deref(), Some("Gr\u{f6}\u{df}e \u{dc}bersicht.pdf"));
    }

    #[test]
    fn segments_out_of_order_and_plain_ones_are_put_in_order() {
        let field = b"application/pdf; name*1=\"art two.pdf\"; name*0=\"Part one and p\"";
        assert_eq!(continued_param(field, "name").as_deref(), Some("Part one and part two.pdf"));
    }

    #[test]
    fn shift_jis_and_unknown_charsets() {
        // 資料.xls in Shift_JIS.
        let field = b"attachment; filename*0*=shift_jis''%8E%91; filename*1*=%97%BF.xls";
        assert_eq!(continued_param(field, "filename").as_deref(), Some("\u{8cc7}\u{6599}.xls"));
        let field = b"attachment; filename*0*=x-unknown''abc; filename*1*=%C3%A9.txt";
        assert_eq!(continued_param(field, "filename").as_deref(), Some("abc\u{e9}.txt"));
    }

    #[test]
    fn no_continuation_means_none() {
        assert_eq!(continued_param(b"attachment; filename=\"a.txt\"", "filename"), None);
        assert_eq!(continued_param(b"attachment; filename*=UTF-8''a%20b.txt", "filename"), None);
        // A gap stops the name where the numbering breaks.
        assert_eq!(continued_param(b"x; name*0=a; name*2=c", "name").as_deref(), Some("a"));
    }
}
