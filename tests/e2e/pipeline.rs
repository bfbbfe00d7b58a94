//! Pipeline behaviour under faults and bad input, through the in-memory
//! mailbox (same ingest loop as IMAP), on SQLite and PostgreSQL.

use std::time::Duration;

use mailgate::store::Status;
use mailgate_testkit::fake_jira::{FakeAuth, FakeJira, Fault};
use mailgate_testkit::{JIRA_USER, RowOutcome, TestApp, TestDb, fixture, mail};

/// Create-issue calls (not uploads or comments under /issue/…).
fn creates(jira: &FakeJira) -> usize {
    jira.calls().iter().filter(|c| *c == "POST /rest/api/3/issue").count()
}

#[tokio::test]
async fn rate_limits_and_server_errors_end_in_exactly_one_issue() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        for n in 0..5 {
            app.receive(mail(&format!("m{n}@c.test"), "a@c.test", "help@corp.test", &format!("Mail {n}"), "", "x"));
        }
        app.jira.fail_next(3, Fault::RateLimit { retry_after_secs: 1 }, Some("POST /rest/api/3/issue"));
        app.jira.fail_next(4, Fault::Status(500), Some("POST /rest/api/3/issue"));

        app.drain().await;

        let mut summaries: Vec<String> = app.jira.issues().into_iter().map(|i| i.summary).collect();
        summaries.sort();
        assert_eq!(summaries, (0..5).map(|n| format!("Mail {n}")).collect::<Vec<_>>(), "{}", app.label());
        assert_eq!(app.seen_in("Processed"), 5);
        assert_eq!(app.store().await.count_by_status(Status::Done).await.expect("count"), 5);
    }
}

#[tokio::test]
async fn a_lost_create_answer_does_not_create_a_second_issue() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        // Client timeout 5 s; the fake creates the issue, then answers after 7 s.
        app.receive(mail("lost@c.test", "a@c.test", "help@corp.test", "Answer lost", "", "x"));
        app.jira.fail_next(1, Fault::SlowAfterEffect(Duration::from_secs(7)), Some("POST /rest/api/3/issue"));

        app.drain().await;

        assert_eq!(app.jira.issues().len(), 1, "{}", app.label());
        assert_eq!(creates(&app.jira), 1, "the retry found the issue by its property");
        assert!(app.jira.count_calls("POST /rest/api/3/issue/bulkfetch") >= 1, "read by key, not searched");
        assert_eq!(app.seen_in("Processed"), 1);
    }
}

#[tokio::test]
async fn revoked_credentials_hold_mail_until_they_work_again() {
    let app = TestApp::spawn().await;
    app.receive(mail("held@c.test", "a@c.test", "help@corp.test", "Held", "", "x"));
    app.jira.set_auth(vec![FakeAuth::Basic { user: JIRA_USER.into(), secret: "another-token".into() }]);

    let stats = app.pass().await;

    assert!(matches!(stats.outcomes.as_slice(), [RowOutcome::Retry(e)] if e.contains("401")), "{:?}", stats.outcomes);
    assert!(app.jira.issues().is_empty());
    assert_eq!(app.seen_in("Processed"), 0, "held mail stays unacknowledged");
    assert_eq!(app.store().await.count_by_status(Status::Pending).await.expect("count"), 1);
}

#[tokio::test]
async fn malformed_and_rejected_mail_goes_to_failed_keeping_its_bytes() {
    for db in TestDb::all().await {
        // A route to a project Jira does not have: 400 from Jira, a permanent error.
        let app = TestApp::builder().db(db).set("routing.default.project", "NOPE").spawn().await;
        app.receive(b"\r\n\r\n");
        let rejected = mail("rej@c.test", "a@c.test", "help@corp.test", "No such project", "", "x");
        app.receive(&rejected);

        app.pass().await;

        assert!(app.jira.issues().is_empty());
        assert_eq!(app.seen_in("Failed"), 2, "{}", app.label());
        assert_eq!(app.store().await.count_by_status(Status::Failed).await.expect("count"), 2);
        let log = app.store().await.recent_log(10).await.expect("log");
        assert!(
            log.iter().any(|e| e.error.as_deref().is_some_and(|m| m.contains("valid project is required"))),
            "{log:?}"
        );
        assert!(log.iter().any(|e| e.error.as_deref().is_some_and(|m| m.contains("cannot parse"))), "{log:?}");
        // The raw bytes are kept for replay.
        let kept = app.store().await.inbound(2).await.expect("row").expect("row 2");
        assert_eq!(kept.raw, rejected);
    }
}

#[tokio::test]
async fn a_reply_to_a_missing_issue_creates_a_new_one() {
    let app = TestApp::spawn().await;
    app.receive(mail("gone@c.test", "a@c.test", "help@corp.test", "Re: [HELP-99] old thing", "", "hello"));

    app.pass().await;

    let issues = app.jira.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].summary, "[HELP-99] old thing");
    let log = app.store().await.recent_log(1).await.expect("log");
    assert!(log[0].detail.as_deref().is_some_and(|d| d.contains("HELP-99 not found")), "{log:?}");
}

