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
