//! Grant names and the factory of token sources.

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use super::{AccessTokens, ClientCredentials, OAuthClient, OAuthError, RefreshTokenSource, ServiceAccount};
use crate::clock::Clock;
use crate::config::{Flow, JiraAuth, Settings};
use crate::secrets::TokenCipher;
use crate::store::Store;

/// The grant of `[smtp]`.
pub const SMTP_GRANT: &str = "smtp";
/// The grant of `[jira]` (3LO).
pub const JIRA_GRANT: &str = "jira";

/// The grant of mailbox `name`: `mailbox:NAME`.
pub fn mailbox_grant(name: &str) -> String {
    format!("mailbox:{name}")
}

/// Every OAuth grant the configuration uses, with its client: the
/// mailboxes in order, then SMTP, then Jira.
pub fn configured_grants(settings: &Settings) -> Vec<(String, OAuthClient)> {
    let mut out: Vec<(String, OAuthClient)> =
        settings.mailboxes.iter().filter_map(|mb| Some((mailbox_grant(&mb.name), mb.oauth_client()?))).collect();
    if let Some(client) = settings.smtp.as_ref().and_then(|s| s.oauth_client()) {
        out.push((SMTP_GRANT.to_string(), client));
    }
    if let JiraAuth::OAuth2(o) = &settings.jira.auth {
        out.push((JIRA_GRANT.to_string(), o.client()));
    }
    out
}

/// The token source of `grant` for `client`'s flow. `cipher` opens stored
/// refresh tokens and secrets (without it only secrets from the
/// configuration work). Nothing fails here: a source that cannot work
/// (no HTTP client) answers every call with the error.
pub fn tokens_for(
    client: &OAuthClient,
    grant: &str,
    store: Store,
    cipher: Option<Arc<TokenCipher>>,
    clock: Arc<dyn Clock>,
) -> Arc<dyn AccessTokens> {
    let http = match super::endpoint::http_client(client.timeout_secs) {
        Ok(h) => h,
        Err(e) => return Arc::new(Failing(e.to_string())),
    };
    let client = client.clone();
    match client.flow {
        Flow::ClientCredentials => Arc::new(ClientCredentials::new(grant, client, http, store, cipher, clock)),
        Flow::RefreshToken => Arc::new(RefreshTokenSource::new(grant, client, http, store, cipher, clock)),
        Flow::ServiceAccount => Arc::new(ServiceAccount::new(grant, client, http, store, cipher, clock)),
    }
}

/// A source that cannot work; every call says why (to retry later).
struct Failing(String);

#[async_trait]
impl AccessTokens for Failing {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        Err(OAuthError::Unavailable(self.0.clone()))
    }

    fn invalidate(&self) {}
}
