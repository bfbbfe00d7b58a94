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
                builder =
                    builder.jira_projects(&["HELP"]).data_center_bearer("pat-123").mailgate_defaults().unset("inbound");
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
