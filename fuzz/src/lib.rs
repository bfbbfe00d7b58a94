//! The code the `parse_classify` fuzz target runs on every input: MIME
//! parsing plus the pure classification functions. Kept in one place so that
//! `tests/parsing/fuzz_regressions.rs` (which includes this file with `#[path]`)
//! replays crash inputs through exactly the same code.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::OnceLock;

use mailgate::classify::{self, Decision, ReplyMatch};
use mailgate::config::{RoutingSettings, Settings};
use mailgate::domain::{EmailAddress, IssueKey, MessageId};

/// A tiny but complete configuration: default project, two rules, one own
/// address and a reply marker.
const CONFIG: &str = r###"
[jira]
flavor = "cloud"
base_url = "https://jira.example.test"
auth = { kind = "basic", user = "bot@corp.test", secret = "not-a-secret" }

[inbound]
own_addresses = ["help@corp.test"]
reply_marker = "## reply above this line ##"

[routing]
default = { project = "HELP" }

[[routing.rules]]
recipient = "sales@corp.test"
project = "SALES"

[[routing.rules]]
domain = "ops.corp.test"
project = "OPS"
labels = ["ops"]
"###;

struct Fixture {
    own: Vec<EmailAddress>,
    routing: RoutingSettings,
    marker: String,
    threads: HashMap<MessageId, IssueKey>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let settings = Settings::from_toml_with_env(CONFIG, std::iter::empty()).expect("fuzz config is valid");
        let mut threads = HashMap::new();
        threads.insert(
            MessageId::parse("<thread-1@corp.test>").expect("valid id"),
            IssueKey::parse("HELP-1").expect("valid key"),
        );
        Fixture {
            own: settings.inbound.own_addresses,
            marker: settings.inbound.reply_marker.expect("marker is set"),
            routing: settings.routing,
            threads,
        }
    })
}

/// Parse `data` as a mail and, if it parses, classify it. Panics only on a
/// bug: a panic inside mailgate, or a broken documented invariant.
pub fn parse_classify(data: &[u8]) {
    let f = fixture();

    for r in classify::dsn::read(data).recipients {
        black_box(r.final_recipient.map(|a| a.domain().len()));
    }

    let Ok(msg) = mailgate::mime::parse(data) else {
        return;
    };

    let decision = classify::decide(&msg, &f.own, &f.routing, &f.threads);
    if let Decision::Comment { issue, matched_by: ReplyMatch::SubjectKey } = &decision {
        let projects = classify::known_projects(&f.routing);
        assert!(projects.iter().any(|p| p == issue.project()), "subject key {issue} is not of a routed project");
    }
    black_box(decision.action_name());

    black_box(classify::strip_quoted(&msg.text, Some(&f.marker)));

    let summary = classify::summary(&msg.subject);
    assert!(!summary.is_empty(), "summary is empty");
    assert!(summary.chars().count() <= 255, "summary longer than 255 characters");
    assert!(!summary.chars().any(char::is_control), "summary has a control character");

    for key in IssueKey::find_all(&msg.subject) {
        assert!(IssueKey::parse(key.as_ref()).is_ok(), "found key {key} does not parse");
    }
}

/// The `webhook_payload` target: a Jira webhook body as it arrives, through
/// the signature check and the payload reading (event, comment visibility,
/// ADF to text), never panicking.
pub fn webhook_payload(data: &[u8]) {
    use mailgate::notify::webhook::{parse_payload, sign, signature_valid};
    let header = sign(b"fuzz-secret", data);
    assert!(signature_valid(b"fuzz-secret", data, Some(&header)), "a body's own signature is valid");
    black_box(signature_valid(b"fuzz-secret", data, std::str::from_utf8(data).ok()));
    if let Ok(Some(event)) = parse_payload(data) {
        black_box(event.comment.map(|c| (c.visibility, c.body.len())));
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        black_box(mailgate::jira::adf_to_text(&v));
        black_box(mailgate::notify::event::Visibility::of_comment(&v));
    }
}

/// The `config_env` target: a config file and `MAILGATE_*` overrides
/// (`NAME=VALUE` lines after the first NUL byte). Loading never panics, and
/// an error never shows the value of a secret override.
pub fn config_env(data: &[u8]) {
    let (file, env) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let text = String::from_utf8_lossy(file);
    let pairs: Vec<(String, String)> = String::from_utf8_lossy(env)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (format!("MAILGATE_{k}"), v.to_string()))
        .collect();
    let secrets: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k.to_ascii_lowercase().ends_with("__password") && v.len() >= 12)
        .filter(|(_, v)| v.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|(_, v)| v.clone())
        .collect();
    if let Err(e) = Settings::from_toml_with_env(&text, pairs) {
        let message = e.to_string();
        for s in &secrets {
            assert!(!stands_alone(&message, s), "a secret in: {message}");
        }
    }
}

/// Whether `word` occurs in `text` not inside a longer word.
fn stands_alone(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_some_and(char::is_alphanumeric);
        let after = text[i + word.len()..].chars().next().is_some_and(char::is_alphanumeric);
        !before && !after
    })
}
