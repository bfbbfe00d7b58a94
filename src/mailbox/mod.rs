//! IMAP: the narrow trait the ingest loop uses, the async-imap client, and
//! an in-memory mailbox for the sandbox and unit tests.

mod imap;
mod memory;
mod stream;

pub use imap::ImapConnector;
pub use memory::{MemoryConnector, MemoryMailbox};

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("cannot connect to the IMAP server: {0}")]
    Connect(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("IMAP login failed: {0}")]
    Login(String),
    #[error("IMAP protocol error: {0}")]
    Protocol(String),
}

impl MailboxError {
    /// Every IMAP failure ends the session; a new connection is tried with
    /// backoff. Login failures are retried too but more slowly.
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Login(_))
    }
}

impl From<async_imap::error::Error> for MailboxError {
    fn from(e: async_imap::error::Error) -> Self {
        Self::Protocol(e.to_string())
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
    /// UIDs of messages not yet marked `\Seen`.
    async fn unseen_uids(&mut self) -> Result<Vec<u32>, MailboxError>;
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
