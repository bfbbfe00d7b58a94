//! IMAP: the narrow trait the ingest loop uses, the async-imap client, and
//! an in-memory mailbox for the sandbox and unit tests.

mod imap;
mod memory;
mod sasl;
mod stream;

pub use imap::ImapConnector;
pub use memory::{MemoryConnector, MemoryMailbox};

use std::time::Duration;

use async_trait::async_trait;

/// What went wrong with the mailbox. Every variant ends the session (the
/// loop reconnects with backoff); the causes are kept. No variant carries
/// the password: async-imap's errors hold the server's answer, not our
/// command.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// TCP connect, or reading the greeting.
    #[error("cannot connect to the IMAP server: {0}")]
    Connect(#[source] std::io::Error),
    #[error("cannot connect to the IMAP server: timed out")]
    ConnectTimeout,
    #[error("cannot connect to the IMAP server: server closed the connection before its greeting")]
    NoGreeting,
    #[error("TLS failed: cannot read ca_file {path}: {source}")]
    CaFile { path: String, source: std::io::Error },
    #[error("TLS failed: bad certificate in {path}: {source}")]
    CertificatePem { path: String, source: rustls_pki_types::pem::Error },
    #[error("TLS failed: bad certificate in {path}: {source}")]
    Certificate { path: String, source: rustls::Error },
    #[error("TLS failed: bad server name {host}: {source}")]
    ServerName { host: String, source: rustls_pki_types::InvalidDnsNameError },
    #[error("TLS failed: {0}")]
    Tls(#[source] std::io::Error),
    #[error("TLS failed: unexpected stream state")]
    TlsState,
    #[error("IMAP login failed: {0}")]
    Login(#[source] async_imap::error::Error),
    /// No OAuth access token could be had (the grant is refused, or the
    /// token endpoint is down).
    #[error("IMAP login failed: {0}")]
    OAuth(#[source] crate::oauth::OAuthError),
    #[error("IMAP protocol error: {0}")]
    Protocol(#[from] async_imap::error::Error),
    #[error("IMAP protocol error: session lost during IDLE")]
    SessionLost,
}

impl MailboxError {
    /// The server refused the credentials: retried too, but more slowly.
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Login(_)) || matches!(self, Self::OAuth(e) if !e.is_transient())
    }

    /// The OAuth grant is refused for good: an admin must log in again.
    pub fn is_revoked_grant(&self) -> bool {
        matches!(self, Self::OAuth(crate::oauth::OAuthError::Revoked { .. }))
    }

    /// Worth reconnecting soon: the network, the server or the session
    /// failed. Not so: the credentials, or a set-up that cannot work
    /// (CA file, certificate, server name) until the configuration changes.
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            Self::Login(_)
                | Self::OAuth(crate::oauth::OAuthError::Revoked { .. } | crate::oauth::OAuthError::Config { .. })
                | Self::CaFile { .. }
                | Self::CertificatePem { .. }
                | Self::Certificate { .. }
                | Self::ServerName { .. }
        )
    }
}

/// Where a finished mail goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckTarget {
    Processed,
    Failed,
}

/// One open mailbox session.
#[async_trait]
pub trait MailSource: Send {
    /// UIDVALIDITY of the selected folder.
    fn uidvalidity(&self) -> u32;
    /// UIDNEXT when the folder was selected: the UID the next mail gets.
    fn uid_next(&self) -> Option<u32>;
    /// UIDs of messages not yet marked `\Seen`.
    async fn unseen_uids(&mut self) -> Result<Vec<u32>, MailboxError>;
    /// UIDs above `after` in the folder, whatever their flags.
    async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, MailboxError>;
    /// The raw bytes of these messages without setting `\Seen`, in one
    /// round trip where the server allows; messages gone are left out.
    async fn fetch_many(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, MailboxError>;
    /// Mark these messages `\Seen` and move them to the processed or failed
    /// folder when one is set; UIDs already gone are skipped.
    async fn acknowledge_many(&mut self, uids: &[u32], target: AckTarget) -> Result<(), MailboxError>;
    /// Wait for new mail (IDLE where offered) or until `timeout`.
    async fn wait(&mut self, timeout: Duration) -> Result<(), MailboxError>;
}

/// Opens sessions; the ingest loop reconnects through it.
#[async_trait]
pub trait MailConnector: Send + Sync {
    fn name(&self) -> &str;
    async fn connect(&self) -> Result<Box<dyn MailSource>, MailboxError>;
}

#[cfg(test)]
mod tests {
    use super::MailboxError;

    #[test]
    fn only_credentials_and_broken_set_ups_are_not_transient() {
        let refused = MailboxError::Connect(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(refused.is_transient() && !refused.is_auth());
        assert!(MailboxError::ConnectTimeout.is_transient());
        assert!(MailboxError::Protocol(async_imap::error::Error::ConnectionLost).is_transient());
        let login = MailboxError::Login(async_imap::error::Error::No("[AUTHENTICATIONFAILED] no".into()));
        assert!(login.is_auth() && !login.is_transient());
        let ca = MailboxError::CaFile { path: "/nope.pem".into(), source: std::io::ErrorKind::NotFound.into() };
        assert!(!ca.is_transient() && !ca.is_auth());
    }

    #[test]
    fn the_cause_is_kept_and_shown() {
        use std::error::Error as _;
        let e =
            MailboxError::Login(async_imap::error::Error::No("[AUTHENTICATIONFAILED] Authentication failed.".into()));
        assert_eq!(e.to_string(), "IMAP login failed: no response: [AUTHENTICATIONFAILED] Authentication failed.");
        assert!(e.source().is_some());
    }
}
