//! The typed states of an inbound mail and their mapping to and from the
//! row's columns (`status`, `action`, `issue_key`, `hold_reason`). This is
//! the only place where those columns are read as strings.

use crate::domain::IssueKey;

/// What a mail does in Jira.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Comment,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Comment => "comment",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(Self::Create),
            "comment" => Some(Self::Comment),
            _ => None,
        }
    }
}

/// The action a finished mail is logged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoggedAction {
    Jira(Action),
    Ignore,
    /// The sender policy refused the sender.
    Reject,
    /// Failed before any action was chosen.
    None,
}

impl LoggedAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jira(a) => a.as_str(),
            Self::Ignore => "ignore",
            Self::Reject => "reject",
            Self::None => "none",
        }
    }
}

/// Why a pending mail waits without counting an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// The workaround token is missing, expired or rejected; setting a new
    /// token releases these mails.
    Token,
    /// Jira rejected mailgate's own credentials (401).
    Credentials,
    /// The per-issue update limit: the comment waits its turn.
    Throttled,
}

impl HoldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Credentials => "credentials",
            Self::Throttled => "throttled",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(Self::Token),
            "credentials" => Some(Self::Credentials),
            "throttled" => Some(Self::Throttled),
            _ => None,
        }
    }
}

/// The coarse status column: queued or finished, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Done,
    Ignored,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Ignored => "ignored",
            Self::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "done" => Some(Self::Done),
            "ignored" => Some(Self::Ignored),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Where a mail is on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundState {
    /// Stored, not yet worked on (or to be tried again).
    Pending,
    /// Waiting for something outside this mail.
    Held(HoldReason),
    /// The Jira call is under way or its answer was lost: a resumed attempt
    /// looks for an earlier result before posting again.
    Posting(Action),
    /// Jira holds the issue or comment; attachments may still be due.
    Posted {
        action: Action,
        issue: IssueKey,
    },
    Done,
    Ignored,
    Failed,
}

impl InboundState {
    /// From the row's columns. Unknown values (a newer version's rows) read
    /// as the nearest known state, never as an error.
    pub(crate) fn from_columns(
        status: &str,
        action: Option<&str>,
        issue_key: Option<&str>,
        hold_reason: Option<&str>,
    ) -> Self {
        match Status::parse(status) {
            Some(Status::Done) => return Self::Done,
            Some(Status::Ignored) => return Self::Ignored,
            Some(Status::Failed) => return Self::Failed,
            Some(Status::Pending) | None => {}
        }
        let action = action.and_then(Action::parse);
        match (action, issue_key.map(IssueKey::parse), hold_reason.and_then(HoldReason::parse)) {
            (Some(action), Some(Ok(issue)), _) => Self::Posted { action, issue },
            (Some(action), _, _) => Self::Posting(action),
            (None, _, Some(reason)) => Self::Held(reason),
            _ => Self::Pending,
        }
    }

    /// The Jira action chosen so far, if any.
    pub fn action(&self) -> Option<Action> {
        match self {
            Self::Posting(a) | Self::Posted { action: a, .. } => Some(*a),
            _ => None,
        }
    }

    /// The issue Jira already holds for this mail.
    pub fn posted_issue(&self) -> Option<&IssueKey> {
        match self {
            Self::Posted { issue, .. } => Some(issue),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_columns_map_to_states() {
        let key = IssueKey::parse("HELP-1").expect("key");
        let cases = [
            (("pending", None, None, None), InboundState::Pending),
            (("pending", None, None, Some("token")), InboundState::Held(HoldReason::Token)),
            (("pending", Some("create"), None, None), InboundState::Posting(Action::Create)),
            (
                ("pending", Some("comment"), Some("HELP-1"), None),
                InboundState::Posted { action: Action::Comment, issue: key.clone() },
            ),
            (("done", Some("create"), Some("HELP-1"), None), InboundState::Done),
            (("ignored", Some("ignore"), None, None), InboundState::Ignored),
            (("failed", None, None, None), InboundState::Failed),
            (("pending", Some("create"), None, Some("throttled")), InboundState::Posting(Action::Create)),
        ];
        for ((status, action, issue, hold), want) in cases {
            assert_eq!(InboundState::from_columns(status, action, issue, hold), want, "{status} {action:?}");
        }
    }
}
