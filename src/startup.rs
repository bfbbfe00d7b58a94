//! Start-up: settings to a running service. `Application::build` wires the
//! adapters once ([`AppContext`]) and the use cases over them; `start`
//! spawns one task per mailbox, the queue workers, the periodic jobs and
//! the admin listener. Used by `mailgate run`, the commands and the tests.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::context::AppContext;
use crate::domain::EmailAddress;
use crate::identity::check_expiry;
use crate::ingest::{self, Ingest};
use crate::mailbox::{ImapConnector, MailConnector};
use crate::notify::catchup::catch_up;
use crate::notify::script::{ScriptLimits, Scripts};
use crate::notify::templates::Templates;
use crate::notify::{Notifier, NotifyOutcome};
use crate::oauth;
use crate::outbound::{Mailer, run_outbox};
use crate::pipeline::{Pipeline, Policy};
use crate::queue::{RetryPolicy, Step, every, run_worker};

/// The wired application, not yet running.
pub struct Application {
    settings: Settings,
    context: AppContext,
    pipeline: Arc<Pipeline>,
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let context = AppContext::build(settings, clock).await?;
        let pipeline = Arc::new(Pipeline::new(
            context.store.clone(),
            context.jira.clone(),
            context.clock.clone(),
            Some(context.tokens.clone()),
            pipeline_policy(settings),
        ));
        Ok(Self { settings: settings.clone(), context, pipeline })
    }

    pub fn context(&self) -> &AppContext {
        &self.context
    }

    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// The inbound worker over this application's pipeline.
    pub fn ingest(&self) -> Ingest {
        Ingest::new(&self.context, self.pipeline.clone())
    }

    /// The notifier, when SMTP is configured.
    pub fn notifier(&self) -> anyhow::Result<Option<Notifier>> {
        match &self.settings.smtp {
            Some(_) => Ok(Some(build_notifier(&self.settings, &self.context)?)),
            None => Ok(None),
        }
    }

    /// Spawn every loop; returns once they run.
    pub async fn start(self) -> anyhow::Result<Running> {
        let Self { settings, context: ctx, pipeline } = self;
        // A stored token that this master key cannot open is a start-up error;
        // the stored token is left as it is.
        ctx.tokens.check_key().await?;
        let (stop, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let ingest = Arc::new(Ingest::new(&ctx, pipeline));
        let cipher = crate::context::load_cipher(&settings)?.map(Arc::new);
        for mb in &settings.mailboxes {
            let mut imap = ImapConnector::new(mb)?;
            if let Some(client) = mb.oauth_client() {
                let grant = oauth::mailbox_grant(&mb.name);
                let tokens = oauth::tokens_for(&client, &grant, ctx.store.clone(), cipher.clone(), ctx.clock.clone());
                let bearer = mb.oauth().is_some_and(|o| o.mechanism == crate::config::SaslMechanism::Oauthbearer);
                imap = imap.with_oauth(tokens, bearer);
            }
            let connector: Arc<dyn MailConnector> = Arc::new(imap);
            let poll = Duration::from_secs(mb.poll_interval_secs);
            tasks.spawn(ingest::run_mailbox(ingest.clone(), connector, poll, rx.clone()));
        }
        if settings.mailboxes.is_empty() {
            tracing::warn!("no mailboxes configured; nothing to watch");
        }
        let (store, clock, audit) = (ctx.store.clone(), ctx.clock.clone(), settings.audit.clone());
        tasks.spawn(every("audit retention", Duration::from_secs(86_400), rx.clone(), move || {
            let (store, clock, audit) = (store.clone(), clock.clone(), audit.clone());
            async move {
                let n =
                    store.enforce_retention(audit.max_entries, audit.max_age_days * 86_400_000, clock.now_ms()).await?;
                if n > 0 {
                    tracing::info!(deleted = n, "audit retention applied");
                }
                Ok::<_, crate::store::StoreError>(())
            }
        }));
        let (store, clock) = (ctx.store.clone(), ctx.clock.clone());
        let (warn_days, admins) = (settings.identity.warn_days.clone(), settings.admin.notify.clone());
        tasks.spawn(every("token expiry", Duration::from_secs(3600), rx.clone(), move || {
            let (store, clock, warn_days, admins) = (store.clone(), clock.clone(), warn_days.clone(), admins.clone());
            async move { check_expiry(&store, clock.as_ref(), &warn_days, &admins).await.map(|_| ()) }
        }));
        // A refused OAuth grant warns the admins once per revocation; a
        // refresh token near its known expiry, once per warn_days threshold.
        let (store, clock, admins) = (ctx.store.clone(), ctx.clock.clone(), settings.admin.notify.clone());
        let warn_days = settings.identity.warn_days.clone();
        tasks.spawn(every("oauth grants", Duration::from_secs(15), rx.clone(), move || {
            let (store, clock, admins, days) = (store.clone(), clock.clone(), admins.clone(), warn_days.clone());
            async move { crate::identity::check_grants(&store, &admins, &days, clock.now_ms()).await.map(|_| ()) }
        }));
        let notifier = match &settings.smtp {
            Some(smtp) => {
                let mailer = Arc::new(match smtp.oauth_client() {
                    Some(client) => {
                        let tokens = oauth::tokens_for(
                            &client,
                            oauth::SMTP_GRANT,
                            ctx.store.clone(),
                            cipher.clone(),
                            ctx.clock.clone(),
                        );
                        Mailer::with_oauth(smtp, tokens)?
                    }
                    None => Mailer::new(smtp)?,
                });
                let own: Vec<EmailAddress> =
                    settings.inbound.own_addresses.iter().cloned().chain(std::iter::once(smtp.from.clone())).collect();
                let (store, clock, me) = (ctx.store.clone(), ctx.clock.clone(), ctx.instance.clone());
                let stop = rx.clone();
                tasks.spawn(async move {
                    let policy = RetryPolicy::default();
                    run_outbox(&store, &mailer, clock.as_ref(), &policy, &own, &me, stop).await;
                });
                Some(Arc::new(build_notifier(&settings, &ctx)?))
            }
            None => None,
        };
        if let Some(n) = &notifier {
            let worker = n.clone();
            tasks.spawn(run_worker("notifications", Duration::from_millis(500), rx.clone(), move || {
                let n = worker.clone();
                async move {
                    Ok::<_, crate::store::StoreError>(match n.try_notify_one().await? {
                        NotifyOutcome::Empty => Step::Idle,
                        _ => Step::Worked,
                    })
                }
            }));
            let period = Duration::from_secs(settings.notify.catchup_interval_secs.max(10));
            let (catchup, max) = (n.clone(), settings.notify.catchup_max_issues);
            tasks.spawn(every("webhook catch-up", period, rx.clone(), move || {
                let n = catchup.clone();
                async move { catch_up(&n, max).await.map(|_| ()) }
            }));
            if settings.notify.webhook_secret.is_none() {
                tracing::warn!("[notify] webhook_secret is not set: webhook calls are refused (503) until it is");
            }
        }
        let mut admin_addr = None;
        if let (Some(listen), Some(key)) = (&settings.admin.listen, &settings.admin.api_key) {
            let state = crate::http::AdminState::new(ctx.tokens.clone(), ctx.store.clone(), ctx.clock.clone(), key)
                .map_err(|e| anyhow::anyhow!("config key `admin.api_key`: {e}"))?
                .with_webhooks(notifier.clone(), settings.notify.webhook_secret.clone());
            let tls = settings.admin.tls();
            let (addr, handle) = crate::http::serve(listen, tls.as_ref(), state, rx.clone()).await?;
            admin_addr = Some(addr);
            tasks.spawn(async move {
                let _ = handle.await;
            });
        }
        Ok(Running { stop, tasks, admin_addr })
    }
}

