//! Throttling: the per-issue update limit holds comments back and applies
//! them later in order, none lost; a mail storm from one sender is stopped
//! with one admin warning.

mod common;

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use common::{TestDb, fake_jira, mail, settings};
use mailgate::clock::{Clock, ManualClock};
use mailgate::domain::EmailAddress;
use mailgate::ingest;
use mailgate::jira::adf_to_text;
use mailgate::mailbox::{MailConnector, MemoryConnector, MemoryMailbox};
use mailgate::pipeline::Pipeline;

async fn pass(p: &Pipeline, mailbox: &MemoryMailbox) -> ingest::CycleStats {
    let c = MemoryConnector::new("support", mailbox.clone(), Some("Processed"), None);
    let mut source = c.connect().await.expect("connect");
    ingest::cycle(p, source.as_mut(), "support").await.expect("cycle")
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().expect("time")))
}

#[tokio::test]
async fn comments_beyond_the_per_issue_limit_wait_and_keep_their_order() {
    common::init();
    for db in TestDb::all().await {
        let jira = fake_jira().await;
        jira.seed_issue("HELP", "Busy issue");
        let mut s =
            settings(&db.url, &jira.base_url(), None, "max_updates_per_issue = 2\nissue_update_window_secs = 60");
        s.inbound.storm_max_per_hour = 100;
        let clock = clock();
        let p = mailgate::app::build_pipeline(&s, clock.clone()).await.expect("pipeline");
        let mailbox = MemoryMailbox::new();
        for n in 0..5 {
            mailbox.append(&mail(
                &format!("t{n}@c.test"),
                "a@c.test",
                "help@corp.test",
                "Re: [HELP-1] Busy issue",
                "",
                &format!("reply {n}"),
            ));
        }
        let bodies = || {
            jira.issue("HELP-1")
                .expect("issue")
                .comments
                .iter()
                .map(|c| adf_to_text(&c.body).lines().last().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        };

        pass(&p, &mailbox).await;
        assert_eq!(bodies(), vec!["reply 0", "reply 1"], "{}", db.label);
        pass(&p, &mailbox).await;
        assert_eq!(bodies().len(), 2, "still within the window");
        clock.advance(Duration::seconds(61));
        pass(&p, &mailbox).await;
        assert_eq!(bodies(), vec!["reply 0", "reply 1", "reply 2", "reply 3"]);
        clock.advance(Duration::seconds(61));
        pass(&p, &mailbox).await;

        assert_eq!(bodies(), vec!["reply 0", "reply 1", "reply 2", "reply 3", "reply 4"], "none lost, in order");
        assert_eq!(mailbox.mails().iter().filter(|m| m.folder == "Processed").count(), 5);
        p.store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_mail_storm_from_one_sender_is_stopped_with_one_warning() {
    common::init();
    let db = TestDb::sqlite();
    let jira = fake_jira().await;
    let mut s = settings(&db.url, &jira.base_url(), None, "storm_max_per_hour = 3");
    s.admin.notify = vec![EmailAddress::parse("ops@corp.test").expect("admin")];
    let clock = clock();
    let p = mailgate::app::build_pipeline(&s, clock.clone()).await.expect("pipeline");
    let mailbox = MemoryMailbox::new();
    for n in 0..6 {
        mailbox.append(&mail(
            &format!("s{n}@c.test"),
            "robot@loop.test",
            "help@corp.test",
            &format!("Loop {n}"),
            "",
            "again",
        ));
    }
    mailbox.append(&mail("other@c.test", "human@c.test", "help@corp.test", "Unrelated", "", "hi"));

    pass(&p, &mailbox).await;

    let mut summaries: Vec<String> = jira.issues().into_iter().map(|i| i.summary).collect();
    summaries.sort();
    assert_eq!(summaries, vec!["Loop 0", "Loop 1", "Loop 2", "Unrelated"]);
    let warnings = p.store.outgoing_of_kind("admin-warning").await.expect("outbox");
    assert_eq!(warnings.len(), 1, "one warning per sender and hour");
    assert!(warnings[0].subject.contains("robot@loop.test"));
    assert_eq!(
        mailbox.mails().iter().filter(|m| m.folder == "Processed").count(),
        7,
        "storm mails are kept and acknowledged"
    );
    let stats = p.store.statistics(clock.now_ms()).await.expect("stats");
    assert_eq!(stats.ignored_by_reason.get("mail_storm"), Some(&3));
}
