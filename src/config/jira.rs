//! `[jira]`: the site, its flavour, the app credentials, limits.

use secrecy::SecretString;
use serde::Deserialize;

use super::JiraOAuthSettings;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JiraFlavor {
    /// Jira Cloud, REST v3, ADF bodies, accountIds.
    Cloud,
    /// Jira Data Center / Server, REST v2, plain bodies, usernames.
    Datacenter,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum JiraAuth {
    /// Cloud: email + API token. Data Center: username + password.
    Basic { user: String, secret: SecretString },
    /// Data Center Personal Access Token.
    Bearer { token: SecretString },
    /// Jira Cloud OAuth 2.0 (3LO): tokens from `mailgate oauth login --jira`.
    #[serde(rename = "oauth2")]
    OAuth2(JiraOAuthSettings),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraSettings {
    pub flavor: JiraFlavor,
    pub base_url: String,
    pub auth: JiraAuth,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// In-call retries on 429/5xx/timeouts before the mail is parked for a later attempt.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// Reporter for created issues (accountId on Cloud, username on Data
    /// Center). Unset: the authenticated user.
    #[serde(default)]
    pub default_reporter: Option<String>,
    /// Requests per second to Jira across all of mailgate (token bucket; a
    /// 429 pauses it for the Retry-After time).
    #[serde(default = "default_rate")]
    pub max_requests_per_sec: f64,
}

fn default_rate() -> f64 {
    10.0
}

pub(super) fn default_timeout() -> u64 {
    30
}
fn default_retries() -> u32 {
    3
}
