//! Settings of the workaround user, SMTP and notifications.

use secrecy::SecretString;
use serde::Deserialize;

use super::{MailAuth, OAuthClient, OAuthSettings, TlsMode, default_timeout};
use crate::domain::EmailAddress;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Folder of rhai notification-mapping scripts (`issue_created.rhai`,
    /// `issue_updated.rhai`, `comment_created.rhai`, `default.rhai`).
    #[serde(default)]
    pub scripts_dir: Option<String>,
    /// Folder overriding the built-in mail templates.
    #[serde(default)]
    pub templates_dir: Option<String>,
    /// Secret of the Jira system webhook. Unsigned or badly signed calls
    /// are refused with 401; without a secret the webhook answers 503.
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
    /// How long a permanent bounce of one of our mails stops notifications
    /// to its recipient; after that the address is tried again (a full
    /// mailbox gets emptied, a typo'd account gets created).
    #[serde(default = "default_bounce_days")]
    pub bounce_suppression_days: u32,
    /// Bytes a run may create through the functions that grow data (and
    /// the cap of its string, array and map sizes); 0 = no cap.
    #[serde(default = "default_script_memory")]
    pub script_max_memory_bytes: usize,
    /// Notifications of one issue to one recipient due within this many
    /// seconds of each other go out as one mail (0: each on its own).
    #[serde(default = "default_merge_window")]
    pub merge_window_secs: u64,
    /// Files an agent adds are attached to the notification up to this
    /// size each; bigger ones are linked.
    #[serde(default = "default_attach_max")]
    pub attachment_max_bytes: u64,
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
            bounce_suppression_days: default_bounce_days(),
            script_max_memory_bytes: default_script_memory(),
            merge_window_secs: default_merge_window(),
            attachment_max_bytes: default_attach_max(),
        }
    }
}

fn default_merge_window() -> u64 {
    60
}
fn default_attach_max() -> u64 {
    5 * 1024 * 1024
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
fn default_bounce_days() -> u32 {
    30
}
fn default_script_memory() -> usize {
    64 << 20
}

#[derive(Debug, Clone, Default, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    /// Absent: `user` and `password` (or no AUTH). `{ kind = "oauth2", … }`:
    /// AUTH XOAUTH2 as `user` (see [`super::OAuthSettings`]).
    #[serde(default)]
    pub auth: Option<MailAuth>,
    pub from: EmailAddress,
    #[serde(default)]
    pub from_name: Option<String>,
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

impl SmtpSettings {
    /// The OAuth 2.0 client, when SMTP logs in with one.
    pub fn oauth(&self) -> Option<&OAuthSettings> {
        match &self.auth {
            Some(MailAuth::OAuth2(o)) => Some(o),
            None => None,
        }
    }

    /// The OAuth 2.0 client with its defaults resolved (for `user`).
    pub fn oauth_client(&self) -> Option<OAuthClient> {
        self.oauth().map(|o| o.client(self.user.as_deref().unwrap_or_default()))
    }
}
