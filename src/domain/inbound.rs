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
}

impl InboundMessage {
    pub fn sender(&self) -> Option<&EmailAddress> {
        self.from.as_ref().map(|m| &m.address)
    }

    /// Every recipient address (To then Cc).
    pub fn recipients(&self) -> impl Iterator<Item = &EmailAddress> {
        self.to.iter().chain(self.cc.iter()).map(|m| &m.address)
    }
}
