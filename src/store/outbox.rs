//! The durable outbox: one row per mail and recipient. Enqueueing is
//! idempotent by `dedupe_key`; every send attempt is recorded.

use super::{Store, StoreError};

/// A mail to enqueue.
#[derive(Debug, Clone)]
pub struct NewOutgoing<'a> {
    pub dedupe_key: &'a str,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub issue_key: Option<&'a str>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutgoingRow {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub issue_key: Option<String>,
    pub attempts: i64,
    pub status: String,
}

const COLUMNS: &str =
    "id, kind, recipient, subject, body_text, body_html, message_id, in_reply_to, issue_key, attempts, status";

impl Store {
    /// Enqueue; returns false when a row with this dedupe key exists already.
    pub async fn enqueue(&self, m: &NewOutgoing<'_>, now_ms: i64) -> Result<bool, StoreError> {
        let sql = self.sql(
            "insert into outbox (dedupe_key, kind, recipient, subject, body_text, body_html, message_id, in_reply_to, issue_key,
                                 created_at, updated_at)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
        );
        let done = sqlx::query(sql)
            .bind(m.dedupe_key)
            .bind(m.kind)
            .bind(m.recipient)
            .bind(m.subject)
            .bind(m.body_text)
            .bind(m.body_html)
            .bind(m.message_id)
            .bind(m.in_reply_to)
            .bind(m.issue_key)
            .bind(now_ms)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The oldest pending row that is due.
    /// The oldest due row, claimed for this process for a minute (several
    /// instances on PostgreSQL never send a row twice; on SQLite, one
    /// instance, a claim left by a crash does not delay the restart).
    pub async fn next_outgoing(&self, now_ms: i64) -> Result<Option<OutgoingRow>, StoreError> {
        let pg = self.dialect() == super::Dialect::Postgres;
        let (skip_locked, leased) =
            if pg { (" for update skip locked", "(lease_until is null or lease_until < ?)") } else { ("", "1 = 1") };
        let sql = self.sql(&format!(
            "update outbox set lease_owner = ?, lease_until = ?
             where id = (select id from outbox where status = 'pending' and next_attempt_at <= ? and {leased}
                         order by id limit 1{skip_locked})
               and status = 'pending' and {leased}
             returning {COLUMNS}"
        ));
        let mut query = sqlx::query_as(sql).bind(super::instance_id()).bind(now_ms + 60_000).bind(now_ms);
        if pg {
            query = query.bind(now_ms).bind(now_ms);
        }
        Ok(query.fetch_optional(self.pool()).await?)
    }

    /// Record an attempt and the row's new state (`sent`, `failed`, or
    /// `pending` with the next attempt time).
    pub async fn record_attempt(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        next_attempt_at: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let sql = self.sql(
            "update outbox set status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?,
             lease_owner = null, lease_until = null where id = ?",
        );
        sqlx::query(sql).bind(status).bind(error).bind(next_attempt_at).bind(now_ms).bind(id).execute(&mut *tx).await?;
        let sql = self.sql("insert into outbox_attempts (outbox_id, at, result, error) values (?, ?, ?, ?)");
        sqlx::query(sql).bind(id).bind(now_ms).bind(status).bind(error).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rows of a kind (tests and admin views).
    pub async fn outgoing_of_kind(&self, kind: &str) -> Result<Vec<OutgoingRow>, StoreError> {
        let sql = self.sql(&format!("select {COLUMNS} from outbox where kind = ? order by id"));
        Ok(sqlx::query_as(sql).bind(kind).fetch_all(self.pool()).await?)
    }
}
