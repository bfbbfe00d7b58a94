//! The mailbox loop: acknowledge what is finished, store what is new,
//! process what is due, then wait (IDLE or poll). Reconnects with backoff.

mod ack;
mod claim;
mod schedule;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::context::AppContext;
use crate::mailbox::{MailConnector, MailSource, MailboxError};
use crate::pipeline::{Parsed, Pipeline, RowOutcome};
use crate::queue::{InstanceId, Lease};
use crate::store::{InboundRow, NewInbound, Store, StoreError};
use ack::acknowledge_finished;
use claim::claim;
use schedule::Schedule;

/// The inbound worker: what the mailbox loops need, and the pipeline.
pub struct Ingest {
    pipeline: Arc<Pipeline>,
    store: Store,
    clock: Arc<dyn Clock>,
    instance: InstanceId,
    /// Mails of a mailbox worked on at once.
    concurrency: usize,
    /// How long a claim lasts without renewal.
    lease_ms: i64,
}

impl Ingest {
    pub fn new(ctx: &AppContext, pipeline: Arc<Pipeline>) -> Self {
        let concurrency = pipeline.policy().inbound.concurrency.max(1);
        let lease_ms = i64::try_from(pipeline.policy().inbound.lease_secs.max(1)).unwrap_or(i64::MAX / 2_000) * 1000;
        Self {
            pipeline,
            store: ctx.store.clone(),
            clock: ctx.clock.clone(),
            instance: ctx.instance.clone(),
            concurrency,
            lease_ms,
        }
    }

    /// A lease from now on.
    fn lease(&self) -> Lease<'_> {
        Lease::lasting(&self.instance, self.clock.now_ms(), self.lease_ms)
    }
}

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
    /// The pass stopped at its limit: more is waiting, go again at once.
    pub more: bool,
}

/// Mails fetched and mails processed per pass at most, so acknowledgements
/// and new mail are not starved.
const MAX_PER_PASS: usize = 500;
/// Mails per IMAP FETCH command.
const FETCH_CHUNK: usize = 20;

/// The UIDs that may be new: unseen mail, and (unless only unseen mail is
/// taken) every UID above the folder's floor whatever its flags, so a mail
/// another client opened first is not missed. Unseen mail below the floor
/// (a backlog longer than one pass) is still taken.
async fn candidate_uids(
    ing: &Ingest,
    source: &mut dyn MailSource,
    name: &str,
    uidvalidity: u32,
) -> Result<Vec<u32>, IngestError> {
    let mut uids = source.unseen_uids().await?;
    if ing.pipeline.policy().inbound.only_unseen {
        return Ok(uids);
    }
    match ing.store.uid_floor(name, uidvalidity).await? {
        Some(floor) => uids.extend(source.uids_after(floor).await?),
        None => {
            let last = match source.uid_next() {
                Some(next) => next.saturating_sub(1),
                // No UIDNEXT in the SELECT answer: the highest UID in use.
                None => source.uids_after(0).await?.into_iter().max().unwrap_or(0),
            };
            ing.store.set_uid_floor(name, uidvalidity, last, ing.clock.now_ms()).await?;
            // Mail that arrived since the folder was selected.
            uids.extend(source.uids_after(last).await?);
        }
    }
    uids.sort_unstable();
    uids.dedup();
    Ok(uids)
}

/// One pass: ack finished mails, then store new ones while processing due
/// ones side by side (mails of one conversation in order), then ack again.
#[tracing::instrument(skip_all, fields(mailbox = name))]
pub async fn cycle(ing: &Ingest, source: &mut dyn MailSource, name: &str) -> Result<CycleStats, IngestError> {
    let mut stats = CycleStats { acknowledged: acknowledge_finished(ing, source, name).await?, ..Default::default() };
    let uidvalidity = source.uidvalidity();
    let candidates = candidate_uids(ing, source, name, uidvalidity).await?;
    let known = ing.store.known_uids(name, uidvalidity, &candidates).await?;
    let mut new: Vec<u32> = candidates.into_iter().filter(|u| !known.contains(u)).collect();
    if new.len() > MAX_PER_PASS {
        new.truncate(MAX_PER_PASS);
        stats.more = true;
    }
    let fetching_done = AtomicBool::new(false);
    let wake = Notify::new();
    let fetch = async {
        let r = store_new(ing, source, name, &new, &wake).await;
        fetching_done.store(true, Ordering::SeqCst);
        wake.notify_one();
        r
    };
    let (stored, processed) = tokio::join!(fetch, process_due(ing, name, &fetching_done, &wake));
    let (outcomes, full) = processed?;
    stats.stored = stored?;
    stats.processed = outcomes.len();
    stats.outcomes = outcomes;
    stats.more |= full;
    stats.acknowledged += acknowledge_finished(ing, source, name).await?;
    Ok(stats)
}

