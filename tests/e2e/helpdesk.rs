//! The help-desk loop end to end, with the service running as in
//! production (Dovecot IDLE, signed webhooks on the admin listener, the
//! notifier and outbox workers, the SMTP sink): a customer mails, an agent
//! answers in Jira, the customer gets exactly one mail, threaded under
//! their own, and their reply to it becomes exactly one comment.

use std::time::Duration;

use mailgate::notify::webhook::sign;
use mailgate_testkit::smtp::{Received, Sink};
use mailgate_testkit::{TestApp, TestAppBuilder, TestDb, mail, wait_until};

const SECRET: &str = "whsec-helpdesk-secret";
const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT-helpdesk-7f3e";

fn helpdesk(db: TestDb) -> TestAppBuilder {
    TestApp::builder()
        .db(db)
        .with_imap()
        .with_smtp()
        .jira_projects(&["HELP"])
        .jira_accepts(ADMIN_USER, ADMIN_TOKEN)
        .master_key(&"5c".repeat(32))
        .unset("routing.rules")
        .set_toml("routing.default", r#"{ project = "HELP", sender_policy = "default-reporter" }"#)
        .toml(&format!(
            r#"
[admin]
listen = "127.0.0.1:0"
[smtp]
from_name = "Help Desk"
[notify]
webhook_secret = "{SECRET}"
catchup_interval_secs = 3600
"#
        ))
}

/// A `comment_created` webhook body as Jira Cloud sends it (the reporter's
/// address left out, as a hidden one is).
fn comment_webhook(key: &str, comment_id: &str, body: &str, reporter: Option<&str>, internal: bool) -> Vec<u8> {
    let mut comment = serde_json::json!({"id": comment_id, "body": body,
        "author": {"accountId": "agent-1", "displayName": "Agent Smith"}});
    if internal {
        comment["jsdPublic"] = serde_json::json!(false);
    }
    serde_json::json!({
        "timestamp": 1_795_000_000_000i64,
        "webhookEvent": "comment_created",
        "issue": {"id": "10001", "key": key, "fields": {
            "summary": "Printer on fire", "project": {"key": "HELP"}, "status": {"name": "Open"},
            "reporter": reporter.map(|a| serde_json::json!({"accountId": a, "displayName": "Hana"})),
            "updated": "2026-11-23T10:00:00.000+0000"}},
        "comment": comment,
    })
    .to_string()
    .into_bytes()
}

async fn post_webhook(base: &str, body: &[u8], delivery: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{base}/webhooks/jira"))
        .header("content-type", "application/json")
        .header("X-Atlassian-Webhook-Identifier", delivery)
        .header("X-Hub-Signature", sign(SECRET.as_bytes(), body))
        .body(body.to_vec())
        .send()
        .await
        .expect("webhook call");
    assert!(answer.status().is_success(), "{}", answer.status());
}

fn to(sink: &Sink, address: &str) -> Vec<Received> {
    sink.received().into_iter().filter(|m| m.rcpt_tos.iter().any(|r| r.eq_ignore_ascii_case(address))).collect()
}

fn header<'a>(m: &'a Received, name: &str) -> Option<&'a str> {
    m.headers().lines().find_map(|l| l.strip_prefix(&format!("{name}: ")[..])).map(str::trim)
}

