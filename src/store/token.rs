//! The stored workaround-user token: ciphertext only, never plaintext.

use super::{Store, StoreError};

/// The current token record (no secret in it: the blob is ciphertext).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: String,
    pub user_email: String,
    pub ciphertext: Vec<u8>,
    pub key_id: String,
    pub set_at: i64,
    pub expires_at: i64,
    pub last_verified_at: Option<i64>,
    pub last_failure_at: Option<i64>,
    pub last_failure: Option<String>,
    pub failed: i64,
}

const COLUMNS: &str =
    "id, user_email, ciphertext, key_id, set_at, expires_at, last_verified_at, last_failure_at, last_failure, failed";

impl Store {
    pub async fn token(&self) -> Result<Option<TokenRecord>, StoreError> {
        let sql = self.sql(&format!("select {COLUMNS} from admin_token order by set_at desc limit 1"));
        Ok(sqlx::query_as(sql).fetch_optional(self.pool()).await?)
    }

    /// Replace the stored token with a new record.
    pub async fn put_token(&self, rec: &TokenRecord, now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(self.sql("delete from admin_token")).execute(&mut *tx).await?;
        let sql = self.sql(
            "insert into admin_token (id, user_email, ciphertext, key_id, set_at, expires_at, failed, created_at, updated_at)
             values (?, ?, ?, ?, ?, ?, 0, ?, ?)",
        );
        sqlx::query(sql)
            .bind(rec.id.as_str())
            .bind(rec.user_email.as_str())
            .bind(rec.ciphertext.clone())
            .bind(rec.key_id.as_str())
            .bind(rec.set_at)
            .bind(rec.expires_at)
            .bind(now_ms)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Re-encrypted blob under a new key (rotation).
    pub async fn update_token_ciphertext(
        &self,
        id: &str,
        ciphertext: Vec<u8>,
        key_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let sql = self.sql("update admin_token set ciphertext = ?, key_id = ?, updated_at = ? where id = ?");
        sqlx::query(sql).bind(ciphertext).bind(key_id).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    pub async fn clear_token(&self) -> Result<bool, StoreError> {
        let done = sqlx::query(self.sql("delete from admin_token")).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn mark_token_verified(&self, id: &str, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql("update admin_token set last_verified_at = ?, failed = 0, updated_at = ? where id = ?");
        sqlx::query(sql).bind(now_ms).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Record a rejection by Jira. Returns true when the token was not
    /// already marked failed (so the caller warns once).
    pub async fn mark_token_failed(&self, id: &str, error: &str, now_ms: i64) -> Result<bool, StoreError> {
        let sql = self.sql(
            "update admin_token set failed = 1, last_failure = ?, last_failure_at = ?, updated_at = ? where id = ? and failed = 0",
        );
        let done = sqlx::query(sql).bind(error).bind(now_ms).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    /// Remember that a warning threshold was crossed; true the first time.
    pub async fn note_token_warning(
        &self,
        token_id: &str,
        threshold_days: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = self
            .sql("insert into token_warnings (token_id, threshold_days, at) values (?, ?, ?) on conflict do nothing");
        let done = sqlx::query(sql).bind(token_id).bind(threshold_days).bind(now_ms).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Let mail held for a missing or rejected token be tried now.
    pub async fn release_held(&self) -> Result<u64, StoreError> {
        let sql = self
            .sql("update inbound_messages set next_attempt_at = 0 where status = 'pending' and hold_reason = 'token'");
        Ok(sqlx::query(sql).execute(self.pool()).await?.rows_affected())
    }
}

impl Store {
    /// Clear the failed mark so the token is tried again (`token verify`).
    pub async fn mark_token_verified_pending(&self) -> Result<(), StoreError> {
        sqlx::query(self.sql("update admin_token set failed = 0")).execute(self.pool()).await?;
        Ok(())
    }
}
