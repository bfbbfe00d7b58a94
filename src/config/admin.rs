//! `[admin]`: where the admin HTTP API listens, its key and its transport.
//!
//! The API can set the workaround user's token, so it is held to the rules
//! the rest of the configuration follows for credentials on the wire: a key
//! too short to guess is required, and a listener reachable from other hosts
//! speaks TLS unless the operator says in so many words that something in
//! front of it (a reverse proxy, a private network) already does.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{ConfigError, invalid, is_loopback};
use crate::domain::EmailAddress;

/// The shortest admin key accepted: 32 characters, e.g. the 64 hex digits of
/// `openssl rand -hex 32` or the 43 of `openssl rand -base64 32`.
pub const MIN_API_KEY_CHARS: usize = 32;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Address of the admin HTTP API, e.g. `127.0.0.1:8025`. Unset: no API.
    #[serde(default)]
    pub listen: Option<String>,
    /// Bearer key for the admin API, at least [`MIN_API_KEY_CHARS`] long.
    #[serde(default)]
    pub api_key: Option<SecretString>,
    /// PEM certificate chain (leaf first) for HTTPS on `listen`.
    #[serde(default)]
    pub tls_cert_file: Option<String>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert_file`.
    #[serde(default)]
    pub tls_key_file: Option<String>,
    /// Serve plain HTTP on a non-loopback `listen` (TLS ends in front of
    /// mailgate). Off: such a listener needs the TLS files.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// Who gets token expiry and failure warnings.
    #[serde(default)]
    pub notify: Vec<EmailAddress>,
}

/// The certificate and key files of an HTTPS admin listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTls {
    pub cert_file: String,
    pub key_file: String,
}

/// Why an admin key is refused. The messages never contain the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("is empty: an empty key would open the admin API to anyone")]
    Empty,
    #[error("has leading or trailing whitespace (a copy-and-paste slip?)")]
    Whitespace,
    #[error("is shorter than {MIN_API_KEY_CHARS} characters; generate one with `openssl rand -hex 32`")]
    TooShort,
}

/// Whether `key` may guard the admin API.
pub fn check_api_key(key: &str) -> Result<(), ApiKeyError> {
    if key.trim().is_empty() {
        return Err(ApiKeyError::Empty);
    }
    if key.trim() != key {
        return Err(ApiKeyError::Whitespace);
    }
    if key.chars().count() < MIN_API_KEY_CHARS {
        return Err(ApiKeyError::TooShort);
    }
    Ok(())
}

/// The host part of `host:port`, `[v6]:port`, or a bare host.
fn listen_host(listen: &str) -> &str {
    if let Some(rest) = listen.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(host, _)| host);
    }
    match listen.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address.
        Some((host, _)) if !host.contains(':') => host,
        Some(_) => listen,
        None => listen,
    }
}

impl AdminSettings {
    /// The TLS files, when both are set.
    pub fn tls(&self) -> Option<AdminTls> {
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => Some(AdminTls { cert_file: cert.clone(), key_file: key.clone() }),
            _ => None,
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(key) = &self.api_key {
            check_api_key(key.expose_secret()).map_err(|e| invalid("admin.api_key", e.to_string()))?;
        }
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => return Err(invalid("admin.tls_key_file", "required when admin.tls_cert_file is set")),
            (None, Some(_)) => return Err(invalid("admin.tls_cert_file", "required when admin.tls_key_file is set")),
            _ => {}
        }
        let Some(listen) = &self.listen else { return Ok(()) };
        if self.api_key.is_none() {
            return Err(invalid("admin.api_key", "required when admin.listen is set"));
        }
        if self.tls().is_none() && !self.allow_plain_http && !is_loopback(listen_host(listen)) {
            return Err(invalid(
                "admin.listen",
                format!(
                    "{listen:?} is reachable from other hosts: set admin.tls_cert_file and admin.tls_key_file, \
                     or admin.allow_plain_http = true when TLS ends in front of mailgate"
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{ApiKeyError, check_api_key, listen_host};

    #[test]
    fn keys_must_be_long_and_not_blank() {
        assert_eq!(check_api_key(""), Err(ApiKeyError::Empty));
        assert_eq!(check_api_key("   "), Err(ApiKeyError::Empty));
        assert_eq!(check_api_key(&"k".repeat(31)), Err(ApiKeyError::TooShort));
        assert_eq!(check_api_key(&format!(" {}", "k".repeat(32))), Err(ApiKeyError::Whitespace));
        assert_eq!(check_api_key(&"k".repeat(32)), Ok(()));
        // Characters, not bytes: 16 two-byte characters are still too short.
        assert_eq!(check_api_key(&"é".repeat(16)), Err(ApiKeyError::TooShort));
    }

    #[test]
    fn the_host_is_found_in_every_address_form() {
        assert_eq!(listen_host("127.0.0.1:8025"), "127.0.0.1");
        assert_eq!(listen_host("[::1]:8025"), "::1");
        assert_eq!(listen_host("localhost:8025"), "localhost");
        assert_eq!(listen_host("0.0.0.0:8025"), "0.0.0.0");
        assert_eq!(listen_host(":8025"), "");
        assert_eq!(listen_host("::1"), "::1");
    }
}
