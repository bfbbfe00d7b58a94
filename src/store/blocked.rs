//! Counts of files skipped because their SHA-256 is on the block list
//! (`inbound.blocked_sha256`), per digest, for the statistics.

use super::{Store, StoreError};
use crate::domain::Sha256Digest;
use crate::stats::BlockedCount;

impl Store {
    /// Count one skip per entry of `digests` (a file twice in a mail counts
    /// twice), in one transaction.
    pub async fn count_blocked_attachments(&self, digests: &[&Sha256Digest], now_ms: i64) -> Result<(), StoreError> {
        if digests.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for d in digests {
            let sql = self.sql(
                "insert into blocked_attachments (sha256, skipped, created_at, updated_at) values (?, 1, ?, ?)
                 on conflict (sha256) do update
                 set skipped = blocked_attachments.skipped + 1, updated_at = excluded.updated_at",
            );
            sqlx::query(sql).bind(d.as_ref()).bind(now_ms).bind(now_ms).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every digest skipped so far, most skipped first.
    pub async fn blocked_attachment_counts(&self) -> Result<Vec<BlockedCount>, StoreError> {
        let sql = self.sql("select sha256, skipped, updated_at from blocked_attachments order by skipped desc, sha256");
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(sql).fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(sha256, skipped, last_skipped_at_ms)| BlockedCount { sha256, skipped, last_skipped_at_ms })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_skip_counts_once_per_digest() {
        let store = Store::connect("sqlite::memory:").await.expect("store");
        let logo = Sha256Digest::of(b"logo");
        let pixel = Sha256Digest::of(b"pixel");
        store.count_blocked_attachments(&[&logo], 10).await.expect("count");
        store.count_blocked_attachments(&[&logo, &pixel, &logo], 20).await.expect("count");
        store.count_blocked_attachments(&[], 30).await.expect("nothing");

        let counts = store.blocked_attachment_counts().await.expect("counts");
        assert_eq!(
            counts,
            [
                BlockedCount { sha256: logo.to_string(), skipped: 3, last_skipped_at_ms: 20 },
                BlockedCount { sha256: pixel.to_string(), skipped: 1, last_skipped_at_ms: 20 },
            ]
        );
    }
}
