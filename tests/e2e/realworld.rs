//! Real-world shapes end to end (issue 12): mail a person opened in another
//! client first, Message-IDs reused by different mails, and a legacy-charset
//! mail from our fixtures, through Dovecot into the fake Jira.

use mailgate::jira::adf_to_text;
use mailgate_testkit::{TestApp, TestDb, fixture, mail};

#[tokio::test]
async fn a_mail_read_in_another_client_first_is_still_taken() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).with_imap().spawn().await;
        // Read before mailgate ever looked at the folder: history, not new mail.
        let old =
            mail("old@customer.test", "ann@customer.test", "help@corp.test", "Old and read", "", "Done long ago.");
        app.imap_append_seen(&old).await;
        app.pass_imap().await;
        assert!(app.jira.issues().is_empty(), "{}", app.label());

        let read =
            mail("read@customer.test", "ann@customer.test", "help@corp.test", "Opened by a colleague", "", "Hi.");
        app.imap_append_seen(&read).await;
        let stats = app.pass_imap().await;

        assert_eq!(stats.stored, 1, "{}", app.label());
        let issues = app.jira.issues();
        assert_eq!(issues.len(), 1, "{}", app.label());
        assert_eq!(issues[0].summary, "Opened by a colleague");
        assert_eq!(app.imap_counts("Processed").await, (1, 0), "{}", app.label());
        // The next pass finds nothing new.
        assert_eq!(app.pass_imap().await.stored, 0, "{}", app.label());
    }
}

#[tokio::test]
async fn only_unseen_mail_is_taken_when_configured() {
    let app = TestApp::builder().with_imap().set("inbound.only_unseen", true).spawn().await;
    app.pass_imap().await;
    app.imap_append_seen(&mail("r@c.test", "ann@customer.test", "help@corp.test", "Read", "", "Hi.")).await;
    app.imap_append(&mail("u@c.test", "ann@customer.test", "help@corp.test", "Unread", "", "Hi.")).await;
    app.pass_imap().await;
    let summaries: Vec<String> = app.jira.issues().into_iter().map(|i| i.summary).collect();
    assert_eq!(summaries, vec!["Unread".to_string()]);
}

#[tokio::test]
async fn a_reused_message_id_with_other_content_is_new_mail_and_logged() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).with_imap().spawn().await;
        let first = mail("fixed@mailer.test", "ann@customer.test", "help@corp.test", "Printer", "", "It jams.");
        let other = mail("fixed@mailer.test", "bob@customer.test", "help@corp.test", "Scanner", "", "It hums.");
        app.imap_append(&first).await;
        app.imap_append(&other).await;
        // The first mail once more (another delivery): a duplicate.
        app.imap_append(&first).await;

        let stats = app.pass_imap().await;

        assert_eq!(stats.processed, 3, "{}", app.label());
        let mut summaries: Vec<String> = app.jira.issues().into_iter().map(|i| i.summary).collect();
        summaries.sort();
        assert_eq!(summaries, vec!["Printer".to_string(), "Scanner".to_string()], "{}", app.label());
        let store = app.store().await;
        let log = store.recent_log(10).await.expect("log");
        let details: Vec<String> = log.iter().filter_map(|e| e.detail.clone()).collect();
        assert!(details.iter().any(|d| d.contains("duplicate Message-ID")), "{details:?}");
        let f = mailgate::store::AuditFilter { inbound_id: None, message_id: None, since_ms: None, limit: 200 };
        let audit = store.audit_entries(&f).await.expect("audit");
        assert!(audit.iter().any(|e| e.detail.contains("Message-ID reused")), "{audit:?}");
    }
}

#[tokio::test]
async fn a_legacy_charset_mail_reaches_jira_decoded() {
    let app = TestApp::builder().with_imap().spawn().await;
    app.imap_append(&fixture("realworld/charset-iso-2022-jp.eml")).await;
    app.pass_imap().await;
    let issues = app.jira.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].summary, "\u{30c6}\u{30b9}\u{30c8}\u{306e}\u{4ef6}");
    let description = adf_to_text(&issues[0].description);
    assert!(description.contains("\u{5c71}\u{7530}\u{592a}\u{90ce}"), "display name: {description}");
    assert!(description.contains("\u{6dfb}\u{4ed8}\u{3092}\u{3054}\u{78ba}\u{8a8d}"), "{description}");
    let names: Vec<&str> = issues[0].attachments.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, vec!["\u{30c6}\u{30b9}\u{30c8}.txt"]);
}
