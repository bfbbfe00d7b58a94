//! The audit trail (per mail: decision, sender, Jira calls, outcome), log
//! filters, and retention by entries and by age.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use mailgate::clock::{Clock, ManualClock};
use mailgate::store::{AuditFilter, LogFilter};
use mailgate_testkit::fake_jira::Fault;
use mailgate_testkit::{TestApp, TestDb, mail};

#[tokio::test]
async fn each_mail_has_a_trail_of_decisions_and_jira_calls() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        let (jira, store) = (&app.jira, app.store().await);
        app.receive(mail("au1@c.test", "ann@c.test", "help@corp.test", "Audit me", "", "x"));
        app.receive(mail("au2@c.test", "bob@c.test", "help@corp.test", "Out", "Auto-Submitted: auto-replied\r\n", "x"));
        jira.fail_next(1, Fault::Status(503), Some("POST /rest/api/3/issue$"));
        for _ in 0..20 {
            app.pass().await;
            if jira.issues().len() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let trail = store
            .audit_entries(&AuditFilter { message_id: Some("au1@c.test".into()), limit: 100, ..Default::default() })
            .await
            .expect("audit");
        let steps: Vec<&str> = trail.iter().map(|e| e.step.as_str()).collect();
        assert_eq!(
            steps,
            vec!["decide", "sender", "jira", "decide", "sender", "jira", "people", "outcome"],
            "{}: {trail:?}",
            app.label()
        );
        assert!(trail[0].detail.contains("from ann@c.test: create in HELP"), "{}", trail[0].detail);
        assert_eq!(trail[1].detail, "no sender lookup configured");
        assert!(
            trail[2].detail.contains("call failed (transient)") && trail[2].detail.contains("503"),
            "{}",
            trail[2].detail
        );
        assert!(trail[5].detail.contains("issue HELP-1 created"), "{}", trail[5].detail);
        assert_eq!(trail[6].detail, "requester ann@c.test", "the conversation's people are in the trail");
        assert_eq!(trail[7].detail, "done create HELP-1");
        let ignored = store
            .audit_entries(&AuditFilter { message_id: Some("au2@c.test".into()), limit: 100, ..Default::default() })
            .await
            .expect("audit");
        assert!(ignored[0].detail.contains("ignore: auto-submitted"), "{ignored:?}");

        let by_issue =
            store.log_entries(&LogFilter { issue: Some("HELP-1".into()), ..Default::default() }).await.expect("log");
        assert_eq!(by_issue.len(), 1);
        let ok = store.log_entries(&LogFilter { status: Some("ok".into()), ..Default::default() }).await.expect("log");
        assert_eq!(ok.len(), 2);
    }
}

#[tokio::test]
async fn retention_keeps_the_newest_entries_within_the_age() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        let store = app.store().await;
        let clock = ManualClock::at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("time"));
        let day = 86_400_000;
        // Ten entries, one a day.
        for n in 0..10 {
            store
                .audit(n, "support", Some("m@x"), "decide", &format!("entry {n}"), clock.now_ms())
                .await
                .expect("audit");
            clock.advance(chrono::Duration::days(1));
        }
        // Now is day 10: keep 5 days of age, at most 3 entries.
        let deleted = store.enforce_retention(3, 5 * day, clock.now_ms()).await.expect("retention");
        let left = store.audit_entries(&AuditFilter { limit: 100, ..Default::default() }).await.expect("audit");
        let details: Vec<&str> = left.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(details, vec!["entry 7", "entry 8", "entry 9"], "{}", app.label());
        assert_eq!(deleted, 7);
        // Applying it again deletes nothing more.
        assert_eq!(store.enforce_retention(3, 5 * day, clock.now_ms()).await.expect("retention"), 0);
    }
}
