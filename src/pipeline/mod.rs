//! The use case: one stored inbound mail to its committed outcome.
//! claim Message-ID → decide → (throttle) → resolve sender → post the issue
//! or comment → attachments → commit → raise the event. Every step resumes
//! from the store after a restart; the mail's state says where it stands.

mod attachments;
mod bounces;
mod create;
mod cut;
mod duplicate;
mod finish;
mod notes;
mod on_issue;
mod people;
pub mod plan;
mod policy;
mod post;
mod preview;
mod refuse;
mod resume;
mod throttle;

use std::sync::Arc;

use crate::classify::{self, Decision, IgnoreReason};
use crate::clock::Clock;
use crate::config::{InboundSettings, JiraFlavor, RoutingSettings};
use crate::domain::{EmailAddress, InboundMessage, IssueKey, MessageId};
use crate::identity::{Resolution, ResolveError, TokenService, resolve_sender};
use crate::jira::{JiraApi, JiraError, JiraUser};
use crate::mime::ParseError;
use crate::notify::from_mail::{self, MailAction};
use crate::queue::RetryPolicy;
use crate::store::{Action, HoldReason, InboundRow, InboundState, LoggedAction, Status, Store, StoreError};

pub use plan::{Plan, SkipReason, Skipped};
use policy::OnIssue;
pub use post::Posted;
use post::Target;
pub use preview::RequestPreview;

/// A mail that was being worked on when the process stopped runs alone
/// next time (see `ingest`); one that stops the process this many times
/// while running alone, with no attempt recorded in between, is
/// dead-lettered at its next start. Three, not one: a stop from outside
/// (a deploy, kill -9, the host) can also land while a suspect runs alone.
const MAX_CRASHES_ALONE: i64 = 3;

/// What processing may do, from the settings.
#[derive(Debug, Clone)]
pub struct Policy {
    pub inbound: InboundSettings,
    pub routing: RoutingSettings,
    /// The reporter of issues whose sender has no account.
    pub reporter: Option<String>,
    pub identity_ttl_secs: i64,
    /// Transient Jira failures: backoff and give-up.
    pub retry: RetryPolicy,
    /// Raise events for our own actions (when notifications are on).
    pub notify_events: bool,
    /// Who is warned of a mail storm.
    pub admins: Vec<EmailAddress>,
    /// How long a permanent bounce of our mail suppresses its recipient.
    pub bounce_suppression_days: u32,
    /// The Jira the requests are built for (`replay --dry-run` shows them).
    pub flavor: JiraFlavor,
}

/// The inbound use case. Built once at start-up from the application
/// context; workers share it.
pub struct Pipeline {
    store: Store,
    jira: Arc<dyn JiraApi>,
    clock: Arc<dyn Clock>,
    /// The workaround user's token, for sender lookup and creation.
    identity: Option<Arc<TokenService>>,
    policy: Policy,
    notes: notes::NoteBuffer,
    /// The highest issue numbers seen per project (the floors of creates).
    floors: resume::KeyFloors,
}

/// What happened to a row in this attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Done {
        action: Action,
        issue: IssueKey,
    },
    Ignored(String),
    Failed(String),
    /// Left pending; tried again later.
    Retry(String),
}

/// A mail parsed once per attempt (by the caller, which also orders mails by it).
pub type Parsed = Result<InboundMessage, ParseError>;

