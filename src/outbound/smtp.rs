//! The real transport: lettre's SMTP client. One connection per mail (no
//! pool): the outbox sends few.

use std::time::Duration;

use async_trait::async_trait;
use std::sync::Arc;

use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::transport::{MailTransport, SendError};
use crate::config::{SmtpSettings, TlsMode};
use crate::oauth::AccessTokens;

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("config key `smtp.ca_file`: {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("config key `smtp`: TLS set-up failed: {0}")]
    Tls(#[source] lettre::transport::smtp::Error),
    #[error("config key `smtp.user`: `user` and `password` go together")]
    Credentials,
    #[error("config key `smtp.from`: {0}")]
    From(#[source] lettre::address::AddressError),
}

/// SMTP with the TLS mode, CA and credentials of the settings.
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    /// With OAuth: the user, the token source, and the settings to build
    /// each connection with the token of the moment (no pool: one connection per mail).
    oauth: Option<(String, Arc<dyn AccessTokens>, SmtpSettings)>,
}

impl SmtpTransport {
    pub fn new(s: &SmtpSettings) -> Result<Self, MailerError> {
        Ok(Self { inner: Self::builder(s)?.build(), oauth: None })
    }

    /// Authenticate with SASL XOAUTH2 and access tokens from `tokens` as `user`.
    pub fn with_oauth(s: &SmtpSettings, user: String, tokens: Arc<dyn AccessTokens>) -> Result<Self, MailerError> {
        let plain = SmtpSettings { user: None, password: None, ..s.clone() };
        Ok(Self { inner: Self::builder(&plain)?.build(), oauth: Some((user, tokens, plain)) })
    }

    fn builder(s: &SmtpSettings) -> Result<AsyncSmtpTransportBuilder, MailerError> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
            .port(s.port)
            .timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
        let builder = match s.tls {
            TlsMode::Implicit => builder.tls(Tls::Wrapper(tls_parameters(s)?)),
            TlsMode::Starttls => builder.tls(Tls::Required(tls_parameters(s)?)),
            TlsMode::None => builder.tls(Tls::None),
        };
        let builder = match (&s.user, &s.password) {
            (Some(user), Some(password)) => {
                builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_string()))
            }
            (None, None) => builder,
            _ => return Err(MailerError::Credentials),
        };
        Ok(builder)
    }

    /// Send with a fresh connection authenticated by the current token; a
    /// refused token is dropped and a new one tried once. A grant that
    /// cannot give a token keeps the mail queued (transient): it is the
    /// configuration's fault, not the mail's.
    async fn send_oauth(
        &self,
        message: Message,
        (user, tokens, settings): &(String, Arc<dyn AccessTokens>, SmtpSettings),
    ) -> Result<(), SendError> {
        let mut last = None;
        for _ in 0..2 {
            let token = tokens.access_token().await.map_err(|e| SendError::Transient(Box::new(e)))?;
            let transport = Self::builder(settings)
                .map_err(|e| SendError::Transient(Box::new(e)))?
                .credentials(Credentials::new(user.clone(), token.expose_secret().to_string()))
                .authentication(vec![Mechanism::Xoauth2])
                .build();
            match transport.send(message.clone()).await {
                Ok(_) => return Ok(()),
                Err(e) if e.status().is_some_and(|c| c.to_string() == "535" || c.to_string() == "334") => {
                    tokens.invalidate();
                    tracing::warn!("the SMTP server refused the access token; trying a fresh one");
                    last = Some(e);
                }
                Err(e) => return Err(SendError::from(e)),
            }
        }
        Err(last.map_or_else(
            || SendError::Transient("authentication failed".into()),
            |e| SendError::Transient(Box::new(e)),
        ))
    }
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, message: Message) -> Result<(), SendError> {
        match &self.oauth {
            Some(oauth) => self.send_oauth(message, oauth).await,
            None => self.inner.send(message).await.map(|_| ()).map_err(SendError::from),
        }
    }
}

fn tls_parameters(s: &SmtpSettings) -> Result<TlsParameters, MailerError> {
    let mut builder = TlsParameters::builder(s.host.clone());
    if let Some(path) = &s.ca_file {
        let ca_error = |reason: String| MailerError::CaFile { path: path.clone(), reason };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(ca_error("no PEM certificate in the file".into()));
        }
        let cert = Certificate::from_pem(&pem).map_err(|e| ca_error(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(MailerError::Tls)
}
