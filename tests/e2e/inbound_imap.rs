//! End to end against a real Dovecot and the fake Jira, on SQLite and
//! PostgreSQL: mail in an IMAP inbox becomes exactly one issue or comment,
//! and is acknowledged only once that is committed.

use std::time::Duration;

use mailgate::jira::adf_to_text;
use mailgate::mailbox::{ImapConnector, MailConnector};
use mailgate_testkit::fake_jira::Fault;
use mailgate_testkit::{TestApp, TestDb, dovecot, fixture, mail, shared, wait_until};

#[tokio::test]
async fn a_new_mail_creates_exactly_one_issue_with_its_attachments() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).with_imap().spawn().await;
        app.imap_append(&fixture("with-attachments.eml")).await;

        let stats = app.pass_imap().await;

        assert_eq!(stats.stored, 1, "{}", app.label());
        let issues = app.jira.issues();
        assert_eq!(issues.len(), 1, "{}", app.label());
        let issue = &issues[0];
        assert_eq!(issue.key, "HELP-1");
        assert_eq!(issue.summary, "VPN does not connect");
        assert_eq!(issue.labels, vec!["email".to_string()]);
        let description = adf_to_text(&issue.description);
        assert!(description.contains("Gr\u{fc}\u{df}e, the VPN client shows error 809"), "{description}");
        assert!(description.contains("fix.exe (extension .exe is blocked)"), "{description}");
        let mut names: Vec<&str> = issue.attachments.iter().map(|a| a.filename.as_str()).collect();
        names.sort();
        assert_eq!(names, vec!["R\u{e9}sum\u{e9} VPN.pdf", "screen shot.png"]);
        let png = issue.attachments.iter().find(|a| a.filename.ends_with(".png")).expect("png");
        assert_eq!(png.data, fixture("png.bin"));
        assert_eq!(png.mime_type, "image/png");
        assert_eq!(app.jira.count_calls("POST /rest/api/3/issue/HELP-1/attachments"), 2);
        // Acknowledged: moved to Processed, marked seen, nothing left in INBOX.
        assert_eq!(app.imap_counts("INBOX").await, (0, 0), "{}", app.label());
        assert_eq!(app.imap_counts("Processed").await, (1, 0), "{}", app.label());

        // A second pass finds nothing new and creates nothing.
        let again = app.pass_imap().await;
        assert_eq!((again.stored, again.processed), (0, 0));
        assert_eq!(app.jira.issues().len(), 1);
    }
}

/// The customer of the reply test.
const DANA: &str = "Dana <dana@customer.test>";

#[tokio::test]
async fn replies_by_subject_key_and_by_in_reply_to_become_comments() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).with_imap().spawn().await;
        app.imap_append(&mail("orig@customer.test", DANA, "help@corp.test", "Laptop broken", "", "Screen is black."))
            .await;
        app.pass_imap().await;
        assert_eq!(app.jira.issues().len(), 1);

        app.imap_append(&mail(
            "r1@customer.test",
            DANA,
            "help@corp.test",
            "AW: [HELP-1] Laptop broken",
            "",
            "Still black.\r\n\r\nOn Mon, 23 Nov 2026, Help wrote:\r\n> old",
        ))
        .await;
        // Reply by In-Reply-To only: the subject carries no key.
        app.imap_append(&mail(
            "r2@customer.test",
            DANA,
            "help@corp.test",
            "Re: Laptop broken",
            "In-Reply-To: <orig@customer.test>\r\n",
            "Now it works.",
        ))
        .await;
        let stats = app.pass_imap().await;
        assert_eq!(stats.processed, 2, "{}", app.label());

        let issues = app.jira.issues();
        assert_eq!(issues.len(), 1, "replies must not create issues ({})", app.label());
        let comments: Vec<String> = issues[0].comments.iter().map(|c| adf_to_text(&c.body)).collect();
        assert_eq!(comments.len(), 2, "{comments:?}");
        assert!(comments[0].contains("Still black.") && !comments[0].contains("old"), "{comments:?}");
        assert!(comments[1].contains("Now it works."), "{comments:?}");
        assert_eq!(app.imap_counts("Processed").await, (3, 0));
    }
}

#[tokio::test]
async fn auto_replies_bounces_own_mail_and_duplicates_create_nothing() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).with_imap().spawn().await;
        app.imap_append(&mail(
            "ooo@customer.test",
            "eve@customer.test",
            "help@corp.test",
            "Out of office",
            "Auto-Submitted: auto-replied\r\n",
            "Away.",
        ))
        .await;
        app.imap_append(&shared("corpora/sisimai-set-of-emails/maildir/bsd/rfc3464-01.eml")).await;
        app.imap_append(&mail("own@corp.test", "help@corp.test", "help@corp.test", "Loop?", "", "Our own mail.")).await;
        let once = mail("dup@customer.test", "fred@customer.test", "help@corp.test", "Same mail twice", "", "Hello.");
        app.imap_append(&once).await;
        app.imap_append(&once).await;

        let stats = app.pass_imap().await;

        assert_eq!(stats.processed, 5, "{}", app.label());
        let issues = app.jira.issues();
        assert_eq!(issues.len(), 1, "only the duplicated mail creates an issue, once ({})", app.label());
        assert_eq!(issues[0].summary, "Same mail twice");
        assert_eq!(app.jira.count_calls("POST /rest/api/3/issue"), 1);
        // Ignored mails are acknowledged too.
        assert_eq!(app.imap_counts("Processed").await, (5, 0));
        let log = app.store().await.recent_log(10).await.expect("log");
        let reasons: Vec<String> = log.iter().filter_map(|e| e.detail.clone()).collect();
        assert!(reasons.iter().any(|r| r.contains("Auto-Submitted")), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("our own address")), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("duplicate")), "{reasons:?}");
        assert!(
            reasons.iter().any(|r| r.contains("multipart/report") || r.contains("null return path")),
            "{reasons:?}"
        );
    }
}

