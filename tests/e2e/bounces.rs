//! Bounce suppression end to end: only a permanent DSN for a mail we sent
//! suppresses, only its recipient, only for `notify.bounce_suppression_days`;
//! `mailgate bounces list|clear` and `/api/bounces` show and lift it.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use mailgate::clock::{Clock, ManualClock};
use mailgate::domain::EmailAddress;
use mailgate::store::{BounceMark, NewOutgoing, OutboxStatus, Store};
use mailgate_testkit::admin::AdminApi;
use mailgate_testkit::{TestApp, TestDb};

const API_KEY: &str = mailgate_testkit::ADMIN_API_KEY;

/// A mail to `to` that the SMTP server took: its Message-ID.
async fn sent(store: &Store, clock: &dyn Clock, key: &str, to: &str) -> String {
    let id = mailgate::outbound::outbox_message_id(key);
    let now = clock.now_ms();
    let m = NewOutgoing {
        dedupe_key: key,
        kind: "issue_updated",
        recipient: to,
        subject: "[HELP-1] Printer",
        body_text: "Updated.",
        body_html: None,
        message_id: &id,
        in_reply_to: None,
        issue_key: Some("HELP-1"),
        reply_to: None,
        event_id: None,
    };
    assert!(store.enqueue(&m, now).await.expect("enqueue"));
    let me = mailgate::queue::InstanceId::new(clock);
    let row = store.next_outgoing(&me, now).await.expect("next").expect("row");
    store.record_attempt(row.id, OutboxStatus::Sent, None, now, now).await.expect("sent");
    id
}

/// A `multipart/report` from a mailer daemon about the mail `original`.
fn report(own_id: &str, report_type: &str, part_type: &str, fields: &str, original: &str) -> Vec<u8> {
    format!(
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\nTo: help@corp.test\r\n\
         Subject: Delivery Status Notification\r\nMessage-ID: <{own_id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type={report_type}; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/plain\r\n\r\nAbout your message.\r\n\
         --r\r\nContent-Type: {part_type}\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\n{fields}\r\n\
         --r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: help@corp.test\r\nSubject: [HELP-1] Printer\r\n\
         Message-ID: <{original}>\r\n\r\n--r--\r\n"
    )
    .into_bytes()
}

fn dsn(own_id: &str, fields: &str, original: &str) -> Vec<u8> {
    report(own_id, "delivery-status", "message/delivery-status", fields, original)
}

fn failed(to: &str, status: &str) -> String {
    format!("Final-Recipient: rfc822; {to}\r\nAction: failed\r\nStatus: {status}\r\n")
}

async fn bouncing(store: &Store, clock: &dyn Clock, addr: &str) -> bool {
    store.is_bouncing(addr, clock.now_ms()).await.expect("lookup")
}

#[tokio::test]
async fn only_a_permanent_dsn_for_a_mail_we_sent_suppresses_and_only_for_the_configured_days() {
    for db in TestDb::all().await {
        let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("time")));
        let app = TestApp::builder().db(db).clock(clock.clone()).set("notify.bounce_suppression_days", 7).spawn().await;
        let store = app.store().await;
        let to_gone = sent(&store, clock.as_ref(), "event:e1:gone@customer.test", "gone@customer.test").await;
        sent(&store, clock.as_ref(), "event:e1:here@customer.test", "here@customer.test").await;
        let mdn =
            "Final-Recipient: rfc822; gone@customer.test\r\nDisposition: manual-action/MDN-sent-manually; displayed";

        // Forged (a Message-ID we never sent), a read receipt, a delay.
        app.receive(dsn("forged@x.test", &failed("gone@customer.test", "5.1.1"), "never-sent@mailgate.local"));
        app.receive(report(
            "mdn@x.test",
            "disposition-notification",
            "message/disposition-notification",
            mdn,
            &to_gone,
        ));
        let delayed = "Final-Recipient: rfc822; gone@customer.test\r\nAction: delayed\r\nStatus: 4.4.7\r\n";
        app.receive(dsn("delayed@x.test", delayed, &to_gone));
        app.drain().await;

        assert!(!bouncing(&store, clock.as_ref(), "gone@customer.test").await, "{}", app.label());
        assert!(store.bouncing_addresses(clock.now_ms(), true).await.expect("list").is_empty());

        // The real one: also names here@, which this mail did not go to.
        let both = format!("{}\r\n{}", failed("gone@customer.test", "5.1.1"), failed("here@customer.test", "5.2.1"));
        app.receive(dsn("real@x.test", &both, &to_gone));
        app.drain().await;

        assert!(bouncing(&store, clock.as_ref(), "gone@customer.test").await, "{}", app.label());
        assert!(
            !bouncing(&store, clock.as_ref(), "here@customer.test").await,
            "only the recipient of the bounced mail"
        );
        let listed = store.bouncing_addresses(clock.now_ms(), false).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(listed[0].message_id.as_deref(), Some(to_gone.as_str()));

        clock.advance(Duration::days(7) - Duration::seconds(1));
        assert!(bouncing(&store, clock.as_ref(), "gone@customer.test").await, "still within 7 days");
        clock.advance(Duration::seconds(2));
        assert!(!bouncing(&store, clock.as_ref(), "gone@customer.test").await, "expired after 7 days");
        assert!(store.bouncing_addresses(clock.now_ms(), false).await.expect("list").is_empty());
        assert_eq!(store.bouncing_addresses(clock.now_ms(), true).await.expect("list").len(), 1, "kept, expired");
    }
}

