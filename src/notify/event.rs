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
    /// Who may read it; only public comments are mailed.
    #[serde(default)]
    pub visibility: Visibility,
}

/// Who may read a comment. Jira marks a restricted comment with
/// `visibility` `{type: group|role, value}` (platform `Comment`) and a JSM
/// internal note with `jsdPublic: false` (jira-facts.md, API-NOTES.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Visibility {
    /// As far as the payload tells: anyone who can see the issue.
    #[default]
    Public,
    /// A JSM internal note: agents only.
    Internal,
    /// Only members of a group or project role.
    Restricted { to: String, name: String },
}

impl Visibility {
    /// From a comment object as Jira sends it (webhook or REST).
    pub fn of_comment(c: &serde_json::Value) -> Self {
        if let Some(to) = c["visibility"]["type"].as_str() {
            let name = c["visibility"]["value"].as_str().or_else(|| c["visibility"]["identifier"].as_str());
            return Self::Restricted { to: to.to_string(), name: name.unwrap_or_default().to_string() };
        }
        if c["jsdPublic"].as_bool() == Some(false) || c["public"].as_bool() == Some(false) {
            return Self::Internal;
        }
        Self::Public
    }
}

impl std::fmt::Display for Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Public => f.write_str("public"),
            Self::Internal => f.write_str("an internal note"),
            Self::Restricted { to, name } => write!(f, "restricted to the {to} {name:?}"),
        }
    }
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
    /// The issue's requester and participants as mailgate knows them from
    /// mail (filled in before the script runs; the requester first).
    #[serde(default)]
    pub customers: Vec<Customer>,
    /// Files added to the issue (from the changelog); an agent's go with the mail.
    #[serde(default)]
    pub files: Vec<FileRef>,
}

/// A file added to the issue, and how it reaches the mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// Jira's attachment id.
    pub id: String,
    pub filename: String,
    #[serde(default)]
    pub size: Option<u64>,
    /// Attached to the mail; else too large, and linked by `url`.
    #[serde(default)]
    pub attached: bool,
    #[serde(default)]
    pub url: Option<String>,
}

/// A requester or participant: someone mailgate writes to by address,
/// whether or not Jira knows them or shows their address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub email: String,
    pub name: Option<String>,
    pub account_id: Option<String>,
    /// `requester` or `participant` (as the script sees it).
    pub role: crate::store::Role,
    /// Their latest mail on the issue: a mail to them threads under it.
    #[serde(skip)]
    pub last_message_id: Option<String>,
}
