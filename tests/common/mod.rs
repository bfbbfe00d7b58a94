//! Shared test harness: real Dovecot, the fake Jira, SQLite and PostgreSQL.
#![allow(dead_code, reason = "each test binary uses a different part")]

pub mod dovecot;
pub mod smtp;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use mailgate::clock::SystemClock;
use mailgate::config::Settings;
use mailgate::fake_jira::{FakeAuth, FakeJira};

pub const JIRA_USER: &str = "bot@example.test";
pub const JIRA_TOKEN: &str = "test-api-token-7f3a";

pub fn init() {
    mailgate::telemetry::install_crypto_provider();
    if std::env::var("TEST_LOG").is_ok() {
        mailgate::telemetry::init("debug,sqlx=warn");
    }
}

/// A database for one test: a fresh SQLite file, or a fresh PostgreSQL database.
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

    pub async fn cleanup(self) {
        let Some(name) = &self.pg_name else { return };
        if let Ok(pool) = sqlx::AnyPool::connect(&pg_admin_url()).await {
            let sql = format!("drop database if exists {name} with (force)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            pool.close().await;
        }
    }
}

pub async fn fake_jira() -> FakeJira {
    FakeJira::start(&["HELP", "SALES"], vec![FakeAuth::Basic { user: JIRA_USER.into(), secret: JIRA_TOKEN.into() }])
        .await
        .expect("fake jira starts")
}

/// Settings for a test: one mailbox on the given Dovecot (plain IMAP on
/// loopback), the fake Jira, and `extra` TOML appended.
pub fn settings(db_url: &str, jira_url: &str, imap_port: Option<u16>, extra: &str) -> Settings {
    let mailbox = match imap_port {
        Some(port) => format!(
            r#"
[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = {port}
tls = "none"
user = "{}"
password = "{}"
processed_folder = "Processed"
failed_folder = "Failed"
poll_interval_secs = 300
"#,
            dovecot::USER,
            dovecot::PASSWORD
        ),
        None => String::new(),
    };
    let text = format!(
        r#"
[database]
url = "{db_url}"

[jira]
flavor = "cloud"
base_url = "{jira_url}"
auth = {{ kind = "basic", user = "{JIRA_USER}", secret = "{JIRA_TOKEN}" }}
timeout_secs = 5
max_retries = 1

[inbound]
own_addresses = ["help@corp.test"]
retry_base_ms = 50
{extra}

[[routing.rules]]
recipient = "sales@corp.test"
project = "SALES"

[routing]
default = {{ project = "HELP", issue_type = "Task", labels = ["email"] }}
{mailbox}
"#
    );
    Settings::from_toml_with_env(&text, Vec::new()).expect("test settings are valid")
}

/// The application's parts as the tests reach them.
pub struct TestPipeline {
    pub app: mailgate::startup::Application,
    pub store: mailgate::store::Store,
    pub identity: Option<Arc<mailgate::identity::TokenService>>,
    pub jira: Arc<dyn mailgate::jira::JiraApi>,
    ingest: mailgate::ingest::Ingest,
}

impl std::ops::Deref for TestPipeline {
    type Target = mailgate::ingest::Ingest;

    fn deref(&self) -> &Self::Target {
        &self.ingest
    }
}

pub async fn build_pipeline(settings: &Settings, clock: Arc<dyn mailgate::clock::Clock>) -> TestPipeline {
    let app = mailgate::startup::Application::build_with_clock(settings, clock).await.expect("pipeline builds");
    let ctx = app.context();
    let (store, identity, jira) = (ctx.store.clone(), Some(ctx.tokens.clone()), ctx.jira.clone());
    let ingest = app.ingest();
    TestPipeline { app, store, identity, jira, ingest }
}

pub fn notifier(settings: &Settings, p: &TestPipeline) -> mailgate::notify::Notifier {
    mailgate::startup::build_notifier(settings, p.app.context()).expect("notifier")
}

pub async fn pipeline(settings: &Settings) -> TestPipeline {
    build_pipeline(settings, Arc::new(SystemClock)).await
}

/// A test fixture mail from tests/fixtures/.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    std::fs::read(format!("{path}{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn shared(rel: &str) -> Vec<u8> {
    let path = format!("{}/../shared/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A simple mail.
pub fn mail(message_id: &str, from: &str, to: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n{extra_headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A test-side IMAP client (plain TCP on loopback).
pub struct Imap {
    session: async_imap::Session<tokio::net::TcpStream>,
}

impl Imap {
    pub async fn connect(port: u16) -> Self {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect imap");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting").expect("greeting");
        let session = client.login(dovecot::USER, dovecot::PASSWORD).await.map_err(|e| e.0).expect("login");
        Self { session }
    }

    pub async fn append(&mut self, raw: &[u8]) {
        self.session.append("INBOX", None, None, raw).await.expect("append");
    }

    /// (messages, unseen) in a folder.
    pub async fn counts(&mut self, folder: &str) -> (u32, u32) {
        self.session.select(folder).await.expect("select");
        let all = self.session.uid_search("ALL").await.expect("search").len() as u32;
        let unseen = self.session.uid_search("UNSEEN").await.expect("search").len() as u32;
        (all, unseen)
    }

    pub async fn seen_in_inbox(&mut self) -> u32 {
        self.session.select("INBOX").await.expect("select");
        self.session.uid_search("SEEN").await.expect("search").len() as u32
    }

    pub async fn logout(mut self) {
        let _ = self.session.logout().await;
    }

    pub async fn flags(&mut self, folder: &str) -> Vec<String> {
        self.session.select(folder).await.expect("select");
        let fetches: Vec<_> =
            self.session.fetch("1:*", "FLAGS").await.expect("fetch").try_collect().await.expect("fetch");
        fetches.iter().map(|f| format!("{:?}", f.flags().collect::<Vec<_>>())).collect()
    }
}

/// Poll `check` until it holds or `limit` passes (a failure bound, not a timing assertion).
pub async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check().await
}
