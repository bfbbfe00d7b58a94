//! Request dispatch for the fake: auth, injected faults, then the operation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use super::entities::{self, find, issue_missing};
use super::model::{self, FakeAttachment};
use super::wire::{error_collection, error_for, json_response};
use super::{FakeAuth, Fault, State, files, links, people, search, workflow};

type Shared = Arc<Mutex<State>>;

/// Largest request body the fake takes: Jira Cloud accepts attachments far
/// bigger than axum's 2 MB default.
const MAX_BODY: usize = 256 * 1024 * 1024;

pub fn router(state: Shared) -> Router {
    Router::new()
        .fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move { handle(state, method, uri, headers, body).await }
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
}

/// The accepted credentials this call carries, if any.
fn principal(st: &State, headers: &HeaderMap) -> Option<FakeAuth> {
    let value = headers.get("authorization").and_then(|v| v.to_str().ok())?;
    st.auth
        .iter()
        .find(|a| match a {
            FakeAuth::Bearer(t) => value == format!("Bearer {t}"),
            FakeAuth::Basic { user, secret } => {
                let enc = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
                value == format!("Basic {enc}")
            }
        })
        .cloned()
}

/// Take the first injected fault that applies to this call. Calls to the
/// 3LO authorization server take only faults filtered for them.
fn take_fault(st: &mut State, call: &str) -> Option<Fault> {
    let auth_server = call.split_once(' ').is_some_and(|(_, path)| super::threelo::is_auth_server(path));
    if let Some(r) = st.random_faults.as_mut().filter(|_| !auth_server)
        && !r.faults.is_empty()
    {
        // xorshift64: repeatable for a seed.
        r.rng ^= r.rng << 13;
        r.rng ^= r.rng >> 7;
        r.rng ^= r.rng << 17;
        if r.rng % 100 < r.percent {
            let fault = r.faults[r.next % r.faults.len()].clone();
            r.next += 1;
            return Some(fault);
        }
    }
    let idx = st.faults.iter().position(|f| {
        f.remaining > 0
            && (!auth_server || f.filter.is_some())
            && f.filter.as_deref().is_none_or(|p| match p.strip_suffix('$') {
                Some(exact) => call == exact,
                None => call.contains(p),
            })
    })?;
    let f = &mut st.faults[idx];
    f.remaining -= 1;
    let fault = f.fault.clone();
    if f.remaining == 0 {
        st.faults.remove(idx);
    }
    Some(fault)
}