#[tokio::test]
async fn data_center_gets_plain_bodies_and_a_bearer_token() {
    let app = TestApp::builder()
        .jira_projects(&["HELP"])
        .data_center_bearer("pat-123")
        .mailgate_defaults()
        .unset("inbound")
        .spawn()
        .await;
    app.receive(mail("dc@c.test", "a@c.test", "help@corp.test", "On DC", "", "Plain body"));
    app.receive(mail("dc2@c.test", "a@c.test", "help@corp.test", "Re: [HELP-1] On DC", "", "Reply"));

    app.pass().await;

    let issue = app.jira.issue("HELP-1").expect("issue");
    assert!(issue.description.as_str().is_some_and(|d| d.contains("Plain body")), "{:?}", issue.description);
    assert_eq!(issue.comments.len(), 1);
    assert!(issue.comments[0].body.as_str().is_some_and(|b| b.contains("Reply")));
    assert_eq!(app.jira.count_calls("POST /rest/api/2/issue"), 2);
    assert_eq!(app.jira.count_calls("POST /rest/api/3"), 0);
}

#[tokio::test]
async fn a_restart_after_the_issue_was_created_uploads_the_rest_without_a_second_issue() {
    let app = TestApp::spawn().await;
    app.receive(fixture("with-attachments.eml"));
    // The second attachment upload fails for good enough to park the mail.
    app.jira.fail_next(1, Fault::Status(502), Some("/attachments"));

    let first = app.pass().await;
    assert!(matches!(first.outcomes.as_slice(), [RowOutcome::Retry(_)]), "{:?}", first.outcomes);

    // "Restart": a new pipeline on the same database.
    app.restart().await;
    app.drain().await;

    assert_eq!(app.jira.issues().len(), 1);
    assert_eq!(creates(&app.jira), 1, "one create across the restart");
    assert_eq!(
        app.jira.count_calls("POST /rest/api/3/issue/HELP-1/attachments"),
        3,
        "two uploads and the one that failed"
    );
    assert_eq!(app.jira.issues()[0].attachments.len(), 2);
}

#[tokio::test]
async fn a_lost_comment_answer_does_not_add_a_second_comment() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).jira_issue("HELP", "Existing").spawn().await;
        app.receive(mail("c-lost@c.test", "a@c.test", "help@corp.test", "Re: [HELP-1] Existing", "", "Answer lost"));
        // Jira adds the comment, then the answer never arrives in time.
        app.jira.fail_next(
            1,
            Fault::SlowAfterEffect(Duration::from_secs(7)),
            Some("POST /rest/api/3/issue/HELP-1/comment"),
        );

        app.drain().await;

        let issue = app.jira.issue("HELP-1").expect("issue");
        assert_eq!(issue.comments.len(), 1, "{}", app.label());
        assert_eq!(
            app.jira.count_calls("POST /rest/api/3/issue/HELP-1/comment"),
            1,
            "the retry found it by its property"
        );
        assert_eq!(app.seen_in("Processed"), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_mail_is_dead_lettered_without_blocking_others_and_can_be_replayed() {
    let app = TestApp::builder().jira_issue("HELP", "Existing").set("inbound.max_attempts", 3).spawn().await;
    app.receive(mail("poison@c.test", "a@c.test", "help@corp.test", "Keeps failing", "", "x"));
    app.receive(mail("fine@c.test", "b@c.test", "help@corp.test", "Re: [HELP-1] Existing", "", "not blocked"));
    // Only issue creation fails; comments go through.
    app.jira.fail_next(100, Fault::Status(500), Some("POST /rest/api/3/issue$"));

    app.drain().await;

    assert_eq!(
        app.jira.issue("HELP-1").expect("issue").comments.len(),
        1,
        "the mail behind the poison one went through"
    );
    assert_eq!(app.seen_in("Failed"), 1);
    assert_eq!(app.seen_in("Processed"), 1);
    let dead = app.store().await.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    assert!(dead[0].last_error.as_deref().is_some_and(|e| e.contains("gave up after 3 attempts")), "{dead:?}");
    assert_eq!(app.jira.issues().len(), 1, "nothing created for the poison mail");

    // Jira is fine again: replay it from the dead-letter list with the CLI.
    app.jira.clear_faults();
    app.restart().await;
    let report = crate::replay_dead_letter(&app, dead[0].id);
    assert_eq!(report["action"], "create");
    assert_eq!(report["issue_key"], "HELP-2");
    assert_eq!(app.jira.issues().len(), 2);
    let listing = app.command(crate::MAILGATE).arg("dead-letters").output().expect("runs");
    assert!(String::from_utf8_lossy(&listing.stdout).contains("poison@c.test"));
}