/// Fetch new mails in chunks and store each (the raw mail is durable before
/// anything else happens); wakes the processing side after each chunk.
async fn store_new(
    ing: &Ingest,
    source: &mut dyn MailSource,
    name: &str,
    uids: &[u32],
    wake: &Notify,
) -> Result<usize, IngestError> {
    let uidvalidity = source.uidvalidity();
    let mut stored = 0;
    for chunk in uids.chunks(FETCH_CHUNK) {
        let fetched = source.fetch_many(chunk).await?;
        for _ in &fetched {
            crate::crash::point("after_fetch");
        }
        let news: Vec<NewInbound> = fetched
            .iter()
            .map(|(uid, bytes)| NewInbound {
                mailbox: name,
                uidvalidity: Some(uidvalidity),
                uid: Some(*uid),
                source: None,
                raw: bytes,
            })
            .collect();
        // One commit per chunk: the raw mails are durable before any of them is worked on.
        for id in ing.store.insert_inbound_batch(&news, ing.clock.now_ms()).await? {
            if id.is_some() {
                stored += 1;
                crate::crash::point("after_store");
            }
        }
        wake.notify_one();
    }
    Ok(stored)
}

/// Claim due mails and work on up to `inbound.concurrency` of them at once.
/// Returns the outcomes and whether the pass limit was reached.
async fn process_due(
    ing: &Ingest,
    name: &str,
    fetching_done: &AtomicBool,
    wake: &Notify,
) -> Result<(Vec<RowOutcome>, bool), StoreError> {
    let claimed: Arc<Mutex<HashSet<i64>>> = Default::default();
    // Renew every claim while mails are worked on (big attachments, slow Jira).
    let renew = {
        let (store, owner, clock, claimed, lease_ms) =
            (ing.store.clone(), ing.instance.clone(), ing.clock.clone(), claimed.clone(), ing.lease_ms);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis((lease_ms / 3).max(1) as u64)).await;
                let ids: Vec<i64> = claimed.lock().map(|c| c.iter().copied().collect()).unwrap_or_default();
                for id in ids {
                    let now = clock.now_ms();
                    let lease = Lease::lasting(&owner, now, lease_ms);
                    let _ = store.extend_inbound_lease(id, lease).await;
                }
            }
        })
    };
    let result = process_claimed(ing, name, fetching_done, wake, &claimed).await;
    renew.abort();
    // Whatever is still claimed (an error cut the pass short) is released,
    // so this process claims it again on the next pass.
    let left: Vec<i64> = claimed.lock().map(|c| c.iter().copied().collect()).unwrap_or_default();
    for id in left {
        ing.store.release_inbound(id, &ing.instance).await?;
    }
    result
}

/// A finished mail: its id, the outcome, and releasing its claim.
type Finished = (i64, Result<RowOutcome, StoreError>, Result<(), StoreError>);

