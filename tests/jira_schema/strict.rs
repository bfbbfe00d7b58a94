//! The fake's strict behaviours, each against Atlassian's spec and with
//! its source (see `fake_jira::Strictness`): properties are not
//! JQL-searchable and are read per entity; search lags behind writes unless
//! the issue is reconciled, a GET or bulk fetch never does; text fields
//! over 32,767 characters are refused.

use std::time::Duration;

use super::*;

fn new_issue(summary: &str, description: Value) -> Value {
    json!({
        "fields": {"project": {"key": "HELP"}, "issuetype": {"name": "Task"}, "summary": summary, "description": description},
        "properties": [{"key": "mailgate", "value": {"messageId": "m1@example.test"}}]
    })
}

fn doc(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

#[tokio::test]
async fn entity_properties_are_read_per_entity_and_never_found_by_jql() {
    let mut run = Run::start(cloud_v3()).await;
    let created = run.send_json(Method::POST, "/rest/api/3/issue", new_issue("Props", doc("x")), 201).await;
    let key = str_field(&created, "key").to_string();

    // jira-facts.md "Search and properties": no index for a REST client.
    let jql = r#"project = HELP AND issue.property[mailgate].messageId = "m1@example.test""#;
    let err = run.call(Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", jql)]), 400).await;
    assert!(err["errorMessages"][0].as_str().is_some_and(|m| m.contains("does not exist")), "{err}");

    let prop = run.call(Method::GET, &format!("/rest/api/3/issue/{key}/properties/mailgate"), |r| r, 200).await;
    assert_eq!(prop["value"]["messageId"], "m1@example.test");
    run.call(Method::GET, &format!("/rest/api/3/issue/{key}/properties/other"), |r| r, 404).await;

    // P3 bulkFetchIssues: consistent, missing keys left out, properties included.
    let body = json!({"issueIdsOrKeys": [key, "HELP-99"], "fields": ["summary"], "properties": ["mailgate"]});
    let bulk = run.send_json(Method::POST, "/rest/api/3/issue/bulkfetch", body, 200).await;
    let issues = bulk["issues"].as_array().expect("issues");
    assert_eq!(issues.len(), 1, "HELP-99 does not exist: left out");
    assert_eq!(issues[0]["properties"]["mailgate"]["messageId"], "m1@example.test");

    let comment = json!({"body": doc("hello"), "properties": [{"key": "mailgate", "value": {"messageId": "c1@x"}}]});
    let c = run.send_json(Method::POST, &format!("/rest/api/3/issue/{key}/comment"), comment, 201).await;
    let id = str_field(&c, "id").to_string();
    // getComments documents only `renderedBody` for `expand`.
    let list = run
        .call(Method::GET, &format!("/rest/api/3/issue/{key}/comment"), |r| r.query(&[("expand", "properties")]), 200)
        .await;
    assert!(list["comments"][0].get("properties").is_none(), "expand=properties is not honoured: {list}");
    let prop = run.call(Method::GET, &format!("/rest/api/3/comment/{id}/properties/mailgate"), |r| r, 200).await;
    assert_eq!(prop["value"]["messageId"], "c1@x");
    run.call(Method::GET, &format!("/rest/api/3/comment/{id}/properties/other"), |r| r, 404).await;
    run.report();
}

#[tokio::test]
async fn search_lags_behind_a_write_unless_the_issue_is_reconciled() {
    let mut run = Run::start(cloud_v3()).await;
    run.fake.set_search_lag(Duration::from_millis(800));
    let created = run.send_json(Method::POST, "/rest/api/3/issue", new_issue("Lagging", doc("x")), 201).await;
    let (key, id) = (str_field(&created, "key").to_string(), str_field(&created, "id").to_string());
    let search = |reconcile: Option<String>| {
        move |r: reqwest::RequestBuilder| {
            let r = r.query(&[("jql", "project = HELP")]);
            match &reconcile {
                Some(id) => r.query(&[("reconcileIssues", id.as_str())]),
                None => r,
            }
        }
    };
    // developer.atlassian.com/cloud/jira/platform/search-and-reconcile
    let hits = run.call(Method::GET, "/rest/api/3/search/jql", search(None), 200).await;
    assert_eq!(hits["issues"].as_array().map(Vec::len), Some(0), "not indexed yet: {hits}");
    let hits = run.call(Method::GET, "/rest/api/3/search/jql", search(Some(id)), 200).await;
    assert_eq!(hits["issues"][0]["key"], key.as_str(), "reconcileIssues reads the issue as it is");
    run.call(Method::GET, &format!("/rest/api/3/issue/{key}"), |r| r, 200).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let hits = run.call(Method::GET, "/rest/api/3/search/jql", search(None), 200).await;
    assert_eq!(hits["issues"][0]["key"], key.as_str(), "indexed after the lag");
    run.report();
}

#[tokio::test]
async fn text_over_32767_characters_is_refused_naming_the_field() {
    let mut run = Run::start(cloud_v3()).await;
    let long = "x".repeat(33_000);
    let err = run.send_json(Method::POST, "/rest/api/3/issue", new_issue("Too long", doc(&long)), 400).await;
    assert!(err["errors"]["description"].as_str().is_some_and(|m| m.contains("32,767")), "{err}");
    let ok = run.send_json(Method::POST, "/rest/api/3/issue", new_issue("Fits", doc("short")), 201).await;
    let key = str_field(&ok, "key").to_string();
    let err = run
        .send_json(Method::POST, &format!("/rest/api/3/issue/{key}/comment"), json!({"body": doc(&long)}), 400)
        .await;
    assert!(err["errors"]["comment"].as_str().is_some_and(|m| m.contains("32,767")), "{err}");
    run.report();
}

#[tokio::test]
async fn a_hidden_email_is_in_no_user_object() {
    let mut run = Run::start(cloud_v3()).await;
    let id = run.fake.add_user("hugo@private.test", "Hugo Hidden");
    run.fake.hide_email(&id);
    run.fake.add_group("staff");
    run.fake.add_member("staff", &id);
    let created = run.send_json(Method::POST, "/rest/api/3/issue", new_issue("Watched", doc("x")), 201).await;
    let key = str_field(&created, "key").to_string();
    run.fake.add_watcher(&key, &id);

    // developer.atlassian.com/cloud/jira/platform/profile-visibility/
    let found =
        run.call(Method::GET, "/rest/api/3/user/search", |r| r.query(&[("query", "hugo@private.test")]), 200).await;
    let members = run.call(Method::GET, "/rest/api/3/group/member", |r| r.query(&[("groupname", "staff")]), 200).await;
    let watchers = run.call(Method::GET, &format!("/rest/api/3/issue/{key}/watchers"), |r| r, 200).await;
    let user = run.call(Method::GET, "/rest/api/3/user", |r| r.query(&[("accountId", id.as_str())]), 200).await;
    for (what, v) in [
        ("search", &found[0]),
        ("members", &members["values"][0]),
        ("watchers", &watchers["watchers"][0]),
        ("user", &user),
    ] {
        assert_eq!(v["accountId"], id.as_str(), "{what}: {v}");
        assert!(v.get("emailAddress").is_none(), "{what} shows the hidden email: {v}");
    }
    run.report();
}
