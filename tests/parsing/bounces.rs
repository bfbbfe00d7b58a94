//! Bounces and auto-replies from the sisimai corpus
//! (`../shared/corpora/sisimai-set-of-emails/maildir`) against
//! `classify::decide`: every `bsd/` file (each a bounce, DSN, auto-reply or
//! feedback report) must be ignored when no thread is known (but for the
//! few a person sent, [`BSD_PERSON`]), and the normal
//! mails in `not/` must not be taken for bounces.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mailgate::classify::{Decision, IgnoreReason, decide};
use mailgate::config::{RouteTarget, RoutingSettings};
use mailgate::domain::ProjectKey;

const SISIMAI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/sisimai-set-of-emails/maildir");

/// Files in `bsd/` that a person sent, so they must reach the helpdesk.
const BSD_PERSON: &[(&str, &str)] = &[
    // Apple Mail, a person's "Forward the message." above a quoted
    // sendmail bounce ("Fwd: Returned mail: …"). Someone asking why their
    // mail bounced is a request; bounce subjects only count unprefixed.
    ("lhost-sendmail-14.eml", "a person forwarding a bounce to us"),
];

/// Files in `not/` that are ignored anyway, with the reason.
const NOT_ALLOW: &[(&str, &str)] = &[
    // A mailbox-full notice from postmaster with `Return-Path: <>` and
    // `Auto-Submitted: auto-replied`; sisimai files it under "not a bounce"
    // only because its body has no parseable DSN (rb-sisimai issue 368).
    ("rb-issue-368-bug.eml", "null return path, auto-submitted, from postmaster"),
];

fn routing() -> RoutingSettings {
    let project = ProjectKey::parse("HELP").expect("key");
    let default = RouteTarget {
        project,
        issue_type: "Task".into(),
        labels: vec![],
        components: vec![],
        sender_policy: None,
        groups: vec![],
        service_desk: None,
        request_type: None,
        cc_watchers: false,
        conversation: Default::default(),
        fields: Default::default(),
        directives: vec![],
    };
    RoutingSettings { rules: vec![], default }
}

fn files(sub: &str) -> Vec<PathBuf> {
    let dir = Path::new(SISIMAI).join(sub);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut out: Vec<PathBuf> =
        entries.map(|e| e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path()).collect();
    out.retain(|p| p.is_file());
    out.sort();
    assert!(!out.is_empty(), "no mails in {}", dir.display());
    out
}

fn decide_file(path: &Path) -> Decision {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let msg = mailgate::mime::parse(&raw).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    decide(&msg, &[], &routing(), &HashMap::new())
}

fn name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[test]
fn every_sisimai_bounce_is_ignored() {
    let mut missed = Vec::new();
    for path in files("bsd") {
        let file = name(&path);
        let d = decide_file(&path);
        let person = BSD_PERSON.iter().any(|(f, _)| *f == file);
        match (&d, person) {
            (Decision::Ignore(_), false) | (Decision::Create(_), true) => {}
            (_, false) => missed.push(format!("{file}: {}", d.action_name())),
            (_, true) => missed.push(format!("{file}: a person's mail, but {d:?}")),
        }
    }
    assert!(missed.is_empty(), "{} bounces would not be ignored:\n{}", missed.len(), missed.join("\n"));
}

#[test]
fn normal_mail_in_the_sisimai_corpus_is_not_ignored() {
    let mut wrong = Vec::new();
    for path in files("not") {
        let file = name(&path);
        let d = decide_file(&path);
        let allowed = NOT_ALLOW.iter().any(|(f, _)| *f == file);
        match (&d, allowed) {
            (Decision::Ignore(_), true) | (Decision::Create(_) | Decision::Comment { .. }, false) => {}
            (Decision::Ignore(r), false) => wrong.push(format!("{file}: ignored ({r})")),
            (_, true) => wrong.push(format!("{file}: allow-listed but not ignored; drop it from NOT_ALLOW")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A reason is a typed value with a stable text; the corpus ones read well.
#[test]
fn ignore_reasons_have_display_text() {
    assert_eq!(IgnoreReason::DeliveryReport.to_string(), "delivery report (multipart/report)");
}

/// Every `bsd/` bounce as if each Message-ID it references were a mail we
/// sent to each address it names: what it would suppress.
fn suppressed_if_ours(path: &Path) -> Vec<String> {
    use mailgate::classify::dsn;
    use mailgate::classify::{SentMail, suppressions};
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let report = dsn::read(&raw);
    let named = report
        .recipients
        .iter()
        .flat_map(|r| r.final_recipient.iter().chain(r.original_recipient.iter()))
        .chain(report.plain.failed_recipients.iter());
    let sent: Vec<SentMail> = named
        .flat_map(|a| report.references.iter().map(|id| SentMail { message_id: id.clone(), recipient: a.clone() }))
        .collect();
    suppressions(&report, &sent).map(|s| s.into_iter().map(|s| s.status).collect()).unwrap_or_default()
}

/// Without a mail of ours referenced, no sisimai bounce suppresses
/// anything; with one, a delayed DSN still does not, and the hard RFC 3464
/// bounces (a 5.x.x `Action: failed` block) mostly do, always with a 5.x.x
/// status or a prose bounce's "permanent".
#[test]
fn sisimai_bounces_suppress_only_permanent_failures_of_our_mail() {
    use mailgate::classify::{dsn, suppressions};
    let mut suppressing = 0;
    let mut wrong = Vec::new();
    for path in files("bsd") {
        let file = name(&path);
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if suppressions(&dsn::read(&raw), &[]).is_ok() {
            wrong.push(format!("{file}: suppresses with an empty outbox"));
        }
        let statuses = suppressed_if_ours(&path);
        if statuses.iter().any(|s| !(s.starts_with("5.") || s == "permanent")) {
            wrong.push(format!("{file}: {statuses:?}"));
        }
        suppressing += usize::from(!statuses.is_empty());
    }
    for delayed in ["rfc3464-07.eml", "lhost-sendmail-29.eml", "lhost-opensmtpd-06.eml"] {
        let statuses = suppressed_if_ours(&Path::new(SISIMAI).join("bsd").join(delayed));
        assert!(statuses.is_empty(), "{delayed}: a delay report suppresses {statuses:?}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(suppressing > 250, "only {suppressing} corpus bounces would suppress a recipient of ours");
}
