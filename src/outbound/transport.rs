//! The seam for sending: one method, and an error that says whether to try
//! again. `Mailer` pairs a transport with the From of every mail.

use std::sync::Arc;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{Address, Message};

use super::message::one_line;
use super::smtp::{MailerError, SmtpTransport};
use crate::config::SmtpSettings;

/// Any error a transport reports, kept with its causes.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a mail was not sent. The text and causes are those of the
/// transport's own error.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Connection failures, timeouts, 4xx replies: worth another attempt.
    #[error(transparent)]
    Transient(BoxError),
    /// 5xx replies: the server will refuse this mail again.
    #[error(transparent)]
    Permanent(BoxError),
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    /// lettre's own verdict: a permanent (5xx) reply gives up, anything
    /// else (transient 4xx, connection, TLS, timeout) is retried.
    fn from(e: lettre::transport::smtp::Error) -> Self {
        if e.is_permanent() { Self::Permanent(Box::new(e)) } else { Self::Transient(Box::new(e)) }
    }
}

/// Sends one finished mail.
#[async_trait]
pub trait MailTransport: Send + Sync {
    async fn send(&self, message: Message) -> Result<(), SendError>;
}

/// The From of every mail and the transport that sends them.
#[derive(Clone)]
pub struct Mailer {
    transport: Arc<dyn MailTransport>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The SMTP mailer of the settings.
    pub fn new(s: &SmtpSettings) -> Result<Self, MailerError> {
        let transport = SmtpTransport::new(s)?;
        let address: Address = s.from.as_ref().parse().map_err(MailerError::From)?;
        let name = s.from_name.as_deref().map(one_line).filter(|n| !n.trim().is_empty());
        Ok(Self::with_transport(Mailbox::new(name, address), Arc::new(transport)))
    }

    /// The SMTP mailer of the settings, authenticating with XOAUTH2 and
    /// access tokens from `tokens` as `smtp.user`.
    pub fn with_oauth(s: &SmtpSettings, tokens: Arc<dyn crate::oauth::AccessTokens>) -> Result<Self, MailerError> {
        let user = s.user.clone().ok_or(MailerError::Credentials)?;
        let transport = SmtpTransport::with_oauth(s, user, tokens)?;
        let address: Address = s.from.as_ref().parse().map_err(MailerError::From)?;
        let name = s.from_name.as_deref().map(one_line).filter(|n| !n.trim().is_empty());
        Ok(Self::with_transport(Mailbox::new(name, address), Arc::new(transport)))
    }

    /// Any transport (a stub in tests).
    pub fn with_transport(from: Mailbox, transport: Arc<dyn MailTransport>) -> Self {
        Self { transport, from }
    }

    /// The From of every mail sent.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        self.transport.send(message).await
    }
}
