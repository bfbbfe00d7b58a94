//! Users, groups, permissions, watchers and Jira Service Management
//! (customers, service desks, requests) for the fake.

use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::State;
use super::wire::{error_collection, json_response, query_map};

mod grants;
mod jsm;
mod users;

pub use grants::permission_search;
pub use jsm::servicedesk;
use users::parse_json;
pub use users::{FakeRequest, FakeRole, FakeServiceDesk, FakeUser, find_user, new_user, user_json};

/// A user the fake knows as the user body an issue field or attachment
/// shows (hidden email left out, see [`FakeUser::email_hidden`]).
pub fn person_json(st: &State, api: &str, id: &str) -> Option<Value> {
    find_user(st, id).map(|i| user_json(&st.base_url, api, &st.users[i]))
}

/// An attachment's or comment's author: the API user when `None`.
pub fn author_json(st: &State, api: &str, id: Option<&str>) -> Value {
    match id {
        None => super::model::user_ref(&st.base_url),
        Some(id) => person_json(st, api, id).unwrap_or_else(|| json!({"accountId": id, "active": true})),
    }
}

/// `GET /rest/api/{2,3}/user/search`: a bare array; `query` (Cloud) or
/// `username` (DC) prefix-matches display name or email.
pub fn user_search(st: &State, api: &str, uri: &Uri) -> Response {
    let q = query_map(uri);
    let needle = q.get("query").or_else(|| q.get("username")).cloned().unwrap_or_default().to_lowercase();
    if needle.is_empty() {
        return error_collection(StatusCode::BAD_REQUEST, &["The query parameter 'query' is required."], &[]);
    }
    let start: usize = q.get("startAt").and_then(|s| s.parse().ok()).unwrap_or(0);
    let max: usize = q.get("maxResults").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 1000);
    let hits: Vec<Value> = st
        .users
        .iter()
        .filter(|u| u.active)
        .filter(|u| {
            // A hidden email still matches unless the site finds nothing by it.
            let by_email =
                !(u.email_hidden && st.strict.hidden_email_search == crate::strict::HiddenEmailSearch::FindsNothing);
            (by_email && u.email.to_lowercase().starts_with(&needle))
                || u.display_name.to_lowercase().starts_with(&needle)
        })
        .skip(start)
        .take(max)
        .map(|u| user_json(&st.base_url, api, u))
        .collect();
    json_response(StatusCode::OK, Value::Array(hits))
}

/// `POST /rest/api/{2,3}/user`.
pub fn create_user(st: &mut State, api: &str, body: &Bytes) -> Response {
    let Some(v) = parse_json(body) else {
        return error_collection(StatusCode::BAD_REQUEST, &["Unexpected character in request body."], &[]);
    };
    let Some(email) = v["emailAddress"].as_str().filter(|e| e.contains('@')) else {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &[],
            &[("emailAddress", "You must specify a valid email address.")],
        );
    };
    if api == "3" && !v["products"].is_array() {
        return error_collection(StatusCode::BAD_REQUEST, &[], &[("products", "products is required")]);
    }
    // P3 createUser: 201 with the existing account when it has Jira access,
    // 400 when the email belongs to an account without (a portal customer).
    if api == "3" && st.users.iter().any(|u| u.email.eq_ignore_ascii_case(email) && u.account_type != "atlassian") {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &["A user with this email address already exists but has no access to Jira."],
            &[],
        );
    }
    if let Some(existing) =
        st.users.iter().find(|u| u.email.eq_ignore_ascii_case(email) && u.account_type == "atlassian")
    {
        if api == "2" {
            return error_collection(
                StatusCode::BAD_REQUEST,
                &[],
                &[("username", "A user with that username already exists.")],
            );
        }
        return json_response(StatusCode::CREATED, user_json(&st.base_url, api, existing));
    }
    let display = v["displayName"].as_str().unwrap_or(email).to_string();
    let u = new_user(st, email, &display, "atlassian");
    if let Some(name) = v["name"].as_str()
        && let Some(i) = find_user(st, &u.account_id)
    {
        st.users[i].name = name.to_string();
    }
    let u = st.users.last().cloned().unwrap_or(u);
    json_response(StatusCode::CREATED, user_json(&st.base_url, api, &u))
}

