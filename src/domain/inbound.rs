use super::{EmailAddress, MessageId};

/// A sender or recipient: address plus decoded display name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: EmailAddress,
}

/// One decoded attachment.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    /// Shared, not copied, on its way to Jira.
    pub data: bytes::Bytes,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("size", &self.data.len())
            .finish()
    }
}

impl Attachment {
    pub fn sha256_hex(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&self.data))
    }
}

/// A parsed inbound mail, everything the pipeline needs and nothing of the
/// MIME structure.
#[derive(Debug, Clone, Default)]
pub struct InboundMessage {
    pub message_id: Option<MessageId>,
    pub in_reply_to: Vec<MessageId>,
    pub references: Vec<MessageId>,
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Envelope recipients the delivering server recorded (`Delivered-To`,
    /// `X-Original-To`): how Bcc'd mail and aliases reached us.
    pub delivered_to: Vec<EmailAddress>,
    pub subject: String,
    /// Plain text body; HTML converted to text when there is no text part.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Headers that classification looks at, lower-cased names.
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub x_autoreply: bool,
    pub list_id: Option<String>,
    /// `Return-Path` present and empty (`<>`): a bounce or other null-sender mail.
    pub null_return_path: bool,
    /// Top-level content type is multipart/report (DSN, MDN).
    pub is_report: bool,
    pub x_mailgate_loop: bool,
    /// `X-Auto-Response-Suppress` (Outlook/Exchange): with
    /// [`Self::x_ms_inbox_rules_loop`] the mark of an Exchange out-of-office.
    pub x_auto_response_suppress: Option<String>,
    /// `X-MS-Exchange-Inbox-Rules-Loop` present: an inbox rule (out-of-office,
    /// auto-forward) of an Exchange mailbox sent this.
    pub x_ms_inbox_rules_loop: bool,
    /// `X-Loop`: set by procmail recipes, helpdesks and vacation programs on
    /// what they send automatically.
    pub x_loop: Option<String>,
    /// `X-JIRA-FingerPrint` present: a Jira notification (ours, sent back).
    pub x_jira_fingerprint: bool,
    /// `X-Failed-Recipients` present (Exim and others): a bounce even when it
    /// is not a multipart/report.
    pub x_failed_recipients: bool,
    /// `X-MLServer`, `X-ML-Name` or `Mailing-List` present: list software
    /// (fml, ezmlm) handled this; its admin notices are not requests.
    pub list_software: bool,
    /// The top-level header section as received, for values a routing rule
    /// reads from a header (`fields.x = { from = "header", name = "…" }`).
    pub header: RawHeader,
}

/// A header section, kept as its text (one copy; fields are found when asked for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawHeader(String);

impl RawHeader {
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The first field named `name` (any case): its value unfolded (folding
    /// line breaks become one space) and trimmed, as sent (encoded words are
    /// not decoded). The first is the one the last hop added.
    pub fn get(&self, name: &str) -> Option<String> {
        let mut lines = self.0.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).peekable();
        while let Some(line) = lines.next() {
            let Some((field, first)) = line.split_once(':') else { continue };
            if line.starts_with([' ', '\t']) || !field.trim_end().eq_ignore_ascii_case(name) {
                continue;
            }
            let mut value = first.trim().to_string();
            while let Some(more) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more.trim());
            }
            return Some(value.trim().to_string());
        }
        None
    }
}

impl InboundMessage {
    pub fn sender(&self) -> Option<&EmailAddress> {
        self.from.as_ref().map(|m| &m.address)
    }

    /// Every recipient address (To then Cc).
    pub fn recipients(&self) -> impl Iterator<Item = &EmailAddress> {
        self.to.iter().chain(self.cc.iter()).map(|m| &m.address)
    }

    /// Every address the mail was delivered to: To, Cc, then the envelope
    /// recipients (`Delivered-To`, `X-Original-To`).
    pub fn delivered_to_any(&self) -> impl Iterator<Item = &EmailAddress> {
        self.recipients().chain(self.delivered_to.iter())
    }
}