/// A 429 as Jira Cloud sends it
/// (<https://developer.atlassian.com/cloud/jira/platform/rate-limiting/>,
/// jira-facts.md "Limits"): `Retry-After` (seconds, or with `as_date` an
/// HTTP date, RFC 9110 §10.2.3), `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
/// `X-RateLimit-Reset` (ISO 8601), `X-RateLimit-NearLimit` and
/// `RateLimit-Reason`.
fn rate_limited(uri: &Uri, retry_after_secs: u64, as_date: bool) -> Response {
    let mut resp = error_for(uri, StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.");
    let now = super::clock::now();
    let reset = now + chrono::Duration::seconds(i64::try_from(retry_after_secs).unwrap_or(i64::MAX / 2_000));
    let retry_after =
        if as_date { reset.format("%a, %d %b %Y %H:%M:%S GMT").to_string() } else { retry_after_secs.to_string() };
    let headers = [
        ("retry-after", retry_after),
        ("date", now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
        ("x-ratelimit-limit", "100".to_string()),
        ("x-ratelimit-remaining", "0".to_string()),
        ("x-ratelimit-reset", reset.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        ("x-ratelimit-nearlimit", "true".to_string()),
        ("ratelimit-reason", "jira-burst-based".to_string()),
    ];
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

async fn handle(state: Shared, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let call = format!("{method} {}", uri.path());
    let (fault, latency) = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.calls.push(call.clone());
        (take_fault(&mut st, &call), st.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match &fault {
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error_for(&uri, status, "Internal server error");
        }
        Some(Fault::RateLimit { retry_after_secs }) => {
            return rate_limited(&uri, *retry_after_secs, false);
        }
        Some(Fault::RateLimitDate { retry_after_secs }) => {
            return rate_limited(&uri, *retry_after_secs, true);
        }
        _ => {}
    }
    let resp = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(resp) = super::threelo::auth_server(&mut st, &method, &uri, &headers, &body) {
            st.calls_by.push((call.clone(), None));
            resp
        } else if let Some(gateway) = super::threelo::gateway(&st, &method, &uri, &headers) {
            match gateway {
                Err(resp) => {
                    st.calls_by.push((call.clone(), None));
                    resp
                }
                Ok(gw) => {
                    st.calls_by.push((call.clone(), Some(FakeAuth::Bearer(gw.token))));
                    let own = std::mem::replace(&mut st.base_url, gw.site_base);
                    let resp = dispatch(&mut st, &method, &gw.inner, &headers, &body);
                    st.base_url = own;
                    resp
                }
            }
        } else {
            site_call(&mut st, &call, &method, &uri, &headers, &body)
        }
    };
    match fault {
        Some(Fault::SlowAfterEffect(d)) => tokio::time::sleep(d).await,
        Some(Fault::StatusAfterEffect(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::GATEWAY_TIMEOUT);
            return error_for(&uri, status, "The gateway timed out.");
        }
        _ => {}
    }
    resp
}

/// A call to the site itself (`https://your-domain.atlassian.net`): basic
/// auth or the accepted bearer tokens; 3LO tokens are not among them.
fn site_call(st: &mut State, call: &str, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
    {
        let who = principal(st, headers);
        st.calls_by.push((call.to_string(), who.clone()));
        // The media host takes its URL's token instead of Jira credentials.
        if who.is_none() && !uri.path().starts_with(super::files::MEDIA_PREFIX) {
            error_for(
                uri,
                StatusCode::UNAUTHORIZED,
                "You are not authenticated. Authentication required to perform this operation.",
            )
        } else {
            dispatch(st, method, uri, headers, body)
        }
    }
}

fn dispatch(st: &mut State, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
    let path = uri.path().trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let (api, rest) = match segs.as_slice() {
        ["rest", "servicedeskapi", rest @ ..] => return people::servicedesk(st, method.as_str(), rest, uri, body),
        ["media", "file", id, "binary"] if method == Method::GET => return files::media(st, id, uri),
        ["secure", "attachment", id, _name] if method == Method::GET => return files::secure(st, id),
        ["rest", "api", v @ ("2" | "3"), rest @ ..] => (*v, rest),
        _ => return error_collection(StatusCode::NOT_FOUND, &["null for uri"], &[]),
    };
    let base = st.base_url.clone();
    match (method.as_str(), rest) {
        ("GET", ["myself"]) => {
            let mut me = model::user_json(&base);
            me["timeZone"] = Value::String(st.time_zone.0.clone());
            json_response(StatusCode::OK, me)
        }
        ("POST", ["issue"]) => create_issue(st, api, body),
        ("POST", ["issue", "bulkfetch"]) if api == "3" => entities::bulk_fetch(st, api, body),
        ("GET", ["issue", key]) => entities::get_issue(st, api, key, uri),
        ("GET", ["issue", key, "properties", property]) => entities::issue_property(st, key, property),
        ("PUT", ["issue", key, "properties", property]) => entities::set_issue_property(st, key, property, body),
        ("GET", ["comment", id, "properties", property]) => entities::comment_property(st, id, property),
        ("POST", ["issue", key, "comment"]) => entities::add_comment(st, api, key, body),
        ("GET", ["issue", key, "comment"]) => entities::list_comments(st, api, key, uri),
        ("POST", ["issue", key, "attachments"]) => add_attachments(st, api, key, headers, body),
        ("GET", ["issue", key, "transitions"]) => workflow::list(st, api, key, uri),
        ("POST", ["issue", key, "transitions"]) => workflow::perform(st, key, body),
        ("POST", ["issueLink"]) => links::link_issues(st, body),
        ("GET", ["attachment", "content", id]) => files::content(st, id, uri),
        ("GET", ["attachment", id]) => files::meta(st, api, id),
        ("GET", ["user", "permission", "search"]) => people::permission_search(st, api, uri),
        ("GET", ["search", "jql"]) if api == "3" => search::search_jql(st, api, uri),
        ("GET", ["search"]) if api == "2" => search::search_paged(st, api, uri),
        ("GET", ["user", "search"]) => people::user_search(st, api, uri),
        ("POST", ["user"]) => people::create_user(st, api, body),
        ("POST", ["group", "user"]) => people::add_to_group(st, api, uri, body),
        ("GET", ["group", "member"]) => people::group_members(st, api, uri),
        ("GET", ["mypermissions"]) => people::my_permissions(st, uri),
        ("POST", ["issue", key, "watchers"]) => people::add_watcher(st, key, body),
        ("GET", ["issue", key, "watchers"]) => people::list_watchers(st, api, key),
        ("GET", ["project", project, "role"]) => people::project_roles(st, api, project),
        ("GET", ["project", project, "role", id]) => people::project_role(st, api, project, id),
        ("GET", ["user"]) => people::get_user(st, api, uri),
        _ => error_collection(StatusCode::NOT_FOUND, &["null for uri"], &[]),
    }
}

fn create_issue(st: &mut State, api: &str, body: &Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return error_collection(StatusCode::BAD_REQUEST, &["Unexpected character in request body."], &[]);
    };
    let fields = &v["fields"];
    let project = fields["project"]["key"].as_str().unwrap_or("");
    if project.is_empty() || (!st.projects.is_empty() && !st.projects.iter().any(|p| p == project)) {
        return error_collection(StatusCode::BAD_REQUEST, &[], &[("project", "valid project is required")]);
    }
    let summary = fields["summary"].as_str().unwrap_or("");
    if summary.trim().is_empty() {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &[],
            &[("summary", "You must specify a summary of the issue.")],
        );
    }
    if summary.contains('\n') || summary.chars().count() > 255 {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &[],
            &[("summary", "Summary must be less than 255 characters.")],
        );
    }
    let description = fields["description"].clone();
    if api == "3" && !(description.is_null() || description["type"] == "doc") {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &[],
            &[("description", "Operation value must be an Atlassian Document (see the Atlassian Document Format)")],
        );
    }
    if api == "3"
        && let Some(e) = description.is_object().then(|| super::adf::check(&description).err()).flatten()
    {
        return error_collection(StatusCode::BAD_REQUEST, &[], &[("description", &format!("INVALID_INPUT: {e}"))]);
    }
    if api == "2" && !(description.is_null() || description.is_string()) {
        return error_collection(StatusCode::BAD_REQUEST, &[], &[("description", "Operation value must be a string")]);
    }
    if super::strict::too_long(&st.strict, &description) {
        return error_collection(StatusCode::BAD_REQUEST, &[], &[("description", super::strict::TOO_LONG)]);
    }
    let refused = super::fields::check(&st.catalog, project, fields);
    if !refused.is_empty() {
        let errors: Vec<(&str, &str)> = refused.iter().map(|(k, m)| (k.as_str(), m.as_str())).collect();
        return error_collection(StatusCode::BAD_REQUEST, &[], &errors);
    }
    let issue_type = fields["issuetype"]["name"].as_str().unwrap_or("Task");
    let labels = fields["labels"]
        .as_array()
        .map(|a| a.iter().filter_map(|l| l.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let mut properties = BTreeMap::new();
    if let Some(props) = v["properties"].as_array() {
        for p in props {
            if let Some(k) = p["key"].as_str() {
                properties.insert(k.to_string(), p["value"].clone());
            }
        }
    }
    let key = model::insert_issue(st, project, summary, description, issue_type, labels, properties);
    if let Some(i) = find(st, &key) {
        if !fields["reporter"].is_null() {
            st.issues[i].reporter = Some(fields["reporter"].clone());
        }
        st.issues[i].fields = super::fields::kept(fields);
        let id = st.issues[i].id.clone();
        let base = st.base_url.clone();
        return json_response(
            StatusCode::CREATED,
            json!({"id": id, "key": key, "self": format!("{base}/rest/api/{api}/issue/{id}")}),
        );
    }
    issue_missing()
}

fn add_attachments(st: &mut State, api: &str, key: &str, headers: &HeaderMap, body: &Bytes) -> Response {
    if headers.get("x-atlassian-token").and_then(|v| v.to_str().ok()) != Some("no-check") {
        return error_collection(StatusCode::FORBIDDEN, &["XSRF check failed"], &[]);
    }
    let Some(i) = find(st, key) else {
        return issue_missing();
    };
    let ctype = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(boundary) = ctype.split(';').find_map(|p| p.trim().strip_prefix("boundary=")) else {
        return error_collection(StatusCode::UNSUPPORTED_MEDIA_TYPE, &["Unsupported Media Type"], &[]);
    };
    let files: Vec<(String, String, Vec<u8>)> = parse_multipart(body, boundary.trim_matches('"'));
    if files.is_empty() {
        return error_collection(StatusCode::BAD_REQUEST, &["No attachments were found in the request."], &[]);
    }
    let mut out = Vec::new();
    for (filename, mime_type, data) in files {
        st.next_attachment_id += 1;
        let created = model::jira_time(st.next_attachment_id);
        let a =
            FakeAttachment { id: st.next_attachment_id.to_string(), filename, mime_type, data, created, author: None };
        out.push(model::attachment_json(st, api, &a));
        st.issues[i].attachments.push(a);
    }
    // Atlassian answers 200 (not 201) with an array.
    json_response(StatusCode::OK, Value::Array(out))
}

/// The `file` parts of a multipart/form-data body: (filename, content type, bytes).
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String, Vec<u8>)> {
    let delim = format!("--{boundary}");
    let mut out = Vec::new();
    let mut pos = 0;
    let mut starts = Vec::new();
    while let Some(i) = find_bytes(&body[pos..], delim.as_bytes()) {
        starts.push(pos + i);
        pos += i + delim.len();
    }
    for w in starts.windows(2) {
        let part = &body[w[0] + delim.len()..w[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = find_bytes(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let data = part[split + 4..].to_vec();
        let lower = head.to_lowercase();
        if !lower.contains("name=\"file\"") {
            continue;
        }
        let filename = head.split("filename=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("file").to_string();
        let mime = head
            .lines()
            .find_map(|l| l.to_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
            .unwrap_or_else(|| "application/octet-stream".into());
        out.push((filename, mime, data));
    }
    out
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
