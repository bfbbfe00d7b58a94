//! A lost answer resumed on what Jira guarantees, with the strict fake's
//! search lag (3 s) on: the issue is found by reading keys above the floor
//! (bulk fetch on Cloud, one GET per key on Data Center), the comment by
//! its property read per comment. Search is never asked for a property.

use mailgate_testkit::fake_jira::{FakeJira, Fault};
use mailgate_testkit::{TestApp, TestDb, mail};

fn no_property_search(jira: &FakeJira) {
    // The fake answers a property clause with Jira's 400; none was sent.
    let searches = jira.calls().iter().filter(|c| c.contains("/search")).count();
    assert!(searches <= 1, "at most the floor's one search per project: {:?}", jira.calls());
}

#[tokio::test]
async fn a_create_answer_lost_after_the_effect_is_found_by_key_on_cloud_and_data_center() {
    for dc in [false, true] {
        for db in TestDb::all().await {
            let mut builder = TestApp::builder().db(db).jira_issue("HELP", "Older 1").jira_issue("HELP", "Older 2");
            if dc {
                builder = builder.data_center_bearer("pat-123");
            }
            let app = builder.spawn().await;
            let api = if dc { "2" } else { "3" };
            app.receive(mail("lost@c.test", "a@c.test", "help@corp.test", "Answer lost", "", "x"));
            // Jira creates the issue, then a proxy answers 504.
            app.jira.fail_next(1, Fault::StatusAfterEffect(504), Some(&format!("POST /rest/api/{api}/issue$")));

            app.drain().await;

            let label = format!("{} dc={dc}", app.label());
            let summaries: Vec<String> = app.jira.issues().into_iter().map(|i| i.summary).collect();
            assert_eq!(summaries, ["Older 1", "Older 2", "Answer lost"], "{label}");
            let create = format!("POST /rest/api/{api}/issue");
            let creates = app.jira.calls().iter().filter(|c| **c == create).count();
            assert_eq!(creates, 1, "{label}: created once");
            if dc {
                assert!(app.jira.count_calls("GET /rest/api/2/issue/HELP-3") >= 1, "{label}: read by key");
            } else {
                assert!(app.jira.count_calls("POST /rest/api/3/issue/bulkfetch") >= 1, "{label}: bulk fetch");
            }
            no_property_search(&app.jira);
            assert_eq!(app.seen_in("Processed"), 1, "{label}");
        }
    }
}

#[tokio::test]
async fn a_comment_answer_lost_after_the_effect_is_found_by_its_property() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).jira_issue("HELP", "Existing").spawn().await;
        app.receive(mail("c504@c.test", "a@c.test", "help@corp.test", "Re: [HELP-1] Existing", "", "Answer lost"));
        app.jira.fail_next(1, Fault::StatusAfterEffect(504), Some("POST /rest/api/3/issue/HELP-1/comment"));

        app.drain().await;

        let issue = app.jira.issue("HELP-1").expect("issue");
        assert_eq!(issue.comments.len(), 1, "{}", app.label());
        assert_eq!(app.jira.count_calls("POST /rest/api/3/issue/HELP-1/comment"), 1, "{}", app.label());
        let id = &issue.comments[0].id;
        assert!(app.jira.count_calls(&format!("GET /rest/api/3/comment/{id}/properties/mailgate")) >= 1);
        assert_eq!(app.seen_in("Processed"), 1);
    }
}

#[tokio::test]
async fn a_jsm_request_or_its_comment_whose_answer_was_lost_is_not_doubled() {
    for db in TestDb::all().await {
        let app = TestApp::builder()
            .db(db)
            .jira_projects(&["HELP", "SD"])
            .unset("routing")
            .toml("[routing]\ndefault = { project = \"SD\", service_desk = \"7\", request_type = \"25\" }\n")
            .spawn()
            .await;
        app.jira.add_service_desk("7", "SD");
        app.jira.seed_issue("SD", "Someone else's request");
        app.receive(mail("r1@c.test", "pia@c.test", "support@corp.test", "Need access", "", "Please."));
        app.jira.fail_next(1, Fault::StatusAfterEffect(504), Some("POST /rest/servicedeskapi/request$"));

        app.drain().await;

        let requests: Vec<_> = app.jira.issues().into_iter().filter(|i| i.summary == "Need access").collect();
        assert_eq!(requests.len(), 1, "{}: one request", app.label());
        assert_eq!(app.jira.count_calls("POST /rest/servicedeskapi/request"), 1, "{}", app.label());
        assert!(requests[0].request.is_some(), "a customer request");

        app.receive(mail("r2@c.test", "pia@c.test", "support@corp.test", "Re: [SD-2] Need access", "", "Thanks!"));
        app.jira.fail_next(1, Fault::StatusAfterEffect(504), Some("POST /rest/api/3/issue/SD-2/comment"));

        app.drain().await;

        let issue = app.jira.issue("SD-2").expect("request");
        assert_eq!(issue.comments.len(), 1, "{}: one comment", app.label());
        assert_eq!(issue.comments[0].public, Some(true), "public on the portal");
        assert_eq!(app.seen_in("Processed"), 2);
    }
}

/// The fault matrix for the platform's posts: each step (create, each
/// upload, comment) × each way of losing an answer after the effect (a 504,
/// a 500, a client timeout), on SQLite and PostgreSQL, search lag on. Kills
/// before and after each call are `crash.rs`'s.
#[tokio::test]
async fn every_post_whose_answer_is_lost_after_the_effect_lands_exactly_once() {
    let steps = ["POST /rest/api/3/issue$", "/attachments", "POST /rest/api/3/issue/HELP-1/comment"];
    let faults = [
        Fault::StatusAfterEffect(504),
        Fault::StatusAfterEffect(500),
        Fault::SlowAfterEffect(std::time::Duration::from_millis(1500)),
    ];
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).set("jira.timeout_secs", 1).set("inbound.max_attempts", 50).spawn().await;
        for step in steps {
            for (n, fault) in faults.iter().enumerate() {
                let case = format!("{} {step} {fault:?}", app.label());
                let before = app.jira.issues().len();
                let parent = app.jira.seed_issue("HELP", "Existing");
                let raw = String::from_utf8(mailgate_testkit::fixture("with-attachments.eml")).expect("utf-8");
                let raw = raw.replace("Message-ID: <", &format!("Message-ID: <m{n}-{}-", step.len()));
                app.receive(raw);
                let subject = format!("Re: [{parent}] Existing");
                app.receive(mail(
                    &format!("re{n}-{}@c.test", step.len()),
                    "a@c.test",
                    "help@corp.test",
                    &subject,
                    "",
                    "r",
                ));
                let filter = step.replace("HELP-1", &parent);
                app.jira.fail_next(1, fault.clone(), Some(&filter));

                app.drain().await;

                let issues = app.jira.issues();
                assert_eq!(issues.len(), before + 2, "{case}: the parent and one new issue");
                let vpn = issues.last().expect("the mail's issue");
                assert_eq!(vpn.summary, "VPN does not connect", "{case}");
                assert_eq!(vpn.attachments.len(), 2, "{case}: each attachment once");
                let parent = app.jira.issue(&parent).expect("parent");
                assert_eq!(parent.comments.len(), 1, "{case}: one comment");
            }
        }
    }
}
