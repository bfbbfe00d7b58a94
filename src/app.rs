//! Wiring: settings to a running service. Used by `mailgate run` and tests.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::EmailAddress;
use crate::identity::{TokenService, check_expiry};
use crate::ingest;
use crate::jira::{HttpJira, JiraApi};
use crate::mailbox::{ImapConnector, MailConnector};
use crate::notify::catchup::catch_up;
use crate::notify::script::{ScriptLimits, Scripts};
use crate::notify::templates::Templates;
use crate::notify::{Notifier, NotifyOutcome};
use crate::pipeline::Pipeline;
use crate::secrets::{SecretsError, TokenCipher};
use crate::store::Store;
use secrecy::SecretString;

/// The master key from `MAILGATE_MASTER_KEY` or `[secrets] master_key_file`;
/// `None` when neither is given. A given but bad key is an error.
pub fn load_cipher(settings: &Settings) -> Result<Option<TokenCipher>, SecretsError> {
    let env = std::env::var("MAILGATE_MASTER_KEY").ok().filter(|v| !v.trim().is_empty()).map(SecretString::from);
    if env.is_none() && settings.secrets.master_key_file.is_none() {
        return Ok(None);
    }
    TokenCipher::load(env, settings.secrets.master_key_file.as_deref()).map(Some)
}

/// The token service for the workaround user.
pub fn token_service(settings: &Settings, store: Store, clock: Arc<dyn Clock>) -> Result<TokenService, SecretsError> {
    let cipher = load_cipher(settings)?.map(Arc::new);
    Ok(TokenService::new(
        store,
        cipher,
        clock,
        settings.jira.clone(),
        settings.identity.token_auth,
        &settings.identity.warn_days,
    )
    .with_notify(settings.admin.notify.clone()))
}

