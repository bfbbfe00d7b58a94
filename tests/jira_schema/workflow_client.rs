//! mailgate's client for issue state, transitions, links, attachment
//! downloads and other users' comment permission, recorded on the wire and
//! held to the specs.

use super::attachments::{PICTURE, agent_of};
use super::*;
use mailgate::clock::Clock;
use mailgate::jira::StatusCategory;

fn key(s: &str) -> IssueKey {
    IssueKey::parse(s).expect("issue key")
}

/// Open → Done → (renamed) reopen → Open through `JiraApi`, and the refusals.
async fn walk_the_workflow(fake: &FakeJira, jira: &HttpJira, issue: &IssueKey) {
    let state = jira.issue_state(issue).await.expect("issue state");
    assert_eq!((state.status.as_str(), state.status_category), ("Open", StatusCategory::ToDo));
    assert_eq!((state.resolution, state.resolved_at_ms), (None, None));
    let offered: Vec<(String, String)> =
        jira.transitions(issue).await.expect("transitions").into_iter().map(|t| (t.id, t.to_status)).collect();
    assert_eq!(offered, vec![("11".into(), "In Progress".into()), ("31".into(), "Done".into())]);
    match jira.transition(issue, "41").await {
        Err(JiraError::Rejected { status: 400, message }) => assert!(message.contains("not valid"), "{message}"),
        other => panic!("a transition not offered now must be refused with 400: {other:?}"),
    }

    // The fake stamps with the system clock too.
    let before = mailgate::clock::SystemClock.now().timestamp_millis() - 1_000;
    jira.transition(issue, "31").await.expect("to Done");
    let done = jira.issue_state(issue).await.expect("issue state");
    assert_eq!((done.status_category, done.resolution.as_deref()), (StatusCategory::Done, Some("Done")));
    assert!(done.resolved_at_ms.is_some_and(|at| at >= before), "{done:?}");

    // The way out of Done under this site's name: found by its target's category.
    fake.set_reopen_transition_name("Back to the queue");
    let back = jira.transitions(issue).await.expect("transitions");
    let reopen = back.iter().find(|t| t.to_category != StatusCategory::Done).expect("a way out of Done");
    assert_eq!(reopen.name, "Back to the queue");
    jira.transition(issue, &reopen.id).await.expect("reopen");
    assert_eq!(fake.issue_status(issue.as_ref()), "Open");
    assert_eq!(jira.issue_state(issue).await.expect("state").resolution, None);

    // Resolved a while ago (test set-up): the date is read back to the millisecond.
    let long_ago = 1_795_428_000_123;
    assert!(fake.resolve_issue_at(issue.as_ref(), long_ago));
    assert_eq!(jira.issue_state(issue).await.expect("state").resolved_at_ms, Some(long_ago));

    let missing = key("HELP-999");
    assert!(matches!(jira.issue_state(&missing).await, Err(JiraError::NotFound(_))));
    assert!(matches!(jira.transitions(&missing).await, Err(JiraError::NotFound(_))));
}

async fn link_two(fake: &FakeJira, jira: &HttpJira, a: &IssueKey, b: &IssueKey) {
    jira.link_issues("Relates", a, b).await.expect("link");
    jira.link_issues("Relates", a, b).await.expect("linking twice is not an error");
    assert_eq!(fake.links(a.as_ref()), vec![("Relates".to_string(), b.to_string())]);
    assert!(matches!(jira.link_issues("Causes", a, b).await, Err(JiraError::NotFound(_))), "unknown link type");
    assert!(matches!(jira.link_issues("Relates", a, &key("HELP-999")).await, Err(JiraError::NotFound(_))));
}

