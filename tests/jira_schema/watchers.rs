//! Watchers, project roles, single users and the catch-up search.

use super::*;

/// The fields mailgate's notification catch-up asks the search for
/// (`src/notify/catchup.rs`).
pub const CATCH_UP_FIELDS: &[&str] =
    &["summary", "status", "project", "reporter", "assignee", "created", "updated", "comment"];

/// A JQL date (`yyyy/MM/dd HH:mm`, as the catch-up writes it) `hours` from now.
pub fn jql_time_from_now(hours: i64) -> String {
    use mailgate::clock::Clock;
    // The fake stamps issues with the system clock too.
    (mailgate::clock::SystemClock.now() + chrono::Duration::hours(hours)).format("%Y/%m/%d %H:%M").to_string()
}

/// The catch-up's JQL: everything updated since `hours` from now.
pub fn catch_up_jql(hours: i64) -> String {
    format!("updated >= \"{}\" ORDER BY updated ASC", jql_time_from_now(hours))
}

/// Both specs leave `IssueBean.fields` free-form (any value per field id;
/// DC after the override above), so no schema reaches inside it. The fields
/// the catch-up requests are held here to the component schema the spec
/// uses for that field elsewhere: the status, project, user and comment-page
/// schemas; `assignee` may be null (unassigned).
pub fn catch_up_field_schemas(spec: &Spec) -> Vec<(&'static str, Value)> {
    let (status, project, user, comments) = if std::ptr::eq(spec, cloud_v3()) {
        ("StatusDetails", "ProjectDetails", "UserDetails", "PageOfComments")
    } else {
        ("StatusJsonBean", "ProjectJsonBean", "UserJsonBean", "CommentsWithPaginationJsonBean")
    };
    let component = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let time = json!({"type": "string", "format": "date-time"});
    vec![
        ("summary", json!({"type": "string"})),
        ("status", component(status)),
        ("project", component(project)),
        ("reporter", component(user)),
        ("assignee", json!({"nullable": true, "allOf": [component(user)]})),
        ("created", time.clone()),
        ("updated", time),
        ("comment", component(comments)),
    ]
}

