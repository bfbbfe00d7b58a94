//! The endpoints: `/token` and its grants, `/devicecode`, `/authorize`,
//! `/introspect`. See the module above for the RFCs each follows.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{APP_PERMISSIONS, AuthCode, DeviceGrant, DeviceStatus, RefreshState, State, jwt, random_token, unix_now};

type Shared = Arc<Mutex<State>>;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.2: `expires_in` of device codes.
const DEVICE_CODE_LIFETIME: u64 = 900;
/// Authorization codes live 10 minutes (RFC 6749 §4.1.2 recommends at most that).
const CODE_LIFETIME: u64 = 600;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// RFC 6749 §5.1: token answers are never cached.
fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// An RFC 6749 §5.2 error.
struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: String,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "error_description": self.description});
        let mut resp = no_store((self.status, axum::Json(body)).into_response());
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth\""));
        }
        resp
    }
}

fn bad(code: &'static str, description: &str) -> OAuthError {
    OAuthError { status: StatusCode::BAD_REQUEST, code, description: description.to_string() }
}

fn invalid_client(description: &str) -> OAuthError {
    OAuthError { status: StatusCode::UNAUTHORIZED, code: "invalid_client", description: description.to_string() }
}

/// A form body's parameters; a parameter sent twice is an error (RFC 6749 §3.1, §3.2).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ctype.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return Err(bad("invalid_request", "the body must be application/x-www-form-urlencoded"));
        }
        Self::from_pairs(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(seen, _)| seen == k) {
                return Err(bad("invalid_request", &format!("parameter {k} is repeated")));
            }
        }
        Ok(Self(pairs))
    }

    /// A parameter; empty values count as missing (RFC 6749 §3.1).
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn require(&self, key: &str) -> Result<&str, OAuthError> {
        self.get(key).ok_or_else(|| bad("invalid_request", &format!("missing parameter {key}")))
    }
}

fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Client authentication (RFC 6749 §2.3.1): HTTP Basic (id and secret
/// form-encoded, then base64) or `client_id`/`client_secret` in the body,
/// not both. A public client (registered without a secret) sends only its
/// `client_id`. Returns the client id.
fn authenticate_client(st: &State, headers: &HeaderMap, form: &Form) -> Result<String, OAuthError> {
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim().to_string())
    });
    let (id, secret) = match basic {
        Some(b64) => {
            if form.get("client_secret").is_some() {
                return Err(bad("invalid_request", "more than one client authentication method"));
            }
            let decoded = STANDARD.decode(b64).ok().and_then(|b| String::from_utf8(b).ok());
            let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
                return Err(invalid_client("malformed Basic credentials"));
            };
            let (id, secret) = (form_decode(id), form_decode(secret));
            if form.get("client_id").is_some_and(|f| f != id) {
                return Err(bad("invalid_request", "client_id does not match the Basic credentials"));
            }
            (id, Some(secret))
        }
        None => {
            let Some(id) = form.get("client_id") else {
                return Err(invalid_client("client authentication failed: no client_id"));
            };
            (id.to_string(), form.get("client_secret").map(String::from))
        }
    };
    let Some(expected) = st.clients.get(&id) else {
        return Err(invalid_client(&format!("unknown client {id}")));
    };
    let ok = match (expected.is_empty(), secret.as_deref()) {
        (true, None) => true,
        (true, Some(s)) => s.is_empty(),
        (false, Some(s)) => s == expected,
        (false, None) => false,
    };
    if !ok {
        return Err(invalid_client("client authentication failed"));
    }
    Ok(id)
}