#[tokio::test]
async fn a_mail_is_not_acknowledged_until_jira_has_it() {
    let app = TestApp::builder().with_imap().spawn().await;
    app.imap_append(&mail("slow@customer.test", "gina@customer.test", "help@corp.test", "Jira is down", "", "Hello."))
        .await;
    app.jira.fail_next(10, Fault::Status(503), Some("POST /rest/api/3/issue"));

    let first = app.pass_imap().await;

    assert_eq!(first.stored, 1);
    assert!(app.jira.issues().is_empty());
    assert_eq!(app.imap_counts("INBOX").await, (1, 1), "still unseen in INBOX while Jira fails");
    assert_eq!(app.imap_counts("Processed").await, (0, 0));

    app.jira.clear_faults();
    let recovered = wait_until(Duration::from_secs(20), || async {
        app.pass_imap().await;
        !app.jira.issues().is_empty()
    })
    .await;
    assert!(recovered, "mail processed after Jira recovers");
    assert_eq!(app.jira.issues().len(), 1);
    assert_eq!(app.imap_counts("INBOX").await, (0, 0));
    assert_eq!(app.imap_counts("Processed").await, (1, 0));
}

#[tokio::test]
async fn idle_picks_up_a_new_mail_without_waiting_for_the_poll_interval() {
    // Poll interval 300 s: only IDLE can bring the mail in within the bound below.
    let app = TestApp::builder().with_imap().spawn().await;
    assert_eq!(app.settings().mailboxes[0].poll_interval_secs, 300);
    let service = app.start_service().await;
    // Let the service connect, find the inbox empty and enter IDLE.
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.imap_append(&mail("idle@customer.test", "hank@customer.test", "help@corp.test", "Pushed by IDLE", "", "Hi."))
        .await;

    let created = wait_until(Duration::from_secs(30), || async { !app.jira.issues().is_empty() }).await;

    assert!(created, "IDLE delivered the mail long before the 300 s poll");
    assert_eq!(app.jira.issues()[0].summary, "Pushed by IDLE");
    let acked = wait_until(Duration::from_secs(10), || async { app.imap_counts("Processed").await == (1, 0) }).await;
    assert!(acked, "the mail was acknowledged once the issue existed");
    service.shutdown().await;
}

#[tokio::test]
async fn implicit_tls_and_starttls_connect_with_a_custom_root() {
    let app = TestApp::builder().with_imap().spawn().await;
    let dovecot = app.dovecot();
    let mut imap = app.imap().await;
    imap.append(&mail("tls@customer.test", "ivy@customer.test", "help@corp.test", "Over TLS", "", "Hi.")).await;
    for (mode, port) in [("implicit", dovecot.tls_port), ("starttls", dovecot.port)] {
        let text = format!(
            r#"
[jira]
flavor = "cloud"
base_url = "{}"
auth = {{ kind = "basic", user = "u", secret = "s" }}
[routing]
default = {{ project = "HELP" }}
[[mailboxes]]
name = "tls"
host = "localhost"
port = {port}
tls = "{mode}"
user = "{}"
password = "{}"
ca_file = "{}"
"#,
            app.jira.base_url(),
            dovecot::USER,
            dovecot::PASSWORD,
            dovecot.cert_path().display()
        );
        let s = mailgate::config::Settings::from_toml_with_env(&text, Vec::new()).expect("settings");
        let connector = ImapConnector::new(&s.mailboxes[0]).expect("connector");
        let mut source = connector.connect().await.unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(source.unseen_uids().await.expect("search").len(), 1, "{mode}");
    }
    imap.logout().await;
}

#[tokio::test]
async fn without_idle_the_mailbox_is_polled() {
    let app = TestApp::builder()
        .with_imap()
        .set("mailboxes.0.idle", false)
        .set("mailboxes.0.poll_interval_secs", 1)
        .spawn()
        .await;
    let service = app.start_service().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.imap_append(&mail("poll@customer.test", "jo@customer.test", "help@corp.test", "Found by polling", "", "Hi."))
        .await;

    let created = wait_until(Duration::from_secs(20), || async { !app.jira.issues().is_empty() }).await;

    assert!(created);
    assert_eq!(app.jira.issues().len(), 1);
    service.shutdown().await;
}

#[tokio::test]
async fn the_service_reconnects_when_the_server_comes_up_later() {
    let port = mailgate_testkit::free_port();
    let app = TestApp::builder().imap_port(port).spawn().await;
    // Nothing listens yet: the loop logs the failure and retries with backoff.
    let service = app.start_service().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let dovecot = dovecot::Dovecot::start_on(port);
    let mut imap = mailgate_testkit::Imap::connect(dovecot.port).await;
    imap.append(&mail("late@customer.test", "kim@customer.test", "help@corp.test", "Server was late", "", "Hi.")).await;

    let created = wait_until(Duration::from_secs(30), || async { !app.jira.issues().is_empty() }).await;

    assert!(created, "the loop reconnected and processed the mail");
    assert_eq!(app.jira.issues().len(), 1);
    service.shutdown().await;
    imap.logout().await;
}
