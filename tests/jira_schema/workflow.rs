//! Workflow state, transitions and issue links: the fake's answers, Cloud v3
//! and DC 10.3.

use super::*;

/// The fields `JiraApi::issue_state` asks for.
pub const STATE_FIELDS: &str = "status,resolution,resolutiondate,reporter,assignee";

/// `IssueBean.fields` is free-form in both specs: the state fields are held
/// to the component schemas each spec uses for them elsewhere (status,
/// resolution, user), nullable where Jira answers `null` (unresolved,
/// unassigned), and exactly the requested fields are present.
pub fn assert_state_fields(spec: &Spec, issue: &Value) {
    let (status, resolution, user) = if std::ptr::eq(spec, cloud_v3()) {
        ("StatusDetails", "Resolution", "UserDetails")
    } else {
        ("StatusJsonBean", "ResolutionJsonBean", "UserJsonBean")
    };
    let nullable = |name: &str| json!({"nullable": true, "allOf": [{"$ref": format!("#/components/schemas/{name}")}]});
    let schemas = [
        ("status", json!({"$ref": format!("#/components/schemas/{status}")})),
        ("resolution", nullable(resolution)),
        ("resolutiondate", json!({"nullable": true, "type": "string", "format": "date-time"})),
        ("reporter", nullable(user)),
        ("assignee", nullable(user)),
    ];
    let fields = issue["fields"].as_object().unwrap_or_else(|| panic!("no fields: {issue}"));
    let got: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        got,
        STATE_FIELDS.split(',').collect::<BTreeSet<&str>>(),
        "getIssue must answer exactly the requested fields"
    );
    let v = spec.validator();
    for (name, schema) in schemas {
        let errors = v.validate(&schema, &fields[name]);
        assert!(errors.is_empty(), "{}: field `{name}`: {}\nvalue: {:#}", spec.label, errors.join("; "), fields[name]);
    }
    if let Some(at) = fields["resolutiondate"].as_str() {
        assert!(mailgate::jira::parse_jira_time(at).is_some(), "resolutiondate is not a Jira timestamp: {at}");
    }
}

/// The transitions offered now as (id, name, target status).
fn offered(transitions: &Value) -> Vec<(String, String, String)> {
    transitions["transitions"]
        .as_array()
        .unwrap_or_else(|| panic!("no transitions array: {transitions}"))
        .iter()
        .map(|t| (str_field(t, "id").into(), str_field(t, "name").into(), str_field(&t["to"], "name").into()))
        .collect()
}

