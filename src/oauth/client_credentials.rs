//! Client credentials (RFC 6749 4.4): app-only access with the client id
//! and secret (Microsoft 365 `IMAP.AccessAsApp`, `SMTP.SendAsApp`).

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use super::cache::{Fresh, TokenCache};
use super::endpoint::{Params, TokenEndpoint};
use super::grants::Refusal;
use super::{AccessTokens, OAuthClient, OAuthError, store_error};
use crate::clock::Clock;
use crate::secrets::TokenCipher;
use crate::store::Store;

pub struct ClientCredentials {
    grant: String,
    client: OAuthClient,
    endpoint: TokenEndpoint,
    store: Store,
    cipher: Option<Arc<TokenCipher>>,
    cache: TokenCache,
    refusal: Refusal,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("grant", &self.grant)
            .field("token_url", &self.endpoint.url())
            .finish()
    }
}

/// The token request: `grant_type=client_credentials`, the client's id and
/// secret in the body, the scopes.
pub fn request_params(client: &OAuthClient, secret: &SecretString) -> Params {
    Params::new()
        .add("grant_type", "client_credentials")
        .add_opt("client_id", client.client_id.clone())
        .secret("client_secret", secret)
        .add_opt("scope", client.scope())
}

impl ClientCredentials {
    pub fn new(
        grant: &str,
        client: OAuthClient,
        http: reqwest::Client,
        store: Store,
        cipher: Option<Arc<TokenCipher>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let endpoint = TokenEndpoint::new(http, client.token_url.clone(), client.body);
        Self {
            grant: grant.to_string(),
            client,
            endpoint,
            store,
            cipher,
            cache: TokenCache::new(clock),
            refusal: Refusal::default(),
        }
    }

    async fn fetch(&self) -> Result<Fresh, OAuthError> {
        let grant = self.grant.as_str();
        let row = self.store.oauth_grant(grant).await.map_err(|e| store_error(grant, &e))?;
        let version = row.as_ref().map_or(0, |r| r.version);
        self.refusal.check(grant, version)?;
        let secret = self.client.secret(grant, &self.store, self.cipher.as_deref()).await?.ok_or_else(|| {
            OAuthError::Config {
                grant: grant.to_string(),
                message:
                    "no client secret: set client_secret or client_secret_file, or run `mailgate oauth set-secret`"
                        .into(),
            }
        })?;
        let now = self.cache.clock().now_ms();
        let answer = self.endpoint.token(&request_params(&self.client, &secret)).await;
        self.refusal.settle(&self.store, (grant, version, now), "client credentials", answer).await
    }
}

#[async_trait]
impl AccessTokens for ClientCredentials {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        self.cache.get(|| self.fetch()).await
    }

    fn invalidate(&self) {
        self.cache.invalidate();
    }
}
