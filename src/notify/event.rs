//! Jira activity as mailgate sees it: one event model for webhooks, the
//! catch-up search, and mailgate's own actions.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    IssueCreated,
    IssueUpdated,
    CommentCreated,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IssueCreated => "issue_created",
            Self::IssueUpdated => "issue_updated",
            Self::CommentCreated => "comment_created",
        }
    }
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Webhook,
    CatchUp,
    /// mailgate's own action on an inbound mail.
    Mail,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::CatchUp => "catch_up",
            Self::Mail => "mail",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub account_id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentInfo {
    pub id: String,
    pub author: Option<Person>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One event. `id` identifies it across webhook retries, the catch-up
/// search and mailgate's own actions, so it is notified once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub kind: EventKind,
    pub origin: Origin,
    pub issue_key: String,
    pub project: String,
    pub summary: String,
    pub status: Option<String>,
    pub reporter: Option<Person>,
    pub assignee: Option<Person>,
    #[serde(default)]
    pub watchers: Vec<Person>,
    pub comment: Option<CommentInfo>,
    #[serde(default)]
    pub changed: Vec<Change>,
    /// For events from mail: the sender, who gets the acknowledgement.
    pub mail_sender: Option<String>,
}
