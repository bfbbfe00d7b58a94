//! Claiming inbound mail (through the shared queue lease) and the IMAP
//! acknowledgement of finished mail.

use super::{INBOUND, InboundRow, RawRow, Status};
use crate::store::queue::{InstanceId, Lease};
use crate::store::{Dialect, Store, StoreError};

/// A finished mail not yet acknowledged on IMAP.
#[derive(Debug, Clone)]
pub struct Unacked {
    pub id: i64,
    pub uidvalidity: i64,
    pub uid: i64,
    pub status: Status,
}

impl Store {
    /// Claim the oldest due pending mail of a mailbox: one instance works on
    /// a mail at a time; the lease of a process that died expires.
    pub async fn claim_next(&self, mailbox: &str, lease: Lease<'_>) -> Result<Option<InboundRow>, StoreError> {
        match self.claim_due::<RawRow>(&INBOUND, Some(("mailbox", mailbox)), lease).await? {
            Some(row) => Ok(Some(self.with_raw(row.into()).await?)),
            None => Ok(None),
        }
    }

    /// Keep a mail's claim while working on it (big attachments, slow Jira).
    pub async fn extend_inbound_lease(&self, id: i64, lease: Lease<'_>) -> Result<(), StoreError> {
        self.extend_lease(&INBOUND, id, lease).await
    }

    /// Give a claimed mail back (done with it for now).
    pub async fn release_inbound(&self, id: i64, owner: &InstanceId) -> Result<(), StoreError> {
        self.release_lease(&INBOUND, id, owner).await
    }

    /// Claim the IMAP acknowledgement of finished mails, in one transaction;
    /// returns the ids claimed. A mail another instance holds is left out
    /// (leases count on PostgreSQL only, as for mails).
    pub async fn claim_acks(&self, ids: &[i64], lease: Lease<'_>) -> Result<Vec<i64>, StoreError> {
        let pg = self.dialect() == Dialect::Postgres;
        let leased = if pg { "(lease_until is null or lease_until < ? or lease_owner = ?)" } else { "1 = 1" };
        let text = format!(
            "update inbound_messages set lease_owner = ?, lease_until = ?
             where id = ? and imap_acked = 0 and status <> 'pending' and {leased}"
        );
        let mut tx = self.pool().begin().await?;
        let mut claimed = Vec::with_capacity(ids.len());
        for &id in ids {
            let mut query = sqlx::query(self.sql(&text)).bind(lease.owner.as_str()).bind(lease.until_ms).bind(id);
            if pg {
                query = query.bind(lease.now_ms).bind(lease.owner.as_str());
            }
            if query.execute(&mut *tx).await?.rows_affected() > 0 {
                claimed.push(id);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Remember that these mails are acknowledged on IMAP, in one transaction.
    pub async fn mark_acked_many(&self, ids: &[i64], now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for &id in ids {
            let sql = self.sql("update inbound_messages set imap_acked = 1, updated_at = ? where id = ?");
            sqlx::query(sql).bind(now_ms).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// When the next pending mail of a mailbox is due, if any.
    pub async fn next_due_at(&self, mailbox: &str) -> Result<Option<i64>, StoreError> {
        let sql =
            self.sql("select min(next_attempt_at) from inbound_messages where mailbox = ? and status = 'pending'");
        let row: (Option<i64>,) = sqlx::query_as(sql).bind(mailbox).fetch_one(self.pool()).await?;
        Ok(row.0)
    }

    /// Finished mails of a mailbox not yet acknowledged on IMAP, oldest first.
    pub async fn unacked(&self, mailbox: &str) -> Result<Vec<Unacked>, StoreError> {
        let sql = self.sql(
            "select id, uidvalidity, uid, status from inbound_messages
             where mailbox = ? and status <> 'pending' and imap_acked = 0 and uid is not null order by id",
        );
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sql).bind(mailbox).fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, uidvalidity, uid, status)| {
                Status::parse(&status).map(|status| Unacked { id, uidvalidity, uid, status })
            })
            .collect())
    }
}
