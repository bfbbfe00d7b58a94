//! mailgate's own actions on inbound mail as events, so the sender gets an
//! acknowledgement and the notification scripts run as for Jira's webhooks.
//! The event id is the one Jira's webhook for the same issue or comment
//! gets, so that webhook is then a duplicate.

use super::event::{CommentInfo, Event, EventKind, Origin, Person, Visibility};
use crate::classify;
use crate::domain::{InboundMessage, IssueKey};
use crate::jira::JiraUser;
use crate::store::{Store, StoreError};

/// What mailgate did in Jira for a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailAction<'a> {
    Created(&'a IssueKey),
    /// A comment; its id when Jira's answer gave it.
    Commented {
        issue: &'a IssueKey,
        comment_id: Option<&'a str>,
    },
}

/// The event for a mail's action. `inbound_id` names a comment whose id is
/// unknown. Pure.
pub fn event_for_mail(
    inbound_id: i64,
    msg: &InboundMessage,
    action: &MailAction<'_>,
    reporter: Option<&JiraUser>,
    reply_marker: Option<&str>,
) -> Event {
    let sender = msg.sender().map(|a| a.to_string());
    let author = Person {
        account_id: reporter.and_then(|r| r.account_id.clone()),
        name: reporter.and_then(|r| r.name.clone()),
        display_name: msg.from.as_ref().and_then(|f| f.name.clone()),
        email: sender.clone(),
    };
    let (key, kind, id, comment, reporter) = match action {
        MailAction::Commented { issue, comment_id } => {
            let cid = comment_id.map(String::from).unwrap_or_else(|| format!("mail-{inbound_id}"));
            let body = classify::strip_quoted(&msg.text, reply_marker);
            // A customer's own mail, posted as a public comment.
            let comment = CommentInfo { id: cid.clone(), author: Some(author), body, visibility: Visibility::Public };
            (*issue, EventKind::CommentCreated, format!("comment:{cid}"), Some(comment), None)
        }
        MailAction::Created(key) => (*key, EventKind::IssueCreated, format!("created:{key}"), None, Some(author)),
    };
    Event {
        id,
        kind,
        origin: Origin::Mail,
        issue_key: key.to_string(),
        project: key.project().to_string(),
        summary: classify::summary(&msg.subject),
        status: None,
        reporter,
        assignee: None,
        watchers: Vec::new(),
        comment,
        changed: Vec::new(),
        mail_sender: sender,
        customers: Vec::new(),
        files: Vec::new(),
    }
}

/// Queue an event for notification (idempotent by its id). True when new.
pub async fn raise(store: &Store, event: &Event, now_ms: i64) -> Result<bool, StoreError> {
    let payload = serde_json::to_string(event).unwrap_or_default();
    store.insert_event(&event.id, event.kind.as_str(), event.origin.as_str(), &event.issue_key, &payload, now_ms).await
}
