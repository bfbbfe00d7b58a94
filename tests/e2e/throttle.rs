//! Throttling: the per-issue update limit holds comments back and applies
//! them later in order, none lost; a mail storm from one sender is stopped
//! with one admin warning.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use mailgate::clock::{Clock, ManualClock};
use mailgate::jira::adf_to_text;
use mailgate_testkit::{TestApp, TestAppBuilder, TestDb, mail};

/// Spawn `builder` on a manual clock at 2026-11-23 09:00 UTC.
async fn at_nine(builder: TestAppBuilder) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().expect("time")));
    (builder.clock(clock.clone()).spawn().await, clock)
}

/// Mail `n` of a series to help@corp.test (Message-ID `<{tag}{n}@c.test>`).
fn series(tag: &str, n: usize, from: &str, subject: &str, body: &str) -> Vec<u8> {
    mail(&format!("{tag}{n}@c.test"), from, "help@corp.test", subject, "", body)
}

#[tokio::test]
async fn comments_beyond_the_per_issue_limit_wait_and_keep_their_order() {
    for db in TestDb::all().await {
        let builder = TestApp::builder()
            .db(db)
            .jira_issue("HELP", "Busy issue")
            .set("inbound.max_updates_per_issue", 2)
            .set("inbound.issue_update_window_secs", 60)
            .set("inbound.storm_max_per_hour", 100);
        let (app, clock) = at_nine(builder).await;
        for n in 0..5 {
            app.receive(series("t", n, "a@c.test", "Re: [HELP-1] Busy issue", &format!("reply {n}")));
        }
        let bodies = || {
            app.jira
                .issue("HELP-1")
                .expect("issue")
                .comments
                .iter()
                .map(|c| adf_to_text(&c.body).lines().last().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        };

        app.pass().await;
        assert_eq!(bodies(), vec!["reply 0", "reply 1"], "{}", app.label());
        app.pass().await;
        assert_eq!(bodies().len(), 2, "still within the window");
        clock.advance(Duration::seconds(61));
        app.pass().await;
        assert_eq!(bodies(), vec!["reply 0", "reply 1", "reply 2", "reply 3"]);
        clock.advance(Duration::seconds(61));
        app.pass().await;

        assert_eq!(bodies(), vec!["reply 0", "reply 1", "reply 2", "reply 3", "reply 4"], "none lost, in order");
        assert_eq!(app.mailbox().mails().iter().filter(|m| m.folder == "Processed").count(), 5);
    }
}

#[tokio::test]
async fn a_mail_storm_from_one_sender_is_stopped_with_one_warning() {
    let builder = TestApp::builder()
        .set("inbound.storm_max_per_hour", 3)
        .smtp_nowhere() // warnings go out by mail (nothing is sent here)
        .set_toml("admin.notify", r#"["ops@corp.test"]"#);
    let (app, clock) = at_nine(builder).await;
    for n in 0..6 {
        app.receive(series("s", n, "robot@loop.test", &format!("Loop {n}"), "again"));
    }
    app.receive(mail("other@c.test", "human@c.test", "help@corp.test", "Unrelated", "", "hi"));

    app.pass().await;

    let mut summaries: Vec<String> = app.jira.issues().into_iter().map(|i| i.summary).collect();
    summaries.sort();
    assert_eq!(summaries, vec!["Loop 0", "Loop 1", "Loop 2", "Unrelated"]);
    let warnings = app.store().await.outgoing_of_kind("admin-warning").await.expect("outbox");
    assert_eq!(warnings.len(), 1, "one warning per sender and hour");
    assert!(warnings[0].subject.contains("robot@loop.test"));
    assert_eq!(
        app.mailbox().mails().iter().filter(|m| m.folder == "Processed").count(),
        7,
        "storm mails are kept and acknowledged"
    );
    let stats = app.store().await.statistics(clock.now_ms()).await.expect("stats");
    assert_eq!(stats.ignored_by_reason.get("mail_storm"), Some(&3));
}
