//! `/api/log` (processing log, filtered) and `/api/audit` (per-mail trail).

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::{AdminState, ApiError};
use crate::store::{AuditEntry, AuditFilter, LogEntry, LogFilter};

async fn log(State(s): State<AdminState>, Query(f): Query<LogFilter>) -> Result<axum::Json<Vec<LogEntry>>, ApiError> {
    Ok(axum::Json(s.store.log_entries(&f).await?))
}

#[derive(Deserialize)]
struct AuditQuery {
    inbound_id: Option<i64>,
    message_id: Option<String>,
    since_ms: Option<i64>,
    limit: Option<i64>,
}

async fn audit(
    State(s): State<AdminState>,
    Query(q): Query<AuditQuery>,
) -> Result<axum::Json<Vec<AuditEntry>>, ApiError> {
    let f = AuditFilter {
        inbound_id: q.inbound_id,
        message_id: q.message_id,
        since_ms: q.since_ms,
        limit: q.limit.unwrap_or(200),
    };
    Ok(axum::Json(s.store.audit_entries(&f).await?))
}

pub fn router() -> Router<AdminState> {
    Router::new().route("/api/log", get(log)).route("/api/audit", get(audit))
}
