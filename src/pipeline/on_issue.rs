//! Reading the facts a conversation policy asks for (is the sender
//! involved, is the issue closed) and carrying out its effect before a
//! comment is posted: a reopen transition chosen by name, a follow-up issue
//! linked to the closed one, a new issue for an outsider, or a refusal.

use super::policy::{IssueFacts, OnIssue, on_issue};
use super::{Pipeline, Target};
use crate::classify;
use crate::config::{CommentPolicy, ConversationPolicy};
use crate::domain::{EmailAddress, InboundMessage, IssueKey, MessageId};
use crate::identity::known_users;
use crate::jira::{IssueState, JiraError, JiraUser, StatusCategory};
use crate::store::{InboundRow, StoreError};

const DAY_MS: i64 = 86_400_000;

/// Whether `user` is `addr`, or has the account of `account`.
fn same(user: Option<&JiraUser>, addr: &EmailAddress, account: Option<&str>) -> bool {
    user.is_some_and(|u| {
        u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(addr.as_ref()))
            || (account.is_some() && u.id() == account)
    })
}

impl Pipeline {
    /// The policy's effect for a mail on `issue`, with the target it posts
    /// to. Only what the policy asks is read from Jira.
    pub(super) async fn policy_effect(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
        issue: &IssueKey,
    ) -> Result<Result<OnIssue, JiraError>, StoreError> {
        let policy = classify::target_for_issue(msg, &self.policy.routing, issue.project()).conversation;
        let (ask_involved, ask_closed) = OnIssue::asks(&policy);
        if !ask_involved && !ask_closed {
            return Ok(Ok(OnIssue::Comment));
        }
        let needs_state = ask_closed || policy.who_may_comment == CommentPolicy::Involved;
        let state = if needs_state {
            match self.jira.issue_state(issue).await {
                Ok(s) => Some(s),
                // A gone issue: the post makes a new one, as without a policy.
                Err(JiraError::NotFound(_)) => return Ok(Ok(OnIssue::Comment)),
                Err(e) => return Ok(Err(e)),
            }
        } else {
            None
        };
        let involved = match ask_involved {
            true => match self.involved(msg, issue, state.as_ref(), &policy).await? {
                Ok(yes) => Some(yes),
                Err(e) => return Ok(Err(e)),
            },
            false => None,
        };
        let closed = state.as_ref().filter(|_| ask_closed);
        let facts = IssueFacts {
            involved,
            closed: closed.map(|s| s.status_category == StatusCategory::Done || s.resolution.is_some()),
            resolved_days_ago: closed.and_then(|s| s.resolved_at_ms).map(|t| (self.clock.now_ms() - t) / DAY_MS),
        };
        let effect = on_issue(&policy, &facts);
        if effect != OnIssue::Comment {
            let why = match (&facts.involved, &facts.closed) {
                (Some(false), _) => "the sender is not involved".to_string(),
                (_, Some(true)) => match facts.resolved_days_ago {
                    Some(d) => format!("the issue is closed (resolved {d} days ago)"),
                    None => "the issue is closed".to_string(),
                },
                _ => String::new(),
            };
            self.note(row, Some(mid), "policy", &format!("{issue}: {why}: {effect:?}"));
        }
        Ok(Ok(effect))
    }

    /// Whether the sender may comment on `issue` by mail: a domain on the
    /// list; or one of its people (requester, participants), its reporter,
    /// assignee or watchers, or a Jira user allowed to comment on it.
    async fn involved(
        &self,
        msg: &InboundMessage,
        issue: &IssueKey,
        state: Option<&IssueState>,
        policy: &ConversationPolicy,
    ) -> Result<Result<bool, JiraError>, StoreError> {
        let Some(sender) = msg.sender() else { return Ok(Ok(false)) };
        let domains = match &policy.who_may_comment {
            CommentPolicy::Anyone => return Ok(Ok(true)),
            CommentPolicy::Domains(d) => d,
            CommentPolicy::Involved => {
                return self.involved_in(sender, issue, state).await;
            }
        };
        Ok(Ok(domains.iter().any(|d| sender.domain().eq_ignore_ascii_case(d))))
    }

