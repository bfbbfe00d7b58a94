//! Jira: the narrow trait the pipeline calls, its error type, and the
//! reqwest client beside it.

mod error;
mod http;
mod jql;
pub mod limit;
pub mod requests;
mod state;
pub mod text;

pub use error::JiraError;
pub use http::{HttpJira, error_message};
pub use jql::jql_string;
pub use requests::JiraRequest;
pub use state::{AttachmentMeta, IssueState, StatusCategory, Transition, parse_jira_time};
pub use text::{adf_to_text, text_to_adf, text_to_wiki};

use async_trait::async_trait;

use crate::domain::IssueKey;

/// An issue to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewIssue {
    pub project: String,
    pub issue_type: String,
    pub summary: String,
    /// Plain text in the lightweight form of [`text`]; the client writes it as
    /// ADF (Cloud) or wiki markup (Data Center).
    pub description: String,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    /// accountId (Cloud) or username (Data Center).
    pub reporter: Option<String>,
    /// Stored as the `mailgate` issue property so a lost response can be found again.
    pub source_message_id: Option<String>,
    /// Priority name (`{"name": …}`).
    pub priority: Option<String>,
    /// accountId (Cloud) or username (Data Center).
    pub assignee: Option<String>,
    pub due_date: Option<chrono::NaiveDate>,
    /// Version names (`fixVersions`).
    pub fix_versions: Vec<String>,
    /// `customfield_<id>` to the JSON Jira takes (a string, a number, `{"value": …}`).
    pub custom: serde_json::Map<String, serde_json::Value>,
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
    /// Shared with the parsed mail: a retry or a clone copies nothing.
    pub data: bytes::Bytes,
}

/// A found issue (search results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    pub id: String,
    pub key: IssueKey,
}

/// An issue read by key, with the Message-ID its `mailgate` property holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbedIssue {
    pub key: IssueKey,
    pub message_id: Option<String>,
    pub summary: String,
}

/// A Jira user or JSM customer: `account_id` on Cloud, `name` (username)
/// on Data Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraUser {
    pub account_id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

impl JiraUser {
    /// The identifier Jira wants in `reporter`, watchers and groups.
    pub fn id(&self) -> Option<&str> {
        self.account_id.as_deref().or(self.name.as_deref())
    }
}

/// A JSM customer request to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub service_desk: String,
    pub request_type: String,
    pub summary: String,
    pub description: String,
    /// accountId (Cloud) / username (DC) of the customer.
    pub on_behalf_of: Option<String>,
    pub participants: Vec<String>,
}

