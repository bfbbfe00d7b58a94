//! `POST /webhooks/jira`: Jira system webhooks, signed with HMAC-SHA256
//! under `[notify] webhook_secret`; deduplicated by
//! `X-Atlassian-Webhook-Identifier`.
//!
//! Without a secret the endpoint answers 503: anyone who can reach it could
//! otherwise make mailgate mail whomever a forged event names. The signature
//! is checked before anything else is said about the call, and refusals are
//! logged with the caller's address (never the signature or the secret).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use super::AdminState;
use crate::notify::webhook::{PayloadError, parse_payload, signature_valid};

fn answer(status: StatusCode, v: serde_json::Value) -> Response {
    (status, axum::Json(v)).into_response()
}

pub async fn receive(
    State(state): State<AdminState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = peer.ip();
    let Some(secret) = &state.webhook_secret else {
        tracing::warn!(%client, "webhook refused: [notify] webhook_secret is not set, so no call can be trusted");
        return answer(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({"error": "webhooks are not configured"}));
    };
    let sig = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    if !signature_valid(secret.expose_secret().as_bytes(), &body, sig) {
        tracing::warn!(%client, signed = sig.is_some(), "webhook refused: missing or bad signature");
        return answer(StatusCode::UNAUTHORIZED, serde_json::json!({"error": "missing or bad signature"}));
    }
    let Some(notifier) = state.notifier.clone() else {
        tracing::warn!(%client, "webhook refused: notifications are off (no [smtp])");
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"error": "notifications are not configured"}),
        );
    };
    let event = match parse_payload(&body) {
        Ok(Some(e)) => e,
        Ok(None) => return answer(StatusCode::OK, serde_json::json!({"ignored": "covered by another event"})),
        Err(PayloadError::Unsupported(name)) => {
            return answer(StatusCode::OK, serde_json::json!({"ignored": format!("event {name} is not notified")}));
        }
        Err(e) => return answer(StatusCode::BAD_REQUEST, serde_json::json!({"error": e.to_string()})),
    };
    let delivery = headers
        .get("x-atlassian-webhook-identifier")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .unwrap_or_else(|| format!("event:{}", event.id));
    let now = notifier.clock.now_ms();
    match notifier.store.note_delivery(&delivery, &event.id, now).await {
        Ok(false) => return answer(StatusCode::OK, serde_json::json!({"duplicate": true, "event": event.id})),
        Ok(true) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot record webhook delivery");
            return answer(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({"error": "try again"}));
        }
    }
    match notifier.queue(&event).await {
        Ok(new) => answer(StatusCode::ACCEPTED, serde_json::json!({"event": event.id, "new": new})),
        Err(e) => {
            tracing::error!(error = %e, "cannot queue webhook event");
            answer(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({"error": "try again"}))
        }
    }
}
