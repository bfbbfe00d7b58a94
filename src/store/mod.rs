//! Durable state. One SQL text serves SQLite and PostgreSQL through sqlx's
//! runtime `Any` driver: queries are written with `?` placeholders and turned
//! into `$n` for PostgreSQL. Migrations are embedded, one folder per dialect.

mod audit;
mod blocked;
mod bounces;
mod events;
mod files;
mod identities;
mod inbound;
mod log;
mod merge;
mod oauth;
mod outbox;
mod people;
pub mod queue;
mod stats;
mod token;

pub use crate::stats::{BlockedCount, Counts, Statistics};
pub use audit::{AuditEntry, AuditFilter, PendingNote};
pub use bounces::{BounceMark, BouncingAddress};
pub use events::{EventRow, EventStatus};
pub use files::MailFile;
pub use identities::{CachedIdentity, IdentityKind};
pub use inbound::{
    Action, Blocker, Claim, Finish, HoldReason, InboundRow, InboundState, LoggedAction, NewInbound, Status, Unacked,
};
pub use log::{DeadLetter, LogEntry, LogFilter, NewLogEntry};
pub use oauth::{GrantState, NewLogin, OAuthGrant, Refreshed, refresh_aad, secret_aad};
pub use outbox::{NewOutgoing, OutboxStatus, OutgoingRow};
pub use people::{Conversation, IssuePerson, MailOnIssue, PersonIn, Role};
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

impl StoreError {
    /// Worth trying again shortly, unchanged: the database could not be
    /// reached (I/O, TLS, pool), or the statement lost a race (serialization
    /// failure, deadlock, "database is locked"). Not so: constraint
    /// violations, decode errors, migrations, a bad URL or configuration.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { source, .. } | Self::Sql(source) => sqlx_transient(source),
            Self::Migrate(_) | Self::Url(_) => false,
        }
    }
}

fn sqlx_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| db_code_transient(&code, db.message())),
        _ => false,
    }
}

/// A database error code: PostgreSQL's five-character SQLSTATE, or
/// SQLite's (extended) result code in decimal.
fn db_code_transient(code: &str, message: &str) -> bool {
    if message.contains("database is locked") {
        return true;
    }
    if code.len() == 5 {
        // serialization_failure, deadlock_detected, lock_not_available,
        // too_many_connections, connection exceptions, server shutting down.
        return matches!(code, "40001" | "40P01" | "55P03" | "53300" | "57P01" | "57P02" | "57P03")
            || code.starts_with("08");
    }
    // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR (primary code in the low byte).
    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 10))
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
            return Err(StoreError::Url(redact(url)));
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
    use super::{StoreError, db_code_transient, redact};

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn unreachable_databases_and_lost_races_are_transient() {
        assert!(StoreError::Sql(sqlx::Error::Io(std::io::Error::other("reset"))).is_transient());
        assert!(StoreError::Sql(sqlx::Error::PoolTimedOut).is_transient());
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(StoreError::Connect { url: "postgres://h/db".into(), source: sqlx::Error::Io(refused) }.is_transient());
        for (code, message) in
            [("5", "database is locked"), ("517", "busy"), ("6", "locked"), ("40001", ""), ("40P01", "")]
        {
            assert!(db_code_transient(code, message), "{code} {message}");
        }
        assert!(db_code_transient("1", "database is locked"));
    }

    #[test]
    fn bad_data_bad_config_and_migrations_are_not_transient() {
        assert!(!StoreError::Sql(sqlx::Error::RowNotFound).is_transient());
        assert!(!StoreError::Sql(sqlx::Error::ColumnNotFound("x".into())).is_transient());
        assert!(!StoreError::Url("mysql://h".into()).is_transient());
        let config = sqlx::Error::Configuration("bad".into());
        assert!(!StoreError::Connect { url: "sqlite:x".into(), source: config }.is_transient());
        // UNIQUE, NOT NULL (SQLite); unique_violation, not_null_violation (PostgreSQL).
        for code in ["2067", "1299", "23505", "23502"] {
            assert!(!db_code_transient(code, "constraint failed"), "{code}");
        }
    }

    #[tokio::test]
    async fn an_unsupported_url_is_refused_without_its_password() {
        let err = super::Store::connect("mysql://u:hunter2@h/db").await.expect_err("unsupported");
        assert!(matches!(err, StoreError::Url(_)), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[tokio::test]
    async fn a_constraint_violation_from_the_database_is_not_transient() {
        let store = super::Store::connect("sqlite::memory:").await.expect("store");
        let sql = "create table t (id integer primary key); insert into t values (1); insert into t values (1);";
        let err = sqlx::raw_sql(sql).execute(store.pool()).await.map_err(StoreError::from).expect_err("duplicate");
        assert!(!err.is_transient(), "{err}");
    }
}
