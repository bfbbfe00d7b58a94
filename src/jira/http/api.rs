//! The `JiraApi` calls: issues, comments, attachments, search, JSM
//! requests, watchers.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::paging::Progress;
use super::{HttpJira, json_body};
use crate::config::JiraFlavor;
use crate::domain::IssueKey;
use crate::jira::requests;
use crate::jira::{
    AttachmentMeta, CreatedIssue, IssueRef, IssueState, JiraApi, JiraError, JiraUser, NewIssue, NewRequest,
    ProbedIssue, Transition, Upload,
};

pub(super) fn user_from(v: &Value) -> JiraUser {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    JiraUser { account_id: s("accountId"), name: s("name"), display_name: s("displayName"), email: s("emailAddress") }
}

/// An item's `id` on a page (issues, comments), else the whole object.
fn item_id(v: &Value) -> String {
    v.get("id").and_then(Value::as_str).map_or_else(|| v.to_string(), String::from)
}

fn issue_ref(v: &Value) -> Option<IssueRef> {
    let key = IssueKey::parse(v.get("key")?.as_str()?).ok()?;
    let id = v.get("id")?.as_str()?.to_string();
    Some(IssueRef { id, key })
}

#[async_trait]
impl JiraApi for HttpJira {
    #[tracing::instrument(skip_all)]
    async fn myself(&self) -> Result<JiraUser, JiraError> {
        let url = format!("{}/myself", self.api());
        let v = json_body(self.send(|| self.request(Method::GET, &url), true).await?).await?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Ok(JiraUser {
            account_id: s("accountId"),
            name: s("name"),
            display_name: s("displayName"),
            email: s("emailAddress"),
        })
    }

