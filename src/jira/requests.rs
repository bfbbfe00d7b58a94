//! The requests that post a mail, built without I/O: the HTTP client sends
//! exactly these, and `replay --dry-run` shows them.

use serde_json::{Value, json};

use super::{NewIssue, NewRequest, text_to_adf, text_to_wiki};
use crate::config::JiraFlavor;
use crate::domain::IssueKey;

/// A request to Jira: method, path below the site's base URL, JSON body.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JiraRequest {
    pub method: &'static str,
    pub path: String,
    pub body: Value,
}

/// The platform REST API's path: v3 (ADF) on Cloud, v2 on Data Center.
pub(super) fn api(flavor: JiraFlavor) -> &'static str {
    match flavor {
        JiraFlavor::Cloud => "/rest/api/3",
        JiraFlavor::Datacenter => "/rest/api/2",
    }
}

/// A description or comment body: ADF on Cloud, wiki markup on Data
/// Center, both read from the mail's lightweight structure (`jira::text`).
pub(super) fn text_body(flavor: JiraFlavor, text: &str) -> Value {
    match flavor {
        JiraFlavor::Cloud => text_to_adf(text),
        JiraFlavor::Datacenter => Value::String(text_to_wiki(text)),
    }
}

/// A user in a field: `{"accountId"}` on Cloud, `{"name"}` (username) on DC.
fn user(flavor: JiraFlavor, id: &str) -> Value {
    match flavor {
        JiraFlavor::Cloud => json!({"accountId": id}),
        JiraFlavor::Datacenter => json!({"name": id}),
    }
}

fn names(list: &[String]) -> Value {
    Value::Array(list.iter().map(|n| json!({"name": n})).collect())
}

/// `POST /issue` (createIssue) in Atlassian's field shapes: `priority:
/// {name}`, `assignee`/`reporter` as users, `duedate: "YYYY-MM-DD"`,
/// `components` and `fixVersions` as `[{name}]`, custom fields as given.
pub fn create_issue(flavor: JiraFlavor, issue: &NewIssue) -> JiraRequest {
    let mut fields = json!({
        "project": {"key": issue.project},
        "issuetype": {"name": issue.issue_type},
        "summary": issue.summary,
        "description": text_body(flavor, &issue.description),
    });
    if !issue.labels.is_empty() {
        fields["labels"] = json!(issue.labels);
    }
    if !issue.components.is_empty() {
        fields["components"] = names(&issue.components);
    }
    if let Some(r) = &issue.reporter {
        fields["reporter"] = user(flavor, r);
    }
    if let Some(p) = &issue.priority {
        fields["priority"] = json!({"name": p});
    }
    if let Some(a) = &issue.assignee {
        fields["assignee"] = user(flavor, a);
    }
    if let Some(d) = &issue.due_date {
        fields["duedate"] = Value::String(d.format("%Y-%m-%d").to_string());
    }
    if !issue.fix_versions.is_empty() {
        fields["fixVersions"] = names(&issue.fix_versions);
    }
    for (id, value) in &issue.custom {
        fields[id.as_str()] = value.clone();
    }
    let mut body = json!({"fields": fields});
    if let Some(mid) = &issue.source_message_id {
        body["properties"] = super::http::properties_for(mid);
    }
    JiraRequest { method: "POST", path: format!("{}/issue", api(flavor)), body }
}

/// `POST /issue/{key}/comment` (addComment).
pub fn add_comment(flavor: JiraFlavor, issue: &IssueKey, text: &str, source_message_id: Option<&str>) -> JiraRequest {
    let mut body = json!({"body": text_body(flavor, text)});
    if let Some(mid) = source_message_id {
        body["properties"] = super::http::properties_for(mid);
    }
    JiraRequest { method: "POST", path: format!("{}/issue/{issue}/comment", api(flavor)), body }
}

/// JSM `POST /rest/servicedeskapi/request` (createCustomerRequest).
pub fn create_request(request: &NewRequest) -> JiraRequest {
    let mut body = json!({
        "serviceDeskId": request.service_desk,
        "requestTypeId": request.request_type,
        "requestFieldValues": {"summary": request.summary, "description": request.description},
    });
    if let Some(who) = &request.on_behalf_of {
        body["raiseOnBehalfOf"] = json!(who);
    }
    if !request.participants.is_empty() {
        body["requestParticipants"] = json!(request.participants);
    }
    JiraRequest { method: "POST", path: "/rest/servicedeskapi/request".into(), body }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue() -> NewIssue {
        NewIssue {
            project: "SALES".into(),
            issue_type: "Task".into(),
            summary: "Quote".into(),
            description: "Hi".into(),
            components: vec!["Billing".into()],
            priority: Some("High".into()),
            assignee: Some("5b10ac8d82e05b22cc7d4ef5".into()),
            due_date: chrono::NaiveDate::from_ymd_opt(2027, 1, 31),
            fix_versions: vec!["2.0".into()],
            custom: [("customfield_10050".to_string(), json!({"value": "Gold"}))].into_iter().collect(),
            ..NewIssue::default()
        }
    }

    #[test]
    fn a_create_carries_the_fields_in_atlassians_shapes() {
        let r = create_issue(JiraFlavor::Cloud, &issue());
        assert_eq!((r.method, r.path.as_str()), ("POST", "/rest/api/3/issue"));
        let f = &r.body["fields"];
        assert_eq!(f["priority"], json!({"name": "High"}));
        assert_eq!(f["assignee"], json!({"accountId": "5b10ac8d82e05b22cc7d4ef5"}));
        assert_eq!(f["duedate"], "2027-01-31");
        assert_eq!(f["components"], json!([{"name": "Billing"}]));
        assert_eq!(f["fixVersions"], json!([{"name": "2.0"}]));
        assert_eq!(f["customfield_10050"], json!({"value": "Gold"}));
        assert!(f.get("labels").is_none() && r.body.get("properties").is_none());

        let dc = create_issue(JiraFlavor::Datacenter, &issue());
        assert_eq!(dc.path, "/rest/api/2/issue");
        assert_eq!(dc.body["fields"]["assignee"], json!({"name": "5b10ac8d82e05b22cc7d4ef5"}));
        assert_eq!(dc.body["fields"]["description"], "Hi");
    }

    #[test]
    fn an_issue_without_fields_sends_none_of_them() {
        let plain = NewIssue { project: "HELP".into(), issue_type: "Task".into(), ..NewIssue::default() };
        let f = create_issue(JiraFlavor::Cloud, &plain).body["fields"].clone();
        let mut keys: Vec<&str> = f.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(keys, ["description", "issuetype", "project", "summary"]);
    }
}
