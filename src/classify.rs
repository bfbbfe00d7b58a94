//! Pure decisions about an inbound mail: ignore it, create an issue, or
//! comment on an existing one. No I/O: thread lookups are passed in.

use std::collections::HashMap;

use crate::config::{RouteTarget, RoutingSettings};
use crate::domain::{EmailAddress, InboundMessage, IssueKey, MessageId};

mod auto;
pub mod dsn;
mod quote;
mod routing;
pub mod suppress;

pub use auto::{AutoReplySign, AutomatedSign, BounceSign, IgnoreReason, ignore_reason, subject_sign};
pub use quote::{cut_at_marker, strip_quoted};
pub use routing::{is_own, plus_issue, route, target_for_issue};
pub use suppress::{NoSuppression, SentMail, Suppression, suppressions};

/// How a reply found its issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyMatch {
    SubjectKey,
    /// A `+KEY-123` sub-address of our mailbox.
    PlusAddress,
    InReplyTo,
    References,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Create(RouteTarget),
    Comment { issue: IssueKey, matched_by: ReplyMatch },
    Ignore(IgnoreReason),
}

impl Decision {
    pub fn action_name(&self) -> &'static str {
        match self {
            Self::Create(_) => "create",
            Self::Comment { .. } => "comment",
            Self::Ignore(_) => "ignore",
        }
    }
}

/// Every project key routing can send to; subject keys of other projects
/// (say `UTF-8`) are not taken as replies.
pub fn known_projects(routing: &RoutingSettings) -> Vec<String> {
    let mut out: Vec<String> = routing
        .rules
        .iter()
        .map(|r| r.target.project.to_string())
        .chain(std::iter::once(routing.default.project.to_string()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Decide what to do. `threads` maps Message-IDs we created or saw to their
/// issue (looked up by the caller for the ids in In-Reply-To and References).
pub fn decide(
    msg: &InboundMessage,
    own: &[EmailAddress],
    routing: &RoutingSettings,
    threads: &HashMap<MessageId, IssueKey>,
) -> Decision {
    if let Some(reason) = ignore_reason(msg, own) {
        return Decision::Ignore(reason);
    }
    let projects = known_projects(routing);
    let subject = strip_subject_prefixes(&msg.subject);
    if let Some(key) = IssueKey::find_all(subject).into_iter().find(|k| projects.iter().any(|p| p == k.project())) {
        return Decision::Comment { issue: key, matched_by: ReplyMatch::SubjectKey };
    }
    if let Some(key) = plus_issue(msg, routing) {
        return Decision::Comment { issue: key, matched_by: ReplyMatch::PlusAddress };
    }
    if let Some(key) = msg.in_reply_to.iter().find_map(|id| threads.get(id)) {
        return Decision::Comment { issue: key.clone(), matched_by: ReplyMatch::InReplyTo };
    }
    if let Some(key) = msg.references.iter().rev().find_map(|id| threads.get(id)) {
        return Decision::Comment { issue: key.clone(), matched_by: ReplyMatch::References };
    }
    Decision::Create(route(msg, routing))
}

const PREFIXES: &[&str] = &["re", "fwd", "fw", "aw", "wg", "sv", "vs", "antw", "tr", "rif"];

/// Remove leading `Re:`, `Fwd:`, `AW:`, `WG:` (also `Re[2]:`) prefixes.
pub fn strip_subject_prefixes(subject: &str) -> &str {
    let mut s = subject.trim_start();
    'outer: loop {
        for p in PREFIXES {
            if s.len() > p.len() && s.is_char_boundary(p.len()) && s[..p.len()].eq_ignore_ascii_case(p) {
                let rest = &s[p.len()..];
                let rest = match rest.strip_prefix('[') {
                    Some(r) => match r.find(']') {
                        Some(end) if r[..end].chars().all(|c| c.is_ascii_digit()) => &r[end + 1..],
                        _ => rest,
                    },
                    None => rest,
                };
                if let Some(after) = rest.trim_start().strip_prefix(':') {
                    s = after.trim_start();
                    continue 'outer;
                }
            }
        }
        return s;
    }
}

/// A Jira summary: prefixes stripped, one line, at most 255 characters.
pub fn summary(subject: &str) -> String {
    let s: String = strip_subject_prefixes(subject).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return "(no subject)".into();
    }
    s.chars().take(255).collect()
}

#[cfg(test)]
mod tests;
