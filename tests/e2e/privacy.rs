//! Internal notes and restricted comments reach nobody by mail (issue 13),
//! whatever a script says. The payloads are shaped like Atlassian's
//! `comment_created` webhook (platform `Comment`: `visibility`
//! `{type, value}`, `jsdPublic`; see API-NOTES.md and jira-facts.md).

use mailgate::notify::webhook::parse_payload;
use mailgate::notify::{Notifier, NotifyOutcome};
use mailgate_testkit::{TestApp, TestAppBuilder};

/// A script that would mail everyone it can name.
const GREEDY: &str = "add_user(\"everyone@corp.test\");";

fn app_builder() -> TestAppBuilder {
    TestApp::builder()
        .jira_projects(&["HELP", "SD"])
        .unset("routing")
        .toml(
            r#"
[[routing.rules]]
recipient = "support@corp.test"
project = "SD"
service_desk = "7"
request_type = "25"
[routing]
default = { project = "HELP" }
[notify]
scripts_dir = "{dir}/scripts"
"#,
        )
        .mkdir("scripts")
        .file("scripts/comment_created.rhai", GREEDY)
        .smtp_nowhere()
}

fn payload(key: &str, comment: serde_json::Value) -> Vec<u8> {
    let project = key.split('-').next().unwrap_or_default();
    serde_json::json!({
        "timestamp": 1_795_000_000_000i64,
        "webhookEvent": "comment_created",
        "issue": {"id": "10001", "key": key, "fields": {
            "summary": "Printer on fire", "project": {"key": project}, "status": {"name": "Open"},
            "reporter": {"accountId": "r-1", "emailAddress": "reporter@customer.test", "displayName": "Rita Reporter"},
            "updated": "2026-11-23T10:00:00.000+0000"}},
        "comment": comment
    })
    .to_string()
    .into_bytes()
}

/// Queue the webhook's event and notify it: the number of recipients.
async fn notify(n: &Notifier, body: &[u8]) -> usize {
    let event = parse_payload(body).expect("payload").expect("an event");
    assert!(n.queue(&event).await.expect("queue"));
    match n.try_notify_one().await.expect("notify") {
        NotifyOutcome::Queued { recipients, .. } => recipients,
        other => panic!("not notified: {other:?}"),
    }
}

#[tokio::test]
async fn restricted_comments_and_internal_notes_are_mailed_to_nobody() {
    let app = app_builder().spawn().await;
    app.jira.seed_issue("HELP", "Printer on fire");
    let n = app.notifier().await;
    let author = serde_json::json!({"accountId": "a-1", "displayName": "Agent Smith"});

    let public = payload("HELP-1", serde_json::json!({"id": "101", "body": "We are on it.", "author": author}));
    assert_eq!(notify(&n, &public).await, 1, "a public comment: the script's user");

    for (id, extra) in [
        ("102", serde_json::json!({"visibility": {"type": "role", "value": "Administrators"}})),
        (
            "103",
            serde_json::json!({"visibility": {"type": "group", "value": "jira-servicedesk-users", "identifier": "276f955c"}}),
        ),
        ("104", serde_json::json!({"jsdPublic": false})),
    ] {
        let mut comment =
            serde_json::json!({"id": id, "body": "Internal: the customer is difficult.", "author": author});
        if let (Some(c), Some(e)) = (comment.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        assert_eq!(notify(&n, &payload("HELP-1", comment)).await, 0, "comment {id}: {extra}");
    }
    let rows = app.store().await.outgoing_of_kind("comment_created").await.expect("rows");
    assert_eq!(rows.len(), 1, "only the public comment's mail");
}

#[tokio::test]
async fn on_a_service_desk_the_jsm_api_decides_not_the_webhook_flag() {
    let app = app_builder().spawn().await;
    app.jira.add_service_desk("7", "SD");
    app.jira.seed_issue("SD", "VPN down");
    let internal = app.jira.add_agent_comment("SD-1", "Internal: escalate to networking.", false).expect("comment");
    let public = app.jira.add_agent_comment("SD-1", "We are on it.", true).expect("comment");
    let n = app.notifier().await;
    let author = serde_json::json!({"accountId": "a-1", "displayName": "Agent Smith"});

    // The webhook says jsdPublic: true for both (as reported for real sites).
    let body = |id: &str, text: &str| {
        payload("SD-1", serde_json::json!({"id": id, "body": text, "author": author, "jsdPublic": true}))
    };
    assert_eq!(notify(&n, &body(&internal, "Internal: escalate to networking.")).await, 0);
    assert_eq!(notify(&n, &body(&public, "We are on it.")).await, 1);
    assert_eq!(app.jira.count_calls("GET /rest/servicedeskapi/request/SD-1/comment/"), 2);
}
