//! Settings: one TOML file, every value overridable by `MAILGATE_*`
//! environment variables (`MAILGATE_JIRA__BASE_URL`, `MAILGATE_MAILBOXES__0__PASSWORD`;
//! `__` separates levels). Validated at start with errors that name the key.

use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::{EmailAddress, ProjectKey};

mod env;
mod services;

pub use env::is_loopback;
use env::{SECTIONS, apply_override};
pub use services::{AdminSettings, IdentitySettings, NotifySettings, SecretsSettings, SmtpSettings, TokenAuthKind};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config is not valid TOML or has a bad value: {0}")]
    Syntax(String),
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), message: message.into() }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub database: DatabaseSettings,
    pub jira: JiraSettings,
    #[serde(default)]
    pub mailboxes: Vec<MailboxSettings>,
    #[serde(default)]
    pub inbound: InboundSettings,
    pub routing: RoutingSettings,
    #[serde(default)]
    pub secrets: SecretsSettings,
    #[serde(default)]
    pub identity: IdentitySettings,
    #[serde(default)]
    pub admin: AdminSettings,
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    #[serde(default)]
    pub notify: NotifySettings,
    #[serde(default)]
    pub audit: AuditSettings,
}

/// Retention of the audit trail and the processing log, enforced daily.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    #[serde(default = "default_audit_entries")]
    pub max_entries: i64,
    #[serde(default = "default_audit_days")]
    pub max_age_days: i64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self { max_entries: default_audit_entries(), max_age_days: default_audit_days() }
    }
}

fn default_audit_entries() -> i64 {
    1_000_000
}
fn default_audit_days() -> i64 {
    180
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://…`.
    #[serde(default = "default_db_url")]
    pub url: String,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: default_db_url() }
    }
}

fn default_db_url() -> String {
    "sqlite://mailgate.db".into()
}

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

fn default_timeout() -> u64 {
    30
}
fn default_retries() -> u32 {
    3
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    Implicit,
    Starttls,
    /// Plain text; allowed only for loopback hosts.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSettings {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    pub password: SecretString,
    #[serde(default = "default_folder")]
    pub folder: String,
    #[serde(default)]
    pub processed_folder: Option<String>,
    #[serde(default)]
    pub failed_folder: Option<String>,
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    #[serde(default = "default_true")]
    pub idle: bool,
    /// Extra PEM root certificate to trust (self-signed servers).
    #[serde(default)]
    pub ca_file: Option<String>,
}

