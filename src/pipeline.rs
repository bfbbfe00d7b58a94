//! The use case: one stored inbound mail to its committed outcome.
//! parse → claim Message-ID → decide → create issue | add comment →
//! attachments → commit. Every step resumes from the store after a restart.

use std::sync::Arc;

use crate::classify::{self, Decision, IgnoreReason};
use crate::clock::Clock;
use crate::config::{InboundSettings, RouteTarget, RoutingSettings};
use crate::domain::{Attachment, InboundMessage, IssueKey, MessageId};
use crate::identity::{Resolution, ResolveError, TokenService, known_users, resolve_sender};
use crate::jira::{JiraApi, JiraError, JiraUser, NewIssue, NewRequest, Upload};
use crate::mime;
use crate::store::{Finish, InboundRow, PendingNote, Status, Store, StoreError};

/// Everything processing needs, shared by all mailbox loops.
pub struct Pipeline {
    pub store: Store,
    pub jira: Arc<dyn JiraApi>,
    pub clock: Arc<dyn Clock>,
    pub inbound: InboundSettings,
    pub routing: RoutingSettings,
    pub reporter: Option<String>,
    /// First retry delay; doubles per attempt up to 15 minutes.
    pub retry_base_ms: i64,
    /// The workaround user's token, for sender lookup and creation.
    pub identity: Option<Arc<TokenService>>,
    pub identity_ttl_secs: i64,
    /// Admin addresses, told of mail storms.
    pub admins: Vec<crate::domain::EmailAddress>,
    /// Raise events for our own actions (when notifications are on).
    pub notify_events: bool,
    /// This process, as the owner of the mails it claims.
    pub instance: String,
    /// Audit notes of mails being worked on, written with each mail's next
    /// state change (one commit instead of one per note).
    pub(crate) notes: std::sync::Mutex<std::collections::HashMap<i64, Vec<PendingNote>>>,
}

/// What happened to a row in this attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Done {
        action: &'static str,
        issue: IssueKey,
    },
    Ignored(String),
    Failed(String),
    /// Left pending; tried again later.
    Retry(String),
}

/// An attachment that is not uploaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub filename: String,
    pub reason: String,
}