async fn wait_for_mails(sink: &Sink, address: &str, n: usize) -> Vec<Received> {
    let arrived = wait_until(Duration::from_secs(30), || async { to(sink, address).len() >= n }).await;
    assert!(
        arrived,
        "{n} mail(s) to {address}; got {:?}",
        to(sink, address).iter().map(|m| m.headers()).collect::<Vec<_>>()
    );
    to(sink, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_without_an_account_hears_back_threaded_and_their_reply_is_one_comment() {
    for db in TestDb::all().await {
        let app = helpdesk(db).spawn().await;
        app.set_token(ADMIN_USER, ADMIN_TOKEN).await;
        let sink = app.sink();
        let service = app.start_service().await;
        let base = format!("http://{}", service.admin_addr().expect("admin api"));
        let label = app.label();

        let first = mail(
            "orig-1@customer.test",
            "Carl <carl@customer.test>",
            "help@corp.test",
            "Printer on fire",
            "Cc: Dora <dora@customer.test>\r\n",
            "It smokes.",
        );
        app.imap_append(&first).await;
        let created = wait_until(Duration::from_secs(30), || async { app.jira.issue("HELP-1").is_some() }).await;
        assert!(created, "{label}");
        let ack = wait_for_mails(sink, "carl@customer.test", 1).await;
        assert!(header(&ack[0], "Subject").is_some_and(|s| s.contains("[HELP-1]")), "{}", ack[0].headers());

        // An agent answers in Jira; Jira's webhook tells mailgate.
        let cid = app.jira.add_agent_comment("HELP-1", "We sent a technician.", true).expect("comment");
        post_webhook(&base, &comment_webhook("HELP-1", &cid, "We sent a technician.", None, false), "d-1").await;
        let carl = wait_for_mails(sink, "carl@customer.test", 2).await;
        let answer = &carl[1];
        assert!(
            answer.raw.contains("Agent Smith") && answer.raw.contains("We sent a technician."),
            "{label}: {}",
            answer.raw
        );
        assert!(header(answer, "Subject").is_some_and(|s| s.contains("[HELP-1]")), "{}", answer.headers());
        assert_eq!(
            header(answer, "In-Reply-To"),
            Some("<orig-1@customer.test>"),
            "threaded under their mail: {}",
            answer.headers()
        );
        assert!(header(answer, "Reply-To").is_some_and(|r| r.contains("help@corp.test")), "{}", answer.headers());
        let dora = wait_for_mails(sink, "dora@customer.test", 1).await;
        assert!(dora[0].raw.contains("We sent a technician."), "the Cc'd participant hears it too");

        // An internal note, and Jira delivering the first webhook again: nobody outside hears.
        let note = app.jira.add_agent_comment("HELP-1", "Customer is difficult.", false).expect("note");
        post_webhook(&base, &comment_webhook("HELP-1", &note, "Customer is difficult.", None, true), "d-2").await;
        post_webhook(&base, &comment_webhook("HELP-1", &cid, "We sent a technician.", None, false), "d-3").await;

        // Carl answers our mail; his client keeps the thread, not the key.
        let message_id = header(answer, "Message-ID").expect("Message-ID").to_string();
        let headers = format!("In-Reply-To: {message_id}\r\nReferences: <orig-1@customer.test> {message_id}\r\n");
        app.imap_append(&mail(
            "reply-1@customer.test",
            "Carl <carl@customer.test>",
            "help@corp.test",
            "Re: your mail",
            &headers,
            "Thanks, it works.",
        ))
        .await;
        let commented = wait_until(Duration::from_secs(30), || async {
            app.jira
                .issue("HELP-1")
                .is_some_and(|i| i.comments.iter().any(|c| c.body.to_string().contains("Thanks, it works.")))
        })
        .await;
        assert!(commented, "{label}");
        // Dora hears Carl's comment; Carl does not get his own comment back.
        wait_for_mails(sink, "dora@customer.test", 2).await;
        tokio::time::sleep(Duration::from_secs(3)).await;

        let issue = app.jira.issue("HELP-1").expect("issue");
        let carls = issue.comments.iter().filter(|c| c.body.to_string().contains("Thanks, it works.")).count();
        assert_eq!(carls, 1, "{label}: exactly one comment");
        assert_eq!(app.jira.issues().len(), 1, "{label}: no new issue");
        assert_eq!(to(sink, "carl@customer.test").len(), 2, "{label}: the acknowledgement and the one answer");
        assert_eq!(to(sink, "dora@customer.test").len(), 2, "{label}: the answer and Carl's comment");
        assert!(
            sink.received().iter().all(|m| !m.raw.contains("Customer is difficult.")),
            "{label}: the note stays internal"
        );

        let people = app.store().await.issue_people("HELP-1").await.expect("people");
        let who: Vec<(&str, &str)> = people.iter().map(|p| (p.address.as_str(), p.role.as_str())).collect();
        assert_eq!(who, [("carl@customer.test", "requester"), ("dora@customer.test", "participant")], "{label}");
        let api: serde_json::Value = reqwest::Client::new()
            .get(format!("{base}/api/issues/HELP-1/people"))
            .bearer_auth(mailgate_testkit::ADMIN_API_KEY)
            .send()
            .await
            .expect("api call")
            .json()
            .await
            .expect("json");
        assert_eq!(api["people"][0]["address"], "carl@customer.test", "{api}");
        assert_eq!(api["people"][0]["role"], "requester", "{api}");
        assert_eq!(api["reply_to"], "help@corp.test", "{api}");
        assert_eq!(api["last_message_id"], "reply-1@customer.test", "{api}");
        service.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_holder_with_a_hidden_address_hears_back_by_the_address_they_wrote_from() {
    for db in TestDb::all().await {
        hidden_address_holder(db).await;
    }
}

async fn hidden_address_holder(db: TestDb) {
    let app = helpdesk(db).spawn().await;
    let hana = app.jira.add_user("hana@customer.test", "Hana");
    app.jira.hide_email(&hana);
    app.set_token(ADMIN_USER, ADMIN_TOKEN).await;
    let sink = app.sink();
    let service = app.start_service().await;
    let base = format!("http://{}", service.admin_addr().expect("admin api"));

    app.imap_append(&mail(
        "hana-1@customer.test",
        "Hana <hana@customer.test>",
        "help@corp.test",
        "VPN down",
        "",
        "No VPN.",
    ))
    .await;
    assert!(wait_until(Duration::from_secs(30), || async { app.jira.issue("HELP-1").is_some() }).await);
    wait_for_mails(sink, "hana@customer.test", 1).await;
    let people = app.store().await.issue_people("HELP-1").await.expect("people");
    assert_eq!(people[0].account_id.as_deref(), Some(hana.as_str()), "her account is known: {people:?}");

    // Jira's webhook shows her as reporter without an address.
    let cid = app.jira.add_agent_comment("HELP-1", "Restarted the gateway.", true).expect("comment");
    post_webhook(&base, &comment_webhook("HELP-1", &cid, "Restarted the gateway.", Some(&hana), false), "h-1").await;
    let mails = wait_for_mails(sink, "hana@customer.test", 2).await;
    assert!(mails[1].raw.contains("Restarted the gateway."));
    assert_eq!(header(&mails[1], "In-Reply-To"), Some("<hana-1@customer.test>"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(to(sink, "hana@customer.test").len(), 2, "exactly one answer");
    service.shutdown().await;
}

/// A `jira:issue_updated` webhook body for a resolution.
fn resolved_webhook(key: &str) -> Vec<u8> {
    serde_json::json!({
        "timestamp": 1_795_000_100_000i64,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_resolved",
        "issue": {"id": "10001", "key": key, "fields": {
            "summary": "Printer on fire", "project": {"key": "HELP"}, "status": {"name": "Done"},
            "updated": "2026-11-23T11:00:00.000+0000"}},
        "changelog": {"items": [
            {"field": "resolution", "fromString": null, "toString": "Done"},
            {"field": "status", "fromString": "Open", "toString": "Done"}]}
    })
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_within_the_window_reach_a_customer_as_one_mail_and_the_rule_chooses_which_changes() {
    for (notify, expect_resolution) in [(r#"["resolved"]"#, true), ("[]", false)] {
        let app = helpdesk(TestDb::sqlite())
            .set("notify.merge_window_secs", 3)
            .set_toml("routing.default", &format!(r#"{{ project = "HELP", conversation = {{ notify = {notify} }} }}"#))
            .spawn()
            .await;
        let sink = app.sink();
        let service = app.start_service().await;
        let base = format!("http://{}", service.admin_addr().expect("admin api"));
        app.imap_append(&mail(
            "m-1@customer.test",
            "Carl <carl@customer.test>",
            "help@corp.test",
            "Printer on fire",
            "",
            "It smokes.",
        ))
        .await;
        wait_for_mails(sink, "carl@customer.test", 1).await;

        for (n, text) in ["First answer.", "Second answer."].iter().enumerate() {
            let cid = app.jira.add_agent_comment("HELP-1", text, true).expect("comment");
            post_webhook(&base, &comment_webhook("HELP-1", &cid, text, None, false), &format!("w-{n}")).await;
        }
        post_webhook(&base, &resolved_webhook("HELP-1"), "w-r").await;
        let mails = wait_for_mails(sink, "carl@customer.test", 2).await;
        tokio::time::sleep(Duration::from_secs(5)).await;

        assert_eq!(to(sink, "carl@customer.test").len(), 2, "{notify}: the acknowledgement and one merged mail");
        let merged = &mails[1];
        assert!(merged.raw.contains("First answer.") && merged.raw.contains("Second answer."), "{}", merged.raw);
        assert_eq!(merged.raw.contains("resolution"), expect_resolution, "{notify}: {}", merged.raw);
        let rows = app.store().await.outgoing_of_kind("comment_created").await.expect("rows");
        assert!(rows.iter().all(|r| r.status == mailgate::store::OutboxStatus::Sent), "every row is sent: {rows:?}");
        service.shutdown().await;
    }
}

/// A `jira:issue_updated` webhook body for files added (changelog `Attachment` items).
fn attachment_webhook(key: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let items: Vec<serde_json::Value> = files
        .iter()
        .map(|(id, name)| {
            serde_json::json!({"field": "Attachment", "fieldtype": "jira", "fieldId": "attachment",
            "from": null, "fromString": null, "to": id, "toString": name})
        })
        .collect();
    serde_json::json!({
        "timestamp": 1_795_000_200_000i64,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_updated",
        "issue": {"id": "10001", "key": key, "fields": {
            "summary": "Printer on fire", "project": {"key": "HELP"}, "status": {"name": "Open"},
            "updated": format!("2026-11-23T12:00:0{}.000+0000", files.len())}},
        "changelog": {"items": items}
    })
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_file_is_attached_a_big_one_linked_and_the_customers_own_not_sent_back() {
    let app = helpdesk(TestDb::sqlite()).set("notify.attachment_max_bytes", 2000).spawn().await;
    app.set_token(ADMIN_USER, ADMIN_TOKEN).await;
    let sink = app.sink();
    let service = app.start_service().await;
    let base = format!("http://{}", service.admin_addr().expect("admin api"));
    app.imap_append(&mailgate_testkit::fixture("with-attachments.eml")).await;
    assert!(
        wait_until(Duration::from_secs(30), || async {
            app.jira.issue("HELP-1").is_some_and(|i| !i.attachments.is_empty())
        })
        .await
    );
    let requester = app.store().await.issue_people("HELP-1").await.expect("people")[0].address.clone();
    wait_for_mails(sink, &requester, 1).await;
    let theirs: Vec<(String, String)> = app
        .jira
        .issue("HELP-1")
        .expect("issue")
        .attachments
        .iter()
        .map(|a| (a.id.clone(), a.filename.clone()))
        .collect();

    let small = app.jira.add_agent_attachment("HELP-1", "fix.txt", "text/plain", b"turn it off and on").expect("file");
    let big = app.jira.add_agent_attachment("HELP-1", "manual.pdf", "application/pdf", &[7u8; 5000]).expect("file");
    let mut files: Vec<(&str, &str)> = theirs.iter().map(|(id, n)| (id.as_str(), n.as_str())).collect();
    files.push((&small, "fix.txt"));
    files.push((&big, "manual.pdf"));
    post_webhook(&base, &attachment_webhook("HELP-1", &files), "f-1").await;

    let mails = wait_for_mails(sink, &requester, 2).await;
    let mail = &mails[1];
    assert!(
        mail.raw.contains("filename=\"fix.txt\"") || mail.raw.contains("filename=fix.txt"),
        "attached: {}",
        mail.raw
    );
    assert!(mail.raw.contains("Too large to attach: manual.pdf"), "linked: {}", mail.raw);
    for (_, name) in &theirs {
        assert!(!mail.raw.contains(&format!("filename=\"{name}\"")), "their own {name} is not sent back: {}", mail.raw);
    }
    service.shutdown().await;
}