/// `POST /rest/api/{2,3}/group/user?groupname=`.
pub fn add_to_group(st: &mut State, api: &str, uri: &Uri, body: &Bytes) -> Response {
    let q = query_map(uri);
    let Some(group) = q.get("groupname").or_else(|| q.get("groupName")).cloned() else {
        return error_collection(StatusCode::BAD_REQUEST, &["You must specify a group name or group id."], &[]);
    };
    if !st.groups.contains(&group) {
        return error_collection(StatusCode::NOT_FOUND, &["Specified group does not exist."], &[]);
    }
    let v = parse_json(body).unwrap_or(Value::Null);
    let id = v["accountId"].as_str().or_else(|| v["name"].as_str()).unwrap_or_default().to_string();
    if id.is_empty() {
        return error_collection(StatusCode::BAD_REQUEST, &["You must specify an accountId."], &[]);
    }
    // Both specs: 404 when "the group or user are not found".
    let Some(i) = find_user(st, &id) else {
        return error_collection(StatusCode::NOT_FOUND, &["The user does not exist."], &[]);
    };
    if st.users[i].groups.contains(&group) {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &[format!("Cannot add user. User is already a member of '{group}'").as_str()],
            &[],
        );
    }
    st.users[i].groups.push(group.clone());
    let base = st.base_url.clone();
    json_response(
        StatusCode::CREATED,
        json!({
            "name": group,
            "groupId": format!("g-{group}"),
            "self": format!("{base}/rest/api/{api}/group?groupId=g-{group}"),
            "users": {"size": 1, "items": [], "max-results": 50, "start-index": 0, "end-index": 0},
            "expand": "users"
        }),
    )
}

/// `GET /rest/api/{2,3}/group/member`: `PageBeanUserDetails`.
pub fn group_members(st: &State, api: &str, uri: &Uri) -> Response {
    let q = query_map(uri);
    let Some(group) = q.get("groupname").or_else(|| q.get("groupName")).cloned() else {
        return error_collection(StatusCode::BAD_REQUEST, &["You must specify a group name or group id."], &[]);
    };
    if !st.groups.contains(&group) {
        return error_collection(StatusCode::NOT_FOUND, &["Specified group does not exist."], &[]);
    }
    let stalled = st.pages_do_not_advance;
    let start: usize = if stalled { 0 } else { q.get("startAt").and_then(|s| s.parse().ok()).unwrap_or(0) };
    let max: usize = q.get("maxResults").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 50);
    let inactive = q.get("includeInactiveUsers").is_some_and(|v| v == "true");
    let members: Vec<&FakeUser> =
        st.users.iter().filter(|u| u.groups.contains(&group) && (inactive || u.active)).collect();
    let base = &st.base_url;
    let values: Vec<Value> = members
        .iter()
        .skip(start)
        .take(max)
        .map(|u| {
            let mut v = json!({
                "self": format!("{base}/rest/api/{api}/user?accountId={}", u.account_id),
                "accountId": u.account_id,
                "emailAddress": u.email,
                "displayName": u.display_name,
                "active": u.active,
                "timeZone": "Etc/UTC",
                "accountType": u.account_type
            });
            users::omit_hidden_email(u, &mut v);
            if api == "2" {
                v["name"] = json!(u.name);
                v["key"] = json!(u.name);
            }
            v
        })
        .collect();
    let is_last = !stalled && start + values.len() >= members.len();
    let group = encode_query_value(&group);
    let mut page = json!({
        "self": format!("{base}/rest/api/{api}/group/member?groupname={group}&startAt={start}&maxResults={max}"),
        "maxResults": max,
        "startAt": start,
        "total": members.len(),
        "isLast": is_last,
        "values": values
    });
    if !is_last {
        page["nextPage"] = json!(format!(
            "{base}/rest/api/{api}/group/member?groupname={group}&startAt={}&maxResults={max}",
            start + max
        ));
    }
    json_response(StatusCode::OK, page)
}

/// Percent-encode a query parameter value for a link the fake hands out
/// (`self`, `nextPage` are `format: uri`; group names have spaces).
fn encode_query_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /rest/api/{2,3}/mypermissions`.
pub fn my_permissions(st: &State, uri: &Uri) -> Response {
    let q = query_map(uri);
    let Some(wanted) = q.get("permissions").filter(|p| !p.is_empty()) else {
        return error_collection(StatusCode::BAD_REQUEST, &["The permissions query parameter is required."], &[]);
    };
    let mut perms = serde_json::Map::new();
    for (n, key) in wanted.split(',').map(str::trim).filter(|k| !k.is_empty()).enumerate() {
        let have = !st.denied_permissions.iter().any(|d| d == key);
        perms.insert(
            key.to_string(),
            json!({"id": (n + 1).to_string(), "key": key, "name": key, "type": "PROJECT", "description": key, "havePermission": have}),
        );
    }
    json_response(StatusCode::OK, json!({"permissions": perms}))
}

/// `POST /rest/api/{2,3}/issue/{key}/watchers` with a JSON string body.
pub fn add_watcher(st: &mut State, key: &str, body: &Bytes) -> Response {
    let Some(i) = st.issues.iter().position(|x| x.key == key || x.id == key) else {
        return error_collection(
            StatusCode::NOT_FOUND,
            &["Issue does not exist or you do not have permission to see it."],
            &[],
        );
    };
    let Some(id) = parse_json(body).and_then(|v| v.as_str().map(String::from)) else {
        return error_collection(StatusCode::BAD_REQUEST, &["The request body must be a JSON string."], &[]);
    };
    if find_user(st, &id).is_none() {
        return error_collection(StatusCode::NOT_FOUND, &["The user does not exist."], &[]);
    }
    if !st.issues[i].watchers.contains(&id) {
        st.issues[i].watchers.push(id);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /rest/api/{2,3}/issue/{key}/watchers`: `Watchers`.