/// Build the pipeline from settings: store (migrated), Jira client, clock,
/// the workaround token service.
pub async fn build_pipeline(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Pipeline> {
    let store = Store::connect(&settings.database.url).await?;
    let limiter = Arc::new(crate::jira::limit::RateLimiter::new(settings.jira.max_requests_per_sec));
    let jira: Arc<dyn JiraApi> = Arc::new(HttpJira::with_auth(&settings.jira, &settings.jira.auth, limiter.clone())?);
    let tokens = Arc::new(token_service(settings, store.clone(), clock.clone())?.with_limiter(limiter));
    let instance = format!("{}-{}", std::process::id(), clock.now_ms());
    Ok(Pipeline {
        store,
        jira,
        clock,
        inbound: settings.inbound.clone(),
        routing: settings.routing.clone(),
        reporter: settings.jira.default_reporter.clone(),
        retry_base_ms: settings.inbound.retry_base_ms,
        identity: Some(tokens),
        notify_events: settings.smtp.is_some(),
        instance,
        identity_ttl_secs: settings.identity.cache_ttl_secs,
        admins: settings.admin.notify.clone(),
        notes: Default::default(),
    })
}

/// A running service: one task per mailbox.
pub struct Service {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    admin_addr: Option<std::net::SocketAddr>,
}

impl Service {
    pub async fn start(settings: &Settings) -> anyhow::Result<Self> {
        Self::start_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let pipeline = Arc::new(build_pipeline(settings, clock.clone()).await?);
        let tokens = pipeline.identity.clone().ok_or_else(|| anyhow::anyhow!("token service missing"))?;
        // A stored token that this master key cannot open is a start-up error;
        // the stored token is left as it is.
        tokens.check_key().await?;
        let (stop, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for mb in &settings.mailboxes {
            let connector: Arc<dyn MailConnector> = Arc::new(ImapConnector::new(mb)?);
            let poll = Duration::from_secs(mb.poll_interval_secs);
            tasks.spawn(ingest::run_mailbox(pipeline.clone(), connector, poll, rx.clone()));
        }
        if settings.mailboxes.is_empty() {
            tracing::warn!("no mailboxes configured; nothing to watch");
        }
        tasks.spawn(retention_loop(pipeline.store.clone(), clock.clone(), settings.audit.clone(), rx.clone()));
        tasks.spawn(expiry_loop(
            pipeline.store.clone(),
            clock.clone(),
            settings.identity.warn_days.clone(),
            settings.admin.notify.clone(),
            rx.clone(),
        ));
        if let Some(smtp) = &settings.smtp {
            let mailer = Arc::new(crate::outbound::Mailer::new(smtp)?);
            let store = pipeline.store.clone();
            let own: Vec<EmailAddress> =
                settings.inbound.own_addresses.iter().cloned().chain(std::iter::once(smtp.from.clone())).collect();
            let clock = clock.clone();
            let stop = rx.clone();
            tasks.spawn(async move {
                let policy = crate::outbound::RetryPolicy::default();
                crate::outbound::run_outbox(&store, &mailer, clock.as_ref(), &policy, &own, stop).await;
            });
        }
        let notifier = match &settings.smtp {
            Some(_) => Some(Arc::new(build_notifier(settings, &pipeline, clock.clone())?)),
            None => None,
        };
        if let Some(n) = &notifier {
            tasks.spawn(notify_loop(n.clone(), rx.clone()));
            let every = Duration::from_secs(settings.notify.catchup_interval_secs.max(10));
            tasks.spawn(catchup_loop(n.clone(), every, settings.notify.catchup_max_issues, rx.clone()));
            if settings.notify.webhook_secret.is_none() {
                tracing::warn!("[notify] webhook_secret is not set: webhook calls are accepted unsigned");
            }
        }
        let mut admin_addr = None;
        if let (Some(listen), Some(key)) = (&settings.admin.listen, &settings.admin.api_key) {
            let state = crate::http::AdminState {
                tokens: tokens.clone(),
                store: pipeline.store.clone(),
                clock: clock.clone(),
                api_key: Arc::new(key.clone()),
                notifier: notifier.clone(),
                webhook_secret: settings.notify.webhook_secret.clone().map(Arc::new),
            };
            let (addr, handle) = crate::http::serve(listen, state, rx.clone()).await?;
            admin_addr = Some(addr);
            tasks.spawn(async move {
                let _ = handle.await;
            });
        }
        Ok(Self { stop, tasks, admin_addr })
    }

    /// Where the admin API listens, when configured.
    pub fn admin_addr(&self) -> Option<std::net::SocketAddr> {
        self.admin_addr
    }

    /// Ask every loop to stop and wait for them.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The notifier: scripts, templates, the workaround token for groups.
pub fn build_notifier(settings: &Settings, pipeline: &Pipeline, clock: Arc<dyn Clock>) -> anyhow::Result<Notifier> {
    let limits = ScriptLimits {
        max_operations: settings.notify.script_max_operations,
        timeout: Duration::from_millis(settings.notify.script_timeout_ms),
        ..ScriptLimits::default()
    };
    let scripts = match &settings.notify.scripts_dir {
        Some(dir) => Some(Arc::new(Scripts::load(std::path::Path::new(dir), limits)?)),
        None => None,
    };
    let templates = Templates::load(settings.notify.templates_dir.as_deref().map(std::path::Path::new))?;
    let mut own = settings.inbound.own_addresses.clone();
    if let Some(smtp) = &settings.smtp {
        own.push(smtp.from.clone());
    }
    Ok(Notifier::new(
        pipeline.store.clone(),
        pipeline.jira.clone(),
        scripts,
        pipeline.identity.clone(),
        templates,
        clock,
        own,
        settings.jira.base_url.clone(),
        settings.inbound.reply_marker.clone(),
        settings.notify.group_cache_ttl_secs,
    ))
}

/// Turn queued events into outbox mails.
async fn notify_loop(n: Arc<Notifier>, mut stop: watch::Receiver<bool>) {
    loop {
        match n.try_notify_one().await {
            Ok(NotifyOutcome::Empty) => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.changed() => return,
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "notification worker: store error");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Catch up with missed webhooks at start and every `every`.
async fn catchup_loop(n: Arc<Notifier>, every: Duration, max: usize, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = catch_up(&n, max).await {
            tracing::warn!(error = %e, "catch-up search failed; trying again later");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Apply the audit retention at start and once a day.
async fn retention_loop(
    store: Store,
    clock: Arc<dyn Clock>,
    audit: crate::config::AuditSettings,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match store.enforce_retention(audit.max_entries, audit.max_age_days * 86_400_000, clock.now_ms()).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "audit retention applied"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "audit retention failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(86_400)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Check token expiry at start and every hour.
async fn expiry_loop(
    store: Store,
    clock: Arc<dyn Clock>,
    warn_days: Vec<i64>,
    admins: Vec<EmailAddress>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = check_expiry(&store, clock.as_ref(), &warn_days, &admins).await {
            tracing::error!(error = %e, "token expiry check failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
    }
}
