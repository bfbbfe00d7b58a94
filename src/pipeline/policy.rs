//! What a mail on an existing issue does under its rule's conversation
//! policy: who may comment by mail, and what a reply to a closed issue
//! does. The decision is pure ([`on_issue`]); the facts it needs are read
//! only when the policy needs them ([`Pipeline::issue_facts`]).

use crate::config::{ClosedAction, CommentPolicy, ConversationPolicy, OutsiderAction};

/// What is known about the issue and the sender, as far as the policy asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueFacts {
    /// The sender may comment (`None`: the policy did not ask).
    pub involved: Option<bool>,
    /// The issue is done (`None`: not asked).
    pub closed: Option<bool>,
    /// Days since it was resolved, when it is.
    pub resolved_days_ago: Option<i64>,
}

/// Why a mail gets a polite reply instead of an effect in Jira.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The sender is not among those who may comment on the issue.
    NotInvolved,
    /// The issue is closed and the rule takes no more comments on it.
    Closed,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotInvolved => "the sender may not comment on the issue",
            Self::Closed => "the issue is closed",
        })
    }
}

/// The effect of a mail on an existing issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnIssue {
    Comment,
    /// Take the named transition (the issue is closed), then comment.
    Reopen(String),
    /// A new issue; linked to the one named (with this link type) for a
    /// follow-up of a closed issue, unlinked for an outsider.
    NewIssue {
        link: Option<String>,
    },
    /// A polite reply to the sender; nothing in Jira.
    Refuse(Refusal),
}

impl OnIssue {
    /// Whether the policy needs to know if the sender is involved, and if the issue is closed.
    pub fn asks(policy: &ConversationPolicy) -> (bool, bool) {
        let involved = policy.who_may_comment != CommentPolicy::Anyone;
        let closed = policy.closed != ClosedAction::Comment || policy.new_issue_after_days.is_some();
        (involved, closed)
    }
}

/// The effect of a mail on an existing issue under `policy`. Pure.
pub fn on_issue(policy: &ConversationPolicy, facts: &IssueFacts) -> OnIssue {
    if facts.involved == Some(false) {
        return match policy.outsiders {
            OutsiderAction::NewIssue => OnIssue::NewIssue { link: None },
            OutsiderAction::Reject => OnIssue::Refuse(Refusal::NotInvolved),
        };
    }
    if facts.closed != Some(true) {
        return OnIssue::Comment;
    }
    let followup = OnIssue::NewIssue { link: Some(policy.link_type.clone()) };
    if let (Some(max), Some(days)) = (policy.new_issue_after_days, facts.resolved_days_ago)
        && days > i64::from(max)
    {
        return followup;
    }
    match policy.closed {
        ClosedAction::Comment => OnIssue::Comment,
        ClosedAction::Reopen => OnIssue::Reopen(policy.reopen_transition.clone()),
        ClosedAction::NewIssue => followup,
        ClosedAction::Reject => OnIssue::Refuse(Refusal::Closed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(involved: Option<bool>, closed: Option<bool>, days: Option<i64>) -> IssueFacts {
        IssueFacts { involved, closed, resolved_days_ago: days }
    }

    #[test]
    fn outsiders_get_a_new_issue_or_a_refusal() {
        let mut p = ConversationPolicy { who_may_comment: CommentPolicy::Involved, ..Default::default() };
        assert_eq!(OnIssue::asks(&p), (true, false));
        assert_eq!(on_issue(&p, &facts(Some(false), None, None)), OnIssue::NewIssue { link: None });
        assert_eq!(on_issue(&p, &facts(Some(true), None, None)), OnIssue::Comment);
        p.outsiders = OutsiderAction::Reject;
        assert_eq!(on_issue(&p, &facts(Some(false), Some(true), None)), OnIssue::Refuse(Refusal::NotInvolved));
    }

    #[test]
    fn each_closed_issue_policy_and_the_age_limit() {
        let closed = facts(None, Some(true), Some(3));
        let with = |closed: ClosedAction| ConversationPolicy { closed, ..Default::default() };
        assert_eq!(OnIssue::asks(&ConversationPolicy::default()), (false, false));
        assert_eq!(on_issue(&with(ClosedAction::Comment), &closed), OnIssue::Comment);
        assert_eq!(on_issue(&with(ClosedAction::Reopen), &closed), OnIssue::Reopen("Reopen".into()));
        assert_eq!(
            on_issue(&with(ClosedAction::NewIssue), &closed),
            OnIssue::NewIssue { link: Some("Relates".into()) }
        );
        assert_eq!(on_issue(&with(ClosedAction::Reject), &closed), OnIssue::Refuse(Refusal::Closed));
        assert_eq!(on_issue(&with(ClosedAction::Reopen), &facts(None, Some(false), None)), OnIssue::Comment);

        let aged = ConversationPolicy { new_issue_after_days: Some(2), ..with(ClosedAction::Reopen) };
        assert_eq!(on_issue(&aged, &closed), OnIssue::NewIssue { link: Some("Relates".into()) });
        assert_eq!(on_issue(&aged, &facts(None, Some(true), Some(1))), OnIssue::Reopen("Reopen".into()));
        let only_aged = ConversationPolicy { new_issue_after_days: Some(2), ..Default::default() };
        assert_eq!(OnIssue::asks(&only_aged), (false, true));
        assert_eq!(on_issue(&only_aged, &closed), OnIssue::NewIssue { link: Some("Relates".into()) });
    }
}
