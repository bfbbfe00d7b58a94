//! OAuth 2.0 client settings: `[[mailboxes]] auth = { kind = "oauth2", … }`,
//! `[smtp] auth = { … }` and `[jira] auth = { kind = "oauth2", … }` (3LO).
//! Validated at load; [`OAuthSettings::client`] and
//! [`JiraOAuthSettings::client`] resolve the provider's defaults into the
//! [`OAuthClient`] the token sources and `mailgate oauth login` use.

use secrecy::SecretString;
use serde::Deserialize;

use super::oauth_client::{BodyStyle, OAuthClient, ProviderKind, SecretSource};
use super::{ConfigError, invalid, is_loopback};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Microsoft 365 / Entra ID (Exchange Online IMAP and SMTP).
    Microsoft,
    /// Google Workspace (Gmail IMAP and SMTP).
    Google,
    /// Any OAuth 2.0 server: `token_url` is required.
    Generic,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flow {
    /// App-only (Microsoft's default): client id and secret, no user.
    ClientCredentials,
    /// A user's delegated grant from `mailgate oauth login`, refreshed
    /// (generic's default).
    RefreshToken,
    /// A Google service account with domain-wide delegation (JWT bearer,
    /// RFC 7523; Google's default).
    ServiceAccount,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client-credentials",
            Self::RefreshToken => "refresh-token",
            Self::ServiceAccount => "service-account",
        }
    }
}

/// How a mailbox or `[smtp]` logs in when not with its `password`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum MailAuth {
    /// SASL XOAUTH2 (or OAUTHBEARER) with an OAuth 2.0 access token.
    #[serde(rename = "oauth2")]
    OAuth2(OAuthSettings),
}

/// An OAuth 2.0 client for a mailbox or SMTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    pub provider: Provider,
    /// Default: Microsoft client-credentials, Google service-account,
    /// generic refresh-token.
    #[serde(default)]
    pub flow: Option<Flow>,
    /// Microsoft: the directory (tenant) id or domain. Delegated logins
    /// default to `organizations`.
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Or `client_secret_file`, or stored encrypted with `mailgate oauth set-secret`.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub client_secret_file: Option<String>,
    /// Google service account: the JSON key file (or stored encrypted with
    /// `mailgate oauth set-secret`).
    #[serde(default)]
    pub key_file: Option<String>,
    /// Service account: the user to act as (default: the mailbox's `user`).
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub device_url: Option<String>,
    #[serde(default)]
    pub authorize_url: Option<String>,
    /// The loopback redirect of `oauth login` (default
    /// `http://127.0.0.1:<any free port>/callback`).
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// The IMAP SASL mechanism: `xoauth2` (Microsoft, Google) or
    /// `oauthbearer` (RFC 7628). SMTP always uses XOAUTH2.
    #[serde(default)]
    pub mechanism: SaslMechanism,
}

/// How a mailbox presents its access token to the IMAP server.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SaslMechanism {
    #[default]
    Xoauth2,
    Oauthbearer,
}

/// `[jira] auth = { kind = "oauth2", … }`: an OAuth 2.0 (3LO) app of the
/// Atlassian developer console.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraOAuthSettings {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub client_secret_file: Option<String>,
    #[serde(default = "atlassian_auth")]
    pub auth_url: String,
    #[serde(default = "atlassian_api")]
    pub api_url: String,
    /// The site; unset: found with accessible-resources at login (and stored).
    #[serde(default)]
    pub cloud_id: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Must be the app's callback URL, on a loopback host
    /// (e.g. `http://localhost:8765/callback`).
    #[serde(default)]
    pub redirect_url: Option<String>,
}

fn atlassian_auth() -> String {
    "https://auth.atlassian.com".into()
}
fn atlassian_api() -> String {
    "https://api.atlassian.com".into()
}
fn default_timeout() -> u64 {
    30
}

const MS_LOGIN: &str = "https://login.microsoftonline.com";
const MS_APP_SCOPE: &str = "https://outlook.office365.com/.default";
const MS_DELEGATED_SCOPES: &[&str] =
    &["https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"];
const GOOGLE_SCOPE: &str = "https://mail.google.com/";
const JIRA_SCOPES: &[&str] = &["read:jira-work", "write:jira-work", "read:jira-user", "offline_access"];

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

