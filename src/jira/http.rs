//! The real Jira client (reqwest). Cloud speaks REST v3 with ADF bodies,
//! Data Center REST v2 with plain bodies. Rate limits are honoured
//! (`Retry-After`), pages are followed to the end.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::limit::RateLimiter;
use super::{CreatedIssue, IssueRef, JiraApi, JiraError, JiraUser, NewIssue, NewRequest, Upload, text_to_adf};
use crate::config::{JiraAuth, JiraFlavor, JiraSettings};
use crate::domain::IssueKey;

mod identity;

/// Longest `Retry-After` we sleep through inside one call; longer waits
/// go back to the caller, which parks the mail.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(30);

pub struct HttpJira {
    client: reqwest::Client,
    base: String,
    flavor: JiraFlavor,
    auth: Auth,
    max_retries: u32,
    limiter: Arc<RateLimiter>,
}

enum Auth {
    Basic { user: String, secret: SecretString },
    Bearer(SecretString),
}

impl std::fmt::Debug for HttpJira {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpJira").field("base", &self.base).field("flavor", &self.flavor).finish_non_exhaustive()
    }
}

impl HttpJira {
    /// The client for the configured (app) credentials, with its own limiter.
    pub fn new(settings: &JiraSettings) -> Result<Self, JiraError> {
        Self::with_auth(settings, &settings.auth, Arc::new(RateLimiter::new(settings.max_requests_per_sec)))
    }

    /// The same site with other credentials (the workaround user's token),
    /// sharing `limiter` with the other clients.
    pub fn with_auth(settings: &JiraSettings, auth: &JiraAuth, limiter: Arc<RateLimiter>) -> Result<Self, JiraError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs))
            .connect_timeout(Duration::from_secs(settings.timeout_secs.min(10)))
            .user_agent(concat!("mailgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(JiraError::Network)?;
        let auth = match auth {
            JiraAuth::Basic { user, secret } => Auth::Basic { user: user.clone(), secret: secret.clone() },
            JiraAuth::Bearer { token } => Auth::Bearer(token.clone()),
        };
        Ok(Self {
            client,
            base: settings.base_url.trim_end_matches('/').to_string(),
            flavor: settings.flavor,
            auth,
            max_retries: settings.max_retries,
            limiter,
        })
    }

    fn jsm(&self) -> String {
        format!("{}/rest/servicedeskapi", self.base)
    }

    /// Users (or customers) by account id on Cloud, by username on DC.
    fn user_ids_body(&self, key_cloud: &str, ids: &[String]) -> Value {
        match self.flavor {
            JiraFlavor::Cloud => json!({ key_cloud: ids }),
            JiraFlavor::Datacenter => json!({"usernames": ids}),
        }
    }

    fn api(&self) -> String {
        match self.flavor {
            JiraFlavor::Cloud => format!("{}/rest/api/3", self.base),
            JiraFlavor::Datacenter => format!("{}/rest/api/2", self.base),
        }
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let rb = self.client.request(method, url).header("Accept", "application/json");
        match &self.auth {
            Auth::Basic { user, secret } => rb.basic_auth(user, Some(secret.expose_secret())),
            Auth::Bearer(token) => rb.bearer_auth(token.expose_secret()),
        }
    }

    fn body(&self, text: &str) -> Value {
        match self.flavor {
            JiraFlavor::Cloud => text_to_adf(text),
            JiraFlavor::Datacenter => Value::String(text.to_string()),
        }
    }

    /// Send, retrying rate limits always and server/network errors only when
    /// `idempotent` (a POST that timed out may have taken effect).
    async fn send(&self, build: impl Fn() -> RequestBuilder, idempotent: bool) -> Result<Response, JiraError> {
        let mut attempt = 0u32;
        loop {
            self.limiter.acquire().await;
            let result = match build().send().await {
                Ok(resp) => check(resp).await,
                Err(e) => Err(JiraError::Network(e.without_url())),
            };
            let err = match result {
                Ok(resp) => return Ok(resp),
                Err(e) => e,
            };
            if let JiraError::RateLimited { retry_after } = &err {
                // Everyone waits, not only this call.
                self.limiter.pause(retry_after.unwrap_or(Duration::from_secs(1)).min(MAX_INLINE_WAIT));
            }
            let retry = match &err {
                JiraError::RateLimited { retry_after } => retry_after.is_none_or(|d| d <= MAX_INLINE_WAIT),
                e if e.is_transient() => idempotent,
                _ => false,
            };
            if !retry || attempt >= self.max_retries {
                return Err(err);
            }
            let backoff = Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6)));
            let wait = match &err {
                JiraError::RateLimited { retry_after: Some(d) } => *d,
                _ => backoff,
            };
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %err, "retrying Jira call");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// Map a response to success or a typed error.
async fn check(resp: Response) -> Result<Response, JiraError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = resp.text().await.unwrap_or_default();
    let message = error_message(&body);
    Err(match status {
        StatusCode::UNAUTHORIZED => JiraError::Unauthorized,
        StatusCode::FORBIDDEN => JiraError::Forbidden(message),
        StatusCode::NOT_FOUND => JiraError::NotFound(message),
        StatusCode::TOO_MANY_REQUESTS => JiraError::RateLimited { retry_after },
        s if s.is_server_error() => JiraError::Server { status: s.as_u16(), message },
        s => JiraError::Rejected { status: s.as_u16(), message },
    })
}

