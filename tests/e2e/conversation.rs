//! A reply never overtakes the mail that creates its issue, across passes
//! (the parent waits for a retry or is held); attachments Jira refuses for
//! good do not orphan the issue; the thread link exists once the issue does.

use mailgate::store::Status;
use mailgate_testkit::fake_jira::Fault;
use mailgate_testkit::{RowOutcome, TestApp, TestDb, fixture, mail};

/// A reply to `<{parent}>` by In-Reply-To only (no key in the subject).
fn reply_to(id: &str, parent: &str, from: &str, body: &str) -> Vec<u8> {
    let headers = format!("In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n");
    mail(id, from, "help@corp.test", "Re: Printer on fire", &headers, body)
}

#[tokio::test]
async fn a_reply_waits_across_passes_while_its_parent_waits_for_a_retry() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        app.receive(mail("parent@c.test", "ann@c.test", "help@corp.test", "Printer on fire", "", "help"));
        app.jira.fail_next(1, Fault::Status(503), Some("POST /rest/api/3/issue$"));
        let first = app.pass().await;
        assert!(matches!(first.outcomes.as_slice(), [RowOutcome::Retry(_)]), "{:?} {}", first.outcomes, app.label());

        // The reply arrives after; another sender, so only the thread orders them.
        app.receive(reply_to("child@c.test", "parent@c.test", "bob@c.test", "still burning"));
        app.drain().await;

        let issues = app.jira.issues();
        assert_eq!(issues.len(), 1, "the reply did not become an issue of its own ({})", app.label());
        assert_eq!(issues[0].summary, "Printer on fire");
        assert_eq!(issues[0].comments.len(), 1, "{}", app.label());
        assert!(issues[0].comments[0].body.to_string().contains("still burning"), "{}", app.label());
        assert_eq!(app.seen_in("Processed"), 2);
    }
}

#[tokio::test]
async fn a_reply_to_a_held_mail_waits_for_it() {
    for db in TestDb::all().await {
        let app = TestApp::builder()
            .db(db)
            .jira_issue("HELP", "Busy issue")
            .set("inbound.max_updates_per_issue", 1)
            .set("inbound.issue_update_window_secs", 1)
            .set("inbound.storm_max_per_hour", 100)
            .spawn()
            .await;
        app.receive(mail("c1@c.test", "ann@c.test", "help@corp.test", "Re: [HELP-1] Busy issue", "", "first"));
        app.receive(mail("c2@c.test", "ann@c.test", "help@corp.test", "Re: [HELP-1] Busy issue", "", "second"));
        let first = app.pass().await;
        assert_eq!(app.jira.issue("HELP-1").expect("issue").comments.len(), 1, "{:?}", first.outcomes);
        // c2 is held by the per-issue limit; a reply to it (no key, another sender) arrives.
        app.receive(reply_to("c3@c.test", "c2@c.test", "bob@c.test", "third"));
        app.drain().await;

        assert_eq!(app.jira.issues().len(), 1, "the reply to the held mail is a comment ({})", app.label());
        let bodies: Vec<String> =
            app.jira.issue("HELP-1").expect("issue").comments.iter().map(|c| c.body.to_string()).collect();
        assert_eq!(bodies.len(), 3, "{bodies:?}");
        assert!(bodies[1].contains("second") && bodies[2].contains("third"), "in order: {bodies:?}");
    }
}

#[tokio::test]
async fn a_refused_attachment_is_skipped_and_the_mail_is_done_with_its_issue() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        app.receive(fixture("with-attachments.eml"));
        app.jira.fail_next(1, Fault::Status(413), Some("/attachments"));

        app.drain().await;

        assert_eq!(app.jira.issues().len(), 1, "{}", app.label());
        assert_eq!(app.jira.issues()[0].attachments.len(), 1, "the other attachment went up");
        let store = app.store().await;
        assert_eq!(store.count_by_status(Status::Done).await.expect("count"), 1, "Done, not Failed");
        assert_eq!(store.count_by_status(Status::Failed).await.expect("count"), 0);
        assert_eq!(app.seen_in("Processed"), 1);
        let log = store.log_entries(&Default::default()).await.expect("log");
        assert!(
            log.iter().any(|e| e.detail.as_deref().is_some_and(|d| d.contains("attachments refused by Jira"))),
            "the refusal is listed: {log:?}"
        );
    }
}

#[tokio::test]
async fn the_thread_link_is_written_with_the_issue_before_attachments() {
    let app = TestApp::spawn().await;
    app.receive(fixture("with-attachments.eml"));
    // Uploads keep failing: the issue exists, the mail is still pending.
    app.jira.fail_next(1, Fault::Status(502), Some("/attachments"));
    let first = app.pass().await;
    assert!(matches!(first.outcomes.as_slice(), [RowOutcome::Retry(_)]), "{:?}", first.outcomes);
    let store = app.store().await;
    let row = store.inbound(1).await.expect("row").expect("stored");
    let mid = mailgate::domain::MessageId::parse(row.message_id.as_deref().expect("mid")).expect("mid");
    let threads = store.threads_for(std::slice::from_ref(&mid)).await.expect("threads");
    assert_eq!(threads.get(&mid).map(|k| k.to_string()).as_deref(), Some("HELP-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_replay_resumes_the_issue_it_already_has() {
    let app = TestApp::builder().set("inbound.max_attempts", 2).spawn().await;
    app.receive(fixture("with-attachments.eml"));
    // The issue is created; every upload fails until the mail gives up.
    app.jira.fail_next(100, Fault::Status(502), Some("/attachments"));
    app.drain().await;
    let dead = app.store().await.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(app.jira.issues().len(), 1);

    app.jira.clear_faults();
    app.restart().await;
    let report = crate::replay_dead_letter(&app, dead[0].id);
    assert_eq!(report["issue_key"], "HELP-1", "the same issue, resumed: {report}");
    assert_eq!(app.jira.issues().len(), 1, "no second issue");
    assert_eq!(app.jira.issues()[0].attachments.len(), 2, "the attachments went up once");
}
