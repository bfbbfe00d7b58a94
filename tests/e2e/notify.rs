//! Outbound notifications end to end: signed Jira webhooks, rhai scripts
//! with group recipients resolved through the workaround token, the durable
//! outbox and a real SMTP server; replayed deliveries send nothing new.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::smtp::Sink;
use common::{JIRA_TOKEN, JIRA_USER, TestDb};
use mailgate::config::Settings;
use mailgate::domain::EmailAddress;
use mailgate::fake_jira::{FakeAuth, FakeJira};
use mailgate::notify::event::{Event, EventKind, Origin, Person};
use mailgate::notify::webhook::sign;
use mailgate::notify::{Notifier, NotifyOutcome};
use secrecy::SecretString;

const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT-notify-0a1b2c";
const SECRET: &str = "whsec-test-secret";
const API_KEY: &str = "notify-admin-key";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

struct Env {
    jira: FakeJira,
    settings: Settings,
    dir: tempfile::TempDir,
}

/// Fake Jira with issue HELP-1 (reporter + one watcher), a 120-member group,
/// a master key, the given scripts, SMTP on `smtp_port`, admin API on a free port.
async fn env(db: &TestDb, smtp_port: u16, scripts: &[(&str, &str)]) -> Env {
    let jira = FakeJira::start(
        &["HELP"],
        vec![
            FakeAuth::Basic { user: JIRA_USER.into(), secret: JIRA_TOKEN.into() },
            FakeAuth::Basic { user: ADMIN_USER.into(), secret: ADMIN_TOKEN.into() },
        ],
    )
    .await
    .expect("jira");
    jira.add_group("service-desk-team");
    for n in 0..120 {
        let id = jira.add_user(&format!("agent{n:03}@corp.test"), &format!("Agent {n}"));
        jira.add_member("service-desk-team", &id);
    }
    jira.seed_issue("HELP", "Printer on fire");
    let watcher = jira.add_user("watcher@corp.test", "Wanda Watcher");
    jira.add_watcher("HELP-1", &watcher);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("master.key"), "9a".repeat(32)).expect("key");
    let scripts_dir = dir.path().join("scripts");
    std::fs::create_dir_all(&scripts_dir).expect("scripts dir");
    for (name, source) in scripts {
        std::fs::write(scripts_dir.join(name), source).expect("script");
    }
    let text = format!(
        r#"
[database]
url = "{}"
[jira]
flavor = "cloud"
base_url = "{}"
auth = {{ kind = "basic", user = "{JIRA_USER}", secret = "{JIRA_TOKEN}" }}
timeout_secs = 5
[secrets]
master_key_file = "{}"
[inbound]
own_addresses = ["help@corp.test"]
[routing]
default = {{ project = "HELP" }}
[admin]
listen = "127.0.0.1:0"
api_key = "{API_KEY}"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "help@corp.test"
from_name = "Help Desk"
timeout_secs = 5
[notify]
scripts_dir = "{}"
webhook_secret = "{SECRET}"
catchup_interval_secs = 3600
script_timeout_ms = 500
"#,
        db.url,
        jira.base_url(),
        dir.path().join("master.key").display(),
        scripts_dir.display()
    );
    let settings = Settings::from_toml_with_env(&text, Vec::new()).expect("settings");
    Env { jira, settings, dir }
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

