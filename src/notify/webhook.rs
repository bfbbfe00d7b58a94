//! Jira system webhooks: signature check and payload to [`Event`].
//! Jira signs with HMAC-SHA256 of the body in `X-Hub-Signature: sha256=<hex>`
//! when the webhook has a secret; retries carry the same
//! `X-Atlassian-Webhook-Identifier`.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::event::{Change, CommentInfo, Event, EventKind, FileRef, Origin, Person, Visibility};
use crate::jira::adf_to_text;

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under
/// `secret`. The comparison is constant-time.
pub fn signature_valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Ok(sig) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The signature header value for `body` (tests and tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn person(v: &Value) -> Option<Person> {
    if !v.is_object() {
        return None;
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    Some(Person {
        account_id: s("accountId"),
        name: s("name"),
        display_name: s("displayName"),
        email: s("emailAddress"),
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => adf_to_text(other),
    }
}

/// Event fields common to every kind, from an issue JSON (`IssueBean`).
pub fn event_from_issue(issue: &Value, kind: EventKind, origin: Origin, id: String) -> Option<Event> {
    let key = issue.get("key")?.as_str()?.to_string();
    let f = &issue["fields"];
    Some(Event {
        id,
        kind,
        origin,
        project: f["project"]["key"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| key.rsplit_once('-').map(|(p, _)| p.to_string()).unwrap_or_default()),
        issue_key: key,
        summary: f["summary"].as_str().unwrap_or_default().to_string(),
        status: f["status"]["name"].as_str().map(String::from),
        reporter: person(&f["reporter"]),
        assignee: person(&f["assignee"]),
        watchers: Vec::new(),
        comment: None,
        changed: Vec::new(),
        mail_sender: None,
        customers: Vec::new(),
        files: Vec::new(),
    })
}

/// Why a webhook body is not turned into an event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("the body is not JSON")]
    NotJson,
    #[error("no issue in the payload")]
    NoIssue,
    #[error("webhook event {0:?} is not one mailgate notifies about")]
    Unsupported(String),
}

/// Turn a webhook body into an event. `Ok(None)`: a known event that is
/// covered elsewhere (an `issue_updated` for a comment; `comment_created` covers it).
pub fn parse_payload(body: &[u8]) -> Result<Option<Event>, PayloadError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| PayloadError::NotJson)?;
    let name = v["webhookEvent"].as_str().unwrap_or_default().to_string();
    let issue = &v["issue"];
    let key = issue["key"].as_str().ok_or(PayloadError::NoIssue)?.to_string();
    let updated = issue["fields"]["updated"].as_str().unwrap_or_default().to_string();
    let (kind, id) = match name.as_str() {
        "jira:issue_created" => (EventKind::IssueCreated, format!("created:{key}")),
        "jira:issue_updated" => {
            if v["issue_event_type_name"].as_str() == Some("issue_commented") {
                return Ok(None);
            }
            (EventKind::IssueUpdated, format!("updated:{key}:{updated}"))
        }
        "comment_created" => {
            let cid = v["comment"]["id"].as_str().ok_or(PayloadError::Unsupported(name.clone()))?;
            (EventKind::CommentCreated, format!("comment:{cid}"))
        }
        other => return Err(PayloadError::Unsupported(other.to_string())),
    };
    let mut event = event_from_issue(issue, kind, Origin::Webhook, id).ok_or(PayloadError::NoIssue)?;
    if kind == EventKind::CommentCreated {
        let c = &v["comment"];
        event.comment = Some(CommentInfo {
            id: c["id"].as_str().unwrap_or_default().to_string(),
            author: person(&c["author"]),
            body: text(&c["body"]),
            visibility: Visibility::of_comment(c),
        });
    }
    if let Some(items) = v["changelog"]["items"].as_array() {
        event.changed = items
            .iter()
            .map(|i| Change {
                field: i["field"].as_str().unwrap_or_default().to_string(),
                from: i["fromString"].as_str().map(String::from),
                to: i["toString"].as_str().map(String::from),
            })
            .collect();
        // A file added: the changelog item of field "Attachment" carries its id in `to`.
        event.files = items
            .iter()
            .filter(|i| i["fieldId"].as_str() == Some("attachment") || i["field"].as_str() == Some("Attachment"))
            .filter_map(|i| {
                let id = i["to"].as_str().filter(|id| !id.is_empty())?;
                let filename = i["toString"].as_str().unwrap_or(id);
                Some(FileRef {
                    id: id.to_string(),
                    filename: filename.to_string(),
                    size: None,
                    attached: false,
                    url: None,
                })
            })
            .collect();
    }
    Ok(Some(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked() {
        let header = sign(b"s3cret", b"{}");
        assert!(signature_valid(b"s3cret", b"{}", Some(&header)));
        assert!(!signature_valid(b"other", b"{}", Some(&header)));
        assert!(!signature_valid(b"s3cret", b"{ }", Some(&header)));
        assert!(!signature_valid(b"s3cret", b"{}", None));
        assert!(!signature_valid(b"s3cret", b"{}", Some("sha256=zz")));
    }

    #[test]
    fn a_comment_payload_becomes_a_comment_event() {
        let body = serde_json::json!({
            "timestamp": 1, "webhookEvent": "comment_created",
            "issue": {"id": "10001", "key": "HELP-4", "fields": {"summary": "Printer", "project": {"key": "HELP"},
                "status": {"name": "Open"}, "reporter": {"accountId": "a1", "emailAddress": "r@x.test"}, "updated": "t1"}},
            "comment": {"id": "777", "body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]},
                "author": {"accountId": "a2", "displayName": "Agent"}}
        });
        let e = parse_payload(body.to_string().as_bytes()).expect("ok").expect("event");
        assert_eq!(e.id, "comment:777");
        assert_eq!(e.kind, EventKind::CommentCreated);
        assert_eq!(e.comment.as_ref().map(|c| c.body.as_str()), Some("hi"));
        assert_eq!(e.reporter.and_then(|r| r.email).as_deref(), Some("r@x.test"));
    }

    #[test]
    fn an_update_for_a_comment_is_covered_by_the_comment_event() {
        let body = serde_json::json!({"webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_commented",
            "issue": {"key": "HELP-4", "fields": {}}});
        assert_eq!(parse_payload(body.to_string().as_bytes()), Ok(None));
        assert!(matches!(parse_payload(b"nope"), Err(PayloadError::NotJson)));
    }
}
