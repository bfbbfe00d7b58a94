//! Users, groups, permissions (platform) answers of the fake, Cloud v3 and DC 10.3.

use super::*;

/// A group name with spaces, as real groups have: the fake's `self` and
/// `nextPage` links must encode it.
pub const GROUP: &str = "Service Desk Team";
/// Members added on top of the first one, so the group spans three pages of 50.
pub const EXTRA_MEMBERS: usize = 120;

/// Add `EXTRA_MEMBERS` users to `GROUP`; returns their `id_of(accountId, email)`.
pub fn fill_group(fake: &FakeJira, id_of: impl Fn(String, String) -> String) -> Vec<String> {
    (0..EXTRA_MEMBERS)
        .map(|n| {
            let email = format!("agent{n:03}@example.test");
            let id = fake.add_user(&email, &format!("Agent {n:03}"));
            fake.add_member(GROUP, &id);
            id_of(id, email)
        })
        .collect()
}

/// A link Jira hands out (`self`, `nextPage`): an absolute URL on the fake,
/// with nothing a URI may not contain.
pub fn assert_link(run: &Run, link: &Value) -> reqwest::Url {
    let link = link.as_str().unwrap_or_else(|| panic!("link is not a string: {link}"));
    assert!(!link.contains(|c: char| c.is_whitespace() || c == '"'), "link is not a valid URI: {link:?}");
    assert!(link.starts_with(&run.fake.base_url()), "link {link} does not point at the fake");
    reqwest::Url::parse(link).unwrap_or_else(|e| panic!("link {link} is not a URL: {e}"))
}

/// How `walk_group` moves from page to page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Request exactly the `nextPage` link of each page.
    NextPage,
    /// Request `startAt` = entries seen so far, as mailgate's client does.
    StartAt,
}

/// Read `getUsersFromGroup` from the first page to the last, checking the
/// paging fields of every page; returns `id_field` of every member in the
/// order received and the number of pages.
pub async fn walk_group(run: &mut Run, path: &str, id_field: &str, paging: Paging) -> (Vec<String>, usize) {
    let mut seen: Vec<String> = Vec::new();
    let mut next: Option<(String, Vec<(String, String)>)> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "group/member pagination does not end");
        let (req_path, query) = next.take().unwrap_or_else(|| {
            let mut q = vec![("groupname".to_string(), GROUP.to_string())];
            if paging == Paging::StartAt {
                q.extend([("startAt".into(), seen.len().to_string()), ("maxResults".into(), "50".into())]);
            }
            (path.to_string(), q)
        });
        let page = run.call(Method::GET, &req_path, |r| r.query(&query), 200).await;
        let start = page["startAt"].as_u64().expect("startAt is an integer") as usize;
        assert_eq!(start, seen.len(), "page {pages} does not start where the previous one ended");
        let max = page["maxResults"].as_u64().expect("maxResults is an integer") as usize;
        assert!((1..=50).contains(&max), "maxResults {max} outside 1..=50");
        let values = page["values"].as_array().expect("values is an array");
        assert!(values.len() <= max, "page {pages} holds {} > maxResults {max}", values.len());
        assert_eq!(page["total"], EXTRA_MEMBERS + 1, "total");
        assert_link(run, &page["self"]);
        seen.extend(values.iter().map(|u| str_field(u, id_field).to_string()));
        let is_last = page["isLast"].as_bool().expect("isLast is a boolean");
        match page.get("nextPage") {
            Some(link) => {
                assert!(!is_last, "nextPage on a page with isLast=true");
                assert!(!values.is_empty(), "an empty page that is not the last");
                let url = assert_link(run, link);
                if paging == Paging::NextPage {
                    let query = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
                    next = Some((url.path().to_string(), query));
                }
            }
            None => {
                assert!(is_last, "no nextPage but isLast=false");
                break;
            }
        }
    }
    (seen, pages)
}

