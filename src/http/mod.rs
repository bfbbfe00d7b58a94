//! The admin HTTP API (axum): token configuration, statistics and health.
//! Every route but `/healthz`, `/readyz`, `/metrics` and the webhook needs
//! `Authorization: Bearer <admin api_key>` (see [`auth`]). JSON in and out
//! (`/metrics`: Prometheus text); the token is accepted, never returned.
//! Bodies are capped ([`API_BODY_LIMIT`], [`WEBHOOK_BODY_LIMIT`]), request
//! types refuse unknown fields and list limits are bounded ([`extract`]).

mod audit;
mod auth;
mod bounces;
mod error;
mod extract;
mod limit;
mod listen;
mod stats;
mod token;
mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use secrecy::SecretString;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::{AdminTls, ApiKeyError};
use crate::identity::{TokenService, TokenState};
use crate::notify::Notifier;
use crate::store::Store;

pub use auth::AdminKey;
pub use error::ApiError;
pub use extract::MAX_LIMIT;
pub use limit::{MAX_FAILURES, WINDOW_MS};
pub use listen::ServeError;
pub use token::MAX_EXPIRY_DAYS;

/// Largest request body of the JSON endpoints (a token is a few hundred bytes).
pub const API_BODY_LIMIT: usize = 64 * 1024;
/// Largest webhook body: Jira sends the whole issue, comments included.
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AdminState {
    pub tokens: Arc<TokenService>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    api_key: AdminKey,
    auth_failures: Arc<limit::FailureLimiter>,
    /// Receives Jira webhooks; `None` when notifications are off.
    notifier: Option<Arc<Notifier>>,
    /// Without it the webhook answers 503: unsigned calls are never trusted.
    webhook_secret: Option<Arc<SecretString>>,
}

impl AdminState {
    /// The API behind `api_key`, webhooks off. The key is held to the
    /// configuration's rules ([`crate::config::check_api_key`]).
    pub fn new(
        tokens: Arc<TokenService>,
        store: Store,
        clock: Arc<dyn Clock>,
        api_key: &SecretString,
    ) -> Result<Self, ApiKeyError> {
        Ok(Self {
            tokens,
            store,
            clock,
            api_key: AdminKey::new(api_key)?,
            auth_failures: Arc::new(limit::FailureLimiter::new()),
            notifier: None,
            webhook_secret: None,
        })
    }

    /// Take Jira webhooks into `notifier`, signed with `secret`.
    pub fn with_webhooks(mut self, notifier: Option<Arc<Notifier>>, secret: Option<SecretString>) -> Self {
        self.notifier = notifier;
        self.webhook_secret = secret.map(Arc::new);
        self
    }
}

async fn healthz(State(state): State<AdminState>) -> Response {
    match state.tokens.status().await {
        Ok(s) => {
            let degraded = matches!(s.state, TokenState::Expired | TokenState::Failed);
            let body = serde_json::json!({
                "status": if degraded { "degraded" } else { "ok" },
                "token": {"state": s.state, "days_left": s.days_left, "expires_on": s.expires_on},
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub fn router(state: AdminState) -> Router {
    let api = token::router()
        .merge(stats::router())
        .merge(audit::router())
        .merge(bounces::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_key));
    Router::new()
        .route("/webhooks/jira", axum::routing::post(webhook::receive).layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT)))
        .route("/healthz", get(healthz))
        .merge(stats::public_router())
        .merge(api)
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .with_state(state)
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            break;
        }
    }
}

/// Bind the admin API, over HTTPS when `tls` is given; returns the bound
/// address (port 0 picks a free one). Handlers see the caller's address
/// (`ConnectInfo<SocketAddr>`) for logs and the failure throttle.
pub async fn serve(
    listen: &str,
    tls: Option<&AdminTls>,
    state: AdminState,
    stop: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ServeError> {
    let acceptor = tls.map(listen::tls_acceptor).transpose()?;
    let bind_err = |source| ServeError::Bind { listen: listen.to_string(), source };
    let tcp = tokio::net::TcpListener::bind(listen).await.map_err(bind_err)?;
    let addr = tcp.local_addr().map_err(bind_err)?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = match acceptor {
        None => tokio::spawn(async move {
            if let Err(e) = axum::serve(tcp, app).with_graceful_shutdown(stopped(stop)).await {
                tracing::error!(error = %e, "admin API stopped");
            }
        }),
        Some(acceptor) => {
            // `tap_io` only to get axum's `ConnectInfo<SocketAddr>` impl for
            // a listener of ours (the orphan rule forbids writing it here).
            let listener = listen::TlsListener::new(tcp, acceptor).map_err(bind_err)?.tap_io(|_| {});
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped(stop)).await {
                    tracing::error!(error = %e, "admin API stopped");
                }
            })
        }
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, "admin API listening");
    Ok((addr, handle))
}

#[cfg(test)]
mod tests;