fn secret_source(inline: &Option<SecretString>, file: &Option<String>) -> SecretSource {
    match (inline, file) {
        (Some(s), _) => SecretSource::Inline(s.clone()),
        (None, Some(f)) => SecretSource::File(f.clone()),
        (None, None) => SecretSource::Stored,
    }
}

impl OAuthSettings {
    pub fn flow(&self) -> Flow {
        self.flow.unwrap_or(match self.provider {
            Provider::Microsoft => Flow::ClientCredentials,
            Provider::Google => Flow::ServiceAccount,
            Provider::Generic => Flow::RefreshToken,
        })
    }

    /// The client with the provider's defaults; `user` is the mailbox's
    /// login (a service account's default subject).
    pub fn client(&self, user: &str) -> OAuthClient {
        let flow = self.flow();
        let (provider, token, device, authorize, scopes, params) = match self.provider {
            Provider::Microsoft => {
                let tenant = self.tenant.as_deref().unwrap_or("organizations");
                let base = format!("{MS_LOGIN}/{tenant}/oauth2/v2.0");
                let scopes = match flow {
                    Flow::ClientCredentials => vec![MS_APP_SCOPE.to_string()],
                    _ => strings(MS_DELEGATED_SCOPES),
                };
                let (t, d, a) = (format!("{base}/token"), format!("{base}/devicecode"), format!("{base}/authorize"));
                (ProviderKind::Microsoft, t, Some(d), Some(a), scopes, vec![])
            }
            Provider::Google => (
                ProviderKind::Google,
                "https://oauth2.googleapis.com/token".to_string(),
                Some("https://oauth2.googleapis.com/device/code".to_string()),
                Some("https://accounts.google.com/o/oauth2/v2/auth".to_string()),
                vec![GOOGLE_SCOPE.to_string()],
                vec![("access_type", "offline"), ("prompt", "consent")],
            ),
            Provider::Generic => (ProviderKind::Generic, String::new(), None, None, vec![], vec![]),
        };
        OAuthClient {
            provider,
            flow,
            client_id: self.client_id.clone(),
            client_secret: secret_source(&self.client_secret, &self.client_secret_file),
            key_file: self.key_file.clone(),
            subject: match flow {
                Flow::ServiceAccount => Some(self.subject.clone().unwrap_or_else(|| user.to_string())),
                _ => None,
            },
            scopes: self.scopes.clone().unwrap_or(scopes),
            token_url: self.token_url.clone().unwrap_or(token),
            device_url: self.device_url.clone().or(device),
            authorize_url: self.authorize_url.clone().or(authorize),
            authorize_params: params.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            redirect_url: self.redirect_url.clone(),
            body: BodyStyle::Form,
            api_url: None,
            cloud_id: None,
            timeout_secs: self.timeout_secs,
        }
    }

    pub(super) fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let k = |name: &str| format!("{key}.{name}");
        let flow = self.flow();
        match (self.provider, flow) {
            (Provider::Microsoft, Flow::ServiceAccount) => {
                return Err(invalid(k("flow"), "microsoft supports \"client-credentials\" and \"refresh-token\""));
            }
            (Provider::Google, Flow::ClientCredentials) => {
                return Err(invalid(k("flow"), "google supports \"service-account\" and \"refresh-token\""));
            }
            _ => {}
        }
        if self.provider == Provider::Generic && self.token_url.is_none() {
            return Err(invalid(k("token_url"), "required with provider = \"generic\""));
        }
        match &self.tenant {
            Some(_) if self.provider != Provider::Microsoft => {
                return Err(invalid(k("tenant"), "only for provider = \"microsoft\""));
            }
            Some(t) if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') => {
                return Err(invalid(
                    k("tenant"),
                    "must be a tenant id (GUID) or a domain such as contoso.onmicrosoft.com",
                ));
            }
            None if self.provider == Provider::Microsoft
                && flow == Flow::ClientCredentials
                && self.token_url.is_none() =>
            {
                return Err(invalid(
                    k("tenant"),
                    "required for app-only (client-credentials) access: the directory (tenant) id",
                ));
            }
            _ => {}
        }
        if flow != Flow::ServiceAccount && self.client_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(invalid(k("client_id"), format!("required with flow = \"{}\"", flow.as_str())));
        }
        if self.client_secret.is_some() && self.client_secret_file.is_some() {
            return Err(invalid(k("client_secret"), "set `client_secret` or `client_secret_file`, not both"));
        }
        if flow == Flow::ServiceAccount {
            if self.client_secret.is_some() || self.client_secret_file.is_some() {
                return Err(invalid(k("client_secret"), "a service account signs with its `key_file` instead"));
            }
        } else {
            if self.key_file.is_some() {
                return Err(invalid(k("key_file"), "only with flow = \"service-account\""));
            }
            if self.subject.is_some() {
                return Err(invalid(
                    k("subject"),
                    "only with flow = \"service-account\" (other flows log in as `user`)",
                ));
            }
        }
        check_scopes(&k("scopes"), self.scopes.as_deref())?;
        for (name, url) in
            [("token_url", &self.token_url), ("device_url", &self.device_url), ("authorize_url", &self.authorize_url)]
        {
            if let Some(u) = url {
                check_url(&k(name), u)?;
            }
        }
        if let Some(r) = &self.redirect_url {
            check_redirect(&k("redirect_url"), r)?;
        }
        if self.timeout_secs == 0 {
            return Err(invalid(k("timeout_secs"), "must be at least 1"));
        }
        Ok(())
    }
}

