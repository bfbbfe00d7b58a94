//! The token endpoint over HTTP: request parameters (secrets kept as
//! [`SecretString`] until encoded), the answer, and errors that say whether
//! to retry. Nothing secret reaches an error: the server's description is
//! cleaned of every secret the request carried.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{BodyStyle, OAuthError};

enum Value {
    Plain(String),
    Secret(SecretString),
}

/// The parameters of a token (or device) request. `Debug` hides secrets.
#[derive(Default)]
pub struct Params(Vec<(&'static str, Value)>);

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.0 {
            match v {
                Value::Plain(s) => m.entry(k, s),
                Value::Secret(_) => m.entry(k, &"[redacted]"),
            };
        }
        m.finish()
    }
}

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.0.push((key, Value::Plain(value.into())));
        self
    }

    pub fn add_opt(self, key: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.add(key, v),
            None => self,
        }
    }

    pub fn secret(mut self, key: &'static str, value: &SecretString) -> Self {
        self.0.push((key, Value::Secret(value.clone())));
        self
    }

    pub fn secret_opt(self, key: &'static str, value: Option<&SecretString>) -> Self {
        match value {
            Some(v) => self.secret(key, v),
            None => self,
        }
    }

    /// The names, in order (tests of request shapes).
    pub fn keys(&self) -> Vec<&'static str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }

    /// A plain (non-secret) value.
    pub fn plain(&self, key: &str) -> Option<&str> {
        self.0.iter().find_map(|(k, v)| match v {
            Value::Plain(s) if *k == key => Some(s.as_str()),
            _ => None,
        })
    }

    fn text(v: &Value) -> &str {
        match v {
            Value::Plain(s) => s,
            Value::Secret(s) => s.expose_secret(),
        }
    }

    fn secrets(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|(_, v)| if let Value::Secret(s) = v { Some(s.expose_secret()) } else { None })
            .collect()
    }

    /// `application/x-www-form-urlencoded`.
    pub fn form_body(&self) -> String {
        let pairs: Vec<String> =
            self.0.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(Self::text(v)))).collect();
        pairs.join("&")
    }

    /// A JSON object (Atlassian's token endpoint).
    pub fn json_body(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> =
            self.0.iter().map(|(k, v)| ((*k).to_string(), serde_json::Value::from(Self::text(v)))).collect();
        serde_json::Value::Object(map).to_string()
    }
}

fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A token endpoint's successful answer. `Debug` hides the tokens.
pub struct TokenAnswer {
    pub access_token: SecretString,
    pub token_type: Option<String>,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<SecretString>,
    /// `refresh_token_expires_in` (Google, Microsoft) or `refresh_expires_in`.
    pub refresh_expires_in: Option<u64>,
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[redacted]"))
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Why a request to the endpoint failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointError {
    /// An OAuth error answer (RFC 6749 5.2, RFC 8628 3.5): its `error` code
    /// and cleaned `error_description`.
    OAuth { status: u16, code: String, description: Option<String> },
    /// Another HTTP status without an OAuth error in it.
    Status(u16),
    /// No answer: connection, TLS, timeout.
    Network(String),
    /// An answer that is not what the protocol says.
    Decode(String),
}

impl EndpointError {
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::OAuth { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The error as consumers see it: revoked (log in again), unavailable
    /// (retry) or a configuration problem (fix, then retry).
    pub fn into_oauth(self, grant: &str) -> OAuthError {
        let grant = grant.to_string();
        let transient = |s: u16| s == 408 || s == 425 || s == 429 || s >= 500;
        match self {
            Self::OAuth { code, description, .. } if code == "invalid_grant" || code == "invalid_client" => {
                let error = match description {
                    Some(d) => format!("{code}: {d}"),
                    None => code,
                };
                OAuthError::Revoked { grant, error }
            }
            Self::OAuth { status, code, description } if transient(status) || code == "temporarily_unavailable" => {
                OAuthError::Unavailable(format!("{grant}: HTTP {status} {code} {}", description.unwrap_or_default()))
            }
            Self::OAuth { status, code, description } => OAuthError::Config {
                grant,
                message: format!(
                    "the token endpoint refused the request (HTTP {status} {code}: {})",
                    description.unwrap_or_default()
                ),
            },
            Self::Status(401) => OAuthError::Revoked { grant, error: "HTTP 401 from the token endpoint".into() },
            Self::Status(s) if transient(s) => OAuthError::Unavailable(format!("{grant}: HTTP {s}")),
            Self::Status(s) => OAuthError::Config { grant, message: format!("the token endpoint answered HTTP {s}") },
            Self::Network(m) | Self::Decode(m) => OAuthError::Unavailable(format!("{grant}: {m}")),
        }
    }
}

/// A token (or device-authorization) endpoint.
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    http: reqwest::Client,
    url: String,
    body: BodyStyle,
}

/// The HTTP client of the OAuth calls: timeouts, no redirects.
pub fn http_client(timeout_secs: u64) -> Result<reqwest::Client, OAuthError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout_secs))
        .connect_timeout(Duration::from_secs(timeout_secs.min(10)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mailgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| OAuthError::Unavailable(format!("cannot build the HTTP client: {}", network_message(&e))))
}

