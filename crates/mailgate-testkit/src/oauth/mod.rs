//! A small OAuth 2.0 authorization server for one test, standing in for
//! Microsoft's identity platform and Google's token endpoint: axum on a free
//! loopback port (on a thread and runtime of its own, so it answers while a
//! test blocks), all state in memory, and as strict as a real one.
//!
//! What it models, and where the shapes come from:
//! - `POST /token` (RFC 6749 §3.2, form-encoded; client authentication by
//!   `client_id`/`client_secret` form fields or HTTP Basic, §2.3.1, never
//!   both) with the grants `client_credentials` (§4.4; Microsoft's app-only
//!   tokens: the scope must be `<resource>/.default`, no refresh token),
//!   `refresh_token` (§6, rotated on every use: the used one answers
//!   `invalid_grant` afterwards), `authorization_code` with PKCE S256
//!   (§4.1, RFC 7636; the verifier is required), the RFC 8628 device code
//!   (`authorization_pending`, `slow_down` with the interval raised by 5 s,
//!   `expired_token`, `access_denied`) and the RFC 7523 JWT bearer grant as
//!   Google's service accounts use it (RS256 assertion, `iss` = the account,
//!   `aud` = the token URL, at most an hour between `iat` and `exp`,
//!   `scope`, optional `sub` = the user impersonated). Errors as RFC 6749
//!   §5.2: `{"error","error_description"}`, 400, or 401 with
//!   `WWW-Authenticate` for `invalid_client`.
//! - `POST /devicecode`: RFC 8628 §3.1-3.2 device authorization.
//! - `GET /authorize`: RFC 6749 §4.1.1 with RFC 7636 (`code_challenge`
//!   required, S256 only); approves at once for the user named by
//!   `login_hint`, else the user added last, and redirects (302) to
//!   `redirect_uri?code=…&state=…`.
//! - `POST /introspect`: RFC 7662 for resource servers (the test's Dovecot
//!   and SMTP sink). It knows access tokens only (a refresh token is not a
//!   bearer credential). Inactive → `{"active":false}` and nothing else
//!   (§2.2). Active → `active`, `scope`, `client_id`, `sub`, `exp`, `iat`,
//!   `token_type`, `idtyp` (Microsoft's claim: `user` or `app`) and, for a
//!   token that acts for a user, `username`. An app-only token
//!   (client credentials) has no user: it carries the app's permissions
//!   `IMAP.AccessAsApp SMTP.SendAsApp` as its scope, and the mail server
//!   takes the mailbox from the SASL request, as Exchange Online does for
//!   an app it allowed. RFC 7662 §2.1 wants the endpoint protected; this
//!   one is open, since only the test's own servers call it on loopback.
//!
//! Clients added with an empty secret are public clients (device code and
//! authorization code flows without a secret).

mod grants;
mod jwt;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::routing::{get, post};

pub use jwt::service_account_assertion;

/// The permissions an app-only (client credentials) token carries, as its
/// introspected `scope` (Microsoft's application permissions for IMAP and
/// SMTP).
pub const APP_PERMISSIONS: &str = "IMAP.AccessAsApp SMTP.SendAsApp";

/// Default `expires_in` of access tokens.
pub const DEFAULT_ACCESS_LIFETIME: u64 = 3600;

/// Default device code polling interval (seconds). RFC 8628 suggests 5;
/// tests run with 1 (see [`OAuthServer::set_device_interval`]).
pub const DEFAULT_DEVICE_INTERVAL: u64 = 1;

/// Seconds since the epoch: the server's one clock (for `exp`/`iat`).
pub(crate) fn unix_now() -> u64 {
    #[expect(clippy::disallowed_methods, reason = "the test OAuth server's only clock: token expiry")]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A random opaque value (base64url of 24 random bytes) with a prefix.
pub(crate) fn random_token(prefix: &str) -> String {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 24];
    ring::rand::SystemRandom::new().fill(&mut bytes).expect("system randomness");
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub client_id: String,
    /// The user it acts for (none for an app-only token).
    pub username: Option<String>,
    pub sub: String,
    pub scope: String,
    pub iat: u64,
    pub exp: u64,
    pub revoked: bool,
    /// The authorization code it was issued from (revoked if the code is replayed).
    pub from_code: Option<String>,
}

