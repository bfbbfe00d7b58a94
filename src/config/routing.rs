//! `[routing]`: which project (and how) a new mail's issue goes to.

use serde::Deserialize;

use crate::domain::{EmailAddress, ProjectKey};

/// What to do with a sender who has no Jira account.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SenderPolicy {
    /// Create a Jira user and add it to the rule's groups.
    CreateUser,
    /// Create a JSM portal customer and add it to the rule's service desk.
    CreateCustomer,
    /// File under the configured default reporter.
    DefaultReporter,
    /// Keep the mail, create nothing, log it as rejected.
    Reject,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTarget {
    pub project: ProjectKey,
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub components: Vec<String>,
    /// Look the sender up in Jira (workaround token) and apply this policy
    /// when there is no account. Unset: no lookup, default reporter.
    #[serde(default)]
    pub sender_policy: Option<SenderPolicy>,
    /// Groups a created user is added to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// JSM: file customer requests in this service desk (id or project key).
    #[serde(default)]
    pub service_desk: Option<String>,
    /// JSM request type id (needed with `service_desk`).
    #[serde(default)]
    pub request_type: Option<String>,
    /// Add Cc'd addresses with Jira accounts as watchers (request participants on JSM).
    #[serde(default)]
    pub cc_watchers: bool,
}

fn default_issue_type() -> String {
    "Task".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// Exact recipient address to match.
    #[serde(default)]
    pub recipient: Option<EmailAddress>,
    /// Recipient domain to match (`corp.test`).
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(flatten)]
    pub target: RouteTarget,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    #[serde(default)]
    pub rules: Vec<RoutingRule>,
    pub default: RouteTarget,
}