    async fn involved_in(
        &self,
        sender: &EmailAddress,
        issue: &IssueKey,
        state: Option<&IssueState>,
    ) -> Result<Result<bool, JiraError>, StoreError> {
        let people = self.store.issue_people(issue.as_ref()).await?;
        if people.iter().any(|p| p.address.eq_ignore_ascii_case(sender.as_ref())) {
            return Ok(Ok(true));
        }
        // The sender's account, through the workaround user (emails are often hidden).
        let (now, ttl) = (self.clock.now_ms(), self.policy.identity_ttl_secs);
        let account = match self.identity.as_deref() {
            Some(tokens) => known_users(tokens, &self.store, now, ttl, &[sender.as_ref()]).await.into_iter().next(),
            None => None,
        };
        let id = account.as_ref().and_then(JiraUser::id);
        if state.is_some_and(|s| same(s.reporter.as_ref(), sender, id) || same(s.assignee.as_ref(), sender, id)) {
            return Ok(Ok(true));
        }
        match self.jira.watchers(issue).await {
            Ok(ws) if ws.iter().any(|w| same(Some(w), sender, id)) => return Ok(Ok(true)),
            Ok(_) | Err(JiraError::NotFound(_)) => {}
            Err(e) if e.is_transient() => return Ok(Err(e)),
            Err(e) => tracing::warn!(error = %e, "cannot read the watchers; not counted"),
        }
        let (Some(id), Some(tokens)) = (id, self.identity.as_deref()) else { return Ok(Ok(false)) };
        let Ok((client, _)) = tokens.client().await else {
            tracing::warn!("no usable workaround token: whether the sender may comment in Jira is not known");
            return Ok(Ok(false));
        };
        match client.user_may_comment(issue, id).await {
            Ok(yes) => Ok(Ok(yes)),
            Err(e) if e.is_transient() => Ok(Err(e)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot check the sender's permission to comment; not counted");
                Ok(Ok(false))
            }
        }
    }

    /// Take the named transition out of the closed status (case-insensitive);
    /// a name the workflow does not offer is noted and the comment posted anyway.
    pub(super) async fn reopen(
        &self,
        row: &InboundRow,
        mid: &MessageId,
        issue: &IssueKey,
        name: &str,
    ) -> Result<(), JiraError> {
        let offered = self.jira.transitions(issue).await?;
        match offered.iter().find(|t| t.name.trim().eq_ignore_ascii_case(name.trim())) {
            Some(t) => {
                self.jira.transition(issue, &t.id).await?;
                self.note(
                    row,
                    Some(mid),
                    "policy",
                    &format!("{issue} reopened by transition {:?} to {}", t.name, t.to_status),
                );
            }
            None => {
                let names: Vec<&str> = offered.iter().map(|t| t.name.as_str()).collect();
                let text = format!(
                    "{issue}: no transition {name:?} offered (offered: {}); commented as it is",
                    names.join(", ")
                );
                tracing::warn!("{text}");
                self.note(row, Some(mid), "policy", &text);
            }
        }
        Ok(())
    }

    /// The target of a mail the policy turned into a new issue.
    pub(super) fn new_issue_target(&self, msg: &InboundMessage) -> Target {
        Target::Create { route: Box::new(classify::route(msg, &self.policy.routing)), floor: None }
    }

    /// Link a follow-up issue to the closed one (safe to repeat: Jira
    /// answers a duplicate link as created). A failure is noted, not retried.
    pub(super) async fn link_followup(
        &self,
        row: &InboundRow,
        mid: &MessageId,
        link: &str,
        new: &IssueKey,
        old: &IssueKey,
    ) {
        match self.jira.link_issues(link, new, old).await {
            Ok(()) => self.note(row, Some(mid), "policy", &format!("{new} linked to {old} ({link})")),
            Err(e) => {
                tracing::warn!(error = %e, "could not link the follow-up issue");
                self.note(row, Some(mid), "policy", &format!("could not link {new} to {old}: {e}"));
            }
        }
    }
}
