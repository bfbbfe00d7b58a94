//! Claiming the next due row of a queue table under a lease, one SQL text
//! per dialect. A lease, not a transaction held across a Jira or SMTP call:
//! SQLite has one connection.
//!
//! - PostgreSQL (several instances): every unexpired lease is honoured, and
//!   `for update skip locked` keeps two claimers off the same row.
//! - SQLite (one instance, one writer): only this process's own unexpired
//!   claims (rows in flight here) are skipped, so a lease left by a crashed
//!   process does not delay the restart.

use sqlx::any::AnyRow;

use super::{Dialect, Store, StoreError};
use crate::clock::Clock;

/// This process, as the owner of the rows it claims. Made once at start-up
/// from the injected clock and handed to every worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn new(clock: &dyn Clock) -> Self {
        Self(format!("{}-{}", std::process::id(), clock.now_ms()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for InstanceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A durable queue table. Every such table has `status` (`'pending'` while
/// queued), `next_attempt_at`, `lease_owner` and `lease_until` columns.
#[derive(Debug, Clone, Copy)]
pub struct QueueTable {
    pub table: &'static str,
    /// The order rows are claimed in (oldest first).
    pub order: &'static str,
    /// The columns returned by a claim.
    pub columns: &'static str,
}

/// How long a claim lasts without renewal; a crashed process's claims are
/// taken over after this (PostgreSQL, several instances).
pub const LEASE_MS: i64 = 60_000;

/// Who claims, and until when.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub owner: &'a InstanceId,
    pub now_ms: i64,
    pub until_ms: i64,
}

impl<'a> Lease<'a> {
    /// The usual lease: [`LEASE_MS`] from `now_ms`.
    pub fn from_now(owner: &'a InstanceId, now_ms: i64) -> Self {
        Self::lasting(owner, now_ms, LEASE_MS)
    }

    /// A lease of `ms` from `now_ms`.
    pub fn lasting(owner: &'a InstanceId, now_ms: i64, ms: i64) -> Self {
        Self { owner, now_ms, until_ms: now_ms.saturating_add(ms) }
    }
}

/// The lease condition and how many times it binds (owner, now) values.
pub(super) fn free_of_lease(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "(lease_until is null or lease_until < ?)",
        Dialect::Sqlite => "(lease_owner is null or lease_owner <> ? or lease_until < ?)",
    }
}

impl Store {
    /// Claim the oldest due pending row of `q` (within `scope`, a column and
    /// its value, when given) for `lease.owner` until `lease.until_ms`.
    pub async fn claim_due<R>(
        &self,
        q: &QueueTable,
        scope: Option<(&'static str, &str)>,
        lease: Lease<'_>,
    ) -> Result<Option<R>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    {
        let dialect = self.dialect();
        let free = free_of_lease(dialect);
        let skip_locked = if dialect == Dialect::Postgres { " for update skip locked" } else { "" };
        let scoped = scope.map(|(column, _)| format!(" and {column} = ?")).unwrap_or_default();
        let (table, order, columns) = (q.table, q.order, q.columns);
        let text = format!(
            "update {table} set lease_owner = ?, lease_until = ?
             where id = (select id from {table}
                         where status = 'pending' and next_attempt_at <= ?{scoped} and {free}
                         order by {order} limit 1{skip_locked})
               and status = 'pending' and {free}
             returning {columns}"
        );
        let mut query =
            sqlx::query_as(self.sql(&text)).bind(lease.owner.as_str()).bind(lease.until_ms).bind(lease.now_ms);
        if let Some((_, value)) = scope {
            query = query.bind(value.to_string());
        }
        for _ in 0..2 {
            query = match dialect {
                Dialect::Postgres => query.bind(lease.now_ms),
                Dialect::Sqlite => query.bind(lease.owner.as_str()).bind(lease.now_ms),
            };
        }
        Ok(query.fetch_optional(self.pool()).await?)
    }

    /// Keep a claim while working on a long item.
    pub async fn extend_lease<K>(&self, q: &QueueTable, id: K, lease: Lease<'_>) -> Result<(), StoreError>
    where
        K: for<'k> sqlx::Encode<'k, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
    {
        let text = format!("update {} set lease_until = ? where id = ? and lease_owner = ?", q.table);
        sqlx::query(self.sql(&text))
            .bind(lease.until_ms)
            .bind(id)
            .bind(lease.owner.as_str())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Give a claimed item back (done with it for now).
    pub async fn release_lease<K>(&self, q: &QueueTable, id: K, owner: &InstanceId) -> Result<(), StoreError>
    where
        K: for<'k> sqlx::Encode<'k, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
    {
        let text =
            format!("update {} set lease_owner = null, lease_until = null where id = ? and lease_owner = ?", q.table);
        sqlx::query(self.sql(&text)).bind(id).bind(owner.as_str()).execute(self.pool()).await?;
        Ok(())
    }
}