fn scopes(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// `requested` ⊆ `granted` (RFC 6749 §6: a refresh may narrow, never widen).
fn within(requested: &str, granted: &str) -> bool {
    let granted = scopes(granted);
    scopes(requested).iter().all(|s| granted.contains(s))
}

fn token_response(access: &str, lifetime: u64, scope: Option<&str>, refresh: Option<&str>) -> Response {
    let mut body = json!({"access_token": access, "token_type": "Bearer", "expires_in": lifetime});
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    no_store((StatusCode::OK, axum::Json(body)).into_response())
}

/// `POST /token`.
pub async fn token(AxState(state): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = lock(&state);
    let form = match Form::parse(&headers, &body) {
        Ok(f) => f,
        Err(e) => {
            st.grant_requests.push(String::new());
            return e.into_response();
        }
    };
    let grant = form.get("grant_type").unwrap_or("").to_string();
    st.grant_requests.push(grant.clone());
    match grant.as_str() {
        "" => Err(bad("invalid_request", "missing parameter grant_type")),
        "client_credentials" => client_credentials(&mut st, &headers, &form),
        "refresh_token" => refresh_token(&mut st, &headers, &form),
        "authorization_code" => authorization_code(&mut st, &headers, &form),
        DEVICE_CODE => device_code(&mut st, &headers, &form),
        JWT_BEARER => jwt_bearer(&mut st, &form),
        other => Err(bad("unsupported_grant_type", &format!("grant_type {other} is not supported"))),
    }
    .unwrap_or_else(IntoResponse::into_response)
}

/// RFC 6749 §4.4, as Microsoft's identity platform does it: a confidential
/// client, `scope` = `<resource>/.default`, an app-only token, no refresh token.
fn client_credentials(st: &mut State, headers: &HeaderMap, form: &Form) -> Result<Response, OAuthError> {
    let client = authenticate_client(st, headers, form)?;
    if st.clients.get(&client).is_some_and(String::is_empty) {
        return Err(bad("unauthorized_client", "a public client cannot use client_credentials"));
    }
    let scope = form.require("scope")?;
    if scopes(scope).iter().any(|s| !s.ends_with("/.default")) {
        return Err(bad("invalid_scope", "client_credentials takes only <resource>/.default scopes"));
    }
    let access = st.issue_access(&client, None, &client, APP_PERMISSIONS, None);
    Ok(token_response(&access, st.access_lifetime, None, None))
}

/// RFC 6749 §6 with rotation: the used refresh token is spent.
fn refresh_token(st: &mut State, headers: &HeaderMap, form: &Form) -> Result<Response, OAuthError> {
    let client = authenticate_client(st, headers, form)?;
    let presented = form.require("refresh_token")?.to_string();
    let Some(old) = st.refresh.get(&presented).cloned() else {
        return Err(bad("invalid_grant", "unknown refresh token"));
    };
    if old.client_id != client {
        return Err(bad("invalid_grant", "the refresh token was issued to another client"));
    }
    match old.state {
        RefreshState::Valid => {}
        RefreshState::Used => return Err(bad("invalid_grant", "the refresh token was already used")),
        RefreshState::Revoked => return Err(bad("invalid_grant", "the refresh token has been revoked")),
    }
    let scope = match form.get("scope") {
        Some(s) if !within(s, &old.scope) => return Err(bad("invalid_scope", "scope exceeds the original grant")),
        Some(s) => s.to_string(),
        None => old.scope.clone(),
    };
    if let Some(t) = st.refresh.get_mut(&presented) {
        t.state = RefreshState::Used;
    }
    let from = old.from_code.as_deref();
    let access = st.issue_access(&client, Some(&old.username), &old.username, &scope, from);
    let refresh = st.issue_refresh(&client, &old.username, &old.scope, from);
    Ok(token_response(&access, st.access_lifetime, Some(&scope), Some(&refresh)))
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.6. A replayed code is refused and the
/// tokens issued from it are revoked (RFC 6749 §4.1.2).
fn authorization_code(st: &mut State, headers: &HeaderMap, form: &Form) -> Result<Response, OAuthError> {
    let client = authenticate_client(st, headers, form)?;
    let code_value = form.require("code")?.to_string();
    let redirect_uri = form.require("redirect_uri")?;
    let Some(code) = st.codes.get(&code_value).cloned() else {
        return Err(bad("invalid_grant", "unknown authorization code"));
    };
    if code.used {
        for t in st.access.values_mut().filter(|t| t.from_code.as_deref() == Some(&code_value)) {
            t.revoked = true;
        }
        for t in st.refresh.values_mut().filter(|t| t.from_code.as_deref() == Some(&code_value)) {
            t.state = RefreshState::Revoked;
        }
        return Err(bad("invalid_grant", "the authorization code was already used"));
    }
    if code.client_id != client {
        return Err(bad("invalid_grant", "the authorization code was issued to another client"));
    }
    if unix_now() >= code.expires_at {
        return Err(bad("invalid_grant", "the authorization code has expired"));
    }
    if code.redirect_uri != redirect_uri {
        return Err(bad("invalid_grant", "redirect_uri does not match the authorization request"));
    }
    let Some(verifier) = form.get("code_verifier") else {
        return Err(bad("invalid_grant", "code_verifier is required (PKCE)"));
    };
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return Err(bad("invalid_request", "code_verifier must be 43-128 unreserved characters"));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    if URL_SAFE_NO_PAD.encode(digest.as_ref()) != code.challenge {
        return Err(bad("invalid_grant", "code_verifier does not match the code_challenge"));
    }
    if let Some(c) = st.codes.get_mut(&code_value) {
        c.used = true;
    }
    let user = code.username.clone();
    let access = st.issue_access(&client, Some(&user), &user, &code.scope, Some(&code_value));
    let refresh = st.issue_refresh(&client, &user, &code.scope, Some(&code_value));
    Ok(token_response(&access, st.access_lifetime, Some(&code.scope), Some(&refresh)))
}

/// RFC 8628 §3.4-3.5.
fn device_code(st: &mut State, headers: &HeaderMap, form: &Form) -> Result<Response, OAuthError> {
    let client = authenticate_client(st, headers, form)?;
    let code = form.require("device_code")?;
    let Some(i) = st.devices.iter().position(|d| d.device_code == code && d.client_id == client) else {
        return Err(bad("invalid_grant", "unknown device code"));
    };
    let now = unix_now();
    let grant = &mut st.devices[i];
    if grant.status == DeviceStatus::Done {
        return Err(bad("invalid_grant", "the device code was already exchanged"));
    }
    if now >= grant.expires_at {
        return Err(bad("expired_token", "the device code has expired"));
    }
    if grant.status == DeviceStatus::Denied {
        return Err(bad("access_denied", "the user declined the authorization request"));
    }
    let at = Instant::now();
    let too_soon = grant.last_poll.is_some_and(|last| at.duration_since(last) < Duration::from_secs(grant.interval));
    grant.last_poll = Some(at);
    if too_soon {
        // "the interval MUST be increased by 5 seconds for this and all subsequent requests"
        grant.interval += 5;
        return Err(bad("slow_down", &format!("polling too fast; interval is now {} s", grant.interval)));
    }
    let DeviceStatus::Approved(user) = grant.status.clone() else {
        return Err(bad("authorization_pending", "the user has not yet completed authorization"));
    };
    grant.status = DeviceStatus::Done;
    let scope = grant.scope.clone();
    let access = st.issue_access(&client, Some(&user), &user, &scope, None);
    let refresh = st.issue_refresh(&client, &user, &scope, None);
    Ok(token_response(&access, st.access_lifetime, Some(&scope), Some(&refresh)))
}

/// RFC 7523 §2.1 and §3 as Google's token endpoint applies it to service
/// accounts (error texts after Google's).
fn jwt_bearer(st: &mut State, form: &Form) -> Result<Response, OAuthError> {
    let assertion = form.require("assertion")?;
    let Some(jwt) = jwt::parse(assertion) else {
        return Err(bad("invalid_grant", "Invalid JWT: the assertion is not a JWS compact serialization"));
    };
    if jwt.header["alg"] != "RS256" {
        return Err(bad("invalid_grant", "Invalid JWT: alg must be RS256"));
    }
    let Some(iss) = jwt.claims["iss"].as_str() else {
        return Err(bad("invalid_grant", "Invalid JWT: no iss"));
    };
    let Some(account) = st.service_accounts.get(iss).cloned() else {
        return Err(bad("invalid_grant", "Invalid JWT Signature."));
    };
    if let Some(kid) = jwt.header["kid"].as_str()
        && kid != account.key_id
    {
        return Err(bad("invalid_grant", "Invalid JWT Signature."));
    }
    if !jwt.verify(&account.public_key) {
        return Err(bad("invalid_grant", "Invalid JWT Signature."));
    }
    let token_url = st.token_url();
    let aud_ok = match &jwt.claims["aud"] {
        Value::String(a) => *a == token_url,
        Value::Array(a) => a.iter().any(|v| v.as_str() == Some(&token_url)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("invalid_grant", "Invalid JWT: aud must be the token endpoint"));
    }
    let (Some(iat), Some(exp)) = (jwt.claims["iat"].as_u64(), jwt.claims["exp"].as_u64()) else {
        return Err(bad("invalid_grant", "Invalid JWT: iat and exp are required"));
    };
    let now = unix_now();
    if exp <= now || iat > now + 60 || exp < iat || exp - iat > 3600 {
        return Err(bad(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        ));
    }
    let Some(scope) = jwt.claims["scope"].as_str().filter(|s| !s.trim().is_empty()) else {
        return Err(bad("invalid_scope", "Invalid oauth scope or ID token audience provided."));
    };
    let user = match jwt.claims["sub"].as_str() {
        Some(sub) if sub != iss => {
            if !st.users.iter().any(|u| u == sub) || st.revoked_users.contains(sub) {
                return Err(bad("invalid_grant", "Invalid email or User ID"));
            }
            sub.to_string()
        }
        _ => iss.to_string(),
    };
    let access = st.issue_access(iss, Some(&user), &user, scope, None);
    Ok(token_response(&access, st.access_lifetime, Some(scope), None))
}

/// The RFC 8628 user code alphabet: no vowels, no look-alikes (§6.1).
const USER_CODE_CHARS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

fn user_code() -> String {
    let raw = random_token("");
    let chars: Vec<char> =
        raw.bytes().take(8).map(|b| USER_CODE_CHARS[b as usize % USER_CODE_CHARS.len()] as char).collect();
    format!("{}-{}", chars[..4].iter().collect::<String>(), chars[4..].iter().collect::<String>())
}

/// `POST /devicecode` (RFC 8628 §3.1-3.2).
pub async fn device_authorization(AxState(state): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut st = lock(&state);
    let form = match Form::parse(&headers, &body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let client = match authenticate_client(&st, &headers, &form) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(scope) = form.get("scope") else {
        return bad("invalid_request", "missing parameter scope").into_response();
    };
    let device_code = random_token("dc_");
    let user_code = user_code();
    let interval = st.device_interval;
    st.devices.push(DeviceGrant {
        device_code: device_code.clone(),
        user_code: user_code.clone(),
        client_id: client,
        scope: scope.to_string(),
        expires_at: unix_now() + DEVICE_CODE_LIFETIME,
        interval,
        last_poll: None,
        status: DeviceStatus::Pending,
    });
    let verification_uri = format!("{}/device", st.base_url);
    no_store(
        (
            StatusCode::OK,
            axum::Json(json!({
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": verification_uri,
                "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
                "expires_in": DEVICE_CODE_LIFETIME,
                "interval": interval,
                "message": format!("To sign in, open {verification_uri} and enter the code {user_code}."),
            })),
        )
            .into_response(),
    )
}

/// `GET /device`: where the user would enter the code (tests approve with
/// `OAuthServer::approve_device`).
pub async fn device_page() -> Response {
    (StatusCode::OK, "Enter the code shown on your device.").into_response()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{sep}{}", query.join("&"));
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// `GET /authorize` (RFC 6749 §4.1.1-4.1.2.1, RFC 7636 §4.3-4.4): approves
/// at once for `login_hint` or the user added last.
pub async fn authorize(AxState(state): AxState<Shared>, RawQuery(query): RawQuery) -> Response {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let form = match Form::from_pairs(pairs) {
        Ok(f) => f,
        Err(_) => return (StatusCode::BAD_REQUEST, "a parameter is repeated").into_response(),
    };
    let mut st = lock(&state);
    // Without a valid client and redirect URI the user is told, not redirected (§4.1.2.1).
    let Some(client) = form.get("client_id").filter(|c| st.clients.contains_key(*c)) else {
        return (StatusCode::BAD_REQUEST, "unknown or missing client_id").into_response();
    };
    let Some(redirect_uri) = form.get("redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "missing redirect_uri").into_response();
    };
    let state_param = form.get("state");
    let fail = |code: &str, description: &str| {
        let mut params = vec![("error", code), ("error_description", description)];
        if let Some(s) = state_param {
            params.push(("state", s));
        }
        redirect(redirect_uri, &params)
    };
    if form.get("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    let Some(challenge) = form.get("code_challenge") else {
        return fail("invalid_request", "code_challenge is required (PKCE)");
    };
    if form.get("code_challenge_method") != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    let user = match form.get("login_hint") {
        Some(hint) => st.users.iter().find(|u| u.eq_ignore_ascii_case(hint)).cloned(),
        None => st.users.last().cloned(),
    };
    let Some(user) = user else {
        return fail("access_denied", "no such user");
    };
    let code = random_token("ac_");
    let scope = form.get("scope").unwrap_or("").to_string();
    st.revoked_users.remove(&user);
    st.codes.insert(
        code.clone(),
        AuthCode {
            client_id: client.to_string(),
            redirect_uri: redirect_uri.to_string(),
            challenge: challenge.to_string(),
            username: user,
            scope,
            expires_at: unix_now() + CODE_LIFETIME,
            used: false,
        },
    );
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = state_param {
        params.push(("state", s));
    }
    redirect(redirect_uri, &params)
}

/// `POST /introspect` (RFC 7662 §2.1-2.2).
pub async fn introspect(AxState(state): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let st = lock(&state);
    let form = match Form::parse(&headers, &body) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some(token) = form.get("token") else {
        return bad("invalid_request", "missing parameter token").into_response();
    };
    let now = unix_now();
    let body = match st.access.get(token).filter(|t| t.active(now)) {
        None => json!({"active": false}),
        Some(t) => {
            let mut v = json!({
                "active": true,
                "scope": t.scope,
                "client_id": t.client_id,
                "sub": t.sub,
                "exp": t.exp,
                "iat": t.iat,
                "token_type": "Bearer",
                "idtyp": if t.username.is_some() { "user" } else { "app" },
            });
            if let Some(u) = &t.username {
                v["username"] = json!(u);
            }
            v
        }
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}
