//! Suppressed (bouncing) addresses: notifications skip an address until its
//! suppression expires or an admin clears it; and the sent mails a bounce
//! must reference to suppress anything (see `classify::suppress`).

use super::outbox::OutboxStatus;
use super::{Store, StoreError};
use crate::classify::SentMail;
use crate::domain::{EmailAddress, MessageId};

/// A suppression to record.
#[derive(Debug, Clone)]
pub struct BounceMark<'a> {
    pub email: &'a EmailAddress,
    /// What the audit trail and the listing show ("bounce received").
    pub reason: &'a str,
    /// Our mail that bounced.
    pub message_id: Option<&'a MessageId>,
    /// The DSN status, e.g. `5.1.1`.
    pub status: &'a str,
    pub expires_at: i64,
}

/// A suppressed address as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct BouncingAddress {
    pub email: String,
    pub reason: Option<String>,
    pub status: Option<String>,
    pub message_id: Option<String>,
    /// First suppressed (ms since the epoch).
    pub created_at: i64,
    /// Last bounce recorded.
    pub updated_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Suppress an address until `expires_at`; a later bounce moves the
    /// expiry (also back to life after an expiry) and keeps the first date.
    pub async fn mark_bouncing(&self, m: &BounceMark<'_>, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into bouncing_addresses (email, reason, message_id, status, created_at, updated_at, expires_at)
             values (?, ?, ?, ?, ?, ?, ?)
             on conflict (email) do update set reason = excluded.reason, message_id = excluded.message_id,
                    status = excluded.status, updated_at = excluded.updated_at, expires_at = excluded.expires_at",
        );
        sqlx::query(sql)
            .bind(m.email.as_ref())
            .bind(m.reason)
            .bind(m.message_id.map(|id| id.as_ref()))
            .bind(m.status)
            .bind(now_ms)
            .bind(now_ms)
            .bind(m.expires_at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Whether mail to `email` is suppressed at `now_ms`.
    pub async fn is_bouncing(&self, email: &str, now_ms: i64) -> Result<bool, StoreError> {
        let sql = self.sql("select email from bouncing_addresses where email = ? and expires_at > ?");
        let row: Option<(String,)> = sqlx::query_as(sql).bind(email).bind(now_ms).fetch_optional(self.pool()).await?;
        Ok(row.is_some())
    }

    /// Suppressions in force at `now_ms` (every row with `expired`), by address.
    pub async fn bouncing_addresses(&self, now_ms: i64, expired: bool) -> Result<Vec<BouncingAddress>, StoreError> {
        let sql = self.sql(
            "select email, reason, status, message_id, created_at, updated_at, expires_at
             from bouncing_addresses where expires_at > ? or ? = 1 order by email",
        );
        Ok(sqlx::query_as(sql).bind(now_ms).bind(i64::from(expired)).fetch_all(self.pool()).await?)
    }

    /// Lift the suppression of `email`; false when there was none.
    pub async fn clear_bouncing(&self, email: &EmailAddress) -> Result<bool, StoreError> {
        let sql = self.sql("delete from bouncing_addresses where email = ?");
        let done = sqlx::query(sql).bind(email.as_ref()).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// The mails we sent (the SMTP server took them) under these Message-IDs.
    pub async fn sent_mails(&self, ids: &[MessageId]) -> Result<Vec<SentMail>, StoreError> {
        let mut out = Vec::new();
        for id in ids {
            let sql = self.sql("select recipient from outbox where message_id = ? and status = ?");
            let rows: Vec<(String,)> =
                sqlx::query_as(sql).bind(id.as_ref()).bind(OutboxStatus::Sent.as_str()).fetch_all(self.pool()).await?;
            for (recipient,) in rows {
                if let Ok(recipient) = EmailAddress::parse(&recipient) {
                    out.push(SentMail { message_id: id.clone(), recipient });
                }
            }
        }
        Ok(out)
    }
}
