//! A delegated grant kept as a refresh token (RFC 6749 6): Microsoft and
//! Google delegated mailboxes, generic servers, Jira Cloud 3LO. The refresh
//! token is read from the store at every refresh (never only from memory,
//! so instances share rotations); a rotated one is stored before the new
//! access token is handed out, and a refusal (`invalid_grant`) marks the
//! grant revoked until the next `mailgate oauth login`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::cache::{Fresh, TokenCache, expires_at};
use super::endpoint::{Params, TokenEndpoint};
use super::{AccessTokens, OAuthClient, OAuthError, ProviderKind, no_master_key, store_error};
use crate::clock::Clock;
use crate::secrets::TokenCipher;
use crate::store::{GrantState, OAuthGrant, Refreshed, Store, refresh_aad};

const DAY_MS: i64 = 86_400_000;
/// Atlassian: a rotating refresh token lapses after 90 days unused…
pub const ATLASSIAN_INACTIVITY_MS: i64 = 90 * DAY_MS;
/// …and 365 days after the consent, however often it is used.
pub const ATLASSIAN_ABSOLUTE_MS: i64 = 365 * DAY_MS;

/// The refresh request. Scopes go along for Microsoft and generic servers
/// (Microsoft's v2 endpoint wants them); Google and Atlassian keep the
/// granted ones.
pub fn request_params(client: &OAuthClient, refresh_token: &SecretString, secret: Option<&SecretString>) -> Params {
    let scope = match client.provider {
        ProviderKind::Microsoft | ProviderKind::Generic => client.scope(),
        ProviderKind::Google | ProviderKind::Atlassian => None,
    };
    Params::new()
        .add("grant_type", "refresh_token")
        .secret("refresh_token", refresh_token)
        .add_opt("client_id", client.client_id.clone())
        .secret_opt("client_secret", secret)
        .add_opt("scope", scope)
}

/// When the refresh token now held stops working, if known: the server's
/// `refresh_token_expires_in`, else Atlassian's rules.
pub fn refresh_expiry(
    provider: ProviderKind,
    now: i64,
    expires_in: Option<u64>,
    logged_in_at: Option<i64>,
) -> Option<i64> {
    if let Some(secs) = expires_in {
        return Some(expires_at(now, Some(secs)));
    }
    (provider == ProviderKind::Atlassian).then(|| {
        let inactive = now + ATLASSIAN_INACTIVITY_MS;
        logged_in_at.map_or(inactive, |at| inactive.min(at + ATLASSIAN_ABSOLUTE_MS))
    })
}

pub struct RefreshTokenSource {
    grant: String,
    client: OAuthClient,
    endpoint: TokenEndpoint,
    store: Store,
    cipher: Option<Arc<TokenCipher>>,
    cache: TokenCache,
}

impl std::fmt::Debug for RefreshTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokenSource")
            .field("grant", &self.grant)
            .field("token_url", &self.endpoint.url())
            .finish()
    }
}

impl RefreshTokenSource {
    pub fn new(
        grant: &str,
        client: OAuthClient,
        http: reqwest::Client,
        store: Store,
        cipher: Option<Arc<TokenCipher>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let endpoint = TokenEndpoint::new(http, client.token_url.clone(), client.body);
        Self { grant: grant.to_string(), client, endpoint, store, cipher, cache: TokenCache::new(clock) }
    }

    fn config(&self, message: impl Into<String>) -> OAuthError {
        OAuthError::Config { grant: self.grant.clone(), message: message.into() }
    }

    /// The stored grant and its refresh token in clear.
    async fn load(&self) -> Result<(OAuthGrant, SecretString), OAuthError> {
        let grant = self.grant.as_str();
        let row = self.store.oauth_grant(grant).await.map_err(|e| store_error(grant, &e))?;
        let login = format!("not logged in: run `mailgate oauth login {}`", super::grants::target_flag(grant));
        let Some(row) = row else { return Err(self.config(login)) };
        if row.state == GrantState::Revoked {
            let error = row.last_error.clone().unwrap_or_else(|| "revoked".into());
            return Err(OAuthError::Revoked { grant: grant.to_string(), error });
        }
        let (Some(blob), Some(key_id)) = (&row.refresh_token, &row.refresh_key_id) else {
            return Err(self.config(login));
        };
        let cipher = self.cipher.as_deref().ok_or_else(|| no_master_key(grant))?;
        let token = cipher.decrypt(blob, &refresh_aad(grant), key_id).map_err(|e| self.config(e.to_string()))?;
        Ok((row, token))
    }

