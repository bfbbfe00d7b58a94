//! `[routing]`: which project (and how) a new mail's issue goes to.

use serde::Deserialize;

use super::ConversationPolicy;
use super::fields::{DirectiveKind, FieldRules};
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
    /// Add the other addresses on To and Cc that have Jira accounts as
    /// watchers (request participants on JSM).
    #[serde(default)]
    pub cc_watchers: bool,
    /// Who hears back, who may comment by mail, replies to closed issues.
    #[serde(default)]
    pub conversation: Box<ConversationPolicy>,
    /// Fields of a new issue, constant or read from the mail (`fields.priority = "High"`).
    #[serde(default)]
    pub fields: FieldRules,
    /// The `#name=value` directives in a new mail this rule honours.
    #[serde(default)]
    pub directives: Vec<DirectiveKind>,
}

fn default_issue_type() -> String {
    "Task".into()
}

/// What a rule matches on. Recipient conditions (`recipient`, `domain`,
/// `recipient_regex`) hold when any address the mail was delivered to
/// (To, Cc, `Delivered-To`, `X-Original-To`, each also without its
/// `+tag`) meets one of them; sender and subject conditions must hold when
/// set. A rule with no condition matches nothing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// Exact recipient address to match.
    #[serde(default)]
    pub recipient: Option<EmailAddress>,
    /// Recipient domain to match (`corp.test`).
    #[serde(default)]
    pub domain: Option<String>,
    /// A recipient address matching this regular expression.
    #[serde(default)]
    pub recipient_regex: Option<Pattern>,
    /// The sender's exact address.
    #[serde(default)]
    pub sender: Option<EmailAddress>,
    /// The sender's domain (`customer.test`).
    #[serde(default)]
    pub sender_domain: Option<String>,
    /// The subject matching this regular expression.
    #[serde(default)]
    pub subject_regex: Option<Pattern>,
    #[serde(flatten)]
    pub target: RouteTarget,
}

/// A case-insensitive regular expression from the config. The `regex`
/// crate runs in linear time (no backtracking), and the compiled size is
/// capped, so an admin's pattern cannot stall the mailbox on a hostile
/// subject.
#[derive(Debug, Clone)]
pub struct Pattern(regex::Regex);

impl Pattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        regex::RegexBuilder::new(s)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map(Self)
            .map_err(|e| format!("not a valid regular expression: {e}"))
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }

    /// The text of the first capture group where the pattern matches (the
    /// whole match when the pattern has no group).
    pub fn capture<'t>(&self, text: &'t str) -> Option<&'t str> {
        let caps = self.0.captures(text)?;
        caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str())
    }
}

/// Two patterns are equal when their sources are.
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    #[serde(default)]
    pub rules: Vec<RoutingRule>,
    pub default: RouteTarget,
}