impl AccessToken {
    pub fn active(&self, now: u64) -> bool {
        !self.revoked && now < self.exp
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshState {
    Valid,
    /// Exchanged once (rotation): never again.
    Used,
    Revoked,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub client_id: String,
    pub username: String,
    pub scope: String,
    pub state: RefreshState,
    pub from_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved(String),
    Denied,
    /// Exchanged for tokens.
    Done,
}

#[derive(Debug, Clone)]
pub(crate) struct DeviceGrant {
    pub device_code: String,
    pub user_code: String,
    pub client_id: String,
    pub scope: String,
    pub expires_at: u64,
    pub interval: u64,
    pub last_poll: Option<Instant>,
    pub status: DeviceStatus,
}

#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub username: String,
    pub scope: String,
    pub expires_at: u64,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceAccount {
    pub key_id: String,
    /// DER `RSAPublicKey`.
    pub public_key: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub base_url: String,
    /// client id → secret ("" for a public client).
    pub clients: BTreeMap<String, String>,
    pub service_accounts: BTreeMap<String, ServiceAccount>,
    /// Mailbox users, in the order they were added.
    pub users: Vec<String>,
    /// Users whose grants were revoked: impersonating them (JWT bearer
    /// `sub`) fails until they are added again.
    pub revoked_users: BTreeSet<String>,
    pub access: BTreeMap<String, AccessToken>,
    pub refresh: BTreeMap<String, RefreshToken>,
    pub devices: Vec<DeviceGrant>,
    pub codes: BTreeMap<String, AuthCode>,
    pub access_lifetime: u64,
    pub device_interval: u64,
    pub grant_requests: Vec<String>,
}

impl State {
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url)
    }

    /// A new access token; returns its value.
    pub fn issue_access(
        &mut self,
        client_id: &str,
        username: Option<&str>,
        sub: &str,
        scope: &str,
        from_code: Option<&str>,
    ) -> String {
        let token = random_token("at_");
        let iat = unix_now();
        self.access.insert(
            token.clone(),
            AccessToken {
                client_id: client_id.to_string(),
                username: username.map(String::from),
                sub: sub.to_string(),
                scope: scope.to_string(),
                iat,
                exp: iat + self.access_lifetime,
                revoked: false,
                from_code: from_code.map(String::from),
            },
        );
        token
    }

    pub fn issue_refresh(&mut self, client_id: &str, username: &str, scope: &str, from_code: Option<&str>) -> String {
        let token = random_token("rt_");
        self.refresh.insert(
            token.clone(),
            RefreshToken {
                client_id: client_id.to_string(),
                username: username.to_string(),
                scope: scope.to_string(),
                state: RefreshState::Valid,
                from_code: from_code.map(String::from),
            },
        );
        token
    }

    fn add_user(&mut self, username: &str) {
        self.revoked_users.remove(username);
        self.users.retain(|u| u != username);
        self.users.push(username.to_string());
    }
}

