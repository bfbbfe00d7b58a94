//! `TestApp::builder()`: what a test needs, in typed calls.

use std::path::PathBuf;
use std::sync::Arc;

use fake_jira::{FakeAuth, FakeJira};
use mailgate::clock::{Clock, SystemClock};
use mailgate::config::Settings;
use mailgate::mailbox::MemoryMailbox;

use super::{TestApp, config};
use crate::dovecot::Dovecot;
use crate::smtp::Sink;
use crate::{JIRA_TOKEN, JIRA_USER, TestDb};

enum Edit {
    Merge(String),
    Set(String, Option<toml::Value>),
}

enum Smtp {
    None,
    /// Start the SMTP sink with these options.
    Sink(Vec<String>),
    /// Send to a port nothing listens on (mail is only queued).
    Port(u16),
}

enum Mailbox {
    None,
    /// Start a Dovecot for the test.
    Dovecot,
    /// Start a Dovecot that also takes OAuth tokens, checked at this
    /// introspection URL.
    DovecotOAuth(String),
    /// Point the mailbox at a port nothing listens on yet.
    Port(u16),
}

/// Collects what a test needs; [`spawn`](Self::spawn) starts it.
pub struct TestAppBuilder {
    db: Option<TestDb>,
    projects: Vec<String>,
    auth: Vec<FakeAuth>,
    mailbox: Mailbox,
    smtp: Smtp,
    /// TOML merges and dotted sets, applied in the order they were asked for.
    edits: Vec<Edit>,
    files: Vec<(PathBuf, Vec<u8>)>,
    dirs: Vec<PathBuf>,
    issues: Vec<(String, String)>,
    clock: Arc<dyn Clock>,
}

