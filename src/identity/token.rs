//! Setting, reading, verifying and rotating the workaround token. The
//! plaintext exists only as `SecretString`, between decryption and the
//! HTTP client that sends it.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use secrecy::SecretString;
use serde::Serialize;

use crate::clock::Clock;
use crate::config::{JiraAuth, JiraSettings, TokenAuthKind};
use crate::domain::{EmailAddress, JiraLogin};
use crate::jira::limit::RateLimiter;
use crate::jira::{HttpJira, IdentityApi, JiraError};
use crate::secrets::{SecretsError, TokenCipher};
use crate::store::{Store, StoreError, TokenRecord};

const DAY_MS: i64 = 86_400_000;

/// The latest expiry a token may be given, in days from today: Atlassian
/// Cloud API tokens created since December 2024 expire within 1 to 365 days
/// (https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/),
/// with some slack. The CLI and the admin API both hold to it.
pub const MAX_EXPIRY_DAYS: u64 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Missing,
    Ok,
    Expiring,
    Expired,
    Failed,
}

/// What `token status` and the admin API show. Never the token.
#[derive(Debug, Clone, Serialize)]
pub struct TokenStatus {
    pub state: TokenState,
    pub user: Option<String>,
    pub set_on: Option<String>,
    pub expires_on: Option<String>,
    pub days_left: Option<i64>,
    pub last_verified: Option<String>,
    pub last_failure: Option<String>,
    pub last_failure_at: Option<String>,
}

/// Why the token cannot be used now.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("no workaround token is set (mailgate token set)")]
    Missing,
    #[error("no master key is configured")]
    NoMasterKey,
    #[error("the workaround token was rejected by Jira: {0}")]
    Failed(String),
    #[error("the workaround token expired on {0}")]
    Expired(String),
    /// The master key does not open the stored token.
    #[error(transparent)]
    Undecryptable(SecretsError),
    /// The stored token could not be read.
    #[error(transparent)]
    Store(StoreError),
    /// No HTTP client could be built for it.
    #[error(transparent)]
    Client(JiraError),
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Jira(#[from] JiraError),
    /// The token cannot be used now (`verify`).
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error("{0}")]
    Invalid(String),
}

fn day(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.date_naive().to_string()).unwrap_or_default()
}

fn instant(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
}

pub struct TokenService {
    store: Store,
    cipher: Option<Arc<TokenCipher>>,
    clock: Arc<dyn Clock>,
    jira: JiraSettings,
    auth_kind: TokenAuthKind,
    warn_days: i64,
    notify: Vec<EmailAddress>,
    limiter: Arc<RateLimiter>,
}

impl TokenService {
    /// Share the Jira rate limiter of the other clients.
    pub fn with_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// Admin addresses told at once when Jira rejects the token.
    pub fn with_notify(mut self, notify: Vec<EmailAddress>) -> Self {
        self.notify = notify;
        self
    }

    pub fn new(
        store: Store,
        cipher: Option<Arc<TokenCipher>>,
        clock: Arc<dyn Clock>,
        jira: JiraSettings,
        auth_kind: TokenAuthKind,
        warn_days: &[i64],
    ) -> Self {
        let warn_days = warn_days.iter().copied().max().unwrap_or(30);
        let limiter = Arc::new(RateLimiter::new(jira.max_requests_per_sec));
        Self { store, cipher, clock, jira, auth_kind, warn_days, notify: Vec::new(), limiter }
    }

    fn cipher(&self) -> Result<&TokenCipher, TokenError> {
        self.cipher.as_deref().ok_or(TokenError::Secrets(SecretsError::MissingKey))
    }