/// Suppress `addr` until `expires_at`.
async fn mark(store: &Store, addr: &str, expires_at: i64) {
    let email = EmailAddress::parse(addr).expect("address");
    let m = BounceMark { email: &email, reason: "test bounce", message_id: None, status: "5.1.1", expires_at };
    store.mark_bouncing(&m, 0).await.expect("mark");
}

#[tokio::test]
async fn bounces_are_listed_and_cleared_with_the_cli() {
    let app = TestApp::spawn().await;
    let store = app.store().await;
    mark(&store, "gone@customer.test", i64::MAX).await;
    mark(&store, "old@customer.test", 1).await;
    let run = |args: &[&str]| app.command(crate::MAILGATE).arg("bounces").args(args).output().expect("runs");

    let list = run(&["list", "--format", "json"]);
    let stdout = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(list.status.success(), "{stdout}{}", String::from_utf8_lossy(&list.stderr));
    let rows: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(rows.len(), 1, "the expired one is not listed: {stdout}");
    assert_eq!(rows[0]["email"], "gone@customer.test");
    assert_eq!(rows[0]["status"], "5.1.1");
    let all = String::from_utf8_lossy(&run(&["list", "--all"]).stdout).to_string();
    assert!(
        all.contains("gone@customer.test") && all.contains("old@customer.test") && all.contains("expired"),
        "{all}"
    );

    let clear = run(&["clear", "Gone@Customer.test"]);
    assert!(clear.status.success(), "{}", String::from_utf8_lossy(&clear.stderr));

    assert!(!store.is_bouncing("gone@customer.test", 0).await.expect("lookup"));
    assert!(!run(&["clear", "gone@customer.test"]).status.success(), "clearing it again is an error");
    assert!(String::from_utf8_lossy(&run(&["list"]).stdout).trim().is_empty());
}

#[tokio::test]
async fn bounces_are_listed_and_cleared_with_the_admin_api() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).master_key(&"ab".repeat(32)).spawn().await;
        let store = app.store().await;
        mark(&store, "gone@customer.test", i64::MAX).await;
        mark(&store, "old@customer.test", 1).await;
        let clock: Arc<dyn Clock> = Arc::new(mailgate::clock::SystemClock);
        let tokens = app.token_service(store.clone(), clock.clone());
        let api = AdminApi::serve(Arc::new(tokens), store.clone(), clock).await;
        let http = reqwest::Client::new();
        let url = |p: &str| format!("{}/api/bounces{p}", api.base);

        assert_eq!(http.get(url("")).send().await.expect("call").status(), 401);
        assert_eq!(http.delete(url("/gone@customer.test")).send().await.expect("call").status(), 401);
        let listed: serde_json::Value =
            http.get(url("")).bearer_auth(API_KEY).send().await.expect("call").json().await.expect("json");
        let all: serde_json::Value =
            http.get(url("?all=true")).bearer_auth(API_KEY).send().await.expect("call").json().await.expect("json");
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
        assert_eq!(listed[0]["email"], "gone@customer.test");
        assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");

        let cleared = http.delete(url("/gone@customer.test")).bearer_auth(API_KEY).send().await.expect("call");
        assert_eq!(cleared.status(), 200, "{}", app.label());

        assert!(!store.is_bouncing("gone@customer.test", 0).await.expect("lookup"));
        let again = http.delete(url("/gone@customer.test")).bearer_auth(API_KEY).send().await.expect("call");
        assert_eq!(again.status(), 404);
        let bad = http.delete(url("/not-an-address")).bearer_auth(API_KEY).send().await.expect("call");
        assert_eq!(bad.status(), 400);
    }
}
