//! Webhooks are missed while mailgate is down. At start and every few
//! minutes a bounded JQL search (`updated >= cursor`) raises the events not
//! seen yet; event ids match the webhook's, so nothing is notified twice.
//! The cursor goes into JQL as a relative date (`-15m`): Jira reads a date
//! without a zone in the API user's time zone (`timeZone` of `/myself`), so
//! a UTC date would miss events for every user west of UTC; a relative
//! date means the same in every zone.

use serde_json::Value;

use super::Notifier;
use super::event::{CommentInfo, EventKind, Origin, Visibility};
use super::webhook::{event_from_issue, person};
use crate::jira::{JiraError, adf_to_text, jql_string};

const CURSOR: &str = "catchup.since_ms";
/// Overlap with the previous search, for clock skew and slow indexing.
const OVERLAP_MS: i64 = 2 * 60_000;
const FIELDS: &[&str] = &["summary", "status", "project", "reporter", "assignee", "created", "updated", "comment"];

#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    #[error(transparent)]
    Jira(#[from] JiraError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// `since` as a JQL relative date from `now`, rounded up to whole minutes.
fn jql_since(now: i64, since: i64) -> String {
    let minutes = (now - since).max(0) / 60_000 + 1;
    format!("-{minutes}m")
}

fn millis(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z").ok().map(|t| t.timestamp_millis())
}

/// One catch-up pass. The first pass only sets the cursor (history is not
/// replayed). Returns how many new events were queued.
pub async fn catch_up(n: &Notifier, max_issues: usize) -> Result<usize, CatchUpError> {
    let now = n.clock.now_ms();
    let Some(since) = n.store.kv_get(CURSOR).await?.and_then(|v| v.parse::<i64>().ok()) else {
        n.store.kv_set(CURSOR, &now.to_string(), now).await?;
        return Ok(0);
    };
    // JQL has minute precision: search from the minute before, filter exactly below.
    let from = since - OVERLAP_MS;
    let jql = format!("updated >= {} ORDER BY updated ASC", jql_string(&jql_since(now, from)));
    let issues = n.jira.search_issues(&jql, FIELDS, max_issues).await?;
    let mut queued = 0;
    for issue in &issues {
        queued += events_of(n, issue, from).await?;
    }
    if issues.len() >= max_issues {
        tracing::warn!(max_issues, "catch-up hit its bound; the rest follows on the next pass");
        // Move only as far as the last issue seen.
        let last = issues.last().and_then(|i| i["fields"]["updated"].as_str()).and_then(millis).unwrap_or(now);
        n.store.kv_set(CURSOR, &last.to_string(), now).await?;
    } else {
        n.store.kv_set(CURSOR, &now.to_string(), now).await?;
    }
    if queued > 0 {
        tracing::info!(queued, "catch-up raised missed events");
    }
    Ok(queued)
}

async fn events_of(n: &Notifier, issue: &Value, from: i64) -> Result<usize, CatchUpError> {
    let Some(key) = issue["key"].as_str() else { return Ok(0) };
    let f = &issue["fields"];
    let updated = f["updated"].as_str().unwrap_or_default();
    let created_ms = f["created"].as_str().and_then(millis).unwrap_or(0);
    let comments: Vec<&Value> = f["comment"]["comments"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let mut queued = 0;
    if created_ms >= from {
        if let Some(e) = event_from_issue(issue, EventKind::IssueCreated, Origin::CatchUp, format!("created:{key}")) {
            queued += usize::from(n.queue(&e).await?);
        }
    } else if !comments.iter().any(|c| c["updated"].as_str() == Some(updated)) {
        // An update not made by a comment (a comment raises its own event).
        if let Some(e) =
            event_from_issue(issue, EventKind::IssueUpdated, Origin::CatchUp, format!("updated:{key}:{updated}"))
        {
            queued += usize::from(n.queue(&e).await?);
        }
    }
    for c in comments {
        let Some(id) = c["id"].as_str() else { continue };
        if c["created"].as_str().and_then(millis).is_none_or(|t| t < from) {
            continue;
        }
        if let Some(mut e) =
            event_from_issue(issue, EventKind::CommentCreated, Origin::CatchUp, format!("comment:{id}"))
        {
            let body = match &c["body"] {
                Value::String(s) => s.clone(),
                other => adf_to_text(other),
            };
            let visibility = Visibility::of_comment(c);
            e.comment = Some(CommentInfo { id: id.to_string(), author: person(&c["author"]), body, visibility });
            queued += usize::from(n.queue(&e).await?);
        }
    }
    Ok(queued)
}
