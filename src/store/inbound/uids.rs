//! Where a mailbox's new mail starts: mailgate tracks UIDs, not flags, so a
//! mail another client marked `\Seen` is still taken. The floor of a folder
//! (per UIDVALIDITY) is the highest UID stored from it, or, before any mail
//! was stored, the last UID in use when mailgate first saw the folder
//! (older mail already read is history, not new mail).

use super::super::{Store, StoreError};

fn floor_key(mailbox: &str, uidvalidity: u32) -> String {
    format!("uid_floor/{uidvalidity}/{mailbox}")
}

impl Store {
    /// UIDs above this are new mail in `mailbox`; `None` before the folder
    /// was first seen.
    pub async fn uid_floor(&self, mailbox: &str, uidvalidity: u32) -> Result<Option<u32>, StoreError> {
        let sql = self.sql("select max(uid) from inbound_messages where mailbox = ? and uidvalidity = ?");
        let (stored,): (Option<i64>,) =
            sqlx::query_as(sql).bind(mailbox).bind(i64::from(uidvalidity)).fetch_one(self.pool()).await?;
        let first_seen = self.kv_get(&floor_key(mailbox, uidvalidity)).await?.and_then(|v| v.parse::<u32>().ok());
        let stored = stored.and_then(|u| u32::try_from(u).ok());
        Ok(stored.max(first_seen))
    }

    /// Remember the last UID in use when the folder was first seen.
    pub async fn set_uid_floor(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        uid: u32,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.kv_set(&floor_key(mailbox, uidvalidity), &uid.to_string(), now_ms).await
    }
}