#[tokio::test]
async fn mailgate_cloud_client_state_transitions_links_and_downloads_conform_to_the_cloud_spec() {
    let (fake, recorder, jira, alice) = recorded(JiraFlavor::Cloud).await;
    let bob = fake.add_user("bob@example.test", "Bob Hidden");
    fake.hide_email(&bob);
    let carol = fake.add_customer("carol@customer.test", "Carol Customer");
    let issue = key(&fake.seed_issue("HELP", "Printer on fire"));
    assert!(fake.set_reporter(issue.as_ref(), &alice) && fake.set_assignee(issue.as_ref(), Some(&bob)));

    let state = jira.issue_state(&issue).await.expect("issue state");
    let reporter = state.reporter.expect("a reporter");
    assert_eq!(
        (reporter.account_id.as_deref(), reporter.email.as_deref()),
        (Some(alice.as_str()), Some("alice@example.test"))
    );
    let assignee = state.assignee.expect("an assignee");
    assert_eq!((assignee.account_id.as_deref(), assignee.email), (Some(bob.as_str()), None), "hidden email");
    walk_the_workflow(&fake, &jira, &issue).await;
    let other = key(&fake.seed_issue("HELP", "Printer on fire again"));
    link_two(&fake, &jira, &other, &issue).await;

    // Agent attachments: metadata, then the bytes through the 303 to the
    // media host; over the cap nothing is downloaded.
    let id = fake.add_agent_attachment(issue.as_ref(), "screen shot.png", "image/png", PICTURE).expect("attachment");
    let meta = jira.attachment_meta(&id).await.expect("metadata");
    assert_eq!(
        (meta.id.as_str(), meta.filename.as_str(), meta.size),
        (id.as_str(), "screen shot.png", PICTURE.len() as u64)
    );
    assert_eq!(meta.author.and_then(|a| a.account_id), Some(agent_of(&fake).account_id));
    let bytes = jira.download_attachment(&id, PICTURE.len() as u64).await.expect("download");
    assert_eq!(bytes.as_deref(), Some(PICTURE));
    assert_eq!(fake.count_calls("GET /media/file/"), 1, "the client followed the 303 to the media host");
    assert_eq!(jira.download_attachment(&id, 4).await.expect("too large"), None);
    assert_eq!(fake.count_calls("GET /rest/api/3/attachment/content/"), 1, "over the cap: no download");
    assert!(matches!(jira.attachment_meta("99999").await, Err(JiraError::NotFound(_))));
    assert!(matches!(jira.download_attachment("1/../../myself", 10).await, Err(JiraError::NotFound(_))));

    // Comment permission of other users.
    assert!(jira.user_may_comment(&issue, &alice).await.expect("agent"));
    assert!(!jira.user_may_comment(&issue, &carol).await.expect("customer"));
    fake.grant_comment("HELP", &carol);
    assert!(jira.user_may_comment(&issue, &carol).await.expect("granted"));
    assert!(matches!(jira.user_may_comment(&key("HELP-999"), &carol).await, Err(JiraError::NotFound(_))));

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("getIssue", 200),
            ("getIssue", 404),
            ("getTransitions", 200),
            ("getTransitions", 404),
            ("doTransition", 204),
            ("doTransition", 400),
            ("linkIssues", 201),
            ("linkIssues", 404),
            ("getAttachment", 200),
            ("getAttachment", 404),
            ("getAttachmentContent", 303),
            ("findUsersWithAllPermissions", 200),
            ("findUsersWithAllPermissions", 404),
        ])
    );
    assert_eq!(recorder.non_api_calls(), Vec::<String>::new());
}

#[tokio::test]
async fn mailgate_data_center_client_state_transitions_links_and_downloads_conform_to_the_dc_spec() {
    let (fake, recorder, jira, _alice) = recorded(JiraFlavor::Datacenter).await;
    fake.add_user("alice.other@example.test", "Alice Other");
    fake.add_customer("carol@customer.test", "Carol Customer");
    let issue = key(&fake.seed_issue("HELP", "VPN down"));
    assert!(fake.set_assignee(issue.as_ref(), Some("alice@example.test")));

    let state = jira.issue_state(&issue).await.expect("issue state");
    assert_eq!(state.assignee.and_then(|a| a.name).as_deref(), Some("alice@example.test"));
    walk_the_workflow(&fake, &jira, &issue).await;
    let other = key(&fake.seed_issue("HELP", "VPN down again"));
    link_two(&fake, &jira, &other, &issue).await;

    // DC has no content operation: the download servlet, under the base URL.
    let id =
        fake.add_agent_attachment(issue.as_ref(), "vpn log.txt", "text/plain", b"tunnel down").expect("attachment");
    assert_eq!(jira.attachment_meta(&id).await.expect("metadata").mime_type, "text/plain");
    assert_eq!(jira.download_attachment(&id, 100).await.expect("download").as_deref(), Some(&b"tunnel down"[..]));
    assert_eq!(jira.download_attachment(&id, 3).await.expect("too large"), None);
    assert_eq!(recorder.non_api_calls(), vec![format!("GET /secure/attachment/{id}/vpn%20log.txt 200")]);

    // `username` is a prefix filter on DC: the answer is matched on the name.
    assert!(jira.user_may_comment(&issue, "alice@example.test").await.expect("agent"));
    assert!(jira.user_may_comment(&issue, "ALICE@example.test").await.expect("usernames are case-insensitive"));
    assert!(!jira.user_may_comment(&issue, "alice").await.expect("a prefix is not the user"));
    assert!(!jira.user_may_comment(&issue, "carol@customer.test").await.expect("customer"));

    let covered = recorder.check_all();
    assert_eq!(
        covered,
        expected_coverage(&[
            ("getIssue", 200),
            ("getIssue", 404),
            ("getTransitions", 200),
            ("getTransitions", 404),
            ("doTransition", 204),
            ("doTransition", 400),
            ("linkIssues", 201),
            ("linkIssues", 404),
            ("getAttachment", 200),
            ("findUsersWithAllPermissions", 200),
        ])
    );
}
