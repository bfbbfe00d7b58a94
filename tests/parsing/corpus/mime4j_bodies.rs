//! mime4j's decoded text bodies (`<stem>_decoded_*.txt`, named by the
//! `<text-body name=…/>` elements of `<stem>_decoded.xml`) as expectations
//! for our text. mime4j writes each text part transfer-decoded but in its
//! own charset, so the part's declared charset decodes it here (mail-parser's
//! decoders, as ours). Only parts of the top-level message that we take as
//! text are expected: `text/plain` (or no type), without a file name, not an
//! attachment; each must appear in our body, in order.

use std::path::Path;

use mail_parser::decoders::charsets::map::charset_decoder;

use super::mime4j::xml_unescape;

/// One parsed XML tag of mime4j's structure file.
enum Tag {
    Open(String),
    Close(String),
    Field(String),
    TextBody(String),
}

fn tags(xml: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let Some(end) = rest[start..].find('>') else { break };
        let tag = &rest[start + 1..start + end];
        rest = &rest[start + end + 1..];
        if tag == "field" {
            let value = rest.split("</field>").next().unwrap_or("");
            let value = value.strip_prefix("\r\n").or_else(|| value.strip_prefix('\n')).unwrap_or(value);
            out.push(Tag::Field(xml_unescape(value)));
        } else if let Some(name) = tag.strip_prefix("text-body name=\"") {
            out.push(Tag::TextBody(name.trim_end_matches('/').trim_end_matches('"').to_string()));
        } else if let Some(name) = tag.strip_prefix('/') {
            out.push(Tag::Close(name.to_string()));
        } else if !tag.ends_with('/') {
            out.push(Tag::Open(tag.split_whitespace().next().unwrap_or("").to_string()));
        }
    }
    out
}

fn field<'a>(fields: &'a [String], name: &str) -> Option<&'a str> {
    fields.iter().rev().find_map(|f| {
        let (n, v) = f.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// A parameter of a structured field value, lower-cased name, unquoted.
fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The text pieces our body must hold, from the `_decoded.xml` at `xml_path`.
pub(super) fn expected_pieces(xml_path: &Path) -> Vec<String> {
    let Ok(xml) = std::fs::read(xml_path) else { return Vec::new() };
    let xml = String::from_utf8_lossy(&xml);
    let dir = xml_path.parent().unwrap_or(Path::new("."));
    let (mut depth, mut in_header) = (0usize, false);
    // The header fields of each open entity (message or body part).
    let mut headers: Vec<Vec<String>> = Vec::new();
    let mut pieces = Vec::new();
    for tag in tags(&xml) {
        match tag {
            Tag::Open(t) if t == "message" || t == "body-part" => {
                depth += usize::from(t == "message");
                headers.push(Vec::new());
            }
            Tag::Close(t) if t == "message" || t == "body-part" => {
                depth -= usize::from(t == "message");
                headers.pop();
            }
            Tag::Open(t) if t == "header" => in_header = true,
            Tag::Close(t) if t == "header" => in_header = false,
            Tag::Field(f) if in_header => {
                if let Some(h) = headers.last_mut() {
                    h.push(f);
                }
            }
            Tag::TextBody(name) if depth == 1 => {
                let fields = headers.last().cloned().unwrap_or_default();
                let ctype = field(&fields, "content-type").unwrap_or("text/plain");
                let plain = ctype.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("text/plain");
                let disposition = field(&fields, "content-disposition").unwrap_or("");
                let named = param(ctype, "name").is_some()
                    || param(disposition, "filename").is_some()
                    || disposition.to_ascii_lowercase().starts_with("attachment");
                if !plain || named {
                    continue;
                }
                let Ok(bytes) = std::fs::read(dir.join(&name)) else { continue };
                let text = match param(ctype, "charset").and_then(|c| charset_decoder(c.as_bytes())) {
                    Some(decode) => decode(&bytes),
                    None => String::from_utf8_lossy(&bytes).into_owned(),
                };
                let text = text.replace("\r\n", "\n").trim().to_string();
                if !text.is_empty() {
                    pieces.push(text);
                }
            }
            _ => {}
        }
    }
    pieces
}
