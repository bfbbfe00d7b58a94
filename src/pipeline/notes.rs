//! The audit notes of mails being worked on, kept in memory and written
//! with each mail's next state change (one commit instead of one per note).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::MessageId;
use crate::store::{InboundRow, PendingNote};

#[derive(Debug, Default)]
pub(super) struct NoteBuffer {
    notes: Mutex<HashMap<i64, Vec<PendingNote>>>,
}

impl NoteBuffer {
    /// One line of the mail's audit trail.
    pub(super) fn note(&self, at: i64, row: &InboundRow, mid: Option<&MessageId>, step: &str, detail: &str) {
        let note = PendingNote {
            at,
            inbound_id: row.id,
            mailbox: row.mailbox.clone(),
            message_id: mid.map(|m| m.to_string()).or_else(|| row.message_id.clone()),
            step: step.to_string(),
            detail: detail.to_string(),
        };
        if let Ok(mut notes) = self.notes.lock() {
            notes.entry(row.id).or_default().push(note);
        }
    }

    /// The notes of this mail not yet written, in order.
    pub(super) fn take(&self, id: i64) -> Vec<PendingNote> {
        self.notes.lock().ok().and_then(|mut n| n.remove(&id)).unwrap_or_default()
    }
}