impl TokenEndpoint {
    pub fn new(http: reqwest::Client, url: impl Into<String>, body: BodyStyle) -> Self {
        Self { http, url: url.into(), body }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// POST `params`; the JSON answer of a 2xx status without an `error`.
    pub async fn call(&self, params: &Params) -> Result<serde_json::Value, EndpointError> {
        let (body, content_type) = match self.body {
            BodyStyle::Form => (params.form_body(), "application/x-www-form-urlencoded"),
            BodyStyle::Json => (params.json_body(), "application/json"),
        };
        let answer = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| EndpointError::Network(network_message(&e)))?;
        let status = answer.status().as_u16();
        let bytes = answer.bytes().await.map_err(|e| EndpointError::Network(network_message(&e)))?;
        parse_answer(status, &bytes, &params.secrets())
    }

    /// POST `params` and read a token answer.
    pub async fn token(&self, params: &Params) -> Result<TokenAnswer, EndpointError> {
        token_answer(&self.call(params).await?)
    }
}

/// What a reqwest error says, without the URL.
pub fn network_message(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "the token endpoint did not answer in time".into();
    }
    let mut msg = String::from("cannot reach the endpoint");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// The JSON of an answer, or its error. `sent` are the secrets of the
/// request, cut out of whatever the server says.
pub fn parse_answer(status: u16, body: &[u8], sent: &[&str]) -> Result<serde_json::Value, EndpointError> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let error = json.as_ref().and_then(|j| j.get("error")).and_then(|e| e.as_str());
    if let Some(code) = error {
        let description =
            json.as_ref().and_then(|j| j.get("error_description")).and_then(|d| d.as_str()).map(|d| clean(d, sent));
        let status = if (200..300).contains(&status) { 400 } else { status };
        return Err(EndpointError::OAuth { status, code: clean(code, sent), description });
    }
    match json {
        Some(j) if (200..300).contains(&status) => Ok(j),
        _ if (200..300).contains(&status) => Err(EndpointError::Decode("the answer is not JSON".into())),
        _ => Err(EndpointError::Status(status)),
    }
}

/// A token answer from its JSON (`expires_in` as a number or a string).
pub fn token_answer(j: &serde_json::Value) -> Result<TokenAnswer, EndpointError> {
    let text = |k: &str| j.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_string);
    let secs = |k: &str| {
        j.get(k).and_then(|v| {
            v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)).or_else(|| v.as_str()?.parse().ok())
        })
    };
    let access = text("access_token").ok_or_else(|| EndpointError::Decode("no access_token in the answer".into()))?;
    Ok(TokenAnswer {
        access_token: SecretString::from(access),
        token_type: text("token_type"),
        expires_in: secs("expires_in"),
        refresh_token: text("refresh_token").map(SecretString::from),
        refresh_expires_in: secs("refresh_token_expires_in").or_else(|| secs("refresh_expires_in")),
        scope: text("scope"),
    })
}

/// Text from a server, fit for a log line: no secret the request carried,
/// no control characters, at most 300 characters.
fn clean(text: &str, sent: &[&str]) -> String {
    let mut t = text.to_string();
    for s in sent.iter().filter(|s| s.len() >= 4) {
        t = t.replace(s, "[redacted]");
    }
    t.chars().map(|c| if c.is_control() { ' ' } else { c }).take(300).collect()
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
