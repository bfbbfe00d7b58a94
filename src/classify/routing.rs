//! Which rule a new mail goes by, and plus-addressing. Mail reaches a help
//! desk by To and Cc, by Bcc and aliases (seen only in `Delivered-To` /
//! `X-Original-To`), and by sub-addresses: `support+SALES@corp.test` files
//! in project SALES, `support+SALES-123@corp.test` comments on SALES-123
//! (the `+tag` names a project routing knows, else it is ignored).

use crate::config::{RouteTarget, RoutingRule, RoutingSettings};
use crate::domain::{EmailAddress, InboundMessage, IssueKey, ProjectKey};

/// An address without its `+tag`, and the tag.
fn split_tag(addr: &EmailAddress) -> (Option<EmailAddress>, Option<&str>) {
    let local = addr.local_part();
    match local.split_once('+') {
        Some((base, tag)) if !base.is_empty() && !tag.is_empty() => {
            (EmailAddress::parse(&format!("{base}@{}", addr.domain())).ok(), Some(tag))
        }
        _ => (None, None),
    }
}

/// Every address the mail was delivered to, each also without its tag.
fn delivered(msg: &InboundMessage) -> Vec<EmailAddress> {
    let mut out = Vec::new();
    for a in msg.delivered_to_any() {
        out.push(a.clone());
        if let (Some(base), _) = split_tag(a) {
            out.push(base);
        }
    }
    out
}

fn rule_matches(rule: &RoutingRule, msg: &InboundMessage, to: &[EmailAddress]) -> bool {
    let wants_recipient = rule.recipient.is_some() || rule.domain.is_some() || rule.recipient_regex.is_some();
    let wants_other = rule.sender.is_some() || rule.sender_domain.is_some() || rule.subject_regex.is_some();
    if !wants_recipient && !wants_other {
        return false;
    }
    let recipient_ok = !wants_recipient
        || to.iter().any(|r| {
            rule.recipient.as_ref().is_some_and(|want| want == r)
                || rule.domain.as_ref().is_some_and(|d| r.domain().eq_ignore_ascii_case(d.trim_start_matches('@')))
                || rule.recipient_regex.as_ref().is_some_and(|p| p.is_match(r.as_ref()))
        });
    let sender = msg.sender();
    let sender_ok = rule.sender.as_ref().is_none_or(|want| sender == Some(want))
        && rule
            .sender_domain
            .as_ref()
            .is_none_or(|d| sender.is_some_and(|s| s.domain().eq_ignore_ascii_case(d.trim_start_matches('@'))));
    let subject_ok = rule.subject_regex.as_ref().is_none_or(|p| p.is_match(&msg.subject));
    recipient_ok && sender_ok && subject_ok
}

/// The routing target for a new mail: the first rule that matches, else
/// the default; a `+PROJECT` sub-address of a known project sets the project.
pub fn route(msg: &InboundMessage, routing: &RoutingSettings) -> RouteTarget {
    let to = delivered(msg);
    let mut target =
        routing.rules.iter().find(|rule| rule_matches(rule, msg, &to)).map_or(&routing.default, |r| &r.target).clone();
    if let Some(project) = plus_project(msg, routing) {
        target.project = project;
    }
    target
}

/// The target whose policies govern a mail on an existing issue: the first
/// rule (or the default) of the issue's project; a project no rule names
/// takes the mail's own route.
pub fn target_for_issue(msg: &InboundMessage, routing: &RoutingSettings, project: &str) -> RouteTarget {
    routing
        .rules
        .iter()
        .map(|r| &r.target)
        .chain(std::iter::once(&routing.default))
        .find(|t| t.project.as_ref().eq_ignore_ascii_case(project))
        .cloned()
        .unwrap_or_else(|| route(msg, routing))
}

/// Whether `addr` is one of ours, also with a `+tag`.
pub fn is_own(addr: &EmailAddress, own: &[EmailAddress]) -> bool {
    own.contains(addr) || split_tag(addr).0.is_some_and(|base| own.contains(&base))
}

fn known(routing: &RoutingSettings, project: &str) -> bool {
    super::known_projects(routing).iter().any(|p| p.eq_ignore_ascii_case(project))
}

fn plus_project(msg: &InboundMessage, routing: &RoutingSettings) -> Option<ProjectKey> {
    msg.delivered_to_any()
        .filter_map(|a| split_tag(a).1)
        .filter(|tag| !tag.contains('-') && known(routing, tag))
        .find_map(|tag| ProjectKey::parse(&tag.to_ascii_uppercase()).ok())
}

/// The issue a `+KEY-123` sub-address names, when its project is known.
pub fn plus_issue(msg: &InboundMessage, routing: &RoutingSettings) -> Option<IssueKey> {
    msg.delivered_to_any()
        .filter_map(|a| split_tag(a).1)
        .filter_map(|tag| IssueKey::parse(&tag.to_ascii_uppercase()).ok())
        .find(|k| known(routing, k.project()))
}
