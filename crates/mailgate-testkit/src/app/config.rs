//! The configuration a [`TestApp`](super::TestApp) runs with, as a TOML
//! table: the defaults every test shares, what the builder adds (database,
//! Jira, mailbox, SMTP) and the test's own overrides, merged in that order.

use toml::{Table, Value};

use crate::{ADMIN_API_KEY, JIRA_TOKEN, JIRA_USER, dovecot};

fn parse(text: &str) -> Table {
    text.parse().unwrap_or_else(|e| panic!("test TOML does not parse: {e}\n{text}"))
}

/// What every test starts from: mail to help@corp.test, SALES for
/// sales@corp.test and HELP otherwise, a short Jira timeout, one in-call
/// retry, fast mail retries, and the admin key (the API is off until a test
/// sets `admin.listen`).
pub fn base(db_url: &str, jira_url: &str) -> Table {
    parse(&format!(
        r#"
[database]
url = "{db_url}"

[jira]
flavor = "cloud"
base_url = "{jira_url}"
auth = {{ kind = "basic", user = "{JIRA_USER}", secret = "{JIRA_TOKEN}" }}
timeout_secs = 5
max_retries = 1

[admin]
api_key = "{ADMIN_API_KEY}"

[inbound]
own_addresses = ["help@corp.test"]
retry_base_ms = 50

# Notifications go out at once (a test of merging sets a window).
[notify]
merge_window_secs = 0

[[routing.rules]]
recipient = "sales@corp.test"
project = "SALES"

[routing]
default = {{ project = "HELP", issue_type = "Task", labels = ["email"] }}
"#
    ))
}

/// One mailbox, "support", on the test's Dovecot (plain IMAP on loopback).
pub fn mailbox_toml(port: u16) -> String {
    format!(
        r#"
[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = {port}
tls = "none"
user = "{}"
password = "{}"
processed_folder = "Processed"
failed_folder = "Failed"
poll_interval_secs = 300
"#,
        dovecot::USER,
        dovecot::PASSWORD
    )
}

/// Outgoing mail to the test's SMTP sink.
pub fn smtp_toml(port: u16) -> String {
    format!(
        r#"
[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
from = "help@corp.test"
timeout_secs = 5
"#
    )
}

/// Merge `text` into `into`: tables key by key, anything else replaced.
pub fn merge_text(into: &mut Table, text: &str) {
    merge(into, parse(text));
}

fn merge(into: &mut Table, from: Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Table(old)), Value::Table(new)) => merge(old, new),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// Set (or with `None` remove) the value at a dotted path such as
/// `jira.timeout_secs` or `mailboxes.0.idle` (a number indexes an array).
/// Missing tables on the way are created.
pub fn set(table: &mut Table, path: &str, value: Option<Value>) {
    let (parents, last) = path.rsplit_once('.').unwrap_or(("", path));
    let mut at = table;
    let mut segments = parents.split('.').filter(|s| !s.is_empty());
    while let Some(key) = segments.next() {
        let entry = at.entry(key.to_string()).or_insert_with(|| Value::Table(Table::new()));
        at = match entry {
            Value::Table(t) => t,
            Value::Array(items) => {
                let n: usize = segments
                    .next()
                    .and_then(|i| i.parse().ok())
                    .unwrap_or_else(|| panic!("{path}: `{key}` is an array; index it (`{key}.0`)"));
                match items.get_mut(n) {
                    Some(Value::Table(t)) => t,
                    _ => panic!("{path}: `{key}` has no table at {n}"),
                }
            }
            other => panic!("{path}: `{key}` is {other}, not a table"),
        };
    }
    match value {
        Some(v) => {
            at.insert(last.to_string(), v);
        }
        None => {
            at.remove(last);
        }
    }
}
