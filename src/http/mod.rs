//! The admin HTTP API (axum): token configuration, statistics and health.
//! Every route but `/healthz`, `/readyz`, `/metrics` and the webhook needs
//! `Authorization: Bearer <admin api_key>`. JSON in and out (`/metrics`:
//! Prometheus text); the token is accepted, never returned.

mod audit;
mod bounces;
mod error;
mod stats;
mod token;
mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::identity::{TokenService, TokenState};
use crate::notify::Notifier;
use crate::store::Store;

pub use error::ApiError;

#[derive(Clone)]
pub struct AdminState {
    pub tokens: Arc<TokenService>,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub api_key: Arc<SecretString>,
    /// Receives Jira webhooks; `None` when notifications are off.
    pub notifier: Option<Arc<Notifier>>,
    pub webhook_secret: Option<Arc<SecretString>>,
}

/// Compare without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn require_key(State(state): State<AdminState>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(given.as_bytes(), state.api_key.expose_secret().as_bytes()) {
        tracing::warn!(path = %req.uri().path(), "admin API call without a valid key");
        return ApiError::Unauthorized.into_response();
    }
    next.run(req).await
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
        .layer(axum::middleware::from_fn_with_state(state.clone(), require_key));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/webhooks/jira", axum::routing::post(webhook::receive))
        .merge(stats::public_router())
        .merge(api)
        .with_state(state)
}

/// Bind the admin API; returns the bound address (port 0 picks a free one).
pub async fn serve(
    listen: &str,
    state: AdminState,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = router(state);
    let handle = tokio::spawn(async move {
        let shutdown = async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %e, "admin API stopped");
        }
    });
    tracing::info!(%addr, "admin API listening");
    Ok((addr, handle))
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn keys_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
