//! The processing log: one row per mail outcome.

use super::{Store, StoreError};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub at: i64,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub action: String,
    pub issue_key: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub detail: Option<String>,
}

/// A log row written outside [`Store::finish`] (e.g. a retry note).
pub struct NewLogEntry<'a> {
    pub mailbox: &'a str,
    pub inbound_id: Option<i64>,
    pub message_id: Option<&'a str>,
    pub action: &'a str,
    pub issue_key: Option<&'a str>,
    pub status: &'a str,
    pub error: Option<&'a str>,
}

impl Store {
    pub async fn add_log(&self, e: &NewLogEntry<'_>, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into processing_log (at, mailbox, inbound_id, message_id, action, issue_key, status, error)
             values (?, ?, ?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(sql)
            .bind(now_ms)
            .bind(e.mailbox)
            .bind(e.inbound_id)
            .bind(e.message_id)
            .bind(e.action)
            .bind(e.issue_key)
            .bind(e.status)
            .bind(e.error)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Most recent log rows first.
    pub async fn recent_log(&self, limit: i64) -> Result<Vec<LogEntry>, StoreError> {
        self.log_entries(&LogFilter { limit: Some(limit), ..Default::default() }).await
    }
}

/// A mail that failed for good.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub mailbox: String,
    pub message_id: Option<String>,
    pub last_error: Option<String>,
    pub attempts: i64,
}

impl Store {
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>, StoreError> {
        let sql =
            self.sql("select id, mailbox, message_id, last_error, attempts from dead_letters order by id desc limit ?");
        Ok(sqlx::query_as(sql).bind(limit).fetch_all(self.pool()).await?)
    }

    pub async fn dead_letter_raw(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(self.sql("select raw from dead_letters where id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some((raw,)) if raw.is_empty() => Ok(Some(self.raw_parts(id).await?.unwrap_or_default())),
            other => Ok(other.map(|(r,)| r)),
        }
    }
}

/// Which processing-log rows to read; empty fields match everything.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LogFilter {
    #[serde(default)]
    pub issue: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub mailbox: Option<String>,
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

impl Store {
    /// Most recent rows first, filtered.
    pub async fn log_entries(&self, f: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        let sql = self.sql(
            "select id, at, mailbox, message_id, action, issue_key, status, error, detail from processing_log
             where (? = '' or issue_key = ?) and (? = '' or status = ?) and (? = '' or mailbox = ?) and (? = '' or message_id = ?)
             order by id desc limit ?",
        );
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        Ok(sqlx::query_as(sql)
            .bind(v(&f.issue))
            .bind(v(&f.issue))
            .bind(v(&f.status))
            .bind(v(&f.status))
            .bind(v(&f.mailbox))
            .bind(v(&f.mailbox))
            .bind(v(&f.message_id))
            .bind(v(&f.message_id))
            .bind(f.limit.filter(|l| *l > 0).unwrap_or(50))
            .fetch_all(self.pool())
            .await?)
    }
}
