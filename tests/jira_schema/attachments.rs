//! Attachment metadata and downloads, and other users' permissions: the
//! fake's answers, Cloud v3 and DC 10.3.

use super::*;

pub const PICTURE: &[u8] = b"\x89PNG\r\n\x1a\nnot really a picture";

/// The fake's agent account (the author of `add_agent_attachment` uploads).
pub fn agent_of(fake: &FakeJira) -> mailgate_testkit::fake_jira::FakeUser {
    fake.users().into_iter().find(|u| u.email == "agent@example.test").expect("the agent account")
}

/// GET `url` with the test's credentials (or none), not following redirects.
async fn raw_get(run: &Run, url: &str, auth: bool) -> reqwest::Response {
    let r = run.http.get(url);
    let r = if auth { r.basic_auth(USER, Some(SECRET)) } else { r };
    r.send().await.expect("HTTP call to the fake Jira")
}

#[tokio::test]
async fn cloud_v3_attachment_metadata_and_content_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;
    let key = run.fake.seed_issue("HELP", "Printer on fire");
    let id = run.fake.add_agent_attachment(&key, "screen shot.png", "image/png", PICTURE).expect("the issue exists");
    let agent = agent_of(&run.fake);
    run.fake.hide_email(&agent.account_id);

    // getAttachment: AttachmentMetadata (integer id, additionalProperties false).
    let meta = run.call(Method::GET, &format!("/rest/api/3/attachment/{id}"), |r| r, 200).await;
    assert_eq!(meta["id"].as_i64().map(|n| n.to_string()), Some(id.clone()), "P3 types the id as int64: {meta}");
    assert_eq!(
        (&meta["filename"], &meta["size"], &meta["mimeType"]),
        (&json!("screen shot.png"), &json!(PICTURE.len()), &json!("image/png"))
    );
    assert_eq!(meta["author"]["accountId"], agent.account_id.as_str());
    assert!(meta["author"].get("emailAddress").is_none(), "the agent's email is hidden: {meta}");
    let content = str_field(&meta, "content").to_string();
    assert_eq!(content, format!("{}/rest/api/3/attachment/content/{id}", run.fake.base_url()));
    run.call(Method::GET, "/rest/api/3/attachment/99999", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, &format!("/rest/api/3/attachment/{id}"), |r| r, 401).await;

    // getAttachmentContent: 303 to the media host (no body), which serves the
    // bytes to its URL's token alone; `redirect=false` answers the bytes.
    let path = format!("/rest/api/3/attachment/content/{id}");
    assert_eq!(run.call(Method::GET, &path, |r| r, 303).await, Value::Null);
    run.call(Method::GET, "/rest/api/3/attachment/content/99999", |r| r, 404).await;
    run.call_with("wrong-password", Method::GET, &path, |r| r, 401).await;
    let redirect = raw_get(&run, &content, true).await;
    assert_eq!(redirect.status().as_u16(), 303);
    let location = redirect.headers().get(LOCATION).and_then(|v| v.to_str().ok()).expect("Location").to_string();
    let media = raw_get(&run, &location, false).await;
    assert_eq!(media.status().as_u16(), 200, "the media URL needs no Jira credentials");
    assert_eq!(media.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("image/png"));
    assert_eq!(&media.bytes().await.expect("bytes")[..], PICTURE);
    let forged = location.replace("token=", "token=x");
    assert_eq!(raw_get(&run, &forged, false).await.status().as_u16(), 401, "a wrong media token is refused");
    // 200 with `redirect=false` is declared without a body schema (binary).
    let direct = raw_get(&run, &format!("{content}?redirect=false"), true).await;
    assert_eq!(direct.status().as_u16(), 200);
    assert_eq!(&direct.bytes().await.expect("bytes")[..], PICTURE);

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getAttachment", 200),
            ("getAttachment", 401),
            ("getAttachment", 404),
            ("getAttachmentContent", 303),
            ("getAttachmentContent", 401),
            ("getAttachmentContent", 404),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_attachment_metadata_and_download_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;
    let key = run.fake.seed_issue("HELP", "VPN down");
    let id =
        run.fake.add_agent_attachment(&key, "vpn log.txt", "text/plain", b"tunnel down").expect("the issue exists");

    // getAttachment: AttachmentBean (a string id); `content` is the servlet.
    let meta = run.call(Method::GET, &format!("/rest/api/2/attachment/{id}"), |r| r, 200).await;
    assert_eq!(meta["id"], id.as_str());
    assert_eq!(meta["author"]["name"], "agent@example.test", "DC users are named by username");
    let content = str_field(&meta, "content").to_string();
    assert_eq!(content, format!("{}/secure/attachment/{id}/vpn%20log.txt", run.fake.base_url()));
    run.call(Method::GET, "/rest/api/2/attachment/99999", |r| r, 404).await;

    // The download servlet is outside the REST API (no spec): credentials required.
    let download = raw_get(&run, &content, true).await;
    assert_eq!(download.status().as_u16(), 200);
    assert_eq!(&download.bytes().await.expect("bytes")[..], b"tunnel down");
    assert_eq!(raw_get(&run, &content, false).await.status().as_u16(), 401);

    run.report();
    assert_eq!(run.covered(), expected_coverage(&[("getAttachment", 200), ("getAttachment", 404)]));
}

