//! Inbound mail rows: raw bytes first, then the outcome, then the IMAP ack.

mod claims;
mod keys;
mod outcome;
mod state;
mod throttle;
mod uids;

pub use claims::Unacked;
pub use keys::Blocker;
pub use outcome::Claim;

pub use state::{Action, HoldReason, InboundState, LoggedAction, Status};

use super::queue::QueueTable;
use super::{Store, StoreError};
use crate::domain::{IssueKey, MessageId};

/// A stored mail as the pipeline sees it.
#[derive(Debug, Clone)]
pub struct InboundRow {
    pub id: i64,
    pub mailbox: String,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
    pub source: Option<String>,
    pub message_id: Option<String>,
    /// The mail as stored; emptied by the claim once the mail is parsed
    /// ([`inbound`](Store::inbound) reads it again).
    pub raw: Vec<u8>,
    pub state: InboundState,
    pub attempts: i64,
    pub attachments_done: i64,
    /// Attachments done once the announced upload lands (see migration 0012).
    pub attachments_uploading: i64,
    /// The highest issue number known in the project when a create was
    /// first attempted (see migration 0013).
    pub post_floor: Option<u64>,
    /// Starts without a recorded attempt since (see migration 0014): more
    /// than 0 means the process stopped while this mail was worked on.
    pub starts: i64,
}

/// The row as the database holds it; [`InboundRow`] is its typed reading.
#[derive(sqlx::FromRow)]
struct RawRow {
    id: i64,
    mailbox: String,
    uidvalidity: Option<i64>,
    uid: Option<i64>,
    source: Option<String>,
    message_id: Option<String>,
    raw: Vec<u8>,
    status: String,
    attempts: i64,
    action: Option<String>,
    issue_key: Option<String>,
    hold_reason: Option<String>,
    attachments_done: i64,
    attachments_uploading: i64,
    post_floor: Option<i64>,
    starts: i64,
}

impl From<RawRow> for InboundRow {
    fn from(r: RawRow) -> Self {
        let state = InboundState::from_columns(
            &r.status,
            r.action.as_deref(),
            r.issue_key.as_deref(),
            r.hold_reason.as_deref(),
        );
        Self {
            id: r.id,
            mailbox: r.mailbox,
            uidvalidity: r.uidvalidity,
            uid: r.uid,
            source: r.source,
            message_id: r.message_id,
            raw: r.raw,
            state,
            attempts: r.attempts,
            attachments_done: r.attachments_done,
            attachments_uploading: r.attachments_uploading,
            post_floor: r.post_floor.and_then(|f| u64::try_from(f).ok()),
            starts: r.starts,
        }
    }
}

/// A raw mail to store.
pub struct NewInbound<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    pub source: Option<&'a str>,
    pub raw: &'a [u8],
}

/// The committed outcome of a mail.
pub struct Finish<'a> {
    pub status: Status,
    pub action: LoggedAction,
    pub reason: Option<&'a str>,
    pub issue_key: Option<&'a IssueKey>,
    pub message_id: Option<&'a MessageId>,
    pub error: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Mails larger than this are stored in parts of this size.
const RAW_PART_BYTES: usize = 1024 * 1024;

const ROW_COLUMNS: &str = "id, mailbox, uidvalidity, uid, source, message_id, raw, status, attempts, action, \
     issue_key, hold_reason, attachments_done, attachments_uploading, post_floor, starts";

/// Inbound mail as a queue: claimed per mailbox, oldest first.
pub(crate) const INBOUND: QueueTable = QueueTable { table: "inbound_messages", order: "id", columns: ROW_COLUMNS };

impl InboundRow {
    /// An earlier attempt may have reached Jira (its answer may be lost).
    pub fn resumed(&self) -> bool {
        self.attempts > 0 || matches!(self.state, InboundState::Posting(_))
    }

    /// An upload was announced and not recorded as done: it may have landed.
    pub fn upload_outstanding(&self) -> bool {
        self.attachments_uploading > self.attachments_done
    }
}

impl Store {
    /// Store a raw mail. Returns its id, or `None` when this IMAP UID was
    /// stored before.
    pub async fn insert_inbound(&self, new: &NewInbound<'_>, now_ms: i64) -> Result<Option<i64>, StoreError> {
        Ok(self.insert_inbound_batch(std::slice::from_ref(new), now_ms).await?.into_iter().next().flatten())
    }

