//! Comments, entity properties and the consistent reads: `issue/bulkfetch`
//! and a GET of one issue with `properties`.

use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::model::{self, FakeComment, FakeIssue};
use super::wire::{error_collection, json_response, query_map};
use super::{State, strict};

pub fn issue_missing() -> Response {
    error_collection(StatusCode::NOT_FOUND, &["Issue does not exist or you do not have permission to see it."], &[])
}

pub fn find(st: &State, key_or_id: &str) -> Option<usize> {
    st.issues.iter().position(|i| i.key.eq_ignore_ascii_case(key_or_id) || i.id == *key_or_id)
}

/// The `properties` an issue answer carries: those asked for by key
/// (`*all` for every one), as an object of key to value (P3 `IssueBean.properties`).
fn issue_properties(issue: &FakeIssue, wanted: &[&str]) -> Value {
    let all = wanted.contains(&"*all");
    Value::Object(
        issue
            .properties
            .iter()
            .filter(|(k, _)| all || wanted.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// `GET /issue/{key}`: the issue itself, never the search index. With
/// `properties=a,b` the answer holds those properties (P3 getIssue). `fields`
/// (comma list; default `*all`) keeps only the fields asked for: `*all` and
/// `*navigable` keep every field the fake has, `-name` leaves one out, a
/// field the issue does not have is left out.
pub fn get_issue(st: &State, api: &str, key: &str, uri: &Uri) -> Response {
    let Some(i) = find(st, key) else { return issue_missing() };
    let issue = &st.issues[i];
    let mut v = model::issue_json(st, api, issue);
    let q = query_map(uri);
    if let (Some(wanted), Some(fields)) = (q.get("fields"), v["fields"].as_object_mut()) {
        let wanted: Vec<&str> = wanted.split(',').map(str::trim).filter(|f| !f.is_empty()).collect();
        let all = wanted.iter().any(|w| *w == "*all" || *w == "*navigable");
        fields.retain(|k, _| !wanted.contains(&format!("-{k}").as_str()) && (all || wanted.contains(&k.as_str())));
    }
    if let Some(props) = q.get("properties") {
        let wanted: Vec<&str> = props.split(',').map(str::trim).collect();
        v["properties"] = issue_properties(issue, &wanted);
    }
    json_response(StatusCode::OK, v)
}

/// `POST /rest/api/3/issue/bulkfetch` (P3 bulkFetchIssues): up to 100 ids
/// or keys; issues that do not exist are left out (not errors); issues in
/// ascending id order; `properties` as on getIssue. Cloud only.
pub fn bulk_fetch(st: &State, api: &str, body: &Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return error_collection(StatusCode::BAD_REQUEST, &["Unexpected character in request body."], &[]);
    };
    let Some(wanted) = v["issueIdsOrKeys"].as_array() else {
        return error_collection(StatusCode::BAD_REQUEST, &["issueIdsOrKeys must not be empty"], &[]);
    };
    if wanted.is_empty() || wanted.len() > 100 {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &["The number of issues requested must be between 1 and 100."],
            &[],
        );
    }
    let props: Vec<&str> =
        v["properties"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let mut hits: Vec<usize> = wanted.iter().filter_map(Value::as_str).filter_map(|k| find(st, k)).collect();
    hits.sort_by_key(|&n| st.issues[n].id.parse::<u64>().unwrap_or(u64::MAX));
    hits.dedup();
    let issues: Vec<Value> = hits
        .into_iter()
        .map(|n| {
            let issue = &st.issues[n];
            let mut out = json!({
                "id": issue.id,
                "key": issue.key,
                "self": format!("{}/rest/api/{api}/issue/{}", st.base_url, issue.id),
                "fields": {"summary": issue.summary},
            });
            if !props.is_empty() {
                out["properties"] = issue_properties(issue, &props);
            }
            out
        })
        .collect();
    json_response(StatusCode::OK, json!({"issues": issues, "issueErrors": []}))
}

fn property_missing(key: &str) -> Response {
    error_collection(StatusCode::NOT_FOUND, &[&format!("The property with key '{key}' does not exist.")], &[])
}

/// `GET /issue/{key}/properties/{property}` (P3 getIssueProperty).
pub fn issue_property(st: &State, key: &str, property: &str) -> Response {
    let Some(i) = find(st, key) else { return issue_missing() };
    match st.issues[i].properties.get(property) {
        Some(value) => json_response(StatusCode::OK, json!({"key": property, "value": value})),
        None => property_missing(property),
    }
}

/// `PUT /issue/{key}/properties/{property}` (P3 setIssueProperty): 201
/// when the property is new, 200 when it is replaced; the value must be a
/// JSON object of at most 32 KB (jira-facts.md "Search and properties").
pub fn set_issue_property(st: &mut State, key: &str, property: &str, body: &Bytes) -> Response {
    let Some(i) = find(st, key) else { return issue_missing() };
    let value = match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) if body.len() <= 32 * 1024 => v,
        _ => {
            return error_collection(
                StatusCode::BAD_REQUEST,
                &["The property value must be a JSON object of at most 32768 bytes."],
                &[],
            );
        }
    };
    let new = st.issues[i].properties.insert(property.to_string(), value).is_none();
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    json_response(status, json!({}))
}