/// Text of an Atlassian error body: platform `ErrorCollection`
/// (`errorMessages` + `errors`) or JSM `ErrorResponse` (`errorMessage`).
pub fn error_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.chars().take(300).collect();
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(msgs) = v.get("errorMessages").and_then(Value::as_array) {
        parts.extend(msgs.iter().filter_map(Value::as_str).map(String::from));
    }
    if let Some(errs) = v.get("errors").and_then(Value::as_object) {
        parts.extend(errs.iter().map(|(k, m)| format!("{k}: {}", m.as_str().unwrap_or_default())));
    }
    if let Some(m) = v.get("errorMessage").and_then(Value::as_str) {
        parts.push(m.to_string());
    }
    if parts.is_empty() { body.chars().take(300).collect() } else { parts.join("; ") }
}

async fn json_body(resp: Response) -> Result<Value, JiraError> {
    resp.json::<Value>().await.map_err(JiraError::Body)
}

fn user_from(v: &Value) -> JiraUser {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    JiraUser { account_id: s("accountId"), name: s("name"), display_name: s("displayName"), email: s("emailAddress") }
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
        let mut fields = json!({
            "project": {"key": issue.project},
            "issuetype": {"name": issue.issue_type},
            "summary": issue.summary,
            "description": self.body(&issue.description),
        });
        if !issue.labels.is_empty() {
            fields["labels"] = json!(issue.labels);
        }
        if !issue.components.is_empty() {
            fields["components"] = Value::Array(issue.components.iter().map(|c| json!({"name": c})).collect());
        }
        if let Some(r) = &issue.reporter {
            fields["reporter"] = match self.flavor {
                JiraFlavor::Cloud => json!({"accountId": r}),
                JiraFlavor::Datacenter => json!({"name": r}),
            };
        }
        let mut body = json!({"fields": fields});
        if let Some(mid) = &issue.source_message_id {
            body["properties"] = json!([{"key": "mailgate", "value": {"messageId": mid}}]);
        }
        let url = format!("{}/issue", self.api());
        let v = json_body(self.send(|| self.request(Method::POST, &url).json(&body), false).await?).await?;
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
        let url = format!("{}/issue/{}/comment", self.api(), issue);
        let mut payload = json!({"body": self.body(body)});
        if let Some(mid) = source_message_id {
            payload["properties"] = json!([{"key": "mailgate", "value": {"messageId": mid}}]);
        }
        let v = json_body(self.send(|| self.request(Method::POST, &url).json(&payload), false).await?).await?;
        v.get("id")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| JiraError::Decode(format!("comment answer without id: {v}")))
    }

    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn find_comment(&self, issue: &IssueKey, source_message_id: &str) -> Result<Option<String>, JiraError> {
        let url = format!("{}/issue/{}/comment", self.api(), issue);
        let mut start = 0usize;
        loop {
            let q = [
                ("startAt", start.to_string()),
                ("maxResults", "100".to_string()),
                ("expand", "properties".to_string()),
            ];
            let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
            let comments = v.get("comments").and_then(Value::as_array).cloned().unwrap_or_default();
            let found = comments.iter().find(|c| {
                c.get("properties").and_then(Value::as_array).is_some_and(|props| {
                    props.iter().any(|p| p["key"] == "mailgate" && p["value"]["messageId"] == source_message_id)
                })
            });
            if let Some(c) = found {
                return Ok(c.get("id").and_then(Value::as_str).map(String::from));
            }
            start += comments.len();
            let total = v.get("total").and_then(Value::as_u64).unwrap_or(0) as usize;
            if comments.is_empty() || start >= total {
                return Ok(None);
            }
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
                loop {
                    let mut q: Vec<(&str, String)> =
                        vec![("jql", jql.to_string()), ("maxResults", "100".into()), ("fields", fields.clone())];
                    if let Some(t) = &token {
                        q.push(("nextPageToken", t.clone()));
                    }
                    let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
                    out.extend(v.get("issues").and_then(Value::as_array).cloned().unwrap_or_default());
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
                    out.extend(issues);
                    let total = v.get("total").and_then(Value::as_u64).unwrap_or(0) as usize;
                    start += n;
                    if n == 0 || start >= total || out.len() >= max {
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
        let mut body = json!({
            "serviceDeskId": request.service_desk,
            "requestTypeId": request.request_type,
            "requestFieldValues": {"summary": request.summary, "description": request.description},
        });
        if let Some(who) = &request.on_behalf_of {
            body["raiseOnBehalfOf"] = json!(who);
        }
        if !request.participants.is_empty() {
            body["requestParticipants"] = json!(request.participants);
        }
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
    async fn add_request_participants(&self, issue: &IssueKey, users: &[String]) -> Result<(), JiraError> {
        let url = format!("{}/request/{}/participant", self.jsm(), issue);
        let payload = self.user_ids_body("accountIds", users);
        self.send(|| self.request(Method::POST, &url).json(&payload), true).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::error_message;

    #[test]
    fn atlassian_error_bodies_are_read() {
        let m = error_message(r#"{"errorMessages":["Issue does not exist"],"errors":{"summary":"required"}}"#);
        assert_eq!(m, "Issue does not exist; summary: required");
        assert_eq!(error_message(r#"{"errorMessage":"nope","i18nErrorMessage":{}}"#), "nope");
    }
}
