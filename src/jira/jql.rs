//! JQL string literals. Inside `"…"` JQL reads `\` as an escape, so both
//! `\` and `"` are escaped (Atlassian, "Use advanced search with JQL":
//! reserved characters are escaped with a backslash inside quotes); line
//! breaks become `\n`, `\r`, `\t` so a value cannot end the query's line.

/// `s` as a quoted JQL string literal.
pub fn jql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::jql_string;

    #[test]
    fn backslashes_and_quotes_are_both_escaped() {
        assert_eq!(jql_string(r#"<a"b@c>"#), r#""<a\"b@c>""#);
        assert_eq!(jql_string(r"<a\b@c>"), r#""<a\\b@c>""#);
        // A trailing backslash cannot swallow the closing quote.
        assert_eq!(jql_string("x\\"), r#""x\\""#);
        assert_eq!(jql_string("2026/12/01 10:00"), "\"2026/12/01 10:00\"");
    }
}
