//! Validated domain types. A raw `String` never crosses a module boundary
//! where one of these fits.

mod address;
mod digest;
mod inbound;
mod issue_key;
mod login;
mod message_id;

pub use address::EmailAddress;
pub use digest::{InvalidDigest, Sha256Digest};
pub use inbound::{Attachment, InboundMessage, Mailbox, RawHeader};
pub use issue_key::{IssueKey, ProjectKey};
pub use login::{InvalidLogin, JiraLogin};
pub use message_id::MessageId;
