//! `/api/log` (processing log, filtered) and `/api/audit` (per-mail trail).
//! Both return at most [`MAX_LIMIT`](super::extract::MAX_LIMIT) rows.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;

use super::extract::{ApiQuery, clamp_limit};
use super::{AdminState, ApiError};
use crate::domain::IssueKey;
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

/// An issue's conversation: where its request came in, its latest mail,
/// its requester and participants.
async fn people(
    State(s): State<AdminState>,
    axum::extract::Path(key): axum::extract::Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let key = IssueKey::parse(&key).map_err(|e| ApiError::BadRequest(format!("issue key: {e}")))?;
    let conversation = s.store.conversation(key.as_ref()).await?;
    let people = s.store.issue_people(key.as_ref()).await?;
    if conversation.is_none() && people.is_empty() {
        let message = format!("mailgate has no conversation for {key}");
        return Err(ApiError::Rejected { status: axum::http::StatusCode::NOT_FOUND, message });
    }
    let conversation = conversation.unwrap_or_default();
    Ok(axum::Json(serde_json::json!({
        "issue": key.as_ref(),
        "reply_to": conversation.reply_to,
        "last_message_id": conversation.last_message_id,
        "people": people,
    })))
}

pub fn router() -> Router<AdminState> {
    Router::new()
        .route("/api/log", get(log))
        .route("/api/audit", get(audit))
        .route("/api/issues/{key}/people", get(people))
}
