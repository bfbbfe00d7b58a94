//! Why an event's mails are not queued (yet). The text is what the event
//! row records as its last error.

use super::script::ScriptError;
use super::templates::TemplateError;
use crate::identity::Unavailable;
use crate::jira::JiraError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The event's payload (as queued) cannot be read.
    #[error("unreadable event: {0}")]
    Payload(#[source] serde_json::Error),
    /// The watchers could not be read (transient failures only).
    #[error("cannot read watchers: {0}")]
    Watchers(#[source] JiraError),
    /// A Jira call for `what` (a group, a project role) failed.
    #[error("{what}: {source}")]
    Jira { what: String, source: JiraError },
    /// Jira rejected the workaround token: held until a working one is set.
    #[error("held: {0}")]
    Rejected(#[source] JiraError),
    /// The workaround token cannot be used now (missing, expired, …).
    #[error("held: {0}")]
    Held(#[source] Unavailable),
    /// `what` needs the workaround token, and there is no master key.
    #[error("{what} needs the workaround token (no master key configured)")]
    NoToken { what: String },
    /// The recipients script failed (the default recipients are used).
    #[error(transparent)]
    Script(#[from] ScriptError),
    /// The recipients script panicked (the default recipients are used).
    #[error("notification script panicked: {0}")]
    ScriptPanic(#[source] tokio::task::JoinError),
    /// A mail template failed (that mail is not sent).
    #[error(transparent)]
    Template(#[from] TemplateError),
}

impl NotifyError {
    /// The same attempt may work later without anyone doing anything: the
    /// store or Jira was unavailable.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(e) => e.is_transient(),
            Self::Watchers(e) | Self::Jira { source: e, .. } => e.is_transient(),
            Self::Payload(_)
            | Self::Rejected(_)
            | Self::Held(_)
            | Self::NoToken { .. }
            | Self::Script(_)
            | Self::ScriptPanic(_)
            | Self::Template(_) => false,
        }
    }

    /// Waiting for an admin: a working workaround token or a master key.
    pub fn is_held(&self) -> bool {
        matches!(self, Self::Rejected(_) | Self::Held(_) | Self::NoToken { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::NotifyError;
    use crate::identity::Unavailable;
    use crate::jira::JiraError;

    #[test]
    fn the_text_is_what_the_event_row_records() {
        let held = NotifyError::Held(Unavailable::Missing);
        assert_eq!(held.to_string(), "held: no workaround token is set (mailgate token set)");
        assert!(held.is_held() && !held.is_transient());
        let rejected = NotifyError::Rejected(JiraError::Unauthorized);
        assert_eq!(rejected.to_string(), "held: Jira rejected the credentials (401)");
        let busy = NotifyError::Jira {
            what: "group devs".into(),
            source: JiraError::Server { status: 503, message: "busy".into() },
        };
        assert_eq!(busy.to_string(), "group devs: Jira server error (503): busy");
        assert!(busy.is_transient() && !busy.is_held());
        let no_token = NotifyError::NoToken { what: "group devs".into() };
        assert_eq!(no_token.to_string(), "group devs needs the workaround token (no master key configured)");
        let refused = NotifyError::Jira { what: "role x".into(), source: JiraError::Decode("no".into()) };
        assert!(!refused.is_transient());
    }
}
