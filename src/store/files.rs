//! Files kept with an event, attached to each of its mails.

use super::{Store, StoreError};

/// A file to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFile {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl Store {
    /// Keep a file of an event (a retry keeps the first copy).
    pub async fn put_event_file(
        &self,
        event_id: &str,
        idx: i64,
        filename: &str,
        content_type: &str,
        data: &[u8],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into event_files (event_id, idx, filename, content_type, data, created_at) values (?, ?, ?, ?, ?, ?)
             on conflict do nothing",
        );
        sqlx::query(sql)
            .bind(event_id)
            .bind(idx)
            .bind(filename)
            .bind(content_type)
            .bind(data.to_vec())
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn event_file_exists(&self, event_id: &str, idx: i64) -> Result<bool, StoreError> {
        let sql = self.sql("select count(*) from event_files where event_id = ? and idx = ?");
        let (n,): (i64,) = sqlx::query_as(sql).bind(event_id).bind(idx).fetch_one(self.pool()).await?;
        Ok(n > 0)
    }

    /// The files of these events, in event then file order.
    pub async fn event_files(&self, event_ids: &[&str]) -> Result<Vec<MailFile>, StoreError> {
        let mut out = Vec::new();
        for id in event_ids {
            let sql = self.sql("select filename, content_type, data from event_files where event_id = ? order by idx");
            let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(sql).bind(*id).fetch_all(self.pool()).await?;
            out.extend(rows.into_iter().map(|(filename, content_type, data)| MailFile {
                filename,
                content_type,
                data,
            }));
        }
        Ok(out)
    }
}
