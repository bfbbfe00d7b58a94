//! Settings: one TOML file, every value overridable by `MAILGATE_*`
//! environment variables (`MAILGATE_JIRA__BASE_URL`, `MAILGATE_MAILBOXES__0__PASSWORD`;
//! `__` separates levels). Validated at start with errors that name the key.

use std::path::Path;

use secrecy::ExposeSecret;
use serde::Deserialize;

mod admin;
mod conversation;
mod defaults;
mod env;
mod fields;
mod inbound;
mod jira;
mod oauth;
mod oauth_client;
mod routing;
mod services;
mod storage;

pub use admin::{AdminSettings, AdminTls, ApiKeyError, MIN_API_KEY_CHARS, check_api_key};
pub use conversation::{ClosedAction, CommentPolicy, ConversationPolicy, CustomerEvent, OutsiderAction};
pub use env::is_loopback;
use env::{SECTIONS, apply_override};
pub use fields::{DirectiveKind, FieldKey, FieldRules, FieldSource, MailPart, MailValue, Shape, parse_date};
pub use inbound::{InboundSettings, MailboxSettings, TlsMode};
use jira::default_timeout;
pub use jira::{JiraAuth, JiraFlavor, JiraSettings};
pub use oauth::{Flow, JiraOAuthSettings, MailAuth, OAuthSettings, Provider, SaslMechanism};
pub use oauth_client::{BodyStyle, OAuthClient, ProviderKind, SecretSource};
pub use routing::{Pattern, RouteTarget, RoutingRule, RoutingSettings, SenderPolicy};
pub use services::{IdentitySettings, NotifySettings, SecretsSettings, SmtpSettings, TokenAuthKind};
pub use storage::{AuditSettings, DatabaseSettings};

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
        // Syntax errors say where, not what: the line could hold a secret.
        let mut value: toml::Value = toml::from_str(text).map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| text.get(..s.start).unwrap_or(text).matches('\n').count() + 1);
            ConfigError::Syntax(match line {
                Some(n) => format!("line {n}: {}", e.message()),
                None => e.message().to_string(),
            })
        })?;
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
        let secrets = env::secret_values(&value);
        let settings: Settings = value
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Syntax(env::redact(&e.to_string(), &secrets)))?;
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
        if let JiraAuth::OAuth2(o) = &self.jira.auth {
            if self.jira.flavor != JiraFlavor::Cloud {
                return Err(invalid("jira.auth", "OAuth 2.0 (3LO) is for Jira Cloud (flavor = \"cloud\")"));
            }
            o.validate()?;
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
            match mb.oauth() {
                Some(o) => {
                    o.validate(&key("auth"))?;
                    if !mb.password.expose_secret().is_empty() {
                        return Err(invalid(key("password"), "not used with auth kind \"oauth2\": leave it out"));
                    }
                }
                None if mb.password.expose_secret().is_empty() => {
                    return Err(invalid(key("password"), "required (or `auth = { kind = \"oauth2\", … }`)"));
                }
                None => {}
            }
            if mb.poll_interval_secs == 0 {
                return Err(invalid(key("poll_interval_secs"), "must be at least 1"));
            }
        }
        for (i, rule) in self.routing.rules.iter().enumerate() {
            let conditions = [
                rule.recipient.is_some(),
                rule.domain.is_some(),
                rule.recipient_regex.is_some(),
                rule.sender.is_some(),
                rule.sender_domain.is_some(),
                rule.subject_regex.is_some(),
            ];
            if !conditions.contains(&true) {
                return Err(invalid(
                    format!("routing.rules[{i}]"),
                    "needs a condition: `recipient`, `domain`, `recipient_regex`, `sender`, `sender_domain` or `subject_regex`",
                ));
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
            if t.service_desk.is_some() && !(t.fields.is_empty() && t.directives.is_empty()) {
                return Err(invalid(
                    key,
                    "`fields` and `directives` are for Jira issues, not JSM requests (`service_desk`)",
                ));
            }
        }
        self.admin.validate()?;
        if !self.admin.notify.is_empty() && self.smtp.is_none() {
            return Err(invalid("smtp", "required when admin.notify is set (warnings are sent by mail)"));
        }
        if let Some(smtp) = &self.smtp
            && smtp.tls == TlsMode::None
            && !is_loopback(&smtp.host)
        {
            return Err(invalid("smtp.tls", "\"none\" is only allowed for loopback hosts (127.0.0.1, ::1, localhost)"));
        }
        if let Some(o) = self.smtp.as_ref().and_then(|s| s.oauth()) {
            o.validate("smtp.auth")?;
            let smtp = self.smtp.as_ref().map(|s| (s.user.as_deref(), s.password.is_some()));
            if let Some((user, password)) = smtp {
                if user.is_none_or(|u| u.trim().is_empty()) {
                    return Err(invalid(
                        "smtp.user",
                        "required with auth kind \"oauth2\" (the account XOAUTH2 logs in as)",
                    ));
                }
                if password {
                    return Err(invalid("smtp.password", "not used with auth kind \"oauth2\": leave it out"));
                }
            }
        }
        if !(1..=256).contains(&self.inbound.concurrency) {
            return Err(invalid("inbound.concurrency", "must be between 1 and 256"));
        }
        if !(1..=3650).contains(&self.notify.bounce_suppression_days) {
            return Err(invalid("notify.bounce_suppression_days", "must be between 1 and 3650"));
        }
        if self.inbound.max_attempts == 0 {
            return Err(invalid("inbound.max_attempts", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod oauth_tests;
#[cfg(test)]
mod tests;
