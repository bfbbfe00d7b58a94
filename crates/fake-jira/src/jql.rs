//! The few JQL forms mailgate sends: clauses joined by AND, each one of
//! `project = X`, `key = X`, `issue.property[name].path = "v"`, and an
//! ignored `ORDER BY` tail.

use super::FakeIssue;

#[derive(Debug, PartialEq)]
pub enum Clause {
    Project(String),
    Key(String),
    Property {
        name: String,
        path: String,
        value: String,
    },
    /// `updated >= "yyyy/MM/dd HH:mm"` (or `yyyy-MM-dd HH:mm`), in ms.
    UpdatedSince(i64),
}

/// A JQL date in ms: relative to now (`-15m`, `-2h`, `-1d`, `-1w`), or
/// `yyyy/MM/dd HH:mm` / `yyyy-MM-dd [HH:mm]` read in the searching user's
/// time zone (`offset_min` east of UTC), as Jira reads a date without a
/// zone (jira-facts.md "Search and properties": `timeZone` of `/myself`).
fn jql_date(s: &str, offset_min: i32) -> Option<i64> {
    let s = s.trim();
    if let Some(rel) = s.strip_prefix('-') {
        let unit = rel.chars().last()?;
        let n: i64 = rel[..rel.len() - unit.len_utf8()].trim().parse().ok()?;
        let ms = match unit {
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'w' => 7 * 86_400_000,
            _ => return None,
        };
        return Some(super::clock::now().timestamp_millis() - n * ms);
    }
    let s = s.replace('/', "-");
    chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M")
        .ok()
        .or_else(|| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
        .map(|t| t.and_utc().timestamp_millis() - i64::from(offset_min) * 60_000)
}

/// The clauses of a query; dates in the user's time zone (`offset_min`).
pub fn parse(jql: &str, offset_min: i32) -> Result<Vec<Clause>, String> {
    let lower = jql.to_lowercase();
    let body = match lower.find(" order by ") {
        Some(i) => &jql[..i],
        None if lower.starts_with("order by") => "",
        None => jql,
    };
    let mut out = Vec::new();
    for part in split_and(body) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (lhs, rhs) = part
            .split_once('=')
            .ok_or_else(|| format!("Error in the JQL Query: Expecting operator but got '{part}'."))?;
        let lhs = lhs.trim();
        let rhs = unquote(rhs.trim());
        let lhs_lower = lhs.to_lowercase();
        if let Some(field) = lhs_lower.strip_suffix('>') {
            if field.trim() != "updated" {
                return Err(format!("Field '{}' does not support '>=' in this fake.", field.trim()));
            }
            let at = jql_date(&rhs, offset_min)
                .ok_or_else(|| format!("Date value '{rhs}' for field 'updated' is invalid."))?;
            out.push(Clause::UpdatedSince(at));
        } else if lhs_lower == "project" {
            out.push(Clause::Project(rhs));
        } else if lhs_lower == "key" || lhs_lower == "issuekey" {
            out.push(Clause::Key(rhs));
        } else if let Some(rest) = lhs_lower.strip_prefix("issue.property[") {
            let (name, path) =
                rest.split_once("].").ok_or_else(|| format!("Error in the JQL Query: bad property '{lhs}'."))?;
            out.push(Clause::Property { name: name.to_string(), path: path.to_string(), value: rhs });
        } else {
            return Err(format!("Field '{lhs}' does not exist or you do not have permission to view it."));
        }
    }
    Ok(out)
}

/// A JQL value: a quoted literal with its `\` escapes undone (`\\`,
/// `\"`, `\n`, …: JQL reads a backslash inside quotes as an escape), or a
/// bare word as it is.
fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return v.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn split_and(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.to_lowercase().find(" and ") {
        parts.push(&rest[..i]);
        rest = &rest[i + 5..];
    }
    parts.push(rest);
    parts
}

/// `ORDER BY key [ASC|DESC]` at the end of a query: `Some(descending)`.
pub fn order_by_key(jql: &str) -> Option<bool> {
    let lower = jql.to_lowercase();
    let tail = lower.rsplit_once("order by")?.1.trim();
    let mut words = tail.split_whitespace();
    match (words.next()?, words.next()) {
        ("key" | "issuekey", Some("desc")) => Some(true),
        ("key" | "issuekey", _) => Some(false),
        _ => None,
    }
}

/// Whether an issue matches, with `updated` as the search index holds it.
pub fn matches(issue: &FakeIssue, updated: &str, clauses: &[Clause]) -> bool {
    clauses.iter().all(|c| match c {
        Clause::Project(p) => issue.project.eq_ignore_ascii_case(p),
        Clause::Key(k) => issue.key.eq_ignore_ascii_case(k),
        Clause::UpdatedSince(at) => super::model::parse_jira_time(updated).is_some_and(|u| u >= *at),
        Clause::Property { name, path, value } => issue
            .properties
            .iter()
            .find(|(k, _)| k.to_lowercase() == *name)
            .and_then(|(_, v)| {
                path.split('.')
                    .try_fold(v, |v, seg| v.as_object()?.iter().find(|(k, _)| k.to_lowercase() == seg).map(|(_, v)| v))
            })
            .and_then(|v| v.as_str())
            .is_some_and(|v| v == value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_and_project_clauses_parse() {
        let c =
            parse(r#"project = HELP AND issue.property[mailgate].messageId = "a@b" ORDER BY created"#, 0).expect("ok");
        assert_eq!(c.len(), 2);
        assert!(parse("summary ~ x", 0).is_err());
        assert_eq!(unquote(r#""<a\\b\"c@d>""#), r#"<a\b"c@d>"#);
    }
}
