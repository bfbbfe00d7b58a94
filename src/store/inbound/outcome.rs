//! A mail's progress and outcome: the posting mark, the posted issue, holds
//! and retries, the committed outcome, Message-ID claims and thread links.

use std::collections::HashMap;

use super::{Action, Finish, HoldReason, InboundRow, Status};
use crate::domain::{IssueKey, MessageId};
use crate::store::{PendingNote, Store, StoreError};

/// A key floor as the database holds it (bigint).
fn floor_value(floor: u64) -> i64 {
    i64::try_from(floor).unwrap_or(i64::MAX)
}

/// Whose a Message-ID is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This row owns the Message-ID: it is processed.
    Ours,
    /// Another row owns it: this one is a duplicate.
    DuplicateOf(i64),
}

impl Store {
    /// Note that the Jira call for this mail is about to be made; the
    /// attempt's audit notes so far go in the same commit. A create's key
    /// floor is kept from its first attempt (a later floor could be above
    /// the issue a lost answer made).
    pub async fn mark_posting(
        &self,
        id: i64,
        action: Action,
        floor: Option<u64>,
        now_ms: i64,
        notes: &[PendingNote],
    ) -> Result<(), StoreError> {
        self.advance(id, action, None, floor, now_ms, notes).await
    }

    /// Keep a create's key floor when the create was not the first plan (a
    /// reply whose issue is gone); the first floor stays.
    pub async fn set_post_floor(&self, id: i64, floor: u64, now_ms: i64) -> Result<(), StoreError> {
        let sql =
            self.sql("update inbound_messages set post_floor = coalesce(post_floor, ?), updated_at = ? where id = ?");
        sqlx::query(sql).bind(floor_value(floor)).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// The highest issue number this store has recorded in `project`, over
    /// its latest mails (a lower bound of any key Jira allocates after now).
    pub async fn highest_issue_number(&self, project: &str) -> Result<Option<u64>, StoreError> {
        let sql = self.sql("select issue_key from inbound_messages where issue_key like ? order by id desc limit 200");
        let keys: Vec<(String,)> = sqlx::query_as(sql).bind(format!("{project}-%")).fetch_all(self.pool()).await?;
        Ok(keys
            .iter()
            .filter_map(|(k,)| IssueKey::parse(k).ok())
            .filter(|k| k.project() == project)
            .map(|k| k.number())
            .max())
    }

    /// Claim a Message-ID for an inbound row.
    pub async fn claim_message_id(
        &self,
        message_id: &MessageId,
        inbound_id: i64,
        now_ms: i64,
    ) -> Result<Claim, StoreError> {
        let insert = self.sql(
            "insert into message_claims (message_id, inbound_id, created_at) values (?, ?, ?) on conflict do nothing",
        );
        sqlx::query(insert).bind(message_id.as_ref()).bind(inbound_id).bind(now_ms).execute(self.pool()).await?;
        let select = self.sql("select inbound_id from message_claims where message_id = ?");
        let (owner,): (i64,) = sqlx::query_as(select).bind(message_id.as_ref()).fetch_one(self.pool()).await?;
        Ok(if owner == inbound_id { Claim::Ours } else { Claim::DuplicateOf(owner) })
    }

    /// Release a claim (a failed mail may be replayed as a new row).
    pub async fn release_claim(&self, message_id: &MessageId, inbound_id: i64) -> Result<(), StoreError> {
        let sql = self.sql("delete from message_claims where message_id = ? and inbound_id = ?");
        sqlx::query(sql).bind(message_id.as_ref()).bind(inbound_id).execute(self.pool()).await?;
        Ok(())
    }

    /// Record that Jira holds the issue or comment, before attachments, and
    /// link the mail's Message-ID to the issue's thread (a reply arriving
    /// while attachments upload finds it); the attempt's audit notes so far
    /// go in the same commit.
    pub async fn record_posted(
        &self,
        id: i64,
        action: Action,
        posted: (&IssueKey, &MessageId),
        now_ms: i64,
        notes: &[PendingNote],
    ) -> Result<(), StoreError> {
        self.advance(id, action, Some(posted), None, now_ms, notes).await
    }

    /// Posting (no key yet: only a row without an issue) or posted, with the notes.
    async fn advance(
        &self,
        id: i64,
        action: Action,
        posted: Option<(&IssueKey, &MessageId)>,
        floor: Option<u64>,
        now_ms: i64,
        notes: &[PendingNote],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        self.write_notes(&mut tx, notes).await?;
        let key = posted.map(|(k, _)| k);
        if let Some((key, mid)) = posted {
            let sql = self.sql(
                "insert into message_threads (message_id, issue_key, created_at) values (?, ?, ?) on conflict do nothing",
            );
            sqlx::query(sql).bind(mid.as_ref()).bind(key.as_ref()).bind(now_ms).execute(&mut *tx).await?;
        }
        let only_unposted = if key.is_none() { " and issue_key is null" } else { "" };
        let sql = self.sql(&format!(
            "update inbound_messages set action = ?, issue_key = coalesce(?, issue_key), hold_reason = null,
                    post_floor = coalesce(post_floor, ?), updated_at = ?
             where id = ?{only_unposted}"
        ));
        let key = key.map(|k| k.to_string());
        let floor = floor.map(floor_value);
        sqlx::query(sql).bind(action.as_str()).bind(key).bind(floor).bind(now_ms).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn record_attachments_done(&self, id: i64, done: i64, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql("update inbound_messages set attachments_done = ?, updated_at = ? where id = ?");
        sqlx::query(sql).bind(done).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// A failed attempt: the mail stays pending and is tried again at
    /// `next_at_ms`. Returns the attempts made so far.
    pub async fn retry_later(&self, id: i64, error: &str, next_at_ms: i64, now_ms: i64) -> Result<i64, StoreError> {
        let sql = self.sql(
            "update inbound_messages set attempts = attempts + 1, last_error = ?, next_attempt_at = ?, hold_reason = null,
                    starts = 0, solo_starts = 0, updated_at = ?
             where id = ? returning attempts",
        );
        let (attempts,): (i64,) =
            sqlx::query_as(sql).bind(error).bind(next_at_ms).bind(now_ms).bind(id).fetch_one(self.pool()).await?;
        Ok(attempts)
    }

    /// Hold a pending mail until `until_ms` for `reason` (not an attempt).
    pub async fn hold(
        &self,
        id: i64,
        reason: HoldReason,
        error: &str,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "update inbound_messages set hold_reason = ?, last_error = ?, next_attempt_at = ?, starts = 0, solo_starts = 0, updated_at = ?
             where id = ?",
        );
        sqlx::query(sql)
            .bind(reason.as_str())
            .bind(error)
            .bind(until_ms)
            .bind(now_ms)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
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
                    hold_reason = null, lease_owner = null, lease_until = null
             where id = ?",
        );
        sqlx::query(sql)
            .bind(f.status.as_str())
            .bind(f.action.as_str())
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
            .bind(f.action.as_str())
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
}
