//! The idempotent post: create the issue (or JSM request) or add the
//! comment; a resumed attempt first looks for what an earlier one made.

use super::{Pipeline, cut, plan};
use crate::classify::{self, Decision, IgnoreReason};
use crate::config::RouteTarget;
use crate::domain::{InboundMessage, IssueKey, MessageId};
use crate::identity::known_users;
use crate::jira::{JiraError, JiraUser, NewRequest, ProbedIssue};
use crate::store::{Action, InboundRow};

/// What Jira holds for a mail after its post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    Issue(IssueKey),
    /// A comment; its id when Jira's answer gave it.
    Comment {
        issue: IssueKey,
        id: Option<String>,
    },
}

impl Posted {
    pub fn issue(&self) -> &IssueKey {
        match self {
            Self::Issue(key) | Self::Comment { issue: key, .. } => key,
        }
    }

    pub fn action(&self) -> Action {
        match self {
            Self::Issue(_) => Action::Create,
            Self::Comment { .. } => Action::Comment,
        }
    }
}

/// Where a mail goes in Jira: the decisions that post something.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Target {
    Comment(IssueKey),
    /// A new issue, with the key floor committed before its first attempt
    /// (see `resume`); `None` until the mark is written.
    Create {
        /// Boxed: a rule's fields make it the big variant.
        route: Box<RouteTarget>,
        floor: Option<u64>,
    },
}

impl Target {
    /// The target of a decision; an ignored mail has none, only its reason.
    pub(super) fn of(decision: &Decision) -> Result<Self, &IgnoreReason> {
        match decision {
            Decision::Comment { issue, .. } => Ok(Self::Comment(issue.clone())),
            Decision::Create(t) => Ok(Self::Create { route: Box::new(t.clone()), floor: None }),
            Decision::Ignore(reason) => Err(reason),
        }
    }

    pub(super) fn action(&self) -> Action {
        match self {
            Self::Comment(_) => Action::Comment,
            Self::Create { .. } => Action::Create,
        }
    }
}

impl Pipeline {
    /// Create the issue or add the comment.
    pub(super) async fn post(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
        to: &Target,
        body: &str,
        reporter: Option<&JiraUser>,
    ) -> Result<Posted, JiraError> {
        let summary = classify::summary(&msg.subject);
        match to {
            Target::Comment(issue) => {
                // Platform comments on JSM requests too: they are public by
                // default (P3 `Comment.jsdPublic`: "Defaults to true when
                // comments are created in the Jira Cloud Platform") and, unlike
                // JSM's createRequestComment, carry the property a resume reads.
                // An earlier attempt may have added the comment and lost the answer.
                let earlier = if row.resumed() { self.jira.find_comment(issue, mid.as_ref()).await? } else { None };
                let id = match earlier {
                    Some(id) => {
                        tracing::info!(issue = %issue, "comment from an earlier attempt found; not adding again");
                        id
                    }
                    None => self.jira.add_comment(issue, body, Some(mid.as_ref())).await?,
                };
                Ok(Posted::Comment { issue: issue.clone(), id: Some(id) })
            }
            Target::Create { route: target, floor } if target.service_desk.is_some() => {
                // A request cannot carry a property when it is created: a lost
                // answer is found above the floor by its summary among the
                // requests without one (each created request gets it at once).
                if row.resumed() {
                    let project = target.project.as_ref();
                    let ours = |p: &ProbedIssue| {
                        p.message_id.as_deref() == Some(mid.as_ref())
                            || (p.message_id.is_none() && p.summary == summary)
                    };
                    if let Some(found) = self.find_created(project, floor.unwrap_or(0), ours).await? {
                        tracing::info!(issue = %found, "request from an earlier attempt found; not creating again");
                        self.mark_created(&found, mid).await;
                        return Ok(Posted::Issue(found));
                    }
                }
                let watchers = self.cc_users(msg, target).await;
                let request = NewRequest {
                    service_desk: target.service_desk.clone().unwrap_or_default(),
                    request_type: target.request_type.clone().unwrap_or_default(),
                    summary,
                    description: body.to_string(),
                    on_behalf_of: reporter.and_then(JiraUser::id).map(String::from),
                    participants: watchers.iter().filter_map(|u| u.id().map(String::from)).collect(),
                };
                let created = self.jira.create_request(&request).await?;
                self.floors.saw(&created.key);
                self.mark_created(&created.key, mid).await;
                Ok(Posted::Issue(created.key))
            }
            Target::Create { route: target, floor } => {
                // An earlier attempt may have created the issue and lost the
                // answer: read the keys above the floor (never search: it lags
                // and cannot see entity properties).
                if row.resumed() {
                    let project = target.project.as_ref();
                    let ours = |p: &ProbedIssue| p.message_id.as_deref() == Some(mid.as_ref());
                    if let Some(found) = self.find_created(project, floor.unwrap_or(0), ours).await? {
                        tracing::info!(issue = %found, "issue from an earlier attempt found; not creating again");
                        return Ok(Posted::Issue(found));
                    }
                }
                let created = self.create_issue(row, mid, target, msg, body, reporter).await?;
                self.floors.saw(&created.key);
                for user in self.cc_users(msg, target).await {
                    if let Some(id) = user.id()
                        && let Err(e) = self.jira.add_watcher(&created.key, id).await
                    {
                        tracing::warn!(error = %e, "could not add a watcher");
                    }
                }
                Ok(Posted::Issue(created.key))
            }
        }
    }

