//! Statistics: per-UTC-day counts from the processing log, ignored mail by
//! reason, reset, the queue gauges, and the HTTP side (`/api/stats`,
//! `/api/stats/reset`, `/metrics`, `/readyz`), on SQLite and PostgreSQL.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{TestDb, fake_jira, mail, settings};
use mailgate::classify::IgnoreReason;
use mailgate::clock::{Clock, ManualClock};
use mailgate::domain::{EmailAddress, IssueKey, MessageId};
use mailgate::http::AdminState;
use mailgate::ingest;
use mailgate::mailbox::{MailConnector, MemoryConnector, MemoryMailbox};
use mailgate::pipeline::Pipeline;
use mailgate::stats::{Counts, Statistics};
use mailgate::store::{Finish, NewInbound, NewOutgoing, Status, Store};
use secrecy::SecretString;

const API_KEY: &str = "stats-api-key-0123456789";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("time").with_timezone(&Utc)
}

fn counts(today: i64, yesterday: i64, total: i64) -> Counts {
    Counts { today, yesterday, total }
}

/// A mail outcome as the pipeline commits it.
#[derive(Clone, Copy)]
enum Outcome<'a> {
    Created,
    Commented,
    Failed,
    Ignored(&'a str),
    Rejected,
}

/// Store a mail and commit `outcome` for it at `now` (one processing-log row).
async fn record(store: &Store, now: DateTime<Utc>, outcome: Outcome<'_>) {
    let ms = now.timestamp_millis();
    let new = NewInbound { mailbox: "support", uidvalidity: None, uid: None, source: Some("test"), raw: b"x" };
    let id = store.insert_inbound(&new, ms).await.expect("insert").expect("a new row");
    let row = store.inbound(id).await.expect("read").expect("row");
    let mid = MessageId::parse(&format!("<m{id}@stats.test>")).expect("message id");
    let key = IssueKey::parse(&format!("HELP-{id}")).expect("issue key");
    let (status, action, reason, issue_key, error) = match outcome {
        Outcome::Created => (Status::Done, "create", None, Some(&key), None),
        Outcome::Commented => (Status::Done, "comment", None, Some(&key), None),
        Outcome::Failed => (Status::Failed, "none", Some("jira"), None, Some("Jira answered 400")),
        Outcome::Ignored(text) => (Status::Ignored, "ignore", Some(text), None, None),
        Outcome::Rejected => (Status::Ignored, "reject", Some("sender rejected by policy"), None, None),
    };
    let detail = if issue_key.is_some() { Some("routed to project HELP") } else { None };
    let f = Finish { status, action, reason, issue_key, message_id: Some(&mid), error, detail };
    store.finish(&row, &f, ms).await.expect("finish");
}