fn offer(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

/// Walk one issue through the default workflow on `api`: Open → Done →
/// (renamed) reopen → Open, with the refusals on the way.
async fn walk_the_workflow(run: &mut Run, api: &str, key: &str) {
    let issue_path = format!("/rest/api/{api}/issue/{key}");
    let path = format!("{issue_path}/transitions");
    let state = |r: reqwest::RequestBuilder| r.query(&[("fields", STATE_FIELDS)]);
    let open = run.call(Method::GET, &issue_path, state, 200).await;
    assert_state_fields(run.spec, &open);
    assert_eq!(
        (&open["fields"]["status"]["name"], &open["fields"]["status"]["statusCategory"]["key"]),
        (&json!("Open"), &json!("new"))
    );
    assert_eq!((&open["fields"]["resolution"], &open["fields"]["resolutiondate"]), (&Value::Null, &Value::Null));

    let list = run.call(Method::GET, &path, |r| r, 200).await;
    assert_eq!(offered(&list), offer(&[("11", "Start Progress", "In Progress"), ("31", "Done", "Done")]));
    let narrowed = run.call(Method::GET, &path, |r| r.query(&[("transitionId", "41")]), 200).await;
    assert_eq!(narrowed["transitions"], json!([]), "not offered from Open: an empty list");

    // Refused: not offered now, not a number, no id at all.
    let refused = run.send_json(Method::POST, &path, json!({"transition": {"id": "41"}}), 400).await;
    assert_eq!(refused["errorMessages"][0], "Transition id '41' is not valid for this issue.");
    run.send_json(Method::POST, &path, json!({"transition": {"id": "reopen"}}), 400).await;
    let missing = run.send_json(Method::POST, &path, json!({}), 400).await;
    assert_eq!(missing["errorMessages"][0], "Missing 'transition' identifier");
    assert_eq!(run.fake.issue_status(key), "Open");

    // Done: resolution and resolutiondate set.
    run.send_json(Method::POST, &path, json!({"transition": {"id": "31"}}), 204).await;
    let done = run.call(Method::GET, &issue_path, state, 200).await;
    assert_state_fields(run.spec, &done);
    assert_eq!(done["fields"]["status"]["statusCategory"]["key"], "done");
    assert_eq!(done["fields"]["resolution"]["name"], "Done");
    assert!(done["fields"]["resolutiondate"].is_string(), "{done}");

    // The way back, under the name this site gives it; it clears the resolution.
    run.fake.set_reopen_transition_name("Back to the queue");
    let list = run.call(Method::GET, &path, |r| r, 200).await;
    assert_eq!(offered(&list), offer(&[("41", "Back to the queue", "Open")]));
    run.send_json(Method::POST, &path, json!({"transition": {"id": "41"}}), 204).await;
    let reopened = run.call(Method::GET, &issue_path, state, 200).await;
    assert_eq!(
        (&reopened["fields"]["status"]["name"], &reopened["fields"]["resolution"]),
        (&json!("Open"), &Value::Null)
    );

    let none = format!("/rest/api/{api}/issue/HELP-999/transitions");
    run.call(Method::GET, &none, |r| r, 404).await;
    run.send_json(Method::POST, &none, json!({"transition": {"id": "31"}}), 404).await;
}

/// Link two issues on `api`, twice (one link), and the refusals.
async fn link_two_issues(run: &mut Run, api: &str, a: &str, b: &str) {
    let path = format!("/rest/api/{api}/issueLink");
    let link =
        |t: &str, x: &str, y: &str| json!({"type": {"name": t}, "inwardIssue": {"key": x}, "outwardIssue": {"key": y}});
    assert_eq!(
        run.send_json(Method::POST, &path, link("Duplicate", a, b), 201).await,
        Value::Null,
        "201 without a body"
    );
    run.send_json(Method::POST, &path, link("Duplicate", a, b), 201).await;
    assert_eq!(run.fake.links(a), vec![("Duplicate".to_string(), b.to_string())], "a duplicate link is not made twice");
    assert_eq!(run.fake.links(b), vec![("Duplicate".to_string(), a.to_string())]);
    let unknown = run.send_json(Method::POST, &path, link("Causes", a, b), 404).await;
    assert_eq!(unknown["errorMessages"][0], "No issue link type with name 'Causes' found.");
    let missing = run.send_json(Method::POST, &path, link("Relates", a, "HELP-999"), 404).await;
    assert!(missing["errorMessages"][0].is_string(), "{missing}");
    assert_eq!(run.fake.links(a).len(), 1, "a refused link is not made");
}

#[tokio::test]
async fn cloud_v3_workflow_and_issue_link_answers_conform_to_the_cloud_spec() {
    let mut run = Run::start(cloud_v3()).await;
    let alice = run.fake.add_user("alice@example.test", "Alice Liddell");
    let bob = run.fake.add_user("bob@example.test", "Bob Hidden");
    run.fake.hide_email(&bob);
    let key = run.fake.seed_issue("HELP", "Printer on fire");
    assert!(run.fake.set_reporter(&key, &bob) && run.fake.set_assignee(&key, Some(&alice)));

    // getIssue with the state fields: people as UserDetails, a hidden email left out.
    let path = format!("/rest/api/3/issue/{key}");
    let issue = run.call(Method::GET, &path, |r| r.query(&[("fields", STATE_FIELDS)]), 200).await;
    assert_eq!(issue["fields"]["reporter"]["accountId"], bob.as_str());
    assert!(issue["fields"]["reporter"].get("emailAddress").is_none(), "hidden: {issue}");
    assert_eq!(issue["fields"]["assignee"]["emailAddress"], "alice@example.test");

    walk_the_workflow(&mut run, "3", &key).await;
    run.call_with("wrong-password", Method::GET, &format!("{path}/transitions"), |r| r, 401).await;
    run.call_with("wrong-password", Method::POST, &format!("{path}/transitions"), |r| r.json(&json!({})), 401).await;

    // linkIssues, and the link in both issues' `issuelinks` (P3 IssueLink).
    let other = run.fake.seed_issue("HELP", "Printer on fire again");
    link_two_issues(&mut run, "3", &other, &key).await;
    run.call_with("wrong-password", Method::POST, "/rest/api/3/issueLink", |r| r.json(&json!({})), 401).await;
    // P3 `IssueLink` as the issue field holds it: one side per entry (the
    // other issue), so its `required` (inwardIssue, outwardIssue, type: what
    // a create with `issuelinks` must send) is dropped for the check.
    let mut link = run.spec.doc["components"]["schemas"]["IssueLink"].clone();
    assert!(link.as_object_mut().and_then(|l| l.remove("required")).is_some(), "IssueLink changed: {link}");
    let schema = json!({"type": "array", "items": link});
    for (k, side, to) in [(&other, "outwardIssue", &key), (&key, "inwardIssue", &other)] {
        let v = run
            .call(Method::GET, &format!("/rest/api/3/issue/{k}"), |r| r.query(&[("fields", "issuelinks")]), 200)
            .await;
        let links = &v["fields"]["issuelinks"];
        let errors = run.spec.validator().validate(&schema, links);
        assert!(errors.is_empty(), "issuelinks of {k}: {errors:?}\n{links:#}");
        assert_eq!((&links[0]["type"]["name"], &links[0][side]["key"]), (&json!("Duplicate"), &json!(to)), "{links}");
    }

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getIssue", 200),
            ("getTransitions", 200),
            ("getTransitions", 401),
            ("getTransitions", 404),
            ("doTransition", 204),
            ("doTransition", 400),
            ("doTransition", 401),
            ("doTransition", 404),
            ("linkIssues", 201),
            ("linkIssues", 401),
            ("linkIssues", 404),
        ])
    );
}

