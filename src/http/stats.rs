//! Statistics and probes: `GET /api/stats`, `POST /api/stats/reset` (behind
//! the admin key), and the unauthenticated `GET /metrics` (Prometheus text)
//! and `GET /readyz`.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::{AdminState, ApiError};
use crate::stats::{Statistics, prometheus_text};

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

const EXPOSITION_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn stats(State(s): State<AdminState>) -> Result<axum::Json<Statistics>, ApiError> {
    let now = s.clock.now_ms();
    Ok(axum::Json(s.store.statistics(now).await?))
}

async fn reset(State(s): State<AdminState>) -> Result<axum::Json<Statistics>, ApiError> {
    let store = &s.store;
    let now = s.clock.now_ms();
    store.reset_statistics(now).await?;
    tracing::info!("statistics reset");
    Ok(axum::Json(store.statistics(now).await?))
}

async fn metrics(State(s): State<AdminState>) -> Result<Response, ApiError> {
    let store = &s.store;
    let stats = store.statistics(s.clock.now_ms()).await?;
    let reset_at = store.statistics_reset_at().await?;
    let token = s.tokens.status().await?;
    let days_left = token.user.as_ref().and(token.days_left);
    let body = prometheus_text(&stats, days_left, reset_at);
    Ok(([(header::CONTENT_TYPE, EXPOSITION_CONTENT_TYPE)], body).into_response())
}

async fn readyz(State(s): State<AdminState>) -> Response {
    let ready = matches!(tokio::time::timeout(READY_TIMEOUT, s.store.ping()).await, Ok(Ok(())));
    if !ready {
        tracing::warn!("readiness check: the database does not answer");
    }
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(serde_json::json!({"ready": ready}))).into_response()
}

/// Routes behind the admin key.
pub fn router() -> Router<AdminState> {
    Router::new().route("/api/stats", get(stats)).route("/api/stats/reset", post(reset))
}

/// Routes for scrapers and probes, without a key.
pub fn public_router() -> Router<AdminState> {
    Router::new().route("/metrics", get(metrics)).route("/readyz", get(readyz))
}
