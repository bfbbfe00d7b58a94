//! Issue search: `GET /rest/api/3/search/jql` (Cloud, `nextPageToken`) and
//! `GET /rest/api/2/search` (`startAt`), over the JQL forms `jql` knows.

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use super::wire::{error_collection, json_response, query_map};
use super::{FakeIssue, State, jql, model, strict};

/// Indexes of the issues matching the `jql` query parameter as the search
/// index sees them now (late by the search lag, except for the issues in
/// `reconcileIssues`), in the query's `ORDER BY key` order; or the JQL
/// error message (a 400 `ErrorCollection` for the caller).
fn search_matches(st: &State, uri: &Uri) -> Result<Vec<usize>, String> {
    let q = query_map(uri);
    let jql_text = q.get("jql").cloned().unwrap_or_default();
    let clauses = jql::parse(&jql_text, st.time_zone.1)?;
    if !st.strict.properties_searchable
        && let Some(jql::Clause::Property { name, path, .. }) =
            clauses.iter().find(|c| matches!(c, jql::Clause::Property { .. }))
    {
        // Not indexed for a REST client: Jira's answer for an unknown field.
        return Err(format!(
            "Field 'issue.property[{name}].{path}' does not exist or you do not have permission to view it."
        ));
    }
    let reconcile = reconcile_ids(uri);
    let now = std::time::Instant::now();
    let mut hits: Vec<usize> = st
        .issues
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            strict::indexed_updated(&st.strict, i, now, &reconcile)
                .is_some_and(|updated| jql::matches(i, updated, &clauses))
        })
        .map(|(n, _)| n)
        .collect();
    if let Some(desc) = jql::order_by_key(&jql_text) {
        hits.sort_by_key(|&n| key_number(&st.issues[n].key));
        if desc {
            hits.reverse();
        }
    }
    Ok(hits)
}

fn key_number(key: &str) -> u64 {
    key.rsplit_once('-').and_then(|(_, n)| n.parse().ok()).unwrap_or(0)
}

/// `reconcileIssues` ids, repeated or comma-separated (at most 50 count).
fn reconcile_ids(uri: &Uri) -> Vec<String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.strip_prefix("reconcileIssues="))
        .flat_map(|v| v.split("%2C").flat_map(|x| x.split(',')))
        .map(String::from)
        .take(50)
        .collect()
}

pub fn search_jql(st: &State, api: &str, uri: &Uri) -> Response {
    let q = query_map(uri);
    let hits = match search_matches(st, uri) {
        Ok(h) => h,
        Err(e) => return error_collection(StatusCode::BAD_REQUEST, &[e.as_str()], &[]),
    };
    let max: usize = q.get("maxResults").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 5000);
    let start: usize = match q.get("nextPageToken") {
        Some(t) => match base64::engine::general_purpose::STANDARD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        {
            Some(n) => n,
            None => {
                return error_collection(StatusCode::BAD_REQUEST, &["Invalid nextPageToken."], &[]);
            }
        },
        None => 0,
    };
    let stalled = st.pages_do_not_advance;
    let start = if stalled { 0 } else { start };
    let page = page_of_hits(st, api, &hits, start, max, q.get("fields").map(String::as_str));
    let next = if stalled { 0 } else { start + page.len() };
    let mut v = json!({"issues": page, "isLast": !stalled && next >= hits.len()});
    if stalled || next < hits.len() {
        v["nextPageToken"] = Value::String(base64::engine::general_purpose::STANDARD.encode(format!("offset:{next}")));
    }
    json_response(StatusCode::OK, v)
}

pub fn search_paged(st: &State, api: &str, uri: &Uri) -> Response {
    let q = query_map(uri);
    let hits = match search_matches(st, uri) {
        Ok(h) => h,
        Err(e) => return error_collection(StatusCode::BAD_REQUEST, &[e.as_str()], &[]),
    };
    let stalled = st.pages_do_not_advance;
    let start: usize = if stalled { 0 } else { q.get("startAt").and_then(|s| s.parse().ok()).unwrap_or(0) };
    let max: usize = q.get("maxResults").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 1000);
    let page = page_of_hits(st, api, &hits, start, max, q.get("fields").map(String::as_str));
    // Stalled: a total that is never reached.
    let total = if stalled { hits.len() + 100_000 } else { hits.len() };
    json_response(StatusCode::OK, json!({"startAt": start, "maxResults": max, "total": total, "issues": page}))
}

/// One page of search hits.
fn page_of_hits(st: &State, api: &str, hits: &[usize], start: usize, max: usize, fields: Option<&str>) -> Vec<Value> {
    hits.iter().skip(start).take(max).map(|&n| search_hit(st, api, &st.issues[n], fields)).collect()
}

/// A search hit with the requested `fields` (comma list, `*all`; none: `summary`).
fn search_hit(st: &State, api: &str, i: &FakeIssue, fields: Option<&str>) -> Value {
    let full = model::issue_json(st, api, i);
    let wanted: Vec<&str> = fields.unwrap_or("summary").split(',').map(str::trim).filter(|f| !f.is_empty()).collect();
    let mut out = serde_json::Map::new();
    if let Some(all) = full["fields"].as_object() {
        for (k, v) in all {
            if wanted.contains(&"*all") || wanted.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    json!({"id": i.id, "key": i.key, "self": format!("{}/rest/api/{api}/issue/{}", st.base_url, i.id), "fields": out})
}