    /// Encrypt and store a token. Expiry defaults to one year after today
    /// (Atlassian's maximum). Mail held for want of a token is released.
    #[tracing::instrument(skip_all, fields(user = tracing::field::Empty))]
    pub async fn set(
        &self,
        user: impl Into<JiraLogin>,
        token: &SecretString,
        expires: Option<NaiveDate>,
    ) -> Result<TokenStatus, TokenError> {
        use secrecy::ExposeSecret;
        let user: JiraLogin = user.into();
        tracing::Span::current().record("user", tracing::field::display(&user));
        if token.expose_secret().trim().is_empty() {
            return Err(TokenError::Invalid("the token is empty".into()));
        }
        let now = self.clock.now_ms();
        if let Some(d) = expires {
            check_expiry(d, self.clock.now().date_naive()).map_err(TokenError::Invalid)?;
        }
        let expires_at = match expires {
            Some(d) => d
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp_millis())
                .ok_or_else(|| TokenError::Invalid("bad expiry date".into()))?,
            None => now + 365 * DAY_MS,
        };
        let cipher = self.cipher()?;
        let id = format!("wt-{now}");
        let secret = SecretString::from(token.expose_secret().trim().to_string());
        let rec = TokenRecord {
            ciphertext: cipher.encrypt(&secret, &id),
            id,
            user_email: user.to_string(),
            key_id: cipher.key_id().to_string(),
            set_at: now,
            expires_at,
            last_verified_at: None,
            last_failure_at: None,
            last_failure: None,
            failed: 0,
        };
        self.store.put_token(&rec, now).await?;
        let released = self.store.release_held().await?;
        tracing::info!(released, expires_on = %day(expires_at), "workaround token set");
        self.status().await
    }

    pub async fn clear(&self) -> Result<bool, TokenError> {
        Ok(self.store.clear_token().await?)
    }

    pub async fn status(&self) -> Result<TokenStatus, TokenError> {
        let Some(rec) = self.store.token().await? else {
            return Ok(TokenStatus {
                state: TokenState::Missing,
                user: None,
                set_on: None,
                expires_on: None,
                days_left: None,
                last_verified: None,
                last_failure: None,
                last_failure_at: None,
            });
        };
        let now = self.clock.now_ms();
        let days_left = days_left(rec.expires_at, now);
        let state = if rec.failed != 0 {
            TokenState::Failed
        } else if days_left <= 0 {
            TokenState::Expired
        } else if days_left <= self.warn_days {
            TokenState::Expiring
        } else {
            TokenState::Ok
        };
        Ok(TokenStatus {
            state,
            user: Some(rec.user_email.clone()),
            set_on: Some(day(rec.set_at)),
            expires_on: Some(day(rec.expires_at)),
            days_left: Some(days_left),
            last_verified: rec.last_verified_at.map(instant),
            last_failure: rec.last_failure.clone(),
            last_failure_at: rec.last_failure_at.map(instant),
        })
    }

    /// Decrypt the stored token (if any) to prove the master key fits.
    /// A wrong key is an error; the stored token is left as it is.
    pub async fn check_key(&self) -> Result<(), TokenError> {
        if let Some(rec) = self.store.token().await? {
            self.cipher()?.decrypt(&rec.ciphertext, &rec.id, &rec.key_id)?;
        }
        Ok(())
    }

    /// Re-encrypt the stored token under `new`.
    pub async fn rotate_key(&self, new: &TokenCipher) -> Result<bool, TokenError> {
        let Some(rec) = self.store.token().await? else { return Ok(false) };
        let plain = self.cipher()?.decrypt(&rec.ciphertext, &rec.id, &rec.key_id)?;
        let blob = new.encrypt(&plain, &rec.id);
        self.store.update_token_ciphertext(&rec.id, blob, new.key_id(), self.clock.now_ms()).await?;
        Ok(true)
    }

    /// A Jira client authenticated as the workaround user, or why not.
    pub async fn client(&self) -> Result<(Arc<dyn IdentityApi>, String), Unavailable> {
        let rec = self.store.token().await.map_err(Unavailable::Store)?.ok_or(Unavailable::Missing)?;
        if rec.failed != 0 {
            return Err(Unavailable::Failed(rec.last_failure.unwrap_or_default()));
        }
        if rec.expires_at <= self.clock.now_ms() {
            return Err(Unavailable::Expired(day(rec.expires_at)));
        }
        let cipher = self.cipher.as_deref().ok_or(Unavailable::NoMasterKey)?;
        let token = cipher.decrypt(&rec.ciphertext, &rec.id, &rec.key_id).map_err(Unavailable::Undecryptable)?;
        let auth = match self.auth_kind {
            TokenAuthKind::Basic => JiraAuth::Basic { user: rec.user_email.clone(), secret: token },
            TokenAuthKind::Bearer => JiraAuth::Bearer { token },
        };
        let client = HttpJira::with_auth(&self.jira, &auth, self.limiter.clone()).map_err(Unavailable::Client)?;
        Ok((Arc::new(client), rec.id))
    }

    /// Jira rejected the token (401/403): mark it failed and warn at once.
    pub async fn report_rejection(&self, token_id: &str, error: &JiraError) -> Result<(), StoreError> {
        let first = self.store.mark_token_failed(token_id, &error.to_string(), self.clock.now_ms()).await?;
        if first {
            tracing::warn!(error = %error, "the workaround token was rejected by Jira; mail that needs it is held until a working token is set");
            crate::outbound::notices::token_rejected(&self.store, &self.notify, token_id, error, self.clock.now_ms())
                .await?;
        }
        Ok(())
    }

    /// `token verify`: who the token belongs to; clears a failed mark.
    pub async fn verify(&self) -> Result<String, TokenError> {
        let (client, id) = match self.client().await {
            Ok(c) => c,
            Err(Unavailable::Failed(_)) => {
                // A failed token may work again (e.g. the admin fixed permissions): try it.
                self.store.mark_token_verified_pending().await?;
                self.client().await?
            }
            Err(e) => return Err(e.into()),
        };
        match client.myself().await {
            Ok(me) => {
                self.store.mark_token_verified(&id, self.clock.now_ms()).await?;
                Ok(me.display_name.or(me.email).or(me.account_id).or(me.name).unwrap_or_default())
            }
            Err(e) => {
                if matches!(e, JiraError::Unauthorized | JiraError::Forbidden(_)) {
                    self.report_rejection(&id, &e).await?;
                }
                Err(e.into())
            }
        }
    }
}

