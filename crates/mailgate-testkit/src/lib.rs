//! mailgate's test kit: one [`TestApp`] per test (a database, the fake Jira,
//! optionally a real Dovecot and an SMTP sink, all cleaned up on drop), the
//! harnesses behind it, the test-side IMAP client, mail and fixture helpers,
//! the OpenAPI checker the fake Jira is held to, and for OAuth (issue 15) a
//! strict test authorization server ([`oauth::OAuthServer`]) that Dovecot
//! (`Dovecot::start_with_oauth`) and the SMTP sink (`smtp::xoauth2_args`)
//! check tokens against.
//!
//! Tests reach mailgate's wiring (pipeline, service, token service) only
//! through [`TestApp`], so a change to that wiring is made here once.

pub mod admin;
pub mod app;
pub mod db;
pub mod dovecot;
pub mod imap;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod process;
pub mod smtp;

use std::path::Path;
use std::time::{Duration, Instant};

pub use app::{TestApp, TestAppBuilder};
pub use db::TestDb;
pub use fake_jira;
pub use imap::Imap;
/// What a pass did with each mail (`CycleStats::outcomes`).
pub use mailgate::pipeline::RowOutcome;
pub use oauth::OAuthServer;

/// The account mailgate's configured Jira credentials belong to.
pub const JIRA_USER: &str = "bot@example.test";
pub const JIRA_TOKEN: &str = "test-api-token-7f3a";

/// The admin API key of every test app (`[admin] api_key` in the base
/// config) and of [`admin::AdminApi`]; as long as mailgate demands.
pub const ADMIN_API_KEY: &str = "test-admin-key-0123456789abcdef-0123456789";

/// The repository root (mailgate's manifest directory).
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Once per test: the TLS crypto provider, and logs when `TEST_LOG` is set.
pub fn init() {
    mailgate::telemetry::install_crypto_provider();
    if std::env::var("TEST_LOG").is_ok() {
        mailgate::telemetry::init("debug,sqlx=warn");
    }
}

/// A test fixture mail from tests/fixtures/.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = repo_root().join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// A file from the shared corpora and specs (`../shared/` next to the repository).
pub fn shared(rel: &str) -> Vec<u8> {
    let path = repo_root().join("../shared").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A simple mail.
pub fn mail(message_id: &str, from: &str, to: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n{extra_headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A free loopback port (for a server the test starts later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
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