impl Pipeline {
    pub fn new(
        store: Store,
        jira: Arc<dyn JiraApi>,
        clock: Arc<dyn Clock>,
        identity: Option<Arc<TokenService>>,
        policy: Policy,
    ) -> Self {
        Self { store, jira, clock, identity, policy, notes: Default::default(), floors: Default::default() }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Decide without side effects (used by `replay --dry-run` and processing).
    pub async fn decide(&self, msg: &InboundMessage) -> Result<Decision, StoreError> {
        let ids: Vec<MessageId> = msg.in_reply_to.iter().chain(msg.references.iter()).cloned().collect();
        let threads = self.store.threads_for(&ids).await?;
        Ok(classify::decide(msg, &self.policy.inbound.own_addresses, &self.policy.routing, &threads))
    }

    /// What the mail would send to Jira under `decision`.
    pub fn plan<'a>(&self, msg: &'a InboundMessage, decision: &Decision) -> Plan<'a> {
        plan::plan(msg, decision, &self.policy.inbound)
    }

    /// Process one stored mail as far as it goes now. Audit notes not yet
    /// written with a state change are written before this returns.
    pub async fn process(&self, row: &InboundRow, parsed: Parsed) -> Result<RowOutcome, StoreError> {
        let result = self.process_attempt(row, parsed).await;
        let left = self.notes.take(row.id);
        match (self.store.audit_many(&left).await, result) {
            (Err(e), Ok(_)) => Err(e),
            (_, result) => result,
        }
    }

    #[tracing::instrument(skip_all, fields(inbound_id = row.id, mailbox = %row.mailbox, message_id = tracing::field::Empty, issue_key = tracing::field::Empty))]
    async fn process_attempt(&self, row: &InboundRow, parsed: Parsed) -> Result<RowOutcome, StoreError> {
        let msg = match parsed {
            Ok(m) => m,
            Err(e) => return self.fail(row, None, "parse", &format!("cannot parse mail: {e}")).await,
        };
        let Some(mid) = msg.message_id.clone() else {
            return self.fail(row, None, "parse", "no Message-ID").await;
        };
        tracing::Span::current().record("message_id", mid.as_ref());
        let alone = self.store.start_processing(row.id, &mid).await?;
        if alone > MAX_CRASHES_ALONE {
            let why = format!("the process stopped {MAX_CRASHES_ALONE} times while this mail was worked on alone");
            tracing::error!(alone, "mail dead-lettered: {why}");
            return self.fail(row, Some(&mid), "crash", &why).await;
        }
        let mid = match self.claim_identity(row, &msg, &mid).await? {
            duplicate::Identity::Ours(mid) => mid,
            duplicate::Identity::Duplicate => {
                let reason = IgnoreReason::Duplicate.to_string();
                self.finish(row, Status::Ignored, LoggedAction::Ignore, Some(&reason), None, &mid, None).await?;
                return Ok(RowOutcome::Ignored(reason));
            }
        };

        let decision = self.decide(&msg).await?;
        let from = msg.sender().map(|a| a.to_string()).unwrap_or_default();
        self.note(row, Some(&mid), "decide", &format!("from {from}: {}", describe(&decision)));
        let target = match Target::of(&decision) {
            Ok(target) => target,
            Err(reason) => return self.ignore(row, &mid, reason).await,
        };
        let mut detail = match &decision {
            Decision::Comment { matched_by, .. } => format!("reply matched by {matched_by:?}"),
            Decision::Create(t) => format!("routed to project {}", t.project),
            Decision::Ignore(_) => String::new(),
        };
        // The rule's conversation policy, before anything is posted.
        let (mut reopen, mut followup) = (None, None);
        let target = match (target, row.state.posted_issue()) {
            (Target::Comment(issue), None) => match self.policy_effect(row, &msg, &mid, &issue).await? {
                Ok(OnIssue::Comment) => Target::Comment(issue),
                Ok(OnIssue::Reopen(name)) => {
                    reopen = Some(name);
                    Target::Comment(issue)
                }
                Ok(OnIssue::NewIssue { link }) => {
                    detail.push_str(&format!("; a new issue instead of a comment on {issue} (conversation policy)"));
                    followup = link.map(|l| (l, issue));
                    self.new_issue_target(&msg)
                }
                Ok(OnIssue::Refuse(why)) => return self.refuse(row, &msg, &mid, &issue, why).await,
                Err(e) => return self.jira_failed(row, &mid, &e).await,
            },
            (target, _) => target,
        };
        if let Some(outcome) = self.throttled(row, &msg, &mid, &decision).await? {
            return Ok(outcome);
        }

        // Who the issue is for (only for new issues; comments are posted as they are).
        let mut reporter: Option<JiraUser> = None;
        if let (Target::Create { route: target, .. }, Some(from), None) = (&target, &msg.from, row.state.posted_issue())
        {
            let (tokens, now, ttl) = (self.identity.as_deref(), self.clock.now_ms(), self.policy.identity_ttl_secs);
            match resolve_sender(tokens, &self.store, now, ttl, from, target).await {
                Ok(Resolution::User { user, detail: d }) => {
                    self.note(row, Some(&mid), "sender", &d);
                    detail.push_str(&format!("; {d}"));
                    reporter = Some(user);
                }
                Ok(Resolution::DefaultReporter(d)) => {
                    self.note(row, Some(&mid), "sender", &d);
                    detail.push_str(&format!("; {d}"))
                }
                Ok(Resolution::Reject(reason)) => {
                    tracing::info!(%reason, "sender rejected by policy");
                    let logged = LoggedAction::Reject;
                    self.finish(row, Status::Ignored, logged, Some(&reason), None, &mid, Some(&reason)).await?;
                    return Ok(RowOutcome::Ignored(reason));
                }
                Ok(Resolution::Hold(reason)) => {
                    let now = self.clock.now_ms();
                    tracing::warn!(%reason, "mail held");
                    self.note(row, Some(&mid), "sender", &reason);
                    self.store.hold(row.id, HoldReason::Token, &reason, now + finish::HOLD_MS, now).await?;
                    return Ok(RowOutcome::Retry(reason));
                }
                Err(ResolveError::Store(e)) => return Err(e),
                Err(ResolveError::Jira(e)) => return self.jira_failed(row, &mid, &e).await,
            }
        }

        // Step 1: the issue or comment, unless an earlier attempt already made
        // it; with the full text when the body had to be cut.
        let (posted, full_text) = match &row.state {
            InboundState::Posted { action, issue } => {
                let posted = match action {
                    Action::Comment => Posted::Comment { issue: issue.clone(), id: None },
                    Action::Create => Posted::Issue(issue.clone()),
                };
                let reply = matches!(posted, Posted::Comment { .. });
                let directives = matches!(&target, Target::Create { route, .. } if !route.directives.is_empty());
                (posted, self.jira_body(&msg, reply, issue.project(), directives && !reply).full)
            }
            _ => {
                // From here an answer can be lost: the mark is committed first.
                // A create's key floor goes with the mark (the first one stays).
                let mut target = target;
                let mut marked = None;
                if let Target::Create { route, floor } = &mut target {
                    let (known, new) = self.create_floor(row, route.project.as_ref()).await;
                    (*floor, marked) = (Some(known), new);
                }
                if let (Some(name), Target::Comment(issue)) = (&reopen, &target)
                    && let Err(e) = self.reopen(row, &mid, issue, name).await
                {
                    return self.jira_failed(row, &mid, &e).await;
                }
                let notes = self.notes.take(row.id);
                self.store.mark_posting(row.id, target.action(), marked, self.clock.now_ms(), &notes).await?;
                crate::crash::point("before_jira_post");
                let done = match self.post_once(row, &msg, &mid, target, reporter.as_ref(), &mut detail).await {
                    Ok(done) => done,
                    Err(e) => return self.jira_failed(row, &mid, &e).await,
                };
                if let (Some((link, old)), Posted::Issue(new)) = (&followup, &done.0) {
                    self.link_followup(row, &mid, link, new, old).await;
                }
                done
            }
        };
        let key = posted.issue().clone();
        tracing::Span::current().record("issue_key", key.as_ref());
        crate::crash::point("after_jira_post");
        let notes = self.notes.take(row.id);
        self.store.record_posted(row.id, posted.action(), (&key, &mid), self.clock.now_ms(), &notes).await?;
        self.record_conversation(row, &msg, &mid, &posted, reporter.as_ref()).await?;

        // Step 2: attachments, resuming after the last one uploaded.
        let (mut uploads, skipped) = plan::select_attachments(&msg.attachments, &self.policy.inbound);
        // A body cut to Jira's limit goes in full as the last file.
        let full_body = full_text.map(|text| crate::domain::Attachment {
            filename: cut::BODY_FILE.to_string(),
            content_type: "text/plain; charset=utf-8".to_string(),
            data: text.into_bytes().into(),
        });
        if let Some(full) = &full_body {
            detail.push_str(&format!("; text cut to Jira's limit, in full as {}", cut::BODY_FILE));
            uploads.push(full);
        }
        let refused = match self.upload_attachments(row, &mid, &key, &uploads).await? {
            Ok(refused) => refused,
            Err(e) => return self.jira_failed(row, &mid, &e).await,
        };
        if !skipped.is_empty() {
            let names: Vec<String> = skipped.iter().map(|s| format!("{} ({})", s.filename, s.reason)).collect();
            detail.push_str(&format!("; attachments skipped: {}", names.join(", ")));
        }
        if !refused.is_empty() {
            detail.push_str(&format!("; attachments refused by Jira: {}", refused.join(", ")));
        }
        detail.push_str(&format!("; {} attachment(s) uploaded", uploads.len() - refused.len()));
        let action = posted.action();
        self.finish(row, Status::Done, LoggedAction::Jira(action), None, Some(&key), &mid, Some(&detail)).await?;
        self.count_blocked(&skipped).await;
        if self.policy.notify_events {
            let done = match &posted {
                Posted::Issue(key) => MailAction::Created(key),
                Posted::Comment { issue, id } => MailAction::Commented { issue, comment_id: id.as_deref() },
            };
            let marker = self.policy.inbound.reply_marker.as_deref();
            let event = from_mail::event_for_mail(row.id, &msg, &done, reporter.as_ref(), marker);
            from_mail::raise(&self.store, &event, self.clock.now_ms()).await?;
        }
        tracing::info!(action = action.as_str(), issue = %key, "mail processed");
        Ok(RowOutcome::Done { action, issue: key })
    }

    /// Post the issue or comment (after the posting mark). A reply to an
    /// issue that is gone becomes a new issue.
    async fn post_once(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
        target: Target,
        reporter: Option<&JiraUser>,
        detail: &mut String,
    ) -> Result<(Posted, Option<String>), JiraError> {
        let mut body = self.body_for_target(msg, &target);
        let mut result = self.post(row, msg, mid, &target, &body.text, reporter).await;
        if let (Target::Comment(issue), Err(JiraError::NotFound(_))) = (&target, &result) {
            *detail = format!("issue {issue} not found; created a new issue instead");
            let route = classify::route(msg, &self.policy.routing);
            let (floor, new) = self.create_floor(row, route.project.as_ref()).await;
            if let Some(f) = new
                && let Err(e) = self.store.set_post_floor(row.id, f, self.clock.now_ms()).await
            {
                tracing::warn!(error = %e, "could not keep the create's key floor");
            }
            let create = Target::Create { route: Box::new(route), floor: Some(floor) };
            body = self.body_for_target(msg, &create);
            result = self.post(row, msg, mid, &create, &body.text, reporter).await;
        }
        let posted = result?;
        let what = match &posted {
            Posted::Comment { issue, id } => format!("comment {} added to {issue}", id.as_deref().unwrap_or("-")),
            Posted::Issue(key) => format!("issue {key} created (or found from an earlier attempt)"),
        };
        self.note(row, Some(mid), "jira", &what);
        Ok((posted, body.full))
    }

    /// An ignored mail: a bounce of our mail suppresses its recipient, then the outcome.
    async fn ignore(&self, row: &InboundRow, mid: &MessageId, reason: &IgnoreReason) -> Result<RowOutcome, StoreError> {
        if reason.is_bounce() {
            self.suppress_bounced(row, mid).await?;
        }
        let reason = reason.to_string();
        tracing::info!(%reason, "mail ignored");
        self.finish(row, Status::Ignored, LoggedAction::Ignore, Some(&reason), None, mid, None).await?;
        Ok(RowOutcome::Ignored(reason))
    }

    /// One line of the mail's audit trail.
    fn note(&self, row: &InboundRow, mid: Option<&MessageId>, step: &str, detail: &str) {
        self.notes.note(self.clock.now_ms(), row, mid, step, detail);
    }
}

/// The decision in the words of the audit trail.
fn describe(decision: &Decision) -> String {
    match decision {
        Decision::Create(t) => format!("create in {} (issue type {})", t.project, t.issue_type),
        Decision::Comment { issue, matched_by } => format!("comment on {issue}, reply matched by {matched_by:?}"),
        Decision::Ignore(r) => format!("ignore: {r}"),
    }
}
