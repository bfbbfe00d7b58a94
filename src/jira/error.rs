use std::time::Duration;

/// What went wrong talking to Jira; the variant says whether to retry.
#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// 401: the credentials are wrong, expired or revoked. Mail is held
    /// until they work again.
    #[error("Jira rejected the credentials (401)")]
    Unauthorized,
    #[error("Jira refused the operation (403): {0}")]
    Forbidden(String),
    #[error("not found in Jira (404): {0}")]
    NotFound(String),
    #[error("Jira rate limit (429), retry after {retry_after:?}")]
    RateLimited { retry_after: Option<Duration> },
    #[error("Jira server error ({status}): {message}")]
    Server { status: u16, message: String },
    /// No answer: connection, TLS or timeout (or the client could not be
    /// built). The request's URL is stripped from the error.
    #[error("cannot reach Jira: {0}")]
    Network(#[source] reqwest::Error),
    #[error("Jira rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("unexpected answer from Jira: {0}")]
    Decode(String),
    /// The answer's body could not be read as JSON (the URL is kept, as before).
    #[error("unexpected answer from Jira: {0}")]
    Body(#[source] reqwest::Error),
}

impl JiraError {
    /// Worth trying again later, unchanged.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Server { .. } | Self::Network(_))
    }

    /// The call may have taken effect although we got no answer.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Network(_) | Self::Server { .. })
    }
}
