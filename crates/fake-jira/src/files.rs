//! Attachment metadata and content: `GET /attachment/{id}` (P3 and DC
//! getAttachment), Cloud's `GET /attachment/content/{id}` (P3
//! getAttachmentContent: 303 to the media host, or 200 with `redirect=false`),
//! the media host itself, and Data Center's download servlet
//! `/secure/attachment/{id}/{filename}` (the DC 10.3 spec has no content
//! operation: its getAttachment answer "contains a URI that can be used to
//! download the actual attached file", which on Server/DC is this servlet;
//! the JSM spec's examples show the same path under `customershim`).

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use super::entities::find;
use super::wire::{error_collection, json_response, query_map};
use super::{FakeAttachment, FakeJira, State, model, people};

/// Where the fake's media host lives (same server, no Jira credentials:
/// Cloud's media URLs carry their own short-lived token).
pub const MEDIA_PREFIX: &str = "/media/file/";

/// Percent-encode one path segment (a file name has spaces and more).
fn encode_segment(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The attachment's `content` link: getAttachmentContent on v3 (as P3's
/// examples show it), the download servlet on v2 (Data Center).
pub fn content_url(base: &str, api: &str, a: &FakeAttachment) -> String {
    if api == "3" {
        format!("{base}/rest/api/3/attachment/content/{}", a.id)
    } else {
        format!("{base}/secure/attachment/{}/{}", a.id, encode_segment(&a.filename))
    }
}

fn lookup<'a>(st: &'a State, id: &str) -> Option<&'a FakeAttachment> {
    st.issues.iter().flat_map(|i| i.attachments.iter()).find(|a| a.id == id)
}

fn missing(id: &str) -> Response {
    let message = format!("The attachment with id '{id}' does not exist.");
    error_collection(StatusCode::NOT_FOUND, &[message.as_str()], &[])
}

/// `GET /rest/api/{2,3}/attachment/{id}`: P3 `AttachmentMetadata` (an
/// integer `id`, additionalProperties false) or DC `AttachmentBean` (a
/// string `id`); 404 when there is no such attachment.
pub fn meta(st: &State, api: &str, id: &str) -> Response {
    let Some(a) = lookup(st, id) else { return missing(id) };
    let base = &st.base_url;
    let (self_url, id) = if api == "3" {
        (
            format!("{base}/rest/api/3/attachments/{}", a.id),
            a.id.parse::<i64>().map_or_else(|_| json!(a.id), |n| json!(n)),
        )
    } else {
        (format!("{base}/rest/api/2/attachment/{}", a.id), json!(a.id))
    };
    json_response(
        StatusCode::OK,
        json!({
            "self": self_url,
            "id": id,
            "filename": a.filename,
            "author": people::author_json(st, api, a.author.as_deref()),
            "created": a.created,
            "size": a.data.len(),
            "mimeType": a.mime_type,
            "content": content_url(base, api, a)
        }),
    )
}

/// The media token of an attachment (stands in for Cloud's signed token).
fn media_token(id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("fake-media:{id}"))
}

/// The bytes, as a download answers them.
fn bytes_response(a: &FakeAttachment) -> Response {
    let mut resp = (StatusCode::OK, a.data.clone()).into_response();
    if let Ok(v) = HeaderValue::from_str(&a.mime_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

/// `GET /rest/api/{2,3}/attachment/content/{id}` (P3 getAttachmentContent):
/// by default 303 with the download URL in `Location` ("See the `Location`
/// header for the download URL"), with `redirect=false` 200 and the bytes.
/// `Range` is not modelled (no 206/416).
pub fn content(st: &State, id: &str, uri: &Uri) -> Response {
    let Some(a) = lookup(st, id) else { return missing(id) };
    if query_map(uri).get("redirect").is_some_and(|r| r == "false") {
        return bytes_response(a);
    }
    // The media host is not behind the 3LO gateway.
    let location = format!(
        "{}{MEDIA_PREFIX}{}/binary?token={}&client=fake-jira&dl=true&name={}",
        st.origin_url,
        a.id,
        media_token(&a.id),
        encode_segment(&a.filename)
    );
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// `GET /media/file/{id}/binary?token=…`: the media host; the token is the
/// credential (no Jira authentication), a wrong one is refused.
pub fn media(st: &State, id: &str, uri: &Uri) -> Response {
    if query_map(uri).get("token").is_none_or(|t| *t != media_token(id)) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "the media token is not valid"})))
            .into_response();
    }
    match lookup(st, id) {
        Some(a) => bytes_response(a),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /secure/attachment/{id}/{filename}` (Data Center's download
/// servlet, Jira credentials required): the bytes.
pub fn secure(st: &State, id: &str) -> Response {
    match lookup(st, id) {
        Some(a) => bytes_response(a),
        None => missing(id),
    }
}

/// The account agents' uploads are made by (created on first use).
const AGENT_EMAIL: &str = "agent@example.test";

/// Test set-up: attachments agents add in Jira.
impl FakeJira {
    /// An attachment an agent uploaded in Jira (author: the fake's agent
    /// account `agent@example.test`, added as a Jira user on first use).
    /// Returns the attachment's id; `None` when there is no such issue.
    pub fn add_agent_attachment(&self, key: &str, filename: &str, mime: &str, data: &[u8]) -> Option<String> {
        let agent = {
            let mut st = self.lock();
            match st.users.iter().find(|u| u.email == AGENT_EMAIL) {
                Some(u) => u.account_id.clone(),
                None => people::new_user(&mut st, AGENT_EMAIL, "Support Agent", "atlassian").account_id,
            }
        };
        self.add_attachment_by(key, &agent, filename, mime, data)
    }

    /// An attachment uploaded in Jira by a given user (account id or DC
    /// username). Returns its id; `None` when there is no such issue.
    pub fn add_attachment_by(
        &self,
        key: &str,
        author: &str,
        filename: &str,
        mime: &str,
        data: &[u8],
    ) -> Option<String> {
        let mut st = self.lock();
        let i = find(&st, key)?;
        st.next_attachment_id += 1;
        let id = st.next_attachment_id.to_string();
        let created = model::jira_time(st.next_attachment_id);
        st.issues[i].attachments.push(FakeAttachment {
            id: id.clone(),
            filename: filename.to_string(),
            mime_type: mime.to_string(),
            data: data.to_vec(),
            created: created.clone(),
            author: Some(author.to_string()),
        });
        st.issues[i].touch(created);
        Some(id)
    }
}
