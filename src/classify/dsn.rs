//! Reading a bounce into what it claims: which of our mails it is about
//! and what happened to each recipient. No I/O and no decision; the rule of
//! what may suppress an address is [`super::suppress`].
//!
//! An RFC 3464 delivery status notification is a `multipart/report;
//! report-type=delivery-status` whose `message/delivery-status` part holds a
//! block of per-message fields, then one block per recipient (`Final-Recipient`,
//! `Action`, `Status`), blank-line separated; the original mail, or only its
//! headers, follows as `message/rfc822` or `text/rfc822-headers`. Older MTAs
//! (qmail, Exim, Postfix without DSN) write the same in prose, which is read
//! only as far as [`PlainBounce`] says.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::domain::{EmailAddress, MessageId};

/// What kind of report the mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// RFC 3464: a `message/delivery-status` part.
    DeliveryStatus,
    /// RFC 8098 read receipt (`report-type=disposition-notification` or a
    /// `message/disposition-notification` part). Never a delivery failure.
    Disposition,
    /// Another `multipart/report` (abuse feedback, TLS reports).
    OtherReport,
    /// No report structure: a prose bounce, or not a bounce at all.
    Plain,
}

/// RFC 3464 §2.3.3 `Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DsnAction {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
    /// Missing or a value the RFC does not define.
    Unknown,
}

impl DsnAction {
    fn parse(value: &str) -> Self {
        match first_token(value).to_ascii_lowercase().as_str() {
            "failed" => Self::Failed,
            "delayed" => Self::Delayed,
            "delivered" => Self::Delivered,
            "relayed" => Self::Relayed,
            "expanded" => Self::Expanded,
            _ => Self::Unknown,
        }
    }
}

/// An RFC 3463 enhanced status code `class.subject.detail`; class 2 is
/// success, 4 a transient and 5 a permanent failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DsnStatus {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl DsnStatus {
    /// `5.1.1`, also with a trailing comment (`5.1.1 (user unknown)`).
    pub fn parse(value: &str) -> Option<Self> {
        let mut it = first_token(value).split('.');
        let class = it.next()?.parse::<u8>().ok().filter(|c| matches!(c, 2 | 4 | 5))?;
        let num = |s: Option<&str>| s.filter(|s| (1..=3).contains(&s.len())).and_then(|s| s.parse::<u16>().ok());
        let subject = num(it.next())?;
        let detail = num(it.next())?;
        it.next().is_none().then_some(Self { class, subject, detail })
    }

    pub fn is_permanent(self) -> bool {
        self.class == 5
    }
}

impl std::fmt::Display for DsnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One per-recipient block of a delivery-status part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientStatus {
    pub final_recipient: Option<EmailAddress>,
    pub original_recipient: Option<EmailAddress>,
    pub action: DsnAction,
    pub status: Option<DsnStatus>,
}

impl RecipientStatus {
    /// `Action: failed` with a 5.x.x status: the only block that reports a
    /// permanent failure. A 5.x.x with another action (a relay noting it)
    /// or a failure without a valid status is not taken as one.
    pub fn is_permanent_failure(&self) -> bool {
        self.action == DsnAction::Failed && self.status.is_some_and(DsnStatus::is_permanent)
    }
}

/// What a prose bounce says, read conservatively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlainBounce {
    /// `X-Failed-Recipients` (Exim) and qmail's `<addr>:` lines.
    pub failed_recipients: Vec<EmailAddress>,
    /// The text says the failure is permanent ("This is a permanent error").
    pub says_permanent: bool,
    /// The text says delivery is only delayed or still being tried.
    pub says_delayed: bool,
}

/// A bounce as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceReport {
    pub kind: ReportKind,
    /// Message-IDs of the mail the report is about: from the enclosed
    /// original or its headers, `In-Reply-To` and `References`, and (prose
    /// bounces only) `Message-ID:` lines of the quoted original.
    /// (`Original-Envelope-Id` is not read: mailgate sends no `ENVID`.)
    pub references: Vec<MessageId>,
    pub recipients: Vec<RecipientStatus>,
    pub plain: PlainBounce,
}

/// Read a raw mail. Anything unreadable yields an empty report of kind
/// `Plain`, which suppresses nothing.
pub fn read(raw: &[u8]) -> BounceReport {
    let empty = || BounceReport {
        kind: ReportKind::Plain,
        references: vec![],
        recipients: vec![],
        plain: PlainBounce::default(),
    };
    // mail-parser can panic on nested messages (see `mime::parse`).
    std::panic::catch_unwind(|| MessageParser::default().parse(raw).map(|m| read_message(&m)))
        .ok()
        .flatten()
        .unwrap_or_else(empty)
}

