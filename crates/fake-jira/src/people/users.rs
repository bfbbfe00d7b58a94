//! The people the fake knows (users, service desks, JSM requests, project
//! roles) and the user bodies every people route answers with. A leaf under
//! `people`: `people` and `people::jsm` both import from here.

use axum::body::Bytes;
use serde_json::{Value, json};

use super::super::State;
use super::super::model;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub account_id: String,
    /// Data Center username.
    pub name: String,
    pub email: String,
    pub display_name: String,
    pub active: bool,
    /// `atlassian` or `customer`.
    pub account_type: String,
    pub groups: Vec<String>,
    /// Profile visibility hides the email: no `emailAddress` in any user
    /// object ("if the user has chosen to hide fields in their profile,
    /// your apps will not be able to retrieve those fields via the API",
    /// developer.atlassian.com/cloud/jira/platform/profile-visibility/).
    pub email_hidden: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeServiceDesk {
    pub id: String,
    pub project: String,
    pub customers: Vec<String>,
}

/// Request details of an issue created through JSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRequest {
    pub service_desk: String,
    pub request_type: String,
    pub on_behalf_of: Option<String>,
    pub participants: Vec<String>,
}

/// A project role with user (account id) and group actors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeRole {
    pub project: String,
    pub id: String,
    pub name: String,
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

/// Every user object the fake answers with goes through here: a hidden
/// email is left out (profile visibility, see [`FakeUser::email_hidden`]).
pub fn omit_hidden_email(u: &FakeUser, v: &mut Value) {
    if u.email_hidden
        && let Some(o) = v.as_object_mut()
    {
        o.remove("emailAddress");
    }
}

pub fn user_json(base: &str, api: &str, u: &FakeUser) -> Value {
    let mut v = json!({
        "self": format!("{base}/rest/api/{api}/user?accountId={}", u.account_id),
        "accountId": u.account_id,
        "accountType": u.account_type,
        "emailAddress": u.email,
        "displayName": u.display_name,
        "active": u.active,
        "timeZone": "Etc/UTC",
        "avatarUrls": {
            "16x16": format!("{base}/avatar/16"), "24x24": format!("{base}/avatar/24"),
            "32x32": format!("{base}/avatar/32"), "48x48": format!("{base}/avatar/48")
        }
    });
    omit_hidden_email(u, &mut v);
    if api == "2" {
        v["name"] = json!(u.name);
        v["key"] = json!(u.name);
        v["self"] = json!(format!("{base}/rest/api/2/user?username={}", u.name));
        if let Some(o) = v.as_object_mut() {
            o.remove("accountId");
            o.remove("accountType");
        }
    }
    v
}

pub fn user_dto(base: &str, u: &FakeUser) -> Value {
    let mut v = json!({
        "accountId": u.account_id,
        "emailAddress": u.email,
        "displayName": u.display_name,
        "active": u.active,
        "timeZone": "Etc/UTC",
        "_links": {
            "jiraRest": format!("{base}/rest/api/2/user?accountId={}", u.account_id),
            "avatarUrls": {"16x16": format!("{base}/avatar/16"), "24x24": format!("{base}/avatar/24"), "32x32": format!("{base}/avatar/32"), "48x48": format!("{base}/avatar/48")},
            "self": format!("{base}/rest/api/2/user?accountId={}", u.account_id)
        }
    });
    omit_hidden_email(u, &mut v);
    v
}

/// The authenticated caller (`model::user_json`) as a JSM `UserDTO`: JSM
/// user objects have no `self`/`accountType` (additionalProperties: false).
pub fn caller_dto(base: &str) -> Value {
    let me = model::user_json(base);
    let s = |k: &str| me[k].as_str().unwrap_or_default().to_string();
    let caller = FakeUser {
        account_id: s("accountId"),
        name: s("emailAddress"),
        email: s("emailAddress"),
        display_name: s("displayName"),
        active: me["active"].as_bool().unwrap_or(true),
        account_type: s("accountType"),
        groups: Vec::new(),
        email_hidden: false,
    };
    user_dto(base, &caller)
}

pub fn date_dto(n: u64) -> Value {
    let iso = model::jira_time(n);
    json!({"iso8601": iso, "jira": iso, "friendly": "Today", "epochMillis": (1_790_000_000 + n) * 1000})
}

pub fn new_user(st: &mut State, email: &str, display: &str, account_type: &str) -> FakeUser {
    st.next_user_id += 1;
    let account_id = if account_type == "customer" {
        format!("qm:{:08x}-0000-4000-8000-{:012x}:{:x}", st.next_user_id, st.next_user_id, st.next_user_id)
    } else {
        format!("712020:{:08x}-aaaa-4bbb-8ccc-{:012x}", st.next_user_id, st.next_user_id)
    };
    let u = FakeUser {
        account_id,
        name: email.to_string(),
        email: email.to_string(),
        display_name: display.to_string(),
        active: true,
        account_type: account_type.to_string(),
        groups: Vec::new(),
        email_hidden: false,
    };
    st.users.push(u.clone());
    u
}

pub fn find_user(st: &State, id: &str) -> Option<usize> {
    st.users.iter().position(|u| u.account_id == id || u.name == id)
}

pub fn parse_json(body: &Bytes) -> Option<Value> {
    serde_json::from_slice(body).ok()
}