/// A running test authorization server. Dropping it stops the server.
pub struct OAuthServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl OAuthServer {
    /// Start on a free loopback port.
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the OAuth server");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            base_url: format!("http://{addr}"),
            clients: BTreeMap::new(),
            service_accounts: BTreeMap::new(),
            users: Vec::new(),
            revoked_users: BTreeSet::new(),
            access: BTreeMap::new(),
            refresh: BTreeMap::new(),
            devices: Vec::new(),
            codes: BTreeMap::new(),
            access_lifetime: DEFAULT_ACCESS_LIFETIME,
            device_interval: DEFAULT_DEVICE_INTERVAL,
            grant_requests: Vec::new(),
        }));
        let app = router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name(format!("oauth-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })
            .expect("spawn the OAuth server thread");
        Self { addr, state, shutdown: Some(tx) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `{base}/token`
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// `{base}/devicecode` (RFC 8628 device authorization).
    pub fn device_url(&self) -> String {
        format!("{}/devicecode", self.base_url())
    }

    /// `{base}/authorize` (authorization code + PKCE S256).
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.base_url())
    }

    /// `{base}/introspect` (RFC 7662; for Dovecot and the SMTP sink).
    pub fn introspect_url(&self) -> String {
        format!("{}/introspect", self.base_url())
    }

    /// Register a client; an empty secret makes it a public client.
    pub fn add_client(&self, client_id: &str, client_secret: &str) {
        self.lock().clients.insert(client_id.to_string(), client_secret.to_string());
    }

    /// A Google-style service account: returns the JSON key file text
    /// (`type`, `client_email`, `private_key` (PKCS#8 PEM), `private_key_id`,
    /// `token_uri` = this server's token URL). Each account has its own key.
    pub fn add_service_account(&self, client_email: &str) -> String {
        let pem = jwt::generate_private_key();
        let public_key = jwt::public_key_der(&pem);
        let key_id = random_token("").chars().take(40).collect::<String>();
        let token_uri = self.token_url();
        self.lock()
            .service_accounts
            .insert(client_email.to_string(), ServiceAccount { key_id: key_id.clone(), public_key });
        let project = client_email.split('@').nth(1).and_then(|d| d.split('.').next()).unwrap_or("test-project");
        serde_json::json!({
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": client_email,
            "client_id": "100000000000000000001",
            "auth_uri": self.authorize_url(),
            "token_uri": token_uri,
        })
        .to_string()
    }

    /// A mailbox user; tokens issued for them introspect with `username`.
    /// Adding a revoked user again lifts the revocation.
    pub fn add_user(&self, username: &str) {
        self.lock().add_user(username);
    }

    /// A refresh token as if `username` had logged in through `client_id`
    /// with these (space-separated) scopes. Adds the user if needed.
    pub fn issue_refresh_token(&self, client_id: &str, username: &str, scope: &str) -> String {
        let mut st = self.lock();
        assert!(st.clients.contains_key(client_id), "issue_refresh_token: add_client({client_id:?}) first");
        if !st.users.iter().any(|u| u == username) {
            st.add_user(username);
        }
        st.revoked_users.remove(username);
        st.issue_refresh(client_id, username, scope, None)
    }

    /// `expires_in` of access tokens issued from now on (default 3600).
    pub fn set_access_lifetime(&self, secs: u64) {
        self.lock().access_lifetime = secs;
    }

    /// The `interval` of device codes issued from now on (default 1 s).
    pub fn set_device_interval(&self, secs: u64) {
        self.lock().device_interval = secs;
    }

    /// Every access token issued so far stops introspecting active (refresh
    /// tokens stay valid).
    pub fn expire_access_tokens(&self) {
        for t in self.lock().access.values_mut() {
            t.revoked = true;
        }
    }

    /// The user's refresh tokens answer `invalid_grant`, their access tokens
    /// introspect inactive, and impersonating them (JWT bearer `sub`) fails
    /// until [`add_user`](Self::add_user) or a new login.
    pub fn revoke_user(&self, username: &str) {
        let mut st = self.lock();
        for t in st.refresh.values_mut().filter(|t| t.username == username) {
            t.state = RefreshState::Revoked;
        }
        for t in st.access.values_mut().filter(|t| t.username.as_deref() == Some(username)) {
            t.revoked = true;
        }
        st.revoked_users.insert(username.to_string());
    }

    /// The user behind `user_code` approves the device (RFC 8628 §3.3).
    pub fn approve_device(&self, user_code: &str, username: &str) {
        let mut st = self.lock();
        if !st.users.iter().any(|u| u == username) {
            st.add_user(username);
        }
        st.revoked_users.remove(username);
        let grant = st
            .devices
            .iter_mut()
            .find(|d| d.user_code == user_code && d.status == DeviceStatus::Pending)
            .unwrap_or_else(|| panic!("no pending device authorization with user code {user_code}"));
        grant.status = DeviceStatus::Approved(username.to_string());
    }

    /// The user behind `user_code` declines: the next poll answers `access_denied`.
    pub fn deny_device(&self, user_code: &str) {
        let mut st = self.lock();
        if let Some(grant) = st.devices.iter_mut().find(|d| d.user_code == user_code) {
            grant.status = DeviceStatus::Denied;
        }
    }

    /// Every device code issued so far expires: polls answer `expired_token`.
    pub fn expire_device_codes(&self) {
        for d in self.lock().devices.iter_mut() {
            d.expires_at = 0;
        }
    }

    /// User codes of device authorizations still waiting for the user.
    pub fn pending_user_codes(&self) -> Vec<String> {
        let now = unix_now();
        self.lock()
            .devices
            .iter()
            .filter(|d| d.status == DeviceStatus::Pending && now < d.expires_at)
            .map(|d| d.user_code.clone())
            .collect()
    }

    /// Every token request so far as its `grant_type` (failed ones too), in order.
    pub fn grant_requests(&self) -> Vec<String> {
        self.lock().grant_requests.clone()
    }

    /// Whether `access_token` would introspect active now.
    pub fn is_active(&self, access_token: &str) -> bool {
        let now = unix_now();
        self.lock().access.get(access_token).is_some_and(|t| t.active(now))
    }

    /// A valid access token for `username` through `client_id` (test set-up,
    /// e.g. to log in to Dovecot without a client).
    pub fn issue_access_token(&self, client_id: &str, username: &str, scope: &str) -> String {
        let mut st = self.lock();
        if !st.users.iter().any(|u| u == username) {
            st.add_user(username);
        }
        st.issue_access(client_id, Some(username), username, scope, None)
    }

    /// A valid app-only access token for `client_id` (as client credentials
    /// would give it).
    pub fn issue_app_token(&self, client_id: &str) -> String {
        self.lock().issue_access(client_id, None, client_id, APP_PERMISSIONS, None)
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn router(state: Arc<Mutex<State>>) -> Router {
    Router::new()
        .route("/token", post(grants::token))
        .route("/devicecode", post(grants::device_authorization))
        .route("/device", get(grants::device_page))
        .route("/authorize", get(grants::authorize))
        .route("/introspect", post(grants::introspect))
        .with_state(state)
}
