//! The real transport: lettre's SMTP client. One connection per mail (no
//! pool): the outbox sends few.

use std::time::Duration;

use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::transport::{MailTransport, SendError};
use crate::config::{SmtpSettings, TlsMode};

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
}

impl SmtpTransport {
    pub fn new(s: &SmtpSettings) -> Result<Self, MailerError> {
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
        Ok(Self { inner: builder.build() })
    }
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, message: Message) -> Result<(), SendError> {
        self.inner.send(message).await.map(|_| ()).map_err(SendError::from)
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
