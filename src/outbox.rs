//! Outbound mail: drains the durable outbox over SMTP. Every attempt is
//! recorded. Connection failures, timeouts and 4xx replies are retried with
//! exponential backoff; 5xx replies give up at once. Mail to one of our own
//! addresses is never sent (loop guard), and every mail carries
//! `Auto-Submitted` and `X-Mailgate-Loop` so that auto-responders and our own
//! inbound side leave it alone.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::clock::Clock;
use crate::config::{SmtpSettings, TlsMode};
use crate::domain::{EmailAddress, MessageId};
use crate::queue::InstanceId;
use crate::store::{OutboxStatus, OutgoingRow, Store, StoreError};

/// The error recorded for a row refused by the loop guard.
pub const LOOP_GUARD_ERROR: &str = "loop guard: recipient is one of our own addresses";

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

/// Why a row could not be turned into a mail; the row is given up.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid recipient {0:?}")]
    Recipient(String),
    #[error("invalid Message-ID {0:?}")]
    MessageId(String),
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
}

/// The SMTP client. One connection per mail (no pool): the outbox sends few.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish_non_exhaustive()
    }
}

impl Mailer {
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
        let address: Address = s.from.as_ref().parse().map_err(MailerError::From)?;
        let name = s.from_name.as_deref().map(one_line).filter(|n| !n.trim().is_empty());
        Ok(Self { transport: builder.build(), from: Mailbox::new(name, address) })
    }

    /// The From of every mail sent.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    async fn send(&self, message: Message) -> Result<(), lettre::transport::smtp::Error> {
        self.transport.send(message).await.map(|_| ())
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

/// A header value taken from data: control characters (CR, LF, …) become
/// spaces, so a value can never start a new header line.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

macro_rules! text_header {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $ty(String);

        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(s.to_string()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(
    /// RFC 3834: tells auto-responders not to answer.
    AutoSubmitted,
    "Auto-Submitted"
);
text_header!(
    /// Our own marker: the inbound parser ignores mail carrying it.
    XMailgateLoop,
    "X-Mailgate-Loop"
);

/// The mail for an outbox row. No I/O; `now` becomes the Date header.
pub fn build_message(row: &OutgoingRow, from: &Mailbox, now: DateTime<Utc>) -> Result<Message, BuildError> {
    let to: Address = EmailAddress::parse(&row.recipient)
        .ok()
        .and_then(|a| a.as_ref().parse().ok())
        .ok_or_else(|| BuildError::Recipient(row.recipient.clone()))?;
    let message_id = MessageId::parse(&row.message_id).map_err(|_| BuildError::MessageId(row.message_id.clone()))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(one_line(&row.subject))
        .message_id(Some(message_id.bracketed()))
        .date(SystemTime::from(now))
        .header(AutoSubmitted("auto-generated".into()))
        .header(XMailgateLoop("yes".into()));
    if let Some(parent) = &row.in_reply_to {
        let parent = MessageId::parse(parent).map_err(|_| BuildError::MessageId(parent.clone()))?;
        builder = builder.in_reply_to(parent.bracketed()).references(parent.bracketed());
    }
    let message = match &row.body_html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(row.body_text.clone(), html.clone()))?,
        None => builder.singlepart(SinglePart::plain(row.body_text.clone()))?,
    };
    Ok(message)
}

pub use crate::queue::RetryPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The SMTP server accepted the mail.
    Delivered,
    /// A transient failure; the row stays pending for a later attempt.
    Retried,
    /// The row is `failed` for good (5xx, too many attempts, loop guard, bad data).
    GaveUp,
    /// No row is due.
    Empty,
}

/// Send the next due row, if any, and record the attempt.
#[tracing::instrument(skip_all, fields(outbox_id = tracing::field::Empty, kind = tracing::field::Empty))]
pub async fn try_deliver_one(
    store: &Store,
    mailer: &Mailer,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    own: &[EmailAddress],
    owner: &InstanceId,
) -> Result<DeliveryOutcome, StoreError> {
    let now = clock.now();
    let Some(row) = store.next_outgoing(owner, now.timestamp_millis()).await? else {
        return Ok(DeliveryOutcome::Empty);
    };
    let span = tracing::Span::current();
    span.record("outbox_id", row.id);
    span.record("kind", row.kind.as_str());

    if EmailAddress::parse(&row.recipient).is_ok_and(|r| own.contains(&r)) {
        tracing::warn!("not sent: {LOOP_GUARD_ERROR}");
        return give_up(store, &row, LOOP_GUARD_ERROR, clock.now_ms()).await;
    }
    let message = match build_message(&row, mailer.from(), now) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error.message = %e, "outbox row cannot be sent");
            return give_up(store, &row, &e.to_string(), clock.now_ms()).await;
        }
    };
    let result = mailer.send(message).await;
    let now_ms = clock.now_ms();
    match result {
        Ok(()) => {
            store.record_attempt(row.id, OutboxStatus::Sent, None, now_ms, now_ms).await?;
            tracing::info!("mail sent");
            Ok(DeliveryOutcome::Delivered)
        }
        Err(e) => {
            let error = cause_chain(&e);
            if e.is_permanent() {
                tracing::error!(error.message = %error, "SMTP server refused the mail; giving up");
                give_up(store, &row, &error, now_ms).await
            } else if policy.gives_up(row.attempts) {
                tracing::error!(error.message = %error, attempts = row.attempts + 1, "sending failed too often; giving up");
                give_up(store, &row, &error, now_ms).await
            } else {
                let next = now_ms.saturating_add(policy.delay_ms(row.attempts));
                tracing::warn!(error.message = %error, retry_in_ms = next - now_ms, "sending failed; will retry");
                store.record_attempt(row.id, OutboxStatus::Pending, Some(&error), next, now_ms).await?;
                Ok(DeliveryOutcome::Retried)
            }
        }
    }
}

async fn give_up(store: &Store, row: &OutgoingRow, error: &str, now_ms: i64) -> Result<DeliveryOutcome, StoreError> {
    store.record_attempt(row.id, OutboxStatus::Failed, Some(error), now_ms, now_ms).await?;
    Ok(DeliveryOutcome::GaveUp)
}

fn cause_chain(e: &lettre::transport::smtp::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The outbox worker: send due rows, then look again about a second later,
/// until `stop` turns true (or its sender is dropped).
pub async fn run_outbox(
    store: &Store,
    mailer: &Mailer,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    own: &[EmailAddress],
    owner: &InstanceId,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    crate::queue::run_worker("outbox", Duration::from_secs(1), stop, || async {
        Ok::<_, StoreError>(match try_deliver_one(store, mailer, clock, policy, own, owner).await? {
            DeliveryOutcome::Empty => crate::queue::Step::Idle,
            _ => crate::queue::Step::Worked,
        })
    })
    .await;
}

#[cfg(test)]
mod tests;