    async fn fetch(&self) -> Result<Fresh, OAuthError> {
        let grant = self.grant.as_str();
        // Twice at most: a refusal of a token another instance has just
        // rotated away is retried once with the new one.
        for attempt in 0..2 {
            let (row, refresh_token) = self.load().await?;
            let secret = self.client.secret(grant, &self.store, self.cipher.as_deref()).await?;
            let params = request_params(&self.client, &refresh_token, secret.as_ref());
            let now = self.cache.clock().now_ms();
            match self.endpoint.token(&params).await {
                Ok(answer) => {
                    let rotated =
                        answer.refresh_token.filter(|new| new.expose_secret() != refresh_token.expose_secret());
                    let refresh_expires = match &rotated {
                        Some(_) => {
                            refresh_expiry(self.client.provider, now, answer.refresh_expires_in, row.logged_in_at)
                        }
                        None => answer.refresh_expires_in.map(|s| expires_at(now, Some(s))),
                    };
                    self.persist(&row, rotated.as_ref(), expires_at(now, answer.expires_in), refresh_expires, now)
                        .await?;
                    tracing::debug!(
                        grant,
                        rotated = rotated.is_some(),
                        expires_in = answer.expires_in,
                        "access token refreshed"
                    );
                    return Ok(Fresh { token: answer.access_token, expires_in: answer.expires_in });
                }
                Err(e) => {
                    let err = e.into_oauth(grant);
                    let OAuthError::Revoked { error, .. } = &err else {
                        let _ = self.store.note_oauth_error(grant, &err.to_string(), now).await;
                        return Err(err);
                    };
                    let marked = self
                        .store
                        .mark_oauth_revoked(grant, row.version, error, now)
                        .await
                        .map_err(|e| store_error(grant, &e))?;
                    if marked {
                        tracing::warn!(grant, error = %err, "the OAuth grant was refused; it is marked revoked until `mailgate oauth login`");
                        return Err(err);
                    }
                    // The grant changed meanwhile (a rotation elsewhere, a
                    // new login): try the stored token once more.
                    if attempt == 1 {
                        return Err(err);
                    }
                }
            }
        }
        Err(OAuthError::Unavailable(format!("{grant}: the grant kept changing while refreshing")))
    }

    /// Store what the refresh brought before anyone gets the access token:
    /// a rotated refresh token that is not stored would be lost with the
    /// next restart (and the old one is dead). A few quick retries; then
    /// the refresh fails (transient) rather than hand out the token.
    async fn persist(
        &self,
        row: &OAuthGrant,
        rotated: Option<&SecretString>,
        access_expires_at: i64,
        refresh_expires_at: Option<i64>,
        now: i64,
    ) -> Result<(), OAuthError> {
        let grant = self.grant.as_str();
        let blob = match (rotated, self.cipher.as_deref()) {
            (Some(t), Some(c)) => Some((c.encrypt(t, &refresh_aad(grant)), c.key_id())),
            (Some(_), None) => return Err(no_master_key(grant)),
            (None, _) => None,
        };
        let update =
            Refreshed { grant, from_version: row.version, rotated: blob, access_expires_at, refresh_expires_at };
        let mut last = None;
        for wait_ms in [0u64, 50, 250, 1000] {
            tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            match self.store.put_oauth_refresh(&update, now).await {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    // Another writer came first (a rotation by another
                    // instance, a new login): theirs stays; this access
                    // token is still good.
                    tracing::info!(grant, "the grant changed while refreshing; keeping the stored one");
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.map(|e| e.to_string()).unwrap_or_default();
        tracing::error!(grant, error = %e, "the refreshed grant could not be stored; the access token is not used");
        Err(OAuthError::Unavailable(format!("{grant}: the refreshed grant could not be stored: {e}")))
    }
}

#[async_trait]
impl AccessTokens for RefreshTokenSource {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        self.cache.get(|| self.fetch()).await
    }

    fn invalidate(&self) {
        self.cache.invalidate();
    }
}
