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
    /// Jira's timestamp of the upload.
    pub created: String,
    /// Who uploaded it: `None` for the API user (mailgate itself), else the
    /// account id (Cloud) or username (DC) of the agent.
    pub author: Option<String>,
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
    /// Account id (Cloud) or username (DC) of the assignee, if any.
    pub assignee: Option<String>,
    /// The workflow status's name (see `workflow`): "Open" when created.
    pub status: String,
    /// The resolution's name, set by a transition to Done.
    pub resolution: Option<String>,
    /// Jira's timestamp of the resolution (`resolutiondate`).
    pub resolution_date: Option<String>,
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
        assignee: None,
        status: super::workflow::OPEN.to_string(),
        resolution: None,
        resolution_date: None,
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

/// An attachment as addAttachment and the issue's `attachment` field show it
/// (P3 `Attachment`, DC `AttachmentJsonBean`). `content` is where its bytes
/// are: Cloud's getAttachmentContent, Data Center's `/secure/attachment`
/// servlet (see `files`).
pub fn attachment_json(st: &State, api: &str, a: &FakeAttachment) -> Value {
    let base = &st.base_url;
    json!({
        "self": format!("{base}/rest/api/{api}/attachments/{}", a.id),
        "id": a.id,
        "filename": a.filename,
        "author": super::people::author_json(st, api, a.author.as_deref()),
        "created": a.created,
        "size": a.data.len(),
        "mimeType": a.mime_type,
        "content": super::files::content_url(base, api, a)
    })
}

pub fn issue_json(st: &State, api: &str, i: &FakeIssue) -> Value {
    let base = &st.base_url;
    let comments: Vec<Value> = i.comments.iter().map(|c| comment_json(base, api, i, c)).collect();
    let attachments: Vec<Value> = i.attachments.iter().map(|a| attachment_json(st, api, a)).collect();
    let people = |id: Option<&str>| id.and_then(|id| super::people::person_json(st, api, id));
    // A reporter set on create is shown as the user it names (email hidden
    // when the profile hides it); one the fake does not know, as it was sent.
    let reporter = match &i.reporter {
        None => user_ref(base),
        Some(raw) => {
            let id = raw.get("accountId").or_else(|| raw.get("name")).and_then(Value::as_str);
            people(id).unwrap_or_else(|| raw.clone())
        }
    };
    let mut v = json!({
        "id": i.id,
        "key": i.key,
        "self": format!("{base}/rest/api/{api}/issue/{}", i.id),
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "fields": {
            "summary": i.summary,
            "description": i.description,
            "issuetype": {"name": i.issue_type},
            "status": super::workflow::status_json(base, api, &i.status),
            "resolution": i.resolution.as_deref().map(|r| super::workflow::resolution_json(base, api, r)),
            "resolutiondate": i.resolution_date,
            "assignee": people(i.assignee.as_deref()),
            "project": {"key": i.project, "name": i.project},
            "labels": i.labels,
            "reporter": reporter,
            "created": i.created,
            "updated": i.updated,
            "attachment": attachments,
            "issuelinks": super::links::issue_links_json(st, api, i),
            "comment": {"startAt": 0, "maxResults": comments.len(), "total": comments.len(), "comments": comments}
        }
    });
    // What the create set, as it was sent; the assignee the workflow holds wins.
    for (id, value) in &i.fields {
        if id != "assignee" || i.assignee.is_none() {
            v["fields"][id.as_str()] = value.clone();
        }
    }
    v
}
