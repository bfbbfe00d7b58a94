//! Issues, comments, attachments and search answers of the fake, Cloud v3 and DC 10.3.

use super::*;

#[tokio::test]
async fn cloud_v3_answers_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;

    // getCurrentUser
    let me = run.call(Method::GET, "/rest/api/3/myself", |r| r, 200).await;
    assert!(!str_field(&me, "accountId").is_empty());

    // createIssue with an ADF description
    let created = run
        .send_json(
            Method::POST,
            "/rest/api/3/issue",
            json!({"fields": {
                "project": {"key": "HELP"},
                "issuetype": {"name": "Task"},
                "summary": "Printer on fire",
                "description": adf("The printer on floor 3 is on fire."),
                "labels": ["email"]
            }}),
            201,
        )
        .await;
    // CreatedIssue has no `required` in the spec, so insist on the basics here.
    let key = str_field(&created, "key").to_string();
    assert!(key.starts_with("HELP-"), "unexpected key {key}");
    assert!(!str_field(&created, "id").is_empty());
    assert!(str_field(&created, "self").ends_with(str_field(&created, "id")));

    // getIssue
    let issue_path = format!("/rest/api/3/issue/{key}");
    let issue = run.call(Method::GET, &issue_path, |r| r, 200).await;
    assert_eq!(issue["key"], key.as_str());
    assert_eq!(issue["fields"]["summary"], "Printer on fire");
    assert_eq!(issue["fields"]["description"], adf("The printer on floor 3 is on fire."));

    // addComment (ADF body) and getComments
    let comments_path = format!("/rest/api/3/issue/{key}/comment");
    let comment = run.send_json(Method::POST, &comments_path, json!({"body": adf("Fire brigade called.")}), 201).await;
    let comment_id = str_field(&comment, "id").to_string();
    assert_eq!(comment["body"], adf("Fire brigade called."));

    let page = run.call(Method::GET, &comments_path, |r| r, 200).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["comments"][0]["id"], comment_id.as_str());
    let default_max = run
        .spec
        .operation("GET", &comments_path)
        .expect("getComments in the spec")
        .param_default("maxResults")
        .cloned();
    if let Some(default_max) = default_max {
        assert_eq!(
            page["maxResults"], default_max,
            "getComments without maxResults must page with the spec's default size"
        );
    }
    run.send_json(Method::POST, &comments_path, json!({"body": adf("Fire is out.")}), 201).await;
    let second =
        run.call(Method::GET, &comments_path, |r| r.query(&[("startAt", "1"), ("maxResults", "1")]), 200).await;
    assert_eq!(second["startAt"], 1);
    assert_eq!(second["maxResults"], 1);
    assert_eq!(second["total"], 2);
    assert_eq!(second["comments"].as_array().map(Vec::len), Some(1));
    assert_ne!(second["comments"][0]["id"], comment_id.as_str());

    // addAttachment: multipart, XSRF header, 200 with an array
    let attach_path = format!("/rest/api/3/issue/{key}/attachments");
    let attached = run
        .call(
            Method::POST,
            &attach_path,
            |r| r.header("X-Atlassian-Token", "no-check").multipart(attachment_form()),
            200,
        )
        .await;
    let attached = attached.as_array().expect("attachments answer is an array");
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0]["filename"], "hello.txt");
    assert_eq!(attached[0]["size"], b"hello from mailgate\n".len());
    // Without the XSRF header Jira refuses: 403 is declared (no body schema).
    run.call(Method::POST, &attach_path, |r| r.multipart(attachment_form()), 403).await;

    // search/jql over several pages, following nextPageToken to the end.
    for n in 0..6 {
        run.fake.seed_issue("HELP", &format!("Seeded issue {n}"));
    }
    let expected_keys = run.keys_in_project("HELP");
    assert_eq!(expected_keys.len(), 7);
    let mut seen: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "search/jql pagination does not end");
        let t = token.take();
        let page = run
            .call(
                Method::GET,
                "/rest/api/3/search/jql",
                |r| {
                    let r =
                        r.query(&[("jql", "project = HELP ORDER BY key"), ("maxResults", "3"), ("fields", "summary")]);
                    match &t {
                        Some(t) => r.query(&[("nextPageToken", t.as_str())]),
                        None => r,
                    }
                },
                200,
            )
            .await;
        let issues = page["issues"].as_array().expect("issues array");
        assert!(issues.len() <= 3, "page larger than maxResults");
        seen.extend(issues.iter().map(|i| str_field(i, "key").to_string()));
        let is_last = page["isLast"].as_bool().expect("isLast is a boolean");
        match page.get("nextPageToken") {
            Some(Value::String(next)) => {
                assert!(!is_last, "nextPageToken on a page with isLast=true");
                token = Some(next.clone());
            }
            None => {
                assert!(is_last, "no nextPageToken but isLast=false");
                break;
            }
            Some(other) => panic!("nextPageToken is not a string: {other}"),
        }
    }
    assert_eq!(pages, 3, "7 issues at 3 per page");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an issue came back twice: {seen:?}");
    seen.sort();
    assert_eq!(seen, expected_keys);

    // Errors.
    let bad = run
        .send_json(
            Method::POST,
            "/rest/api/3/issue",
            json!({"fields": {
                "project": {"key": "NOPE"},
                "issuetype": {"name": "Task"},
                "summary": "Nowhere",
                "description": adf("no such project")
            }}),
            400,
        )
        .await;
    assert!(bad["errors"]["project"].is_string(), "{bad}");

    let bad_jql = run
        .call(Method::GET, "/rest/api/3/search/jql", |r| r.query(&[("jql", "project = HELP AND summary ~ fire")]), 400)
        .await;
    assert!(bad_jql["errorMessages"][0].is_string(), "{bad_jql}");

    let missing = run.call(Method::GET, "/rest/api/3/issue/HELP-999", |r| r, 404).await;
    assert!(missing["errorMessages"][0].is_string(), "{missing}");

    let denied = run
        .call_with(
            "wrong-password",
            Method::POST,
            "/rest/api/3/issue",
            |r| {
                r.json(&json!({"fields": {
                    "project": {"key": "HELP"},
                    "issuetype": {"name": "Task"},
                    "summary": "Should not exist"
                }}))
            },
            401,
        )
        .await;
    assert!(denied["errorMessages"][0].is_string(), "{denied}");
    run.call_with("wrong-password", Method::GET, "/rest/api/3/myself", |r| r, 401).await;
    assert_eq!(run.keys_in_project("HELP").len(), 7, "a failed call created an issue");

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getCurrentUser", 200),
            ("getCurrentUser", 401),
            ("createIssue", 201),
            ("createIssue", 400),
            ("createIssue", 401),
            ("getIssue", 200),
            ("getIssue", 404),
            ("addComment", 201),
            ("getComments", 200),
            ("addAttachment", 200),
            ("addAttachment", 403),
            ("searchAndReconsileIssuesUsingJql", 200),
            ("searchAndReconsileIssuesUsingJql", 400),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_answers_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;

    run.call(Method::GET, "/rest/api/2/myself", |r| r, 200).await;

    // createIssue: on DC the description is a plain (wiki markup) string.
    let created = run
        .send_json(
            Method::POST,
            "/rest/api/2/issue",
            json!({"fields": {
                "project": {"key": "HELP"},
                "issuetype": {"name": "Task"},
                "summary": "VPN down",
                "description": "The VPN is down since *9:00*."
            }}),
            201,
        )
        .await;
    let key = str_field(&created, "key").to_string();
    assert!(key.starts_with("HELP-"), "unexpected key {key}");

    let issue_path = format!("/rest/api/2/issue/{key}");
    let issue = run.call(Method::GET, &issue_path, |r| r, 200).await;
    assert_eq!(issue["fields"]["description"], "The VPN is down since *9:00*.");

    let comments_path = format!("/rest/api/2/issue/{key}/comment");
    let comment =
        run.send_json(Method::POST, &comments_path, json!({"body": "Restarted the concentrator."}), 201).await;
    assert_eq!(comment["body"], "Restarted the concentrator.");
    let page = run.call(Method::GET, &comments_path, |r| r, 200).await;
    assert_eq!(page["total"], 1);

    let attached = run
        .call(
            Method::POST,
            &format!("/rest/api/2/issue/{key}/attachments"),
            |r| r.header("X-Atlassian-Token", "no-check").multipart(attachment_form()),
            200,
        )
        .await;
    assert_eq!(attached[0]["filename"], "hello.txt");

    // search (startAt/maxResults/total paging) to the end.
    for n in 0..6 {
        run.fake.seed_issue("HELP", &format!("Seeded issue {n}"));
    }
    let expected_keys = run.keys_in_project("HELP");
    let mut seen: Vec<String> = Vec::new();
    let mut start_at = 0usize;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "search pagination does not end");
        let start = start_at.to_string();
        let page = run
            .call(
                Method::GET,
                "/rest/api/2/search",
                |r| r.query(&[("jql", "project = HELP"), ("startAt", start.as_str()), ("maxResults", "3")]),
                200,
            )
            .await;
        assert_eq!(page["startAt"], start_at);
        assert_eq!(page["maxResults"], 3);
        let total = page["total"].as_u64().expect("total") as usize;
        assert_eq!(total, expected_keys.len());
        let issues = page["issues"].as_array().expect("issues array");
        seen.extend(issues.iter().map(|i| str_field(i, "key").to_string()));
        start_at += issues.len();
        if issues.is_empty() || start_at >= total {
            break;
        }
    }
    assert_eq!(pages, 3);
    seen.sort();
    assert_eq!(seen, expected_keys);

    // Errors: DC declares 400/404/401 here without a body schema, so the
    // bodies are held to the DC spec's ErrorCollection.
    let bad = run
        .send_json(
            Method::POST,
            "/rest/api/2/issue",
            json!({"fields": {
                "project": {"key": "NOPE"},
                "issuetype": {"name": "Task"},
                "summary": "Nowhere"
            }}),
            400,
        )
        .await;
    assert!(bad["errors"]["project"].is_string(), "{bad}");
    run.call(Method::GET, "/rest/api/2/search", |r| r.query(&[("jql", "project = HELP AND summary ~ vpn")]), 400).await;
    run.call(Method::GET, "/rest/api/2/issue/HELP-999", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, "/rest/api/2/myself", |r| r, 401).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getUser", 200),
            ("getUser", 401),
            ("createIssue", 201),
            ("createIssue", 400),
            ("getIssue", 200),
            ("getIssue", 404),
            ("addComment", 201),
            ("getComments", 200),
            ("addAttachment", 200),
            ("search_1", 200),
            ("search_1", 400),
        ])
    );
}
