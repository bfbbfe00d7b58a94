//! The one workflow every fake issue follows, and the transition routes.
//!
//! Statuses: "Open" (category `new`, "To Do") → "In Progress" (`indeterminate`)
//! → "Done" (`done`); a transition into Done sets the resolution "Done" and
//! `resolutiondate`, the way back ("Reopen" by default: admins name their
//! transitions as they like) clears both. Which transitions are offered
//! depends on the current status, as in Jira: getTransitions "Returns either
//! all transitions or a transition that can be performed by the user on an
//! issue, based on the issue's status" (P3 and DC `getTransitions`).
//!
//! Status category ids and keys are Jira's own (`/rest/api/3/statuscategory`:
//! 2 `new` "To Do" blue-gray, 4 `indeterminate` "In Progress" yellow, 3 `done`
//! "Done" green).

use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::entities::{find, issue_missing};
use super::wire::{error_collection, json_response, query_map};
use super::{FakeIssue, FakeJira, State, model};

pub const OPEN: &str = "Open";
pub const IN_PROGRESS: &str = "In Progress";
pub const DONE: &str = "Done";

/// The resolution a transition into Done sets.
const RESOLUTION: &str = "Done";

/// The reopen transition's name unless a test renames it.
pub const DEFAULT_REOPEN: &str = "Reopen";

/// A status: name, id, description, category (id, key, name, colour).
struct Status {
    name: &'static str,
    id: &'static str,
    description: &'static str,
    category: (u32, &'static str, &'static str, &'static str),
}

const STATUSES: [Status; 3] = [
    Status {
        name: OPEN,
        id: "1",
        description: "The issue is open and ready for the assignee to start work on it.",
        category: (2, "new", "To Do", "blue-gray"),
    },
    Status {
        name: IN_PROGRESS,
        id: "3",
        description: "This issue is being actively worked on at the moment by the assignee.",
        category: (4, "indeterminate", "In Progress", "yellow"),
    },
    Status {
        name: DONE,
        id: "10001",
        description: "Work on this issue is complete.",
        category: (3, "done", "Done", "green"),
    },
];

fn status(name: &str) -> &'static Status {
    STATUSES.iter().find(|s| s.name == name).unwrap_or(&STATUSES[0])
}

/// The transitions out of each status: (id, name, target). The reopen
/// transition's name is `None`: the site's (`State::reopen_name`).
const EDGES: [(&str, &str, Option<&str>, &str); 5] = [
    (OPEN, "11", Some("Start Progress"), IN_PROGRESS),
    (OPEN, "31", Some("Done"), DONE),
    (IN_PROGRESS, "21", Some("Stop Progress"), OPEN),
    (IN_PROGRESS, "31", Some("Done"), DONE),
    (DONE, "41", None, OPEN),
];

/// The transitions offered from `from`: (id, name, target status).
fn offered<'a>(st: &'a State, from: &str) -> Vec<(&'static str, &'a str, &'static str)> {
    EDGES
        .iter()
        .filter(|(f, ..)| *f == from)
        .map(|(_, id, name, to)| (*id, name.unwrap_or(st.reopen_name.as_str()), *to))
        .collect()
}

/// A status as issue fields and transitions show it (P3 `StatusDetails`, DC
/// `StatusJsonBean`).
pub fn status_json(base: &str, api: &str, name: &str) -> Value {
    let s = status(name);
    let (cat_id, cat_key, cat_name, colour) = s.category;
    json!({
        "self": format!("{base}/rest/api/{api}/status/{}", s.id),
        "description": s.description,
        "iconUrl": format!("{base}/images/icons/statuses/generic.png"),
        "name": s.name,
        "id": s.id,
        "statusCategory": {
            "self": format!("{base}/rest/api/{api}/statuscategory/{cat_id}"),
            "id": cat_id,
            "key": cat_key,
            "colorName": colour,
            "name": cat_name
        }
    })
}

/// A resolution (P3 `Resolution`, DC `ResolutionJsonBean`).
pub fn resolution_json(base: &str, api: &str, name: &str) -> Value {
    json!({
        "self": format!("{base}/rest/api/{api}/resolution/10000"),
        "id": "10000",
        "description": "Work has been completed on this issue.",
        "name": name
    })
}

/// Move an issue to `to`: into Done sets the resolution and its date
/// (`resolved_at`, Jira's timestamp format), out of Done clears both.
fn move_to(issue: &mut FakeIssue, to: &str, resolved_at: String) {
    if to == DONE {
        issue.resolution = Some(RESOLUTION.to_string());
        issue.resolution_date = Some(resolved_at.clone());
    } else {
        issue.resolution = None;
        issue.resolution_date = None;
    }
    issue.status = to.to_string();
    issue.touch(resolved_at);
}

