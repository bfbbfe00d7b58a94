//! Outbound notifications end to end: signed Jira webhooks, rhai scripts
//! with group recipients resolved through the workaround token, the durable
//! outbox and a real SMTP server; replayed deliveries send nothing new.

use std::collections::HashMap;
use std::time::Duration;

use mailgate::domain::EmailAddress;
use mailgate::notify::event::{Event, EventKind, Origin, Person};
use mailgate::notify::webhook::sign;
use mailgate::notify::{Notifier, NotifyOutcome};
use mailgate::store::BounceMark;
use mailgate_testkit::smtp::Sink;
use mailgate_testkit::{TestApp, TestAppBuilder, mail, wait_until};

const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT-notify-0a1b2c";
const SECRET: &str = "whsec-test-secret";

/// HELP only, the workaround token accepted, a master key, the admin API on
/// a free port, SMTP from "Help Desk", and `scripts` in the scripts folder.
/// Pick the SMTP side (`with_smtp()` or `smtp_nowhere()`) on the result.
fn notify_app(scripts: &[(&str, &str)]) -> TestAppBuilder {
    let mut builder = TestApp::builder()
        .jira_projects(&["HELP"])
        .jira_accepts(ADMIN_USER, ADMIN_TOKEN)
        .master_key(&"9a".repeat(32))
        .unset("jira.max_retries")
        .unset("inbound.retry_base_ms")
        .unset("routing")
        .toml(&format!(
            r#"
[routing]
default = {{ project = "HELP" }}
[admin]
listen = "127.0.0.1:0"
[smtp]
from_name = "Help Desk"
[notify]
scripts_dir = "{{dir}}/scripts"
webhook_secret = "{SECRET}"
catchup_interval_secs = 3600
script_timeout_ms = 500
"#
        ));
    builder = builder.mkdir("scripts");
    for (name, source) in scripts {
        builder = builder.file(&format!("scripts/{name}"), source);
    }
    builder
}

/// Start it, with HELP-1 (reporter + one watcher) and a 120-member group in Jira.
async fn spawn(builder: TestAppBuilder) -> TestApp {
    let app = builder.spawn().await;
    app.jira.add_group("service-desk-team");
    for n in 0..120 {
        let id = app.jira.add_user(&format!("agent{n:03}@corp.test"), &format!("Agent {n}"));
        app.jira.add_member("service-desk-team", &id);
    }
    app.jira.seed_issue("HELP", "Printer on fire");
    let watcher = app.jira.add_user("watcher@corp.test", "Wanda Watcher");
    app.jira.add_watcher("HELP-1", &watcher);
    app
}

fn comment_payload(comment_id: &str, body: &str) -> Vec<u8> {
    serde_json::json!({
        "timestamp": 1_795_000_000_000i64,
        "webhookEvent": "comment_created",
        "issue": {"id": "10001", "key": "HELP-1", "fields": {
            "summary": "Printer on fire", "project": {"key": "HELP"}, "status": {"name": "Open"},
            "reporter": {"accountId": "r-1", "emailAddress": "reporter@customer.test", "displayName": "Rita Reporter"},
            "updated": "2026-11-23T10:00:00.000+0000"}},
        "comment": {"id": comment_id, "body": body, "author": {"accountId": "a-1", "displayName": "Agent Smith"}}
    })
    .to_string()
    .into_bytes()
}

async fn post_webhook(base: &str, body: &[u8], delivery: &str, signature: Option<String>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/webhooks/jira"))
        .header("content-type", "application/json")
        .header("X-Atlassian-Webhook-Identifier", delivery)
        .body(body.to_vec());
    if let Some(sig) = signature {
        req = req.header("X-Hub-Signature", sig);
    }
    req.send().await.expect("webhook call")
}

/// Who the queued mails of `kind` go to, sorted.
async fn recipients(app: &TestApp, kind: &str) -> Vec<String> {
    let rows = app.store().await.outgoing_of_kind(kind).await.expect("rows");
    let mut to: Vec<String> = rows.into_iter().map(|r| r.recipient).collect();
    to.sort();
    to
}

fn by_recipient(sink: &Sink) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for m in sink.received() {
        for r in m.rcpt_tos {
            *counts.entry(r.to_lowercase()).or_insert(0) += 1;
        }
    }
    counts
}