/// A running service.
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    admin_addr: Option<std::net::SocketAddr>,
}

impl Running {
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

/// What the pipeline may do, from the settings.
pub fn pipeline_policy(settings: &Settings) -> Policy {
    let inbound = settings.inbound.clone();
    Policy {
        retry: RetryPolicy::new(inbound.retry_base_ms, i64::from(inbound.max_attempts)),
        inbound,
        routing: settings.routing.clone(),
        reporter: settings.jira.default_reporter.clone(),
        identity_ttl_secs: settings.identity.cache_ttl_secs,
        notify_events: settings.smtp.is_some(),
        admins: settings.admin.notify.clone(),
        bounce_suppression_days: settings.notify.bounce_suppression_days,
        flavor: settings.jira.flavor,
    }
}

/// The sandbox limits of the notification scripts, from `[notify]`; the
/// same for `run` and `script test`.
pub fn script_limits(settings: &Settings) -> ScriptLimits {
    ScriptLimits {
        max_operations: settings.notify.script_max_operations,
        timeout: Duration::from_millis(settings.notify.script_timeout_ms),
        max_memory_bytes: settings.notify.script_max_memory_bytes,
        ..ScriptLimits::default()
    }
}

/// The notifier: scripts, templates, the workaround token for groups.
pub fn build_notifier(settings: &Settings, ctx: &AppContext) -> anyhow::Result<Notifier> {
    let limits = script_limits(settings);
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
        ctx.store.clone(),
        ctx.jira.clone(),
        scripts,
        Some(ctx.tokens.clone()),
        templates,
        ctx.clock.clone(),
        own,
        settings.jira.base_url.clone(),
        settings.inbound.reply_marker.clone(),
        settings.notify.group_cache_ttl_secs,
    )
    .with_instance(ctx.instance.clone())
    .with_service_desks(service_desk_projects(settings))
    .with_routing(settings.routing.clone())
    .with_merge_window(std::time::Duration::from_secs(settings.notify.merge_window_secs))
    .with_attachment_cap(settings.notify.attachment_max_bytes))
}

/// The projects routing sends to as JSM service desks.
fn service_desk_projects(settings: &Settings) -> Vec<String> {
    let routing = &settings.routing;
    let mut out: Vec<String> = routing
        .rules
        .iter()
        .map(|r| &r.target)
        .chain(std::iter::once(&routing.default))
        .filter(|t| t.service_desk.is_some())
        .map(|t| t.project.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}