fn default_folder() -> String {
    "INBOX".into()
}
fn default_poll() -> u64 {
    60
}
fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundSettings {
    /// Our own addresses: mail from them is ignored (loop guard).
    #[serde(default)]
    pub own_addresses: Vec<EmailAddress>,
    /// A line such as `## reply above this line ##`; text from it down is cut.
    #[serde(default)]
    pub reply_marker: Option<String>,
    #[serde(default = "default_max_attachment")]
    pub max_attachment_bytes: u64,
    #[serde(default = "default_blocked")]
    pub blocked_extensions: Vec<String>,
    #[serde(default)]
    pub blocked_filenames: Vec<String>,
    /// Attempts before a mail that keeps failing is given up.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// First retry delay after a transient failure; doubles per attempt.
    #[serde(default = "default_retry_base")]
    pub retry_base_ms: i64,
    /// At most this many comments from mail per issue per window; more wait
    /// (in order) until the window allows them.
    #[serde(default = "default_issue_updates")]
    pub max_updates_per_issue: i64,
    #[serde(default = "default_issue_window")]
    pub issue_update_window_secs: i64,
    /// More mails than this from one sender within an hour is a storm (a
    /// loop): the rest is ignored and the admins are warned once an hour.
    #[serde(default = "default_storm")]
    pub storm_max_per_hour: i64,
    /// Mails of one mailbox worked on at once. Mails of the same
    /// conversation (issue, thread) or the same sender still go one after
    /// the other, in arrival order.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

impl Default for InboundSettings {
    fn default() -> Self {
        Self {
            own_addresses: Vec::new(),
            reply_marker: None,
            max_attachment_bytes: default_max_attachment(),
            blocked_extensions: default_blocked(),
            blocked_filenames: Vec::new(),
            max_attempts: default_attempts(),
            retry_base_ms: default_retry_base(),
            max_updates_per_issue: default_issue_updates(),
            issue_update_window_secs: default_issue_window(),
            storm_max_per_hour: default_storm(),
            concurrency: default_concurrency(),
        }
    }
}

fn default_max_attachment() -> u64 {
    10 * 1024 * 1024
}
fn default_blocked() -> Vec<String> {
    ["exe", "bat", "cmd", "com", "scr", "vbs", "js", "msi", "ps1"].into_iter().map(String::from).collect()
}
fn default_attempts() -> u32 {
    10
}
fn default_retry_base() -> i64 {
    5_000
}
fn default_issue_updates() -> i64 {
    10
}
fn default_issue_window() -> i64 {
    60
}
fn default_concurrency() -> usize {
    8
}
fn default_storm() -> i64 {
    30
}

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

impl Settings {
    /// Read the file, apply `MAILGATE_*` overrides from the process
    /// environment and validate.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::from_toml_with_env(&text, std::env::vars())
    }

    pub fn from_toml_with_env(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        for (name, raw) in env {
            if let Some(path) = name.strip_prefix("MAILGATE_") {
                // Only settings sections; other MAILGATE_* variables (CONFIG,
                // LOG, MASTER_KEY, TEST_PG, …) are not configuration keys.
                let section = path.split("__").next().unwrap_or("").to_ascii_lowercase();
                if !SECTIONS.contains(&section.as_str()) || !path.contains("__") {
                    continue;
                }
                apply_override(&mut value, path, &raw)?;
            }
        }
        let settings: Settings = value.try_into().map_err(|e: toml::de::Error| ConfigError::Syntax(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.database.url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(invalid("database.url", "must start with sqlite: or postgres://"));
        }
        let base = &self.jira.base_url;
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(invalid("jira.base_url", "must be an http:// or https:// URL"));
        }
        if self.jira.flavor == JiraFlavor::Cloud && matches!(self.jira.auth, JiraAuth::Bearer { .. }) {
            return Err(invalid(
                "jira.auth",
                "Jira Cloud does not accept bearer Personal Access Tokens; use kind = \"basic\" with email and API token",
            ));
        }
        if self.jira.timeout_secs == 0 {
            return Err(invalid("jira.timeout_secs", "must be at least 1"));
        }
        let mut names = std::collections::HashSet::new();
        for (i, mb) in self.mailboxes.iter().enumerate() {
            let key = |k: &str| format!("mailboxes[{i}].{k}");
            if mb.name.trim().is_empty() {
                return Err(invalid(key("name"), "must not be empty"));
            }
            if !names.insert(mb.name.as_str()) {
                return Err(invalid(key("name"), format!("duplicate mailbox name {:?}", mb.name)));
            }
            if mb.tls == TlsMode::None && !is_loopback(&mb.host) {
                return Err(invalid(
                    key("tls"),
                    "\"none\" is only allowed for loopback hosts (127.0.0.1, ::1, localhost)",
                ));
            }
            if mb.poll_interval_secs == 0 {
                return Err(invalid(key("poll_interval_secs"), "must be at least 1"));
            }
        }
        for (i, rule) in self.routing.rules.iter().enumerate() {
            if rule.recipient.is_none() && rule.domain.is_none() {
                return Err(invalid(format!("routing.rules[{i}]"), "needs `recipient` or `domain`"));
            }
        }
        let targets = self.routing.rules.iter().map(|r| &r.target).chain(std::iter::once(&self.routing.default));
        for (i, t) in targets.enumerate() {
            let key = if i < self.routing.rules.len() {
                format!("routing.rules[{i}]")
            } else {
                "routing.default".to_string()
            };
            if t.service_desk.is_some() != t.request_type.is_some() {
                return Err(invalid(key, "`service_desk` and `request_type` go together"));
            }
            if t.sender_policy == Some(SenderPolicy::CreateCustomer) && t.service_desk.is_none() {
                return Err(invalid(key, "sender_policy = \"create-customer\" needs `service_desk`"));
            }
        }
        if self.admin.listen.is_some() && self.admin.api_key.is_none() {
            return Err(invalid("admin.api_key", "required when admin.listen is set"));
        }
        if !self.admin.notify.is_empty() && self.smtp.is_none() {
            return Err(invalid("smtp", "required when admin.notify is set (warnings are sent by mail)"));
        }
        if let Some(smtp) = &self.smtp
            && smtp.tls == TlsMode::None
            && !is_loopback(&smtp.host)
        {
            return Err(invalid("smtp.tls", "\"none\" is only allowed for loopback hosts (127.0.0.1, ::1, localhost)"));
        }
        if !(1..=256).contains(&self.inbound.concurrency) {
            return Err(invalid("inbound.concurrency", "must be between 1 and 256"));
        }
        if self.inbound.max_attempts == 0 {
            return Err(invalid("inbound.max_attempts", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
