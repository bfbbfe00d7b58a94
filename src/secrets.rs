//! The master key and AES-256-GCM encryption of stored credentials.
//! Blobs are `nonce (12 bytes) ‖ ciphertext+tag`; the record id is the
//! associated data, so a blob copied onto another record does not decrypt.
//! Plaintext only ever exists as [`SecretString`].

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "no master key: set MAILGATE_MASTER_KEY (32 bytes as 64 hex characters or base64) or [secrets] master_key_file"
    )]
    MissingKey,
    #[error("cannot read master key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("the master key must be 32 bytes, given as 64 hex characters or base64 (got {0} bytes)")]
    BadKeyLength(usize),
    #[error("the master key is neither hex nor base64")]
    BadKeyEncoding,
    #[error(
        "the stored secret cannot be decrypted with this master key (key id {given}, stored under key id {stored}); \
         the stored value is left untouched: start with the key it was written with, or set the token again"
    )]
    WrongKey { given: String, stored: String },
    #[error("the stored secret is damaged (too short)")]
    Corrupt,
}

/// Encrypts and decrypts credentials under the master key.
pub struct TokenCipher {
    cipher: Aes256Gcm,
    key_id: String,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCipher").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl TokenCipher {
    /// From key material: 64 hex characters or standard base64 of 32 bytes.
    pub fn from_key_material(material: &SecretString) -> Result<Self, SecretsError> {
        let text = material.expose_secret().trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| SecretsError::BadKeyEncoding)?
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| SecretsError::BadKeyEncoding)?
        };
        if bytes.len() != 32 {
            return Err(SecretsError::BadKeyLength(bytes.len()));
        }
        let key = aes_gcm::Key::<Aes256Gcm>::try_from(bytes.as_slice())
            .map_err(|_| SecretsError::BadKeyLength(bytes.len()))?;
        let mut id = sha2::Sha256::new();
        id.update(b"mailgate master key id\0");
        id.update(&bytes);
        let key_id = hex::encode(&id.finalize()[..6]);
        Ok(Self { cipher: Aes256Gcm::new(&key), key_id })
    }

    /// The key from `MAILGATE_MASTER_KEY`, else from `key_file`.
    pub fn load(env_value: Option<SecretString>, key_file: Option<&str>) -> Result<Self, SecretsError> {
        if let Some(v) = env_value.filter(|v| !v.expose_secret().trim().is_empty()) {
            return Self::from_key_material(&v);
        }
        match key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| SecretsError::KeyFile { path: path.to_string(), source })?;
                Self::from_key_material(&SecretString::from(text))
            }
            None => Err(SecretsError::MissingKey),
        }
    }

    /// A fresh random key as hex (for `mailgate token gen-key`).
    pub fn generate_key_hex() -> SecretString {
        let key = aes_gcm::Key::<Aes256Gcm>::generate();
        SecretString::from(hex::encode(key.as_slice()))
    }

    /// A fixed key for tests.
    pub fn for_testing() -> Self {
        Self::from_key_material(&SecretString::from("11".repeat(32)))
            .unwrap_or_else(|_| unreachable!("fixed test key is valid"))
    }

    /// A short, non-secret identifier of the key (stored beside each blob).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn encrypt(&self, plaintext: &SecretString, record_id: &str) -> Vec<u8> {
        let nonce = aes_gcm::aead::Nonce::<Aes256Gcm>::generate();
        let payload = Payload { msg: plaintext.expose_secret().as_bytes(), aad: record_id.as_bytes() };
        let ciphertext = self
            .cipher
            .encrypt(&nonce, payload)
            .unwrap_or_else(|_| unreachable!("AES-GCM encryption of a short token cannot fail"));
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(nonce.as_slice());
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn decrypt(&self, blob: &[u8], record_id: &str, stored_key_id: &str) -> Result<SecretString, SecretsError> {
        if blob.len() < NONCE_LEN + 16 {
            return Err(SecretsError::Corrupt);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce = aes_gcm::aead::Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| SecretsError::Corrupt)?;
        let wrong = || SecretsError::WrongKey { given: self.key_id.clone(), stored: stored_key_id.to_string() };
        let plain =
            self.cipher.decrypt(&nonce, Payload { msg: ciphertext, aad: record_id.as_bytes() }).map_err(|_| wrong())?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| wrong())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces() {
        let c = TokenCipher::for_testing();
        let token = SecretString::from("ATATT3xFfGF0-secret");
        let a = c.encrypt(&token, "rec-1");
        let b = c.encrypt(&token, "rec-1");
        assert_ne!(a, b, "a fresh nonce per write");
        assert!(!a.windows(6).any(|w| w == b"ATATT3"), "no plaintext in the blob");
        let back = c.decrypt(&a, "rec-1", c.key_id()).expect("decrypts");
        assert_eq!(back.expose_secret(), "ATATT3xFfGF0-secret");
    }

    #[test]
    fn wrong_key_or_record_is_a_clear_error() {
        let c = TokenCipher::for_testing();
        let blob = c.encrypt(&SecretString::from("tok"), "rec-1");
        assert!(matches!(c.decrypt(&blob, "rec-2", c.key_id()), Err(SecretsError::WrongKey { .. })));
        let other = TokenCipher::from_key_material(&TokenCipher::generate_key_hex()).expect("key");
        let err = other.decrypt(&blob, "rec-1", c.key_id()).expect_err("wrong key");
        assert!(err.to_string().contains(c.key_id()), "{err}");
    }

    #[test]
    fn key_material_is_validated() {
        assert!(matches!(
            TokenCipher::from_key_material(&SecretString::from("abcd")),
            Err(SecretsError::BadKeyLength(_) | SecretsError::BadKeyEncoding)
        ));
        assert!(matches!(TokenCipher::load(None, None), Err(SecretsError::MissingKey)));
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(TokenCipher::from_key_material(&SecretString::from(b64)).is_ok());
    }

    #[test]
    fn debug_shows_no_key() {
        let dbg = format!("{:?}", TokenCipher::for_testing());
        assert!(!dbg.contains("1111"), "{dbg}");
    }
}
