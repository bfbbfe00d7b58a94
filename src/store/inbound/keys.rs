//! Durable ordering across passes, mailboxes and instances: a mail's
//! ordering keys (thread Message-IDs, issue keys) are written when it is
//! claimed, and a later mail that shares one with an earlier unfinished mail
//! waits for it. Also the upload intent and a dead letter's progress.

use super::{Action, InboundState};
use crate::domain::IssueKey;
use crate::store::queue::InstanceId;
use crate::store::{Store, StoreError};

/// An earlier unfinished mail sharing an ordering key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Blocker {
    pub id: i64,
    /// When it is due again (a retry's or a hold's time).
    pub next_attempt_at: i64,
}

impl Store {
    /// Remember the ordering keys of mail `id` and answer the earlier
    /// pending mails (of any mailbox) that share one: one transaction.
    pub async fn order_keys(&self, id: i64, keys: &[String]) -> Result<Vec<Blocker>, StoreError> {
        let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool().begin().await?;
        let values = vec!["(?, ?)"; keys.len()].join(", ");
        let sql = format!("insert into inbound_keys (inbound_id, order_key) values {values} on conflict do nothing");
        let mut insert = sqlx::query(self.sql(&sql));
        for key in &keys {
            insert = insert.bind(id).bind(key.to_string());
        }
        insert.execute(&mut *tx).await?;
        let marks = vec!["?"; keys.len()].join(", ");
        let sql = format!(
            "select distinct m.id, m.next_attempt_at from inbound_keys k
             join inbound_messages m on m.id = k.inbound_id
             where k.order_key in ({marks}) and k.inbound_id < ? and m.status = 'pending'
             order by m.id"
        );
        let mut select = sqlx::query_as::<_, Blocker>(self.sql(&sql));
        for key in &keys {
            select = select.bind(key.to_string());
        }
        let blockers = select.bind(id).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(blockers)
    }

    /// Let a claimed mail wait behind an earlier one until `until_ms` (not an
    /// attempt, no hold reason: its state is unchanged) and give it back.
    pub async fn defer(&self, id: i64, until_ms: i64, owner: &InstanceId, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql(
            "update inbound_messages set next_attempt_at = ?, lease_owner = null, lease_until = null, updated_at = ?
             where id = ? and lease_owner = ?",
        );
        sqlx::query(sql).bind(until_ms).bind(now_ms).bind(id).bind(owner.as_str()).execute(self.pool()).await?;
        Ok(())
    }

    /// Announce an upload before it is made: `done` attachments are done
    /// once it lands (a resumed mail then looks before uploading again).
    pub async fn announce_upload(&self, id: i64, done: i64, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql("update inbound_messages set attachments_uploading = ?, updated_at = ? where id = ?");
        sqlx::query(sql).bind(done).bind(now_ms).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// What Jira holds for mail `id` (its action and issue), as committed now.
    pub async fn posted(&self, id: i64) -> Result<Option<(Action, IssueKey)>, StoreError> {
        let sql = self.sql("select action, issue_key from inbound_messages where id = ?");
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as(sql).bind(id).fetch_optional(self.pool()).await?;
        let Some((action, key)) = row else { return Ok(None) };
        match InboundState::from_columns("pending", action.as_deref(), key.as_deref(), None) {
            InboundState::Posted { action, issue } => Ok(Some((action, issue))),
            _ => Ok(None),
        }
    }

    /// A replay of dead letter `dead` (stored as row `id`) resumes where
    /// the dead mail stopped: its issue or comment, its attachments (looked
    /// at before any upload), or a create whose answer was lost (its key
    /// floor: the replay reads the keys above it before creating). Returns whether there was progress to take over.
    pub async fn resume_from(&self, id: i64, dead: i64, now_ms: i64) -> Result<bool, StoreError> {
        let sql = self.sql(
            "update inbound_messages set
                 action = (select d.action from inbound_messages d where d.id = ?),
                 issue_key = (select d.issue_key from inbound_messages d where d.id = ?),
                 attachments_done = (select d.attachments_done from inbound_messages d where d.id = ?),
                 attachments_uploading = (select d.attachments_done + 1 from inbound_messages d where d.id = ?),
                 post_floor = (select d.post_floor from inbound_messages d where d.id = ?),
                 updated_at = ?
             where id = ? and exists (select 1 from inbound_messages d
                                      where d.id = ? and d.status = 'failed'
                                        and (d.issue_key is not null or d.post_floor is not null)
                                        and d.action in ('create', 'comment'))",
        );
        let mut q = sqlx::query(sql);
        for _ in 0..5 {
            q = q.bind(dead);
        }
        let done = q.bind(now_ms).bind(id).bind(dead).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }
}