impl Default for TestAppBuilder {
    fn default() -> Self {
        Self {
            db: None,
            projects: vec!["HELP".into(), "SALES".into()],
            auth: vec![FakeAuth::Basic { user: JIRA_USER.into(), secret: JIRA_TOKEN.into() }],
            mailbox: Mailbox::None,
            smtp: Smtp::None,
            edits: Vec::new(),
            files: Vec::new(),
            dirs: Vec::new(),
            issues: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl TestAppBuilder {
    /// Run on this database (default: a fresh SQLite file). For tests that
    /// loop over [`TestDb::all`].
    pub fn db(mut self, db: TestDb) -> Self {
        self.db = Some(db);
        self
    }

    /// The project keys the fake Jira has (default HELP and SALES).
    pub fn jira_projects(mut self, projects: &[&str]) -> Self {
        self.projects = projects.iter().map(|p| p.to_string()).collect();
        self
    }

    /// Credentials the fake Jira accepts besides mailgate's own (e.g. the
    /// workaround user's token).
    pub fn jira_accepts(mut self, user: &str, secret: &str) -> Self {
        self.auth.push(FakeAuth::Basic { user: user.into(), secret: secret.into() });
        self
    }

    /// A bearer token the fake Jira accepts besides mailgate's own.
    pub fn jira_accepts_bearer(mut self, token: &str) -> Self {
        self.auth.push(FakeAuth::Bearer(token.into()));
        self
    }

    /// An issue that exists in the fake Jira from the start (HELP-1, HELP-2, … in order).
    pub fn jira_issue(mut self, project: &str, summary: &str) -> Self {
        self.issues.push((project.to_string(), summary.to_string()));
        self
    }

    /// A real Dovecot and the "support" mailbox on it.
    pub fn with_imap(mut self) -> Self {
        self.mailbox = Mailbox::Dovecot;
        self
    }

    /// A real Dovecot that takes XOAUTH2 and OAUTHBEARER tokens of `server`
    /// (checked at its introspection URL) besides passwords, and the
    /// "support" mailbox on it (configured with the password, like
    /// [`with_imap`](Self::with_imap); a test switches it to OAuth with
    /// [`set_toml`](Self::set_toml)). See [`Dovecot::start_with_oauth`].
    pub fn with_imap_oauth(mut self, server: &crate::oauth::OAuthServer) -> Self {
        self.mailbox = Mailbox::DovecotOAuth(server.introspect_url());
        self
    }

    /// The "support" mailbox on `port`, where the test starts a server later.
    pub fn imap_port(mut self, port: u16) -> Self {
        self.mailbox = Mailbox::Port(port);
        self
    }

    /// Mailgate's own defaults instead of the test ones: no Jira timeout
    /// and retry overrides, no mail retry override, no SALES rule, and every
    /// mail to HELP.
    pub fn mailgate_defaults(self) -> Self {
        self.unset("jira.timeout_secs")
            .unset("jira.max_retries")
            .unset("inbound.retry_base_ms")
            .unset("routing.rules")
            .set_toml("routing.default", r#"{ project = "HELP" }"#)
    }

    /// Jira Data Center with a personal access token: the fake accepts only
    /// that bearer token.
    pub fn data_center_bearer(mut self, token: &str) -> Self {
        self.auth = vec![FakeAuth::Bearer(token.into())];
        self.set("jira.flavor", "datacenter")
            .set_toml("jira.auth", &format!(r#"{{ kind = "bearer", token = "{token}" }}"#))
    }

    /// The SMTP sink and an `[smtp]` section that sends to it.
    pub fn with_smtp(self) -> Self {
        self.with_smtp_args(&[])
    }

    /// The SMTP sink started with these `scripts/dev/smtp_sink.py` options.
    pub fn with_smtp_args(mut self, args: &[&str]) -> Self {
        self.smtp = Smtp::Sink(args.iter().map(|a| a.to_string()).collect());
        self
    }

    /// The SMTP sink requiring AUTH XOAUTH2 with tokens of `server` (checked
    /// at its introspection URL; `smtp::xoauth2_args`), and an `[smtp]`
    /// section that sends to it (without credentials: the test adds the
    /// OAuth settings).
    pub fn with_smtp_oauth(self, server: &crate::oauth::OAuthServer) -> Self {
        let args = crate::smtp::xoauth2_args(server);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.with_smtp_args(&args)
    }

    /// An `[smtp]` section for a free port with no server: mail is queued,
    /// never sent.
    pub fn smtp_nowhere(mut self) -> Self {
        self.smtp = Smtp::Port(crate::free_port());
        self
    }

    /// A master key (hex) in `{dir}/master.key`, configured as `[secrets]`.
    pub fn master_key(self, hex: &str) -> Self {
        self.file("master.key", hex).toml(r#"secrets = { master_key_file = "{dir}/master.key" }"#)
    }

    /// A file in the test's directory (`{dir}` in TOML), e.g. a script.
    pub fn file(mut self, rel: &str, contents: impl AsRef<[u8]>) -> Self {
        self.files.push((PathBuf::from(rel), contents.as_ref().to_vec()));
        self
    }

    /// An empty folder in the test's directory (e.g. for scripts).
    pub fn mkdir(mut self, rel: &str) -> Self {
        self.dirs.push(PathBuf::from(rel));
        self
    }

    /// TOML merged over the defaults (tables key by key, other values
    /// replaced). `{dir}` stands for the test's directory, `{jira}` for the fake Jira's base URL.
    pub fn toml(mut self, text: &str) -> Self {
        self.edits.push(Edit::Merge(text.to_string()));
        self
    }

    /// One value at a dotted path, e.g. `("jira.timeout_secs", 1)` or
    /// `("mailboxes.0.idle", false)`.
    pub fn set(mut self, path: &str, value: impl Into<toml::Value>) -> Self {
        self.edits.push(Edit::Set(path.to_string(), Some(value.into())));
        self
    }

    /// A value written in TOML at a dotted path, replacing what is there:
    /// `("routing.default", r#"{ project = "HELP" }"#)`.
    pub fn set_toml(self, path: &str, value: &str) -> Self {
        let parsed: toml::Table = format!("v = {value}").parse().unwrap_or_else(|e| panic!("{path} = {value}: {e}"));
        let value = parsed.get("v").cloned().unwrap_or_else(|| panic!("{path} = {value}: no value"));
        self.set(path, value)
    }

    /// Leave a default out, e.g. `"jira.max_retries"` or `"routing.rules"`.
    pub fn unset(mut self, path: &str) -> Self {
        self.edits.push(Edit::Set(path.to_string(), None));
        self
    }

    /// The clock the pipeline runs on (default the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub async fn spawn(self) -> TestApp {
        crate::init();
        let db = self.db.unwrap_or_else(TestDb::sqlite);
        let dir = tempfile::Builder::new().prefix("mailgate-test-").tempdir().expect("tempdir");
        for rel in &self.dirs {
            std::fs::create_dir_all(dir.path().join(rel)).expect("mkdir");
        }
        for (rel, contents) in &self.files {
            let path = dir.path().join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(&path, contents).expect("write test file");
        }
        let projects: Vec<&str> = self.projects.iter().map(String::as_str).collect();
        let jira = FakeJira::start(&projects, self.auth).await.expect("fake jira starts");
        for (project, summary) in &self.issues {
            jira.seed_issue(project, summary);
        }
        let dovecot = match &self.mailbox {
            Mailbox::Dovecot => Some(Dovecot::start()),
            Mailbox::DovecotOAuth(url) => Some(Dovecot::start_with_oauth(url)),
            Mailbox::None | Mailbox::Port(_) => None,
        };
        let sink = match &self.smtp {
            Smtp::Sink(args) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Some(Sink::start(crate::free_port(), &args).await)
            }
            Smtp::None | Smtp::Port(_) => None,
        };

        let mut table = config::base(&db.url, &jira.base_url());
        let imap_port = match self.mailbox {
            Mailbox::None => None,
            Mailbox::Dovecot | Mailbox::DovecotOAuth(_) => dovecot.as_ref().map(|d| d.port),
            Mailbox::Port(port) => Some(port),
        };
        if let Some(port) = imap_port {
            config::merge_text(&mut table, &config::mailbox_toml(port));
        }
        let smtp_port = match self.smtp {
            Smtp::None => None,
            Smtp::Sink(_) => sink.as_ref().map(Sink::port),
            Smtp::Port(port) => Some(port),
        };
        if let Some(port) = smtp_port {
            config::merge_text(&mut table, &config::smtp_toml(port));
        }
        let dir_text = dir.path().display().to_string();
        for edit in self.edits {
            match edit {
                Edit::Merge(text) => {
                    let text = text.replace("{dir}", &dir_text).replace("{jira}", &jira.base_url());
                    config::merge_text(&mut table, &text)
                }
                Edit::Set(path, value) => config::set(&mut table, &path, value),
            }
        }
        let text = toml::to_string(&table).expect("test config serializes");
        let settings = Settings::from_toml_with_env(&text, Vec::new())
            .unwrap_or_else(|e| panic!("test settings are invalid: {e}\n{text}"));
        std::fs::write(dir.path().join("mailgate.toml"), &text).expect("write config");
        TestApp {
            built: Default::default(),
            settings,
            clock: std::sync::Mutex::new(self.clock),
            jira,
            mailbox: MemoryMailbox::new(),
            dovecot,
            sink,
            db,
            dir,
        }
    }
}