/// `expires` must be after `today` (UTC) and at most [`MAX_EXPIRY_DAYS`]
/// later; the one rule for the CLI and the admin API.
pub fn check_expiry(expires: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if expires <= today {
        return Err(format!("expires ({expires}) must be after today ({today})"));
    }
    let latest = today.checked_add_days(chrono::Days::new(MAX_EXPIRY_DAYS)).unwrap_or(NaiveDate::MAX);
    if expires > latest {
        return Err(format!(
            "expires ({expires}) is more than {MAX_EXPIRY_DAYS} days ahead (latest {latest}); \
             Jira Cloud API tokens live at most 365 days"
        ));
    }
    Ok(())
}

/// Whole days from `now` until `expires_at`, rounded up (0 or less: expired).
pub fn days_left(expires_at: i64, now: i64) -> i64 {
    let diff = expires_at - now;
    if diff <= 0 { diff / DAY_MS } else { (diff + DAY_MS - 1) / DAY_MS }
}

#[cfg(test)]
mod tests {
    use super::{MAX_EXPIRY_DAYS, NaiveDate, check_expiry, days_left};

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn the_expiry_falls_within_the_accepted_span() {
        let today = day("2026-12-01");
        assert!(check_expiry(day("2026-12-02"), today).is_ok());
        assert!(check_expiry(today + chrono::Days::new(MAX_EXPIRY_DAYS), today).is_ok());
        assert!(check_expiry(today, today).is_err(), "today is already over at midnight");
        assert!(check_expiry(day("2026-01-01"), today).is_err());
        assert!(check_expiry(today + chrono::Days::new(MAX_EXPIRY_DAYS + 1), today).is_err());
        assert!(check_expiry(day("9999-12-31"), today).is_err());
    }

    #[test]
    fn days_left_rounds_up() {
        let day = 86_400_000;
        assert_eq!(days_left(30 * day, 0), 30);
        assert_eq!(days_left(30 * day, 1), 30);
        assert_eq!(days_left(day, day - 1), 1);
        assert_eq!(days_left(day, day), 0);
    }
}
