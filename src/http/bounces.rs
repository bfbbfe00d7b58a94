//! `/api/bounces`: the suppressed addresses (`?all=true`: with expired
//! ones), and `DELETE /api/bounces/{address}` to notify an address again.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Deserialize;

use super::{AdminState, ApiError};
use crate::domain::EmailAddress;
use crate::store::BouncingAddress;

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    all: bool,
}

async fn list(
    State(s): State<AdminState>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<BouncingAddress>>, ApiError> {
    Ok(axum::Json(s.store.bouncing_addresses(s.clock.now_ms(), q.all).await?))
}

/// 200 with `removed: true`, or 404 when the address was not suppressed
/// (so a typo is not mistaken for success).
async fn clear(State(s): State<AdminState>, Path(address): Path<String>) -> Result<Response, ApiError> {
    let addr = EmailAddress::parse(&address).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let removed = s.store.clear_bouncing(&addr).await?;
    let status = if removed { StatusCode::OK } else { StatusCode::NOT_FOUND };
    Ok((status, axum::Json(serde_json::json!({"address": addr.as_ref(), "removed": removed}))).into_response())
}

pub fn router() -> Router<AdminState> {
    Router::new().route("/api/bounces", get(list)).route("/api/bounces/{address}", delete(clear))
}