async fn process_claimed(
    ing: &Ingest,
    name: &str,
    fetching_done: &AtomicBool,
    wake: &Notify,
    claimed: &Mutex<HashSet<i64>>,
) -> Result<(Vec<RowOutcome>, bool), StoreError> {
    let limit = ing.concurrency;
    let mut schedule: Schedule<(InboundRow, Parsed)> = Schedule::new();
    let mut running = FuturesUnordered::new();
    let mut finished: Vec<Finished> = Vec::new();
    let mut handled = HashSet::new();
    let mut outcomes = Vec::new();
    // Mails that were being worked on when a process stopped: each runs
    // alone, so a mail that stops the process is told from the ones that
    // happened to run beside it.
    let mut suspects: HashSet<i64> = HashSet::new();
    // Nothing more to claim for now (re-armed when new mail is stored).
    let mut exhausted = false;
    loop {
        let fetch_finished = fetching_done.load(Ordering::SeqCst);
        // Claim ahead of the running set, so a held-back mail does not stall
        // the rest. The running mails are polled meanwhile: one of them may
        // hold the database connection mid-query.
        let want = (limit * 2).saturating_sub(schedule.len()).min(MAX_PER_PASS.saturating_sub(handled.len()));
        if !exhausted && want > 0 {
            let (rows, more) =
                drive(claim(ing, name, want, &mut handled, claimed), &mut running, &mut finished).await?;
            exhausted = !more;
            for (row, parsed, keys) in rows {
                if row.starts > 0 {
                    suspects.insert(row.id);
                }
                schedule.push(row.id, keys, (row, parsed));
            }
        }
        for (id, outcome, released) in finished.drain(..) {
            // A mail left pending (retry, hold) keeps what shares its keys
            // waiting for the rest of the pass; the claim defers them after.
            match &outcome {
                Ok(RowOutcome::Retry(_)) => schedule.park(id),
                _ => schedule.finish(id),
            }
            suspects.remove(&id);
            if let Ok(mut c) = claimed.lock() {
                c.remove(&id);
            }
            released?;
            outcomes.push(outcome?);
        }
        let room = match (suspects.is_empty(), schedule.running()) {
            (true, n) => limit.saturating_sub(n),
            // One at a time while suspects wait: whichever starts runs alone.
            (false, 0) => 1,
            (false, _) => 0,
        };
        for (row, parsed) in schedule.start(room) {
            let alone = suspects.contains(&row.id);
            running.push(async move {
                let started = if alone { ing.store.start_alone(row.id).await } else { Ok(()) };
                let outcome = match started {
                    Ok(()) => ing.pipeline.process(&row, parsed).await,
                    Err(e) => Err(e),
                };
                // A finished mail's claim ends with its outcome (same write);
                // one left pending (retry, hold) is given back here.
                let released = match &outcome {
                    Ok(RowOutcome::Retry(_)) | Err(_) => ing.store.release_inbound(row.id, &ing.instance).await,
                    Ok(_) => Ok(()),
                };
                (row.id, outcome, released)
            });
        }
        if running.is_empty() {
            // Nothing runs, so nothing is held either.
            let full = handled.len() >= MAX_PER_PASS;
            // Only mails parked behind a pending one are left and no room to claim more.
            let stuck = !exhausted && schedule.len() >= limit * 2;
            if full || stuck || (exhausted && fetch_finished) {
                return Ok((outcomes, full));
            }
            if exhausted {
                wake.notified().await;
                exhausted = false;
            }
            continue;
        }
        tokio::select! {
            Some(done) = running.next() => finished.push(done),
            _ = wake.notified(), if !fetch_finished => exhausted = false,
        }
    }
}

/// Await `fut` while the running mails go on; those that finish meanwhile
/// are collected in `finished`.
async fn drive<T, R>(
    fut: impl std::future::Future<Output = T>,
    running: &mut FuturesUnordered<R>,
    finished: &mut Vec<Finished>,
) -> T
where
    R: std::future::Future<Output = Finished>,
{
    tokio::pin!(fut);
    loop {
        tokio::select! {
            biased;
            out = &mut fut => return out,
            Some(done) = running.next(), if !running.is_empty() => finished.push(done),
        }
    }
}

/// How long to wait before the next pass: the poll interval, or sooner when
/// a parked mail is due.
async fn next_wait(ing: &Ingest, name: &str, poll: Duration) -> Duration {
    match ing.store.next_due_at(name).await {
        Ok(Some(due)) => {
            let ms = (due - ing.clock.now_ms()).max(50) as u64;
            poll.min(Duration::from_millis(ms))
        }
        _ => poll,
    }
}

/// Run one mailbox until `stop` turns true.
pub async fn run_mailbox(
    ing: Arc<Ingest>,
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
            match cycle(&ing, source.as_mut(), &name).await {
                Ok(stats) if stats.stored + stats.processed > 0 => {
                    tracing::info!(mailbox = %name, stored = stats.stored, processed = stats.processed, acked = stats.acknowledged, "pass done");
                    if stats.more {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(IngestError::Mailbox(e)) => {
                    tracing::warn!(mailbox = %name, error = %e, "IMAP session lost; reconnecting");
                    break;
                }
                Err(IngestError::Store(e)) => {
                    tracing::error!(mailbox = %name, error = %e, "store error; retrying shortly");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    // Transient: the session is fine, run the pass again on it. Else reconnect.
                    if e.is_transient() { continue } else { break }
                }
            }
            let wait = next_wait(&ing, &name, poll).await;
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
