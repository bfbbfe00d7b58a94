//! Issue links: `POST /issueLink` (P3 and DC linkIssues) and the issues'
//! `issuelinks` field.
//!
//! The link types are a new site's defaults: Blocks, Cloners, Duplicate,
//! Relates, with Jira Cloud's ids and descriptions
//! (`GET /rest/api/3/issueLinkType`).

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::entities::find;
use super::wire::error_collection;
use super::{FakeIssue, FakeJira, State};

/// A link between two issues, by key, as linkIssues names them: it reads
/// "`inward` <the type's outward text> `outward`", e.g. inwardIssue HELP-1,
/// outwardIssue HELP-2, Blocks: "HELP-1 blocks HELP-2". (Jira's quirk: the
/// `inwardIssue` of the request is the link's source. Atlassian's
/// jira-rest-java-client sends `LinkIssuesInput(from, to)` as
/// `inwardIssue: from, outwardIssue: to`, and its tests find the link
/// outbound on `from`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeLink {
    pub id: String,
    pub link_type: String,
    pub inward: String,
    pub outward: String,
}

/// (id, name, inward, outward).
const LINK_TYPES: [(&str, &str, &str, &str); 4] = [
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
];

fn link_type(name: &str) -> Option<&'static (&'static str, &'static str, &'static str, &'static str)> {
    LINK_TYPES.iter().find(|t| t.1 == name)
}

fn type_json(base: &str, api: &str, t: &(&str, &str, &str, &str)) -> Value {
    json!({
        "id": t.0,
        "name": t.1,
        "inward": t.2,
        "outward": t.3,
        "self": format!("{base}/rest/api/{api}/issueLinkType/{}", t.0)
    })
}

fn not_found(message: &str) -> Response {
    error_collection(StatusCode::NOT_FOUND, &[message], &[])
}

/// `POST /rest/api/{2,3}/issueLink`: 201 with no body ("This resource
/// returns nothing on the creation of an issue link"). A link that exists
/// already is not made twice, and still answers 201 ("If the link request
/// duplicates a link, the response indicates that the issue link was
/// created"). 404 when an issue or the link type is not found (both specs);
/// the messages are Jira's as Atlassian's own REST client tests them
/// (jira-rest-java-client `JerseyIssueRestClientTest.testLinkIssuesWithInvalidParams`:
/// "Issue Does Not Exist", "No issue link type with name
/// 'NonExistingLinkType' found."). The type is named by `name` or `id`.
pub fn link_issues(st: &mut State, body: &Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return error_collection(StatusCode::BAD_REQUEST, &["Unexpected character in request body."], &[]);
    };
    let t = match (v["type"]["name"].as_str(), v["type"]["id"].as_str()) {
        (Some(name), _) => match link_type(name) {
            Some(t) => t,
            None => return not_found(&format!("No issue link type with name '{name}' found.")),
        },
        (None, Some(id)) => match LINK_TYPES.iter().find(|t| t.0 == id) {
            Some(t) => t,
            None => return not_found(&format!("No issue link type with id '{id}' found.")),
        },
        (None, None) => return not_found("No issue link type with name 'null' found."),
    };
    let issue = |side: &str| {
        let r = &v[side];
        r["key"].as_str().or_else(|| r["id"].as_str()).and_then(|k| find(st, k)).map(|i| st.issues[i].key.clone())
    };
    let (Some(inward), Some(outward)) = (issue("inwardIssue"), issue("outwardIssue")) else {
        return not_found("Issue Does Not Exist");
    };
    let exists = st.links.iter().any(|l| l.link_type == t.1 && l.inward == inward && l.outward == outward);
    if !exists {
        st.next_link_id += 1;
        let id = st.next_link_id.to_string();
        st.links.push(FakeLink { id, link_type: t.1.to_string(), inward, outward });
    }
    StatusCode::CREATED.into_response()
}

/// An issue's `issuelinks` field: each link with the other issue on the
/// side it is on (P3 `IssueLink`: `outwardIssue` when this issue is the
/// inward one, and the reverse).
pub fn issue_links_json(st: &State, api: &str, issue: &FakeIssue) -> Value {
    let base = &st.base_url;
    let other = |key: &str| {
        let id = find(st, key).map(|i| st.issues[i].id.clone()).unwrap_or_default();
        json!({"id": id, "key": key, "self": format!("{base}/rest/api/{api}/issue/{id}")})
    };
    let links = st.links.iter().filter(|l| l.inward == issue.key || l.outward == issue.key).filter_map(|l| {
        let t = link_type(&l.link_type)?;
        let mut v = json!({
            "id": l.id,
            "self": format!("{base}/rest/api/{api}/issueLink/{}", l.id),
            "type": type_json(base, api, t)
        });
        if l.inward == issue.key {
            v["outwardIssue"] = other(&l.outward);
        } else {
            v["inwardIssue"] = other(&l.inward);
        }
        Some(v)
    });
    Value::Array(links.collect())
}

/// Test inspection: links.
impl FakeJira {
    /// The links of an issue as (link type, the other issue's key), in the
    /// order they were made.
    pub fn links(&self, key: &str) -> Vec<(String, String)> {
        let st = self.lock();
        st.links
            .iter()
            .filter_map(|l| {
                let other = if l.inward == key {
                    &l.outward
                } else if l.outward == key {
                    &l.inward
                } else {
                    return None;
                };
                Some((l.link_type.clone(), other.clone()))
            })
            .collect()
    }

    /// Every link, with its direction.
    pub fn all_links(&self) -> Vec<FakeLink> {
        self.lock().links.clone()
    }
}
