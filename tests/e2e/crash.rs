//! Crash tests: `mailgate run` is aborted (no cleanup, like SIGKILL) at each
//! pipeline step over a batch of mails, then restarted. Afterwards Jira
//! holds exactly one issue or comment per mail and every mail is
//! acknowledged in IMAP.

use std::time::Duration;

use mailgate_testkit::process::{terminate, wait_exit};
use mailgate_testkit::{fixture, mail, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_at_any_step_every_mail_ends_in_exactly_one_issue_or_comment() {
    for point in [
        "after_fetch:2",
        "after_store:2",
        "before_jira_post:2",
        "after_jira_post:2",
        "after_jira_post:4",
        "before_upload:1",
        "before_upload:2",
        "after_upload:1",
        "after_upload:2",
        "before_imap_ack:1",
        "after_imap_ack:1",
    ] {
        let app = crate::run_app().spawn().await;
        let mut imap = app.imap().await;
        imap.append(&mail("m1@c.test", "ann@c.test", "help@corp.test", "First problem", "", "one")).await;
        imap.append(&fixture("with-attachments.eml")).await;
        imap.append(&mail("m3@c.test", "bob@c.test", "help@corp.test", "Third problem", "", "three")).await;
        imap.append(&mail("m4@c.test", "ann@c.test", "help@corp.test", "Re: [HELP-1] First problem", "", "a reply"))
            .await;

        let mut crashing = crate::spawn_run(&app, Some(point), None);
        let status = wait_exit(&mut crashing, Duration::from_secs(60)).expect("the run crashed at the crash point");
        assert!(!status.success(), "{point}: aborted, not a clean exit");

        let mut service = crate::spawn_run(&app, None, None);
        let done = wait_until(Duration::from_secs(60), || async {
            app.imap_counts("Processed").await == (4, 0)
                && app.jira.issue("HELP-1").is_some_and(|i| i.comments.len() == 1)
        })
        .await;
        terminate(&mut service, Duration::from_secs(20));

        assert!(done, "{point}: all mails processed after the restart");
        let mut summaries: Vec<String> = app.jira.issues().into_iter().map(|i| i.summary).collect();
        summaries.sort();
        assert_eq!(
            summaries,
            vec!["First problem", "Third problem", "VPN does not connect"],
            "{point}: one issue per new mail"
        );
        assert_eq!(app.jira.issue("HELP-1").expect("HELP-1").comments.len(), 1, "{point}: one comment for the reply");
        let vpn = app.jira.issues().into_iter().find(|i| i.summary == "VPN does not connect").expect("vpn");
        assert_eq!(vpn.attachments.len(), 2, "{point}: attachments once");
        let uploads = app.jira.count_calls(&format!("POST /rest/api/3/issue/{}/attachments", vpn.key));
        assert_eq!(uploads, 2, "{point}: exactly one upload per file");
        assert_eq!(imap.counts("INBOX").await, (0, 0), "{point}: nothing left unacknowledged");
        assert_eq!(imap.counts("Processed").await, (4, 0), "{point}");
        imap.logout().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_that_keeps_stopping_the_process_is_dead_lettered_and_replays_once() {
    let app = crate::run_app().spawn().await;
    let mut imap = app.imap().await;
    imap.append(&mail("poison@c.test", "ann@c.test", "help@corp.test", "Kills the process", "", "boom")).await;
    // Each start dies on this mail (as an out-of-memory kill would): once,
    // then three times while it runs alone (a suspect).
    for run in 1..=4 {
        let mut crashing = crate::spawn_run(&app, Some("before_jira_post:1"), None);
        let status = wait_exit(&mut crashing, Duration::from_secs(60)).expect("crashed");
        assert!(!status.success(), "run {run} aborted");
    }
    // The next start does not work on it again: dead letter, failed folder.
    let mut service = crate::spawn_run(&app, Some("before_jira_post:1"), None);
    let failed = wait_until(Duration::from_secs(60), || async { app.imap_counts("Failed").await.0 == 1 }).await;
    terminate(&mut service, Duration::from_secs(20));
    assert!(failed, "dead-lettered after three crashes alone");
    assert!(app.jira.issues().is_empty());
    let dead = app.store().await.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1, "{dead:?}");

    // Once the cause is gone, a replay files it exactly once.
    let report = crate::replay_dead_letter(&app, dead[0].id);
    assert_eq!(report["issue_key"], "HELP-1", "{report}");
    assert_eq!(app.jira.issues().len(), 1);
    imap.logout().await;
}