impl Pipeline {
    /// The attachments to upload, and those skipped by size or name policy.
    pub fn select_attachments<'a>(&self, all: &'a [Attachment]) -> (Vec<&'a Attachment>, Vec<Skipped>) {
        let mut keep = Vec::new();
        let mut skipped = Vec::new();
        for a in all {
            let lower = a.filename.to_lowercase();
            let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
            let reason = if a.data.len() as u64 > self.inbound.max_attachment_bytes {
                Some(format!("larger than {} bytes", self.inbound.max_attachment_bytes))
            } else if self
                .inbound
                .blocked_extensions
                .iter()
                .any(|b| b.trim_start_matches('.').eq_ignore_ascii_case(ext))
            {
                Some(format!("extension .{ext} is blocked"))
            } else if self.inbound.blocked_filenames.iter().any(|b| b.eq_ignore_ascii_case(&a.filename)) {
                Some("file name is blocked".to_string())
            } else {
                None
            };
            match reason {
                Some(reason) => skipped.push(Skipped { filename: a.filename.clone(), reason }),
                None => keep.push(a),
            }
        }
        (keep, skipped)
    }

    /// Text of a new issue's description or a comment.
    pub fn body_for(&self, msg: &InboundMessage, decision: &Decision, skipped: &[Skipped]) -> String {
        let text = match decision {
            Decision::Comment { .. } => classify::strip_quoted(&msg.text, self.inbound.reply_marker.as_deref()),
            _ => msg.text.trim().to_string(),
        };
        let mut out = String::new();
        if let Some(from) = &msg.from {
            match &from.name {
                Some(name) => out.push_str(&format!("From: {name} <{}>\n\n", from.address)),
                None => out.push_str(&format!("From: {}\n\n", from.address)),
            }
        }
        out.push_str(if text.is_empty() { "(no text)" } else { &text });
        if !skipped.is_empty() {
            out.push_str("\n\nAttachments not uploaded:");
            for s in skipped {
                out.push_str(&format!("\n- {} ({})", s.filename, s.reason));
            }
        }
        out
    }

    /// Decide without side effects (used by `replay --dry-run` and processing).
    pub async fn decide(&self, msg: &InboundMessage) -> Result<Decision, StoreError> {
        let ids: Vec<MessageId> = msg.in_reply_to.iter().chain(msg.references.iter()).cloned().collect();
        let threads = self.store.threads_for(&ids).await?;
        Ok(classify::decide(msg, &self.inbound.own_addresses, &self.routing, &threads))
    }

    fn new_issue(
        &self,
        target: &RouteTarget,
        msg: &InboundMessage,
        description: String,
        reporter: Option<&JiraUser>,
    ) -> NewIssue {
        NewIssue {
            project: target.project.to_string(),
            issue_type: target.issue_type.clone(),
            summary: classify::summary(&msg.subject),
            description,
            labels: target.labels.clone(),
            components: target.components.clone(),
            reporter: reporter.and_then(JiraUser::id).map(String::from).or_else(|| self.reporter.clone()),
            source_message_id: msg.message_id.as_ref().map(|m| m.to_string()),
        }
    }

    /// Process one stored mail as far as it goes now. Audit notes not yet
    /// written with a state change are written before this returns.
    pub async fn process(&self, row: &InboundRow) -> Result<RowOutcome, StoreError> {
        let result = self.process_attempt(row).await;
        let left = self.take_notes(row.id);
        match (self.store.audit_many(&left).await, result) {
            (Err(e), Ok(_)) => Err(e),
            (_, result) => result,
        }
    }

    #[tracing::instrument(skip_all, fields(inbound_id = row.id, mailbox = %row.mailbox, message_id = tracing::field::Empty, issue_key = tracing::field::Empty))]
    async fn process_attempt(&self, row: &InboundRow) -> Result<RowOutcome, StoreError> {
        let now = self.clock.now_ms();
        let msg = match mime::parse(&row.raw) {
            Ok(m) => m,
            Err(e) => {
                let error = format!("cannot parse mail: {e}");
                return self.fail(row, None, "parse", &error).await;
            }
        };
        let Some(mid) = msg.message_id.clone() else {
            return self.fail(row, None, "parse", "no Message-ID").await;
        };
        tracing::Span::current().record("message_id", mid.as_ref());
        self.store.set_message_id(row.id, &mid).await?;
        let owner = self.store.claim_message_id(&mid, row.id, now).await?;
        if owner != row.id {
            let reason = IgnoreReason::Duplicate.to_string();
            self.finish(row, Status::Ignored, "ignore", Some(&reason), None, &mid, None).await?;
            return Ok(RowOutcome::Ignored(reason));
        }

        let mut decision = self.decide(&msg).await?;
        let why = match &decision {
            Decision::Create(t) => format!("create in {} (issue type {})", t.project, t.issue_type),
            Decision::Comment { issue, matched_by } => format!("comment on {issue}, reply matched by {matched_by:?}"),
            Decision::Ignore(r) => format!("ignore: {r}"),
        };
        let from = msg.sender().map(|a| a.to_string()).unwrap_or_default();
        self.note(row, Some(&mid), "decide", &format!("from {from}: {why}")).await?;
        if let Decision::Ignore(reason) = &decision {
            if matches!(reason, IgnoreReason::DeliveryReport | IgnoreReason::NullReturnPath) {
                for addr in classify::bounced_addresses(&row.raw) {
                    tracing::info!(address = %addr, "address bounced; no more notifications to it");
                    self.store.mark_bouncing(addr.as_ref(), "bounce received", self.clock.now_ms()).await?;
                }
            }
            let reason = reason.to_string();
            tracing::info!(%reason, "mail ignored");
            self.finish(row, Status::Ignored, "ignore", Some(&reason), None, &mid, None).await?;
            return Ok(RowOutcome::Ignored(reason));
        }

        if let Some(outcome) = self.throttled(row, &msg, &mid, &decision).await? {
            return Ok(outcome);
        }

        let (uploads, skipped) = self.select_attachments(&msg.attachments);
        let mut detail = match &decision {
            Decision::Comment { matched_by, .. } => format!("reply matched by {matched_by:?}"),
            Decision::Create(t) => format!("routed to project {}", t.project),
            Decision::Ignore(_) => String::new(),
        };

        // Who the issue is for (only for new issues; comments are posted as they are).
        let mut reporter: Option<JiraUser> = None;
        if let (Decision::Create(target), Some(from), None) = (&decision, &msg.from, row.issue_key.as_deref()) {
            let (tokens, now) = (self.identity.as_deref(), self.clock.now_ms());
            match resolve_sender(tokens, &self.store, now, self.identity_ttl_secs, from, target).await {
                Ok(Resolution::User { user, detail: d }) => {
                    self.note(row, Some(&mid), "sender", &d).await?;
                    detail.push_str(&format!("; {d}"));
                    reporter = Some(user);
                }
                Ok(Resolution::DefaultReporter(d)) => {
                    self.note(row, Some(&mid), "sender", &d).await?;
                    detail.push_str(&format!("; {d}"))
                }
                Ok(Resolution::Reject(reason)) => {
                    tracing::info!(%reason, "sender rejected by policy");
                    self.finish(row, Status::Ignored, "reject", Some(&reason), None, &mid, Some(&reason)).await?;
                    return Ok(RowOutcome::Ignored(reason));
                }
                Ok(Resolution::Hold(reason)) => {
                    let now = self.clock.now_ms();
                    tracing::warn!(%reason, "mail held");
                    self.note(row, Some(&mid), "sender", &reason).await?;
                    self.store.retry_later(row.id, &reason, now + 60_000, false, now).await?;
                    return Ok(RowOutcome::Retry(reason));
                }
                Err(ResolveError::Store(e)) => return Err(e),
                Err(ResolveError::Jira(e)) => return self.jira_failed(row, &mid, &e).await,
            }
        }

        // Step 1: the issue or comment, unless an earlier attempt already made it.
        let (action, key, comment_id) = match (row.action.as_deref(), row.issue_key.as_deref().map(IssueKey::parse)) {
            (Some(action), Some(Ok(key))) => (if action == "comment" { "comment" } else { "create" }, key, None),
            _ => {
                // From here an answer can be lost: a resumed attempt looks for our
                // earlier issue or comment before making another.
                let notes = self.take_notes(row.id);
                self.store.mark_posting(row.id, decision.action_name(), self.clock.now_ms(), &notes).await?;
                let mut result = self.post(row, &msg, &mid, &decision, &skipped, reporter.as_ref()).await;
                if let (Decision::Comment { issue, .. }, Err(JiraError::NotFound(_))) = (&decision, &result) {
                    detail = format!("issue {issue} not found; created a new issue instead");
                    decision = Decision::Create(classify::route(&msg, &self.routing).clone());
                    result = self.post(row, &msg, &mid, &decision, &skipped, reporter.as_ref()).await;
                }
                match result {
                    Ok(done) => {
                        let what = match done.0 {
                            "comment" => format!("comment {} added to {}", done.2.as_deref().unwrap_or("-"), done.1),
                            _ => format!("issue {} created (or found from an earlier attempt)", done.1),
                        };
                        self.note(row, Some(&mid), "jira", &what).await?;
                        done
                    }
                    Err(e) => return self.jira_failed(row, &mid, &e).await,
                }
            }
        };
        tracing::Span::current().record("issue_key", key.as_ref());
        crate::crash::point("after_jira_post");
        let notes = self.take_notes(row.id);
        self.store.record_posted(row.id, action, &key, self.clock.now_ms(), &notes).await?;

        // Step 2: attachments, resuming after the last one uploaded. After a
        // failed attempt an upload may have landed without its answer: what
        // the issue already holds (same name and size) is not sent again.
        let first = row.attachments_done.max(0) as usize;
        let mut present: Vec<(String, u64)> = Vec::new();
        if row.attempts > 0 && first < uploads.len() {
            match self.jira.attachments(&key).await {
                Ok(list) => present = list,
                Err(e) => return self.jira_failed(row, &mid, &e).await,
            }
        }
        for (n, a) in uploads.iter().enumerate().skip(first) {
            let here = (a.filename.clone(), a.data.len() as u64);
            if let Some(pos) = present.iter().position(|p| *p == here) {
                present.remove(pos);
                tracing::info!(file = %a.filename, "attachment from an earlier attempt found; not uploading again");
                self.store.record_attachments_done(row.id, n as i64 + 1, self.clock.now_ms()).await?;
                continue;
            }
            let upload =
                Upload { filename: a.filename.clone(), content_type: a.content_type.clone(), data: a.data.clone() };
            if let Err(e) = self.jira.add_attachment(&key, &upload).await {
                return self.jira_failed(row, &mid, &e).await;
            }
            self.note(
                row,
                Some(&mid),
                "jira",
                &format!("attachment {} ({} bytes) uploaded to {key}", a.filename, a.data.len()),
            )
            .await?;
            self.store.record_attachments_done(row.id, n as i64 + 1, self.clock.now_ms()).await?;
        }
        if !skipped.is_empty() {
            let names: Vec<String> = skipped.iter().map(|s| format!("{} ({})", s.filename, s.reason)).collect();
            detail.push_str(&format!("; attachments skipped: {}", names.join(", ")));
        }
        detail.push_str(&format!("; {} attachment(s) uploaded", uploads.len()));
        self.finish(row, Status::Done, action, None, Some(&key), &mid, Some(&detail)).await?;
        if self.notify_events {
            self.raise_event(row, &msg, action, &key, comment_id, reporter.as_ref()).await?;
        }
        tracing::info!(action, issue = %key, "mail processed");
        Ok(RowOutcome::Done { action, issue: key })
    }

    /// Create the issue or add the comment.
    async fn post(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
        decision: &Decision,
        skipped: &[Skipped],
        reporter: Option<&JiraUser>,
    ) -> Result<(&'static str, IssueKey, Option<String>), JiraError> {
        let body = self.body_for(msg, decision, skipped);
        match decision {
            Decision::Comment { issue, .. } => {
                let id = if self.is_service_desk_project(issue.project()) {
                    self.jira.add_request_comment(issue, &body, true).await?
                } else {
                    // An earlier attempt may have added the comment and lost the answer.
                    let earlier = if row.resumed() { self.jira.find_comment(issue, mid.as_ref()).await? } else { None };
                    match earlier {
                        Some(id) => {
                            tracing::info!(issue = %issue, "comment from an earlier attempt found; not adding again");
                            id
                        }
                        None => self.jira.add_comment(issue, &body, Some(mid.as_ref())).await?,
                    }
                };
                Ok(("comment", issue.clone(), Some(id)))
            }
            Decision::Create(target) if target.service_desk.is_some() => {
                let watchers = self.cc_users(msg, target).await;
                let request = NewRequest {
                    service_desk: target.service_desk.clone().unwrap_or_default(),
                    request_type: target.request_type.clone().unwrap_or_default(),
                    summary: classify::summary(&msg.subject),
                    description: body,
                    on_behalf_of: reporter.and_then(JiraUser::id).map(String::from),
                    participants: watchers.iter().filter_map(|u| u.id().map(String::from)).collect(),
                };
                let created = self.jira.create_request(&request).await?;
                Ok(("create", created.key, None))
            }
            Decision::Create(target) => {
                // An earlier attempt may have created the issue and lost the answer.
                if row.resumed() {
                    let jql = format!("issue.property[mailgate].messageId = \"{}\"", mid.as_ref().replace('"', "\\\""));
                    if let Some(found) = self.jira.search(&jql, 1).await?.into_iter().next() {
                        tracing::info!(issue = %found.key, "issue from an earlier attempt found; not creating again");
                        return Ok(("create", found.key, None));
                    }
                }
                let created = self.jira.create_issue(&self.new_issue(target, msg, body, reporter)).await?;
                for user in self.cc_users(msg, target).await {
                    if let Some(id) = user.id()
                        && let Err(e) = self.jira.add_watcher(&created.key, id).await
                    {
                        tracing::warn!(error = %e, "could not add a watcher");
                    }
                }
                Ok(("create", created.key, None))
            }
            Decision::Ignore(_) => Err(JiraError::Decode("nothing to post for an ignored mail".into())),
        }
    }

    /// Our own action as an event, so the sender gets an acknowledgement and
    /// the notification scripts run as for Jira's webhooks (same event id:
    /// the webhook for the same issue or comment is then a duplicate).
    async fn raise_event(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        action: &str,
        key: &IssueKey,
        comment_id: Option<String>,
        reporter: Option<&JiraUser>,
    ) -> Result<(), StoreError> {
        use crate::notify::event::{CommentInfo, Event, EventKind, Origin, Person};
        let sender = msg.sender().map(|a| a.to_string());
        let author = Person {
            account_id: reporter.and_then(|r| r.account_id.clone()),
            name: reporter.and_then(|r| r.name.clone()),
            display_name: msg.from.as_ref().and_then(|f| f.name.clone()),
            email: sender.clone(),
        };
        let (kind, id, comment) = if action == "comment" {
            let cid = comment_id.unwrap_or_else(|| format!("mail-{}", row.id));
            let body = classify::strip_quoted(&msg.text, self.inbound.reply_marker.as_deref());
            (
                EventKind::CommentCreated,
                format!("comment:{cid}"),
                Some(CommentInfo { id: cid, author: Some(author.clone()), body }),
            )
        } else {
            (EventKind::IssueCreated, format!("created:{key}"), None)
        };
        let event = Event {
            id,
            kind,
            origin: Origin::Mail,
            issue_key: key.to_string(),
            project: key.project().to_string(),
            summary: classify::summary(&msg.subject),
            status: None,
            reporter: (action != "comment").then_some(author),
            assignee: None,
            watchers: Vec::new(),
            comment,
            changed: Vec::new(),
            mail_sender: sender,
        };
        let payload = serde_json::to_string(&event).unwrap_or_default();
        self.store.insert_event(&event.id, kind.as_str(), "mail", key.as_ref(), &payload, self.clock.now_ms()).await?;
        Ok(())
    }

    /// Mail storms and the per-issue update limit. `Some` when the mail is
    /// ignored (storm) or held back (limit) instead of processed now.
    async fn throttled(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
        decision: &Decision,
    ) -> Result<Option<RowOutcome>, StoreError> {
        let now = self.clock.now_ms();
        if row.issue_key.is_some() || row.resumed() {
            return Ok(None);
        }
        if let Some(sender) = msg.sender() {
            self.store.set_sender(row.id, sender.as_ref()).await?;
            let recent = self.store.count_from_sender(sender.as_ref(), now - 3_600_000).await?;
            if recent > self.inbound.storm_max_per_hour {
                let reason = IgnoreReason::MailStorm(sender.to_string()).to_string();
                tracing::warn!(%sender, recent, "mail storm: ignoring mail from this sender for now");
                if self.identity.is_some() {
                    let hour = now / 3_600_000;
                    let body = format!(
                        "{recent} mails from {sender} arrived within an hour (limit {}). Further mail from this sender is                          ignored until the rate drops; the raw mails are kept and can be replayed.\n",
                        self.inbound.storm_max_per_hour
                    );
                    let subject = format!("mailgate: mail storm from {sender}");
                    crate::outbound::notify_admins(
                        &self.store,
                        &self.admins,
                        &format!("storm:{sender}:{hour}"),
                        &subject,
                        &body,
                        now,
                    )
                    .await?;
                }
                self.finish(row, Status::Ignored, "ignore", Some(&reason), None, mid, Some(&reason)).await?;
                return Ok(Some(RowOutcome::Ignored(reason)));
            }
        }
        let Decision::Comment { issue, .. } = decision else { return Ok(None) };
        let window = self.inbound.issue_update_window_secs.max(1) * 1000;
        let until = match self.store.earlier_throttled(issue.as_ref(), row.id).await? {
            Some(earlier) => Some(earlier + 1),
            None => match self.store.comments_since(issue.as_ref(), now - window).await? {
                (n, Some(oldest)) if n >= self.inbound.max_updates_per_issue => Some(oldest + window),
                _ => None,
            },
        };
        let Some(until) = until else { return Ok(None) };
        let reason = format!(
            "throttled: at most {} updates per {} s on {issue}",
            self.inbound.max_updates_per_issue,
            window / 1000
        );
        tracing::info!(%issue, wait_ms = until - now, "per-issue limit reached; comment waits");
        self.note(row, Some(mid), "throttle", &reason).await?;
        self.store.throttle(row.id, issue.as_ref(), until, &reason, now).await?;
        Ok(Some(RowOutcome::Retry(reason)))
    }

    /// One line of the mail's audit trail.
    async fn note(
        &self,
        row: &InboundRow,
        mid: Option<&MessageId>,
        step: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let note = PendingNote {
            at: self.clock.now_ms(),
            inbound_id: row.id,
            mailbox: row.mailbox.clone(),
            message_id: mid.map(|m| m.to_string()).or_else(|| row.message_id.clone()),
            step: step.to_string(),
            detail: detail.to_string(),
        };
        if let Ok(mut notes) = self.notes.lock() {
            notes.entry(row.id).or_default().push(note);
        }
        Ok(())
    }

    /// The notes of this mail not yet written, in order.
    fn take_notes(&self, id: i64) -> Vec<PendingNote> {
        self.notes.lock().ok().and_then(|mut n| n.remove(&id)).unwrap_or_default()
    }

    /// Whether replies in this project go through JSM as public comments.
    fn is_service_desk_project(&self, project: &str) -> bool {
        self.routing
            .rules
            .iter()
            .map(|r| &r.target)
            .chain(std::iter::once(&self.routing.default))
            .any(|t| t.service_desk.is_some() && t.project.as_ref() == project)
    }

    /// Cc'd people with Jira accounts, when the rule wants them as watchers.
    async fn cc_users(&self, msg: &InboundMessage, target: &RouteTarget) -> Vec<JiraUser> {
        let Some(tokens) = self.identity.as_deref().filter(|_| target.cc_watchers) else { return Vec::new() };
        let sender = msg.sender();
        let cc: Vec<&str> = msg
            .cc
            .iter()
            .map(|m| &m.address)
            .filter(|a| Some(*a) != sender && !self.inbound.own_addresses.contains(a))
            .map(|a| a.as_ref())
            .collect();
        known_users(tokens, &self.store, self.clock.now_ms(), self.identity_ttl_secs, &cc).await
    }

    async fn jira_failed(&self, row: &InboundRow, mid: &MessageId, e: &JiraError) -> Result<RowOutcome, StoreError> {
        let now = self.clock.now_ms();
        let error = e.to_string();
        let kind = if e.is_transient() { "transient" } else { "permanent" };
        self.note(row, Some(mid), "jira", &format!("call failed ({kind}): {error}")).await?;
        if matches!(e, JiraError::Unauthorized) {
            tracing::warn!(error = %e, "Jira credentials rejected; mail held until they work");
            self.store.retry_later(row.id, &error, now + 60_000, false, now).await?;
            return Ok(RowOutcome::Retry(error));
        }
        if e.is_transient() {
            let shift = row.attempts.clamp(0, 20) as u32;
            let mut delay = self.retry_base_ms.saturating_mul(1i64 << shift).min(15 * 60_000);
            if let JiraError::RateLimited { retry_after: Some(d) } = e {
                delay = delay.max(d.as_millis() as i64);
            }
            let attempts = self.store.retry_later(row.id, &error, now + delay, true, now).await?;
            if attempts < i64::from(self.inbound.max_attempts) {
                tracing::warn!(error = %e, attempts, delay_ms = delay, "Jira call failed; will retry");
                return Ok(RowOutcome::Retry(error));
            }
            let error = format!("gave up after {attempts} attempts: {error}");
            return self.fail(row, Some(mid), "jira", &error).await;
        }
        self.fail(row, Some(mid), "jira", &error).await
    }

    async fn fail(
        &self,
        row: &InboundRow,
        mid: Option<&MessageId>,
        stage: &str,
        error: &str,
    ) -> Result<RowOutcome, StoreError> {
        tracing::error!(stage, error, "mail failed; raw message kept for replay");
        self.note(row, mid, "failed", &format!("{stage}: {error}")).await?;
        let f = Finish {
            status: Status::Failed,
            action: row.action.as_deref().unwrap_or("none"),
            reason: Some(stage),
            issue_key: None,
            message_id: mid,
            error: Some(error),
            detail: None,
        };
        let notes = self.take_notes(row.id);
        self.store.finish_noted(row, &f, self.clock.now_ms(), &notes).await?;
        if let Some(mid) = mid {
            self.store.release_claim(mid, row.id).await?;
        }
        Ok(RowOutcome::Failed(error.to_string()))
    }

    #[expect(clippy::too_many_arguments, reason = "one call site per outcome, all named")]
    async fn finish(
        &self,
        row: &InboundRow,
        status: Status,
        action: &str,
        reason: Option<&str>,
        key: Option<&IssueKey>,
        mid: &MessageId,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        let outcome = format!(
            "{} {} {}",
            status.as_str(),
            action,
            key.map(|k| k.to_string()).or_else(|| reason.map(String::from)).unwrap_or_default()
        );
        self.note(row, Some(mid), "outcome", outcome.trim()).await?;
        let f = Finish { status, action, reason, issue_key: key, message_id: Some(mid), error: None, detail };
        let notes = self.take_notes(row.id);
        self.store.finish_noted(row, &f, self.clock.now_ms(), &notes).await
    }
}
