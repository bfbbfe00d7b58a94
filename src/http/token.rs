//! `/api/token`: status, set, verify, clear.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Deserialize;

use super::{AdminState, ApiError};
use crate::domain::JiraLogin;
use crate::identity::TokenStatus;

/// The token arrives in the body, never in the URL. No `Debug`: it holds a secret.
#[derive(Deserialize)]
struct SetToken {
    user: String,
    token: SecretString,
    expires: Option<chrono::NaiveDate>,
}

async fn status(State(s): State<AdminState>) -> Result<axum::Json<TokenStatus>, ApiError> {
    Ok(axum::Json(s.tokens.status().await?))
}

async fn set(State(s): State<AdminState>, body: axum::Json<SetToken>) -> Result<axum::Json<TokenStatus>, ApiError> {
    let user = JiraLogin::parse(&body.user).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let status = s.tokens.set(&user, &body.token, body.expires).await.map_err(|e| match e {
        crate::identity::TokenError::Invalid(m) => ApiError::BadRequest(m),
        other => ApiError::from(other),
    })?;
    Ok(axum::Json(status))
}

async fn verify(State(s): State<AdminState>) -> Result<Response, ApiError> {
    match s.tokens.verify().await {
        Ok(who) => Ok((StatusCode::OK, axum::Json(serde_json::json!({"ok": true, "user": who}))).into_response()),
        Err(e) => Err(ApiError::Unavailable(format!("token verification failed: {e}"))),
    }
}

async fn clear(State(s): State<AdminState>) -> Result<Response, ApiError> {
    let removed = s.tokens.clear().await?;
    Ok((StatusCode::OK, axum::Json(serde_json::json!({"removed": removed}))).into_response())
}

pub fn router() -> Router<AdminState> {
    Router::new().route("/api/token", get(status).put(set).delete(clear)).route("/api/token/verify", post(verify))
}
