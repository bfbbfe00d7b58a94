//! Jira: the narrow trait the pipeline calls, its error type, and the
//! reqwest client beside it.

mod adf;
mod error;
mod http;

pub use adf::{adf_to_text, text_to_adf};
pub use error::JiraError;
pub use http::HttpJira;

use async_trait::async_trait;

use crate::domain::IssueKey;

/// An issue to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIssue {
    pub project: String,
    pub issue_type: String,
    pub summary: String,
    /// Plain text; the client turns it into ADF (Cloud) or sends it as is (Data Center).
    pub description: String,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    /// accountId (Cloud) or username (Data Center).
    pub reporter: Option<String>,
    /// Stored as the `mailgate` issue property so a lost response can be found again.
    pub source_message_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedIssue {
    pub id: String,
    pub key: IssueKey,
}

/// An attachment upload.
#[derive(Clone)]
pub struct Upload {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A found issue (search results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    pub id: String,
    pub key: IssueKey,
}

/// The authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraUser {
    pub account_id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

#[async_trait]
pub trait JiraApi: Send + Sync {
    async fn myself(&self) -> Result<JiraUser, JiraError>;
    async fn create_issue(&self, issue: &NewIssue) -> Result<CreatedIssue, JiraError>;
    /// Add a comment; returns the comment id.
    async fn add_comment(&self, issue: &IssueKey, body: &str) -> Result<String, JiraError>;
    async fn add_attachment(&self, issue: &IssueKey, upload: &Upload) -> Result<(), JiraError>;
    /// Issues matching a JQL query, every page followed (bounded by `max`).
    async fn search(&self, jql: &str, max: usize) -> Result<Vec<IssueRef>, JiraError>;
}
