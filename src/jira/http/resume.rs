//! The reads a resumed post relies on, each consistent by Atlassian's
//! account (never the search index, which lags): issues by key, comment
//! lists of one issue, entity properties per entity.

use reqwest::Method;
use serde_json::{Value, json};

use super::{HttpJira, json_body};
use crate::config::JiraFlavor;
use crate::domain::IssueKey;
use crate::jira::{JiraError, ProbedIssue};

/// The property mailgate keeps on what it creates.
const PROPERTY: &str = "mailgate";

/// How many of an issue's newest comments a resume looks through.
const NEWEST_COMMENTS: usize = 20;

/// The property's value for a mail: `{"messageId": …}`.
fn property_value(message_id: &str) -> Value {
    json!({"messageId": message_id})
}

/// The `properties` a create or a comment carries (an `EntityProperty` list).
pub(in crate::jira) fn properties_for(message_id: &str) -> Value {
    json!([{"key": PROPERTY, "value": property_value(message_id)}])
}

fn message_id_of(property: &Value) -> Option<String> {
    property.get("messageId").and_then(Value::as_str).map(String::from)
}

impl HttpJira {
    /// Read issues by key. Cloud: one `POST /issue/bulkfetch` (P3
    /// bulkFetchIssues: up to 100 ids or keys, missing ones left out, the
    /// `properties` asked for included). Data Center has no bulk fetch: one
    /// `GET /issue/{key}?properties=mailgate` each, a 404 meaning no issue.
    pub(super) async fn read_issues(&self, keys: &[IssueKey]) -> Result<Vec<ProbedIssue>, JiraError> {
        match self.flavor {
            JiraFlavor::Cloud => {
                let url = format!("{}/issue/bulkfetch", self.api());
                let ids: Vec<&str> = keys.iter().take(100).map(AsRef::as_ref).collect();
                let body = json!({"issueIdsOrKeys": ids, "fields": ["summary"], "properties": [PROPERTY]});
                // A read: safe to send again.
                let v = json_body(self.send(|| self.request(Method::POST, &url).json(&body), true).await?).await?;
                Ok(v.get("issues")
                    .and_then(Value::as_array)
                    .map(|issues| issues.iter().filter_map(probed).collect())
                    .unwrap_or_default())
            }
            JiraFlavor::Datacenter => {
                let mut out = Vec::new();
                for key in keys {
                    let url = format!("{}/issue/{}", self.api(), key);
                    let q = [("fields", "summary"), ("properties", PROPERTY)];
                    match self.send(|| self.request(Method::GET, &url).query(&q), true).await {
                        Ok(resp) => out.extend(probed(&json_body(resp).await?)),
                        Err(JiraError::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(out)
            }
        }
    }

    /// `PUT /issue/{key}/properties/mailgate` (P3 setIssueProperty: 200 or 201).
    pub(super) async fn put_property(&self, issue: &IssueKey, message_id: &str) -> Result<(), JiraError> {
        let url = format!("{}/issue/{}/properties/{PROPERTY}", self.api(), issue);
        let value = property_value(message_id);
        self.send(|| self.request(Method::PUT, &url).json(&value), true).await?;
        Ok(())
    }

    /// The comment an earlier attempt added for this Message-ID: the issue's
    /// newest comments (`orderBy=-created`, read from the issue, not the
    /// index), each one's `mailgate` property read with
    /// `GET /comment/{id}/properties/mailgate` (P3 getCommentProperty; the
    /// comment list's `expand` documents only `renderedBody`).
    pub(super) async fn comment_for(&self, issue: &IssueKey, message_id: &str) -> Result<Option<String>, JiraError> {
        let url = format!("{}/issue/{}/comment", self.api(), issue);
        let q = [("orderBy", "-created".to_string()), ("maxResults", NEWEST_COMMENTS.to_string())];
        let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
        let ids: Vec<String> = v
            .get("comments")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(|c| c.get("id")?.as_str().map(String::from)).collect())
            .unwrap_or_default();
        for id in ids {
            let url = format!("{}/comment/{}/properties/{PROPERTY}", self.api(), id);
            match self.send(|| self.request(Method::GET, &url), true).await {
                Ok(resp) => {
                    let v = json_body(resp).await?;
                    if v.get("value").and_then(message_id_of).as_deref() == Some(message_id) {
                        return Ok(Some(id));
                    }
                }
                // The comment has no such property: not ours.
                Err(JiraError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}

/// An issue from a bulk fetch or a GET, with its `mailgate` property.
fn probed(v: &Value) -> Option<ProbedIssue> {
    let key = IssueKey::parse(v.get("key")?.as_str()?).ok()?;
    let message_id = v.get("properties").and_then(|p| p.get(PROPERTY)).and_then(message_id_of);
    let summary = v.pointer("/fields/summary").and_then(Value::as_str).unwrap_or_default().to_string();
    Some(ProbedIssue { key, message_id, summary })
}
