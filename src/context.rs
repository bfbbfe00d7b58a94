//! The application context: every adapter wired once at start-up (store,
//! Jira client, the workaround token service, clock, this instance's id).
//! Workers and commands take the parts they use from it.

use std::sync::Arc;

use secrecy::SecretString;

use crate::clock::Clock;
use crate::config::{JiraAuth, Settings};
use crate::identity::TokenService;
use crate::jira::limit::RateLimiter;
use crate::jira::{HttpJira, JiraApi};
use crate::oauth;
use crate::queue::InstanceId;
use crate::secrets::{SecretsError, TokenCipher};
use crate::store::Store;

pub struct AppContext {
    pub store: Store,
    pub jira: Arc<dyn JiraApi>,
    pub clock: Arc<dyn Clock>,
    /// The workaround user's token (sender lookup, user creation, groups).
    pub tokens: Arc<TokenService>,
    /// This process, as the owner of the queue rows it claims.
    pub instance: InstanceId,
}

impl AppContext {
    /// Connect (and migrate) the store, build the Jira client and the token
    /// service sharing one rate limiter.
    pub async fn build(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = Store::connect(&settings.database.url).await?;
        let limiter = Arc::new(RateLimiter::new(settings.jira.max_requests_per_sec));
        let jira: Arc<dyn JiraApi> = match &settings.jira.auth {
            JiraAuth::OAuth2(o) => {
                let cipher = load_cipher(settings)?.map(Arc::new);
                let tokens = oauth::tokens_for(&o.client(), oauth::JIRA_GRANT, store.clone(), cipher, clock.clone());
                let cloud_id = match &o.cloud_id {
                    Some(id) => id.clone(),
                    None => store.oauth_grant(oauth::JIRA_GRANT).await?.and_then(|g| g.cloud_id).ok_or_else(|| {
                        anyhow::anyhow!(
                            "[jira] auth = oauth2: no cloud id yet; run `mailgate oauth login --jira` (or set cloud_id)"
                        )
                    })?,
                };
                Arc::new(HttpJira::with_oauth(&settings.jira, &o.api_url, &cloud_id, tokens, limiter.clone())?)
            }
            _ => Arc::new(HttpJira::with_auth(&settings.jira, &settings.jira.auth, limiter.clone())?),
        };
        let tokens = Arc::new(token_service(settings, store.clone(), clock.clone())?.with_limiter(limiter));
        let instance = InstanceId::new(clock.as_ref());
        Ok(Self { store, jira, clock, tokens, instance })
    }
}

/// The master key from `MAILGATE_MASTER_KEY` or `[secrets] master_key_file`;
/// `None` when neither is given. A given but bad key is an error.
pub fn load_cipher(settings: &Settings) -> Result<Option<TokenCipher>, SecretsError> {
    let env = std::env::var("MAILGATE_MASTER_KEY").ok().filter(|v| !v.trim().is_empty()).map(SecretString::from);
    if env.is_none() && settings.secrets.master_key_file.is_none() {
        return Ok(None);
    }
    TokenCipher::load(env, settings.secrets.master_key_file.as_deref()).map(Some)
}

/// The token service for the workaround user.
pub fn token_service(settings: &Settings, store: Store, clock: Arc<dyn Clock>) -> Result<TokenService, SecretsError> {
    let cipher = load_cipher(settings)?.map(Arc::new);
    Ok(TokenService::new(
        store,
        cipher,
        clock,
        settings.jira.clone(),
        settings.identity.token_auth,
        &settings.identity.warn_days,
    )
    .with_notify(settings.admin.notify.clone()))
}
