//! Claiming due mail for a pass: each claimed mail parsed once, with its
//! ordering keys; a mail behind an earlier unfinished one of its
//! conversation (not in this pass) is deferred.

use std::collections::HashSet;
use std::sync::Mutex;

use super::Ingest;
use crate::pipeline::Parsed;
use crate::store::{InboundRow, StoreError};

/// What orders a mail against others: its thread's Message-IDs, the issues
/// they (or its subject, or an earlier attempt) point at, and its sender.
/// A mail that cannot be parsed has no keys (it fails on its own). All keys
/// order mails within a pass; all but the sender are also kept in the store
/// and order mails across passes (a sender's poison mail, retried for hours,
/// must not stall that sender's other conversations).
async fn ordering_keys(ing: &Ingest, row: &InboundRow, parsed: &Parsed) -> Result<Vec<String>, StoreError> {
    let mut keys: Vec<String> = row.state.posted_issue().iter().map(|k| format!("issue:{k}")).collect();
    let Ok(msg) = parsed else { return Ok(keys) };
    let answers: Vec<_> = msg.in_reply_to.iter().chain(msg.references.iter()).cloned().collect();
    keys.extend(msg.message_id.iter().chain(answers.iter()).map(|m| format!("mid:{m}")));
    keys.extend(crate::domain::IssueKey::find_all(&msg.subject).iter().map(|k| format!("issue:{k}")));
    keys.extend(ing.store.threads_for(&answers).await?.values().map(|k| format!("issue:{k}")));
    keys.extend(msg.sender().iter().map(|a| format!("from:{}", a.as_ref().to_lowercase())));
    Ok(keys)
}

/// A claimed mail, parsed once, with its ordering keys.
type ClaimedMail = (InboundRow, Parsed, Vec<String>);

/// A mail that waits behind an earlier one not in this pass is looked at
/// again this much later at the soonest (the earlier one may be running
/// elsewhere: another mailbox, another instance).
const BLOCKED_RETRY_MS: i64 = 1_000;

/// Claim up to `want` due mails with their ordering keys. The flag is false
/// when nothing more is due now. A mail sharing a thread key with an earlier
/// unfinished mail that this pass does not hold (it waits for a retry, is
/// held, or runs elsewhere) is deferred behind it: a reply never overtakes
/// its parent across passes.
pub(super) async fn claim(
    ing: &Ingest,
    name: &str,
    want: usize,
    handled: &mut HashSet<i64>,
    claimed: &Mutex<HashSet<i64>>,
) -> Result<(Vec<ClaimedMail>, bool), StoreError> {
    let mut rows = Vec::new();
    while rows.len() < want {
        let Some(mut row) = ing.store.claim_next(name, ing.lease()).await? else {
            return Ok((rows, false));
        };
        if !handled.insert(row.id) {
            // A retried mail due again at once: leave it to the next pass.
            ing.store.release_inbound(row.id, &ing.instance).await?;
            return Ok((rows, false));
        }
        let parsed = crate::mime::parse(&row.raw);
        if parsed.is_ok() {
            // The parsed mail is all the pipeline needs; the store keeps the
            // raw bytes (a bounce reads them again). A big mail is not held
            // twice while it is worked on (issue 11: at most 3x its size).
            row.raw = Vec::new();
        }
        let keys = ordering_keys(ing, &row, &parsed).await?;
        let durable: Vec<String> = keys.iter().filter(|k| !k.starts_with("from:")).cloned().collect();
        let blockers = ing.store.order_keys(row.id, &durable).await?;
        let outside = blockers.iter().filter(|b| !handled.contains(&b.id)).map(|b| b.next_attempt_at).max();
        if let Some(due) = outside {
            let now = ing.clock.now_ms();
            let until = due.max(now.saturating_add(BLOCKED_RETRY_MS));
            tracing::info!(inbound_id = row.id, until, "an earlier mail of its conversation is unfinished; waiting");
            ing.store.defer(row.id, until, &ing.instance, now).await?;
            continue;
        }
        if let Ok(mut c) = claimed.lock() {
            c.insert(row.id);
        }
        rows.push((row, parsed, keys));
    }
    Ok((rows, true))
}
