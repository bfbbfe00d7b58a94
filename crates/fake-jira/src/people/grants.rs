//! Other users' project permissions: `GET /user/permission/search`
//! (findUsersWithAllPermissions, P3 and DC) and the fake's simple model of
//! who may add comments.
//!
//! The model: a Jira account (`accountType: atlassian`, added with
//! `add_user` or created over REST) has every project permission in every
//! project, a JSM portal customer (`add_customer`, created as a customer) has
//! none; `grant_comment` / `deny_comment` override ADD_COMMENTS for one user
//! in one project. Real sites decide this in permission schemes; the default
//! schemes give agents (licensed users) comment rights and portal customers
//! none outside their own requests.

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use super::super::entities::{find, issue_missing};
use super::super::strict::HiddenEmailSearch;
use super::super::wire::{error_collection, json_response, query_map};
use super::super::{FakeJira, State};
use super::users::{FakeUser, find_user, user_json};

/// Jira's built-in project permission keys (P3 getAllPermissions).
const PROJECT_PERMISSIONS: &[&str] = &[
    "ADD_COMMENTS",
    "ADMINISTER_PROJECTS",
    "ASSIGNABLE_USER",
    "ASSIGN_ISSUES",
    "BROWSE_PROJECTS",
    "CLOSE_ISSUES",
    "CREATE_ATTACHMENTS",
    "CREATE_ISSUES",
    "DELETE_ALL_ATTACHMENTS",
    "DELETE_ALL_COMMENTS",
    "DELETE_ALL_WORKLOGS",
    "DELETE_ISSUES",
    "DELETE_OWN_ATTACHMENTS",
    "DELETE_OWN_COMMENTS",
    "DELETE_OWN_WORKLOGS",
    "EDIT_ALL_COMMENTS",
    "EDIT_ALL_WORKLOGS",
    "EDIT_ISSUES",
    "EDIT_OWN_COMMENTS",
    "EDIT_OWN_WORKLOGS",
    "LINK_ISSUES",
    "MANAGE_WATCHERS",
    "MODIFY_REPORTER",
    "MOVE_ISSUES",
    "RESOLVE_ISSUES",
    "SCHEDULE_ISSUES",
    "SET_ISSUE_SECURITY",
    "TRANSITION_ISSUES",
    "VIEW_READONLY_WORKFLOW",
    "VIEW_VOTERS_AND_WATCHERS",
    "WORK_ON_ISSUES",
];

/// Whether `u` may add comments in `project` (see the module's model).
pub fn may_comment(st: &State, project: &str, u: &FakeUser) -> bool {
    st.comment_grants
        .iter()
        .rev()
        .find(|(p, id, _)| p == project && (*id == u.account_id || *id == u.name))
        .map_or(u.account_type == "atlassian", |(.., allowed)| *allowed)
}

fn has_permission(st: &State, project: &str, u: &FakeUser, key: &str) -> bool {
    if key == "ADD_COMMENTS" { may_comment(st, project, u) } else { u.account_type == "atlassian" }
}

fn bad_request(message: &str) -> Response {
    error_collection(StatusCode::BAD_REQUEST, &[message], &[])
}

/// `GET /rest/api/{2,3}/user/permission/search`: a bare array of the active
/// users who have all `permissions` in the project of `issueKey` (or
/// `projectKey`). Cloud (P3) needs exactly one of `accountId` (exact match)
/// and `query` (prefix of display name or email); Data Center takes an
/// optional `username` filter (prefix of username, name or email; "list
/// includes all users if unspecified"). 400 for a missing key, a missing or
/// unknown permission, or (Cloud) neither or both of `query`/`accountId`;
/// 404 when the issue or project does not exist. `startAt`/`maxResults`
/// (default 50, DC at most 1000) page the matching users. Hidden emails are
/// left out of the user bodies (P3: "Privacy controls are applied to the
/// response").
pub fn permission_search(st: &State, api: &str, uri: &Uri) -> Response {
    let q = query_map(uri);
    let keys: Vec<&str> = q
        .get("permissions")
        .map(|p| p.split(',').map(str::trim).filter(|k| !k.is_empty()).collect())
        .unwrap_or_default();
    if keys.is_empty() {
        return bad_request("The permissions query parameter must name at least one permission.");
    }
    if let Some(bad) = keys.iter().find(|k| !PROJECT_PERMISSIONS.contains(k)) {
        return bad_request(&format!("Invalid permission key: {bad}"));
    }
    let project = match (q.get("issueKey"), q.get("projectKey")) {
        (Some(key), _) => match find(st, key) {
            Some(i) => st.issues[i].project.clone(),
            None => return issue_missing(),
        },
        (None, Some(p)) => {
            if !st.projects.is_empty() && !st.projects.contains(p) {
                let message = format!("No project could be found with key '{p}'.");
                return error_collection(StatusCode::NOT_FOUND, &[message.as_str()], &[]);
            }
            p.clone()
        }
        (None, None) => return bad_request("Either the issueKey or the projectKey parameter must be provided."),
    };
    let account = q.get("accountId");
    let needle = if api == "3" { q.get("query") } else { q.get("username") }.map(|s| s.to_lowercase());
    if api == "3" && account.is_some() == needle.is_some() {
        return bad_request("Provide either the query or the accountId parameter, not both or neither.");
    }
    let by_email = st.strict.hidden_email_search != HiddenEmailSearch::FindsNothing;
    let matches = |u: &FakeUser| match (account, &needle) {
        (Some(id), _) => u.account_id == *id,
        (None, Some(n)) => {
            (u.email.to_lowercase().starts_with(n) && (by_email || !u.email_hidden))
                || u.display_name.to_lowercase().starts_with(n)
                || (api == "2" && u.name.to_lowercase().starts_with(n))
        }
        (None, None) => true,
    };
    let start: usize = q.get("startAt").and_then(|s| s.parse().ok()).unwrap_or(0);
    let max: usize = q.get("maxResults").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 1000);
    let users: Vec<Value> = st
        .users
        .iter()
        .filter(|u| u.active && matches(u))
        .filter(|u| keys.iter().all(|k| has_permission(st, &project, u, k)))
        .skip(start)
        .take(max)
        .map(|u| user_json(&st.base_url, api, u))
        .collect();
    json_response(StatusCode::OK, Value::Array(users))
}

/// Test set-up: who may comment (see the module's model).
impl FakeJira {
    /// Let a user (account id or DC username) add comments in `project`,
    /// e.g. a portal customer.
    pub fn grant_comment(&self, project: &str, user: &str) {
        self.lock().comment_grants.push((project.to_string(), user.to_string(), true));
    }

    /// Take the right to add comments in `project` from a user (e.g. an
    /// agent outside the project's roles).
    pub fn deny_comment(&self, project: &str, user: &str) {
        self.lock().comment_grants.push((project.to_string(), user.to_string(), false));
    }

    /// Whether the fake's model lets the user add comments in `project`
    /// (false for a user it does not know).
    pub fn may_comment(&self, project: &str, user: &str) -> bool {
        let st = self.lock();
        find_user(&st, user).is_some_and(|i| may_comment(&st, project, &st.users[i]))
    }
}
