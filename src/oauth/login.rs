//! `mailgate oauth login`: the authorization code flow with PKCE (RFC 7636,
//! S256) on a loopback redirect (RFC 8252), the device flow ([`device`]),
//! and storing the refresh token encrypted. Jira 3LO also finds the site's
//! cloud id ([`jira`]).

pub mod device;
pub mod jira;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::endpoint::{EndpointError, Params, TokenAnswer, TokenEndpoint};
use super::refresh::refresh_expiry;
use super::{OAuthClient, OAuthError, ProviderKind};
use crate::secrets::TokenCipher;
use crate::store::{NewLogin, Store, StoreError, refresh_aad};

/// Why a login did not complete. None of them carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("{0}")]
    Config(String),
    #[error("the loopback redirect: {0}")]
    Io(#[from] std::io::Error),
    #[error("no answer from the browser within {0} s")]
    Timeout(u64),
    #[error("the authorization was refused: {error} {description}")]
    Denied { error: String, description: String },
    #[error("the redirect's state does not match this login (another login, or a forged redirect): nothing stored")]
    State,
    #[error("the device code expired before the login was approved")]
    Expired,
    #[error("the server gave no refresh token: {0}")]
    NoRefreshToken(&'static str),
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Site(String),
}

impl LoginError {
    pub(crate) fn endpoint(e: EndpointError, grant: &str) -> Self {
        Self::OAuth(e.into_oauth(grant))
    }
}

/// A PKCE pair: the verifier (kept, sent with the code) and its S256 challenge.
pub struct Pkce {
    pub verifier: SecretString,
    pub challenge: String,
}

/// `n` random bytes, base64url without padding.
pub fn random_b64(n: usize) -> Result<String, LoginError> {
    use ring::rand::SecureRandom;
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| LoginError::Config("no system randomness".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(&bytes))
}

/// S256: base64url(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// A fresh verifier (32 random bytes: 43 characters) and its challenge.
pub fn pkce() -> Result<Pkce, LoginError> {
    let verifier = random_b64(32)?;
    let challenge = pkce_challenge(&verifier);
    Ok(Pkce { verifier: SecretString::from(verifier), challenge })
}

/// The URL the admin opens: the code flow with PKCE and the provider's
/// extra parameters (Google `access_type=offline`, Atlassian `audience`).
pub fn authorize_url(
    client: &OAuthClient,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Result<String, LoginError> {
    let base = client
        .authorize_url
        .as_deref()
        .ok_or_else(|| LoginError::Config("no authorize_url for this client: set it in the configuration".into()))?;
    let client_id = client.client_id.as_deref().ok_or_else(|| LoginError::Config("client_id is not set".into()))?;
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let scope = client.scope();
    if let Some(s) = &scope {
        params.push(("scope", s));
    }
    params.extend(client.authorize_params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let url = reqwest::Url::parse_with_params(base, &params)
        .map_err(|e| LoginError::Config(format!("authorize_url is not a URL: {e}")))?;
    Ok(url.to_string())
}

/// The loopback listener the browser is sent back to.
pub struct Loopback {
    listener: TcpListener,
    redirect_uri: String,
    path: String,
}

impl Loopback {
    /// Bind `redirect_url`'s port on loopback, or any free port on
    /// 127.0.0.1 (`http://127.0.0.1:PORT/callback`).
    pub async fn bind(redirect_url: Option<&str>) -> Result<Self, LoginError> {
        let Some(url) = redirect_url else {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
            let port = listener.local_addr()?.port();
            let redirect_uri = format!("http://127.0.0.1:{port}/callback");
            return Ok(Self { listener, redirect_uri, path: "/callback".into() });
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| LoginError::Config(format!("redirect_url: {e}")))?;
        let port = parsed.port().ok_or_else(|| LoginError::Config("redirect_url needs a port".into()))?;
        let host = match parsed.host_str() {
            Some("localhost") | None => "127.0.0.1".to_string(),
            Some(h) => h.trim_matches(['[', ']']).to_string(),
        };
        let listener = TcpListener::bind((host.as_str(), port)).await?;
        Ok(Self { listener, redirect_uri: url.to_string(), path: parsed.path().to_string() })
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Wait for the redirect to our path and return its code. Other paths
    /// (a browser's favicon) get a 404; a wrong `state` ends the login.
    pub async fn wait(self, state: &str, timeout: Duration) -> Result<SecretString, LoginError> {
        let secs = timeout.as_secs();
        tokio::time::timeout(timeout, self.serve(state)).await.map_err(|_| LoginError::Timeout(secs))?
    }

    /// Each connection on its own task: a browser's idle speculative
    /// connection does not hold up the one with the redirect.
    async fn serve(&self, state: &str) -> Result<SecretString, LoginError> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (conn, _) = accepted?;
                    let (tx, path, state) = (tx.clone(), self.path.clone(), state.to_string());
                    tokio::spawn(async move {
                        if let Some(outcome) = answer(conn, &path, &state).await {
                            let _ = tx.send(outcome).await;
                        }
                    });
                }
                Some(outcome) = rx.recv() => return outcome,
            }
        }
    }
}