fn read_message(msg: &Message<'_>) -> BounceReport {
    let mut kind = ReportKind::Plain;
    let root_report_type = msg.root_part().content_type().and_then(|ct| {
        let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"));
        is_report.then(|| ct.attribute("report-type").unwrap_or("").to_ascii_lowercase())
    });
    if root_report_type.is_some() {
        kind = ReportKind::OtherReport;
    }
    let mut references = Vec::new();
    let mut recipients = Vec::new();
    let mut disposition = root_report_type.as_deref() == Some("disposition-notification");
    for part in msg.parts.iter() {
        let (ctype, sub) = part
            .content_type()
            .map(|ct| (ct.ctype().to_ascii_lowercase(), ct.subtype().unwrap_or("").to_ascii_lowercase()))
            .unwrap_or_default();
        match (ctype.as_str(), sub.as_str(), &part.body) {
            ("message", "delivery-status" | "global-delivery-status", _) => {
                kind = ReportKind::DeliveryStatus;
                recipients.extend(recipient_blocks(&String::from_utf8_lossy(part.contents())));
            }
            ("message", "disposition-notification" | "global-disposition-notification", _) => disposition = true,
            (_, _, PartType::Message(original)) => push_id(&mut references, original.message_id()),
            ("text" | "message", "rfc822-headers" | "global-headers", _) => {
                let mut headers = part.contents().to_vec();
                headers.extend_from_slice(b"\r\n\r\n");
                let id =
                    MessageParser::default().parse_headers(&headers[..]).and_then(|h| h.message_id().map(String::from));
                push_id(&mut references, id.as_deref());
            }
            _ => {}
        }
    }
    if disposition {
        kind = ReportKind::Disposition;
    }
    for id in msg
        .in_reply_to()
        .as_text_list()
        .into_iter()
        .flatten()
        .chain(msg.references().as_text_list().into_iter().flatten())
    {
        push_id(&mut references, Some(id.as_ref()));
    }
    let mut plain = PlainBounce::default();
    if kind == ReportKind::Plain {
        let text: String = (0..msg.text_body.len()).filter_map(|i| msg.body_text(i)).collect::<Vec<_>>().join("\n");
        for line in text.lines() {
            let line = line.trim_start();
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("message-id")
            {
                push_id(&mut references, Some(value));
            }
        }
        plain = plain_bounce(msg.header_raw("X-Failed-Recipients"), &text);
    }
    BounceReport { kind, references, recipients, plain }
}

fn push_id(out: &mut Vec<MessageId>, id: Option<&str>) {
    if let Some(id) = id.and_then(|s| MessageId::parse(s).ok())
        && !out.contains(&id)
    {
        out.push(id);
    }
}

/// Prose that says a failure is final (Exim: "This message was created
/// automatically by mail delivery software. … permanent error"; qmail:
/// "This is a permanent error; I've given up"; sendmail: "permanent fatal
/// errors"). Lower case.
const PERMANENT: &[&str] = &["permanent error", "permanent failure", "permanent fatal error", "permanently rejected"];

/// Prose that says delivery goes on; any of these and the bounce suppresses
/// nothing, whatever else it says.
const DELAYED: &[&str] = &[
    "delayed",
    "will keep trying",
    "will retry",
    "still trying",
    "not yet been delivered",
    "temporary failure",
    "temporary error",
    "deferred",
];

fn plain_bounce(failed_header: Option<&str>, text: &str) -> PlainBounce {
    let mut failed = Vec::new();
    let mut add = |a: &str| {
        if let Ok(a) = EmailAddress::parse(a.trim().trim_start_matches('<').trim_end_matches('>'))
            && !failed.contains(&a)
        {
            failed.push(a);
        }
    };
    failed_header.into_iter().flat_map(|v| v.split(',')).for_each(&mut add);
    // qmail: "<user@example.com>:" alone at the start of a line, before the
    // quoted original ("--- Below this line is a copy of the message.").
    for line in text.lines().take_while(|l| !l.starts_with("--- ")) {
        if let Some(addr) = line.trim_end().strip_prefix('<').and_then(|l| l.strip_suffix(">:")) {
            add(addr);
        }
    }
    let lower = text.to_lowercase();
    PlainBounce {
        failed_recipients: failed,
        says_permanent: PERMANENT.iter().any(|p| lower.contains(p)),
        says_delayed: DELAYED.iter().any(|p| lower.contains(p)),
    }
}

/// The per-recipient blocks of a delivery-status body: field lines
/// (folded lines joined), blocks split at blank lines; a block with a
/// `Final-Recipient` or `Original-Recipient` is a recipient's.
fn recipient_blocks(body: &str) -> Vec<RecipientStatus> {
    let mut out = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let lines = body.split('\n').map(|l| l.trim_end_matches('\r'));
    for line in lines.chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if let Some(r) = recipient(&fields) {
                out.push(r);
            }
            fields.clear();
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    out
}

fn recipient(fields: &[(String, String)]) -> Option<RecipientStatus> {
    let get = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let final_recipient = get("final-recipient").and_then(typed_address);
    let original_recipient = get("original-recipient").and_then(typed_address);
    if final_recipient.is_none() && original_recipient.is_none() {
        return None;
    }
    Some(RecipientStatus {
        final_recipient,
        original_recipient,
        action: get("action").map(DsnAction::parse).unwrap_or(DsnAction::Unknown),
        status: get("status").and_then(DsnStatus::parse),
    })
}

/// `rfc822; user@example.com` (RFC 3464 §2.3.2 address-type; value).
fn typed_address(value: &str) -> Option<EmailAddress> {
    let (_, addr) = value.split_once(';')?;
    EmailAddress::parse(addr.trim().trim_start_matches('<').trim_end_matches('>')).ok()
}

fn first_token(value: &str) -> &str {
    value.split(|c: char| c.is_whitespace() || c == '(' || c == ';').find(|t| !t.is_empty()).unwrap_or("")
}

#[cfg(test)]
mod tests;
