//! `/api/token`: status, set, verify, clear.
//!
//! An expiry given with `PUT` must fall after today and at most
//! [`MAX_EXPIRY_DAYS`] ahead. Atlassian Cloud API tokens created since
//! December 2024 expire within 1 to 365 days
//! (<https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/>);
//! the slack covers a date read off in another time zone or rounded up to a
//! month's end. A date years ahead is a typo, and would silence the expiry
//! warnings: a longer-lived Data Center token is better entered with an
//! earlier date (warned too early, never too late).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use secrecy::SecretString;
use serde::Deserialize;

use super::extract::ApiJson;
use super::{AdminState, ApiError};
use crate::domain::JiraLogin;
use crate::identity::TokenStatus;

/// The furthest expiry accepted, in days after today (UTC).
pub use crate::identity::MAX_EXPIRY_DAYS;

/// The token arrives in the body, never in the URL. No `Debug`: it holds a secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetToken {
    user: String,
    token: SecretString,
    expires: Option<NaiveDate>,
}

async fn status(State(s): State<AdminState>) -> Result<axum::Json<TokenStatus>, ApiError> {
    Ok(axum::Json(s.tokens.status().await?))
}

async fn set(
    State(s): State<AdminState>,
    ApiJson(body): ApiJson<SetToken>,
) -> Result<axum::Json<TokenStatus>, ApiError> {
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
