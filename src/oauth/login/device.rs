//! The device authorization grant (RFC 8628) for headless servers: show
//! the admin a URL and a code, poll the token endpoint at the interval the
//! server asks for (slower after `slow_down`) until approved, refused or expired.

use std::time::Duration;

use secrecy::SecretString;

use super::LoginError;
use crate::oauth::OAuthClient;
use crate::oauth::endpoint::{EndpointError, Params, TokenAnswer, TokenEndpoint, token_answer};

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The device authorization answer. `Debug` hides the device code.
pub struct DeviceStart {
    pub device_code: SecretString,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
    pub interval: u64,
}

impl std::fmt::Debug for DeviceStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceStart")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// From the answer's JSON (Google says `verification_url`).
pub fn parse_start(j: &serde_json::Value) -> Result<DeviceStart, EndpointError> {
    let text = |k: &str| j.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_string);
    let num = |k: &str| j.get(k).and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
    let missing = |k: &str| EndpointError::Decode(format!("no {k} in the device authorization answer"));
    Ok(DeviceStart {
        device_code: SecretString::from(text("device_code").ok_or_else(|| missing("device_code"))?),
        user_code: text("user_code").ok_or_else(|| missing("user_code"))?,
        verification_uri: text("verification_uri")
            .or_else(|| text("verification_url"))
            .ok_or_else(|| missing("verification_uri"))?,
        verification_uri_complete: text("verification_uri_complete"),
        expires_in: num("expires_in").unwrap_or(900),
        interval: num("interval").unwrap_or(5),
    })
}

/// The device authorization request: the client id and the scopes, and a
/// confidential client's secret (RFC 8628 §3.1: the client authentication
/// of RFC 6749 §3.2.1 applies there too).
pub fn start_params(client: &OAuthClient, secret: Option<&SecretString>) -> Params {
    Params::new()
        .add_opt("client_id", client.client_id.clone())
        .add_opt("scope", client.scope())
        .secret_opt("client_secret", secret)
}

/// The polling request.
pub fn poll_params(client: &OAuthClient, start: &DeviceStart, secret: Option<&SecretString>) -> Params {
    Params::new()
        .add("grant_type", DEVICE_CODE_GRANT)
        .secret("device_code", &start.device_code)
        .add_opt("client_id", client.client_id.clone())
        .secret_opt("client_secret", secret)
}

/// Ask for a device code.
pub async fn start(
    endpoint: &TokenEndpoint,
    grant: &str,
    client: &OAuthClient,
    secret: Option<&SecretString>,
) -> Result<DeviceStart, LoginError> {
    let json = endpoint.call(&start_params(client, secret)).await.map_err(|e| LoginError::endpoint(e, grant))?;
    parse_start(&json).map_err(|e| LoginError::endpoint(e, grant))
}

/// The polling state: the interval, raised by `slow_down`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poller {
    pub interval: Duration,
}

impl Poller {
    /// At the server's interval, but not faster than `floor`.
    pub fn new(interval_secs: u64, floor: Duration) -> Self {
        Self { interval: Duration::from_secs(interval_secs).max(floor) }
    }

    /// What a failed poll means: wait this long and poll again, or stop.
    pub fn on_error(&mut self, e: EndpointError, grant: &str) -> Result<Duration, LoginError> {
        match e.code() {
            Some("authorization_pending") => Ok(self.interval),
            Some("slow_down") => {
                self.interval += Duration::from_secs(5);
                Ok(self.interval)
            }
            Some("access_denied") => {
                Err(LoginError::Denied { error: "access_denied".into(), description: "the login was declined".into() })
            }
            Some("expired_token") => Err(LoginError::Expired),
            _ => match LoginError::endpoint(e, grant) {
                // The endpoint is down for a moment: keep polling.
                LoginError::OAuth(o) if o.is_transient() => Ok(self.interval),
                other => Err(other),
            },
        }
    }
}

/// Poll until the login is approved (the token answer), refused or
/// expired. `floor` is the shortest wait (tests shorten it).
pub async fn poll(
    endpoint: &TokenEndpoint,
    grant: &str,
    client: &OAuthClient,
    start: &DeviceStart,
    secret: Option<&SecretString>,
    floor: Duration,
) -> Result<TokenAnswer, LoginError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(start.expires_in);
    let mut poller = Poller::new(start.interval, floor);
    let params = poll_params(client, start, secret);
    loop {
        tokio::time::sleep(poller.interval).await;
        if tokio::time::Instant::now() >= deadline {
            return Err(LoginError::Expired);
        }
        match endpoint.call(&params).await {
            Ok(json) => return token_answer(&json).map_err(|e| LoginError::endpoint(e, grant)),
            Err(e) => {
                poller.on_error(e, grant)?;
            }
        }
    }
}