/// Without `webhook_secret` nobody can be told from a forger: the service
/// refuses every call (it used to take unsigned ones) and queues nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_webhook_secret_every_webhook_is_refused_with_503() {
    let app = spawn(notify_app(&[]).unset("notify.webhook_secret").smtp_nowhere()).await;
    let service = app.start_service().await;
    let base = format!("http://{}", service.admin_addr().expect("admin api"));
    let body = comment_payload("5101", "Forged comment.");

    let unsigned = post_webhook(&base, &body, "d-forged", None).await;
    assert_eq!(unsigned.status(), 503);
    let signed = post_webhook(&base, &body, "d-signed", Some(sign(SECRET.as_bytes(), &body))).await;
    assert_eq!(signed.status(), 503, "a signature means nothing without a secret to check it against");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(recipients(&app, "comment_created").await.is_empty(), "nothing is queued");
    service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_webhook_mails_each_member_of_a_120_person_group_exactly_once() {
    let app = spawn(notify_app(&[("comment_created.rhai", "add_group(\"service-desk-team\");")]).with_smtp()).await;
    let sink = app.sink();
    app.set_token(ADMIN_USER, ADMIN_TOKEN).await;
    let service = app.start_service().await;
    let base = format!("http://{}", service.admin_addr().expect("admin api"));
    let body = comment_payload("5001", "We are on it.");

    let unsigned = post_webhook(&base, &body, "d-0", None).await;
    assert_eq!(unsigned.status(), 401);
    let forged = post_webhook(&base, &body, "d-0", Some(sign(b"wrong-secret", &body))).await;
    assert_eq!(forged.status(), 401);
    let accepted = post_webhook(&base, &body, "d-1", Some(sign(SECRET.as_bytes(), &body))).await;
    assert_eq!(accepted.status(), 202);

    let all_in = wait_until(Duration::from_secs(60), || async { sink.received().len() >= 120 }).await;
    assert!(all_in, "120 mails arrive (got {})", sink.received().len());
    // Jira retries the same delivery; then a new delivery of the same comment.
    let retry = post_webhook(&base, &body, "d-1", Some(sign(SECRET.as_bytes(), &body))).await;
    assert_eq!(retry.status(), 200);
    let again = post_webhook(&base, &body, "d-2", Some(sign(SECRET.as_bytes(), &body))).await;
    assert!(again.status().is_success());
    tokio::time::sleep(Duration::from_secs(2)).await;

    let counts = by_recipient(sink);
    assert_eq!(counts.len(), 120, "{counts:?}");
    for n in 0..120 {
        assert_eq!(counts.get(&format!("agent{n:03}@corp.test")), Some(&1), "agent{n:03}");
    }
    assert_eq!(app.jira.count_calls("GET /rest/api/3/group/member"), 3, "120 members over three pages, fetched once");
    let mail = &sink.received()[0];
    assert!(mail.headers().contains("Subject: Re: [HELP-1] Printer on fire"), "{}", mail.headers());
    assert!(mail.headers().contains("Auto-Submitted: auto-generated"));
    assert!(mail.raw.contains("We are on it."));
    service.shutdown().await;
}

