//! A database for one test: a fresh SQLite file, or a fresh PostgreSQL
//! database that is dropped again when the `TestDb` is.

use std::sync::atomic::{AtomicU32, Ordering};

pub struct TestDb {
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

fn pg_admin_url() -> String {
    std::env::var("MAILGATE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

static PG_SEQ: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("mailgate.db").display());
        Self { url, label: "sqlite", _dir: Some(dir), pg_name: None }
    }

    /// A new PostgreSQL database, or `None` (with a visible message) when
    /// no server answers on 127.0.0.1:5432.
    pub async fn postgres() -> Option<Self> {
        sqlx::any::install_default_drivers();
        let admin = pg_admin_url();
        let pool = match sqlx::AnyPool::connect(&admin).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("SKIPPED (PostgreSQL): no server reachable at {admin}: {e}");
                return None;
            }
        };
        let name = format!("mailgate_test_{}_{}", std::process::id(), PG_SEQ.fetch_add(1, Ordering::SeqCst));
        sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name}")))
            .execute(&pool)
            .await
            .expect("drop db");
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}"))).execute(&pool).await.expect("create db");
        pool.close().await;
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
        Some(Self { url: format!("{base}/{name}"), label: "postgres", _dir: None, pg_name: Some(name) })
    }

    /// SQLite always, PostgreSQL when reachable: the same test runs on both.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        if let Some(pg) = Self::postgres().await {
            dbs.push(pg);
        }
        dbs
    }
}

/// Drop the PostgreSQL database (forcing out connections a pool still
/// holds). Drop runs inside the test's runtime, which cannot be blocked on,
/// so a short-lived thread with its own runtime does the work.
impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(pool) = sqlx::AnyPool::connect(&pg_admin_url()).await {
                    let sql = format!("drop database if exists {name} with (force)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                    pool.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}
