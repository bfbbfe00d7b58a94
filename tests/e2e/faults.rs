//! Faults on every side at once: the fake Jira fails a share of all calls
//! (500, 503, 429 with Retry-After, timeouts and 504s after the effect,
//! with the strict fake's 3 s search lag), and
//! Dovecot drops the IMAP connections while mail is processed. Every mail
//! still ends in exactly one issue or comment, and is acknowledged.

use std::time::Duration;

use mailgate_testkit::fake_jira::Fault;
use mailgate_testkit::{TestApp, TestDb, mail};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_jira_and_imap_failing_every_mail_is_processed_exactly_once() {
    for db in TestDb::all().await {
        let app = TestApp::builder()
            .db(db)
            .with_imap()
            .set("jira.timeout_secs", 1)
            .set("inbound.max_attempts", 100)
            .set("mailboxes.0.poll_interval_secs", 1)
            .jira_issue("HELP", "Long thread")
            .spawn()
            .await;
        let mut imap = app.imap().await;
        for n in 0..8 {
            imap.append(&mail(&format!("f{n}@c.test"), "a@c.test", "help@corp.test", &format!("Faulty {n}"), "", "x"))
                .await;
        }
        for n in 0..4 {
            imap.append(&mail(
                &format!("fr{n}@c.test"),
                "a@c.test",
                "help@corp.test",
                "Re: [HELP-1] Long thread",
                "",
                &format!("reply {n}"),
            ))
            .await;
        }
        imap.append(&mailgate_testkit::fixture("with-attachments.eml")).await;
        app.jira.fail_share(
            35,
            vec![
                Fault::Status(500),
                Fault::RateLimit { retry_after_secs: 1 },
                Fault::SlowAfterEffect(Duration::from_millis(1500)),
                Fault::Status(503),
                Fault::StatusAfterEffect(504),
            ],
            7,
        );

        let service = app.start_service().await;
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(700)).await;
            app.dovecot().kick();
        }
        let done = mailgate_testkit::wait_until(Duration::from_secs(120), || async {
            app.imap_counts("Processed").await.0 == 13
        })
        .await;
        service.shutdown().await;
        app.jira.clear_faults();

        assert!(done, "{}: all 13 mails acknowledged", app.label());
        let mut summaries: Vec<String> = app.jira.issues().into_iter().map(|i| i.summary).collect();
        summaries.sort();
        let mut want: Vec<String> = (0..8).map(|n| format!("Faulty {n}")).collect();
        want.push("Long thread".into());
        want.push("VPN does not connect".into());
        want.sort();
        assert_eq!(summaries, want, "{}: one issue per new mail", app.label());
        let thread = app.jira.issue("HELP-1").expect("HELP-1");
        assert_eq!(thread.comments.len(), 4, "{}: one comment per reply", app.label());
        let vpn = app.jira.issues().into_iter().find(|i| i.summary == "VPN does not connect").expect("vpn");
        assert_eq!(vpn.attachments.len(), 2, "{}: attachments once", app.label());
        let mut imap = app.imap().await;
        assert_eq!(imap.counts("INBOX").await, (0, 0));
        assert_eq!(imap.counts("Processed").await, (13, 0));
        imap.logout().await;
    }
}
