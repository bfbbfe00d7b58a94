//! Where a client's secret comes from at the time of use: the
//! configuration, a file, or the store (encrypted by `oauth set-secret`).

use secrecy::{ExposeSecret, SecretString};

use super::OAuthError;
use crate::config::{OAuthClient, SecretSource};
use crate::secrets::TokenCipher;
use crate::store::{Store, secret_aad};

impl OAuthClient {
    /// The client secret, or None for a public client. A file is read now;
    /// a stored secret is decrypted.
    pub async fn secret(
        &self,
        grant: &str,
        store: &Store,
        cipher: Option<&TokenCipher>,
    ) -> Result<Option<SecretString>, OAuthError> {
        match &self.client_secret {
            SecretSource::Inline(s) => Ok(Some(s.clone())),
            SecretSource::File(path) => read_secret_file(grant, path).map(Some),
            SecretSource::Stored => stored_secret(grant, store, cipher).await,
        }
    }
}

/// A secret file's content, trimmed. The error names the file, not its content.
pub fn read_secret_file(grant: &str, path: &str) -> Result<SecretString, OAuthError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| OAuthError::Config { grant: grant.to_string(), message: format!("cannot read {path}: {e}") })?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(OAuthError::Config { grant: grant.to_string(), message: format!("{path} is empty") });
    }
    Ok(SecretString::from(secret.to_string()))
}

/// The secret `mailgate oauth set-secret` stored for `grant`, if any.
pub async fn stored_secret(
    grant: &str,
    store: &Store,
    cipher: Option<&TokenCipher>,
) -> Result<Option<SecretString>, OAuthError> {
    let row = store.oauth_grant(grant).await.map_err(|e| super::store_error(grant, &e))?;
    let Some((blob, key_id)) = row.and_then(|r| r.client_secret.zip(r.secret_key_id)) else {
        return Ok(None);
    };
    let cipher = cipher.ok_or_else(|| super::no_master_key(grant))?;
    let secret = cipher
        .decrypt(&blob, &secret_aad(grant), &key_id)
        .map_err(|e| OAuthError::Config { grant: grant.to_string(), message: e.to_string() })?;
    Ok((!secret.expose_secret().is_empty()).then_some(secret))
}
