//! Grants as admins see them: the status table of `mailgate oauth status`,
//! re-encryption under a new master key, and the refusals a source remembers.
//! (The admin warnings are in `crate::identity::oauth`, above the outbox.)

use chrono::DateTime;
use serde::Serialize;

use super::cache::{Fresh, expires_at};
use super::endpoint::{EndpointError, TokenAnswer};
use super::{OAuthClient, OAuthError};
use crate::config::Flow;
use crate::secrets::{SecretsError, TokenCipher};
use crate::store::{GrantState, OAuthGrant, Store, StoreError, refresh_aad, secret_aad};

/// A refusal remembered by a source without a refresh token (client
/// credentials, service account): it is not asked for again until the
/// grant's stored version changes (`oauth set-secret`) or the process
/// restarts (a fixed configuration).
#[derive(Default)]
pub(super) struct Refusal(std::sync::Mutex<Option<(i64, String)>>);

impl Refusal {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(i64, String)>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Err while refused at this version.
    pub fn check(&self, grant: &str, version: i64) -> Result<(), OAuthError> {
        let mut slot = self.slot();
        match slot.as_ref() {
            Some((v, error)) if *v == version => {
                Err(OAuthError::Revoked { grant: grant.to_string(), error: error.clone() })
            }
            Some(_) => {
                *slot = None;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Remember a refusal (and record it in the store, best effort).
    pub async fn refused(&self, store: &Store, grant: &str, version: i64, err: OAuthError, now: i64) -> OAuthError {
        if let OAuthError::Revoked { error, .. } = &err {
            *self.slot() = Some((version, error.clone()));
            if let Err(e) = store.mark_oauth_revoked(grant, version, error, now).await {
                tracing::warn!(grant, error = %e, "could not record the refused grant");
            }
            tracing::warn!(grant, error = %err, "the OAuth grant was refused; not asking again until it changes");
        }
        err
    }

    /// A token endpoint's answer to an app-only source (`flow` names it in
    /// the log): the token with its expiry noted, or the error noted and,
    /// when it refuses the grant, remembered.
    pub async fn settle(
        &self,
        store: &Store,
        (grant, version, now): (&str, i64, i64),
        flow: &str,
        answer: Result<TokenAnswer, EndpointError>,
    ) -> Result<Fresh, OAuthError> {
        match answer {
            Ok(answer) => {
                if let Err(e) = store.note_oauth_access(grant, expires_at(now, answer.expires_in), now).await {
                    tracing::warn!(grant, error = %e, "could not note the access token's expiry");
                }
                tracing::debug!(grant, expires_in = answer.expires_in, flow, "access token fetched");
                Ok(Fresh { token: answer.access_token, expires_in: answer.expires_in })
            }
            Err(e) => {
                let err = e.into_oauth(grant);
                if !matches!(err, OAuthError::Revoked { .. }) {
                    let _ = store.note_oauth_error(grant, &err.to_string(), now).await;
                }
                Err(self.refused(store, grant, version, err, now).await)
            }
        }
    }
}

fn instant(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The CLI flag that names `grant`.
pub fn target_flag(grant: &str) -> String {
    match grant.strip_prefix("mailbox:") {
        Some(name) => format!("--mailbox {name}"),
        None => format!("--{grant}"),
    }
}

/// One row of `mailgate oauth status`. Never a secret.
#[derive(Debug, Clone, Serialize)]
pub struct GrantStatus {
    pub grant: String,
    pub provider: &'static str,
    pub flow: &'static str,
    /// active, revoked, expired, not-logged-in
    pub state: &'static str,
    pub access_expires: Option<String>,
    pub refresh_token_stored: bool,
    pub secret_stored: bool,
    pub refresh_expires: Option<String>,
    pub cloud_id: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
}

/// The status of each configured grant (`grants`: name and client).
pub async fn grant_statuses(
    store: &Store,
    grants: &[(String, OAuthClient)],
    now: i64,
) -> Result<Vec<GrantStatus>, StoreError> {
    let mut out = Vec::new();
    for (name, client) in grants {
        let row = store.oauth_grant(name).await?;
        out.push(status_of(name, client, row.as_ref(), now));
    }
    Ok(out)
}

pub(super) fn status_of(name: &str, client: &OAuthClient, row: Option<&OAuthGrant>, now: i64) -> GrantStatus {
    let refresh_stored = row.is_some_and(|r| r.refresh_token.is_some());
    let state = match row {
        Some(r) if r.state == GrantState::Revoked => "revoked",
        _ if client.flow == Flow::RefreshToken && !refresh_stored => "not-logged-in",
        Some(r) if r.refresh_expires_at.is_some_and(|e| e <= now) => "expired",
        _ => "active",
    };
    GrantStatus {
        grant: name.to_string(),
        provider: client.provider.as_str(),
        flow: client.flow.as_str(),
        state,
        access_expires: row.and_then(|r| r.access_expires_at).map(instant),
        refresh_token_stored: refresh_stored,
        secret_stored: row.is_some_and(|r| r.client_secret.is_some()),
        refresh_expires: row.and_then(|r| r.refresh_expires_at).map(instant),
        cloud_id: row.and_then(|r| r.cloud_id.clone()).or_else(|| client.cloud_id.clone()),
        last_error: row.and_then(|r| r.last_error.clone()),
        last_error_at: row.and_then(|r| r.last_error_at).map(instant),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("OAuth grant {grant}: {source}")]
    Secrets { grant: String, source: SecretsError },
}

/// Re-encrypt every grant's blobs from `old` to `new` (`mailgate token
/// rotate-key`). Returns how many grants had something to re-encrypt.
pub async fn rekey_grants(store: &Store, old: &TokenCipher, new: &TokenCipher, now: i64) -> Result<usize, RekeyError> {
    let mut n = 0;
    for g in store.oauth_grants().await? {
        let err = |source| RekeyError::Secrets { grant: g.name.clone(), source };
        let refresh = match (&g.refresh_token, &g.refresh_key_id) {
            (Some(blob), Some(key)) => {
                let plain = old.decrypt(blob, &refresh_aad(&g.name), key).map_err(err)?;
                Some((new.encrypt(&plain, &refresh_aad(&g.name)), new.key_id()))
            }
            _ => None,
        };
        let secret = match (&g.client_secret, &g.secret_key_id) {
            (Some(blob), Some(key)) => {
                let plain = old.decrypt(blob, &secret_aad(&g.name), key).map_err(err)?;
                Some((new.encrypt(&plain, &secret_aad(&g.name)), new.key_id()))
            }
            _ => None,
        };
        if refresh.is_some() || secret.is_some() {
            store.rekey_oauth_grant(&g.name, refresh, secret, now).await?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use secrecy::{ExposeSecret, SecretString};

    use super::*;
    use crate::store::NewLogin;

    #[tokio::test]
    async fn rekeying_moves_refresh_tokens_and_secrets_to_the_new_key() {
        let store = Store::connect("sqlite::memory:").await.expect("store");
        let (old, new) = (TokenCipher::for_testing(), TokenCipher::from_key_material(&TokenCipher::generate_key_hex()));
        let new = new.expect("key");
        let rt = SecretString::from("rt-1");
        let login = NewLogin {
            grant: "jira",
            refresh_token: old.encrypt(&rt, &refresh_aad("jira")),
            key_id: old.key_id(),
            cloud_id: None,
            access_expires_at: None,
            refresh_expires_at: None,
        };
        store.put_oauth_login(&login, 1).await.expect("login");
        store
            .put_oauth_secret("jira", old.encrypt(&SecretString::from("cs"), &secret_aad("jira")), old.key_id(), 2)
            .await
            .expect("secret");
        store.note_oauth_access("smtp", 5, 3).await.expect("a grant with nothing to re-encrypt");
        assert_eq!(rekey_grants(&store, &old, &new, 4).await.expect("rekey"), 1);
        let g = store.oauth_grant("jira").await.expect("read").expect("row");
        let (blob, key) = (g.refresh_token.expect("rt"), g.refresh_key_id.expect("key"));
        assert_eq!(key, new.key_id());
        assert_eq!(new.decrypt(&blob, &refresh_aad("jira"), &key).expect("new key").expose_secret(), "rt-1");
        assert!(old.decrypt(&blob, &refresh_aad("jira"), &key).is_err());
        let (blob, key) = (g.client_secret.expect("cs"), g.secret_key_id.expect("key"));
        assert_eq!(new.decrypt(&blob, &secret_aad("jira"), &key).expect("new key").expose_secret(), "cs");
        // Again with the old key: a clear error naming the grant, nothing changed.
        let err = rekey_grants(&store, &old, &new, 5).await.expect_err("already moved");
        assert!(err.to_string().contains("jira"), "{err}");
    }
}