/// Every member exactly once.
pub fn assert_members(seen: &[String], expected: &[String]) {
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a member came back twice");
    let mut seen = seen.to_vec();
    let mut expected = expected.to_vec();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn cloud_v3_people_answers_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;
    let alice = run.fake.add_user("alice@example.test", "Alice Liddell");
    run.fake.add_group(GROUP);

    // findUsers: a bare array; `query` prefix-matches the email.
    let found = run
        .call(
            Method::GET,
            "/rest/api/3/user/search",
            |r| r.query(&[("query", "alice@example.test"), ("startAt", "0"), ("maxResults", "50")]),
            200,
        )
        .await;
    let found = found.as_array().expect("findUsers answers a bare array");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["accountId"], alice.as_str());
    assert_eq!(found[0]["emailAddress"], "alice@example.test");
    let nobody =
        run.call(Method::GET, "/rest/api/3/user/search", |r| r.query(&[("query", "nobody@example.test")]), 200).await;
    assert_eq!(nobody, json!([]));
    let no_query = run.call(Method::GET, "/rest/api/3/user/search", |r| r, 400).await;
    assert!(no_query["errorMessages"][0].is_string(), "{no_query}");

    // createUser with the body mailgate sends (`products: []`); an existing
    // user with Jira access is answered 201 with that user.
    let new_user = json!({"emailAddress": "bob@example.test", "products": []});
    let created = run.send_json(Method::POST, "/rest/api/3/user", new_user.clone(), 201).await;
    let bob = str_field(&created, "accountId").to_string();
    assert_eq!(created["emailAddress"], "bob@example.test");
    let again = run.send_json(Method::POST, "/rest/api/3/user", new_user, 201).await;
    assert_eq!(again["accountId"], bob.as_str());
    let bad = run
        .send_json(Method::POST, "/rest/api/3/user", json!({"emailAddress": "not-an-email", "products": []}), 400)
        .await;
    assert!(bad["errors"]["emailAddress"].is_string(), "{bad}");

    // addUserToGroup: 201 Group; 400 when already a member; 404 for an
    // unknown group or user.
    let group = run
        .send_json_query(
            Method::POST,
            "/rest/api/3/group/user",
            &[("groupname", GROUP)],
            json!({"accountId": bob}),
            201,
        )
        .await;
    assert_eq!(group["name"], GROUP);
    let dup = run
        .send_json_query(
            Method::POST,
            "/rest/api/3/group/user",
            &[("groupname", GROUP)],
            json!({"accountId": bob}),
            400,
        )
        .await;
    assert!(dup["errorMessages"][0].as_str().is_some_and(|m| m.contains("already")), "{dup}");
    run.send_json_query(
        Method::POST,
        "/rest/api/3/group/user",
        &[("groupname", "no-such-group")],
        json!({"accountId": bob}),
        404,
    )
    .await;
    run.send_json_query(
        Method::POST,
        "/rest/api/3/group/user",
        &[("groupname", GROUP)],
        json!({"accountId": "712020:no-such-user"}),
        404,
    )
    .await;

    // getUsersFromGroup: 121 members over three pages, following nextPage.
    let mut expected = vec![bob.clone()];
    expected.extend(fill_group(&run.fake, |id, _| id));
    let (seen, pages) = walk_group(&mut run, "/rest/api/3/group/member", "accountId", Paging::NextPage).await;
    assert_eq!(pages, 3, "121 members at 50 per page");
    assert_members(&seen, &expected);
    // The default page size is the spec's; larger requests are capped at 50.
    let first = run.call(Method::GET, "/rest/api/3/group/member", |r| r.query(&[("groupname", GROUP)]), 200).await;
    let default_max = run
        .spec
        .operation("GET", "/rest/api/3/group/member")
        .expect("getUsersFromGroup in the spec")
        .param_default("maxResults")
        .cloned();
    assert_eq!(Some(first["maxResults"].clone()), default_max);
    let capped = run
        .call(
            Method::GET,
            "/rest/api/3/group/member",
            |r| r.query(&[("groupname", GROUP), ("startAt", "100"), ("maxResults", "1000")]),
            200,
        )
        .await;
    assert_eq!(capped["maxResults"], 50);
    assert_eq!(capped["values"].as_array().map(Vec::len), Some(EXTRA_MEMBERS + 1 - 100));
    assert_eq!(capped["isLast"], true);
    run.call(Method::GET, "/rest/api/3/group/member", |r| r.query(&[("groupname", "no-such-group")]), 404).await;
    run.call(Method::GET, "/rest/api/3/group/member", |r| r, 400).await;

    // getMyPermissions, one permission denied.
    run.fake.deny_permissions(&["CREATE_ISSUES"]);
    let perms = run
        .call(
            Method::GET,
            "/rest/api/3/mypermissions",
            |r| r.query(&[("permissions", "BROWSE_PROJECTS,CREATE_ISSUES"), ("projectKey", "HELP")]),
            200,
        )
        .await;
    assert_eq!(perms["permissions"]["BROWSE_PROJECTS"]["havePermission"], true);
    assert_eq!(perms["permissions"]["CREATE_ISSUES"]["havePermission"], false);
    run.call(Method::GET, "/rest/api/3/mypermissions", |r| r.query(&[("projectKey", "HELP")]), 400).await;

    // addWatcher: the body is a bare JSON string (the accountId); 204.
    let key = run.fake.seed_issue("HELP", "Watch me");
    let watchers = format!("/rest/api/3/issue/{key}/watchers");
    run.send_json(Method::POST, &watchers, json!(alice), 204).await;
    assert_eq!(run.fake.issue(&key).map(|i| i.watchers), Some(vec![alice.clone()]));
    run.send_json(Method::POST, "/rest/api/3/issue/HELP-999/watchers", json!(alice), 404).await;
    run.send_json(Method::POST, &watchers, json!("712020:no-such-user"), 404).await;
    run.call(Method::POST, &watchers, |r| r.json(&json!({"accountId": alice})), 400).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("findUsers", 200),
            ("findUsers", 400),
            ("createUser", 201),
            ("createUser", 400),
            ("addUserToGroup", 201),
            ("addUserToGroup", 400),
            ("addUserToGroup", 404),
            ("getUsersFromGroup", 200),
            ("getUsersFromGroup", 400),
            ("getUsersFromGroup", 404),
            ("getMyPermissions", 200),
            ("getMyPermissions", 400),
            ("addWatcher", 204),
            ("addWatcher", 400),
            ("addWatcher", 404),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_people_answers_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;
    run.fake.add_user("alice@example.test", "Alice Liddell");
    run.fake.add_group(GROUP);

    // findUsers: DC searches with `username` (username, name or email).
    let found = run
        .call(
            Method::GET,
            "/rest/api/2/user/search",
            |r| r.query(&[("username", "alice@example.test"), ("startAt", "0"), ("maxResults", "50")]),
            200,
        )
        .await;
    let found = found.as_array().expect("findUsers answers a bare array");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["name"], "alice@example.test");
    run.call(Method::GET, "/rest/api/2/user/search", |r| r, 400).await;

    // createUser with the body mailgate sends on DC; 400 when it exists.
    let new_user = json!({"name": "bob", "emailAddress": "bob@example.test", "displayName": "Bob Builder"});
    let created = run.send_json(Method::POST, "/rest/api/2/user", new_user.clone(), 201).await;
    assert_eq!(created["name"], "bob");
    let exists = run.send_json(Method::POST, "/rest/api/2/user", new_user, 400).await;
    assert!(exists["errors"].as_object().is_some_and(|e| !e.is_empty()), "{exists}");

    // addUserToGroup by username: 201; 400 already a member; 404 unknown group.
    let group = run
        .send_json_query(Method::POST, "/rest/api/2/group/user", &[("groupname", GROUP)], json!({"name": "bob"}), 201)
        .await;
    assert_eq!(group["name"], GROUP);
    run.send_json_query(Method::POST, "/rest/api/2/group/user", &[("groupname", GROUP)], json!({"name": "bob"}), 400)
        .await;
    run.send_json_query(
        Method::POST,
        "/rest/api/2/group/user",
        &[("groupname", "no-such-group")],
        json!({"name": "bob"}),
        404,
    )
    .await;

    // getUsersFromGroup: 121 members, read by startAt (as mailgate does)
    // and by nextPage.
    let mut expected = vec!["bob".to_string()];
    expected.extend(fill_group(&run.fake, |_, email| email));
    for paging in [Paging::StartAt, Paging::NextPage] {
        let (seen, pages) = walk_group(&mut run, "/rest/api/2/group/member", "name", paging).await;
        assert_eq!(pages, 3, "121 members at 50 per page");
        assert_members(&seen, &expected);
    }
    run.call(Method::GET, "/rest/api/2/group/member", |r| r.query(&[("groupname", "no-such-group")]), 404).await;
    // `groupname` is required by DC; leaving it out is off-spec on purpose.
    run.call_off_spec(Method::GET, "/rest/api/2/group/member", |r| r, 400).await;

    // addWatcher by username.
    let key = run.fake.seed_issue("HELP", "Watch me");
    run.send_json(Method::POST, &format!("/rest/api/2/issue/{key}/watchers"), json!("bob"), 204).await;
    assert_eq!(run.fake.issue(&key).map(|i| i.watchers), Some(vec!["bob".to_string()]));
    run.send_json(Method::POST, "/rest/api/2/issue/HELP-999/watchers", json!("bob"), 404).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("findUsers", 200),
            ("findUsers", 400),
            ("createUser", 201),
            ("createUser", 400),
            ("addUserToGroup", 201),
            ("addUserToGroup", 400),
            ("addUserToGroup", 404),
            ("getUsersFromGroup", 200),
            ("getUsersFromGroup", 400),
            ("getUsersFromGroup", 404),
            ("addWatcher_1", 204),
            ("addWatcher_1", 404),
        ])
    );
}