impl JiraOAuthSettings {
    /// The 3LO client: Atlassian's authorize and token endpoints (JSON).
    pub fn client(&self) -> OAuthClient {
        let auth = self.auth_url.trim_end_matches('/');
        OAuthClient {
            provider: ProviderKind::Atlassian,
            flow: Flow::RefreshToken,
            client_id: Some(self.client_id.clone()),
            client_secret: secret_source(&self.client_secret, &self.client_secret_file),
            key_file: None,
            subject: None,
            scopes: self.scopes.clone().unwrap_or_else(|| strings(JIRA_SCOPES)),
            token_url: format!("{auth}/oauth/token"),
            device_url: None,
            authorize_url: Some(format!("{auth}/authorize")),
            authorize_params: vec![
                ("audience".into(), "api.atlassian.com".into()),
                ("prompt".into(), "consent".into()),
            ],
            redirect_url: self.redirect_url.clone(),
            body: BodyStyle::Json,
            api_url: Some(self.api_url.trim_end_matches('/').to_string()),
            cloud_id: self.cloud_id.clone(),
            timeout_secs: default_timeout(),
        }
    }

    /// Where the REST API of site `cloud_id` is: `{api_url}/ex/jira/{cloud_id}`
    /// (`/rest/api/3/…` follows).
    pub fn api_base(&self, cloud_id: &str) -> String {
        format!("{}/ex/jira/{cloud_id}", self.api_url.trim_end_matches('/'))
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(invalid("jira.auth.client_id", "must not be empty"));
        }
        if self.client_secret.is_some() && self.client_secret_file.is_some() {
            return Err(invalid("jira.auth.client_secret", "set `client_secret` or `client_secret_file`, not both"));
        }
        check_url("jira.auth.auth_url", &self.auth_url)?;
        check_url("jira.auth.api_url", &self.api_url)?;
        check_scopes("jira.auth.scopes", self.scopes.as_deref())?;
        if let Some(id) = &self.cloud_id
            && (id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(invalid("jira.auth.cloud_id", "must be the site's cloud id (a UUID)"));
        }
        if let Some(r) = &self.redirect_url {
            check_redirect("jira.auth.redirect_url", r)?;
        }
        Ok(())
    }
}

fn check_scopes(key: &str, scopes: Option<&[String]>) -> Result<(), ConfigError> {
    match scopes {
        Some([]) => Err(invalid(key, "must not be empty (leave it out for the provider's defaults)")),
        Some(list) if list.iter().any(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '"')) => {
            Err(invalid(key, "one scope per entry, without spaces"))
        }
        _ => Ok(()),
    }
}

/// An https URL, or http on a loopback host (tests, local servers).
fn check_url(key: &str, url: &str) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(key, format!("not a URL: {e}")))?;
    let host = parsed.host_str().unwrap_or_default();
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        _ => Err(invalid(key, "must be an https:// URL (http:// only for loopback hosts)")),
    }
}

/// `http://127.0.0.1:PORT/path` (or localhost, `[::1]`), with a port.
fn check_redirect(key: &str, url: &str) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(key, format!("not a URL: {e}")))?;
    let loopback = parsed.host_str().is_some_and(is_loopback);
    if parsed.scheme() != "http" || !loopback || parsed.port().is_none() || parsed.query().is_some() {
        return Err(invalid(key, "must be http://127.0.0.1:PORT/PATH or http://localhost:PORT/PATH"));
    }
    Ok(())
}
