//! The mailbox loop: acknowledge what is finished, store what is new,
//! process what is due, then wait (IDLE or poll). Reconnects with backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::mailbox::{AckTarget, MailConnector, MailSource, MailboxError};
use crate::pipeline::{Pipeline, RowOutcome};
use crate::store::{NewInbound, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts from one pass over a mailbox.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CycleStats {
    pub stored: usize,
    pub processed: usize,
    pub acknowledged: usize,
    pub outcomes: Vec<RowOutcome>,
}

/// How long a claim lasts without renewal; a crashed process's claims
/// (PostgreSQL, several instances) are taken over after this.
const LEASE_MS: i64 = 60_000;
/// Mails processed per pass at most, so acks and new mail are not starved.
const MAX_PER_PASS: usize = 500;

/// One pass: ack finished mails, store new ones, process due ones, ack again.
#[tracing::instrument(skip_all, fields(mailbox = name))]
pub async fn cycle(pipeline: &Pipeline, source: &mut dyn MailSource, name: &str) -> Result<CycleStats, IngestError> {
    let mut stats =
        CycleStats { acknowledged: acknowledge_finished(pipeline, source, name).await?, ..Default::default() };
    let uidvalidity = source.uidvalidity();
    let unseen = source.unseen_uids().await?;
    let known = pipeline.store.known_uids(name, uidvalidity, &unseen).await?;
    for uid in unseen.into_iter().filter(|u| !known.contains(u)) {
        let Some(bytes) = source.fetch(uid).await? else {
            continue;
        };
        crate::crash::point("after_fetch");
        let new =
            NewInbound { mailbox: name, uidvalidity: Some(uidvalidity), uid: Some(uid), source: None, raw: &bytes };
        if pipeline.store.insert_inbound(&new, pipeline.clock.now_ms()).await?.is_some() {
            stats.stored += 1;
            crate::crash::point("after_store");
        }
    }
    // Claim due mails one by one (other instances on the same database
    // skip what is claimed); a retried mail is due later, so the loop ends.
    let mut handled = std::collections::HashSet::new();
    while handled.len() < MAX_PER_PASS {
        let now = pipeline.clock.now_ms();
        let Some(row) = pipeline.store.claim_next(name, &pipeline.instance, now, now + LEASE_MS).await? else { break };
        if !handled.insert(row.id) {
            pipeline.store.release_lease(row.id, &pipeline.instance).await?;
            break;
        }
        // Renew the claim while a long mail (big attachments, slow Jira) is worked on.
        let renew = {
            let (store, owner, clock, id) =
                (pipeline.store.clone(), pipeline.instance.clone(), pipeline.clock.clone(), row.id);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_millis((LEASE_MS / 3) as u64)).await;
                    let _ = store.extend_lease(id, &owner, clock.now_ms() + LEASE_MS).await;
                }
            })
        };
        let outcome = pipeline.process(&row).await;
        renew.abort();
        pipeline.store.release_lease(row.id, &pipeline.instance).await?;
        stats.processed += 1;
        stats.outcomes.push(outcome?);
    }
    stats.acknowledged += acknowledge_finished(pipeline, source, name).await?;
    Ok(stats)
}

/// Mark finished mails seen and move them; the store remembers each ack.
async fn acknowledge_finished(
    pipeline: &Pipeline,
    source: &mut dyn MailSource,
    name: &str,
) -> Result<usize, IngestError> {
    let mut n = 0;
    for (id, uidvalidity, uid, status) in pipeline.store.unacked(name).await? {
        // One instance acknowledges a mail (a second MOVE of the same UID
        // could copy it twice); a crashed instance's claim expires.
        let now = pipeline.clock.now_ms();
        if !pipeline.store.claim_ack(id, &pipeline.instance, now, now + LEASE_MS).await? {
            continue;
        }
        if uidvalidity != i64::from(source.uidvalidity()) {
            tracing::warn!(id, "UIDVALIDITY changed; cannot acknowledge an old message on IMAP");
        } else {
            let target = if status == "failed" { AckTarget::Failed } else { AckTarget::Processed };
            let uid = u32::try_from(uid).unwrap_or(0);
            crate::crash::point("before_imap_ack");
            source.acknowledge(uid, target).await?;
            crate::crash::point("after_imap_ack");
            n += 1;
        }
        pipeline.store.mark_acked(id, pipeline.clock.now_ms()).await?;
    }
    Ok(n)
}

/// How long to wait before the next pass: the poll interval, or sooner when
/// a parked mail is due.
async fn next_wait(pipeline: &Pipeline, name: &str, poll: Duration) -> Duration {
    match pipeline.store.next_due_at(name).await {
        Ok(Some(due)) => {
            let ms = (due - pipeline.clock.now_ms()).max(50) as u64;
            poll.min(Duration::from_millis(ms))
        }
        _ => poll,
    }
}

/// Run one mailbox until `stop` turns true.
pub async fn run_mailbox(
    pipeline: Arc<Pipeline>,
    connector: Arc<dyn MailConnector>,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let name = connector.name().to_string();
    let mut backoff = Duration::from_secs(1);
    while !*stop.borrow() {
        let mut source = match connector.connect().await {
            Ok(s) => {
                backoff = Duration::from_secs(1);
                s
            }
            Err(e) => {
                tracing::error!(mailbox = %name, error = %e, "IMAP connection failed; retrying in {:?}", backoff);
                let wait = if e.is_auth() { backoff.max(Duration::from_secs(30)) } else { backoff };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(60));
                continue;
            }
        };
        loop {
            if *stop.borrow() {
                return;
            }
            match cycle(&pipeline, source.as_mut(), &name).await {
                Ok(stats) if stats.stored + stats.processed > 0 => {
                    tracing::info!(mailbox = %name, stored = stats.stored, processed = stats.processed, acked = stats.acknowledged, "pass done");
                }
                Ok(_) => {}
                Err(IngestError::Mailbox(e)) => {
                    tracing::warn!(mailbox = %name, error = %e, "IMAP session lost; reconnecting");
                    break;
                }
                Err(IngestError::Store(e)) => {
                    tracing::error!(mailbox = %name, error = %e, "store error; retrying shortly");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    break;
                }
            }
            let wait = next_wait(&pipeline, &name, poll).await;
            tokio::select! {
                r = source.wait(wait) => {
                    if let Err(e) = r {
                        tracing::warn!(mailbox = %name, error = %e, "IMAP wait failed; reconnecting");
                        break;
                    }
                }
                _ = stop.changed() => return,
            }
        }
    }
}
