//! `MAILGATE_*` environment overrides.

use super::{ConfigError, invalid};

pub(super) const SECTIONS: &[&str] =
    &["database", "jira", "mailboxes", "inbound", "routing", "secrets", "identity", "admin", "smtp", "notify", "audit"];

/// The value at `segments` in the tree, if there is one.
fn lookup<'a>(root: &'a toml::Value, segments: &[String]) -> Option<&'a toml::Value> {
    segments.iter().try_fold(root, |cur, seg| match cur {
        toml::Value::Table(t) => t.get(seg),
        toml::Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// Every secret value in the tree (values of [`SECRET_KEYS`]), to be kept
/// out of error messages.
pub(super) fn secret_values(root: &toml::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    match v {
                        toml::Value::Table(_) | toml::Value::Array(_) => stack.push(v),
                        other if is_secret_key(k) => {
                            let text = match other {
                                toml::Value::String(s) => s.clone(),
                                o => o.to_string(),
                            };
                            if !text.is_empty() {
                                out.push(text);
                            }
                        }
                        _ => {}
                    }
                }
            }
            toml::Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    // Longest first, so a secret inside another is not half-replaced.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// `text` with every secret replaced where it stands as a whole word (a
/// one-letter secret does not blank every such letter of the message).
pub(super) fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_string(), |t, secret| {
        let mut out = String::with_capacity(t.len());
        let mut rest = t.as_str();
        while let Some(i) = rest.find(secret.as_str()) {
            let end = i + secret.len();
            let before = rest[..i].chars().next_back().is_some_and(char::is_alphanumeric);
            let after = rest[end..].chars().next().is_some_and(char::is_alphanumeric);
            out.push_str(&rest[..i]);
            out.push_str(if before || after { secret.as_str() } else { "[redacted]" });
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    })
}

pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Keys whose values are secrets: always strings, never shown.
const SECRET_KEYS: &[&str] =
    &["password", "secret", "token", "api_key", "webhook_secret", "master_key", "client_secret", "refresh_token"];

pub(super) fn is_secret_key(name: &str) -> bool {
    SECRET_KEYS.contains(&name)
}

/// The TOML value an override's text stands for. A string stays a string
/// (`true`, `1e3`, `"quoted"` and `123456` are passwords as much as
/// anything): the value is typed only where the setting it replaces is not
/// a string in the file, or, for a setting the file leaves out, when it is
/// plainly a boolean, an integer, a decimal or an array. Secrets are always
/// strings.
fn typed(raw: &str, key: &str, existing: Option<&toml::Value>) -> Result<toml::Value, String> {
    let string = || toml::Value::String(raw.to_string());
    if is_secret_key(key) {
        return Ok(string());
    }
    let parsed = || toml::from_str::<toml::Table>(&format!("v = {raw}")).ok().and_then(|mut t| t.remove("v"));
    match existing {
        Some(toml::Value::String(_)) => Ok(string()),
        Some(v) => match parsed() {
            Some(p) if p.type_str() == v.type_str() || (v.is_float() && p.is_integer()) => Ok(p),
            _ => Err(format!("environment override expects a value of type {}", v.type_str())),
        },
        None => {
            let t = raw.trim();
            let plain_number = {
                let digits = t.strip_prefix('-').unwrap_or(t);
                !digits.is_empty()
                    && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
                    && digits.matches('.').count() <= 1
                    && !digits.starts_with('.')
                    && !digits.ends_with('.')
            };
            let literal = matches!(t, "true" | "false") || plain_number || (t.starts_with('[') && t.ends_with(']'));
            Ok(if literal { parsed().unwrap_or_else(string) } else { string() })
        }
    }
}

/// Set `a__b__0__c` in a TOML tree; numeric segments index arrays. The value
/// is typed as [`typed`] says; an error never shows the value.
pub(super) fn apply_override(root: &mut toml::Value, path: &str, raw: &str) -> Result<(), ConfigError> {
    let segments: Vec<String> = path.split("__").map(|s| s.to_lowercase()).collect();
    let display = segments.join(".");
    let last_key = segments.last().map(String::as_str).unwrap_or_default();
    let existing = lookup(root, &segments);
    let new_value = typed(raw, last_key, existing).map_err(|why| invalid(display.clone(), why))?;
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
