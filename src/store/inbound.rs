//! Inbound mail rows: raw bytes first, then the outcome, then the IMAP ack.

use std::collections::HashMap;

use super::audit::PendingNote;
use super::{Store, StoreError};
use crate::domain::{IssueKey, MessageId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Done,
    Ignored,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Ignored => "ignored",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboundRow {
    pub id: i64,
    pub mailbox: String,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
    pub source: Option<String>,
    pub message_id: Option<String>,
    pub raw: Vec<u8>,
    pub status: String,
    pub attempts: i64,
    pub action: Option<String>,
    pub issue_key: Option<String>,
    pub attachments_done: i64,
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
    pub action: &'a str,
    pub reason: Option<&'a str>,
    pub issue_key: Option<&'a IssueKey>,
    pub message_id: Option<&'a MessageId>,
    pub error: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Mails larger than this are stored in parts of this size.
const RAW_PART_BYTES: usize = 1024 * 1024;

const ROW_COLUMNS: &str =
    "id, mailbox, uidvalidity, uid, source, message_id, raw, status, attempts, action, issue_key, attachments_done";

impl InboundRow {
    /// An earlier attempt may have reached Jira (its answer may be lost).
    pub fn resumed(&self) -> bool {
        self.attempts > 0 || self.action.as_deref().is_some_and(|a| a.starts_with("posting:"))
    }
}

impl Store {
    /// Note that the Jira call for this mail is about to be made; the
    /// attempt's audit notes so far go in the same commit.
    pub async fn mark_posting(
        &self,
        id: i64,
        action: &str,
        now_ms: i64,
        notes: &[PendingNote],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        self.write_notes(&mut tx, notes).await?;
        let sql = self.sql("update inbound_messages set action = ?, updated_at = ? where id = ? and issue_key is null");
        sqlx::query(sql).bind(format!("posting:{action}")).bind(now_ms).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

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
        match sqlx::query_as(sql).bind(id).fetch_optional(self.pool()).await? {
            Some(row) => Ok(Some(self.with_raw(row).await?)),
            None => Ok(None),
        }
    }

    /// Claim the oldest due pending mail of a mailbox for `owner` until
    /// `lease_until_ms`: one instance works on a mail at a time; the lease of
    /// a process that died expires.
    pub async fn claim_next(
        &self,
        mailbox: &str,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Option<InboundRow>, StoreError> {
        // SQLite serves one instance (one writer): a lease left by a crash
        // must not delay the restart, so there only this process's own
        // claims (mails in flight here) are skipped. PostgreSQL honours
        // every unexpired lease.
        let (skip_locked, leased) = match self.dialect() {
            super::Dialect::Postgres => (" for update skip locked", "(lease_until is null or lease_until < ?)"),
            super::Dialect::Sqlite => ("", "(lease_owner is null or lease_owner <> ?)"),
        };
        let sql = self.sql(&format!(
            "update inbound_messages set lease_owner = ?, lease_until = ?
             where id = (select id from inbound_messages
                         where mailbox = ? and status = 'pending' and next_attempt_at <= ? and {leased}
                         order by id limit 1{skip_locked})
               and status = 'pending' and {leased}
             returning {ROW_COLUMNS}"
        ));
        let sqlite = self.dialect() == super::Dialect::Sqlite;
        let mut query = sqlx::query_as(sql).bind(owner).bind(lease_until_ms).bind(mailbox).bind(now_ms);
        query = if sqlite { query.bind(owner).bind(owner) } else { query.bind(now_ms).bind(now_ms) };
        match query.fetch_optional(self.pool()).await? {
            Some(row) => Ok(Some(self.with_raw(row).await?)),
            None => Ok(None),
        }
    }

    /// Keep a claim while working on a long mail.
    pub async fn extend_lease(&self, id: i64, owner: &str, lease_until_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql("update inbound_messages set lease_until = ? where id = ? and lease_owner = ?");
        sqlx::query(sql).bind(lease_until_ms).bind(id).bind(owner).execute(self.pool()).await?;
        Ok(())
    }

    /// Claim the IMAP acknowledgement of finished mails, in one transaction;
    /// returns the ids claimed. A mail another instance holds is left out
    /// (leases count on PostgreSQL only, as for mails).
    pub async fn claim_acks(
        &self,
        ids: &[i64],
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let pg = self.dialect() == super::Dialect::Postgres;
        let leased = if pg { "(lease_until is null or lease_until < ? or lease_owner = ?)" } else { "1 = 1" };
        let text = format!(
            "update inbound_messages set lease_owner = ?, lease_until = ?
             where id = ? and imap_acked = 0 and status <> 'pending' and {leased}"
        );
        let mut tx = self.pool().begin().await?;
        let mut claimed = Vec::with_capacity(ids.len());
        for &id in ids {
            let mut query = sqlx::query(self.sql(&text)).bind(owner).bind(lease_until_ms).bind(id);
            if pg {
                query = query.bind(now_ms).bind(owner);
            }
            if query.execute(&mut *tx).await?.rows_affected() > 0 {
                claimed.push(id);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Remember that these mails are acknowledged on IMAP, in one transaction.
    pub async fn mark_acked_many(&self, ids: &[i64], now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for &id in ids {
            let sql = self.sql("update inbound_messages set imap_acked = 1, updated_at = ? where id = ?");
            sqlx::query(sql).bind(now_ms).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Give a claimed mail back (done with it for now).
    pub async fn release_lease(&self, id: i64, owner: &str) -> Result<(), StoreError> {
        let sql = self
            .sql("update inbound_messages set lease_owner = null, lease_until = null where id = ? and lease_owner = ?");
        sqlx::query(sql).bind(id).bind(owner).execute(self.pool()).await?;
        Ok(())
    }

    /// When the next pending mail of a mailbox is due, if any.
    pub async fn next_due_at(&self, mailbox: &str) -> Result<Option<i64>, StoreError> {
        let sql =
            self.sql("select min(next_attempt_at) from inbound_messages where mailbox = ? and status = 'pending'");
        let row: (Option<i64>,) = sqlx::query_as(sql).bind(mailbox).fetch_one(self.pool()).await?;
        Ok(row.0)
    }

    /// Finished mails not yet acknowledged on IMAP: (id, uidvalidity, uid, status).
    pub async fn unacked(&self, mailbox: &str) -> Result<Vec<(i64, i64, i64, String)>, StoreError> {
        let sql = self.sql(
            "select id, uidvalidity, uid, status from inbound_messages
             where mailbox = ? and status <> 'pending' and imap_acked = 0 and uid is not null order by id",
        );
        Ok(sqlx::query_as(sql).bind(mailbox).fetch_all(self.pool()).await?)
    }

    pub async fn set_message_id(&self, id: i64, message_id: &MessageId) -> Result<(), StoreError> {
        let sql = self.sql("update inbound_messages set message_id = ? where id = ?");
        sqlx::query(sql).bind(message_id.as_ref()).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Claim a Message-ID for an inbound row. Returns the owning row: this
    /// row's id when the claim is ours, another id for a duplicate.
    pub async fn claim_message_id(
        &self,
        message_id: &MessageId,
        inbound_id: i64,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let insert = self.sql(
            "insert into message_claims (message_id, inbound_id, created_at) values (?, ?, ?) on conflict do nothing",
        );
        sqlx::query(insert).bind(message_id.as_ref()).bind(inbound_id).bind(now_ms).execute(self.pool()).await?;
        let select = self.sql("select inbound_id from message_claims where message_id = ?");
        let (owner,): (i64,) = sqlx::query_as(select).bind(message_id.as_ref()).fetch_one(self.pool()).await?;
        Ok(owner)
    }

    /// Release a claim (a failed mail may be replayed as a new row).
    pub async fn release_claim(&self, message_id: &MessageId, inbound_id: i64) -> Result<(), StoreError> {
        let sql = self.sql("delete from message_claims where message_id = ? and inbound_id = ?");
        sqlx::query(sql).bind(message_id.as_ref()).bind(inbound_id).execute(self.pool()).await?;
        Ok(())
    }

    /// Record that Jira holds the issue or comment, before attachments; the
    /// attempt's audit notes so far go in the same commit.
    pub async fn record_posted(
        &self,
        id: i64,
        action: &str,
        key: &IssueKey,
        now_ms: i64,
        notes: &[PendingNote],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        self.write_notes(&mut tx, notes).await?;
        let sql = self.sql("update inbound_messages set action = ?, issue_key = ?, updated_at = ? where id = ?");
        sqlx::query(sql).bind(action).bind(key.as_ref()).bind(now_ms).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn record_attachments_done(&self, id: i64, done: i64, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql("update inbound_messages set attachments_done = ?, updated_at = ? where id = ?");
        sqlx::query(sql).bind(done).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Leave the mail pending and try again at `next_at_ms`.
    pub async fn retry_later(
        &self,
        id: i64,
        error: &str,
        next_at_ms: i64,
        count_attempt: bool,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let sql = self.sql(
            "update inbound_messages set attempts = attempts + ?, last_error = ?, next_attempt_at = ?, updated_at = ?
             where id = ? returning attempts",
        );
        let (attempts,): (i64,) = sqlx::query_as(sql)
            .bind(i64::from(count_attempt))
            .bind(error)
            .bind(next_at_ms)
            .bind(now_ms)
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(attempts)
    }

    /// Commit a mail's outcome: status, the thread link and a processing
    /// log row, in one transaction.
    pub async fn finish(&self, row: &InboundRow, f: &Finish<'_>, now_ms: i64) -> Result<(), StoreError> {
        self.finish_noted(row, f, now_ms, &[]).await
    }

    /// [`finish`](Self::finish) with the attempt's audit notes, one commit.
    pub async fn finish_noted(
        &self,
        row: &InboundRow,
        f: &Finish<'_>,
        now_ms: i64,
        notes: &[PendingNote],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        self.write_notes(&mut tx, notes).await?;
        let sql = self.sql(
            "update inbound_messages set status = ?, action = ?, reason = ?, issue_key = ?, last_error = ?, updated_at = ?,
                    lease_owner = null, lease_until = null
             where id = ?",
        );
        sqlx::query(sql)
            .bind(f.status.as_str())
            .bind(f.action)
            .bind(f.reason)
            .bind(f.issue_key.map(|k| k.to_string()))
            .bind(f.error)
            .bind(now_ms)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        if let (Some(key), Some(mid), Status::Done) = (f.issue_key, f.message_id, f.status) {
            let sql = self.sql("insert into message_threads (message_id, issue_key, created_at) values (?, ?, ?) on conflict do nothing");
            sqlx::query(sql).bind(mid.as_ref()).bind(key.as_ref()).bind(now_ms).execute(&mut *tx).await?;
        }
        let sql = self.sql(
            "insert into processing_log (at, mailbox, inbound_id, message_id, action, issue_key, status, error, detail)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        let log_status = if f.status == Status::Failed { "failed" } else { "ok" };
        sqlx::query(sql)
            .bind(now_ms)
            .bind(row.mailbox.as_str())
            .bind(row.id)
            .bind(f.message_id.map(|m| m.to_string()))
            .bind(f.action)
            .bind(f.issue_key.map(|k| k.to_string()))
            .bind(log_status)
            .bind(f.error)
            .bind(f.detail.or(f.reason))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Record a Message-ID as part of an issue's thread (e.g. a mail we sent).
    pub async fn link_thread(&self, message_id: &MessageId, key: &IssueKey, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into message_threads (message_id, issue_key, created_at) values (?, ?, ?) on conflict do nothing",
        );
        sqlx::query(sql).bind(message_id.as_ref()).bind(key.as_ref()).bind(now_ms).execute(self.pool()).await?;
        Ok(())
    }

    /// The issues of those `ids` that belong to a known thread.
    pub async fn threads_for(&self, ids: &[MessageId]) -> Result<HashMap<MessageId, IssueKey>, StoreError> {
        let mut out = HashMap::new();
        for id in ids {
            let sql = self.sql("select issue_key from message_threads where message_id = ?");
            let row: Option<(String,)> = sqlx::query_as(sql).bind(id.as_ref()).fetch_optional(self.pool()).await?;
            if let Some(key) = row.and_then(|(k,)| IssueKey::parse(&k).ok()) {
                out.insert(id.clone(), key);
            }
        }
        Ok(out)
    }

    /// Count rows by status (for tests, `mailgate log` and the demo).
    pub async fn count_by_status(&self, status: Status) -> Result<i64, StoreError> {
        let sql = self.sql("select count(*) from inbound_messages where status = ?");
        let (n,): (i64,) = sqlx::query_as(sql).bind(status.as_str()).fetch_one(self.pool()).await?;
        Ok(n)
    }
}

impl Store {
    pub async fn set_sender(&self, id: i64, sender: &str) -> Result<(), StoreError> {
        let sql = self.sql("update inbound_messages set sender = ? where id = ?");
        sqlx::query(sql).bind(sender).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Mails stored from `sender` since `since_ms` (storm detection).
    pub async fn count_from_sender(&self, sender: &str, since_ms: i64) -> Result<i64, StoreError> {
        let sql = self.sql("select count(*) from inbound_messages where sender = ? and created_at >= ?");
        let (n,): (i64,) = sqlx::query_as(sql).bind(sender).bind(since_ms).fetch_one(self.pool()).await?;
        Ok(n)
    }

    /// Comments from mail on `issue` since `since_ms`: how many, and when the oldest was.
    pub async fn comments_since(&self, issue: &str, since_ms: i64) -> Result<(i64, Option<i64>), StoreError> {
        let sql = self.sql(
            "select count(*), min(at) from processing_log
             where issue_key = ? and action = 'comment' and status = 'ok' and at >= ?",
        );
        Ok(sqlx::query_as(sql).bind(issue).bind(since_ms).fetch_one(self.pool()).await?)
    }

    /// When an earlier mail for `issue`, held back by the per-issue limit,
    /// is due (later mails for the issue wait behind it, keeping the order).
    pub async fn earlier_throttled(&self, issue: &str, id: i64) -> Result<Option<i64>, StoreError> {
        let sql = self.sql(
            "select max(next_attempt_at) from inbound_messages
             where status = 'pending' and throttle_issue = ? and id < ?",
        );
        let (at,): (Option<i64>,) = sqlx::query_as(sql).bind(issue).bind(id).fetch_one(self.pool()).await?;
        Ok(at)
    }

    /// Hold a mail back for the per-issue limit until `until_ms` (not an attempt).
    pub async fn throttle(
        &self,
        id: i64,
        issue: &str,
        until_ms: i64,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "update inbound_messages set throttle_issue = ?, next_attempt_at = ?, last_error = ?, updated_at = ? where id = ?",
        );
        sqlx::query(sql).bind(issue).bind(until_ms).bind(reason).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }
}
