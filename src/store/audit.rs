//! The audit trail: per mail, each decision and Jira call, with retention.

use super::{Store, StoreError};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub inbound_id: Option<i64>,
    pub mailbox: Option<String>,
    pub message_id: Option<String>,
    pub step: String,
    pub detail: String,
}

/// An audit line waiting to be written with the mail's next state change.
#[derive(Debug, Clone)]
pub struct PendingNote {
    pub at: i64,
    pub inbound_id: i64,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub step: String,
    pub detail: String,
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub inbound_id: Option<i64>,
    pub message_id: Option<String>,
    pub since_ms: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Write notes on an open connection or transaction (in their order).
    pub(crate) async fn write_notes(
        &self,
        conn: &mut sqlx::AnyConnection,
        notes: &[PendingNote],
    ) -> Result<(), StoreError> {
        for n in notes {
            let sql = self.sql(
                "insert into audit_log (at, inbound_id, mailbox, message_id, step, detail) values (?, ?, ?, ?, ?, ?)",
            );
            sqlx::query(sql)
                .bind(n.at)
                .bind(n.inbound_id)
                .bind(n.mailbox.as_str())
                .bind(n.message_id.as_deref())
                .bind(n.step.as_str())
                .bind(n.detail.as_str())
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Write notes in one transaction (nothing when there are none).
    pub async fn audit_many(&self, notes: &[PendingNote]) -> Result<(), StoreError> {
        if notes.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        self.write_notes(&mut tx, notes).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One audit line, written at once.
    pub async fn audit(
        &self,
        inbound_id: i64,
        mailbox: &str,
        message_id: Option<&str>,
        step: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let note = PendingNote {
            at: now_ms,
            inbound_id,
            mailbox: mailbox.to_string(),
            message_id: message_id.map(String::from),
            step: step.to_string(),
            detail: detail.to_string(),
        };
        let mut conn = self.pool().acquire().await?;
        self.write_notes(&mut conn, std::slice::from_ref(&note)).await
    }

    /// Entries matching the filter, oldest first.
    pub async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = self.sql(
            "select id, at, inbound_id, mailbox, message_id, step, detail from audit_log
             where (? = 0 or inbound_id = ?) and (? = '' or message_id = ?) and at >= ?
             order by id desc limit ?",
        );
        let inbound = f.inbound_id.unwrap_or(0);
        let mid = f.message_id.clone().unwrap_or_default();
        let mut rows: Vec<AuditEntry> = sqlx::query_as(sql)
            .bind(inbound)
            .bind(inbound)
            .bind(mid.clone())
            .bind(mid)
            .bind(f.since_ms.unwrap_or(0))
            .bind(if f.limit > 0 { f.limit } else { 1000 })
            .fetch_all(self.pool())
            .await?;
        rows.reverse();
        Ok(rows)
    }

    /// Keep at most `max_entries` entries and none older than `max_age_ms`
    /// (audit trail and processing log). Returns how many were deleted.
    pub async fn enforce_retention(&self, max_entries: i64, max_age_ms: i64, now_ms: i64) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for table in ["audit_log", "processing_log"] {
            let by_age = self.sql(&format!("delete from {table} where at < ?"));
            deleted += sqlx::query(by_age).bind(now_ms - max_age_ms).execute(self.pool()).await?.rows_affected();
            let (max_id,): (Option<i64>,) =
                sqlx::query_as(self.sql(&format!("select max(id) from {table}"))).fetch_one(self.pool()).await?;
            if let Some(max_id) = max_id {
                let by_count = self.sql(&format!("delete from {table} where id <= ?"));
                deleted += sqlx::query(by_count).bind(max_id - max_entries).execute(self.pool()).await?.rows_affected();
            }
        }
        Ok(deleted)
    }
}
