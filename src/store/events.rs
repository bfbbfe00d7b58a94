//! Pending notification events, webhook delivery ids and small persistent
//! values.

use super::queue::{InstanceId, Lease, QueueTable};
use super::{Store, StoreError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
}

/// Where a queued event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Pending,
    /// Its mails are in the outbox.
    Done,
    /// Given up.
    Failed,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// Events as a queue: in the order they arrived.
const EVENTS: QueueTable =
    QueueTable { table: "events", order: "created_at, id", columns: "id, kind, payload, attempts" };

impl Store {
    /// Queue an event; false when an event with this id is known already.
    pub async fn insert_event(
        &self,
        id: &str,
        kind: &str,
        origin: &str,
        issue_key: &str,
        payload: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "insert into events (id, kind, origin, issue_key, payload, created_at, updated_at)
             values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
        );
        let done = sqlx::query(sql)
            .bind(id)
            .bind(kind)
            .bind(origin)
            .bind(issue_key)
            .bind(payload)
            .bind(now_ms)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The oldest due event, claimed for this process.
    pub async fn next_event(&self, owner: &InstanceId, now_ms: i64) -> Result<Option<EventRow>, StoreError> {
        self.claim_due(&EVENTS, None, Lease::from_now(owner, now_ms)).await
    }

    /// The event's mails are queued; the claim ends.
    pub async fn finish_event(&self, id: &str, recipients: i64, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql(
            "update events set status = 'done', recipients = ?, last_error = null, updated_at = ?,
                    lease_owner = null, lease_until = null
             where id = ?",
        );
        sqlx::query(sql).bind(recipients).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// A failed attempt: pending again at `next_at_ms`, or given up; the claim ends.
    pub async fn retry_event(
        &self,
        id: &str,
        error: &str,
        next_at_ms: i64,
        give_up: bool,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let status = if give_up { EventStatus::Failed } else { EventStatus::Pending };
        let sql = self.sql(
            "update events set status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?,
                    lease_owner = null, lease_until = null
             where id = ?",
        );
        sqlx::query(sql)
            .bind(status.as_str())
            .bind(error)
            .bind(next_at_ms)
            .bind(now_ms)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Count events by status (tests, stats).
    pub async fn count_events(&self, status: EventStatus) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(self.sql("select count(*) from events where status = ?"))
            .bind(status.as_str())
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// Remember a webhook delivery; false when it was seen before.
    pub async fn note_delivery(&self, delivery_id: &str, event_id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let sql = self
            .sql("insert into webhook_deliveries (id, event_id, received_at) values (?, ?, ?) on conflict do nothing");
        let done = sqlx::query(sql).bind(delivery_id).bind(event_id).bind(now_ms).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn kv_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(self.sql("select value from kv where key = ?"))
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(v,)| v))
    }

    pub async fn kv_set(&self, key: &str, value: &str, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into kv (key, value, updated_at) values (?, ?, ?)
             on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
        );
        sqlx::query(sql).bind(key).bind(value).bind(now_ms).execute(self.pool()).await?;
        Ok(())
    }
}
