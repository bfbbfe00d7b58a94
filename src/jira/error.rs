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
    /// A create refused for fields' values: a 400 whose `errors` name
    /// fields (field id to Jira's message). Nothing was created.
    #[error("Jira rejected the request (400): {message}")]
    InvalidFields { message: String, fields: Vec<(String, String)> },
    #[error("unexpected answer from Jira: {0}")]
    Decode(String),
    /// The answer's body could not be read as JSON (the URL is kept, as before).
    #[error("unexpected answer from Jira: {0}")]
    Body(#[source] reqwest::Error),
    /// No OAuth access token for Jira (3LO): the grant is refused or the
    /// token endpoint is unavailable.
    #[error("no Jira access token: {0}")]
    OAuth(#[source] crate::oauth::OAuthError),
}

impl JiraError {
    /// Worth trying again later, unchanged.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Server { .. } | Self::Network(_))
            || matches!(self, Self::OAuth(e) if e.is_transient())
    }

    /// The call may have taken effect although we got no answer.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Self::Network(_) | Self::Server { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::JiraError;

    #[tokio::test]
    async fn an_unreachable_jira_is_transient_and_keeps_its_cause() {
        use std::error::Error as _;
        crate::telemetry::install_crypto_provider();
        // Port 1 on loopback: refused at once.
        let e = reqwest::Client::new().get("http://127.0.0.1:1/rest").send().await.expect_err("refused");
        let e = JiraError::Network(e.without_url());
        assert!(e.is_transient() && e.is_ambiguous());
        assert!(e.to_string().starts_with("cannot reach Jira: "), "{e}");
        assert!(!e.to_string().contains("127.0.0.1:1"), "the URL is stripped: {e}");
        assert!(e.source().is_some());
        assert!(!JiraError::Decode("no id".into()).is_transient());
    }
}
