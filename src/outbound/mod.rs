//! Outbound mail: drains the durable outbox through a [`MailTransport`]
//! (SMTP in production). Every attempt is recorded. Transient failures
//! (connection, timeout, 4xx) are retried with exponential backoff;
//! permanent ones (5xx) give up at once. Mail to one of our own addresses is
//! never sent (loop guard), and every mail carries `Auto-Submitted` and
//! `X-Mailgate-Loop` so that auto-responders and our own inbound side leave
//! it alone. Admin notices are queued here too.

mod message;
pub mod notices;
mod smtp;
#[cfg(test)]
mod stub;
mod transport;

pub use message::{AutoSubmitted, BuildError, XMailgateLoop, build_message, build_message_with, merge_rows};
pub use notices::{notify_admins, outbox_message_id};
pub use smtp::{MailerError, SmtpTransport};
#[cfg(test)]
pub use stub::StubTransport;
pub use transport::{BoxError, MailTransport, Mailer, SendError};

use std::error::Error as _;
use std::time::Duration;

use crate::clock::Clock;
use crate::domain::EmailAddress;
use crate::queue::{InstanceId, Step, run_worker};
use crate::store::{OutboxStatus, OutgoingRow, Store, StoreError};

/// The error recorded for a row refused by the loop guard.
pub const LOOP_GUARD_ERROR: &str = "loop guard: recipient is one of our own addresses";

pub use crate::queue::RetryPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The SMTP server accepted the mail.
    Delivered,
    /// A transient failure; the row stays pending for a later attempt.
    Retried,
    /// The row is `failed` for good (5xx, too many attempts, loop guard, bad data).
    GaveUp,
    /// No row is due.
    Empty,
}

/// Send the next due row, if any, and record the attempt.
#[tracing::instrument(skip_all, fields(outbox_id = tracing::field::Empty, kind = tracing::field::Empty))]
pub async fn try_deliver_one(
    store: &Store,
    mailer: &Mailer,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    own: &[EmailAddress],
    owner: &InstanceId,
) -> Result<DeliveryOutcome, StoreError> {
    let now = clock.now();
    let Some(row) = store.next_outgoing(owner, now.timestamp_millis()).await? else {
        return Ok(DeliveryOutcome::Empty);
    };
    let span = tracing::Span::current();
    span.record("outbox_id", row.id);
    span.record("kind", row.kind.as_str());

    if EmailAddress::parse(&row.recipient).is_ok_and(|r| own.contains(&r)) {
        tracing::warn!("not sent: {LOOP_GUARD_ERROR}");
        return give_up(store, &row, LOOP_GUARD_ERROR, clock.now_ms()).await;
    }
    // Notifications of this issue to this recipient made within its window go with it.
    let merged = store.claim_merged(&row, owner, now.timestamp_millis()).await?;
    let merged_ids: Vec<i64> = merged.iter().map(|r| r.id).collect();
    let events: Vec<&str> = std::iter::once(&row).chain(&merged).filter_map(|r| r.event_id.as_deref()).collect();
    let files = store.event_files(&events).await?;
    let message = match build_message_with(&merge_rows(&row, &merged), &files, mailer.from(), now) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error.message = %e, "outbox row cannot be sent");
            store.release_merged(&merged_ids, owner).await?;
            return give_up(store, &row, &e.to_string(), clock.now_ms()).await;
        }
    };
    let result = mailer.send(message).await;
    let now_ms = clock.now_ms();
    if result.is_err() {
        store.release_merged(&merged_ids, owner).await?;
    }
    match result {
        Ok(()) if merged_ids.is_empty() => {
            store.record_attempt(row.id, OutboxStatus::Sent, None, now_ms, now_ms).await?;
            tracing::info!("mail sent");
            Ok(DeliveryOutcome::Delivered)
        }
        Ok(()) => {
            store.record_sent_merged(row.id, &merged_ids, now_ms).await?;
            tracing::info!(merged = merged_ids.len(), "mail sent, with the notifications merged into it");
            Ok(DeliveryOutcome::Delivered)
        }
        Err(e) => {
            let error = cause_chain(&e);
            if e.is_permanent() {
                tracing::error!(error.message = %error, "SMTP server refused the mail; giving up");
                give_up(store, &row, &error, now_ms).await
            } else if policy.gives_up(row.attempts) {
                tracing::error!(error.message = %error, attempts = row.attempts + 1, "sending failed too often; giving up");
                give_up(store, &row, &error, now_ms).await
            } else {
                let next = now_ms.saturating_add(policy.delay_ms(row.attempts));
                tracing::warn!(error.message = %error, retry_in_ms = next - now_ms, "sending failed; will retry");
                store.record_attempt(row.id, OutboxStatus::Pending, Some(&error), next, now_ms).await?;
                Ok(DeliveryOutcome::Retried)
            }
        }
    }
}

async fn give_up(store: &Store, row: &OutgoingRow, error: &str, now_ms: i64) -> Result<DeliveryOutcome, StoreError> {
    store.record_attempt(row.id, OutboxStatus::Failed, Some(error), now_ms, now_ms).await?;
    Ok(DeliveryOutcome::GaveUp)
}

fn cause_chain(e: &SendError) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The outbox worker: send due rows, then look again about a second later,
/// until `stop` turns true (or its sender is dropped).
pub async fn run_outbox(
    store: &Store,
    mailer: &Mailer,
    clock: &dyn Clock,
    policy: &RetryPolicy,
    own: &[EmailAddress],
    owner: &InstanceId,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    run_worker("outbox", Duration::from_secs(1), stop, || async {
        Ok::<_, StoreError>(match try_deliver_one(store, mailer, clock, policy, own, owner).await? {
            DeliveryOutcome::Empty => Step::Idle,
            _ => Step::Worked,
        })
    })
    .await;
}

#[cfg(test)]
mod delivery_tests;
#[cfg(test)]
mod tests;
