//! One running mailgate set-up per test: its database, the fake Jira,
//! optionally a real Dovecot and the SMTP sink, a directory with the config
//! file, and mailgate's application built on demand. Everything is stopped and
//! removed when the `TestApp` is dropped (the PostgreSQL database too).
//!
//! Every use of mailgate's wiring (`startup::Application`, the token
//! service, the notifier) goes through here.

mod builder;
mod config;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use fake_jira::FakeJira;
use mailgate::clock::{Clock, SystemClock};
use mailgate::config::Settings;
use mailgate::domain::EmailAddress;
use mailgate::identity::TokenService;
use mailgate::ingest::{self, CycleStats, Ingest};
use mailgate::jira::JiraApi;
use mailgate::mailbox::{ImapConnector, MailConnector, MemoryConnector, MemoryMailbox};
use mailgate::notify::Notifier;
use mailgate::startup::{Application, Running};
use mailgate::store::{Status, Store};
use secrecy::SecretString;
use tokio::sync::Mutex;

pub use builder::TestAppBuilder;

use crate::dovecot::Dovecot;
use crate::smtp::Sink;
use crate::{Imap, TestDb};

/// mailgate's application on the test's configuration, and its inbound
/// worker.
struct Built {
    app: Application,
    ingest: Ingest,
}

