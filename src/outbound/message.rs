//! An outbox row to a mail: headers, threading, the loop markers. No I/O.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::domain::{EmailAddress, MessageId};
use crate::store::OutgoingRow;

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

/// A header value taken from data: control characters (CR, LF, …) become
/// spaces, so a value can never start a new header line.
pub(super) fn one_line(s: &str) -> String {
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