/// The users of a findUsersWithAllPermissions answer by `field`.
fn ids(answer: &Value, field: &str) -> Vec<String> {
    let users = answer.as_array().unwrap_or_else(|| panic!("not a bare array: {answer}"));
    users.iter().map(|u| str_field(u, field).to_string()).collect()
}

#[tokio::test]
async fn cloud_v3_permission_search_answers_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;
    let alice = run.fake.add_user("alice@example.test", "Alice Agent");
    run.fake.hide_email(&alice);
    let carol = run.fake.add_customer("carol@customer.test", "Carol Customer");
    let key = run.fake.seed_issue("HELP", "Printer on fire");
    let path = "/rest/api/3/user/permission/search";
    let ask = |who: &str| {
        let q =
            [("permissions", "ADD_COMMENTS".to_string()), ("issueKey", key.clone()), ("accountId", who.to_string())];
        move |r: reqwest::RequestBuilder| r.query(&q)
    };

    // An agent may comment, a portal customer may not until granted; a
    // hidden email stays hidden.
    let agent = run.call(Method::GET, path, ask(&alice), 200).await;
    assert_eq!(ids(&agent, "accountId"), vec![alice.clone()]);
    assert!(agent[0].get("emailAddress").is_none(), "{agent}");
    assert_eq!(run.call(Method::GET, path, ask(&carol), 200).await, json!([]));
    run.fake.grant_comment("HELP", &carol);
    assert_eq!(ids(&run.call(Method::GET, path, ask(&carol), 200).await, "accountId"), vec![carol.clone()]);
    run.fake.deny_comment("HELP", &alice);
    assert_eq!(run.call(Method::GET, path, ask(&alice), 200).await, json!([]));
    let by_project = [("permissions", "ADD_COMMENTS"), ("projectKey", "HELP"), ("query", "carol")];
    assert_eq!(
        ids(&run.call(Method::GET, path, |r| r.query(&by_project), 200).await, "accountId"),
        vec![carol.clone()]
    );

    // 400: neither or both of query/accountId, no issue or project, an
    // unknown permission; 404: no such issue.
    for q in [
        vec![("permissions", "ADD_COMMENTS"), ("issueKey", key.as_str())],
        vec![
            ("permissions", "ADD_COMMENTS"),
            ("issueKey", key.as_str()),
            ("query", "a"),
            ("accountId", carol.as_str()),
        ],
        vec![("permissions", "ADD_COMMENTS"), ("accountId", carol.as_str())],
        vec![("permissions", "MAKE_COFFEE"), ("issueKey", key.as_str()), ("accountId", carol.as_str())],
    ] {
        let bad = run.call(Method::GET, path, |r| r.query(&q), 400).await;
        assert!(bad["errorMessages"][0].is_string(), "{bad}");
    }
    run.call_off_spec(
        Method::GET,
        path,
        |r| r.query(&[("issueKey", key.as_str()), ("accountId", carol.as_str())]),
        400,
    )
    .await;
    let gone = [("permissions", "ADD_COMMENTS"), ("issueKey", "HELP-999"), ("accountId", carol.as_str())];
    run.call(Method::GET, path, |r| r.query(&gone), 404).await;
    run.call_with("wrong-password", Method::GET, path, ask(&carol), 401).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("findUsersWithAllPermissions", 200),
            ("findUsersWithAllPermissions", 400),
            ("findUsersWithAllPermissions", 401),
            ("findUsersWithAllPermissions", 404),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_permission_search_answers_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;
    run.fake.add_user("alice@example.test", "Alice Agent");
    run.fake.add_user("alice.other@example.test", "Alice Other");
    run.fake.add_customer("carol@customer.test", "Carol Customer");
    let key = run.fake.seed_issue("HELP", "VPN down");
    let path = "/rest/api/2/user/permission/search";

    // `username` is a prefix filter: both Alices; no filter: every agent.
    let q = [("permissions", "ADD_COMMENTS"), ("issueKey", key.as_str()), ("username", "alice")];
    let both = run.call(Method::GET, path, |r| r.query(&q), 200).await;
    assert_eq!(ids(&both, "name"), vec!["alice@example.test", "alice.other@example.test"]);
    let q = [("permissions", "ADD_COMMENTS"), ("projectKey", "HELP")];
    assert_eq!(ids(&run.call(Method::GET, path, |r| r.query(&q), 200).await, "name").len(), 2, "not the customer");
    let q = [("permissions", "ADD_COMMENTS"), ("issueKey", key.as_str()), ("username", "carol")];
    assert_eq!(run.call(Method::GET, path, |r| r.query(&q), 200).await, json!([]));

    run.call(Method::GET, path, |r| r.query(&[("permissions", "ADD_COMMENTS")]), 400).await;
    run.call(Method::GET, path, |r| r.query(&[("issueKey", key.as_str())]), 400).await;
    run.call(Method::GET, path, |r| r.query(&[("permissions", "ADD_COMMENTS"), ("issueKey", "HELP-999")]), 404).await;
    run.call(Method::GET, path, |r| r.query(&[("permissions", "ADD_COMMENTS"), ("projectKey", "NOPE")]), 404).await;
    run.call_with("wrong-password", Method::GET, path, |r| r.query(&[("permissions", "ADD_COMMENTS")]), 401).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("findUsersWithAllPermissions", 200),
            ("findUsersWithAllPermissions", 400),
            ("findUsersWithAllPermissions", 401),
            ("findUsersWithAllPermissions", 404),
        ])
    );
}
