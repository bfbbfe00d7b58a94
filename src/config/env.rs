//! `MAILGATE_*` environment overrides.

use super::{ConfigError, invalid};

pub(super) const SECTIONS: &[&str] =
    &["database", "jira", "mailboxes", "inbound", "routing", "secrets", "identity", "admin", "smtp", "notify", "audit"];

pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Set `a__b__0__c` in a TOML tree; numeric segments index arrays. The value
/// is read as a TOML scalar when it parses as one, else as a string.
pub(super) fn apply_override(root: &mut toml::Value, path: &str, raw: &str) -> Result<(), ConfigError> {
    let segments: Vec<String> = path.split("__").map(|s| s.to_lowercase()).collect();
    let display = segments.join(".");
    let new_value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut cur = root;
    for (n, seg) in segments.iter().enumerate() {
        let last = n + 1 == segments.len();
        cur = match cur {
            toml::Value::Table(t) => {
                if last {
                    t.insert(seg.clone(), new_value);
                    return Ok(());
                }
                t.entry(seg.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()))
            }
            toml::Value::Array(a) => {
                let idx: usize = seg
                    .parse()
                    .map_err(|_| invalid(display.clone(), "environment override expects an array index here"))?;
                let slot = a.get_mut(idx).ok_or_else(|| {
                    invalid(display.clone(), "environment override indexes past the end of the array")
                })?;
                if last {
                    *slot = new_value;
                    return Ok(());
                }
                slot
            }
            _ => {
                return Err(invalid(display, "environment override goes through a value that is not a table"));
            }
        };
    }
    Ok(())
}
