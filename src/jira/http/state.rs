//! Workflow state, transitions, issue links and attachment downloads. The
//! same paths on Cloud (`/rest/api/3`) and Data Center (`/rest/api/2`) except
//! for the download (see [`HttpJira::download`]).

use bytes::{Bytes, BytesMut};
use reqwest::{Method, Response};
use serde_json::json;

use super::{HttpJira, json_body};
use crate::config::JiraFlavor;
use crate::domain::IssueKey;
use crate::jira::JiraError;
use crate::jira::state::{self, AttachmentMeta, IssueState, Transition};

/// The fields `issue_state` asks for.
const STATE_FIELDS: &str = "status,resolution,resolutiondate,reporter,assignee";

/// Attachment ids are numbers (P3 `AttachmentMetadata.id` is int64); no
/// other text goes into a URL path.
fn attachment_id(id: &str) -> Result<&str, JiraError> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(JiraError::NotFound(format!("no attachment with id {id:?}")))
    }
}

impl HttpJira {
    /// `GET /issue/{key}?fields=…` (getIssue; 404 when the issue does not
    /// exist or is not visible: "no 302", moved issues are followed by Jira).
    pub(super) async fn issue_state(&self, issue: &IssueKey) -> Result<IssueState, JiraError> {
        let url = format!("{}/issue/{}", self.api(), issue);
        let q = [("fields", STATE_FIELDS)];
        let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
        state::issue_state_from(&v).ok_or_else(|| JiraError::Decode(format!("issue {issue} answered without a status")))
    }

    /// `GET /issue/{key}/transitions` (getTransitions: the transitions
    /// offered from the current status; none without *Transition issues*).
    pub(super) async fn transitions(&self, issue: &IssueKey) -> Result<Vec<Transition>, JiraError> {
        let url = format!("{}/issue/{}/transitions", self.api(), issue);
        let v = json_body(self.send(|| self.request(Method::GET, &url), true).await?).await?;
        Ok(state::transitions_from(&v))
    }

    /// `POST /issue/{key}/transitions` `{"transition":{"id":…}}` (doTransition:
    /// 204; 400 when the transition is not offered from the current status).
    /// Not retried after a lost answer: done once, the same transition is
    /// usually no longer offered.
    pub(super) async fn transition(&self, issue: &IssueKey, transition_id: &str) -> Result<(), JiraError> {
        let url = format!("{}/issue/{}/transitions", self.api(), issue);
        let body = json!({"transition": {"id": transition_id}});
        self.send(|| self.request(Method::POST, &url).json(&body), false).await?;
        Ok(())
    }

    /// `POST /issueLink` (linkIssues: 201 without a body; 404 for an unknown
    /// issue or link type). Safe to repeat: "If the link request duplicates
    /// a link, the response indicates that the issue link was created" (P3).
    pub(super) async fn link(&self, link_type: &str, inward: &IssueKey, outward: &IssueKey) -> Result<(), JiraError> {
        let url = format!("{}/issueLink", self.api());
        let body = json!({
            "type": {"name": link_type},
            "inwardIssue": {"key": inward.to_string()},
            "outwardIssue": {"key": outward.to_string()},
        });
        self.send(|| self.request(Method::POST, &url).json(&body), true).await?;
        Ok(())
    }

    /// `GET /attachment/{id}` (getAttachment: P3 `AttachmentMetadata`, DC
    /// `AttachmentBean`).
    pub(super) async fn attachment_meta(&self, id: &str) -> Result<AttachmentMeta, JiraError> {
        let url = format!("{}/attachment/{}", self.api(), attachment_id(id)?);
        let v = json_body(self.send(|| self.request(Method::GET, &url), true).await?).await?;
        state::attachment_meta_from(&v).ok_or_else(|| JiraError::Decode(format!("attachment {id}: {v}")))
    }

    /// An attachment's bytes, or `None` when it is larger than `max_bytes`:
    /// the metadata's `size` is checked first (nothing is downloaded then),
    /// then `Content-Length`, then the bytes as they arrive (reading stops
    /// before `max_bytes` would be passed).
    ///
    /// Cloud: `GET /rest/api/3/attachment/content/{id}` (getAttachmentContent)
    /// answers 303 to the media host, which reqwest follows (it drops the
    /// `Authorization` header when the redirect leaves the host; the media
    /// URL carries its own token). Data Center 10.3 has no content operation
    /// (its spec lists only `attachment/{id}`, `meta` and `expand/*`): the
    /// metadata's `content` link is Jira's download servlet
    /// `/secure/attachment/{id}/{filename}`, read here under the configured
    /// base URL so that the credentials go nowhere else.
    pub(super) async fn download(&self, id: &str, max_bytes: u64) -> Result<Option<Bytes>, JiraError> {
        let meta = self.attachment_meta(id).await?;
        if meta.size > max_bytes {
            return Ok(None);
        }
        let url = match self.flavor {
            JiraFlavor::Cloud => format!("{}/attachment/content/{}", self.api(), attachment_id(&meta.id)?),
            JiraFlavor::Datacenter => self.servlet_url(attachment_id(&meta.id)?, &meta.filename)?,
        };
        let resp = self.send(|| self.request_accepting(Method::GET, &url, "*/*"), true).await?;
        read_capped(resp, max_bytes).await
    }

    /// `{base}/secure/attachment/{id}/{filename}`, the file name encoded as
    /// one path segment.
    fn servlet_url(&self, id: &str, filename: &str) -> Result<String, JiraError> {
        let mut url = reqwest::Url::parse(&self.base)
            .map_err(|e| JiraError::Decode(format!("the Jira base URL is not a URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| JiraError::Decode("the Jira base URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(["secure", "attachment", id, filename]);
        Ok(url.into())
    }
}

/// The body, unless it is longer than `max` (then `None`, read no further).
/// Errors lose the URL: a media URL carries a token.
async fn read_capped(mut resp: Response, max: u64) -> Result<Option<Bytes>, JiraError> {
    if resp.content_length().is_some_and(|n| n > max) {
        return Ok(None);
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| JiraError::Body(e.without_url()))? {
        if (buf.len() as u64).saturating_add(chunk.len() as u64) > max {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(buf.freeze()))
}

#[cfg(test)]
mod tests {
    use super::read_capped;

    fn answer(body: &'static [u8]) -> reqwest::Response {
        reqwest::Response::from(axum::http::Response::new(reqwest::Body::from(body)))
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_not_kept_and_one_at_the_cap_is() {
        assert_eq!(read_capped(answer(b"12345"), 5).await.expect("read").as_deref(), Some(&b"12345"[..]));
        assert_eq!(read_capped(answer(b"123456"), 5).await.expect("read"), None);
        assert_eq!(read_capped(answer(b""), 0).await.expect("read").as_deref(), Some(&b""[..]));
    }
}
