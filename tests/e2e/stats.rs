//! Statistics: per-UTC-day counts from the processing log, ignored mail by
//! reason, reset, the queue gauges, and the HTTP side (`/api/stats`,
//! `/api/stats/reset`, `/metrics`, `/readyz`), on SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use mailgate::classify::IgnoreReason;
use mailgate::clock::ManualClock;
use mailgate::domain::{EmailAddress, IssueKey, MessageId};
use mailgate::stats::{Counts, Statistics};
use mailgate::store::{Action, Finish, LoggedAction, NewInbound, NewOutgoing, OutboxStatus, Status, Store};
use mailgate_testkit::admin::AdminApi;
use mailgate_testkit::metrics::parse_exposition;
use mailgate_testkit::{TestApp, TestDb, mail};
use secrecy::SecretString;

use mailgate_testkit::ADMIN_API_KEY as API_KEY;

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
        Outcome::Created => (Status::Done, LoggedAction::Jira(Action::Create), None, Some(&key), None),
        Outcome::Commented => (Status::Done, LoggedAction::Jira(Action::Comment), None, Some(&key), None),
        Outcome::Failed => (Status::Failed, LoggedAction::None, Some("jira"), None, Some("Jira answered 400")),
        Outcome::Ignored(text) => (Status::Ignored, LoggedAction::Ignore, Some(text), None, None),
        Outcome::Rejected => (Status::Ignored, LoggedAction::Reject, Some("sender rejected by policy"), None, None),
    };
    let detail = if issue_key.is_some() { Some("routed to project HELP") } else { None };
    let f = Finish { status, action, reason, issue_key, message_id: Some(&mid), error, detail };
    store.finish(&row, &f, ms).await.expect("finish");
}

#[tokio::test]
async fn counts_split_into_today_yesterday_and_total_by_utc_day() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        let store = app.store().await;
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

        assert_eq!(s.issues_created, counts(2, 2, 5), "{}", app.label());
        assert_eq!(s.comments_added, counts(2, 1, 3), "{}", app.label());
        assert_eq!(s.failures, counts(1, 1, 2), "{}", app.label());
        assert_eq!(s.ignored_by_reason, BTreeMap::from([("duplicate".to_string(), 1)]));
        assert_eq!(s.reset_at, None);

        // A day later: today is empty, yesterday holds what was today.
        let s = store.statistics(at("2026-03-11T00:00:00Z").timestamp_millis()).await.expect("stats");

        assert_eq!(s.issues_created, counts(0, 2, 5), "{}", app.label());
        assert_eq!(s.comments_added, counts(0, 2, 3), "{}", app.label());
        assert_eq!(s.failures, counts(0, 1, 2), "{}", app.label());
    }
}

#[tokio::test]
async fn ignored_and_rejected_mail_is_counted_per_reason_key() {
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
        let app = TestApp::builder().db(db).spawn().await;
        let store = app.store().await;
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
        assert_eq!(s.ignored_by_reason, expected, "{}", app.label());
        assert_eq!(s.issues_created, Counts::default(), "ignored mail creates nothing");
        assert_eq!(s.failures, Counts::default());
    }
}

#[tokio::test]
async fn a_reset_zeroes_the_counts_and_later_events_count_again() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        let store = app.store().await;
        let t = at("2026-03-10T12:00:00Z");
        record(&store, t - Duration::days(1), Outcome::Created).await;
        for outcome in [Outcome::Created, Outcome::Commented, Outcome::Failed, Outcome::Ignored("duplicate Message-ID")]
        {
            record(&store, t, outcome).await;
        }

        store.reset_statistics(t.timestamp_millis()).await.expect("reset");
        let s = store.statistics(t.timestamp_millis()).await.expect("stats");

        let zero = Statistics { reset_at: Some("2026-03-10T12:00:00.000Z".into()), ..Statistics::default() };
        assert_eq!(s, zero, "{}", app.label());

        // Same millisecond as the reset, but logged after it: it counts.
        record(&store, t, Outcome::Created).await;
        record(&store, t, Outcome::Ignored("bulk mail (Precedence: list)")).await;
        record(&store, t + Duration::days(1), Outcome::Commented).await;
        let s = store.statistics((t + Duration::days(1)).timestamp_millis()).await.expect("stats");

        assert_eq!(s.issues_created, counts(0, 1, 1), "{}", app.label());
        assert_eq!(s.comments_added, counts(1, 0, 1), "{}", app.label());
        assert_eq!(s.failures, Counts::default());
        assert_eq!(s.ignored_by_reason, BTreeMap::from([("precedence".to_string(), 1)]));

        // A second reset moves the point again.
        let later = t + Duration::days(2);
        store.reset_statistics(later.timestamp_millis()).await.expect("reset");
        let s = store.statistics(later.timestamp_millis()).await.expect("stats");
        assert_eq!(s.issues_created, Counts::default(), "{}", app.label());
        assert_eq!(s.comments_added, Counts::default());
        assert_eq!(s.reset_at.as_deref(), Some("2026-03-12T12:00:00.000Z"));
    }
}

