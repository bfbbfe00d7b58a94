//! Pipeline behaviour under faults and bad input, through the in-memory
//! mailbox (same ingest loop as IMAP), on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::TestPipeline as Pipeline;
use common::{TestDb, fake_jira, mail, pipeline, settings};
use mailgate::fake_jira::{FakeAuth, Fault};
use mailgate::ingest;
use mailgate::mailbox::{MailConnector, MemoryConnector, MemoryMailbox};
use mailgate::pipeline::RowOutcome;
use mailgate::store::Status;

async fn pass(p: &Pipeline, mailbox: &MemoryMailbox) -> ingest::CycleStats {
    let connector = MemoryConnector::new("support", mailbox.clone(), Some("Processed"), Some("Failed"));
    let mut source = connector.connect().await.expect("connect");
    ingest::cycle(p, source.as_mut(), "support").await.expect("cycle")
}

/// Passes until nothing is pending (bounded).
async fn drain(p: &Pipeline, mailbox: &MemoryMailbox) {
    for _ in 0..100 {
        pass(p, mailbox).await;
        if p.store.count_by_status(Status::Pending).await.expect("count") == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    panic!("mail still pending after 100 passes");
}

/// Create-issue calls (not uploads or comments under /issue/…).
fn creates(jira: &mailgate::fake_jira::FakeJira) -> usize {
    jira.calls().iter().filter(|c| *c == "POST /rest/api/3/issue").count()
}

fn folder_count(mailbox: &MemoryMailbox, folder: &str) -> usize {
    mailbox.mails().iter().filter(|m| m.folder == folder && m.seen).count()
}

#[tokio::test]
async fn rate_limits_and_server_errors_end_in_exactly_one_issue() {
    common::init();
    for db in TestDb::all().await {
        let jira = fake_jira().await;
        let p = pipeline(&settings(&db.url, &jira.base_url(), None, "")).await;
        let mailbox = MemoryMailbox::new();
        for n in 0..5 {
            mailbox.append(&mail(&format!("m{n}@c.test"), "a@c.test", "help@corp.test", &format!("Mail {n}"), "", "x"));
        }
        jira.fail_next(3, Fault::RateLimit { retry_after_secs: 1 }, Some("POST /rest/api/3/issue"));
        jira.fail_next(4, Fault::Status(500), Some("POST /rest/api/3/issue"));

        drain(&p, &mailbox).await;

        let mut summaries: Vec<String> = jira.issues().into_iter().map(|i| i.summary).collect();
        summaries.sort();
        assert_eq!(summaries, (0..5).map(|n| format!("Mail {n}")).collect::<Vec<_>>(), "{}", db.label);
        assert_eq!(folder_count(&mailbox, "Processed"), 5);
        assert_eq!(p.store.count_by_status(Status::Done).await.expect("count"), 5);
        p.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_lost_create_answer_does_not_create_a_second_issue() {
    common::init();
    for db in TestDb::all().await {
        let jira = fake_jira().await;
        // Client timeout 5 s; the fake creates the issue, then answers after 7 s.
        let p = pipeline(&settings(&db.url, &jira.base_url(), None, "")).await;
        let mailbox = MemoryMailbox::new();
        mailbox.append(&mail("lost@c.test", "a@c.test", "help@corp.test", "Answer lost", "", "x"));
        jira.fail_next(1, Fault::SlowAfterEffect(Duration::from_secs(7)), Some("POST /rest/api/3/issue"));

        drain(&p, &mailbox).await;

        assert_eq!(jira.issues().len(), 1, "{}", db.label);
        assert_eq!(creates(&jira), 1, "the retry found the issue by its property");
        assert!(jira.count_calls("GET /rest/api/3/search/jql") >= 1);
        assert_eq!(folder_count(&mailbox, "Processed"), 1);
        p.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn revoked_credentials_hold_mail_until_they_work_again() {
    common::init();
    let db = TestDb::sqlite();
    let jira = fake_jira().await;
    let p = pipeline(&settings(&db.url, &jira.base_url(), None, "")).await;
    let mailbox = MemoryMailbox::new();
    mailbox.append(&mail("held@c.test", "a@c.test", "help@corp.test", "Held", "", "x"));
    jira.set_auth(vec![FakeAuth::Basic { user: common::JIRA_USER.into(), secret: "another-token".into() }]);

    let stats = pass(&p, &mailbox).await;

    assert!(matches!(stats.outcomes.as_slice(), [RowOutcome::Retry(e)] if e.contains("401")), "{:?}", stats.outcomes);
    assert!(jira.issues().is_empty());
    assert_eq!(folder_count(&mailbox, "Processed"), 0, "held mail stays unacknowledged");
    assert_eq!(p.store.count_by_status(Status::Pending).await.expect("count"), 1);
}

#[tokio::test]
async fn malformed_and_rejected_mail_goes_to_failed_keeping_its_bytes() {
    common::init();
    for db in TestDb::all().await {
        let jira = fake_jira().await;
        let mut s = settings(&db.url, &jira.base_url(), None, "");
        // A route to a project Jira does not have: 400 from Jira, a permanent error.
        s.routing.default.project = mailgate::domain::ProjectKey::parse("NOPE").expect("key");
        let p = pipeline(&s).await;
        let mailbox = MemoryMailbox::new();
        mailbox.append(b"\r\n\r\n");
        let rejected = mail("rej@c.test", "a@c.test", "help@corp.test", "No such project", "", "x");
        mailbox.append(&rejected);

        pass(&p, &mailbox).await;

        assert!(jira.issues().is_empty());
        assert_eq!(folder_count(&mailbox, "Failed"), 2, "{}", db.label);
        assert_eq!(p.store.count_by_status(Status::Failed).await.expect("count"), 2);
        let log = p.store.recent_log(10).await.expect("log");
        assert!(
            log.iter().any(|e| e.error.as_deref().is_some_and(|m| m.contains("valid project is required"))),
            "{log:?}"
        );
        assert!(log.iter().any(|e| e.error.as_deref().is_some_and(|m| m.contains("cannot parse"))), "{log:?}");
        // The raw bytes are kept for replay.
        let kept = p.store.inbound(2).await.expect("row").expect("row 2");
        assert_eq!(kept.raw, rejected);
        p.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_reply_to_a_missing_issue_creates_a_new_one() {
    common::init();
    let db = TestDb::sqlite();
    let jira = fake_jira().await;
    let p = pipeline(&settings(&db.url, &jira.base_url(), None, "")).await;
    let mailbox = MemoryMailbox::new();
    mailbox.append(&mail("gone@c.test", "a@c.test", "help@corp.test", "Re: [HELP-99] old thing", "", "hello"));

    pass(&p, &mailbox).await;

    let issues = jira.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].summary, "[HELP-99] old thing");
    let log = p.store.recent_log(1).await.expect("log");
    assert!(log[0].detail.as_deref().is_some_and(|d| d.contains("HELP-99 not found")), "{log:?}");
}

#[tokio::test]
async fn data_center_gets_plain_bodies_and_a_bearer_token() {
    common::init();
    let db = TestDb::sqlite();
    let jira =
        mailgate::fake_jira::FakeJira::start(&["HELP"], vec![FakeAuth::Bearer("pat-123".into())]).await.expect("jira");
    let text = format!(
        r#"
[database]
url = "{}"
[jira]
flavor = "datacenter"
base_url = "{}"
auth = {{ kind = "bearer", token = "pat-123" }}
[routing]
default = {{ project = "HELP" }}
"#,
        db.url,
        jira.base_url()
    );
    let s = mailgate::config::Settings::from_toml_with_env(&text, Vec::new()).expect("settings");
    let p = pipeline(&s).await;
    let mailbox = MemoryMailbox::new();
    mailbox.append(&mail("dc@c.test", "a@c.test", "help@corp.test", "On DC", "", "Plain body"));
    mailbox.append(&mail("dc2@c.test", "a@c.test", "help@corp.test", "Re: [HELP-1] On DC", "", "Reply"));

    pass(&p, &mailbox).await;

    let issue = jira.issue("HELP-1").expect("issue");
    assert!(issue.description.as_str().is_some_and(|d| d.contains("Plain body")), "{:?}", issue.description);
    assert_eq!(issue.comments.len(), 1);
    assert!(issue.comments[0].body.as_str().is_some_and(|b| b.contains("Reply")));
    assert_eq!(jira.count_calls("POST /rest/api/2/issue"), 2);
    assert_eq!(jira.count_calls("POST /rest/api/3"), 0);
}

#[tokio::test]
async fn a_restart_after_the_issue_was_created_uploads_the_rest_without_a_second_issue() {
    common::init();
    let db = TestDb::sqlite();
    let jira = fake_jira().await;
    let p = pipeline(&settings(&db.url, &jira.base_url(), None, "")).await;
    let mailbox = MemoryMailbox::new();
    mailbox.append(&common::fixture("with-attachments.eml"));
    // The second attachment upload fails for good enough to park the mail.
    jira.fail_next(1, Fault::Status(502), Some("/attachments"));

    let first = pass(&p, &mailbox).await;
    assert!(matches!(first.outcomes.as_slice(), [RowOutcome::Retry(_)]), "{:?}", first.outcomes);
    p.store.close().await;

    // "Restart": a new pipeline on the same database.
    let p = pipeline(&settings(&db.url, &jira.base_url(), None, "")).await;
    drain(&p, &mailbox).await;

    assert_eq!(jira.issues().len(), 1);
    assert_eq!(creates(&jira), 1, "one create across the restart");
    assert_eq!(jira.count_calls("POST /rest/api/3/issue/HELP-1/attachments"), 3, "two uploads and the one that failed");
    assert_eq!(jira.issues()[0].attachments.len(), 2);
}

#[tokio::test]
async fn a_lost_comment_answer_does_not_add_a_second_comment() {
    common::init();
    for db in TestDb::all().await {
        let jira = fake_jira().await;
        jira.seed_issue("HELP", "Existing");
        let p = pipeline(&settings(&db.url, &jira.base_url(), None, "")).await;
        let mailbox = MemoryMailbox::new();
        mailbox.append(&mail(
            "c-lost@c.test",
            "a@c.test",
            "help@corp.test",
            "Re: [HELP-1] Existing",
            "",
            "Answer lost",
        ));
        // Jira adds the comment, then the answer never arrives in time.
        jira.fail_next(
            1,
            Fault::SlowAfterEffect(Duration::from_secs(7)),
            Some("POST /rest/api/3/issue/HELP-1/comment"),
        );

        drain(&p, &mailbox).await;

        let issue = jira.issue("HELP-1").expect("issue");
        assert_eq!(issue.comments.len(), 1, "{}", db.label);
        assert_eq!(jira.count_calls("POST /rest/api/3/issue/HELP-1/comment"), 1, "the retry found it by its property");
        assert_eq!(folder_count(&mailbox, "Processed"), 1);
        p.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_mail_is_dead_lettered_without_blocking_others_and_can_be_replayed() {
    common::init();
    let db = TestDb::sqlite();
    let jira = fake_jira().await;
    jira.seed_issue("HELP", "Existing");
    let mut s = settings(&db.url, &jira.base_url(), None, "");
    s.inbound.max_attempts = 3;
    let p = pipeline(&s).await;
    let mailbox = MemoryMailbox::new();
    mailbox.append(&mail("poison@c.test", "a@c.test", "help@corp.test", "Keeps failing", "", "x"));
    mailbox.append(&mail("fine@c.test", "b@c.test", "help@corp.test", "Re: [HELP-1] Existing", "", "not blocked"));
    // Only issue creation fails; comments go through.
    jira.fail_next(100, Fault::Status(500), Some("POST /rest/api/3/issue$"));

    drain(&p, &mailbox).await;

    assert_eq!(jira.issue("HELP-1").expect("issue").comments.len(), 1, "the mail behind the poison one went through");
    assert_eq!(folder_count(&mailbox, "Failed"), 1);
    assert_eq!(folder_count(&mailbox, "Processed"), 1);
    let dead = p.store.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    assert!(dead[0].last_error.as_deref().is_some_and(|e| e.contains("gave up after 3 attempts")), "{dead:?}");
    assert_eq!(jira.issues().len(), 1, "nothing created for the poison mail");

    // Jira is fine again: replay it from the dead-letter list with the CLI.
    jira.clear_faults();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("m.toml");
    std::fs::write(
        &cfg,
        format!(
            "[database]\nurl = \"{}\"\n[jira]\nflavor = \"cloud\"\nbase_url = \"{}\"\nauth = {{ kind = \"basic\", user = \"{}\", secret = \"{}\" }}\n[routing]\ndefault = {{ project = \"HELP\" }}\n",
            db.url,
            jira.base_url(),
            common::JIRA_USER,
            common::JIRA_TOKEN
        ),
    )
    .expect("config");
    p.store.close().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .arg("--config")
        .arg(&cfg)
        .args(["replay", "--from-dead-letter", &dead[0].id.to_string()])
        .output()
        .expect("replay runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(report["action"], "create");
    assert_eq!(report["issue_key"], "HELP-2");
    assert_eq!(jira.issues().len(), 2);
    let listing = std::process::Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .arg("--config")
        .arg(&cfg)
        .arg("dead-letters")
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&listing.stdout).contains("poison@c.test"));
}