async fn set_token(settings: &Settings) {
    let store = mailgate::store::Store::connect(&settings.database.url).await.expect("store");
    let tokens =
        mailgate::app::token_service(settings, store.clone(), Arc::new(mailgate::clock::SystemClock)).expect("tokens");
    tokens
        .set(&EmailAddress::parse(ADMIN_USER).expect("email"), &SecretString::from(ADMIN_TOKEN), None)
        .await
        .expect("token");
    store.close().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_webhook_mails_each_member_of_a_120_person_group_exactly_once() {
    common::init();
    let db = TestDb::sqlite();
    let smtp_port = free_port();
    let sink = Sink::start(smtp_port, &[]).await;
    let e = env(&db, smtp_port, &[("comment_created.rhai", "add_group(\"service-desk-team\");")]).await;
    set_token(&e.settings).await;
    let service = mailgate::app::Service::start(&e.settings).await.expect("service");
    let base = format!("http://{}", service.admin_addr().expect("admin api"));
    let body = comment_payload("5001", "We are on it.");

    let unsigned = post_webhook(&base, &body, "d-0", None).await;
    assert_eq!(unsigned.status(), 401);
    let forged = post_webhook(&base, &body, "d-0", Some(sign(b"wrong-secret", &body))).await;
    assert_eq!(forged.status(), 401);
    let accepted = post_webhook(&base, &body, "d-1", Some(sign(SECRET.as_bytes(), &body))).await;
    assert_eq!(accepted.status(), 202);

    let all_in = common::wait_until(Duration::from_secs(60), || async { sink.received().len() >= 120 }).await;
    assert!(all_in, "120 mails arrive (got {})", sink.received().len());
    // Jira retries the same delivery; then a new delivery of the same comment.
    let retry = post_webhook(&base, &body, "d-1", Some(sign(SECRET.as_bytes(), &body))).await;
    assert_eq!(retry.status(), 200);
    let again = post_webhook(&base, &body, "d-2", Some(sign(SECRET.as_bytes(), &body))).await;
    assert!(again.status().is_success());
    tokio::time::sleep(Duration::from_secs(2)).await;

    let counts = by_recipient(&sink);
    assert_eq!(counts.len(), 120, "{counts:?}");
    for n in 0..120 {
        assert_eq!(counts.get(&format!("agent{n:03}@corp.test")), Some(&1), "agent{n:03}");
    }
    assert_eq!(e.jira.count_calls("GET /rest/api/3/group/member"), 3, "120 members over three pages, fetched once");
    let mail = &sink.received()[0];
    assert!(mail.headers().contains("Subject: Re: [HELP-1] Printer on fire"), "{}", mail.headers());
    assert!(mail.headers().contains("Auto-Submitted: auto-generated"));
    assert!(mail.raw.contains("We are on it."));
    service.shutdown().await;
    drop(e.dir);
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
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_scripts_fall_back_to_reporter_and_watchers_and_the_service_goes_on() {
    common::init();
    for (name, source) in [
        ("endless loop", "loop { }"),
        ("throws", "let x = 1;\nthrow \"boom\";"),
        ("garbage", "42"),
        ("huge", "let s = \"x\"; loop { s += s; }"),
    ] {
        let db = TestDb::sqlite();
        let e = env(&db, free_port(), &[("comment_created.rhai", source)]).await;
        let pipeline =
            mailgate::app::build_pipeline(&e.settings, Arc::new(mailgate::clock::SystemClock)).await.expect("pipeline");
        let n: Notifier = mailgate::app::build_notifier(&e.settings, &pipeline, Arc::new(mailgate::clock::SystemClock))
            .expect("notifier");
        assert!(n.queue(&event("comment:1")).await.expect("queue"));

        let outcome = n.try_notify_one().await.expect("notify");

        assert_eq!(outcome, NotifyOutcome::Queued { event_id: "comment:1".into(), recipients: 2 }, "{name}");
        let mut to: Vec<String> = pipeline
            .store
            .outgoing_of_kind("comment_created")
            .await
            .expect("rows")
            .into_iter()
            .map(|r| r.recipient)
            .collect();
        to.sort();
        assert_eq!(to, vec!["reporter@customer.test", "watcher@corp.test"], "{name}: defaults");
        // The next event is processed as usual.
        assert!(n.queue(&event("comment:2")).await.expect("queue"));
        assert!(matches!(n.try_notify_one().await.expect("notify"), NotifyOutcome::Queued { .. }), "{name}");
    }
}

#[tokio::test]
async fn missed_webhooks_are_caught_up_once() {
    common::init();
    let db = TestDb::sqlite();
    let e = env(&db, free_port(), &[]).await;
    let pipeline =
        mailgate::app::build_pipeline(&e.settings, Arc::new(mailgate::clock::SystemClock)).await.expect("pipeline");
    let n = mailgate::app::build_notifier(&e.settings, &pipeline, Arc::new(mailgate::clock::SystemClock))
        .expect("notifier");
    // HELP-1's creation came in by webhook; the first pass only sets the cursor.
    let mut created = event("created:HELP-1");
    created.kind = EventKind::IssueCreated;
    assert!(n.queue(&created).await.expect("queue"));
    assert_eq!(mailgate::notify::catchup::catch_up(&n, 100).await.expect("catch up"), 0);
    // While "down": a new issue, and a comment on the old one.
    e.jira.seed_issue("HELP", "Created while we were down");
    let key = mailgate::domain::IssueKey::parse("HELP-1").expect("key");
    pipeline.jira.add_comment(&key, "A comment we missed", None).await.expect("comment");

    let first = mailgate::notify::catchup::catch_up(&n, 100).await.expect("catch up");
    let second = mailgate::notify::catchup::catch_up(&n, 100).await.expect("catch up");

    assert_eq!(first, 2, "one created event and one comment event");
    assert_eq!(second, 0, "nothing raised twice");
    let events = pipeline.store.count_events("pending").await.expect("count");
    assert_eq!(events, 3, "the webhook's event and the two caught up");
    assert!(e.jira.count_calls("GET /rest/api/3/search/jql") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_is_acknowledged_and_a_reply_to_the_acknowledgement_threads_back() {
    use mailgate::mailbox::{MailConnector, MemoryConnector, MemoryMailbox};
    use mailgate::outbox::{DeliveryOutcome, Mailer, RetryPolicy, try_deliver_one};
    common::init();
    let db = TestDb::sqlite();
    let smtp_port = free_port();
    let sink = Sink::start(smtp_port, &[]).await;
    let e = env(&db, smtp_port, &[]).await;
    let clock = Arc::new(mailgate::clock::SystemClock);
    let p = mailgate::app::build_pipeline(&e.settings, clock.clone()).await.expect("pipeline");
    let n = mailgate::app::build_notifier(&e.settings, &p, clock.clone()).expect("notifier");
    let mailer = Mailer::new(e.settings.smtp.as_ref().expect("smtp")).expect("mailer");
    let mailbox = MemoryMailbox::new();
    let connector = MemoryConnector::new("support", mailbox.clone(), Some("Processed"), None);
    let own = vec![EmailAddress::parse("help@corp.test").expect("own")];
    let deliver_all = || async {
        n.drain().await.expect("notify");
        while try_deliver_one(&p.store, &mailer, clock.as_ref(), &RetryPolicy::default(), &own).await.expect("send")
            != DeliveryOutcome::Empty
        {}
    };
    mailbox.append(&common::mail(
        "orig@customer.test",
        "Carl <carl@customer.test>",
        "help@corp.test",
        "Laptop broken",
        "",
        "Black screen.",
    ));

    let mut source = connector.connect().await.expect("connect");
    mailgate::ingest::cycle(&p, source.as_mut(), "support").await.expect("cycle");
    deliver_all().await;

    let acks: Vec<_> =
        sink.received().into_iter().filter(|m| m.rcpt_tos == vec!["carl@customer.test".to_string()]).collect();
    assert_eq!(acks.len(), 1, "one acknowledgement to the sender");
    assert!(acks[0].headers().contains("Subject: [HELP-2] Laptop broken"), "{}", acks[0].headers());
    assert!(acks[0].raw.contains("filed it as HELP-2"), "{}", acks[0].raw);
    let message_id =
        acks[0].headers().lines().find_map(|l| l.strip_prefix("Message-ID: ")).expect("Message-ID").trim().to_string();

    // The customer answers the acknowledgement; the subject lost the key.
    mailbox.append(&common::mail(
        "reply@customer.test",
        "Carl <carl@customer.test>",
        "help@corp.test",
        "Re: your mail",
        &format!("In-Reply-To: {message_id}\r\n"),
        "Also the keyboard.",
    ));
    mailgate::ingest::cycle(&p, source.as_mut(), "support").await.expect("cycle");

    let issue = e.jira.issue("HELP-2").expect("issue");
    assert_eq!(issue.comments.len(), 1, "the reply threads back by In-Reply-To");
    assert_eq!(e.jira.issues().len(), 2, "no new issue for the reply");
    // The reply's own event acknowledges once more, nothing twice.
    deliver_all().await;
    deliver_all().await;
    let to_carl =
        sink.received().into_iter().filter(|m| m.rcpt_tos.contains(&"carl@customer.test".to_string())).count();
    assert_eq!(to_carl, 2);
}

#[test]
fn script_test_prints_the_recipients_of_a_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, "add_user(\"Boss@Corp.test\");\nif event.comment != () { add_group(\"agents\"); }\nremove(\"boss@corp.test\");\nadd_user(event.reporter.email);").expect("script");
    let event = dir.path().join("event.json");
    let mut ev = self::event("comment:9");
    ev.comment = Some(mailgate::notify::event::CommentInfo { id: "9".into(), author: None, body: "hi".into() });
    std::fs::write(&event, serde_json::to_string(&ev).expect("json")).expect("event");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailgate"))
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
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailgate"))
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
    common::init();
    let db = TestDb::sqlite();
    let e = env(
        &db,
        free_port(),
        &[("issue_updated.rhai", "add_role(\"Developers\");\nadd_user(\"gone@customer.test\");")],
    )
    .await;
    let dev = e.jira.add_user("dev@corp.test", "Dev One");
    e.jira.add_group("tiny");
    let tiny = e.jira.add_user("tiny@corp.test", "Tiny");
    e.jira.add_member("tiny", &tiny);
    e.jira.add_role("HELP", "Developers", &[&dev], &["tiny"]);
    set_token(&e.settings).await;
    let p = mailgate::app::build_pipeline(&e.settings, Arc::new(mailgate::clock::SystemClock)).await.expect("pipeline");
    p.store.mark_bouncing("gone@customer.test", "test", 0).await.expect("bounce");
    let n = mailgate::app::build_notifier(&e.settings, &p, Arc::new(mailgate::clock::SystemClock)).expect("notifier");
    let mut ev = event("updated:HELP-1:t1");
    ev.kind = EventKind::IssueUpdated;
    assert!(n.queue(&ev).await.expect("queue"));

    let outcome = n.try_notify_one().await.expect("notify");

    assert_eq!(outcome, NotifyOutcome::Queued { event_id: "updated:HELP-1:t1".into(), recipients: 2 });
    let mut to: Vec<String> =
        p.store.outgoing_of_kind("issue_updated").await.expect("rows").into_iter().map(|r| r.recipient).collect();
    to.sort();
    assert_eq!(to, vec!["dev@corp.test", "tiny@corp.test"], "the role's user and group, not the bouncing address");
}
