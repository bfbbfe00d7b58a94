//! Jira Service Management under `/rest/servicedeskapi`: customers,
//! service desks, requests, request comments and participants.

use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::State;
use super::super::model::{self, FakeComment};
use super::super::wire::{jsm_error, json_response, query_map};
use super::users::{FakeRequest, caller_dto, date_dto, find_user, new_user, parse_json, user_dto};

/// Everything under `/rest/servicedeskapi`.
pub fn servicedesk(st: &mut State, method: &str, rest: &[&str], uri: &Uri, body: &Bytes) -> Response {
    match (method, rest) {
        ("POST", ["customer"]) => create_customer(st, uri, body),
        ("POST", ["servicedesk", sd, "customer"]) => add_customers(st, sd, body),
        ("POST", ["request"]) => create_request(st, body),
        ("POST", ["request", key, "comment"]) => request_comment(st, key, body),
        ("GET", ["request", key, "comment", id]) => get_request_comment(st, key, id),
        ("POST", ["request", key, "participant"]) => add_participants(st, key, body),
        _ => jsm_error(StatusCode::NOT_FOUND, "null for uri"),
    }
}

fn create_customer(st: &mut State, uri: &Uri, body: &Bytes) -> Response {
    let strict = query_map(uri).get("strictConflictStatusCode").is_some_and(|v| v == "true");
    let Some(v) = parse_json(body) else { return jsm_error(StatusCode::BAD_REQUEST, "Bad request body") };
    let Some(email) = v["email"].as_str().filter(|e| e.contains('@')) else {
        return jsm_error(StatusCode::BAD_REQUEST, "The email address is not valid.");
    };
    if st.users.iter().any(|u| u.email.eq_ignore_ascii_case(email)) {
        let status = if strict { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
        return jsm_error(status, &format!("An account already exists for this email: {email}"));
    }
    let display = v["displayName"].as_str().or_else(|| v["fullName"].as_str()).unwrap_or(email).to_string();
    let u = new_user(st, email, &display, "customer");
    json_response(StatusCode::CREATED, user_dto(&st.base_url, &u))
}

fn account_ids(v: &Value) -> Vec<String> {
    v["accountIds"]
        .as_array()
        .or_else(|| v["usernames"].as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn add_customers(st: &mut State, sd: &str, body: &Bytes) -> Response {
    let ids = account_ids(&parse_json(body).unwrap_or(Value::Null));
    let Some(d) = st.service_desks.iter().position(|s| s.id == sd || s.project == sd) else {
        return jsm_error(StatusCode::NOT_FOUND, "The service desk does not exist.");
    };
    // Any valid customers are added even when others do not exist (400).
    let (known, unknown): (Vec<String>, Vec<String>) = ids.into_iter().partition(|id| find_user(st, id).is_some());
    for id in known {
        if !st.service_desks[d].customers.contains(&id) {
            st.service_desks[d].customers.push(id);
        }
    }
    if !unknown.is_empty() {
        return jsm_error(StatusCode::BAD_REQUEST, "One or more customers do not exist.");
    }
    StatusCode::NO_CONTENT.into_response()
}

fn create_request(st: &mut State, body: &Bytes) -> Response {
    let Some(v) = parse_json(body) else { return jsm_error(StatusCode::BAD_REQUEST, "Bad request body") };
    let sd_id = v["serviceDeskId"].as_str().unwrap_or_default().to_string();
    let Some(sd) = st.service_desks.iter().find(|s| s.id == sd_id || s.project == sd_id).cloned() else {
        return jsm_error(StatusCode::BAD_REQUEST, "The service desk does not exist.");
    };
    let Some(request_type) = v["requestTypeId"].as_str().map(String::from) else {
        return jsm_error(StatusCode::BAD_REQUEST, "The request type is required.");
    };
    let summary = v["requestFieldValues"]["summary"].as_str().unwrap_or_default().to_string();
    if summary.trim().is_empty() {
        return jsm_error(StatusCode::BAD_REQUEST, "Summary: You must specify a summary of the issue.");
    }
    let description = v["requestFieldValues"]["description"].clone();
    if crate::strict::too_long(&st.strict, &description) {
        return jsm_error(StatusCode::BAD_REQUEST, &format!("Description: {}", crate::strict::TOO_LONG));
    }
    let on_behalf_of = v["raiseOnBehalfOf"].as_str().map(String::from);
    if let Some(who) = &on_behalf_of
        && find_user(st, who).is_none()
    {
        return jsm_error(StatusCode::BAD_REQUEST, "The user in raiseOnBehalfOf does not exist.");
    }
    let participants = account_ids(&json!({"accountIds": v["requestParticipants"]}));
    let key = model::insert_issue(
        st,
        &sd.project,
        &summary,
        description.clone(),
        "Service Request",
        Vec::new(),
        Default::default(),
    );
    let Some(i) = st.issues.iter().position(|x| x.key == key) else {
        return jsm_error(StatusCode::INTERNAL_SERVER_ERROR, "lost");
    };
    st.issues[i].request = Some(FakeRequest {
        service_desk: sd.id.clone(),
        request_type: request_type.clone(),
        on_behalf_of: on_behalf_of.clone(),
        participants: participants.clone(),
    });
    let base = st.base_url.clone();
    let issue = &st.issues[i];
    let reporter = on_behalf_of
        .as_deref()
        .and_then(|id| find_user(st, id))
        .map(|u| user_dto(&base, &st.users[u]))
        .unwrap_or_else(|| caller_dto(&base));
    let n = st.next_issue_id;
    json_response(
        StatusCode::CREATED,
        json!({
            "issueId": issue.id,
            "issueKey": issue.key,
            "requestTypeId": request_type,
            "serviceDeskId": sd.id,
            "createdDate": date_dto(n),
            "reporter": reporter,
            "requestFieldValues": [
                {"fieldId": "summary", "label": "Summary", "value": summary},
                {"fieldId": "description", "label": "Description", "value": description}
            ],
            "currentStatus": {"status": "Waiting for support", "statusCategory": "NEW", "statusDate": date_dto(n)},
            "_links": {
                "jiraRest": format!("{base}/rest/api/2/issue/{}", issue.id),
                "web": format!("{base}/servicedesk/customer/portal/{}/{}", sd.id, issue.key),
                "self": format!("{base}/rest/servicedeskapi/request/{}", issue.id),
                "agent": format!("{base}/browse/{}", issue.key)
            }
        }),
    )
}

fn request_comment(st: &mut State, key: &str, body: &Bytes) -> Response {
    let Some(i) = st.issues.iter().position(|x| x.key == key || x.id == key) else {
        return jsm_error(StatusCode::NOT_FOUND, "The request does not exist.");
    };
    let Some(v) = parse_json(body) else { return jsm_error(StatusCode::BAD_REQUEST, "Bad request body") };
    let Some(text) = v["body"].as_str().filter(|t| !t.trim().is_empty()) else {
        return jsm_error(StatusCode::BAD_REQUEST, "The comment body is required.");
    };
    let Some(public) = v["public"].as_bool() else {
        return jsm_error(StatusCode::BAD_REQUEST, "The 'public' field is required.");
    };
    if crate::strict::too_long(&st.strict, &v["body"]) {
        return jsm_error(StatusCode::BAD_REQUEST, crate::strict::TOO_LONG);
    }
    st.next_comment_id += 1;
    let c = FakeComment {
        id: st.next_comment_id.to_string(),
        body: json!(text),
        created: model::jira_time(st.next_comment_id),
        public: Some(public),
        properties: Vec::new(),
    };
    st.issues[i].touch(c.created.clone());
    st.issues[i].comments.push(c.clone());
    let base = st.base_url.clone();
    json_response(
        StatusCode::CREATED,
        json!({
            "id": c.id,
            "body": text,
            "public": public,
            "author": caller_dto(&base),
            "created": date_dto(st.next_comment_id),
            "_links": {"self": format!("{base}/rest/servicedeskapi/request/{}/comment/{}", st.issues[i].id, c.id)}
        }),
    )
}

/// JSM getRequestCommentById: `public` says whether the customer sees it.
/// Every issue of a service desk's project is a request; others are not
/// (404, JSM's `ErrorResponse`).
fn get_request_comment(st: &State, key: &str, id: &str) -> Response {
    let Some(issue) = st.issues.iter().find(|x| x.key == key || x.id == key) else {
        return jsm_error(StatusCode::NOT_FOUND, "The request does not exist.");
    };
    let project = key.rsplit_once('-').map_or("", |(p, _)| p);
    if issue.request.is_none() && !st.service_desks.iter().any(|s| s.project == project) {
        return jsm_error(StatusCode::NOT_FOUND, "The request does not exist.");
    }
    let Some(c) = issue.comments.iter().find(|c| c.id == id) else {
        return jsm_error(StatusCode::NOT_FOUND, "The comment does not exist.");
    };
    let base = &st.base_url;
    json_response(
        StatusCode::OK,
        json!({
            "id": c.id,
            "body": c.body,
            "public": c.public.unwrap_or(true),
            "author": caller_dto(base),
            "created": c.created,
            "_links": {"self": format!("{base}/rest/servicedeskapi/request/{}/comment/{}", issue.id, c.id)}
        }),
    )
}

fn add_participants(st: &mut State, key: &str, body: &Bytes) -> Response {
    let Some(i) = st.issues.iter().position(|x| x.key == key || x.id == key) else {
        return jsm_error(StatusCode::NOT_FOUND, "The request does not exist.");
    };
    let ids = account_ids(&parse_json(body).unwrap_or(Value::Null));
    let base = st.base_url.clone();
    let mut values = Vec::new();
    for id in ids {
        let Some(u) = find_user(st, &id) else { return jsm_error(StatusCode::BAD_REQUEST, "The user does not exist.") };
        values.push(user_dto(&base, &st.users[u]));
        if let Some(r) = st.issues[i].request.as_mut()
            && !r.participants.contains(&id)
        {
            r.participants.push(id);
        }
    }
    let size = values.len();
    json_response(
        StatusCode::OK,
        json!({"size": size, "start": 0, "limit": 50, "isLastPage": true, "values": values, "_links": {"base": base, "context": "", "self": format!("{base}/rest/servicedeskapi/request/{key}/participant")}}),
    )
}
