//! OAuth 2.0 access tokens for mailboxes (IMAP/SMTP XOAUTH2, OAUTHBEARER)
//! and Jira Cloud (3LO). Every consumer asks an [`AccessTokens`] for a token
//! right before it authenticates and tells it when the server refused one;
//! how the token is obtained (client credentials, refresh token, JWT bearer)
//! and where grants are kept (encrypted under the master key) is behind it.

mod cache;
mod client;
mod client_credentials;
pub mod endpoint;
mod factory;
mod grants;
pub mod login;
mod refresh;
mod service_account;
#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use secrecy::SecretString;

pub use crate::config::{BodyStyle, OAuthClient, ProviderKind, SecretSource};
pub use cache::{REFRESH_MARGIN_MS, renew_at};
pub use client_credentials::ClientCredentials;
pub use factory::{JIRA_GRANT, SMTP_GRANT, configured_grants, mailbox_grant, tokens_for};
pub use grants::{GrantStatus, RekeyError, grant_statuses, rekey_grants, target_flag};
pub use refresh::RefreshTokenSource;
pub use service_account::{ServiceAccount, ServiceAccountKey, jwt_assertion};

/// Why no access token can be had now.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The token endpoint could not be reached or answered 5xx/429: try later.
    #[error("the token endpoint is unavailable: {0}")]
    Unavailable(String),
    /// The grant is gone (`invalid_grant`: revoked, expired, password
    /// changed) or the client is refused (`invalid_client`): an admin must
    /// log in again (`mailgate oauth login`). Not retried.
    #[error("the OAuth grant {grant} was refused ({error}); run `mailgate oauth login` for it")]
    Revoked { grant: String, error: String },
    /// The configuration cannot work (no grant stored yet, a missing key file…).
    #[error("OAuth {grant}: {message}")]
    Config { grant: String, message: String },
}

impl OAuthError {
    /// Worth trying again later without anyone doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

pub(crate) fn store_error(grant: &str, e: &crate::store::StoreError) -> OAuthError {
    OAuthError::Unavailable(format!("{grant}: the grant could not be read or written: {e}"))
}

pub(crate) fn no_master_key(grant: &str) -> OAuthError {
    OAuthError::Config {
        grant: grant.to_string(),
        message: "no master key (MAILGATE_MASTER_KEY or [secrets] master_key_file) to open the stored grant".into(),
    }
}

/// A source of access tokens for one grant (a mailbox, SMTP, Jira).
#[async_trait]
pub trait AccessTokens: Send + Sync {
    /// A token valid for at least a little while (fetched or refreshed
    /// before it expires).
    async fn access_token(&self) -> Result<SecretString, OAuthError>;
    /// The server refused the token last handed out: the next
    /// [`access_token`](Self::access_token) gets a new one.
    fn invalidate(&self);
}

/// One fixed token (tests and tools).
pub struct StaticToken(pub SecretString);

#[async_trait]
impl AccessTokens for StaticToken {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        Ok(self.0.clone())
    }

    fn invalidate(&self) {}
}

/// The SASL XOAUTH2 initial response (Google's and Microsoft's IMAP/SMTP):
/// `user=<user>^Aauth=Bearer <token>^A^A`, before base64.
pub fn xoauth2_response(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// The SASL OAUTHBEARER (RFC 7628) initial response, before base64.
pub fn oauthbearer_response(user: &str, host: &str, port: u16, token: &str) -> String {
    format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
}
