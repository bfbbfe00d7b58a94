//! Two `mailgate run` processes on the same mailbox and the same PostgreSQL
//! database: every mail is processed once (row claims with
//! `FOR UPDATE SKIP LOCKED` and a lease), and acknowledged once.

use std::time::Duration;

use mailgate_testkit::process::terminate;
use mailgate_testkit::{TestApp, TestDb, mail, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_process_each_mail_once() {
    let Some(db) = TestDb::postgres().await else { return };
    // Jira's defaults; the mailbox polled every second.
    let app = TestApp::builder()
        .db(db)
        .jira_issue("HELP", "Shared thread")
        .with_imap()
        .unset("jira.timeout_secs")
        .unset("jira.max_retries")
        .unset("inbound.retry_base_ms")
        .unset("routing.rules")
        .set_toml("routing.default", r#"{ project = "HELP" }"#)
        .unset("mailboxes.0.failed_folder")
        .set("mailboxes.0.poll_interval_secs", 1)
        .spawn()
        .await;
    let mut imap = app.imap().await;
    for n in 0..24 {
        if n % 4 == 3 {
            imap.append(&mail(
                &format!("r{n}@c.test"),
                "ann@c.test",
                "help@corp.test",
                "Re: [HELP-1] Shared thread",
                "",
                "reply",
            ))
            .await;
        } else {
            imap.append(&mail(
                &format!("n{n}@c.test"),
                "bob@c.test",
                "help@corp.test",
                &format!("New {n:02}"),
                "",
                "new",
            ))
            .await;
        }
    }

    let (log_a, log_b) = (app.dir().join("a.log"), app.dir().join("b.log"));
    let mut a = crate::spawn_run(&app, None, Some(&log_a));
    let mut b = crate::spawn_run(&app, None, Some(&log_b));
    let done = wait_until(Duration::from_secs(90), || async {
        app.imap_counts("Processed").await.0 == 24
            && app.jira.issues().len() == 19
            && app.jira.issue("HELP-1").is_some_and(|i| i.comments.len() == 6)
    })
    .await;
    terminate(&mut a, Duration::from_secs(10));
    terminate(&mut b, Duration::from_secs(10));

    let logs = format!(
        "--- a ---\n{}\n--- b ---\n{}",
        std::fs::read_to_string(&log_a).unwrap_or_default(),
        std::fs::read_to_string(&log_b).unwrap_or_default()
    );
    assert!(
        done,
        "all 24 mails processed (issues: {}, comments: {:?}, processed: {:?})\n{logs}",
        app.jira.issues().len(),
        app.jira.issue("HELP-1").map(|i| i.comments.len()),
        imap.counts("Processed").await
    );
    let mut summaries: Vec<String> =
        app.jira.issues().into_iter().map(|i| i.summary).filter(|s| s.starts_with("New")).collect();
    let total = summaries.len();
    summaries.dedup();
    assert_eq!((total, summaries.len()), (18, 18), "each new mail created one issue");
    assert_eq!(app.jira.issue("HELP-1").expect("HELP-1").comments.len(), 6, "each reply one comment");
    assert_eq!(
        app.jira.calls().iter().filter(|c| *c == "POST /rest/api/3/issue").count(),
        18,
        "no doubled create call"
    );
    assert_eq!(imap.counts("INBOX").await, (0, 0));
    assert_eq!(imap.counts("Processed").await, (24, 0));
    imap.logout().await;
}

/// Instance A is killed (abort, like kill -9) in the middle of a mail, after
/// its issue exists and before its first upload; instance B, running on the
/// same database, cannot claim the mail while A's lease lasts, then takes it
/// over and finishes it: one issue, each attachment uploaded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_whose_instance_is_killed_midway_is_finished_once_by_the_other() {
    use mailgate_testkit::process::wait_exit;
    let Some(db) = TestDb::postgres().await else { return };
    let app = crate::run_app().db(db).set("inbound.lease_secs", 3).spawn().await;
    let mut imap = app.imap().await;
    imap.append(&mailgate_testkit::fixture("with-attachments.eml")).await;

    let (log_a, log_b) = (app.dir().join("a.log"), app.dir().join("b.log"));
    // The issue is created, then A aborts before the first upload.
    let mut a = crate::spawn_run(&app, Some("before_upload:1"), Some(&log_a));
    // B starts once A holds the mail (its issue exists); A dies meanwhile.
    let started = wait_until(Duration::from_secs(30), || async { !app.jira.issues().is_empty() }).await;
    assert!(started, "A created the issue");
    let mut b = crate::spawn_run(&app, None, Some(&log_b));
    let crashed = wait_exit(&mut a, Duration::from_secs(30));
    let done = wait_until(Duration::from_secs(60), || async { app.imap_counts("Processed").await.0 == 1 }).await;
    terminate(&mut b, Duration::from_secs(10));
    let logs = format!(
        "--- a ---\n{}\n--- b ---\n{}",
        std::fs::read_to_string(&log_a).unwrap_or_default(),
        std::fs::read_to_string(&log_b).unwrap_or_default()
    );
    assert!(crashed.is_some_and(|s| !s.success()), "A was aborted at its crash point\n{logs}");
    assert!(done, "B finished the mail\n{logs}");
    let issues = app.jira.issues();
    assert_eq!(issues.len(), 1, "one issue");
    assert_eq!(issues[0].attachments.len(), 2, "each attachment once");
    let uploads = app.jira.count_calls(&format!("POST /rest/api/3/issue/{}/attachments", issues[0].key));
    assert_eq!(uploads, 2, "no upload repeated");
    assert_eq!(app.jira.calls().iter().filter(|c| *c == "POST /rest/api/3/issue").count(), 1, "one create");
    assert_eq!(imap.counts("INBOX").await, (0, 0));
    imap.logout().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_outbox_workers_on_postgres_send_each_mail_once() {
    use mailgate::clock::{Clock, SystemClock};
    use mailgate::outbound::{DeliveryOutcome, Mailer, RetryPolicy, try_deliver_one};
    let Some(db) = TestDb::postgres().await else { return };
    let app = TestApp::builder().db(db).with_smtp().spawn().await;
    let sink = app.sink();
    let store = app.store().await;
    let now = SystemClock.now_ms();
    for n in 0..40 {
        let m = mailgate::store::NewOutgoing {
            dedupe_key: &format!("k{n}"),
            kind: "test",
            recipient: &format!("r{n:02}@c.test"),
            subject: "s",
            body_text: "b",
            body_html: None,
            message_id: &format!("o{n}@mailgate.test"),
            in_reply_to: None,
            issue_key: None,
            reply_to: None,
            event_id: None,
        };
        assert!(store.enqueue(&m, now).await.expect("enqueue"));
    }
    let smtp = app.settings().smtp.as_ref().expect("smtp settings");
    let worker = || {
        let store = store.clone();
        let mailer = Mailer::new(smtp).expect("mailer");
        async move {
            let mut sent = 0;
            while try_deliver_one(
                &store,
                &mailer,
                &SystemClock,
                &RetryPolicy::default(),
                &[],
                &mailgate::queue::InstanceId::new(&SystemClock),
            )
            .await
            .expect("deliver")
                != DeliveryOutcome::Empty
            {
                sent += 1;
            }
            sent
        }
    };
    let (a, b) = tokio::join!(tokio::spawn(worker()), tokio::spawn(worker()));
    let (a, b) = (a.expect("worker a"), b.expect("worker b"));

    assert_eq!(a + b, 40, "each row sent by exactly one worker ({a} + {b})");
    let mut to: Vec<String> = sink.received().into_iter().flat_map(|m| m.rcpt_tos).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 40);
    assert_eq!(sink.received().len(), 40, "no mail twice");
}
