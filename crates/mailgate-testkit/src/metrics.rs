//! Reading `/metrics`: the Prometheus text exposition format, held strictly.

use std::collections::{BTreeMap, HashSet};

/// Parse exposition text strictly: every line is `# HELP`, `# TYPE` or a
/// sample `name{label="value",…} value`; each family has one HELP and one
/// TYPE before its samples; no series twice. Returns series → value.
pub fn parse_exposition(text: &str) -> BTreeMap<String, f64> {
    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    assert!(text.ends_with('\n'), "exposition ends with a newline");
    let mut help = HashSet::new();
    let mut types = HashSet::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, doc) = rest.split_once(' ').expect("HELP name text");
            assert!(is_name(name) && !doc.is_empty(), "{line}");
            assert!(help.insert(name.to_string()), "HELP twice: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(is_name(name), "{line}");
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{line}");
            assert!(types.insert(name.to_string()), "TYPE twice: {line}");
            continue;
        }
        assert!(!line.starts_with('#') && !line.trim().is_empty(), "unexpected line {line:?}");
        let name_end = line.find(['{', ' ']).expect("sample has a value");
        let name = &line[..name_end];
        assert!(is_name(name), "{line}");
        assert!(help.contains(name) && types.contains(name), "no HELP/TYPE before {line}");
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(inner) = rest.strip_prefix('{') {
            (labels, rest) = parse_labels(line, inner);
        }
        let value = rest.strip_prefix(' ').expect("one space before the value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line}"));
        let series = if labels.is_empty() { name.to_string() } else { format!("{name}{{{}}}", labels.join(",")) };
        assert!(out.insert(series, value).is_none(), "series twice: {line}");
    }
    assert_eq!(help, types, "every family has HELP and TYPE");
    out
}

/// `label="value",…}` after a sample's `{`: the labels (unescaped) and the rest.
fn parse_labels<'a>(line: &str, mut rest: &'a str) -> (Vec<String>, &'a str) {
    let mut labels = Vec::new();
    loop {
        let (label, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("label=\"…\" in {line}"));
        let label = label.strip_prefix(',').unwrap_or(label);
        assert!(!label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let close = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => panic!("bad escape in {line}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unclosed label value in {line}"),
            }
        };
        labels.push(format!("{label}={value}"));
        rest = &after[close + 1..];
        if let Some(r) = rest.strip_prefix('}') {
            return (labels, r);
        }
        assert!(rest.starts_with(','), "',' or '}}' after a label in {line}");
    }
}
