//! Acknowledging finished mail on IMAP: after its outcome is committed,
//! never before. One instance acknowledges a mail.

use std::collections::HashSet;

use super::{Ingest, IngestError, MAX_PER_PASS};
use crate::mailbox::{AckTarget, MailSource};
use crate::store::Status;

/// Mark finished mails seen and move them (one IMAP command set per target
/// folder); the store remembers each ack.
pub(super) async fn acknowledge_finished(
    ing: &Ingest,
    source: &mut dyn MailSource,
    name: &str,
) -> Result<usize, IngestError> {
    let mut batches: [(AckTarget, Vec<(i64, u32)>); 2] =
        [(AckTarget::Processed, Vec::new()), (AckTarget::Failed, Vec::new())];
    let mut stale = Vec::new();
    let unacked = ing.store.unacked(name).await?;
    // One instance acknowledges a mail (a second MOVE of the same UID could
    // copy it twice); a crashed instance's claim expires.
    let ids: Vec<i64> = unacked.iter().map(|u| u.id).collect();
    let claimed: HashSet<i64> = ing.store.claim_acks(&ids, ing.lease()).await?.into_iter().collect();
    for u in unacked.into_iter().filter(|u| claimed.contains(&u.id)) {
        if u.uidvalidity != i64::from(source.uidvalidity()) {
            tracing::warn!(id = u.id, "UIDVALIDITY changed; cannot acknowledge an old message on IMAP");
            stale.push(u.id);
        } else {
            let uid = u32::try_from(u.uid).unwrap_or(0);
            batches[usize::from(u.status == Status::Failed)].1.push((u.id, uid));
        }
    }
    let mut n = 0;
    for (target, rows) in &batches {
        for chunk in rows.chunks(MAX_PER_PASS) {
            let uids: Vec<u32> = chunk.iter().map(|(_, uid)| *uid).collect();
            crate::crash::point("before_imap_ack");
            source.acknowledge_many(&uids, *target).await?;
            crate::crash::point("after_imap_ack");
            let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
            ing.store.mark_acked_many(&ids, ing.clock.now_ms()).await?;
            n += chunk.len();
        }
    }
    ing.store.mark_acked_many(&stale, ing.clock.now_ms()).await?;
    Ok(n)
}