/// Answer one connection; the outcome when it was the redirect.
async fn answer(mut conn: tokio::net::TcpStream, path: &str, state: &str) -> Option<Result<SecretString, LoginError>> {
    let target = tokio::time::timeout(Duration::from_secs(10), read_target(&mut conn)).await.ok()?.ok()?;
    let outcome = callback_outcome(&target, path, state);
    let (status, page) = match &outcome {
        None => ("404 Not Found", "not found"),
        Some(Ok(_)) => ("200 OK", "mailgate: logged in. You can close this tab."),
        Some(Err(_)) => ("400 Bad Request", "mailgate: the login failed; see the terminal."),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = conn.write_all(reply.as_bytes()).await;
    let _ = conn.shutdown().await;
    outcome
}

/// The request target (`/callback?code=…`) of an HTTP request's first line.
async fn read_target(conn: &mut tokio::net::TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Ok(target.to_string()),
        _ => Err(std::io::Error::other("not a GET request")),
    }
}

/// What a redirect to `target` means: None when it is not for `path`,
/// else the code or why there is none.
pub fn callback_outcome(target: &str, path: &str, state: &str) -> Option<Result<SecretString, LoginError>> {
    let url = reqwest::Url::parse(&format!("http://loopback{target}")).ok()?;
    if url.path() != path {
        return None;
    }
    let get = |k: &str| url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    if let Some(error) = get("error") {
        let description = get("error_description").unwrap_or_default().chars().take(300).collect();
        return Some(Err(LoginError::Denied { error: error.chars().take(100).collect(), description }));
    }
    if get("state").as_deref() != Some(state) {
        return Some(Err(LoginError::State));
    }
    Some(get("code").filter(|c| !c.is_empty()).map(SecretString::from).ok_or_else(|| LoginError::Denied {
        error: "no code".into(),
        description: "the redirect carried neither a code nor an error".into(),
    }))
}

/// The token request for an authorization code.
pub fn code_params(
    client: &OAuthClient,
    code: &SecretString,
    verifier: &SecretString,
    redirect_uri: &str,
    secret: Option<&SecretString>,
) -> Params {
    Params::new()
        .add("grant_type", "authorization_code")
        .secret("code", code)
        .add("redirect_uri", redirect_uri)
        .add_opt("client_id", client.client_id.clone())
        .secret_opt("client_secret", secret)
        .secret("code_verifier", verifier)
}

/// Exchange the code for tokens.
pub async fn exchange_code(endpoint: &TokenEndpoint, grant: &str, params: &Params) -> Result<TokenAnswer, LoginError> {
    endpoint.token(params).await.map_err(|e| LoginError::endpoint(e, grant))
}

/// Why a login may bring no refresh token, by provider.
fn no_refresh_hint(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::Microsoft => "add the offline_access scope",
        ProviderKind::Google => "Google sends one with access_type=offline and prompt=consent (the defaults)",
        ProviderKind::Atlassian => "add the offline_access scope to the app and to jira.auth.scopes",
        ProviderKind::Generic => "ask for offline access (often the offline_access scope)",
    }
}

/// Store the login's refresh token encrypted; a revoked grant is active again.
pub async fn store_login(
    store: &Store,
    cipher: &TokenCipher,
    grant: &str,
    provider: ProviderKind,
    answer: &TokenAnswer,
    cloud_id: Option<&str>,
    now: i64,
) -> Result<(), LoginError> {
    let refresh = answer.refresh_token.as_ref().ok_or(LoginError::NoRefreshToken(no_refresh_hint(provider)))?;
    if refresh.expose_secret().is_empty() {
        return Err(LoginError::NoRefreshToken(no_refresh_hint(provider)));
    }
    let login = NewLogin {
        grant,
        refresh_token: cipher.encrypt(refresh, &refresh_aad(grant)),
        key_id: cipher.key_id(),
        cloud_id,
        access_expires_at: Some(super::cache::expires_at(now, answer.expires_in)),
        refresh_expires_at: refresh_expiry(provider, now, answer.refresh_expires_in, Some(now)),
    };
    store.put_oauth_login(&login, now).await?;
    Ok(())
}

#[cfg(test)]
#[path = "login_tests.rs"]
mod tests;