    /// Give a JSM request the property an issue gets when it is created, so
    /// that no later resume takes it for another mail's (best effort).
    async fn mark_created(&self, key: &IssueKey, mid: &MessageId) {
        if let Err(e) = self.jira.set_issue_property(key, mid.as_ref()).await {
            tracing::warn!(issue = %key, error = %e, "could not set the request's mailgate property");
        }
    }

    /// The text `to` posts (see [`jira_body`](Self::jira_body)); a new
    /// issue's without its directive lines when its rule reads directives.
    pub(super) fn body_for_target(&self, msg: &InboundMessage, to: &Target) -> cut::Fitted {
        match to {
            Target::Comment(issue) => self.jira_body(msg, true, issue.project(), false),
            Target::Create { route, .. } => {
                self.jira_body(msg, false, route.project.as_ref(), !route.directives.is_empty())
            }
        }
    }

    /// The description or comment text for `project`, cut to Jira's limit
    /// (JSM takes plain text; the platform's measure is the client's).
    pub(super) fn jira_body(&self, msg: &InboundMessage, reply: bool, project: &str, directives: bool) -> cut::Fitted {
        let inbound = &self.policy.inbound;
        let (_, skipped) = plan::select_attachments(&msg.attachments, inbound);
        let body = plan::body_for(msg, reply, &skipped, inbound.reply_marker.as_deref(), directives);
        // JSM takes a request's description as plain text; comments are the platform's.
        if !reply && self.is_service_desk_project(project) {
            cut::fit(body, cut::TEXT_LIMIT, |s| s.chars().count())
        } else {
            cut::fit(body, cut::TEXT_LIMIT, |s| self.jira.text_length(s))
        }
    }

    /// Whether replies in this project go through JSM as public comments.
    fn is_service_desk_project(&self, project: &str) -> bool {
        let routing = &self.policy.routing;
        routing
            .rules
            .iter()
            .map(|r| &r.target)
            .chain(std::iter::once(&routing.default))
            .any(|t| t.service_desk.is_some() && t.project.as_ref() == project)
    }

    /// The other people on To and Cc with Jira accounts, when the rule wants
    /// them as watchers (request participants on JSM).
    async fn cc_users(&self, msg: &InboundMessage, target: &RouteTarget) -> Vec<JiraUser> {
        let Some(tokens) = self.identity.as_deref().filter(|_| target.cc_watchers) else { return Vec::new() };
        let sender = msg.sender();
        let own = &self.policy.inbound.own_addresses;
        let mut cc: Vec<&str> = msg
            .to
            .iter()
            .chain(&msg.cc)
            .map(|m| &m.address)
            .filter(|a| Some(*a) != sender && !classify::is_own(a, own))
            .map(|a| a.as_ref())
            .collect();
        let mut seen = std::collections::HashSet::new();
        cc.retain(|a| seen.insert(*a));
        known_users(tokens, &self.store, self.clock.now_ms(), self.policy.identity_ttl_secs, &cc).await
    }
}
