use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::State;

#[derive(Debug, Clone)]
pub struct FakeComment {
    pub id: String,
    pub body: Value,
    pub created: String,
    /// JSM comments: public (customer-visible) or internal.
    pub public: Option<bool>,
    /// Comment entity properties (`key` to value).
    pub properties: Vec<(String, Value)>,
}

#[derive(Debug, Clone)]
pub struct FakeAttachment {
    pub id: String,
    pub filename: String,
    pub mime_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct FakeIssue {
    pub id: String,
    pub key: String,
    pub project: String,
    pub summary: String,
    pub description: Value,
    pub issue_type: String,
    pub labels: Vec<String>,
    pub reporter: Option<Value>,
    /// Priority, assignee, due date, components, fix versions and custom
    /// fields as the create sent them (field id to value).
    pub fields: BTreeMap<String, Value>,
    pub properties: BTreeMap<String, Value>,
    pub comments: Vec<FakeComment>,
    pub attachments: Vec<FakeAttachment>,
    pub watchers: Vec<String>,
    /// Set for issues created as JSM customer requests.
    pub request: Option<super::people::FakeRequest>,
    pub created: String,
    pub updated: String,
    /// Each write's time and `updated` stamp, for the search index's lag.
    pub writes: Vec<(std::time::Instant, String)>,
}

impl FakeIssue {
    /// A write: `updated` moves on, and the search index sees it after its lag.
    pub fn touch(&mut self, stamp: String) {
        self.writes.push((std::time::Instant::now(), stamp.clone()));
        self.updated = stamp;
    }
}

/// Jira's timestamp format, e.g. `2026-11-23T10:00:00.000+0000`, for now
/// (`_n` is the entity counter, kept for call sites that number things).
pub fn jira_time(_n: u64) -> String {
    super::clock::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Milliseconds of a Jira timestamp.
pub fn parse_jira_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z").ok().map(|t| t.timestamp_millis())
}

pub fn insert_issue(
    st: &mut State,
    project: &str,
    summary: &str,
    description: Value,
    issue_type: &str,
    labels: Vec<String>,
    properties: BTreeMap<String, Value>,
) -> String {
    st.next_issue_id += 1;
    let number = st.issues.iter().filter(|i| i.project == project).count() + 1;
    let key = format!("{project}-{number}");
    let now = jira_time(st.next_issue_id);
    st.issues.push(FakeIssue {
        id: st.next_issue_id.to_string(),
        key: key.clone(),
        project: project.to_string(),
        summary: summary.to_string(),
        description,
        issue_type: issue_type.to_string(),
        labels,
        reporter: None,
        fields: BTreeMap::new(),
        properties,
        comments: Vec::new(),
        attachments: Vec::new(),
        watchers: Vec::new(),
        request: None,
        created: now.clone(),
        updated: now.clone(),
        writes: vec![(std::time::Instant::now(), now)],
    });
    key
}

pub fn user_json(base: &str) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5"),
        "accountId": "5b10ac8d82e05b22cc7d4ef5",
        "accountType": "atlassian",
        "emailAddress": "mailgate-bot@example.test",
        "displayName": "mailgate bot",
        "active": true,
        "timeZone": "Etc/UTC",
        "locale": "en_US",
        "avatarUrls": {
            "16x16": format!("{base}/avatar/16"), "24x24": format!("{base}/avatar/24"),
            "32x32": format!("{base}/avatar/32"), "48x48": format!("{base}/avatar/48")
        }
    })
}

pub fn user_ref(base: &str) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5"),
        "accountId": "5b10ac8d82e05b22cc7d4ef5",
        "displayName": "mailgate bot",
        "active": true,
        "accountType": "atlassian",
        "timeZone": "Etc/UTC"
    })
}

pub fn comment_json(base: &str, api: &str, issue: &FakeIssue, c: &FakeComment) -> Value {
    json!({
        "self": format!("{base}/rest/api/{api}/issue/{}/comment/{}", issue.id, c.id),
        "id": c.id,
        "author": user_ref(base),
        "updateAuthor": user_ref(base),
        "body": c.body,
        "created": c.created,
        "updated": c.created,
        // Always true, internal notes included: a public report (jira-facts.md)
        // saw `jsdPublic: true` for a private comment; only JSM's
        // getRequestCommentById tells them apart. The fake is no kinder.
        "jsdPublic": true
    })
}

pub fn attachment_json(base: &str, api: &str, a: &FakeAttachment, created: &str) -> Value {
    json!({
        "self": format!("{base}/rest/api/{api}/attachments/{}", a.id),
        "id": a.id,
        "filename": a.filename,
        "author": user_ref(base),
        "created": created,
        "size": a.data.len(),
        "mimeType": a.mime_type,
        "content": format!("{base}/rest/api/{api}/attachment/content/{}", a.id)
    })
}

/// The status every fake issue is in: Jira's classic "Open" (id 1) in the
/// "To Do" category (`StatusDetails` on Cloud, `StatusJsonBean` on DC).
fn status_json(base: &str, api: &str) -> Value {
    json!({
        "self": format!("{base}/rest/api/{api}/status/1"),
        "description": "The issue is open and ready for the assignee to start work on it.",
        "iconUrl": format!("{base}/images/icons/statuses/open.png"),
        "name": "Open",
        "id": "1",
        "statusCategory": {
            "self": format!("{base}/rest/api/{api}/statuscategory/2"),
            "id": 2,
            "key": "new",
            "colorName": "blue-gray",
            "name": "To Do"
        }
    })
}

pub fn issue_json(base: &str, api: &str, i: &FakeIssue) -> Value {
    let comments: Vec<Value> = i.comments.iter().map(|c| comment_json(base, api, i, c)).collect();
    let attachments: Vec<Value> = i.attachments.iter().map(|a| attachment_json(base, api, a, &i.updated)).collect();
    let mut v = json!({
        "id": i.id,
        "key": i.key,
        "self": format!("{base}/rest/api/{api}/issue/{}", i.id),
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "fields": {
            "summary": i.summary,
            "description": i.description,
            "issuetype": {"name": i.issue_type},
            "status": status_json(base, api),
            "assignee": null,
            "project": {"key": i.project, "name": i.project},
            "labels": i.labels,
            "reporter": i.reporter.clone().unwrap_or_else(|| user_ref(base)),
            "created": i.created,
            "updated": i.updated,
            "attachment": attachments,
            "comment": {"startAt": 0, "maxResults": comments.len(), "total": comments.len(), "comments": comments}
        }
    });
    for (id, value) in &i.fields {
        v["fields"][id.as_str()] = value.clone();
    }
    v
}
