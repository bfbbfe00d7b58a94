//! From event to outbox: recipients (script, else defaults), group
//! expansion through the workaround token, templates, one outbox row per
//! recipient. Events are queued durably and processed by a worker; every
//! step is idempotent, so a restart or a retried webhook sends nothing twice.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use super::customers;
use super::error::NotifyError;
use super::event::{Event, EventKind, Origin, Person, Visibility};
use super::script::{ScriptOutcome, Scripts};
use super::templates::{Rendered, Templates};
use crate::clock::Clock;
use crate::config::RoutingSettings;
use crate::domain::{EmailAddress, IssueKey, MessageId};
use crate::identity::TokenService;
use crate::jira::JiraApi;
use crate::outbound::outbox_message_id;
use crate::queue::{InstanceId, RetryPolicy};
use crate::store::{Conversation, NewOutgoing, Store, StoreError};

/// Cached members of a group or role: (fetched at, addresses, groups).
type Members = (i64, Vec<String>, Vec<String>);

pub struct Notifier {
    pub store: Store,
    pub jira: Arc<dyn JiraApi>,
    pub scripts: Option<Arc<Scripts>>,
    pub tokens: Option<Arc<TokenService>>,
    pub templates: Templates,
    pub clock: Arc<dyn Clock>,
    /// Never notified (loop guard).
    pub own: Vec<EmailAddress>,
    pub jira_base: String,
    pub reply_marker: Option<String>,
    pub group_ttl_secs: i64,
    /// Group and role members: key to (fetched at, addresses, groups).
    groups: Mutex<HashMap<String, Members>>,
    /// This process, as the owner of the events it claims.
    instance: InstanceId,
    /// Projects that are JSM service desks: a comment's visibility there is
    /// read from the JSM API before anyone is mailed.
    service_desks: Vec<String>,
    /// The rules, for each project's conversation policy.
    routing: Option<RoutingSettings>,
    /// Mails of one issue to one recipient within this time go out as one.
    merge_window_ms: i64,
    /// An agent's file larger than this is linked, not attached.
    pub(super) attachment_max_bytes: u64,
    /// The account mailgate posts as: its own uploads are not mailed back.
    pub(super) own_account: std::sync::OnceLock<Option<String>>,
}

/// Events whose recipients cannot be worked out yet: 5 s doubling to 15 min, 20 attempts.
const EVENT_RETRY: RetryPolicy =
    RetryPolicy { base_ms: 5_000, max_ms: crate::queue::retry::MAX_DELAY_MS, max_attempts: 20 };

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyOutcome {
    /// The event's mails are queued (how many recipients).
    Queued {
        event_id: String,
        recipients: usize,
    },
    /// Left pending; tried again later.
    Retry(String),
    Empty,
}

impl Notifier {
    #[expect(clippy::too_many_arguments, reason = "wiring; every field is named at the one call site")]
    pub fn new(
        store: Store,
        jira: Arc<dyn JiraApi>,
        scripts: Option<Arc<Scripts>>,
        tokens: Option<Arc<TokenService>>,
        templates: Templates,
        clock: Arc<dyn Clock>,
        own: Vec<EmailAddress>,
        jira_base: String,
        reply_marker: Option<String>,
        group_ttl_secs: i64,
    ) -> Self {
        let instance = InstanceId::new(clock.as_ref());
        Self {
            instance,
            store,
            jira,
            scripts,
            tokens,
            templates,
            clock,
            own,
            jira_base,
            reply_marker,
            group_ttl_secs,
            groups: Mutex::new(HashMap::new()),
            service_desks: Vec::new(),
            routing: None,
            merge_window_ms: 0,
            attachment_max_bytes: 5 * 1024 * 1024,
            own_account: std::sync::OnceLock::new(),
        }
    }

    /// Attach an agent's files up to this size each; link bigger ones.
    pub fn with_attachment_cap(mut self, max_bytes: u64) -> Self {
        self.attachment_max_bytes = max_bytes;
        self
    }

    /// The routing rules, whose conversation policies say which changes the
    /// requester and participants hear of.
    pub fn with_routing(mut self, routing: RoutingSettings) -> Self {
        self.routing = Some(routing);
        self
    }

