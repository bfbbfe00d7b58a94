//! An outbox row to a mail: headers, threading, the loop markers. No I/O.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::domain::{EmailAddress, MessageId};
use crate::store::{MailFile, OutgoingRow};

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
    build_message_with(row, &[], from, now)
}

/// The mail for an outbox row with `files` attached. No I/O.
pub fn build_message_with(
    row: &OutgoingRow,
    files: &[MailFile],
    from: &Mailbox,
    now: DateTime<Utc>,
) -> Result<Message, BuildError> {
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
    // A reply goes to the mailbox the request came in on (a bad stored value is left out).
    if let Some(reply_to) = row.reply_to.as_deref().and_then(|r| EmailAddress::parse(r).ok())
        && let Ok(addr) = reply_to.as_ref().parse::<Address>()
    {
        builder = builder.reply_to(Mailbox::new(from.name.clone(), addr));
    }
    if let Some(parent) = &row.in_reply_to {
        let parent = MessageId::parse(parent).map_err(|_| BuildError::MessageId(parent.clone()))?;
        builder = builder.in_reply_to(parent.bracketed()).references(parent.bracketed());
    }
    let alternative = |html: &String| MultiPart::alternative_plain_html(row.body_text.clone(), html.clone());
    if files.is_empty() {
        return Ok(match &row.body_html {
            Some(html) => builder.multipart(alternative(html))?,
            None => builder.singlepart(SinglePart::plain(row.body_text.clone()))?,
        });
    }
    let mut mixed = match &row.body_html {
        Some(html) => MultiPart::mixed().multipart(alternative(html)),
        None => MultiPart::mixed().singlepart(SinglePart::plain(row.body_text.clone())),
    };
    for f in files {
        let content_type = ContentType::parse(&f.content_type)
            .unwrap_or_else(|_| ContentType::parse("application/octet-stream").unwrap_or(ContentType::TEXT_PLAIN));
        mixed = mixed.singlepart(Attachment::new(one_line(&f.filename)).body(f.data.clone(), content_type));
    }
    Ok(builder.multipart(mixed)?)
}

/// One mail for `first` and the rows merged into it: the first's headers,
/// the bodies one after the other. Pure.
pub fn merge_rows(first: &OutgoingRow, rest: &[OutgoingRow]) -> OutgoingRow {
    let mut out = first.clone();
    if rest.is_empty() {
        return out;
    }
    for r in rest {
        out.body_text.push_str("\n\n----------------------------------------\n\n");
        out.body_text.push_str(&r.body_text);
    }
    let inner = |html: &str| -> String {
        let start = html.find("<body>").map_or(0, |i| i + "<body>".len());
        let end = html.rfind("</body>").unwrap_or(html.len()).max(start);
        html[start..end].to_string()
    };
    out.body_html = match (&first.body_html, rest.iter().all(|r| r.body_html.is_some())) {
        (Some(html), true) => {
            let mut body = inner(html);
            for r in rest {
                body.push_str("<hr>");
                body.push_str(&inner(r.body_html.as_deref().unwrap_or_default()));
            }
            Some(format!("<html><body>{body}</body></html>"))
        }
        _ => None,
    };
    out
}
