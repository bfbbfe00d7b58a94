//! The requests mailgate's own client builds, held to the specs.

use super::*;

#[tokio::test]
async fn mailgate_cloud_client_requests_conform_to_the_cloud_and_jsm_specs() {
    let (fake, recorder, jira, alice) = recorded(JiraFlavor::Cloud).await;
    fake.add_service_desk("1", "HELP");
    fake.deny_permissions(&["CREATE_ISSUES"]);

    let found = jira.find_user_by_email("alice@example.test").await.expect("find alice");
    assert_eq!(found.and_then(|u| u.account_id), Some(alice.clone()));
    assert_eq!(jira.find_user_by_email("nobody@example.test").await.expect("search"), None);

    let bob = IdentityApi::create_user(&jira, "bob@example.test", "Bob Builder").await.expect("create bob");
    assert!(bob.account_id.is_some(), "{bob:?}");
    jira.add_user_to_group(&bob, GROUP).await.expect("add bob to the group");
    jira.add_user_to_group(&bob, GROUP).await.expect("already a member is success");
    assert!(matches!(jira.add_user_to_group(&bob, "no-such-group").await, Err(JiraError::NotFound(_))));

    let mut expected = vec!["bob@example.test".to_string()];
    expected.extend(fill_group(&fake, |_, email| email));
    let emails = jira.group_member_emails(GROUP).await.expect("group members");
    assert_members(&emails, &expected);

    let perms = jira.my_permissions(Some("HELP"), &["BROWSE_PROJECTS", "CREATE_ISSUES"]).await.expect("perms");
    assert_eq!(perms, vec![("BROWSE_PROJECTS".to_string(), true), ("CREATE_ISSUES".to_string(), false)]);

    let carol = jira.create_customer("carol@customer.test", "Carol Customer").await.expect("create carol");
    let again = jira.create_customer("carol@customer.test", "Carol Customer").await.expect("409, then found");
    assert_eq!(again.account_id, carol.account_id);
    jira.add_customer_to_service_desk("1", &carol).await.expect("add carol to the service desk");
    let carol_id = carol.account_id.clone().expect("carol's accountId");

    let request = NewRequest {
        service_desk: "1".into(),
        request_type: "10".into(),
        summary: "Printer on fire".into(),
        description: "Floor 3.".into(),
        on_behalf_of: Some(carol_id.clone()),
        participants: vec![alice.clone()],
    };
    let created = jira.create_request(&request).await.expect("create the request");
    let own = NewRequest { on_behalf_of: None, participants: Vec::new(), ..request };
    jira.create_request(&own).await.expect("create a request as the caller");
    jira.add_request_comment(&created.key, "We are on it.", true).await.expect("public comment");
    jira.add_request_comment(&created.key, "Agent note.", false).await.expect("internal comment");
    jira.add_watcher(&created.key, &alice).await.expect("add a watcher");
    jira.add_request_participants(&created.key, &[carol_id]).await.expect("add a participant");

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("findUsers", 200),
            ("createUser", 201),
            ("addUserToGroup", 201),
            ("addUserToGroup", 400),
            ("addUserToGroup", 404),
            ("getUsersFromGroup", 200),
            ("getMyPermissions", 200),
            ("createCustomer", 201),
            ("createCustomer", 409),
            ("addCustomers", 204),
            ("createCustomerRequest", 201),
            ("createRequestComment", 201),
            ("addWatcher", 204),
            ("addRequestParticipants", 200),
        ])
    );
    assert_eq!(fake.count_calls("GET /rest/api/3/group/member"), 3, "121 members in pages of 50");
}

#[tokio::test]
async fn mailgate_data_center_client_requests_conform_to_the_dc_spec() {
    let (fake, recorder, jira, _alice) = recorded(JiraFlavor::Datacenter).await;

    let found = jira.find_user_by_email("alice@example.test").await.expect("find alice");
    assert_eq!(found.and_then(|u| u.name), Some("alice@example.test".to_string()));
    let bob = IdentityApi::create_user(&jira, "bob@example.test", "Bob Builder").await.expect("create bob");
    assert_eq!(bob.name.as_deref(), Some("bob@example.test"));
    jira.add_user_to_group(&bob, GROUP).await.expect("add bob to the group");
    jira.add_user_to_group(&bob, GROUP).await.expect("already a member is success");

    let mut expected = vec!["bob@example.test".to_string()];
    expected.extend(fill_group(&fake, |_, email| email));
    let emails = jira.group_member_emails(GROUP).await.expect("group members");
    assert_members(&emails, &expected);

    let key = IssueKey::parse(&fake.seed_issue("HELP", "Watch me")).expect("issue key");
    jira.add_watcher(&key, "bob@example.test").await.expect("add a watcher");

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("findUsers", 200),
            ("createUser", 201),
            ("addUserToGroup", 201),
            ("addUserToGroup", 400),
            ("getUsersFromGroup", 200),
            ("addWatcher_1", 204),
        ])
    );
    assert_eq!(fake.count_calls("GET /rest/api/2/group/member"), 3, "121 members in pages of 50");
}

/// Issues in HELP so that the catch-up search spans two pages of 100.
pub const SEARCH_ISSUES: usize = 120;

