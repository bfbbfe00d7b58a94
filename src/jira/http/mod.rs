//! The real Jira client (reqwest). Cloud speaks REST v3 with ADF bodies,
//! Data Center REST v2 with wiki markup bodies. Rate limits are honoured
//! (`Retry-After`), pages are followed to the end.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::JiraError;
use super::limit::RateLimiter;
use crate::config::{JiraAuth, JiraFlavor, JiraSettings};
use crate::oauth::AccessTokens;

mod answer;
mod api;
mod identity;
mod paging;
mod resume;
mod state;

use answer::check;
pub use answer::error_message;
use answer::json_body;
use api::user_from;
pub(super) use resume::properties_for;

/// Longest `Retry-After` we sleep through inside one call; longer waits
/// go back to the caller, which parks the mail.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(30);

pub struct HttpJira {
    client: reqwest::Client,
    base: String,
    flavor: JiraFlavor,
    auth: Auth,
    max_retries: u32,
    limiter: Arc<RateLimiter>,
}

enum Auth {
    Basic {
        user: String,
        secret: SecretString,
    },
    Bearer(SecretString),
    /// Jira Cloud OAuth 2.0 (3LO): a bearer access token of the moment.
    ThreeLo(Arc<dyn AccessTokens>),
}

impl std::fmt::Debug for HttpJira {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpJira").field("base", &self.base).field("flavor", &self.flavor).finish_non_exhaustive()
    }
}

impl HttpJira {
    /// The client for the configured (app) credentials, with its own limiter.
    pub fn new(settings: &JiraSettings) -> Result<Self, JiraError> {
        Self::with_auth(settings, &settings.auth, Arc::new(RateLimiter::new(settings.max_requests_per_sec)))
    }

    /// The same site with other credentials (the workaround user's token),
    /// sharing `limiter` with the other clients.
    pub fn with_auth(settings: &JiraSettings, auth: &JiraAuth, limiter: Arc<RateLimiter>) -> Result<Self, JiraError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs))
            .connect_timeout(Duration::from_secs(settings.timeout_secs.min(10)))
            .user_agent(concat!("mailgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(JiraError::Network)?;
        let auth = match auth {
            JiraAuth::Basic { user, secret } => Auth::Basic { user: user.clone(), secret: secret.clone() },
            JiraAuth::Bearer { token } => Auth::Bearer(token.clone()),
            // 3LO needs a token source and the site's cloud id: `with_oauth`.
            JiraAuth::OAuth2(_) => {
                return Err(JiraError::Rejected {
                    status: 0,
                    message: "[jira] auth kind \"oauth2\" is built with HttpJira::with_oauth".into(),
                });
            }
        };
        Ok(Self {
            client,
            base: settings.base_url.trim_end_matches('/').to_string(),
            flavor: settings.flavor,
            auth,
            max_retries: settings.max_retries,
            limiter,
        })
    }

    fn jsm(&self) -> String {
        format!("{}/rest/servicedeskapi", self.base)
    }

    /// Users (or customers) by account id on Cloud, by username on DC.
    fn user_ids_body(&self, key_cloud: &str, ids: &[String]) -> Value {
        match self.flavor {
            JiraFlavor::Cloud => json!({ key_cloud: ids }),
            JiraFlavor::Datacenter => json!({"usernames": ids}),
        }
    }

    fn api(&self) -> String {
        format!("{}{}", self.base, super::requests::api(self.flavor))
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.request_accepting(method, url, "application/json")
    }

    /// A request that accepts `accept` (a download: any media type).
    fn request_accepting(&self, method: Method, url: &str, accept: &str) -> RequestBuilder {
        let rb = self.client.request(method, url).header("Accept", accept);
        match &self.auth {
            Auth::Basic { user, secret } => rb.basic_auth(user, Some(secret.expose_secret())),
            Auth::Bearer(token) => rb.bearer_auth(token.expose_secret()),
            // The token is added by `send_as`, which can wait for a refresh.
            Auth::ThreeLo(_) => rb,
        }
    }

    /// A 3LO client: requests go to `{api_url}/ex/jira/{cloud_id}` with
    /// bearer tokens from `tokens` (Atlassian's OAuth 2.0 (3LO) apps:
    /// <https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/>).
    pub fn with_oauth(
        settings: &JiraSettings,
        api_url: &str,
        cloud_id: &str,
        tokens: Arc<dyn AccessTokens>,
        limiter: Arc<RateLimiter>,
    ) -> Result<Self, JiraError> {
        let mut client =
            Self::with_auth(settings, &JiraAuth::Bearer { token: SecretString::from(String::new()) }, limiter)?;
        client.base = format!("{}/ex/jira/{}", api_url.trim_end_matches('/'), cloud_id);
        client.auth = Auth::ThreeLo(tokens);
        Ok(client)
    }

    /// A description or comment body: ADF on Cloud, wiki markup on Data
    /// Center, both read from the mail's lightweight structure (`jira::text`).
    fn body(&self, text: &str) -> Value {
        super::requests::text_body(self.flavor, text)
    }

    /// Send, retrying rate limits always and server/network errors only when
    /// `idempotent` (a POST that timed out may have taken effect).
    async fn send(&self, build: impl Fn() -> RequestBuilder, idempotent: bool) -> Result<Response, JiraError> {
        self.send_as(build, idempotent, false).await
    }

    /// [`send`](Self::send); with `fields`, a 400 naming fields is
    /// [`JiraError::InvalidFields`] (a create refused for fields' values).
    async fn send_as(
        &self,
        build: impl Fn() -> RequestBuilder,
        idempotent: bool,
        fields: bool,
    ) -> Result<Response, JiraError> {
        let mut attempt = 0u32;
        let mut refreshed = false;
        loop {
            self.limiter.acquire().await;
            let mut request = build();
            if let Auth::ThreeLo(tokens) = &self.auth {
                let token = tokens.access_token().await.map_err(JiraError::OAuth)?;
                request = request.bearer_auth(token.expose_secret());
            }
            let result = match request.send().await {
                Ok(resp) => check(resp, fields).await,
                Err(e) => Err(JiraError::Network(e.without_url())),
            };
            // An expired or revoked access token: Jira did nothing; once
            // more with a fresh one (a refresh), whatever the method.
            if let (Err(JiraError::Unauthorized), Auth::ThreeLo(tokens), false) = (&result, &self.auth, refreshed) {
                tokens.invalidate();
                refreshed = true;
                continue;
            }
            let err = match result {
                Ok(resp) => return Ok(resp),
                Err(e) => e,
            };
            if let JiraError::RateLimited { retry_after } = &err {
                // Everyone waits, not only this call.
                self.limiter.pause(retry_after.unwrap_or(Duration::from_secs(1)).min(MAX_INLINE_WAIT));
            }
            let retry = match &err {
                JiraError::RateLimited { retry_after } => retry_after.is_none_or(|d| d <= MAX_INLINE_WAIT),
                e if e.is_transient() => idempotent,
                _ => false,
            };
            if !retry || attempt >= self.max_retries {
                return Err(err);
            }
            let backoff = Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6)));
            let wait = match &err {
                JiraError::RateLimited { retry_after: Some(d) } => *d,
                _ => backoff,
            };
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %err, "retrying Jira call");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}
