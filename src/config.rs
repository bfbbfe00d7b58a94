//! Settings: one TOML file, every value overridable by `MAILGATE_*`
//! environment variables (`MAILGATE_JIRA__BASE_URL`, `MAILGATE_MAILBOXES__0__PASSWORD`;
//! `__` separates levels). Validated at start with errors that name the key.

use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::{EmailAddress, ProjectKey};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config is not valid TOML or has a bad value: {0}")]
    Syntax(String),
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), message: message.into() }
}

#[derive(Debug, Deserialize)]
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Folder of rhai notification-mapping scripts (`issue_created.rhai`,
    /// `issue_updated.rhai`, `comment_created.rhai`, `default.rhai`).
    #[serde(default)]
    pub scripts_dir: Option<String>,
    /// Folder overriding the built-in mail templates.
    #[serde(default)]
    pub templates_dir: Option<String>,
    /// Secret of the Jira system webhook; when set, unsigned or badly
    /// signed calls are refused with 401.
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
    /// How often missed webhooks are caught up with a JQL search.
    #[serde(default = "default_catchup")]
    pub catchup_interval_secs: u64,
    /// At most this many issues per catch-up search.
    #[serde(default = "default_catchup_max")]
    pub catchup_max_issues: usize,
    #[serde(default = "default_group_ttl")]
    pub group_cache_ttl_secs: i64,
    /// Script limits: operations and wall-clock milliseconds per run.
    #[serde(default = "default_script_ops")]
    pub script_max_operations: u64,
    #[serde(default = "default_script_ms")]
    pub script_timeout_ms: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            scripts_dir: None,
            templates_dir: None,
            webhook_secret: None,
            catchup_interval_secs: default_catchup(),
            catchup_max_issues: default_catchup_max(),
            group_cache_ttl_secs: default_group_ttl(),
            script_max_operations: default_script_ops(),
            script_timeout_ms: default_script_ms(),
        }
    }
}

fn default_catchup() -> u64 {
    300
}
fn default_catchup_max() -> usize {
    500
}
fn default_group_ttl() -> i64 {
    3600
}
fn default_script_ops() -> u64 {
    100_000
}
fn default_script_ms() -> u64 {
    1_000
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSettings {
    /// File holding the master key (64 hex characters or base64 of 32
    /// bytes). `MAILGATE_MASTER_KEY` takes precedence.
    #[serde(default)]
    pub master_key_file: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum TokenAuthKind {
    /// Cloud: workaround user's email + API token (Data Center: username + password).
    #[default]
    Basic,
    /// Data Center Personal Access Token.
    Bearer,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySettings {
    /// How long a resolved sender identity is reused without a new lookup.
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl_secs: i64,
    #[serde(default)]
    pub token_auth: TokenAuthKind,
    /// Products for users created on Cloud (`[]` = no product access).
    #[serde(default)]
    pub products: Vec<String>,
    /// Days before token expiry at which admins are warned.
    #[serde(default = "default_warn_days")]
    pub warn_days: Vec<i64>,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            cache_ttl_secs: default_cache_ttl(),
            token_auth: TokenAuthKind::Basic,
            products: Vec::new(),
            warn_days: default_warn_days(),
        }
    }
}

fn default_cache_ttl() -> i64 {
    24 * 3600
}
fn default_warn_days() -> Vec<i64> {
    vec![30, 14, 7, 3, 1]
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Address of the admin HTTP API, e.g. `127.0.0.1:8025`. Unset: no API.
    #[serde(default)]
    pub listen: Option<String>,
    /// Bearer key for the admin API.
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// Who gets token expiry and failure warnings.
    #[serde(default)]
    pub notify: Vec<EmailAddress>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    pub from: EmailAddress,
    #[serde(default)]
    pub from_name: Option<String>,
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Deserialize)]
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
        if self.inbound.max_attempts == 0 {
            return Err(invalid("inbound.max_attempts", "must be at least 1"));
        }
        Ok(())
    }
}

const SECTIONS: &[&str] =
    &["database", "jira", "mailboxes", "inbound", "routing", "secrets", "identity", "admin", "smtp", "notify"];

pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Set `a__b__0__c` in a TOML tree; numeric segments index arrays. The value
/// is read as a TOML scalar when it parses as one, else as a string.
fn apply_override(root: &mut toml::Value, path: &str, raw: &str) -> Result<(), ConfigError> {
    let segments: Vec<String> = path.split("__").map(|s| s.to_lowercase()).collect();
    let display = segments.join(".");
    let new_value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut cur = root;
    for (n, seg) in segments.iter().enumerate() {
        let last = n + 1 == segments.len();
        cur = match cur {
            toml::Value::Table(t) => {
                if last {
                    t.insert(seg.clone(), new_value);
                    return Ok(());
                }
                t.entry(seg.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()))
            }
            toml::Value::Array(a) => {
                let idx: usize = seg
                    .parse()
                    .map_err(|_| invalid(display.clone(), "environment override expects an array index here"))?;
                let slot = a.get_mut(idx).ok_or_else(|| {
                    invalid(display.clone(), "environment override indexes past the end of the array")
                })?;
                if last {
                    *slot = new_value;
                    return Ok(());
                }
                slot
            }
            _ => {
                return Err(invalid(display, "environment override goes through a value that is not a table"));
            }
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const BASE: &str = r#"
[jira]
flavor = "cloud"
base_url = "https://x.atlassian.net"
auth = { kind = "basic", user = "bot@x.test", secret = "tok" }

[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = 143
tls = "none"
user = "u"
password = "p"

[routing]
default = { project = "HELP" }
"#;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_minimal_file_loads_with_defaults() {
        let s = Settings::from_toml_with_env(BASE, env(&[])).expect("valid");
        assert_eq!(s.mailboxes[0].folder, "INBOX");
        assert_eq!(s.routing.default.issue_type, "Task");
        assert_eq!(s.database.url, "sqlite://mailgate.db");
    }

    #[test]
    fn env_overrides_nested_and_array_values() {
        let s = Settings::from_toml_with_env(
            BASE,
            env(&[("MAILGATE_MAILBOXES__0__PASSWORD", "from-env"), ("MAILGATE_JIRA__TIMEOUT_SECS", "5")]),
        )
        .expect("valid");
        assert_eq!(s.mailboxes[0].password.expose_secret(), "from-env");
        assert_eq!(s.jira.timeout_secs, 5);
    }

    #[test]
    fn plaintext_imap_to_a_remote_host_is_refused_naming_the_key() {
        let text = BASE.replace("host = \"127.0.0.1\"", "host = \"imap.example.com\"");
        let err = Settings::from_toml_with_env(&text, env(&[])).expect_err("invalid");
        assert!(err.to_string().contains("mailboxes[0].tls"), "{err}");
    }

    #[test]
    fn unknown_keys_and_bad_project_keys_are_named() {
        let err = Settings::from_toml_with_env(&format!("{BASE}\n[bogus]\nx=1\n"), env(&[])).expect_err("invalid");
        assert!(err.to_string().contains("bogus"), "{err}");
        let err =
            Settings::from_toml_with_env(&BASE.replace("\"HELP\"", "\"help me\""), env(&[])).expect_err("invalid");
        assert!(err.to_string().contains("project"), "{err}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = Settings::from_toml_with_env(BASE, env(&[])).expect("valid");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("\"tok\"") && !dbg.contains("password: \"p\""), "{dbg}");
    }
}
