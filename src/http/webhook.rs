//! `POST /webhooks/jira`: Jira system webhooks. Signed with HMAC-SHA256 when
//! a secret is configured; deduplicated by `X-Atlassian-Webhook-Identifier`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use super::AdminState;
use crate::notify::webhook::{PayloadError, parse_payload, signature_valid};

fn answer(status: StatusCode, v: serde_json::Value) -> Response {
    (status, axum::Json(v)).into_response()
}

pub async fn receive(State(state): State<AdminState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(notifier) = state.notifier.clone() else {
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"error": "notifications are not configured"}),
        );
    };
    if let Some(secret) = &state.webhook_secret {
        let sig = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
        if !signature_valid(secret.expose_secret().as_bytes(), &body, sig) {
            tracing::warn!(signed = sig.is_some(), "webhook refused: missing or bad signature");
            return answer(StatusCode::UNAUTHORIZED, serde_json::json!({"error": "missing or bad signature"}));
        }
    }
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
