//! Merging notifications: a notification waits a window for others of its
//! issue to the same recipient; the first sent takes the others made within
//! its window along, and all are marked sent in one transaction, so none is
//! sent twice and none is left behind.

use super::outbox::{COLUMNS, RawOutgoing};
use super::queue::{InstanceId, LEASE_MS, free_of_lease};
use super::{Dialect, NewOutgoing, OutboxStatus, OutgoingRow, Store, StoreError};

impl Store {
    /// Enqueue a notification that waits `window_ms` for others of its issue
    /// and recipient (0: due at once, merged with nothing).
    pub async fn enqueue_merging(&self, m: &NewOutgoing<'_>, now_ms: i64, window_ms: i64) -> Result<bool, StoreError> {
        if window_ms <= 0 || m.issue_key.is_none() {
            return self.enqueue(m, now_ms).await;
        }
        let until = now_ms.saturating_add(window_ms);
        self.enqueue_at(m, now_ms, until, Some(until)).await
    }

    /// Claim the pending rows that go out with `row`: same issue and
    /// recipient, made before its merge time, not claimed by anyone else.
    pub async fn claim_merged(
        &self,
        row: &OutgoingRow,
        owner: &InstanceId,
        now_ms: i64,
    ) -> Result<Vec<OutgoingRow>, StoreError> {
        let (Some(until), Some(issue)) = (row.merge_until, row.issue_key.as_deref()) else { return Ok(Vec::new()) };
        let dialect = self.dialect();
        let free = free_of_lease(dialect);
        let text = format!(
            "select {COLUMNS} from outbox where status = 'pending' and issue_key = ? and recipient = ? and id <> ?
               and merge_until is not null and created_at <= ? and {free} order by id"
        );
        let mut query = sqlx::query_as::<_, RawOutgoing>(self.sql(&text))
            .bind(issue.to_string())
            .bind(row.recipient.clone())
            .bind(row.id)
            .bind(until);
        query = match dialect {
            Dialect::Postgres => query.bind(now_ms),
            Dialect::Sqlite => query.bind(owner.as_str().to_string()).bind(now_ms),
        };
        let candidates = query.fetch_all(self.pool()).await?;
        let mut claimed = Vec::new();
        let text = format!(
            "update outbox set lease_owner = ?, lease_until = ? where id = ? and status = 'pending' and {free}"
        );
        for c in candidates.into_iter().map(OutgoingRow::from) {
            let mut q = sqlx::query(self.sql(&text))
                .bind(owner.as_str().to_string())
                .bind(now_ms.saturating_add(LEASE_MS))
                .bind(c.id);
            q = match dialect {
                Dialect::Postgres => q.bind(now_ms),
                Dialect::Sqlite => q.bind(owner.as_str().to_string()).bind(now_ms),
            };
            if q.execute(self.pool()).await?.rows_affected() == 1 {
                claimed.push(c);
            }
        }
        Ok(claimed)
    }

    /// `row` was sent with `merged` in it: all are sent, in one transaction.
    pub async fn record_sent_merged(&self, row: i64, merged: &[i64], now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let note = format!("sent in one mail with outbox row {row}");
        for (id, error) in std::iter::once((row, None)).chain(merged.iter().map(|id| (*id, Some(note.as_str())))) {
            let sql = self.sql(
                "update outbox set status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?,
                 updated_at = ?, lease_owner = null, lease_until = null where id = ?",
            );
            let sent = OutboxStatus::Sent.as_str();
            sqlx::query(sql).bind(sent).bind(error).bind(now_ms).bind(now_ms).bind(id).execute(&mut *tx).await?;
            let sql = self.sql("insert into outbox_attempts (outbox_id, at, result, error) values (?, ?, ?, ?)");
            sqlx::query(sql).bind(id).bind(now_ms).bind(sent).bind(error).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Give back rows claimed to go out with another that was not sent.
    pub async fn release_merged(&self, merged: &[i64], owner: &InstanceId) -> Result<(), StoreError> {
        for id in merged {
            let sql =
                self.sql("update outbox set lease_owner = null, lease_until = null where id = ? and lease_owner = ?");
            sqlx::query(sql).bind(*id).bind(owner.as_str().to_string()).execute(self.pool()).await?;
        }
        Ok(())
    }
}
