//! A Google service account with domain-wide delegation: a JWT bearer
//! grant (RFC 7523) signed RS256 with the key file's private key, acting
//! as the mailbox's user (`sub`).

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::cache::{Fresh, TokenCache};
use super::client::{read_secret_file, stored_secret};
use super::endpoint::{Params, TokenEndpoint};
use super::grants::Refusal;
use super::{AccessTokens, OAuthClient, OAuthError, store_error};
use crate::clock::Clock;
use crate::secrets::TokenCipher;
use crate::store::Store;

/// The JWT bearer grant type.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// An assertion's lifetime: Google's maximum.
pub const ASSERTION_SECS: i64 = 3600;

/// The fields of a service-account key file that matter. `Debug` hides the key.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key: SecretString,
    #[serde(default)]
    pub private_key_id: Option<String>,
    #[serde(default)]
    pub token_uri: Option<String>,
}

impl ServiceAccountKey {
    /// From the key file's JSON; the error never quotes the text.
    pub fn parse(grant: &str, json: &str) -> Result<Self, OAuthError> {
        serde_json::from_str(json).map_err(|e| OAuthError::Config {
            grant: grant.to_string(),
            message: format!(
                "the service-account key is not a Google JSON key file (line {}, column {}: {})",
                e.line(),
                e.column(),
                match e.classify() {
                    serde_json::error::Category::Data => "a field is missing or has the wrong type",
                    _ => "not valid JSON",
                }
            ),
        })
    }
}

/// The RSA key of a PEM `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1).
fn key_pair(grant: &str, pem: &SecretString) -> Result<ring::signature::RsaKeyPair, OAuthError> {
    let bad = |why: &str| OAuthError::Config {
        grant: grant.to_string(),
        message: format!("the service-account private_key cannot be used: {why}"),
    };
    let text = pem.expose_secret();
    let pkcs1 = text.contains("BEGIN RSA PRIVATE KEY");
    let b64: Zeroizing<String> =
        Zeroizing::new(text.lines().filter(|l| !l.starts_with("-----")).flat_map(|l| l.trim().chars()).collect());
    let der = Zeroizing::new(STANDARD.decode(b64.as_bytes()).map_err(|_| bad("not PEM"))?);
    let pair =
        if pkcs1 { ring::signature::RsaKeyPair::from_der(&der) } else { ring::signature::RsaKeyPair::from_pkcs8(&der) };
    pair.map_err(|e| bad(&format!("not an RSA private key ({e})")))
}

/// The signed assertion: header `{"alg":"RS256","typ":"JWT","kid":…}`,
/// claims `iss`, `scope`, `aud`, `iat`, `exp` (one hour later) and `sub`
/// when impersonating. Secret: it is a credential for an hour.
pub fn jwt_assertion(
    grant: &str,
    key: &ServiceAccountKey,
    scope: &str,
    aud: &str,
    sub: Option<&str>,
    now_secs: i64,
) -> Result<SecretString, OAuthError> {
    let pair = key_pair(grant, &key.private_key)?;
    let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = &key.private_key_id {
        header["kid"] = serde_json::Value::from(kid.as_str());
    }
    let mut claims = serde_json::json!({
        "iss": key.client_email,
        "scope": scope,
        "aud": aud,
        "iat": now_secs,
        "exp": now_secs + ASSERTION_SECS,
    });
    if let Some(sub) = sub {
        claims["sub"] = serde_json::Value::from(sub);
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string().as_bytes()),
        URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
    );
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| OAuthError::Config { grant: grant.to_string(), message: "signing the assertion failed".into() })?;
    Ok(SecretString::from(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&signature))))
}

pub struct ServiceAccount {
    grant: String,
    client: OAuthClient,
    http: reqwest::Client,
    store: Store,
    cipher: Option<Arc<TokenCipher>>,
    cache: TokenCache,
    refusal: Refusal,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount").field("grant", &self.grant).field("subject", &self.client.subject).finish()
    }
}

impl ServiceAccount {
    pub fn new(
        grant: &str,
        client: OAuthClient,
        http: reqwest::Client,
        store: Store,
        cipher: Option<Arc<TokenCipher>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            grant: grant.to_string(),
            client,
            http,
            store,
            cipher,
            cache: TokenCache::new(clock),
            refusal: Refusal::default(),
        }
    }

    /// The key: `key_file`, else the one stored with `oauth set-secret`.
    async fn key(&self) -> Result<ServiceAccountKey, OAuthError> {
        let grant = self.grant.as_str();
        let json = match &self.client.key_file {
            Some(path) => read_secret_file(grant, path)?,
            None => {
                stored_secret(grant, &self.store, self.cipher.as_deref()).await?.ok_or_else(|| OAuthError::Config {
                    grant: grant.to_string(),
                    message:
                        "no service-account key: set key_file, or run `mailgate oauth set-secret` with the JSON key"
                            .into(),
                })?
            }
        };
        ServiceAccountKey::parse(grant, json.expose_secret())
    }

    async fn fetch(&self) -> Result<Fresh, OAuthError> {
        let grant = self.grant.as_str();
        let row = self.store.oauth_grant(grant).await.map_err(|e| store_error(grant, &e))?;
        let version = row.as_ref().map_or(0, |r| r.version);
        self.refusal.check(grant, version)?;
        let key = self.key().await?;
        // The configured token URL, which is Google's unless overridden;
        // the audience is the key's token_uri (Google checks it).
        let url = self.client.token_url.clone();
        let aud = key.token_uri.clone().unwrap_or_else(|| url.clone());
        let now = self.cache.clock().now_ms();
        let scope = self.client.scope().unwrap_or_default();
        let assertion = jwt_assertion(grant, &key, &scope, &aud, self.client.subject.as_deref(), now.div_euclid(1000))?;
        let params = Params::new().add("grant_type", JWT_BEARER).secret("assertion", &assertion);
        let endpoint = TokenEndpoint::new(self.http.clone(), url, self.client.body);
        let answer = endpoint.token(&params).await;
        self.refusal.settle(&self.store, (grant, version, now), "service account", answer).await
    }
}

#[async_trait]
impl AccessTokens for ServiceAccount {
    async fn access_token(&self) -> Result<SecretString, OAuthError> {
        self.cache.get(|| self.fetch()).await
    }

    fn invalidate(&self) {
        self.cache.invalidate();
    }
}

#[cfg(test)]
#[path = "service_account_tests.rs"]
mod tests;
