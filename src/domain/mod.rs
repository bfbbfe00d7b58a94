//! Validated domain types. A raw `String` never crosses a module boundary
//! where one of these fits.

mod address;
mod inbound;
mod issue_key;
mod message_id;

pub use address::EmailAddress;
pub use inbound::{Attachment, InboundMessage, Mailbox};
pub use issue_key::{IssueKey, ProjectKey};
pub use message_id::MessageId;