#[tokio::test]
async fn counts_split_into_today_yesterday_and_total_by_utc_day() {
    common::init();
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("store");
        record(&store, at("2026-03-08T10:00:00Z"), Outcome::Created).await;
        record(&store, at("2026-03-09T00:00:00Z"), Outcome::Created).await;
        for outcome in [Outcome::Created, Outcome::Commented, Outcome::Failed] {
            record(&store, at("2026-03-09T23:59:59.999Z"), outcome).await;
        }
        for outcome in [Outcome::Created, Outcome::Commented, Outcome::Commented] {
            record(&store, at("2026-03-10T00:00:00Z"), outcome).await;
        }
        record(&store, at("2026-03-10T11:00:00Z"), Outcome::Created).await;
        record(&store, at("2026-03-10T11:00:00Z"), Outcome::Failed).await;
        record(&store, at("2026-03-10T11:00:00Z"), Outcome::Ignored("duplicate Message-ID")).await;

        let s = store.statistics(at("2026-03-10T12:00:00Z").timestamp_millis()).await.expect("stats");

        assert_eq!(s.issues_created, counts(2, 2, 5), "{}", db.label);
        assert_eq!(s.comments_added, counts(2, 1, 3), "{}", db.label);
        assert_eq!(s.failures, counts(1, 1, 2), "{}", db.label);
        assert_eq!(s.ignored_by_reason, BTreeMap::from([("duplicate".to_string(), 1)]));
        assert_eq!(s.reset_at, None);

        // A day later: today is empty, yesterday holds what was today.
        let s = store.statistics(at("2026-03-11T00:00:00Z").timestamp_millis()).await.expect("stats");

        assert_eq!(s.issues_created, counts(0, 2, 5), "{}", db.label);
        assert_eq!(s.comments_added, counts(0, 2, 3), "{}", db.label);
        assert_eq!(s.failures, counts(0, 1, 2), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn ignored_and_rejected_mail_is_counted_per_reason_key() {
    common::init();
    let reasons = [
        (IgnoreReason::AutoSubmitted("auto-replied".into()), "auto_submitted"),
        (IgnoreReason::AutoSubmitted("auto-generated".into()), "auto_submitted"),
        (IgnoreReason::AutoReplyHeader, "auto_reply"),
        (IgnoreReason::Precedence("bulk".into()), "precedence"),
        (IgnoreReason::DeliveryReport, "delivery_report"),
        (IgnoreReason::NullReturnPath, "null_return_path"),
        (IgnoreReason::OwnAddress("help@corp.test".into()), "own_address"),
        (IgnoreReason::MailgateLoop, "mailgate_loop"),
        (IgnoreReason::NoSender, "no_sender"),
        (IgnoreReason::Duplicate, "duplicate"),
        (IgnoreReason::Duplicate, "duplicate"),
    ];
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("store");
        let now = at("2026-03-10T12:00:00Z");
        for (reason, _) in &reasons {
            record(&store, now, Outcome::Ignored(&reason.to_string())).await;
        }
        record(&store, now, Outcome::Rejected).await;
        record(&store, now, Outcome::Ignored("a reason from a later version")).await;

        let s = store.statistics(now.timestamp_millis()).await.expect("stats");

        let mut expected: BTreeMap<String, i64> = BTreeMap::new();
        for (_, key) in &reasons {
            *expected.entry(key.to_string()).or_default() += 1;
        }
        expected.insert("rejected".into(), 1);
        expected.insert("other".into(), 1);
        assert_eq!(s.ignored_by_reason, expected, "{}", db.label);
        assert_eq!(s.issues_created, Counts::default(), "ignored mail creates nothing");
        assert_eq!(s.failures, Counts::default());
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_reset_zeroes_the_counts_and_later_events_count_again() {
    common::init();
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("store");
        let t = at("2026-03-10T12:00:00Z");
        record(&store, t - Duration::days(1), Outcome::Created).await;
        for outcome in [Outcome::Created, Outcome::Commented, Outcome::Failed, Outcome::Ignored("duplicate Message-ID")]
        {
            record(&store, t, outcome).await;
        }

        store.reset_statistics(t.timestamp_millis()).await.expect("reset");
        let s = store.statistics(t.timestamp_millis()).await.expect("stats");

        let zero = Statistics { reset_at: Some("2026-03-10T12:00:00.000Z".into()), ..Statistics::default() };
        assert_eq!(s, zero, "{}", db.label);

        // Same millisecond as the reset, but logged after it: it counts.
        record(&store, t, Outcome::Created).await;
        record(&store, t, Outcome::Ignored("bulk mail (Precedence: list)")).await;
        record(&store, t + Duration::days(1), Outcome::Commented).await;
        let s = store.statistics((t + Duration::days(1)).timestamp_millis()).await.expect("stats");

        assert_eq!(s.issues_created, counts(0, 1, 1), "{}", db.label);
        assert_eq!(s.comments_added, counts(1, 0, 1), "{}", db.label);
        assert_eq!(s.failures, Counts::default());
        assert_eq!(s.ignored_by_reason, BTreeMap::from([("precedence".to_string(), 1)]));

        // A second reset moves the point again.
        let later = t + Duration::days(2);
        store.reset_statistics(later.timestamp_millis()).await.expect("reset");
        let s = store.statistics(later.timestamp_millis()).await.expect("stats");
        assert_eq!(s.issues_created, Counts::default(), "{}", db.label);
        assert_eq!(s.comments_added, Counts::default());
        assert_eq!(s.reset_at.as_deref(), Some("2026-03-12T12:00:00.000Z"));
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn queue_gauges_show_the_current_state_and_survive_a_reset() {
    common::init();
    for db in TestDb::all().await {
        let store = Store::connect(&db.url).await.expect("store");
        let now = at("2026-03-10T12:00:00Z").timestamp_millis();
        let new = NewInbound { mailbox: "support", uidvalidity: Some(7), uid: Some(1), source: None, raw: b"x" };
        store.insert_inbound(&new, now).await.expect("insert").expect("row");
        for n in 0..4 {
            let key = format!("k{n}");
            let out = NewOutgoing {
                dedupe_key: &key,
                kind: "issue_created",
                recipient: "a@c.test",
                subject: "s",
                body_text: "b",
                body_html: None,
                message_id: &format!("<o{n}@c.test>"),
                in_reply_to: None,
                issue_key: Some("HELP-1"),
            };
            assert!(store.enqueue(&out, now).await.expect("enqueue"));
        }
        let first = store.next_outgoing(now).await.expect("next").expect("row");
        store.record_attempt(first.id, "sent", None, now, now).await.expect("attempt");
        let second = store.next_outgoing(now).await.expect("next").expect("row");
        store.record_attempt(second.id, "failed", Some("550 no such user"), now, now).await.expect("attempt");

        store.reset_statistics(now).await.expect("reset");
        let s = store.statistics(now).await.expect("stats");

        assert_eq!((s.pending_inbound, s.outbox_pending, s.outbox_failed), (1, 2, 1), "{}", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

// --- HTTP ------------------------------------------------------------------

async fn pass(p: &Pipeline, mailbox: &MemoryMailbox) {
    for _ in 0..10 {
        let connector = MemoryConnector::new("support", mailbox.clone(), Some("Processed"), Some("Failed"));
        let mut source = connector.connect().await.expect("connect");
        ingest::cycle(p, source.as_mut(), "support").await.expect("cycle");
        if p.store.count_by_status(Status::Pending).await.expect("count") == 0 {
            return;
        }
    }
    panic!("mail still pending");
}

/// Parse exposition text strictly: every line is `# HELP`, `# TYPE` or a
/// sample `name{label="value",…} value`; each family has one HELP and one
/// TYPE before its samples; no series twice. Returns series → value.
fn parse_exposition(text: &str) -> BTreeMap<String, f64> {
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

fn settings_with_key(db_url: &str, jira_url: &str, key_file: &std::path::Path) -> mailgate::config::Settings {
    let extra = format!("\n[secrets]\nmaster_key_file = \"{}\"\n", key_file.display());
    settings(db_url, jira_url, None, &extra)
}

#[tokio::test]
async fn mails_through_the_pipeline_show_in_api_stats_and_metrics() {
    common::init();
    for db in TestDb::all().await {
        // Arrange: mail processed on two days, the admin API on the same clock.
        let jira = fake_jira().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join("master.key");
        std::fs::write(&key_file, "ab".repeat(32)).expect("key");
        let settings = settings_with_key(&db.url, &jira.base_url(), &key_file);
        let clock = Arc::new(ManualClock::at(at("2026-03-09T09:00:00Z")));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let p = mailgate::app::build_pipeline(&settings, dyn_clock.clone()).await.expect("pipeline");
        let tokens = mailgate::app::token_service(&settings, p.store.clone(), dyn_clock).expect("tokens");
        let tokens = Arc::new(tokens);
        let state = AdminState {
            tokens: tokens.clone(),
            api_key: Arc::new(SecretString::from(API_KEY)),
            notifier: None,
            webhook_secret: None,
        };
        let (_stop, rx) = tokio::sync::watch::channel(false);
        let (addr, _server) = mailgate::http::serve("127.0.0.1:0", state, rx).await.expect("serve");
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();

        let mailbox = MemoryMailbox::new();
        let first = mail("req1@c.test", "ann@c.test", "help@corp.test", "Printer broken", "", "It is broken.");
        mailbox.append(&first);
        let auto = "Auto-Submitted: auto-replied\r\n";
        mailbox.append(&mail("ooo@c.test", "bob@c.test", "help@corp.test", "Out of office", auto, "Away."));
        mailbox.append(&first);
        let bulk = "Precedence: bulk\r\n";
        mailbox.append(&mail("news@c.test", "news@c.test", "help@corp.test", "Newsletter", bulk, "News."));
        pass(&p, &mailbox).await;
        let key = jira.issues().first().expect("an issue").key.clone();

        clock.advance(Duration::days(1));
        let reply =
            mail("re1@c.test", "ann@c.test", "help@corp.test", &format!("Re: [{key}] Printer broken"), "", "Ok");
        mailbox.append(&reply);
        pass(&p, &mailbox).await;
        let expires = NaiveDate::from_ymd_opt(2026, 4, 9).expect("date");
        let admin = EmailAddress::parse("admin@corp.test").expect("address");
        tokens.set(&admin, &SecretString::from("ATATT-stats-token"), Some(expires)).await.expect("token set");
        let days_left = tokens.status().await.expect("status").days_left.expect("days left");

        // Act + assert: /api/stats needs the key and has the exact numbers.
        let unauth = http.get(format!("{base}/api/stats")).send().await.expect("call");
        assert_eq!(unauth.status(), 401, "{}", db.label);
        let stats: serde_json::Value = http
            .get(format!("{base}/api/stats"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("call")
            .json()
            .await
            .expect("json");
        assert_eq!(stats["issues_created"], serde_json::json!({"today": 0, "yesterday": 1, "total": 1}), "{stats}");
        assert_eq!(stats["comments_added"], serde_json::json!({"today": 1, "yesterday": 0, "total": 1}), "{stats}");
        assert_eq!(stats["failures"], serde_json::json!({"today": 0, "yesterday": 0, "total": 0}), "{stats}");
        assert_eq!(
            stats["ignored_by_reason"],
            serde_json::json!({"auto_submitted": 1, "duplicate": 1, "precedence": 1}),
            "{stats}"
        );
        assert_eq!(stats["pending_inbound"], 0);
        assert_eq!(stats["reset_at"], serde_json::Value::Null);

        // /metrics: no key, valid exposition, the same numbers.
        let resp = http.get(format!("{base}/metrics")).send().await.expect("call");
        assert_eq!(resp.status(), 200);
        let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
        let m = parse_exposition(&resp.text().await.expect("body"));
        assert_eq!(m["mailgate_issues_created_total"], 1.0, "{m:?}");
        assert_eq!(m["mailgate_comments_added_total"], 1.0);
        assert_eq!(m["mailgate_failures_total"], 0.0);
        assert_eq!(m["mailgate_ignored_total{reason=auto_submitted}"], 1.0);
        assert_eq!(m["mailgate_ignored_total{reason=duplicate}"], 1.0);
        assert_eq!(m["mailgate_ignored_total{reason=precedence}"], 1.0);
        assert_eq!(m["mailgate_ignored_total{reason=delivery_report}"], 0.0);
        assert_eq!(m["mailgate_inbound_pending"], 0.0);
        assert_eq!(m["mailgate_outbox_pending"], 0.0);
        assert_eq!(m["mailgate_outbox_failed"], 0.0);
        assert_eq!(m["mailgate_token_days_left"], days_left as f64);
        assert_eq!(days_left, 30);

        // Reset: needs the key, zeroes the counters; later mail counts again.
        let unauth = http.post(format!("{base}/api/stats/reset")).send().await.expect("call");
        assert_eq!(unauth.status(), 401);
        let reset = http.post(format!("{base}/api/stats/reset")).bearer_auth(API_KEY).send().await.expect("call");
        assert_eq!(reset.status(), 200);
        let after: serde_json::Value = reset.json().await.expect("json");
        assert_eq!(after["issues_created"]["total"], 0, "{after}");
        assert_eq!(after["ignored_by_reason"], serde_json::json!({}));
        assert_eq!(after["reset_at"], "2026-03-10T09:00:00.000Z");
        let m = parse_exposition(
            &http.get(format!("{base}/metrics")).send().await.expect("call").text().await.expect("body"),
        );
        assert_eq!(m["mailgate_issues_created_total"], 0.0);
        assert_eq!(m["mailgate_comments_added_total"], 0.0);
        assert!(m.iter().filter(|(k, _)| k.starts_with("mailgate_ignored_total")).all(|(_, v)| *v == 0.0), "{m:?}");
        assert_eq!(m["mailgate_stats_reset_timestamp_seconds"], at("2026-03-10T09:00:00Z").timestamp() as f64);

        mailbox.append(&mail("req2@c.test", "cid@c.test", "help@corp.test", "Screen dark", "", "Dark."));
        pass(&p, &mailbox).await;
        let m = parse_exposition(
            &http.get(format!("{base}/metrics")).send().await.expect("call").text().await.expect("body"),
        );
        assert_eq!(m["mailgate_issues_created_total"], 1.0, "{}", db.label);

        // /readyz: 200 while the database answers, 503 once it is gone.
        let ready = http.get(format!("{base}/readyz")).send().await.expect("call");
        assert_eq!(ready.status(), 200);
        assert_eq!(ready.json::<serde_json::Value>().await.expect("json"), serde_json::json!({"ready": true}));
        p.store.close().await;
        let gone = http.get(format!("{base}/readyz")).send().await.expect("call");
        assert_eq!(gone.status(), 503, "{}", db.label);
        assert_eq!(gone.json::<serde_json::Value>().await.expect("json"), serde_json::json!({"ready": false}));
        db.cleanup().await;
    }
}
