//! A resolved OAuth 2.0 client: endpoints, credentials and scopes with the
//! provider's defaults filled in (by [`super::OAuthSettings::client`] or
//! [`super::JiraOAuthSettings::client`]). The token sources of
//! `crate::oauth` and `mailgate oauth login` work from it.

use secrecy::SecretString;

use super::Flow;

/// Whose authorization server: labels and provider quirks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Microsoft,
    Google,
    Generic,
    /// Jira Cloud 3LO (auth.atlassian.com).
    Atlassian,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Microsoft => "microsoft",
            Self::Google => "google",
            Self::Generic => "generic",
            Self::Atlassian => "atlassian",
        }
    }
}

/// How requests to the token endpoint are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStyle {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    Form,
    /// A JSON object of the same parameters (Atlassian).
    Json,
}

/// Where the client secret (or a service account's key) comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// In the configuration (`client_secret`).
    Inline(SecretString),
    /// A file (`client_secret_file`), read at each use.
    File(String),
    /// Stored encrypted by `mailgate oauth set-secret` (or none: a public client).
    Stored,
}

/// A client ready for the token sources and `mailgate oauth login`.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub provider: ProviderKind,
    pub flow: Flow,
    pub client_id: Option<String>,
    pub client_secret: SecretSource,
    pub key_file: Option<String>,
    /// Service account: the user to impersonate (`sub`).
    pub subject: Option<String>,
    pub scopes: Vec<String>,
    pub token_url: String,
    pub device_url: Option<String>,
    pub authorize_url: Option<String>,
    /// Extra authorize parameters (Google `access_type=offline`, Atlassian `audience`).
    pub authorize_params: Vec<(String, String)>,
    pub redirect_url: Option<String>,
    pub body: BodyStyle,
    /// Atlassian: `https://api.atlassian.com` (accessible-resources, `/ex/jira/{cloudId}`).
    pub api_url: Option<String>,
    pub cloud_id: Option<String>,
    pub timeout_secs: u64,
}

impl OAuthClient {
    /// The scopes as the `scope` parameter (space-separated); None when empty.
    pub fn scope(&self) -> Option<String> {
        (!self.scopes.is_empty()).then(|| self.scopes.join(" "))
    }
}