#[tokio::test]
async fn queue_gauges_show_the_current_state_and_survive_a_reset() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        let store = app.store().await;
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
                reply_to: None,
                event_id: None,
            };
            assert!(store.enqueue(&out, now).await.expect("enqueue"));
        }
        let me = mailgate::queue::InstanceId::new(&mailgate::clock::SystemClock);
        let first = store.next_outgoing(&me, now).await.expect("next").expect("row");
        store.record_attempt(first.id, OutboxStatus::Sent, None, now, now).await.expect("attempt");
        let second = store.next_outgoing(&me, now).await.expect("next").expect("row");
        store
            .record_attempt(second.id, OutboxStatus::Failed, Some("550 no such user"), now, now)
            .await
            .expect("attempt");

        store.reset_statistics(now).await.expect("reset");
        let s = store.statistics(now).await.expect("stats");

        assert_eq!((s.pending_inbound, s.outbox_pending, s.outbox_failed), (1, 2, 1), "{}", app.label());
    }
}

// --- HTTP ------------------------------------------------------------------

#[tokio::test]
async fn mails_through_the_pipeline_show_in_api_stats_and_metrics() {
    for db in TestDb::all().await {
        // Arrange: mail processed on two days, the admin API on the same clock.
        let clock = Arc::new(ManualClock::at(at("2026-03-09T09:00:00Z")));
        let app = TestApp::builder().db(db).master_key(&"ab".repeat(32)).clock(clock.clone()).spawn().await;
        let tokens = Arc::new(app.token_service(app.store().await, clock.clone()));
        let admin_api = AdminApi::serve(tokens.clone(), app.store().await, clock.clone()).await;
        let base = admin_api.base.clone();
        let http = reqwest::Client::new();

        let first = mail("req1@c.test", "ann@c.test", "help@corp.test", "Printer broken", "", "It is broken.");
        app.receive(&first);
        let auto = "Auto-Submitted: auto-replied\r\n";
        app.receive(mail("ooo@c.test", "bob@c.test", "help@corp.test", "Out of office", auto, "Away."));
        app.receive(&first);
        let bulk = "Precedence: bulk\r\n";
        app.receive(mail("news@c.test", "news@c.test", "help@corp.test", "Newsletter", bulk, "News."));
        app.drain().await;
        let key = app.jira.issues().first().expect("an issue").key.clone();

        clock.advance(Duration::days(1));
        let reply =
            mail("re1@c.test", "ann@c.test", "help@corp.test", &format!("Re: [{key}] Printer broken"), "", "Ok");
        app.receive(&reply);
        app.drain().await;
        let expires = NaiveDate::from_ymd_opt(2026, 4, 9).expect("date");
        let admin = EmailAddress::parse("admin@corp.test").expect("address");
        tokens.set(&admin, &SecretString::from("ATATT-stats-token"), Some(expires)).await.expect("token set");
        let days_left = tokens.status().await.expect("status").days_left.expect("days left");

        // Act + assert: /api/stats needs the key and has the exact numbers.
        let unauth = http.get(format!("{base}/api/stats")).send().await.expect("call");
        assert_eq!(unauth.status(), 401, "{}", app.label());
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

        app.receive(mail("req2@c.test", "cid@c.test", "help@corp.test", "Screen dark", "", "Dark."));
        app.drain().await;
        let m = parse_exposition(
            &http.get(format!("{base}/metrics")).send().await.expect("call").text().await.expect("body"),
        );
        assert_eq!(m["mailgate_issues_created_total"], 1.0, "{}", app.label());

        // /readyz: 200 while the database answers, 503 once it is gone.
        let ready = http.get(format!("{base}/readyz")).send().await.expect("call");
        assert_eq!(ready.status(), 200);
        assert_eq!(ready.json::<serde_json::Value>().await.expect("json"), serde_json::json!({"ready": true}));
        app.store().await.close().await;
        let gone = http.get(format!("{base}/readyz")).send().await.expect("call");
        assert_eq!(gone.status(), 503, "{}", app.label());
        assert_eq!(gone.json::<serde_json::Value>().await.expect("json"), serde_json::json!({"ready": false}));
    }
}