    /// Store several raw mails in one transaction (one commit for a fetched
    /// chunk); each answer as for [`insert_inbound`](Self::insert_inbound).
    pub async fn insert_inbound_batch(
        &self,
        news: &[NewInbound<'_>],
        now_ms: i64,
    ) -> Result<Vec<Option<i64>>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let mut ids = Vec::with_capacity(news.len());
        for new in news {
            let sql = self.sql(
                "insert into inbound_messages (mailbox, uidvalidity, uid, source, raw, raw_size, created_at, updated_at)
                 values (?, ?, ?, ?, ?, ?, ?, ?)
                 on conflict do nothing returning id",
            );
            let big = new.raw.len() > RAW_PART_BYTES;
            let inline: &[u8] = if big { &[] } else { new.raw };
            let id: Option<(i64,)> = sqlx::query_as(sql)
                .bind(new.mailbox)
                .bind(new.uidvalidity.map(i64::from))
                .bind(new.uid.map(i64::from))
                .bind(new.source)
                .bind(inline)
                .bind(new.raw.len() as i64)
                .bind(now_ms)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
            if let (Some((id,)), true) = (id, big) {
                let sql = "insert into inbound_raw_parts (inbound_id, seq, data) values (?, ?, ?)";
                for (seq, part) in new.raw.chunks(RAW_PART_BYTES).enumerate() {
                    sqlx::query(self.sql(sql)).bind(id).bind(seq as i64).bind(part).execute(&mut *tx).await?;
                }
            }
            ids.push(id.map(|(id,)| id));
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// The raw bytes of a mail stored in parts (an empty `raw` column with a
    /// non-zero size), read part by part into one buffer of the right size.
    pub(crate) async fn raw_parts(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = self.sql("select raw_size from inbound_messages where id = ?");
        let Some((size,)): Option<(i64,)> = sqlx::query_as(sql).bind(id).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        if size == 0 {
            return Ok(None);
        }
        let mut raw = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let sql = "select data from inbound_raw_parts where inbound_id = ? and seq = ?";
        for seq in 0.. {
            let part: Option<(Vec<u8>,)> =
                sqlx::query_as(self.sql(sql)).bind(id).bind(seq as i64).fetch_optional(self.pool()).await?;
            match part {
                Some((data,)) => raw.extend_from_slice(&data),
                None => break,
            }
        }
        Ok((!raw.is_empty()).then_some(raw))
    }

    /// Fill in the raw bytes of a row whose mail is stored in parts.
    async fn with_raw(&self, mut row: InboundRow) -> Result<InboundRow, StoreError> {
        if row.raw.is_empty()
            && let Some(raw) = self.raw_parts(row.id).await?
        {
            row.raw = raw;
        }
        Ok(row)
    }

    /// The UIDs among `uids` already stored for this mailbox and UIDVALIDITY.
    pub async fn known_uids(&self, mailbox: &str, uidvalidity: u32, uids: &[u32]) -> Result<Vec<u32>, StoreError> {
        let sql =
            self.sql("select uid from inbound_messages where mailbox = ? and uidvalidity = ? and uid is not null");
        let rows: Vec<(i64,)> =
            sqlx::query_as(sql).bind(mailbox).bind(i64::from(uidvalidity)).fetch_all(self.pool()).await?;
        let known: std::collections::HashSet<i64> = rows.into_iter().map(|(u,)| u).collect();
        Ok(uids.iter().copied().filter(|u| known.contains(&i64::from(*u))).collect())
    }

    pub async fn inbound(&self, id: i64) -> Result<Option<InboundRow>, StoreError> {
        let sql = self.sql(&format!("select {ROW_COLUMNS} from inbound_messages where id = ?"));
        match sqlx::query_as::<_, RawRow>(sql).bind(id).fetch_optional(self.pool()).await? {
            Some(row) => Ok(Some(self.with_raw(row.into()).await?)),
            None => Ok(None),
        }
    }

    /// Processing of a mail begins: its Message-ID is recorded and the
    /// start counted (before any work, so a crash counts). Returns how many
    /// times it started alone since the last recorded attempt (see
    /// [`start_alone`](Self::start_alone)).
    pub async fn start_processing(&self, id: i64, message_id: &MessageId) -> Result<i64, StoreError> {
        let sql = self
            .sql("update inbound_messages set message_id = ?, starts = starts + 1 where id = ? returning solo_starts");
        let (alone,): (i64,) = sqlx::query_as(sql).bind(message_id.as_ref()).bind(id).fetch_one(self.pool()).await?;
        Ok(alone)
    }

    /// A suspect mail (worked on when the process stopped) starts alone.
    pub async fn start_alone(&self, id: i64) -> Result<(), StoreError> {
        let sql = self.sql("update inbound_messages set solo_starts = solo_starts + 1 where id = ?");
        sqlx::query(sql).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Count rows by status (for tests, `mailgate log` and the demo).
    pub async fn count_by_status(&self, status: Status) -> Result<i64, StoreError> {
        let sql = self.sql("select count(*) from inbound_messages where status = ?");
        let (n,): (i64,) = sqlx::query_as(sql).bind(status.as_str()).fetch_one(self.pool()).await?;
        Ok(n)
    }
}