pub fn list_watchers(st: &State, api: &str, key: &str) -> Response {
    let Some(issue) = st.issues.iter().find(|x| x.key == key || x.id == key) else {
        return error_collection(
            StatusCode::NOT_FOUND,
            &["Issue does not exist or you do not have permission to see it."],
            &[],
        );
    };
    let base = &st.base_url;
    let watchers: Vec<Value> = issue
        .watchers
        .iter()
        .filter_map(|id| find_user(st, id))
        .map(|i| {
            let u = &st.users[i];
            let mut v = json!({
                "self": format!("{base}/rest/api/{api}/user?accountId={}", u.account_id),
                "accountId": u.account_id,
                "displayName": u.display_name,
                "emailAddress": u.email,
                "active": u.active
            });
            users::omit_hidden_email(u, &mut v);
            if api == "2" {
                v["name"] = json!(u.name);
                v["key"] = json!(u.name);
            }
            v
        })
        .collect();
    json_response(
        StatusCode::OK,
        json!({
            "self": format!("{base}/rest/api/{api}/issue/{}/watchers", issue.key),
            "isWatching": false,
            "watchCount": watchers.len(),
            "watchers": watchers
        }),
    )
}

/// `GET /rest/api/{2,3}/project/{key}/role`: role name to role URL.
pub fn project_roles(st: &State, api: &str, project: &str) -> Response {
    if !st.projects.is_empty() && !st.projects.iter().any(|p| p == project) {
        return error_collection(
            StatusCode::NOT_FOUND,
            &[format!("No project could be found with key '{project}'.").as_str()],
            &[],
        );
    }
    let mut out = serde_json::Map::new();
    for r in st.roles.iter().filter(|r| r.project == project) {
        out.insert(r.name.clone(), json!(format!("{}/rest/api/{api}/project/{project}/role/{}", st.base_url, r.id)));
    }
    json_response(StatusCode::OK, Value::Object(out))
}

/// `GET /rest/api/{2,3}/project/{key}/role/{id}`: `ProjectRole` with actors.
pub fn project_role(st: &State, api: &str, project: &str, id: &str) -> Response {
    let Some(r) = st.roles.iter().find(|r| r.project == project && r.id == id) else {
        return error_collection(StatusCode::NOT_FOUND, &["The project role is not found."], &[]);
    };
    let mut actors = Vec::new();
    let mut n = 0;
    for account in &r.users {
        n += 1;
        let display = find_user(st, account).map(|i| st.users[i].display_name.clone()).unwrap_or_default();
        let mut a = json!({"id": n, "displayName": display, "type": "atlassian-user-role-actor"});
        if api == "2" {
            // Data Center has no account ids: a user actor is named by its username.
            a["name"] = json!(find_user(st, account).map(|i| st.users[i].name.clone()).unwrap_or_default());
        } else {
            a["actorUser"] = json!({"accountId": account});
        }
        actors.push(a);
    }
    for g in &r.groups {
        n += 1;
        let mut a = json!({"id": n, "displayName": g, "name": g, "type": "atlassian-group-role-actor"});
        if api == "3" {
            // Data Center names a group actor by `name` only.
            a["actorGroup"] = json!({"name": g, "displayName": g, "groupId": format!("g-{g}")});
        }
        actors.push(a);
    }
    json_response(
        StatusCode::OK,
        json!({
            "self": format!("{}/rest/api/{api}/project/{project}/role/{}", st.base_url, r.id),
            "name": r.name,
            "id": r.id.parse::<i64>().unwrap_or(0),
            "description": format!("{} of {project}", r.name),
            "actors": actors
        }),
    )
}

/// `GET /rest/api/{2,3}/user?accountId=` (or `username=` on DC).
pub fn get_user(st: &State, api: &str, uri: &Uri) -> Response {
    let q = query_map(uri);
    let Some(id) = q.get("accountId").or_else(|| q.get("username")).cloned() else {
        return error_collection(
            StatusCode::BAD_REQUEST,
            &["The accountId query parameter needs to be provided."],
            &[],
        );
    };
    match find_user(st, &id) {
        Some(i) => json_response(StatusCode::OK, user_json(&st.base_url, api, &st.users[i])),
        None => error_collection(
            StatusCode::NOT_FOUND,
            &["Specified user does not exist or you do not have required permissions"],
            &[],
        ),
    }
}