/// Hand-check the `fields` of one search hit that asked for `CATCH_UP_FIELDS`:
/// exactly the requested fields are present, each matches its component
/// schema, timestamps are Jira's, and the comment page is a page of comments.
pub fn assert_catch_up_fields(spec: &Spec, issue: &Value) {
    assert_eq!(
        spec.doc.pointer("/components/schemas/IssueBean/properties/fields/additionalProperties"),
        Some(&json!({})),
        "{}: IssueBean.fields is typed now; validate it with the spec instead of by hand",
        spec.label
    );
    let key = str_field(issue, "key");
    let fields = issue["fields"].as_object().unwrap_or_else(|| panic!("{key}: `fields` is not an object: {issue}"));
    let got: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = CATCH_UP_FIELDS.iter().copied().collect();
    assert_eq!(got, wanted, "{key}: the search must answer exactly the requested fields");
    let v = spec.validator();
    for (name, schema) in catch_up_field_schemas(spec) {
        let errors = v.validate(&schema, &fields[name]);
        assert!(
            errors.is_empty(),
            "{}: {key} field `{name}` does not match {}:\n  {}\nvalue: {:#}",
            spec.label,
            schema_label(&schema),
            errors.join("\n  "),
            fields[name]
        );
    }
    let jira_time =
        |s: &Value| s.as_str().is_some_and(|s| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z").is_ok());
    for name in ["created", "updated"] {
        assert!(jira_time(&fields[name]), "{key}: `{name}` is not a Jira timestamp: {}", fields[name]);
    }
    assert!(fields["summary"].as_str().is_some_and(|s| !s.is_empty()), "{key}: empty summary");
    assert!(fields["status"]["name"].is_string(), "{key}: status without a name: {}", fields["status"]);
    assert!(fields["project"]["key"].is_string(), "{key}: project without a key: {}", fields["project"]);
    let page = &fields["comment"];
    let comments = page["comments"].as_array().unwrap_or_else(|| panic!("{key}: no comments array: {page}"));
    assert_eq!(page["total"].as_u64(), Some(comments.len() as u64), "{key}: comment total");
    for c in comments {
        assert!(c["id"].is_string() && jira_time(&c["created"]) && jira_time(&c["updated"]), "{key}: comment {c}");
    }
}

#[tokio::test]
async fn cloud_v3_watchers_roles_users_and_search_fields_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;
    let alice = run.fake.add_user("alice@example.test", "Alice Liddell");
    let bob = run.fake.add_user("bob@example.test", "Bob Builder");
    run.fake.add_group(GROUP);

    // getIssueWatchers: `Watchers` with UserDetails entries.
    let key = run.fake.seed_issue("HELP", "Watch me");
    run.fake.add_watcher(&key, &alice);
    run.fake.add_watcher(&key, &bob);
    let watchers = run.call(Method::GET, &format!("/rest/api/3/issue/{key}/watchers"), |r| r, 200).await;
    assert_eq!(watchers["watchCount"], 2);
    assert!(watchers["isWatching"].is_boolean(), "{watchers}");
    assert_link(&run, &watchers["self"]);
    let ids: Vec<&str> =
        watchers["watchers"].as_array().expect("watchers array").iter().map(|u| str_field(u, "accountId")).collect();
    assert_eq!(ids, vec![alice.as_str(), bob.as_str()]);
    assert_eq!(watchers["watchers"][0]["emailAddress"], "alice@example.test");
    let quiet = run.fake.seed_issue("HELP", "Nobody watches");
    let none = run.call(Method::GET, &format!("/rest/api/3/issue/{quiet}/watchers"), |r| r, 200).await;
    assert_eq!((none["watchCount"].clone(), none["watchers"].clone()), (json!(0), json!([])));
    run.call(Method::GET, "/rest/api/3/issue/HELP-999/watchers", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, &format!("/rest/api/3/issue/{key}/watchers"), |r| r, 401).await;

    // getProjectRoles: role name -> URL of the role; getProjectRole: actors.
    run.fake.add_role("HELP", "Developers", &[&alice], &[GROUP]);
    run.fake.add_role("HELP", "Administrators", &[&bob], &[]);
    let roles = run.call(Method::GET, "/rest/api/3/project/HELP/role", |r| r, 200).await;
    let roles = roles.as_object().expect("getProjectRoles answers an object");
    assert_eq!(roles.keys().collect::<Vec<_>>(), vec!["Administrators", "Developers"]);
    let developers = assert_link(&run, &roles["Developers"]);
    let role_id = developers.path().rsplit('/').next().unwrap_or_default().to_string();
    assert!(role_id.parse::<i64>().is_ok(), "role URL {developers} does not end in an integer id");
    assert_eq!(developers.path(), format!("/rest/api/3/project/HELP/role/{role_id}"));
    run.call(Method::GET, "/rest/api/3/project/NOPE/role", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, "/rest/api/3/project/HELP/role", |r| r, 401).await;

    let role = run.call(Method::GET, developers.path(), |r| r, 200).await;
    assert_eq!(role["name"], "Developers");
    assert_eq!(role["id"].as_i64().map(|id| id.to_string()), Some(role_id.clone()));
    assert_link(&run, &role["self"]);
    let actors = role["actors"].as_array().expect("actors array");
    assert_eq!(actors.len(), 2, "{role}");
    let user_actor = actors.iter().find(|a| a["type"] == "atlassian-user-role-actor").expect("a user actor");
    assert_eq!(user_actor["actorUser"]["accountId"], alice.as_str());
    assert_eq!(user_actor["displayName"], "Alice Liddell");
    let group_actor = actors.iter().find(|a| a["type"] == "atlassian-group-role-actor").expect("a group actor");
    assert_eq!(group_actor["actorGroup"]["name"], GROUP);
    run.call(Method::GET, "/rest/api/3/project/HELP/role/99999", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, developers.path(), |r| r, 401).await;

    // getUser by accountId: `User`; 404 for an unknown account.
    let user = run.call(Method::GET, "/rest/api/3/user", |r| r.query(&[("accountId", alice.as_str())]), 200).await;
    assert_eq!(user["accountId"], alice.as_str());
    assert_eq!(user["emailAddress"], "alice@example.test");
    let missing =
        run.call(Method::GET, "/rest/api/3/user", |r| r.query(&[("accountId", "712020:no-such-user")]), 404).await;
    assert!(missing["errorMessages"][0].is_string(), "{missing}");
    run.call_with(
        "wrong-password",
        Method::GET,
        "/rest/api/3/user",
        |r| r.query(&[("accountId", alice.as_str())]),
        401,
    )
    .await;

    // search/jql with the catch-up's JQL and field list. A comment makes the
    // comment page non-empty; an assignee-less issue answers `assignee: null`.
    run.send_json(Method::POST, &format!("/rest/api/3/issue/{key}/comment"), json!({"body": adf("Seen.")}), 201).await;
    let fields = CATCH_UP_FIELDS.join(",");
    let jql = catch_up_jql(-1);
    let page = run
        .call(
            Method::GET,
            "/rest/api/3/search/jql",
            |r| r.query(&[("jql", jql.as_str()), ("maxResults", "100"), ("fields", fields.as_str())]),
            200,
        )
        .await;
    assert_eq!(page["isLast"], true);
    let issues = page["issues"].as_array().expect("issues array");
    let mut keys: Vec<&str> = issues.iter().map(|i| str_field(i, "key")).collect();
    keys.sort();
    assert_eq!(keys, vec![key.as_str(), quiet.as_str()], "both issues were updated in the last hour");
    for issue in issues {
        assert_catch_up_fields(run.spec, issue);
    }
    let watched = issues.iter().find(|i| i["key"] == key.as_str()).expect("the watched issue");
    assert_eq!(watched["fields"]["comment"]["total"], 1);
    assert_eq!(watched["fields"]["comment"]["comments"][0]["body"], adf("Seen."));
    assert_eq!(watched["fields"]["assignee"], Value::Null);
    println!(
        "hand-checked search/jql fields {CATCH_UP_FIELDS:?} of {} issues against Cloud v3 components",
        issues.len()
    );

    // `*all` answers every field, the requested ones among them.
    let all = run
        .call(Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", jql.as_str()), ("fields", "*all")]), 200)
        .await;
    let all_fields = all["issues"][0]["fields"].as_object().expect("fields");
    for f in CATCH_UP_FIELDS.iter().chain(&["description", "issuetype", "labels", "attachment"]) {
        assert!(all_fields.contains_key(*f), "`*all` lacks `{f}`: {:?}", all_fields.keys().collect::<Vec<_>>());
    }
    // Nothing updated in the future; an invalid date is a JQL error.
    let future = catch_up_jql(24);
    let empty = run
        .call(Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", future.as_str()), ("fields", "key")]), 200)
        .await;
    assert_eq!((empty["issues"].clone(), empty["isLast"].clone()), (json!([]), json!(true)));
    assert!(empty.get("nextPageToken").is_none(), "{empty}");
    let bad = run
        .call(
            Method::GET,
            "/rest/api/3/search/jql",
            |r| r.query(&[("jql", "updated >= \"yesterday-ish\""), ("fields", "key")]),
            400,
        )
        .await;
    assert!(bad["errorMessages"][0].is_string(), "{bad}");
    run.call_with("wrong-password", Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", jql.as_str())]), 401)
        .await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getIssueWatchers", 200),
            ("getIssueWatchers", 401),
            ("getIssueWatchers", 404),
            ("getProjectRoles", 200),
            ("getProjectRoles", 401),
            ("getProjectRoles", 404),
            ("getProjectRole", 200),
            ("getProjectRole", 401),
            ("getProjectRole", 404),
            ("getUser", 200),
            ("getUser", 401),
            ("getUser", 404),
            ("addComment", 201),
            ("searchAndReconsileIssuesUsingJql", 200),
            ("searchAndReconsileIssuesUsingJql", 400),
            ("searchAndReconsileIssuesUsingJql", 401),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_watchers_roles_users_and_search_fields_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;
    let alice = run.fake.add_user("alice@example.test", "Alice Liddell");
    run.fake.add_user("bob@example.test", "Bob Builder");
    run.fake.add_group(GROUP);

    // getIssueWatchers: DC watchers are users named by username.
    let key = run.fake.seed_issue("HELP", "Watch me");
    run.fake.add_watcher(&key, "alice@example.test");
    run.fake.add_watcher(&key, "bob@example.test");
    let watchers = run.call(Method::GET, &format!("/rest/api/2/issue/{key}/watchers"), |r| r, 200).await;
    assert_eq!(watchers["watchCount"], 2);
    let names: Vec<&str> =
        watchers["watchers"].as_array().expect("watchers array").iter().map(|u| str_field(u, "name")).collect();
    assert_eq!(names, vec!["alice@example.test", "bob@example.test"]);
    run.call(Method::GET, "/rest/api/2/issue/HELP-999/watchers", |r| r, 404).await;

    // getProjectRoles / getProjectRole: DC role actors carry no account id;
    // a user actor is named by its username.
    run.fake.add_role("HELP", "Developers", &[&alice], &[GROUP]);
    let roles = run.call(Method::GET, "/rest/api/2/project/HELP/role", |r| r, 200).await;
    let developers = assert_link(&run, &roles["Developers"]);
    assert!(developers.path().starts_with("/rest/api/2/project/HELP/role/"), "{developers}");
    run.call(Method::GET, "/rest/api/2/project/NOPE/role", |r| r, 404).await;
    let role = run.call(Method::GET, developers.path(), |r| r, 200).await;
    assert_eq!(role["name"], "Developers");
    let actors = role["actors"].as_array().expect("actors array");
    let user_actor = actors.iter().find(|a| a["type"] == "atlassian-user-role-actor").expect("a user actor");
    assert_eq!(user_actor["name"], "alice@example.test");
    assert!(user_actor.get("actorUser").is_none(), "Data Center has no account ids: {user_actor}");
    assert!(actors.iter().any(|a| a["type"] == "atlassian-group-role-actor" && a["name"] == GROUP), "{role}");
    run.call(Method::GET, "/rest/api/2/project/HELP/role/99999", |r| r, 404).await;

    // getUser by username (DC has no accountId parameter).
    let user = run.call(Method::GET, "/rest/api/2/user", |r| r.query(&[("username", "alice@example.test")]), 200).await;
    assert_eq!(user["name"], "alice@example.test");
    assert_eq!(user["emailAddress"], "alice@example.test");
    run.call(Method::GET, "/rest/api/2/user", |r| r.query(&[("username", "nobody")]), 404).await;
    run.call_with("wrong-password", Method::GET, "/rest/api/2/user", |r| r.query(&[("username", "nobody")]), 401).await;

    // search with the catch-up's JQL and field list (comment bodies are strings).
    run.send_json(Method::POST, &format!("/rest/api/2/issue/{key}/comment"), json!({"body": "Seen."}), 201).await;
    let fields = CATCH_UP_FIELDS.join(",");
    let jql = catch_up_jql(-1);
    let page = run
        .call(
            Method::GET,
            "/rest/api/2/search",
            |r| r.query(&[("jql", jql.as_str()), ("startAt", "0"), ("maxResults", "100"), ("fields", fields.as_str())]),
            200,
        )
        .await;
    assert_eq!(page["total"], 1);
    let issue = &page["issues"][0];
    assert_eq!(issue["key"], key.as_str());
    assert_catch_up_fields(run.spec, issue);
    assert_eq!(issue["fields"]["comment"]["comments"][0]["body"], "Seen.");
    println!("hand-checked search fields {CATCH_UP_FIELDS:?} against DC 10.3 components");
    let future = catch_up_jql(24);
    let empty = run.call(Method::GET, "/rest/api/2/search", |r| r.query(&[("jql", future.as_str())]), 200).await;
    assert_eq!((empty["total"].clone(), empty["issues"].clone()), (json!(0), json!([])));
    run.call(Method::GET, "/rest/api/2/search", |r| r.query(&[("jql", "updated >= \"soon\"")]), 400).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getIssueWatchers", 200),
            ("getIssueWatchers", 404),
            ("getProjectRoles", 200),
            ("getProjectRoles", 404),
            ("getProjectRole", 200),
            ("getProjectRole", 404),
            ("getUser_1", 200),
            ("getUser_1", 401),
            ("getUser_1", 404),
            ("addComment", 201),
            ("search_1", 200),
            ("search_1", 400),
        ])
    );
}
