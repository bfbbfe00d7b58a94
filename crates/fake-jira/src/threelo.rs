//! Jira Cloud's OAuth 2.0 (3LO) as Atlassian documents it
//! (developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/ and
//! developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens/),
//! with the fake standing in for three hosts:
//! - `https://auth.atlassian.com`: `GET /authorize` (`audience=api.atlassian.com`,
//!   `client_id`, `scope`, `redirect_uri`, `state`, `response_type=code`,
//!   optional `prompt=consent` and PKCE S256) consents at once and
//!   redirects to `redirect_uri?code=…&state=…`; `POST /oauth/token` (a JSON
//!   body, or a form) with `grant_type` `authorization_code` or
//!   `refresh_token` answers `{access_token, expires_in, scope,
//!   refresh_token, token_type}`. A refresh token comes only with the
//!   `offline_access` scope, and rotates: each refresh returns a new one and
//!   disables the one used. Refused grants: 403 `{"error":"invalid_grant",
//!   "error_description":"Unknown or invalid refresh token."}` (Atlassian's
//!   documented answer); wrong client credentials: 401 `access_denied`.
//! - `https://api.atlassian.com`: `GET /oauth/token/accessible-resources`
//!   (`[{id, url, name, scopes, avatarUrl}]`) and every REST route under
//!   `/ex/jira/{cloudId}/…`, for the bearer tokens issued here only. The
//!   gateway's own errors have its shape `{"code":…,"message":…}`: 401
//!   `Unauthorized` for a missing, unknown or expired token, 401
//!   `Unauthorized; scope does not match` when the token lacks the
//!   operation's scopes (`scopes`), 404 for another cloud id. `self` links
//!   in answers point through the gateway.
//! - The site (`https://your-domain.atlassian.net`) keeps basic auth and
//!   refuses 3LO tokens ("a 3LO token does not work on your site's domain").

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::State;
use super::wire::{json_response, query_map};

/// Default `expires_in` of access tokens (Atlassian: an hour).
pub const ACCESS_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    Valid,
    Used,
    Revoked,
}

#[derive(Debug, Clone)]
struct Access {
    token: String,
    scopes: Vec<String>,
    expires_at: Instant,
    expired: bool,
}

#[derive(Debug, Clone)]
struct Refresh {
    token: String,
    scope: String,
    state: RefreshState,
}

#[derive(Debug, Clone)]
struct Code {
    code: String,
    redirect_uri: String,
    scope: String,
    challenge: Option<String>,
    used: bool,
    expires_at: Instant,
}

/// The one 3LO app the fake knows (`FakeJira::enable_3lo`).
#[derive(Debug, Clone)]
pub(crate) struct ThreeLo {
    client_id: String,
    client_secret: String,
    pub cloud_id: String,
    access: Vec<Access>,
    refresh: Vec<Refresh>,
    codes: Vec<Code>,
    pub refreshes: usize,
    pub access_lifetime: Duration,
    counter: u64,
}

impl ThreeLo {
    pub fn new(client_id: &str, client_secret: &str, cloud_id: String) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            cloud_id,
            access: Vec::new(),
            refresh: Vec::new(),
            codes: Vec::new(),
            refreshes: 0,
            access_lifetime: ACCESS_LIFETIME,
            counter: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// A fresh opaque value (not guessable from the previous one in a test's terms).
    fn mint(&mut self, prefix: &str) -> String {
        self.counter ^= self.counter << 13;
        self.counter ^= self.counter >> 7;
        self.counter ^= self.counter << 17;
        let n = self.access.len() + self.refresh.len() + self.codes.len();
        format!("{prefix}{n:04}{:016x}", self.counter)
    }

    pub fn issue_access(&mut self, scope: &str) -> String {
        let token = self.mint("eyJ3lo-at-");
        let expires_at = Instant::now() + self.access_lifetime;
        let scopes = scope.split_whitespace().map(String::from).collect();
        self.access.push(Access { token: token.clone(), scopes, expires_at, expired: false });
        token
    }

    pub fn issue_refresh(&mut self, scope: &str) -> String {
        let token = self.mint("3lo-rt-");
        self.refresh.push(Refresh { token: token.clone(), scope: scope.into(), state: RefreshState::Valid });
        token
    }