    #[tracing::instrument(skip_all, fields(project = %issue.project))]
    async fn create_issue(&self, issue: &NewIssue) -> Result<CreatedIssue, JiraError> {
        let req = requests::create_issue(self.flavor, issue);
        let url = format!("{}{}", self.base, req.path);
        let v =
            json_body(self.send_as(|| self.request(Method::POST, &url).json(&req.body), false, true).await?).await?;
        let r = issue_ref(&v).ok_or_else(|| JiraError::Decode(format!("create issue answer without id/key: {v}")))?;
        Ok(CreatedIssue { id: r.id, key: r.key })
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn add_comment(
        &self,
        issue: &IssueKey,
        body: &str,
        source_message_id: Option<&str>,
    ) -> Result<String, JiraError> {
        let req = requests::add_comment(self.flavor, issue, body, source_message_id);
        let url = format!("{}{}", self.base, req.path);
        let v = json_body(self.send(|| self.request(Method::POST, &url).json(&req.body), false).await?).await?;
        v.get("id")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| JiraError::Decode(format!("comment answer without id: {v}")))
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn find_comment(&self, issue: &IssueKey, source_message_id: &str) -> Result<Option<String>, JiraError> {
        self.comment_for(issue, source_message_id).await
    }

    #[tracing::instrument(skip_all, fields(keys = keys.len()))]
    async fn read_issues(&self, keys: &[IssueKey]) -> Result<Vec<ProbedIssue>, JiraError> {
        self.read_issues(keys).await
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn set_issue_property(&self, issue: &IssueKey, source_message_id: &str) -> Result<(), JiraError> {
        self.put_property(issue, source_message_id).await
    }

    fn text_length(&self, text: &str) -> usize {
        match self.body(text) {
            // What is sent: the wiki markup's characters (escapes included).
            Value::String(wiki) => wiki.chars().count(),
            // The stricter reading of Jira's 32,767 limit for ADF: its JSON.
            adf => adf.to_string().chars().count(),
        }
    }

    fn read_window(&self) -> usize {
        match self.flavor {
            JiraFlavor::Cloud => 100,
            JiraFlavor::Datacenter => 10,
        }
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn attachments(&self, issue: &IssueKey) -> Result<Vec<(String, u64)>, JiraError> {
        let url = format!("{}/issue/{}", self.api(), issue);
        let q = [("fields", "attachment")];
        let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
        Ok(v["fields"]["attachment"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| Some((x.get("filename")?.as_str()?.to_string(), x.get("size")?.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default())
    }

    #[tracing::instrument(skip_all, fields(issue = %issue, size = upload.data.len()))]
    async fn add_attachment(&self, issue: &IssueKey, upload: &Upload) -> Result<(), JiraError> {
        let url = format!("{}/issue/{}/attachments", self.api(), issue);
        // The bytes are shared with the parsed mail (no copy per attempt).
        let part = || {
            let len = upload.data.len() as u64;
            reqwest::multipart::Part::stream_with_length(reqwest::Body::from(upload.data.clone()), len)
                .file_name(upload.filename.clone())
        };
        let build = || {
            let part = match part().mime_str(&upload.content_type) {
                Ok(p) => p,
                Err(_) => part(),
            };
            self.request(Method::POST, &url)
                .header("X-Atlassian-Token", "no-check")
                .multipart(reqwest::multipart::Form::new().part("file", part))
        };
        let resp = self.send(build, false).await?;
        // Atlassian answers 200 with an array of the created attachments.
        let v = json_body(resp).await?;
        if v.as_array().is_none_or(|a| a.is_empty()) {
            return Err(JiraError::Decode(format!("attachment answer is not a non-empty array: {v}")));
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn search_issues(&self, jql: &str, fields: &[&str], max: usize) -> Result<Vec<Value>, JiraError> {
        let mut out: Vec<Value> = Vec::new();
        let fields = fields.join(",");
        match self.flavor {
            JiraFlavor::Cloud => {
                let url = format!("{}/search/jql", self.api());
                let mut token: Option<String> = None;
                let mut progress = Progress::default();
                loop {
                    let mut q: Vec<(&str, String)> =
                        vec![("jql", jql.to_string()), ("maxResults", "100".into()), ("fields", fields.clone())];
                    if let Some(t) = &token {
                        q.push(("nextPageToken", t.clone()));
                    }
                    let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
                    let issues = v.get("issues").and_then(Value::as_array).cloned().unwrap_or_default();
                    if !progress.advanced(token.as_deref().unwrap_or(""), issues.iter().map(item_id)) {
                        break;
                    }
                    out.extend(issues);
                    token = v.get("nextPageToken").and_then(Value::as_str).map(String::from);
                    let last = v.get("isLast").and_then(Value::as_bool).unwrap_or(token.is_none());
                    if last || token.is_none() || out.len() >= max {
                        break;
                    }
                }
            }
            JiraFlavor::Datacenter => {
                let url = format!("{}/search", self.api());
                let mut start = 0usize;
                let mut progress = Progress::default();
                loop {
                    let q = [
                        ("jql", jql.to_string()),
                        ("startAt", start.to_string()),
                        ("maxResults", "100".into()),
                        ("fields", fields.clone()),
                    ];
                    let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
                    let issues = v.get("issues").and_then(Value::as_array).cloned().unwrap_or_default();
                    let n = issues.len();
                    if !progress.advanced(&start.to_string(), issues.iter().map(item_id)) {
                        break;
                    }
                    out.extend(issues);
                    let total = v.get("total").and_then(Value::as_u64).unwrap_or(0) as usize;
                    start += n;
                    if start >= total || out.len() >= max {
                        break;
                    }
                }
            }
        }
        out.truncate(max);
        Ok(out)
    }

    #[tracing::instrument(skip_all, fields(service_desk = %request.service_desk))]
    async fn create_request(&self, request: &NewRequest) -> Result<CreatedIssue, JiraError> {
        let body = requests::create_request(request).body;
        let url = format!("{}/request", self.jsm());
        let v = json_body(self.send(|| self.request(Method::POST, &url).json(&body), false).await?).await?;
        let key = v
            .get("issueKey")
            .and_then(Value::as_str)
            .and_then(|k| IssueKey::parse(k).ok())
            .ok_or_else(|| JiraError::Decode(format!("request answer without issueKey: {v}")))?;
        let id = v.get("issueId").and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(CreatedIssue { id, key })
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn add_request_comment(&self, issue: &IssueKey, body: &str, public: bool) -> Result<String, JiraError> {
        let url = format!("{}/request/{}/comment", self.jsm(), issue);
        let payload = json!({"body": body, "public": public});
        let v = json_body(self.send(|| self.request(Method::POST, &url).json(&payload), false).await?).await?;
        Ok(v.get("id").and_then(Value::as_str).unwrap_or_default().to_string())
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn add_watcher(&self, issue: &IssueKey, user: &str) -> Result<(), JiraError> {
        let url = format!("{}/issue/{}/watchers", self.api(), issue);
        let payload = Value::String(user.to_string());
        self.send(|| self.request(Method::POST, &url).json(&payload), true).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn watchers(&self, issue: &IssueKey) -> Result<Vec<JiraUser>, JiraError> {
        let url = format!("{}/issue/{}/watchers", self.api(), issue);
        let v = json_body(self.send(|| self.request(Method::GET, &url), true).await?).await?;
        Ok(v.get("watchers").and_then(Value::as_array).map(|a| a.iter().map(user_from).collect()).unwrap_or_default())
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn request_comment_public(&self, issue: &IssueKey, comment_id: &str) -> Result<Option<bool>, JiraError> {
        // JSM getRequestCommentById; 404 when the issue is no request (or
        // the comment is not on it).
        let id: String = comment_id.chars().filter(char::is_ascii_digit).collect();
        let url = format!("{}/request/{}/comment/{}", self.jsm(), issue, id);
        match self.send(|| self.request(Method::GET, &url), true).await {
            Ok(r) => Ok(json_body(r).await?.get("public").and_then(Value::as_bool)),
            Err(JiraError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn issue_state(&self, issue: &IssueKey) -> Result<IssueState, JiraError> {
        self.issue_state(issue).await
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn transitions(&self, issue: &IssueKey) -> Result<Vec<Transition>, JiraError> {
        self.transitions(issue).await
    }

    #[tracing::instrument(skip_all, fields(issue = %issue, transition = transition_id))]
    async fn transition(&self, issue: &IssueKey, transition_id: &str) -> Result<(), JiraError> {
        self.transition(issue, transition_id).await
    }

    #[tracing::instrument(skip_all, fields(link_type = link_type, inward = %inward, outward = %outward))]
    async fn link_issues(&self, link_type: &str, inward: &IssueKey, outward: &IssueKey) -> Result<(), JiraError> {
        self.link(link_type, inward, outward).await
    }

    #[tracing::instrument(skip_all, fields(attachment = id))]
    async fn attachment_meta(&self, id: &str) -> Result<AttachmentMeta, JiraError> {
        self.attachment_meta(id).await
    }

    #[tracing::instrument(skip_all, fields(attachment = id, max_bytes = max_bytes))]
    async fn download_attachment(&self, id: &str, max_bytes: u64) -> Result<Option<bytes::Bytes>, JiraError> {
        self.download(id, max_bytes).await
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn add_request_participants(&self, issue: &IssueKey, users: &[String]) -> Result<(), JiraError> {
        let url = format!("{}/request/{}/participant", self.jsm(), issue);
        let payload = self.user_ids_body("accountIds", users);
        self.send(|| self.request(Method::POST, &url).json(&payload), true).await?;
        Ok(())
    }
}
