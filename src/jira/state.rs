//! What mailgate reads of an issue's workflow state, its transitions and
//! attachments, and the pure parsing of Jira's answers into them (no I/O:
//! the client in `http::state` fetches, these functions read).

use serde_json::Value;

use super::JiraUser;

/// A status's category, from `statusCategory.key`: the one part of a status
/// that means the same on every site (status names are the admins' choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCategory {
    /// `new` ("To Do").
    ToDo,
    /// `indeterminate` ("In Progress").
    InProgress,
    /// `done`.
    Done,
    /// `undefined` ("No Category") or a key Jira may add later.
    Unknown,
}

impl StatusCategory {
    pub fn from_key(key: &str) -> Self {
        match key {
            "new" => Self::ToDo,
            "indeterminate" => Self::InProgress,
            "done" => Self::Done,
            _ => Self::Unknown,
        }
    }
}

/// An issue's workflow state and people (getIssue with
/// `fields=status,resolution,resolutiondate,reporter,assignee`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueState {
    /// The status's name, e.g. "In Progress".
    pub status: String,
    pub status_category: StatusCategory,
    /// The resolution's name, `None` while unresolved.
    pub resolution: Option<String>,
    /// `resolutiondate` in milliseconds since the epoch.
    pub resolved_at_ms: Option<i64>,
    /// `None` when Jira answers `null` (or the field is not visible).
    /// Emails may be absent (profile visibility).
    pub reporter: Option<JiraUser>,
    pub assignee: Option<JiraUser>,
}

/// A transition offered from the issue's current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub id: String,
    /// The transition's name ("Reopen", "Back to open", …: site-specific).
    pub name: String,
    /// The name of the status it leads to.
    pub to_status: String,
    /// The category of that status: how to find e.g. the way out of Done on
    /// a site whose names are unknown.
    pub to_category: StatusCategory,
}

/// An attachment's metadata (getAttachment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    pub id: String,
    pub filename: String,
    /// Bytes.
    pub size: u64,
    pub mime_type: String,
    /// Jira's `content` link (Cloud: getAttachmentContent; Data Center: the
    /// `/secure/attachment/…` servlet). The client downloads through its own
    /// base URL, not through this link.
    pub content_url: String,
    /// Who uploaded it.
    pub author: Option<JiraUser>,
}

/// Milliseconds of a Jira timestamp: `2026-11-23T10:00:00.000+0000` (the
/// REST API's format, offset without a colon), or RFC 3339.
pub fn parse_jira_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s.trim()))
        .ok()
        .map(|t| t.timestamp_millis())
}

fn user(v: &Value) -> Option<JiraUser> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    v.is_object().then(|| JiraUser {
        account_id: s("accountId"),
        name: s("name"),
        display_name: s("displayName"),
        email: s("emailAddress"),
    })
}

/// The state from an `IssueBean`; `None` when it has no status name.
pub fn issue_state_from(issue: &Value) -> Option<IssueState> {
    let f = issue.get("fields")?;
    let status = f.pointer("/status/name")?.as_str()?.to_string();
    let category = f.pointer("/status/statusCategory/key").and_then(Value::as_str).unwrap_or_default();
    Some(IssueState {
        status,
        status_category: StatusCategory::from_key(category),
        resolution: f.pointer("/resolution/name").and_then(Value::as_str).map(String::from),
        resolved_at_ms: f.get("resolutiondate").and_then(Value::as_str).and_then(parse_jira_time),
        reporter: f.get("reporter").and_then(user),
        assignee: f.get("assignee").and_then(user),
    })
}

/// The transitions of a getTransitions answer (`{"transitions": [...]}`);
/// entries without an id are left out.
pub fn transitions_from(v: &Value) -> Vec<Transition> {
    let Some(list) = v.get("transitions").and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|t| {
            let s = |p: &str| t.pointer(p).and_then(Value::as_str).map(String::from);
            Some(Transition {
                id: s("/id")?,
                name: s("/name").unwrap_or_default(),
                to_status: s("/to/name").unwrap_or_default(),
                to_category: StatusCategory::from_key(&s("/to/statusCategory/key").unwrap_or_default()),
            })
        })
        .collect()
}

/// An id Jira writes as a string (most answers) or a number (P3
/// `AttachmentMetadata.id` is int64).
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Attachment metadata from a getAttachment answer; `None` without an id,
/// a file name or a size.
pub fn attachment_meta_from(v: &Value) -> Option<AttachmentMeta> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    Some(AttachmentMeta {
        id: id_of(v.get("id")?)?,
        filename: s("filename")?,
        size: v.get("size")?.as_u64()?,
        mime_type: s("mimeType").unwrap_or_else(|| "application/octet-stream".into()),
        content_url: s("content").unwrap_or_default(),
        author: v.get("author").and_then(user),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jira_timestamps_are_read_with_and_without_a_colon_in_the_offset() {
        assert_eq!(parse_jira_time("2026-11-23T10:00:00.000+0000"), Some(1_795_428_000_000));
        assert_eq!(parse_jira_time("2026-11-23T11:00:00.000+0100"), Some(1_795_428_000_000));
        assert_eq!(parse_jira_time("2026-11-23T10:00:00+00:00"), Some(1_795_428_000_000));
        assert_eq!(parse_jira_time("yesterday"), None);
    }

    #[test]
    fn an_issue_state_is_read_from_its_fields_and_null_people_are_none() {
        let issue = json!({"key": "HELP-1", "fields": {
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "resolution": {"name": "Fixed"},
            "resolutiondate": "2026-11-23T10:00:00.000+0000",
            "reporter": {"accountId": "a1", "displayName": "Ann"},
            "assignee": null
        }});
        let state = issue_state_from(&issue).expect("a state");
        assert_eq!(state.status, "Done");
        assert_eq!(state.status_category, StatusCategory::Done);
        assert_eq!(state.resolution.as_deref(), Some("Fixed"));
        assert_eq!(state.resolved_at_ms, Some(1_795_428_000_000));
        let reporter = state.reporter.expect("a reporter");
        assert_eq!((reporter.account_id.as_deref(), reporter.email), (Some("a1"), None), "hidden email: none");
        assert_eq!(state.assignee, None);
        let open = json!({"fields": {"status": {"name": "Neu", "statusCategory": {"key": "new"}}, "resolution": null}});
        let state = issue_state_from(&open).expect("a state");
        assert_eq!((state.status_category, state.resolution, state.resolved_at_ms), (StatusCategory::ToDo, None, None));
        assert_eq!(issue_state_from(&json!({"fields": {}})), None, "no status: no state");
    }

    #[test]
    fn transitions_and_attachment_metadata_are_read_with_either_id_type() {
        let v = json!({"transitions": [
            {"id": "41", "name": "Back to work", "to": {"name": "Offen", "statusCategory": {"key": "new"}}},
            {"name": "no id"}
        ]});
        let t = transitions_from(&v);
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].id.as_str(), t[0].to_status.as_str(), t[0].to_category),
            ("41", "Offen", StatusCategory::ToDo)
        );
        let cloud = json!({"id": 10000, "filename": "a.png", "size": 12, "mimeType": "image/png", "content": "u"});
        let dc = json!({"id": "10000", "filename": "a.png", "size": 12});
        assert_eq!(attachment_meta_from(&cloud).map(|m| m.id), Some("10000".to_string()));
        let dc = attachment_meta_from(&dc).expect("metadata");
        assert_eq!((dc.id.as_str(), dc.mime_type.as_str()), ("10000", "application/octet-stream"));
        assert_eq!(attachment_meta_from(&json!({"id": 1, "filename": "x"})), None, "no size");
    }
}
