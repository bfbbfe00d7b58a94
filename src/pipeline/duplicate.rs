//! A Message-ID seen before. The same mail delivered twice (two mailboxes,
//! a resend, a server retry) is a duplicate and creates nothing. A
//! different mail that reuses the id (broken clients and list software
//! reuse them; some mailers stamp a fixed one) is new mail: it is logged as
//! "Message-ID reused" and goes on under an id of its own.
//!
//! Same content means same sender, subject, text and attachments: the
//! headers that differ between deliveries of one mail (Received,
//! Delivered-To) do not count.

use sha2::{Digest, Sha256};

use crate::domain::{InboundMessage, MessageId};
use crate::store::{Claim, InboundRow, StoreError};

use super::Pipeline;

/// What a claimed Message-ID turned out to be.
pub(super) enum Identity {
    /// The mail is the first with this id, or the new id of a reuse.
    Ours(MessageId),
    /// The same mail again.
    Duplicate,
}

/// A digest of what makes two mails the same mail.
pub(super) fn content_digest(msg: &InboundMessage) -> String {
    let mut h = Sha256::new();
    let sender = msg.sender().map(|a| a.to_string()).unwrap_or_default();
    for field in [sender.as_str(), msg.subject.as_str(), msg.text.as_str()] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    for a in &msg.attachments {
        h.update((a.filename.len() as u64).to_le_bytes());
        h.update(a.filename.as_bytes());
        h.update(Sha256::digest(&a.data));
    }
    hex::encode(h.finalize())
}

impl Pipeline {
    /// Claim the mail's Message-ID; for an id another mail holds, tell a
    /// duplicate from a reuse.
    pub(super) async fn claim_identity(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
    ) -> Result<Identity, StoreError> {
        let now = self.clock.now_ms();
        let Claim::DuplicateOf(owner) = self.store.claim_message_id(mid, row.id, now).await? else {
            return Ok(Identity::Ours(mid.clone()));
        };
        let first = self.store.inbound(owner).await?.map(|r| crate::mime::parse(&r.raw));
        let digest = content_digest(msg);
        match first {
            // The first mail is gone or unreadable: nothing to tell them apart by.
            None | Some(Err(_)) => return Ok(Identity::Duplicate),
            Some(Ok(first)) if content_digest(&first) == digest => return Ok(Identity::Duplicate),
            Some(Ok(_)) => {}
        }
        let own = mid.reused(&digest);
        tracing::warn!(first = owner, new_id = %own, "Message-ID reused by a different mail; taken as a new mail");
        self.note(row, Some(mid), "decide", &format!("Message-ID reused (first by mail {owner}); taken as {own}"));
        match self.store.claim_message_id(&own, row.id, now).await? {
            Claim::Ours => Ok(Identity::Ours(own)),
            // The same reuse again: a duplicate of that one.
            Claim::DuplicateOf(_) => Ok(Identity::Duplicate),
        }
    }
}
