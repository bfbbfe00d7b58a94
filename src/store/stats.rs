//! Statistics computed from the processing log and the queues, and their
//! reset point (kept in `kv`).

use chrono::{DateTime, SecondsFormat, Utc};

use super::{LoggedAction, Store, StoreError};
use crate::stats::{Counts, DAY_MS, RESET_AT_KEY, RESET_LOG_ID_KEY, Statistics, day_start, reason_key};

/// Log rows grouped by outcome; `reason` only for ignored mail.
#[derive(sqlx::FromRow)]
struct Group {
    action: String,
    status: String,
    reason: Option<String>,
    today: i64,
    yesterday: i64,
    total: i64,
}

impl Store {
    /// Counts since the last reset, per UTC day relative to `now_ms`, and the
    /// current queue sizes.
    pub async fn statistics(&self, now_ms: i64) -> Result<Statistics, StoreError> {
        let reset_at = self.kv_get(RESET_AT_KEY).await?.and_then(|v| v.parse::<i64>().ok());
        let reset_log_id = self.kv_get(RESET_LOG_ID_KEY).await?.and_then(|v| v.parse::<i64>().ok());
        // Rows after the reset: by log id when known (exact), else by time.
        let (after_id, since) = match (reset_log_id, reset_at) {
            (Some(id), _) => (id, i64::MIN),
            (None, Some(at)) => (i64::MIN, at),
            (None, None) => (i64::MIN, i64::MIN),
        };
        let today = day_start(now_ms);
        let yesterday = today - DAY_MS;
        let sql = self.sql(
            "select action, status, case when action = 'ignore' then detail end as reason,
                    coalesce(sum(case when at >= ? then 1 else 0 end), 0) as today,
                    coalesce(sum(case when at >= ? and at < ? then 1 else 0 end), 0) as yesterday,
                    count(*) as total
             from processing_log
             where id > ? and at >= ?
             group by action, status, case when action = 'ignore' then detail end",
        );
        let groups: Vec<Group> = sqlx::query_as(sql)
            .bind(today)
            .bind(yesterday)
            .bind(today)
            .bind(after_id)
            .bind(since)
            .fetch_all(self.pool())
            .await?;

        let mut stats = Statistics::default();
        for g in groups {
            let counts = Counts { today: g.today, yesterday: g.yesterday, total: g.total };
            if g.status == "failed" {
                stats.failures.add(counts);
            } else if g.action == "create" {
                stats.issues_created.add(counts);
            } else if g.action == "comment" {
                stats.comments_added.add(counts);
            } else if g.action == "ignore" || g.action == "reject" {
                *stats
                    .ignored_by_reason
                    .entry(reason_key(g.action == LoggedAction::Reject.as_str(), g.reason.as_deref()).to_string())
                    .or_insert(0) += g.total;
            }
        }

        let sql = self.sql("select count(*) from inbound_messages where status = 'pending'");
        let (pending,): (i64,) = sqlx::query_as(sql).fetch_one(self.pool()).await?;
        stats.pending_inbound = pending;
        let sql = self.sql("select status, count(*) from outbox where status in ('pending', 'failed') group by status");
        let outbox: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(self.pool()).await?;
        for (status, n) in outbox {
            match status.as_str() {
                "pending" => stats.outbox_pending = n,
                _ => stats.outbox_failed = n,
            }
        }
        stats.blocked_attachments = self.blocked_attachment_counts().await?;
        stats.reset_at = reset_at
            .and_then(DateTime::<Utc>::from_timestamp_millis)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
        Ok(stats)
    }

    /// When the statistics were last reset (epoch ms).
    pub async fn statistics_reset_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.kv_get(RESET_AT_KEY).await?.and_then(|v| v.parse::<i64>().ok()))
    }

    /// Zero the counts: only log rows written after this call count.
    pub async fn reset_statistics(&self, now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let (last,): (Option<i64>,) =
            sqlx::query_as(self.sql("select max(id) from processing_log")).fetch_one(&mut *tx).await?;
        for (key, value) in [(RESET_LOG_ID_KEY, last.unwrap_or(0)), (RESET_AT_KEY, now_ms)] {
            let sql = self.sql(
                "insert into kv (key, value, updated_at) values (?, ?, ?)
                 on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
            );
            sqlx::query(sql).bind(key).bind(value.to_string()).bind(now_ms).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A trivial query: the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(self.sql("select 1")).execute(self.pool()).await?;
        Ok(())
    }
}