#[tokio::test]
async fn data_center_v2_workflow_and_issue_link_answers_conform_to_the_dc_spec() {
    let mut run = Run::start(data_center()).await;
    run.fake.add_user("alice@example.test", "Alice Liddell");
    let key = run.fake.seed_issue("HELP", "VPN down");
    assert!(run.fake.set_reporter(&key, "alice@example.test"));

    let path = format!("/rest/api/2/issue/{key}");
    let issue = run.call(Method::GET, &path, |r| r.query(&[("fields", STATE_FIELDS)]), 200).await;
    assert_eq!(issue["fields"]["reporter"]["name"], "alice@example.test", "DC users are named by username");
    assert_eq!(issue["fields"]["assignee"], Value::Null);

    walk_the_workflow(&mut run, "2", &key).await;
    let other = run.fake.seed_issue("HELP", "VPN down again");
    link_two_issues(&mut run, "2", &other, &key).await;
    run.call_with("wrong-password", Method::POST, "/rest/api/2/issueLink", |r| r.json(&json!({})), 401).await;

    run.report();
    assert_eq!(
        run.covered(),
        expected_coverage(&[
            ("getIssue", 200),
            ("getTransitions", 200),
            ("getTransitions", 404),
            ("doTransition", 204),
            ("doTransition", 400),
            ("doTransition", 404),
            ("linkIssues", 201),
            ("linkIssues", 401),
            ("linkIssues", 404),
        ])
    );
}
