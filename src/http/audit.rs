//! `/api/log` (processing log, filtered) and `/api/audit` (per-mail trail).
//! Both return at most [`MAX_LIMIT`](super::extract::MAX_LIMIT) rows.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;

use super::extract::{ApiQuery, clamp_limit};
use super::{AdminState, ApiError};
use crate::store::{AuditEntry, AuditFilter, LogEntry, LogFilter};

/// Rows when the caller gives no `limit`.
const DEFAULT_LOG_LIMIT: i64 = 50;
const DEFAULT_AUDIT_LIMIT: i64 = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    issue: Option<String>,
    status: Option<String>,
    mailbox: Option<String>,
    message_id: Option<String>,
    limit: Option<i64>,
}

async fn log(
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<axum::Json<Vec<LogEntry>>, ApiError> {
    let f = LogFilter {
        issue: q.issue,
        status: q.status,
        mailbox: q.mailbox,
        message_id: q.message_id,
        limit: Some(clamp_limit(q.limit, DEFAULT_LOG_LIMIT)?),
    };
    Ok(axum::Json(s.store.log_entries(&f).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    inbound_id: Option<i64>,
    message_id: Option<String>,
    since_ms: Option<i64>,
    limit: Option<i64>,
}

async fn audit(
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<axum::Json<Vec<AuditEntry>>, ApiError> {
    let f = AuditFilter {
        inbound_id: q.inbound_id,
        message_id: q.message_id,
        since_ms: q.since_ms,
        limit: clamp_limit(q.limit, DEFAULT_AUDIT_LIMIT)?,
    };
    Ok(axum::Json(s.store.audit_entries(&f).await?))
}

pub fn router() -> Router<AdminState> {
    Router::new().route("/api/log", get(log)).route("/api/audit", get(audit))
}
