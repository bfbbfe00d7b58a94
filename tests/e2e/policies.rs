//! Conversation policies per rule: who may comment by mail (anyone,
//! involved, domains; outsiders get a new issue or a polite reply) and what
//! a reply to a closed issue does (comment, reopen by a transition found by
//! name, a new linked issue, a polite reply; "resolved long ago ⇒ new issue").

use mailgate_testkit::{TestApp, TestDb, mail};

const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT-policies-2b9d";

/// HELP only, every mail to HELP under `conversation`, the workaround token set.
async fn app_with(db: TestDb, conversation: &str) -> TestApp {
    let app = TestApp::builder()
        .db(db)
        .jira_accepts(ADMIN_USER, ADMIN_TOKEN)
        .master_key(&"7e".repeat(32))
        .unset("routing.rules")
        .set_toml("routing.default", &format!(r#"{{ project = "HELP", conversation = {conversation} }}"#))
        .spawn()
        .await;
    app.set_token(ADMIN_USER, ADMIN_TOKEN).await;
    app
}

fn reply(id: &str, from: &str, body: &str) -> Vec<u8> {
    mail(id, from, "help@corp.test", "Re: [HELP-1] Printer on fire", "", body)
}

/// Ann opens HELP-1 with Bob on Cc.
async fn open_help_1(app: &TestApp) {
    app.receive(mail(
        "open@c.test",
        "Ann <ann@c.test>",
        "help@corp.test",
        "Printer on fire",
        "Cc: bob@c.test\r\n",
        "It smokes.",
    ));
    app.drain().await;
    assert!(app.jira.issue("HELP-1").is_some(), "{}", app.label());
}

fn comments_on(app: &TestApp, key: &str) -> Vec<String> {
    app.jira.issue(key).map(|i| i.comments.iter().map(|c| c.body.to_string()).collect()).unwrap_or_default()
}

async fn refusals_to(app: &TestApp, address: &str) -> usize {
    let rows = app.store().await.outgoing_of_kind("refusal").await.expect("rows");
    rows.iter().filter(|r| r.recipient == address).count()
}

#[tokio::test]
async fn involved_people_comment_and_outsiders_get_an_issue_of_their_own() {
    for db in TestDb::all().await {
        let app = app_with(db, r#"{ who_may_comment = "involved" }"#).await;
        let agent = app.jira.add_user("agent@corp.test", "Agent Smith");
        let watcher = app.jira.add_customer("wendy@c.test", "Wendy");
        let stranger = app.jira.add_customer("sam@c.test", "Sam");
        open_help_1(&app).await;
        app.jira.add_watcher("HELP-1", &watcher);
        let _ = (agent, stranger);

        for (n, from) in ["ann@c.test", "bob@c.test", "agent@corp.test", "wendy@c.test"].iter().enumerate() {
            app.receive(reply(&format!("in-{n}@c.test"), from, &format!("from {from}")));
        }
        app.receive(reply("out-1@c.test", "mallory@evil.test", "from mallory"));
        app.receive(reply("out-2@c.test", "sam@c.test", "from sam"));
        app.drain().await;

        let comments = comments_on(&app, "HELP-1");
        for who in ["ann@c.test", "bob@c.test", "agent@corp.test", "wendy@c.test"] {
            assert!(
                comments.iter().any(|c| c.contains(&format!("from {who}"))),
                "{who} ({}): {comments:?}",
                app.label()
            );
        }
        assert!(!comments.iter().any(|c| c.contains("mallory") || c.contains("from sam")), "{comments:?}");
        let summaries: Vec<String> = app.jira.issues().iter().map(|i| i.summary.clone()).collect();
        assert_eq!(app.jira.issues().len(), 3, "one issue each for the two outsiders: {summaries:?}");
    }
}

#[tokio::test]
async fn outsiders_can_be_refused_with_a_polite_reply_and_domains_can_be_listed() {
    let app = app_with(TestDb::sqlite(), r#"{ who_may_comment = "involved", outsiders = "reject" }"#).await;
    open_help_1(&app).await;
    app.receive(reply("out-1@c.test", "Mallory <mallory@evil.test>", "let me in"));
    app.drain().await;
    assert_eq!(app.jira.issues().len(), 1, "nothing made in Jira");
    assert!(comments_on(&app, "HELP-1").is_empty());
    assert_eq!(refusals_to(&app, "mallory@evil.test").await, 1);
    let rows = app.store().await.outgoing_of_kind("refusal").await.expect("rows");
    assert_eq!(rows[0].in_reply_to.as_deref(), Some("out-1@c.test"), "threaded under the refused mail");

    let app = app_with(TestDb::sqlite(), r#"{ who_may_comment = { domains = ["corp.test"] } }"#).await;
    open_help_1(&app).await;
    app.receive(reply("d-1@corp.test", "it@corp.test", "inside"));
    app.receive(reply("d-2@c.test", "ann@c.test", "the requester, but not of the domain"));
    app.drain().await;
    let comments = comments_on(&app, "HELP-1");
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(comments[0].contains("inside"));
    assert_eq!(app.jira.issues().len(), 2);
}

#[tokio::test]
async fn each_closed_issue_policy_does_what_it_says() {
    for db in TestDb::all().await {
        let label = db.label;
        // comment: as on an open issue.
        let app = app_with(db, r#"{ closed = "comment" }"#).await;
        open_help_1(&app).await;
        app.jira.resolve_issue("HELP-1");
        app.receive(reply("r-1@c.test", "ann@c.test", "still broken"));
        app.drain().await;
        assert_eq!(comments_on(&app, "HELP-1").len(), 1, "{label}");
        assert_eq!(app.jira.issue_status("HELP-1"), "Done");
    }

    // reopen: the transition is found by its name, whatever the workflow calls it.
    let app = app_with(TestDb::sqlite(), r#"{ closed = "reopen", reopen_transition = "back to work" }"#).await;
    app.jira.set_reopen_transition_name("Back to work");
    open_help_1(&app).await;
    app.jira.resolve_issue("HELP-1");
    app.receive(reply("r-2@c.test", "ann@c.test", "still broken"));
    app.drain().await;
    assert_eq!(app.jira.issue_status("HELP-1"), "Open", "reopened");
    assert_eq!(comments_on(&app, "HELP-1").len(), 1);
    assert!(app.jira.count_calls("GET /rest/api/3/issue/HELP-1/transitions") >= 1);

    // new-issue: a follow-up linked to the closed one.
    let app = app_with(TestDb::sqlite(), r#"{ closed = "new-issue" }"#).await;
    open_help_1(&app).await;
    app.jira.resolve_issue("HELP-1");
    app.receive(reply("r-3@c.test", "ann@c.test", "still broken"));
    app.drain().await;
    assert!(comments_on(&app, "HELP-1").is_empty());
    assert_eq!(app.jira.issues().len(), 2);
    assert!(
        app.jira.links("HELP-2").iter().any(|(t, other)| t == "Relates" && other == "HELP-1"),
        "{:?}",
        app.jira.links("HELP-2")
    );

    // reject: a polite reply, nothing in Jira.
    let app = app_with(TestDb::sqlite(), r#"{ closed = "reject" }"#).await;
    open_help_1(&app).await;
    app.jira.resolve_issue("HELP-1");
    app.receive(reply("r-4@c.test", "ann@c.test", "still broken"));
    app.drain().await;
    assert!(comments_on(&app, "HELP-1").is_empty());
    assert_eq!(app.jira.issues().len(), 1);
    assert_eq!(refusals_to(&app, "ann@c.test").await, 1);
}

#[tokio::test]
async fn a_reply_to_an_issue_resolved_long_ago_becomes_a_new_linked_issue() {
    let app = app_with(TestDb::sqlite(), r#"{ closed = "reopen", new_issue_after_days = 7 }"#).await;
    open_help_1(&app).await;
    let ten_days_ago = mailgate::clock::Clock::now_ms(&mailgate::clock::SystemClock) - 10 * 86_400_000;
    app.jira.resolve_issue_at("HELP-1", ten_days_ago);
    app.receive(reply("late@c.test", "ann@c.test", "it is back"));
    app.drain().await;
    assert_eq!(app.jira.issue_status("HELP-1"), "Done", "not reopened");
    assert_eq!(app.jira.issues().len(), 2);
    assert!(app.jira.links("HELP-2").iter().any(|(_, other)| other == "HELP-1"));

    // Resolved yesterday: reopened.
    app.jira.resolve_issue_at("HELP-2", mailgate::clock::Clock::now_ms(&mailgate::clock::SystemClock) - 86_400_000);
    app.receive(mail("soon@c.test", "ann@c.test", "help@corp.test", "Re: [HELP-2] Printer on fire", "", "again"));
    app.drain().await;
    assert_eq!(app.jira.issue_status("HELP-2"), "Open");
    assert_eq!(comments_on(&app, "HELP-2").len(), 1);
}