/// `GET /comment/{id}/properties/{property}` (P3 getCommentProperty).
pub fn comment_property(st: &State, id: &str, property: &str) -> Response {
    let comment = st.issues.iter().flat_map(|i| i.comments.iter()).find(|c| c.id == id);
    let Some(comment) = comment else {
        return error_collection(StatusCode::NOT_FOUND, &["Can not find a comment for the id."], &[]);
    };
    match comment.properties.iter().find(|(k, _)| k == property) {
        Some((_, value)) => json_response(StatusCode::OK, json!({"key": property, "value": value})),
        None => property_missing(property),
    }
}

pub fn add_comment(st: &mut State, api: &str, key: &str, body: &Bytes) -> Response {
    let Some(i) = find(st, key) else {
        return issue_missing();
    };
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return error_collection(StatusCode::BAD_REQUEST, &["Unexpected character in request body."], &[]);
    };
    let comment_body = v["body"].clone();
    let ok = if api == "3" {
        comment_body["type"] == "doc"
    } else {
        comment_body.as_str().is_some_and(|s| !s.trim().is_empty())
    };
    if !ok {
        return error_collection(StatusCode::BAD_REQUEST, &[], &[("comment", "Comment body can not be empty!")]);
    }
    if let Some(e) = (api == "3").then(|| super::adf::check(&comment_body).err()).flatten() {
        return error_collection(StatusCode::BAD_REQUEST, &[], &[("comment", &format!("INVALID_INPUT: {e}"))]);
    }
    if strict::too_long(&st.strict, &comment_body) {
        return error_collection(StatusCode::BAD_REQUEST, &[], &[("comment", strict::TOO_LONG)]);
    }
    st.next_comment_id += 1;
    let c = FakeComment {
        id: st.next_comment_id.to_string(),
        body: comment_body,
        created: model::jira_time(st.next_comment_id),
        // P3 `Comment.jsdPublic`: "Defaults to true when comments are
        // created in the Jira Cloud Platform".
        public: st.issues[i].request.is_some().then_some(true),
        properties: v["properties"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| Some((p["key"].as_str()?.to_string(), p["value"].clone()))).collect())
            .unwrap_or_default(),
    };
    st.issues[i].touch(c.created.clone());
    st.issues[i].comments.push(c.clone());
    let base = st.base_url.clone();
    json_response(StatusCode::CREATED, model::comment_json(&base, api, &st.issues[i], &c))
}

/// `GET /issue/{key}/comment`: `startAt`, `maxResults`, `orderBy`
/// (`created`, `-created`, `+created`), `expand` (only `renderedBody` is
/// documented: `properties` is honoured only when strictness allows it).
pub fn list_comments(st: &State, api: &str, key: &str, uri: &Uri) -> Response {
    let Some(i) = find(st, key) else {
        return issue_missing();
    };
    let q = query_map(uri);
    let start: usize = q.get("startAt").and_then(|s| s.parse().ok()).unwrap_or(0);
    // Default page size per spec: Cloud v3 getComments declares 100; the
    // Cloud v2 spec (2024-02) declares 5000 for /rest/api/2.
    let default_max = if api == "3" { 100 } else { 5000 };
    let max: usize = q.get("maxResults").and_then(|s| s.parse().ok()).unwrap_or(default_max).min(5000);
    let issue = &st.issues[i];
    let with_properties = st.strict.comment_expand_properties
        && q.get("expand").is_some_and(|e| e.split(',').any(|x| x.trim() == "properties"));
    let mut ordered: Vec<&FakeComment> = issue.comments.iter().collect();
    if q.get("orderBy").is_some_and(|o| o.trim() == "-created") {
        ordered.reverse();
    }
    let page: Vec<Value> = ordered
        .into_iter()
        .skip(start)
        .take(max)
        .map(|c| {
            let mut v = model::comment_json(&st.base_url, api, issue, c);
            if with_properties {
                v["properties"] =
                    Value::Array(c.properties.iter().map(|(k, val)| json!({"key": k, "value": val})).collect());
            }
            v
        })
        .collect();
    json_response(
        StatusCode::OK,
        json!({"startAt": start, "maxResults": max, "total": issue.comments.len(), "comments": page}),
    )
}