fn event(id: &str) -> Event {
    Event {
        id: id.to_string(),
        kind: EventKind::CommentCreated,
        origin: Origin::Webhook,
        issue_key: "HELP-1".into(),
        project: "HELP".into(),
        summary: "Printer on fire".into(),
        status: Some("Open".into()),
        reporter: Some(Person { email: Some("reporter@customer.test".into()), ..Person::default() }),
        assignee: None,
        watchers: Vec::new(),
        comment: None,
        changed: Vec::new(),
        mail_sender: None,
        customers: Vec::new(),
        files: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_scripts_fall_back_to_reporter_and_watchers_and_the_service_goes_on() {
    for (name, source) in [
        ("endless loop", "loop { }"),
        ("throws", "let x = 1;\nthrow \"boom\";"),
        ("garbage", "42"),
        ("huge", "let s = \"x\"; loop { s += s; }"),
    ] {
        let app = spawn(notify_app(&[("comment_created.rhai", source)]).smtp_nowhere()).await;
        let n: Notifier = app.notifier().await;
        assert!(n.queue(&event("comment:1")).await.expect("queue"));

        let outcome = n.try_notify_one().await.expect("notify");

        assert_eq!(outcome, NotifyOutcome::Queued { event_id: "comment:1".into(), recipients: 2 }, "{name}");
        let to = recipients(&app, "comment_created").await;
        assert_eq!(to, vec!["reporter@customer.test", "watcher@corp.test"], "{name}: defaults");
        // The next event is processed as usual.
        assert!(n.queue(&event("comment:2")).await.expect("queue"));
        assert!(matches!(n.try_notify_one().await.expect("notify"), NotifyOutcome::Queued { .. }), "{name}");
    }
}

#[tokio::test]
async fn missed_webhooks_are_caught_up_once() {
    let app = spawn(notify_app(&[]).smtp_nowhere()).await;
    let n = app.notifier().await;
    app.jira.set_search_lag(std::time::Duration::from_millis(500));
    // The API user is west of UTC: JQL dates without a zone are read in
    // their zone, so the catch-up must not write UTC times.
    app.jira.set_user_time_zone("America/Los_Angeles", -8 * 60);
    // HELP-1's creation came in by webhook; the first pass only sets the cursor.
    let mut created = event("created:HELP-1");
    created.kind = EventKind::IssueCreated;
    assert!(n.queue(&created).await.expect("queue"));
    assert_eq!(mailgate::notify::catchup::catch_up(&n, 100).await.expect("catch up"), 0);
    // While "down": a new issue, and a comment on the old one.
    app.jira.seed_issue("HELP", "Created while we were down");
    let key = mailgate::domain::IssueKey::parse("HELP-1").expect("key");
    app.jira_api().await.add_comment(&key, "A comment we missed", None).await.expect("comment");

    // Search lags behind writes (search-and-reconcile); the next pass's
    // overlap with the one before finds what the index had not seen yet.
    let lagging = mailgate::notify::catchup::catch_up(&n, 100).await.expect("catch up");
    assert_eq!(lagging, 0, "the index has not seen the writes yet");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let first = mailgate::notify::catchup::catch_up(&n, 100).await.expect("catch up");
    let second = mailgate::notify::catchup::catch_up(&n, 100).await.expect("catch up");

    assert_eq!(first, 2, "one created event and one comment event");
    assert_eq!(second, 0, "nothing raised twice");
    let events = app.store().await.count_events(mailgate::store::EventStatus::Pending).await.expect("count");
    assert_eq!(events, 3, "the webhook's event and the two caught up");
    assert!(app.jira.count_calls("GET /rest/api/3/search/jql") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_is_acknowledged_and_a_reply_to_the_acknowledgement_threads_back() {
    use mailgate::clock::SystemClock;
    use mailgate::outbound::{DeliveryOutcome, Mailer, RetryPolicy, try_deliver_one};
    let app = spawn(notify_app(&[]).with_smtp()).await;
    let sink = app.sink();
    let (n, store) = (app.notifier().await, app.store().await);
    let mailer = Mailer::new(app.settings().smtp.as_ref().expect("smtp")).expect("mailer");
    let own = vec![EmailAddress::parse("help@corp.test").expect("own")];
    let deliver_all = || async {
        n.drain().await.expect("notify");
        while try_deliver_one(
            &store,
            &mailer,
            &SystemClock,
            &RetryPolicy::default(),
            &own,
            &mailgate::queue::InstanceId::new(&SystemClock),
        )
        .await
        .expect("send")
            != DeliveryOutcome::Empty
        {}
    };
    app.receive(mail(
        "orig@customer.test",
        "Carl <carl@customer.test>",
        "help@corp.test",
        "Laptop broken",
        "",
        "Black screen.",
    ));

    app.pass().await;
    deliver_all().await;

    let acks: Vec<_> =
        sink.received().into_iter().filter(|m| m.rcpt_tos == vec!["carl@customer.test".to_string()]).collect();
    assert_eq!(acks.len(), 1, "one acknowledgement to the sender");
    assert!(acks[0].headers().contains("Subject: [HELP-2] Laptop broken"), "{}", acks[0].headers());
    assert!(acks[0].raw.contains("filed it as HELP-2"), "{}", acks[0].raw);
    let message_id =
        acks[0].headers().lines().find_map(|l| l.strip_prefix("Message-ID: ")).expect("Message-ID").trim().to_string();

    // The customer answers the acknowledgement; the subject lost the key.
    app.receive(mail(
        "reply@customer.test",
        "Carl <carl@customer.test>",
        "help@corp.test",
        "Re: your mail",
        &format!("In-Reply-To: {message_id}\r\n"),
        "Also the keyboard.",
    ));
    app.pass().await;

    let issue = app.jira.issue("HELP-2").expect("issue");
    assert_eq!(issue.comments.len(), 1, "the reply threads back by In-Reply-To");
    assert_eq!(app.jira.issues().len(), 2, "no new issue for the reply");
    // The reply's own event mails nobody its own comment.
    deliver_all().await;
    deliver_all().await;
    let to_carl =
        sink.received().into_iter().filter(|m| m.rcpt_tos.contains(&"carl@customer.test".to_string())).count();
    assert_eq!(to_carl, 1, "the acknowledgement only: never the author's own comment");
}

#[test]
fn script_test_prints_the_recipients_of_a_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, "add_user(\"Boss@Corp.test\");\nif event.comment != () { add_group(\"agents\"); }\nremove(\"boss@corp.test\");\nadd_user(event.reporter.email);").expect("script");
    let event = dir.path().join("event.json");
    let mut ev = self::event("comment:9");
    ev.comment = Some(mailgate::notify::event::CommentInfo {
        id: "9".into(),
        author: None,
        body: "hi".into(),
        visibility: Default::default(),
    });
    std::fs::write(&event, serde_json::to_string(&ev).expect("json")).expect("event");
    let out = std::process::Command::new(crate::MAILGATE)
        .args(["--config", "/nonexistent.toml", "script", "test"])
        .arg(&script)
        .arg("--event")
        .arg(&event)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["users"], serde_json::json!(["reporter@customer.test"]));
    assert_eq!(v["groups"], serde_json::json!(["agents"]));
    std::fs::write(&script, "loop { }").expect("script");
    let out = std::process::Command::new(crate::MAILGATE)
        .args(["script", "test"])
        .arg(&script)
        .arg("--event")
        .arg(&event)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("limit"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_expand_to_users_and_groups_and_bouncing_addresses_are_skipped() {
    let scripts = [("issue_updated.rhai", "add_role(\"Developers\");\nadd_user(\"gone@customer.test\");")];
    let app = spawn(notify_app(&scripts).smtp_nowhere()).await;
    let dev = app.jira.add_user("dev@corp.test", "Dev One");
    app.jira.add_group("tiny");
    let tiny = app.jira.add_user("tiny@corp.test", "Tiny");
    app.jira.add_member("tiny", &tiny);
    app.jira.add_role("HELP", "Developers", &[&dev], &["tiny"]);
    app.set_token(ADMIN_USER, ADMIN_TOKEN).await;
    let (outcome, to) = notify_update_with_gone_suppressed_until(&app, i64::MAX).await;
    assert_eq!(outcome, NotifyOutcome::Queued { event_id: "updated:HELP-1:t1".into(), recipients: 2 });
    assert_eq!(to, vec!["dev@corp.test", "tiny@corp.test"], "the role's user and group, not the bouncing address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_bounce_suppression_no_longer_blocks_notifications() {
    let scripts = [("issue_updated.rhai", "add_user(\"gone@customer.test\");")];
    let app = spawn(notify_app(&scripts).smtp_nowhere()).await;
    app.set_token(ADMIN_USER, ADMIN_TOKEN).await;
    let (outcome, to) = notify_update_with_gone_suppressed_until(&app, 1).await;
    assert_eq!(outcome, NotifyOutcome::Queued { event_id: "updated:HELP-1:t1".into(), recipients: 1 });
    assert_eq!(to, vec!["gone@customer.test"], "the suppression ended (expires_at 1), so it is notified again");
}

/// gone@customer.test suppressed until `expires_at`, then an issue update
/// notified: the outcome and who its mails go to.
async fn notify_update_with_gone_suppressed_until(app: &TestApp, expires_at: i64) -> (NotifyOutcome, Vec<String>) {
    let gone = EmailAddress::parse("gone@customer.test").expect("address");
    let mark = BounceMark { email: &gone, reason: "test", message_id: None, status: "5.1.1", expires_at };
    app.store().await.mark_bouncing(&mark, 0).await.expect("bounce");
    let n = app.notifier().await;
    let mut ev = event("updated:HELP-1:t1");
    ev.kind = EventKind::IssueUpdated;
    assert!(n.queue(&ev).await.expect("queue"));
    let outcome = n.try_notify_one().await.expect("notify");
    (outcome, recipients(app, "issue_updated").await)
}