    pub fn expire_access(&mut self) {
        for a in &mut self.access {
            a.expired = true;
        }
    }

    /// The user removed the app: nothing issued so far works.
    pub fn revoke(&mut self) {
        self.expire_access();
        for r in &mut self.refresh {
            r.state = RefreshState::Revoked;
        }
    }

    /// The scopes of an active access token.
    fn active(&self, token: &str) -> Option<&Access> {
        let now = Instant::now();
        self.access.iter().find(|a| a.token == token && !a.expired && now < a.expires_at)
    }

    fn token_answer(&mut self, scope: &str) -> Response {
        let access = self.issue_access(scope);
        let mut body = json!({
            "access_token": access,
            "expires_in": self.access_lifetime.as_secs(),
            "scope": scope,
            "token_type": "Bearer",
        });
        if scope.split_whitespace().any(|s| s == "offline_access") {
            body["refresh_token"] = json!(self.issue_refresh(scope));
        }
        json_response(StatusCode::OK, body)
    }
}

/// Whether the call belongs to the authorization server (its faults are
/// only those filtered for it).
pub fn is_auth_server(path: &str) -> bool {
    path == "/authorize" || path.starts_with("/oauth/")
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(status, json!({"error": error, "error_description": description}))
}

/// The gateway's own error body.
fn gateway_error(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({"code": status.as_u16(), "message": message}))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// `/authorize`, `/oauth/token` and `/oauth/token/accessible-resources`;
/// `None` for every other path.
pub fn auth_server(st: &mut State, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Option<Response> {
    let path = uri.path().trim_end_matches('/');
    let resp = match (method.as_str(), path) {
        ("GET", "/authorize") => authorize(st, uri),
        ("POST", "/oauth/token") => token(st, headers, body),
        ("GET", "/oauth/token/accessible-resources") => accessible_resources(st, headers),
        _ if is_auth_server(path) => gateway_error(StatusCode::NOT_FOUND, "Not Found"),
        _ => return None,
    };
    Some(resp)
}

fn authorize(st: &mut State, uri: &Uri) -> Response {
    let q = query_map(uri);
    let Some(app) = st.threelo.as_mut() else {
        return (StatusCode::BAD_REQUEST, "OAuth 2.0 (3LO) is not enabled for this fake").into_response();
    };
    if q.get("client_id") != Some(&app.client_id) {
        return (StatusCode::BAD_REQUEST, "Invalid client_id").into_response();
    }
    let Some(redirect_uri) = q.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is required").into_response();
    };
    let state_param = q.get("state").cloned().unwrap_or_default();
    let fail = |error: &str| redirect(redirect_uri, &[("error", error), ("state", &state_param)]);
    if q.get("audience").map(String::as_str) != Some("api.atlassian.com") {
        return fail("invalid_request");
    }
    if q.get("response_type").map(String::as_str) != Some("code") {
        return fail("unsupported_response_type");
    }
    let challenge = q.get("code_challenge").cloned();
    if challenge.is_some() && q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return fail("invalid_request");
    }
    let scope = q.get("scope").cloned().unwrap_or_default();
    let code = app.mint("3lo-code-");
    app.codes.push(Code {
        code: code.clone(),
        redirect_uri: redirect_uri.clone(),
        scope,
        challenge,
        used: false,
        expires_at: Instant::now() + Duration::from_secs(600),
    });
    redirect(redirect_uri, &[("state", &state_param), ("code", &code)])
}

fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{redirect_uri}{sep}{}", query.join("&"))) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The token request's fields, from a JSON object or a form body.
fn fields(headers: &HeaderMap, body: &Bytes) -> Option<serde_json::Map<String, Value>> {
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if ctype.starts_with("application/json") {
        return serde_json::from_slice::<Value>(body).ok()?.as_object().cloned();
    }
    if ctype.starts_with("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(body).ok()?;
        let uri: Uri = format!("/?{text}").parse().ok()?;
        return Some(query_map(&uri).into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    }
    None
}

fn token(st: &mut State, headers: &HeaderMap, body: &Bytes) -> Response {
    let Some(f) = fields(headers, body) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Expected a JSON or form body");
    };
    let get = |k: &str| f.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let grant = get("grant_type").unwrap_or("");
    let Some(app) = st.threelo.as_mut() else {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    };
    if grant == "refresh_token" {
        app.refreshes += 1;
    }
    if !matches!(grant, "authorization_code" | "refresh_token") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Unsupported grant type");
    }
    if get("client_id") != Some(app.client_id.as_str()) || get("client_secret") != Some(app.client_secret.as_str()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    if grant == "refresh_token" {
        let Some(presented) = get("refresh_token") else {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is required");
        };
        let Some(r) = app.refresh.iter_mut().find(|r| r.token == presented && r.state == RefreshState::Valid) else {
            return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Unknown or invalid refresh token.");
        };
        r.state = RefreshState::Used;
        let scope = r.scope.clone();
        return app.token_answer(&scope);
    }
    let (Some(code), Some(redirect_uri)) = (get("code"), get("redirect_uri")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "code and redirect_uri are required");
    };
    let now = Instant::now();
    let Some(c) = app.codes.iter_mut().find(|c| c.code == code && !c.used && now < c.expires_at) else {
        return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid authorization code");
    };
    if c.redirect_uri != redirect_uri {
        return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid redirect_uri");
    }
    if let Some(challenge) = &c.challenge {
        let Some(verifier) = get("code_verifier") else {
            return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "code_verifier is required");
        };
        if &pkce_s256(verifier) != challenge {
            return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid code_verifier");
        }
    }
    c.used = true;
    let scope = c.scope.clone();
    app.token_answer(&scope)
}

fn accessible_resources(st: &State, headers: &HeaderMap) -> Response {
    let Some(app) = st.threelo.as_ref() else { return gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized") };
    let Some(access) = bearer(headers).and_then(|t| app.active(t)) else {
        return gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized");
    };
    let scopes: Vec<&String> = access.scopes.iter().filter(|s| *s != "offline_access").collect();
    json_response(
        StatusCode::OK,
        json!([{
            "id": app.cloud_id,
            "url": st.origin_url,
            "name": "fake-jira",
            "scopes": scopes,
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
        }]),
    )
}

/// What the gateway made of a call under `/ex/jira/`.
pub struct Gateway {
    /// The Jira path and query behind the gateway prefix.
    pub inner: Uri,
    pub token: String,
    /// The base URL answers' `self` links use (`{origin}/ex/jira/{cloudId}`).
    pub site_base: String,
}

/// A call under `/ex/jira/{cloudId}/`: `None` for other paths, else the
/// gateway's refusal or the inner call to dispatch.
pub fn gateway(st: &State, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Result<Gateway, Response>> {
    let rest = uri.path().strip_prefix("/ex/jira/")?;
    let (cloud_id, inner_path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Some(
        pass_gateway(st, method, uri, headers, cloud_id, inner_path)
            .map_err(|(status, message)| gateway_error(status, message)),
    )
}

fn pass_gateway(
    st: &State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    cloud_id: &str,
    inner_path: &str,
) -> Result<Gateway, (StatusCode, &'static str)> {
    const UNAUTHORIZED: (StatusCode, &str) = (StatusCode::UNAUTHORIZED, "Unauthorized");
    let app = st.threelo.as_ref().ok_or(UNAUTHORIZED)?;
    let token = bearer(headers).ok_or(UNAUTHORIZED)?;
    let access = app.active(token).ok_or(UNAUTHORIZED)?;
    if cloud_id != app.cloud_id {
        return Err((StatusCode::NOT_FOUND, "Not Found"));
    }
    if let Some(rule) = super::scopes::rule_for(method.as_str(), inner_path)
        && !rule.allows(&access.scopes)
    {
        return Err((StatusCode::UNAUTHORIZED, "Unauthorized; scope does not match"));
    }
    let inner = match uri.query() {
        Some(q) => format!("{inner_path}?{q}"),
        None => inner_path.to_string(),
    };
    let inner: Uri = inner.parse().map_err(|_| (StatusCode::BAD_REQUEST, "Bad Request"))?;
    Ok(Gateway { inner, token: token.to_string(), site_base: format!("{}/ex/jira/{cloud_id}", st.origin_url) })
}

/// RFC 7636 S256: BASE64URL(SHA-256(verifier)) without padding.
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc7636_example() {
        // RFC 7636 Appendix B.
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