#[async_trait]
pub trait JiraApi: Send + Sync {
    async fn myself(&self) -> Result<JiraUser, JiraError>;
    async fn create_issue(&self, issue: &NewIssue) -> Result<CreatedIssue, JiraError>;
    /// Add a comment; returns the comment id. `source_message_id` is kept
    /// as the comment's `mailgate` property so a lost answer can be found again.
    async fn add_comment(
        &self,
        issue: &IssueKey,
        body: &str,
        source_message_id: Option<&str>,
    ) -> Result<String, JiraError>;
    /// The comment an earlier attempt made for this Message-ID, if any.
    async fn find_comment(&self, issue: &IssueKey, source_message_id: &str) -> Result<Option<String>, JiraError>;
    /// Read issues by key: consistent (never the search index); keys with
    /// no issue are left out of the answer.
    async fn read_issues(&self, keys: &[IssueKey]) -> Result<Vec<ProbedIssue>, JiraError>;
    /// Set the issue's `mailgate` property (`{"messageId": …}`).
    async fn set_issue_property(&self, issue: &IssueKey, source_message_id: &str) -> Result<(), JiraError>;
    /// How many keys one [`read_issues`](Self::read_issues) call should ask for.
    fn read_window(&self) -> usize {
        100
    }
    /// The highest issue number in a project that search sees now: a lower
    /// bound of the next key (search lags; keys are allocated in increasing order).
    async fn highest_key_number(&self, project: &str) -> Result<Option<u64>, JiraError> {
        let jql = format!("project = {} ORDER BY key DESC", jql_string(project));
        Ok(self.search(&jql, 1).await?.first().map(|r| r.key.number()))
    }
    /// The length Jira holds a text field to when `text` is sent as a
    /// description or comment (characters; Cloud: the ADF document's JSON).
    fn text_length(&self, text: &str) -> usize {
        text.chars().count()
    }
    async fn add_attachment(&self, issue: &IssueKey, upload: &Upload) -> Result<(), JiraError>;
    /// The issue's attachments as (file name, size).
    async fn attachments(&self, issue: &IssueKey) -> Result<Vec<(String, u64)>, JiraError>;
    /// Issues matching a JQL query, every page followed (bounded by `max`).
    async fn search(&self, jql: &str, max: usize) -> Result<Vec<IssueRef>, JiraError> {
        let issues = self.search_issues(jql, &["key"], max).await?;
        Ok(issues
            .iter()
            .filter_map(|v| {
                let key = IssueKey::parse(v.get("key")?.as_str()?).ok()?;
                Some(IssueRef { id: v.get("id")?.as_str()?.to_string(), key })
            })
            .collect())
    }
    /// Issues (`IssueBean` JSON with the given fields) matching a JQL query,
    /// every page followed (bounded by `max`).
    async fn search_issues(&self, jql: &str, fields: &[&str], max: usize) -> Result<Vec<serde_json::Value>, JiraError>;
    /// JSM: a customer request, raised on behalf of the customer.
    async fn create_request(&self, request: &NewRequest) -> Result<CreatedIssue, JiraError>;
    /// JSM: a public (or internal) comment on a request.
    async fn add_request_comment(&self, issue: &IssueKey, body: &str, public: bool) -> Result<String, JiraError>;
    /// Add a watcher (accountId on Cloud, username on DC).
    async fn add_watcher(&self, issue: &IssueKey, user: &str) -> Result<(), JiraError>;
    /// JSM: add request participants.
    async fn add_request_participants(&self, issue: &IssueKey, users: &[String]) -> Result<(), JiraError>;
    /// The issue's watchers.
    async fn watchers(&self, issue: &IssueKey) -> Result<Vec<JiraUser>, JiraError>;
    /// Whether a comment is public on its JSM request (`public` of
    /// getRequestCommentById); `None` when the issue is not a request.
    /// Webhooks' `jsdPublic` is not to be trusted alone (jira-facts.md).
    async fn request_comment_public(&self, issue: &IssueKey, comment_id: &str) -> Result<Option<bool>, JiraError>;
    /// The issue's status (and its category), resolution and people, read
    /// from the issue itself (never the search index). `NotFound` when there
    /// is no such issue (or it is not visible).
    async fn issue_state(&self, issue: &IssueKey) -> Result<IssueState, JiraError>;
    /// The transitions offered from the issue's current status (none
    /// without the *Transition issues* permission).
    async fn transitions(&self, issue: &IssueKey) -> Result<Vec<Transition>, JiraError>;
    /// Perform a transition offered now ([`transitions`](Self::transitions));
    /// one that is not is `Rejected` with 400.
    async fn transition(&self, issue: &IssueKey, transition_id: &str) -> Result<(), JiraError>;
    /// Link two issues with a link type named as on the site ("Relates",
    /// "Duplicate", …). It reads "`inward` <the type's outward description>
    /// `outward`" (e.g. Duplicate: inward duplicates outward): Jira takes the
    /// request's `inwardIssue` as the link's source. Linking twice is not an
    /// error. `NotFound` for an unknown issue or link type.
    async fn link_issues(&self, link_type: &str, inward: &IssueKey, outward: &IssueKey) -> Result<(), JiraError>;
    /// An attachment's metadata (file name, size, media type, author).
    async fn attachment_meta(&self, id: &str) -> Result<AttachmentMeta, JiraError>;
    /// An attachment's bytes; `None` when it is larger than `max_bytes`
    /// (checked on the metadata before anything is downloaded, and on the
    /// bytes as they arrive: never more than `max_bytes` are kept).
    async fn download_attachment(&self, id: &str, max_bytes: u64) -> Result<Option<bytes::Bytes>, JiraError>;
}

/// What only the workaround (admin) user may do: find and create users and
/// customers, groups, permissions.
#[async_trait]
pub trait IdentityApi: Send + Sync {
    async fn myself(&self) -> Result<JiraUser, JiraError>;
    /// The active user whose email is exactly `email`, if any.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<JiraUser>, JiraError>;
    async fn create_user(&self, email: &str, display_name: &str) -> Result<JiraUser, JiraError>;
    async fn add_user_to_group(&self, user: &JiraUser, group: &str) -> Result<(), JiraError>;
    /// JSM: a portal customer (an existing customer with this email is returned).
    async fn create_customer(&self, email: &str, display_name: &str) -> Result<JiraUser, JiraError>;
    async fn add_customer_to_service_desk(&self, service_desk: &str, user: &JiraUser) -> Result<(), JiraError>;
    /// Which of `permissions` the user has, globally or in `project`.
    async fn my_permissions(
        &self,
        project: Option<&str>,
        permissions: &[&str],
    ) -> Result<Vec<(String, bool)>, JiraError>;
    /// Email addresses of a group's active members, every page followed.
    async fn group_member_emails(&self, group: &str) -> Result<Vec<String>, JiraError>;
    /// A project role's actors: member email addresses and group names.
    async fn role_actors(&self, project: &str, role: &str) -> Result<(Vec<String>, Vec<String>), JiraError>;
    /// Whether another user (accountId on Cloud, username on Data Center)
    /// may add comments to the issue (the *Add comments* permission in its
    /// project). Needs *Administer Jira* or the project's *Administer
    /// projects* (findUsersWithAllPermissions). `NotFound` when the issue
    /// does not exist.
    async fn user_may_comment(&self, issue: &IssueKey, account_id_or_name: &str) -> Result<bool, JiraError>;
}