/// Fields drop in this order: the application (and its pool) before the
/// servers, the database last but one, the directory last.
pub struct TestApp {
    built: Mutex<Option<Arc<Built>>>,
    settings: Settings,
    clock: std::sync::Mutex<Arc<dyn Clock>>,
    pub jira: FakeJira,
    mailbox: MemoryMailbox,
    dovecot: Option<Dovecot>,
    sink: Option<Sink>,
    db: TestDb,
    dir: tempfile::TempDir,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// SQLite, the fake Jira, the default configuration.
    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    /// "sqlite" or "postgres", for assertion messages.
    pub fn label(&self) -> &'static str {
        self.db.label
    }

    pub fn db_url(&self) -> &str {
        &self.db.url
    }

    /// The SQLite database file (and its `-wal`/`-shm` siblings beside it).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.db.url.strip_prefix("sqlite://").map(PathBuf::from)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The test's own directory (`{dir}` in the builder's TOML).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The configuration, written out for the binary.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("mailgate.toml")
    }

    /// `bin --config <this test's config>`: pass `env!("CARGO_BIN_EXE_mailgate")`.
    pub fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(bin);
        c.arg("--config").arg(self.config_path());
        c
    }

    pub fn dovecot(&self) -> &Dovecot {
        self.dovecot.as_ref().expect("the TestApp was built without with_imap()")
    }

    pub fn imap_port(&self) -> u16 {
        self.dovecot().port
    }

    /// A test-side IMAP session on the test's Dovecot.
    pub async fn imap(&self) -> Imap {
        Imap::connect(self.imap_port()).await
    }

    /// A mail arrives in [`mailbox`](Self::mailbox).
    pub fn receive(&self, raw: impl AsRef<[u8]>) {
        self.mailbox.append(raw.as_ref());
    }

    /// Mails in `folder` of [`mailbox`](Self::mailbox) marked seen.
    pub fn seen_in(&self, folder: &str) -> usize {
        self.mailbox.mails().iter().filter(|m| m.folder == folder && m.seen).count()
    }

    /// Append `raw` to the INBOX of the test's Dovecot, through a session of its own.
    pub async fn imap_append(&self, raw: &[u8]) {
        let mut session = self.imap().await;
        session.append(raw).await;
        session.logout().await;
    }

    /// Deliver a mail flagged `\Seen` (read by another client first).
    pub async fn imap_append_seen(&self, raw: &[u8]) {
        let mut session = self.imap().await;
        session.append_seen(raw).await;
        session.logout().await;
    }

    /// (messages, unseen) in `folder`, through a session of its own.
    pub async fn imap_counts(&self, folder: &str) -> (u32, u32) {
        crate::imap::counts_once(self.imap_port(), folder).await
    }

    /// The in-memory mailbox "support" that [`pass`](Self::pass) reads
    /// (Processed and Failed folders).
    pub fn mailbox(&self) -> &MemoryMailbox {
        &self.mailbox
    }

    pub fn sink(&self) -> &Sink {
        self.sink.as_ref().expect("the TestApp was built without with_smtp()")
    }

    fn clock(&self) -> Arc<dyn Clock> {
        self.clock.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// mailgate's application on this configuration and the builder's
    /// clock, built on first use (and again after a restart).
    async fn built(&self) -> Arc<Built> {
        let mut slot = self.built.lock().await;
        if let Some(built) = slot.as_ref() {
            return built.clone();
        }
        let app = Application::build_with_clock(&self.settings, self.clock()).await.expect("application builds");
        let ingest = app.ingest();
        let built = Arc::new(Built { app, ingest });
        *slot = Some(built.clone());
        built
    }

    /// "Restart": close the application; the next use builds a new one on
    /// the same configuration and database.
    pub async fn restart(&self) {
        if let Some(built) = self.built.lock().await.take() {
            built.app.context().store.close().await;
        }
    }

    /// Restart with the application on another clock.
    pub async fn restart_at(&self, clock: Arc<dyn Clock>) {
        self.restart().await;
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = clock;
    }

    /// The application's store.
    pub async fn store(&self) -> Store {
        self.built().await.app.context().store.clone()
    }

    /// The workaround user's token service of the application.
    pub async fn tokens(&self) -> Arc<TokenService> {
        self.built().await.app.context().tokens.clone()
    }

    /// A token service of its own on `store` (as the admin API builds it).
    pub fn token_service(&self, store: Store, clock: Arc<dyn Clock>) -> TokenService {
        mailgate::context::token_service(&self.settings, store, clock).expect("token service")
    }

    /// The application's Jira client (mailgate's `HttpJira` on the fake).
    pub async fn jira_api(&self) -> Arc<dyn JiraApi> {
        self.built().await.app.context().jira.clone()
    }

    /// Store the workaround user's token through a token service and store
    /// of their own (as `mailgate token set` does), closed again after.
    pub async fn set_token(&self, user: &str, token: &str) {
        let store = Store::connect(self.db_url()).await.expect("store");
        let user = EmailAddress::parse(user).expect("token user");
        let tokens = self.token_service(store.clone(), Arc::new(SystemClock));
        tokens.set(&user, &SecretString::from(token.to_string()), None).await.expect("token set");
        store.close().await;
    }

    /// The notifier, on the application's context.
    pub async fn notifier(&self) -> Notifier {
        let built = self.built().await;
        mailgate::startup::build_notifier(&self.settings, built.app.context()).expect("notifier builds")
    }

    /// The service (`mailgate run` in this process) on this configuration.
    pub async fn start_service(&self) -> Running {
        let app = Application::build(&self.settings).await.expect("application builds");
        app.start().await.expect("service starts")
    }

    /// The inbound worker of a new application on this configuration (for
    /// driving `ingest::run_mailbox` directly).
    pub async fn ingest(&self) -> Ingest {
        Application::build_with_clock(&self.settings, self.clock()).await.expect("application builds").ingest()
    }

    /// One pass of the mailbox loop over [`mailbox`](Self::mailbox).
    pub async fn pass(&self) -> CycleStats {
        pass_on(&self.built().await.ingest, &self.mailbox).await
    }

    /// Passes until nothing is pending (bounded).
    pub async fn drain(&self) {
        let built = self.built().await;
        for _ in 0..100 {
            pass_on(&built.ingest, &self.mailbox).await;
            if built.app.context().store.count_by_status(Status::Pending).await.expect("count") == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        panic!("mail still pending after 100 passes");
    }

    /// One pass of the mailbox loop through a fresh IMAP session on the
    /// configured mailbox.
    pub async fn pass_imap(&self) -> CycleStats {
        let connector = ImapConnector::new(&self.settings.mailboxes[0]).expect("connector");
        let mut source = connector.connect().await.expect("imap connects");
        ingest::cycle(&self.built().await.ingest, source.as_mut(), "support").await.expect("cycle")
    }
}

/// One pass of the inbound worker over an in-memory mailbox.
async fn pass_on(ingest: &Ingest, mailbox: &MemoryMailbox) -> CycleStats {
    let connector = MemoryConnector::new("support", mailbox.clone(), Some("Processed"), Some("Failed"));
    let mut source = connector.connect().await.expect("connect");
    ingest::cycle(ingest, source.as_mut(), "support").await.expect("cycle")
}
