//! Durable state. One SQL text serves SQLite and PostgreSQL through sqlx's
//! runtime `Any` driver: queries are written with `?` placeholders and turned
//! into `$n` for PostgreSQL. Migrations are embedded, one folder per dialect.

mod audit;
mod events;
mod identities;
mod inbound;
mod log;
mod outbox;
pub mod queue;
mod stats;
mod token;

pub use crate::stats::{Counts, Statistics};
pub use audit::{AuditEntry, AuditFilter, PendingNote};
pub use events::{EventRow, EventStatus};
pub use identities::{CachedIdentity, IdentityKind};
pub use inbound::{
    Action, Claim, Finish, HoldReason, InboundRow, InboundState, LoggedAction, NewInbound, Status, Unacked,
};
pub use log::{DeadLetter, LogEntry, LogFilter, NewLogEntry};
pub use outbox::{NewOutgoing, OutboxStatus, OutgoingRow};
pub use token::TokenRecord;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://")]
    Url(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

impl Store {
    /// Connect and run migrations. A SQLite file is created if missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = if url.starts_with("sqlite:") {
            let with_mode = if url.contains("mode=") || url.contains(":memory:") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Dialect::Sqlite, with_mode)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Dialect::Postgres, url.to_string())
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        let max = if dialect == Dialect::Sqlite { 1 } else { 24 };
        // No ping before each statement: a broken connection fails the
        // statement, which every caller already treats as a retryable error.
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .test_before_acquire(false)
            .connect(&url)
            .await
            .map_err(|source| StoreError::Connect { url: redact(&url), source })?;
        let store = Self { pool, dialect };
        if dialect == Dialect::Sqlite {
            // Write-ahead log: one fsync per commit instead of the rollback
            // journal's several, with the same durability (synchronous stays
            // FULL). The mode is kept in the file.
            sqlx::query("PRAGMA journal_mode=WAL").execute(&store.pool).await?;
        }
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&self.pool).await?,
            Dialect::Postgres => sqlx::migrate!("./migrations/postgres").run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The query text for this dialect: `?` becomes `$1, $2, …` on PostgreSQL.
    /// Only constant query texts of this module pass through here; values
    /// are always bound, never formatted in.
    pub(crate) fn sql(&self, text: &str) -> AssertSqlSafe<String> {
        AssertSqlSafe(self.dialect_sql(text))
    }

    fn dialect_sql(&self, text: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => text.to_string(),
            Dialect::Postgres => {
                let mut out = String::with_capacity(text.len() + 8);
                let mut n = 0;
                for c in text.chars() {
                    if c == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A database URL without its password, for error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
