//! One running mailgate set-up per test: its database, the fake Jira,
//! optionally a real Dovecot and the SMTP sink, a directory with the config
//! file, and mailgate's pipeline built on demand. Everything is stopped and
//! removed when the `TestApp` is dropped (the PostgreSQL database too).
//!
//! Every use of mailgate's wiring (`build_pipeline`, `Service`, the token
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
use mailgate::ingest::{self, CycleStats};
use mailgate::jira::JiraApi;
use mailgate::mailbox::{ImapConnector, MailConnector, MemoryConnector, MemoryMailbox};
use mailgate::notify::Notifier;
use mailgate::pipeline::Pipeline;
use mailgate::store::{Status, Store};
use secrecy::SecretString;
use tokio::sync::Mutex;

pub use builder::TestAppBuilder;

use crate::dovecot::Dovecot;
use crate::smtp::Sink;
use crate::{Imap, TestDb};

/// Fields drop in this order: the pipeline (and its pool) before the
/// servers, the database last but one, the directory last.
pub struct TestApp {
    pipeline: Mutex<Option<Arc<Pipeline>>>,
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

    /// mailgate's pipeline on this configuration and the builder's clock,
    /// built on first use (and again after a restart).
    pub async fn pipeline(&self) -> Arc<Pipeline> {
        let mut slot = self.pipeline.lock().await;
        if let Some(pipeline) = slot.as_ref() {
            return pipeline.clone();
        }
        let pipeline =
            Arc::new(mailgate::app::build_pipeline(&self.settings, self.clock()).await.expect("pipeline builds"));
        *slot = Some(pipeline.clone());
        pipeline
    }

    /// "Restart": close the pipeline; the next use builds a new one on the
    /// same configuration and database.
    pub async fn restart(&self) {
        if let Some(pipeline) = self.pipeline.lock().await.take() {
            pipeline.store.close().await;
        }
    }

    /// Restart with the pipeline on another clock.
    pub async fn restart_at(&self, clock: Arc<dyn Clock>) {
        self.restart().await;
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = clock;
    }

    /// The pipeline's store.
    pub async fn store(&self) -> Store {
        self.pipeline().await.store.clone()
    }

    /// The workaround user's token service of the pipeline.
    pub async fn tokens(&self) -> Arc<TokenService> {
        self.pipeline().await.identity.clone().expect("the pipeline has a token service")
    }

    /// A token service of its own on `store` (as the admin API builds it).
    pub fn token_service(&self, store: Store, clock: Arc<dyn Clock>) -> TokenService {
        mailgate::app::token_service(&self.settings, store, clock).expect("token service")
    }

    /// The pipeline's Jira client (mailgate's `HttpJira` on the fake).
    pub async fn jira_api(&self) -> Arc<dyn JiraApi> {
        self.pipeline().await.jira.clone()
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

    /// The notifier, on the pipeline.
    pub async fn notifier(&self) -> Notifier {
        let pipeline = self.pipeline().await;
        mailgate::app::build_notifier(&self.settings, &pipeline, self.clock()).expect("notifier builds")
    }

    /// The service (`mailgate run` in this process) on this configuration.
    pub async fn start_service(&self) -> mailgate::app::Service {
        mailgate::app::Service::start(&self.settings).await.expect("service starts")
    }

    /// One pass of the mailbox loop over [`mailbox`](Self::mailbox).
    pub async fn pass(&self) -> CycleStats {
        pass_on(self.pipeline().await.as_ref(), &self.mailbox).await
    }

    /// Passes until nothing is pending (bounded).
    pub async fn drain(&self) {
        let pipeline = self.pipeline().await;
        for _ in 0..100 {
            pass_on(&pipeline, &self.mailbox).await;
            if pipeline.store.count_by_status(Status::Pending).await.expect("count") == 0 {
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
        ingest::cycle(self.pipeline().await.as_ref(), source.as_mut(), "support").await.expect("cycle")
    }
}

/// One pass of `pipeline` over an in-memory mailbox.
async fn pass_on(pipeline: &Pipeline, mailbox: &MemoryMailbox) -> CycleStats {
    let connector = MemoryConnector::new("support", mailbox.clone(), Some("Processed"), Some("Failed"));
    let mut source = connector.connect().await.expect("connect");
    ingest::cycle(pipeline, source.as_mut(), "support").await.expect("cycle")
}