/// The catch-up's search over `SEARCH_ISSUES` issues (one commented), each
/// hit held to `spec`'s schemas; returns the hits.
async fn catch_up_search(jira: &HttpJira, fake: &FakeJira, key: &IssueKey, spec: &Spec) -> Vec<Value> {
    jira.add_comment(key, "A comment the catch-up must see.", None).await.expect("comment");
    for n in 1..SEARCH_ISSUES {
        fake.seed_issue("HELP", &format!("Seeded issue {n}"));
    }
    let issues = jira.search_issues(&catch_up_jql(-1), CATCH_UP_FIELDS, 1000).await.expect("search");
    assert_eq!(issues.len(), SEARCH_ISSUES);
    let unique: BTreeSet<&str> = issues.iter().map(|i| str_field(i, "key")).collect();
    assert_eq!(unique.len(), SEARCH_ISSUES, "an issue came back twice");
    for issue in &issues {
        assert_catch_up_fields(spec, issue);
    }
    issues
}

#[tokio::test]
async fn mailgate_cloud_client_watchers_roles_and_catch_up_search_conform_to_the_cloud_spec() {
    let (fake, recorder, jira, alice) = recorded(JiraFlavor::Cloud).await;
    let bob = fake.add_user("bob@example.test", "Bob Builder");

    // JiraApi::watchers: getIssueWatchers; unknown issue -> NotFound.
    let key = IssueKey::parse(&fake.seed_issue("HELP", "Watch me")).expect("issue key");
    fake.add_watcher(key.as_ref(), &alice);
    fake.add_watcher(key.as_ref(), &bob);
    let watchers = jira.watchers(&key).await.expect("watchers");
    let ids: Vec<Option<String>> = watchers.iter().map(|u| u.account_id.clone()).collect();
    assert_eq!(ids, vec![Some(alice.clone()), Some(bob.clone())]);
    assert_eq!(watchers[0].email.as_deref(), Some("alice@example.test"));
    let missing = IssueKey::parse("HELP-999").expect("issue key");
    assert!(matches!(jira.watchers(&missing).await, Err(JiraError::NotFound(_))));

    // IdentityApi::role_actors: getProjectRoles, getProjectRole, then getUser
    // per user actor (accountId) for the email; groups by name.
    fake.add_role("HELP", "Developers", &[&alice, &bob], &[GROUP]);
    let (emails, groups) = jira.role_actors("HELP", "developers").await.expect("role actors");
    assert_eq!(emails, vec!["alice@example.test".to_string(), "bob@example.test".to_string()]);
    assert_eq!(groups, vec![GROUP.to_string()]);
    assert!(matches!(jira.role_actors("HELP", "Testers").await, Err(JiraError::NotFound(_))));
    assert!(matches!(jira.role_actors("NOPE", "Developers").await, Err(JiraError::NotFound(_))));

    // JiraApi::search_issues as the catch-up calls it, over two pages.
    let issues = catch_up_search(&jira, &fake, &key, cloud_v3()).await;
    let commented = issues.iter().find(|i| i["key"] == key.to_string()).expect("the commented issue");
    assert_eq!(commented["fields"]["comment"]["total"], 1);
    assert_eq!(fake.count_calls("GET /rest/api/3/search/jql"), 2, "120 issues in pages of 100");
    let capped = jira.search_issues(&catch_up_jql(-1), CATCH_UP_FIELDS, 10).await.expect("bounded search");
    assert_eq!(capped.len(), 10);

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("getIssueWatchers", 200),
            ("getIssueWatchers", 404),
            ("getProjectRoles", 200),
            ("getProjectRoles", 404),
            ("getProjectRole", 200),
            ("getUser", 200),
            ("addComment", 201),
            ("searchAndReconsileIssuesUsingJql", 200),
        ])
    );
}

#[tokio::test]
async fn mailgate_data_center_client_watchers_roles_and_catch_up_search_conform_to_the_dc_spec() {
    let (fake, recorder, jira, alice) = recorded(JiraFlavor::Datacenter).await;

    let key = IssueKey::parse(&fake.seed_issue("HELP", "Watch me")).expect("issue key");
    fake.add_watcher(key.as_ref(), "alice@example.test");
    let watchers = jira.watchers(&key).await.expect("watchers");
    assert_eq!(watchers.len(), 1);
    assert_eq!(watchers[0].name.as_deref(), Some("alice@example.test"));
    assert_eq!(watchers[0].email.as_deref(), Some("alice@example.test"));
    let missing = IssueKey::parse("HELP-999").expect("issue key");
    assert!(matches!(jira.watchers(&missing).await, Err(JiraError::NotFound(_))));

    // role_actors on DC: the user actor is looked up by username.
    fake.add_role("HELP", "Developers", &[&alice], &[GROUP]);
    let (emails, groups) = jira.role_actors("HELP", "Developers").await.expect("role actors");
    assert_eq!(emails, vec!["alice@example.test".to_string()]);
    assert_eq!(groups, vec![GROUP.to_string()]);
    assert!(matches!(jira.role_actors("NOPE", "Developers").await, Err(JiraError::NotFound(_))));

    catch_up_search(&jira, &fake, &key, data_center()).await;
    assert_eq!(fake.count_calls("GET /rest/api/2/search"), 2, "120 issues in pages of 100");

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("getIssueWatchers", 200),
            ("getIssueWatchers", 404),
            ("getProjectRoles", 200),
            ("getProjectRoles", 404),
            ("getProjectRole", 200),
            ("getUser_1", 200),
            ("addComment", 201),
            ("search_1", 200),
        ])
    );
}