/// `GET /issue/{key}/transitions` (P3 getTransitions: `Transitions`; DC:
/// `TransitionsMetaBean`). `transitionId` narrows the list to that one, an
/// empty list when it is not offered now ("the response will return any
/// empty transitions list").
pub fn list(st: &State, api: &str, key: &str, uri: &Uri) -> Response {
    let Some(i) = find(st, key) else { return issue_missing() };
    let only = query_map(uri).get("transitionId").cloned();
    let base = &st.base_url;
    let transitions: Vec<Value> = offered(st, &st.issues[i].status)
        .into_iter()
        .filter(|(id, ..)| only.as_deref().is_none_or(|o| o == *id))
        .enumerate()
        .map(|(n, (id, name, to))| {
            let mut t = json!({"id": id, "name": name, "to": status_json(base, api, to)});
            if api == "3" {
                for (flag, value) in [
                    ("hasScreen", false),
                    ("isGlobal", false),
                    ("isInitial", false),
                    ("isAvailable", true),
                    ("isConditional", false),
                    ("looped", false),
                ] {
                    t[flag] = json!(value);
                }
            } else {
                t["opsbarSequence"] = json!((n + 1) * 10);
            }
            t
        })
        .collect();
    let mut out = json!({"transitions": transitions});
    if api == "3" {
        out["expand"] = json!("transitions");
    }
    json_response(StatusCode::OK, out)
}

/// `POST /issue/{key}/transitions` (P3 and DC doTransition): 204. A missing
/// id, a non-numeric one, or one not offered from the issue's status is a
/// 400 (P3: "no transition is specified … the request is invalid for any
/// other reason"; DC: "the transition is not valid for the issue"). The
/// messages are Jira's as clients report them: "Missing 'transition'
/// identifier", "'transition' identifier must be an integer" (e.g.
/// mozilla/jira-bugzilla-integration#303), "Transition id '41' is not valid
/// for this issue.". Fields and `update` on the transition screen are not
/// modelled: the default workflow has no screens.
pub fn perform(st: &mut State, key: &str, body: &Bytes) -> Response {
    let Some(i) = find(st, key) else { return issue_missing() };
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return error_collection(StatusCode::BAD_REQUEST, &["Unexpected character in request body."], &[]);
    };
    let id = match &v["transition"]["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Null => {
            return error_collection(StatusCode::BAD_REQUEST, &["Missing 'transition' identifier"], &[]);
        }
        _ => String::new(),
    };
    if id.parse::<u64>().is_err() {
        return error_collection(StatusCode::BAD_REQUEST, &["'transition' identifier must be an integer"], &[]);
    }
    let Some(to) = offered(st, &st.issues[i].status).into_iter().find(|(t, ..)| *t == id).map(|(.., to)| to) else {
        let message = format!("Transition id '{id}' is not valid for this issue.");
        return error_collection(StatusCode::BAD_REQUEST, &[message.as_str()], &[]);
    };
    let now = model::jira_time(0);
    move_to(&mut st.issues[i], to, now);
    StatusCode::NO_CONTENT.into_response()
}

/// Jira's timestamp for milliseconds since the epoch.
fn jira_time_at(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string())
}

/// Test set-up: the workflow's state of an issue.
impl FakeJira {
    /// Move an issue to Done now (resolution "Done", `resolutiondate` now),
    /// as an agent would. False when there is no such issue.
    pub fn resolve_issue(&self, key: &str) -> bool {
        let mut st = self.lock();
        let Some(i) = find(&st, key) else { return false };
        move_to(&mut st.issues[i], DONE, model::jira_time(0));
        true
    }

    /// Move an issue to Done with `resolutiondate` at `resolved_at_ms`
    /// (milliseconds since the epoch; e.g. in the past). False when there is
    /// no such issue or the time is out of range.
    pub fn resolve_issue_at(&self, key: &str, resolved_at_ms: i64) -> bool {
        let mut st = self.lock();
        let (Some(i), Some(at)) = (find(&st, key), jira_time_at(resolved_at_ms)) else { return false };
        move_to(&mut st.issues[i], DONE, at);
        true
    }

    /// The name of the issue's status ("Open", "In Progress", "Done"); empty
    /// when there is no such issue.
    pub fn issue_status(&self, key: &str) -> String {
        let st = self.lock();
        find(&st, key).map(|i| st.issues[i].status.clone()).unwrap_or_default()
    }

    /// Name the transition from Done back to Open (default "Reopen"):
    /// workflows differ from site to site.
    pub fn set_reopen_transition_name(&self, name: &str) {
        self.lock().reopen_name = name.to_string();
    }

    /// Assign an issue to a user the fake knows (account id or DC
    /// username), or unassign it with `None`. False when the issue or the
    /// user does not exist.
    pub fn set_assignee(&self, key: &str, user: Option<&str>) -> bool {
        let mut st = self.lock();
        if user.is_some_and(|u| super::people::find_user(&st, u).is_none()) {
            return false;
        }
        let Some(i) = find(&st, key) else { return false };
        st.issues[i].assignee = user.map(String::from);
        true
    }

    /// Make a user the fake knows the issue's reporter. False when the
    /// issue or the user does not exist.
    pub fn set_reporter(&self, key: &str, user: &str) -> bool {
        let mut st = self.lock();
        let Some(u) = super::people::find_user(&st, user) else { return false };
        let id = st.users[u].account_id.clone();
        let Some(i) = find(&st, key) else { return false };
        st.issues[i].reporter = Some(json!({"accountId": id}));
        true
    }
}
