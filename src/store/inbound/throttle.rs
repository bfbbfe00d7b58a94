//! Storm detection and the per-issue update limit.

use crate::store::{Store, StoreError};

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
            "update inbound_messages set throttle_issue = ?, hold_reason = 'throttled', next_attempt_at = ?, last_error = ?,
                    updated_at = ?
             where id = ?",
        );
        sqlx::query(sql).bind(issue).bind(until_ms).bind(reason).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }
}