    /// Hold each notification this long so that others of the same issue
    /// to the same recipient go out with it as one mail.
    pub fn with_merge_window(mut self, window: std::time::Duration) -> Self {
        self.merge_window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// The projects that are JSM service desks.
    pub fn with_service_desks(mut self, projects: Vec<String>) -> Self {
        self.service_desks = projects;
        self
    }

    /// Claim events as this process (the one id of the application).
    pub fn with_instance(mut self, instance: InstanceId) -> Self {
        self.instance = instance;
        self
    }

    /// Queue an event (idempotent by its id). True when it is new.
    pub async fn queue(&self, event: &Event) -> Result<bool, StoreError> {
        super::from_mail::raise(&self.store, event, self.clock.now_ms()).await
    }

    /// Process the next due event.
    pub async fn try_notify_one(&self) -> Result<NotifyOutcome, StoreError> {
        let now = self.clock.now_ms();
        let Some(row) = self.store.next_event(&self.instance, now).await? else { return Ok(NotifyOutcome::Empty) };
        let mut event: Event = match serde_json::from_str(&row.payload) {
            Ok(e) => e,
            Err(e) => {
                let text = e.to_string();
                self.store.retry_event(&row.id, &NotifyError::Payload(e).to_string(), now, true, now).await?;
                return Ok(NotifyOutcome::Retry(text));
            }
        };
        match self.recipients(&mut event).await {
            Ok(recipients) => {
                let conversation = self.store.conversation(&event.issue_key).await?.unwrap_or_default();
                for r in &recipients {
                    self.enqueue(&event, r, &conversation).await?;
                }
                self.store.finish_event(&row.id, recipients.len() as i64, self.clock.now_ms()).await?;
                tracing::info!(event = %row.id, recipients = recipients.len(), "notifications queued");
                Ok(NotifyOutcome::Queued { event_id: row.id, recipients: recipients.len() })
            }
            Err(error) => {
                let error = error.to_string();
                let delay = EVENT_RETRY.delay_ms(row.attempts);
                let give_up = EVENT_RETRY.gives_up(row.attempts);
                tracing::warn!(event = %row.id, %error, "event not notified yet; will retry");
                self.store.retry_event(&row.id, &error, now + delay, give_up, now).await?;
                Ok(NotifyOutcome::Retry(error))
            }
        }
    }

    /// Drain: process events until none is due.
    pub async fn drain(&self) -> Result<usize, StoreError> {
        let mut n = 0;
        while let NotifyOutcome::Queued { .. } | NotifyOutcome::Retry(_) = self.try_notify_one().await? {
            n += 1;
            if n > 10_000 {
                break;
            }
        }
        Ok(n)
    }

    /// Who gets mail for this event. `Err` means "try later" (e.g. a group
    /// could not be resolved); a failing script is not an error: it falls
    /// back to the defaults.
    async fn recipients(&self, event: &mut Event) -> Result<Vec<String>, NotifyError> {
        // Privacy before anything else, whatever a script would say.
        if let Some(why) = self.restricted(event).await? {
            tracing::info!(event = %event.id, "the comment is {why}: mailed to nobody");
            return Ok(Vec::new());
        }
        if event.watchers.is_empty()
            && let Ok(key) = IssueKey::parse(&event.issue_key)
        {
            match self.jira.watchers(&key).await {
                Ok(ws) => {
                    event.watchers = ws
                        .into_iter()
                        .map(|u| Person {
                            account_id: u.account_id,
                            name: u.name,
                            display_name: u.display_name,
                            email: u.email,
                        })
                        .collect()
                }
                Err(e) if e.is_transient() => return Err(NotifyError::Watchers(e)),
                Err(e) => tracing::warn!(issue = %event.issue_key, error = %e, "cannot read watchers"),
            }
        }
        self.gather_files(event).await?;
        // The requester and participants, whether or not Jira knows them.
        event.customers = customers::of(&self.store.issue_people(&event.issue_key).await?);
        let hears = match &self.routing {
            Some(routing) => customers::hear(event, customers::policy_for(routing, &event.project)),
            None => customers::hear(event, &Default::default()),
        };
        let outcome = match self.run_script(event).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(event = %event.id, error = %e, "notification script failed; using the default recipients");
                None
            }
        };
        let mut set: BTreeSet<String> = BTreeSet::new();
        match outcome {
            Some(ScriptOutcome { skip: true, .. }) => {}
            Some(o) => {
                set.extend(o.users.iter().cloned());
                for g in &o.groups {
                    set.extend(self.group_members(g).await?);
                }
                for role in &o.roles {
                    let (emails, groups) = self.role_members(&event.project, role).await?;
                    set.extend(emails);
                    for g in &groups {
                        set.extend(self.group_members(g).await?);
                    }
                }
                for r in &o.removed {
                    set.remove(r);
                }
                customers::add(&mut set, event, hears, &o.removed);
            }
            // A failing script: the same defaults as when there is no script.
            None => {
                set.extend(ScriptOutcome::defaults_for(event).users);
                customers::add(&mut set, event, hears, &[]);
            }
        }
        if event.origin == Origin::Mail
            && event.kind == EventKind::IssueCreated
            && let Some(sender) = &event.mail_sender
        {
            // The acknowledgement to the person who wrote the mail.
            set.insert(sender.clone());
        }
        let mut out = Vec::new();
        for r in set {
            let Ok(addr) = EmailAddress::parse(&r) else {
                tracing::warn!(recipient = %r, "not an email address; skipped");
                continue;
            };
            if self.own.contains(&addr) {
                continue;
            }
            if self.store.is_bouncing(addr.as_ref(), self.clock.now_ms()).await? {
                tracing::info!(recipient = %addr, "address is bouncing; not notified");
                continue;
            }
            out.push(addr.to_string());
        }
        Ok(out)
    }

    /// Why the event's comment must not be mailed, if it must not: an
    /// internal note or a comment restricted to a group or role is mailed to
    /// nobody (mailgate cannot tell who is inside a role; nobody outside may
    /// read it). On a service desk the JSM API has the last word, as the
    /// webhook's `jsdPublic` has been seen `true` for internal notes
    /// (jira-facts.md); when it cannot say, the comment is not mailed.
    async fn restricted(&self, event: &Event) -> Result<Option<String>, NotifyError> {
        let Some(c) = &event.comment else { return Ok(None) };
        if event.origin == Origin::Mail {
            return Ok(None); // the customer's own mail, posted public
        }
        if c.visibility != Visibility::Public {
            return Ok(Some(c.visibility.to_string()));
        }
        if !self.service_desks.contains(&event.project) {
            return Ok(None);
        }
        let Ok(key) = IssueKey::parse(&event.issue_key) else { return Ok(Some("on an unknown issue".into())) };
        match self.jira.request_comment_public(&key, &c.id).await {
            Ok(Some(false)) => Ok(Some(Visibility::Internal.to_string())),
            Ok(_) => Ok(None),
            Err(e) if e.is_transient() => Err(NotifyError::Jira { what: "the comment's visibility".into(), source: e }),
            Err(e) => Ok(Some(format!("of unknown visibility ({e})"))),
        }
    }

    /// The recipients script's answer; `None` without a script.
    async fn run_script(&self, event: &Event) -> Result<Option<ScriptOutcome>, NotifyError> {
        let Some(scripts) = self.scripts.clone() else { return Ok(None) };
        let ev = event.clone();
        let outcome = tokio::task::spawn_blocking(move || scripts.recipients(&ev)).await;
        Ok(Some(outcome.map_err(NotifyError::ScriptPanic)??))
    }

    /// Cached (addresses, groups) under `key` if fresh.
    fn cached(&self, key: &str) -> Option<(Vec<String>, Vec<String>)> {
        let now = self.clock.now_ms();
        let cache = self.groups.lock().ok()?;
        let (at, emails, groups) = cache.get(key)?;
        (now - at < self.group_ttl_secs * 1000).then(|| (emails.clone(), groups.clone()))
    }

    fn remember(&self, key: &str, emails: &[String], groups: &[String]) {
        if let Ok(mut cache) = self.groups.lock() {
            cache.insert(key.to_string(), (self.clock.now_ms(), emails.to_vec(), groups.to_vec()));
        }
    }

    /// The workaround user's client for `what`, or why the event waits.
    async fn identity(&self, what: &str) -> Result<(Arc<dyn crate::jira::IdentityApi>, String), NotifyError> {
        let tokens = self.tokens.as_ref().ok_or_else(|| NotifyError::NoToken { what: what.to_string() })?;
        tokens.client().await.map_err(NotifyError::Held)
    }

    /// A rejected token is reported and the event held; a missing group or
    /// role counts as empty; other failures are retried later.
    async fn settle<T: Default>(
        &self,
        what: &str,
        token_id: &str,
        r: Result<T, crate::jira::JiraError>,
    ) -> Result<T, NotifyError> {
        use crate::jira::JiraError;
        match r {
            Ok(v) => Ok(v),
            Err(e @ (JiraError::Unauthorized | JiraError::Forbidden(_))) => {
                if let Some(tokens) = &self.tokens {
                    let _ = tokens.report_rejection(token_id, &e).await;
                }
                Err(NotifyError::Rejected(e))
            }
            Err(JiraError::NotFound(m)) => {
                tracing::warn!(what, error = %m, "not found in Jira; no recipients added");
                Ok(T::default())
            }
            Err(source) => Err(NotifyError::Jira { what: what.to_string(), source }),
        }
    }

    /// A project role's user addresses and groups, cached for the TTL.
    async fn role_members(&self, project: &str, role: &str) -> Result<(Vec<String>, Vec<String>), NotifyError> {
        let key = format!("role:{project}:{role}");
        if let Some(hit) = self.cached(&key) {
            return Ok(hit);
        }
        let what = format!("role {role} of {project}");
        let (client, token_id) = self.identity(&what).await?;
        let (emails, groups) = self.settle(&what, &token_id, client.role_actors(project, role).await).await?;
        let emails: Vec<String> = emails.into_iter().map(|e| e.to_lowercase()).collect();
        self.remember(&key, &emails, &groups);
        Ok((emails, groups))
    }

    /// Member addresses of a group, every page, cached for the TTL.
    async fn group_members(&self, group: &str) -> Result<Vec<String>, NotifyError> {
        let key = format!("group:{group}");
        if let Some((emails, _)) = self.cached(&key) {
            return Ok(emails);
        }
        let what = format!("group {group}");
        let (client, token_id) = self.identity(&what).await?;
        let members = self.settle(&what, &token_id, client.group_member_emails(group).await).await?;
        let members: Vec<String> = members.into_iter().map(|m| m.to_lowercase()).collect();
        self.remember(&key, &members, &[]);
        Ok(members)
    }

    /// One outbox row: threaded under the recipient's own latest mail on the
    /// issue (else the issue's), answered to the mailbox the request came in on.
    async fn enqueue(&self, event: &Event, recipient: &str, conversation: &Conversation) -> Result<(), StoreError> {
        let rendered = match self.render(event) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(event = %event.id, error = %e, "template failed; mail not sent");
                return Ok(());
            }
        };
        let dedupe = format!("event:{}:{recipient}", event.id);
        let message_id = outbox_message_id(&dedupe);
        let own_thread = event.customers.iter().find(|c| c.email == recipient).and_then(|c| c.last_message_id.clone());
        let thread = own_thread.or_else(|| conversation.last_message_id.clone());
        let m = NewOutgoing {
            dedupe_key: &dedupe,
            kind: event.kind.as_str(),
            recipient,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: Some(&rendered.html),
            message_id: &message_id,
            in_reply_to: thread.as_deref(),
            issue_key: Some(&event.issue_key),
            reply_to: conversation.reply_to.as_deref(),
            event_id: Some(&event.id),
        };
        let now = self.clock.now_ms();
        self.store.enqueue_merging(&m, now, self.merge_window_ms).await?;
        // Replies to this mail by In-Reply-To find the issue.
        if let (Ok(mid), Ok(key)) = (MessageId::parse(&message_id), IssueKey::parse(&event.issue_key)) {
            self.store.link_thread(&mid, &key, self.clock.now_ms()).await?;
        }
        Ok(())
    }

    fn render(&self, event: &Event) -> Result<Rendered, NotifyError> {
        Ok(self.templates.render(event, &self.jira_base, self.reply_marker.as_deref())?)
    }
}
