//! Pure decisions about an inbound mail: ignore it, create an issue, or
//! comment on an existing one. No I/O: thread lookups are passed in.

use std::collections::HashMap;

use crate::config::{RouteTarget, RoutingSettings};
use crate::domain::{EmailAddress, InboundMessage, IssueKey, MessageId};

/// Why a mail creates nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum IgnoreReason {
    AutoSubmitted(String),
    AutoReplyHeader,
    Precedence(String),
    DeliveryReport,
    NullReturnPath,
    OwnAddress(String),
    MailgateLoop,
    NoSender,
    Duplicate,
    /// Too many mails from one sender within an hour (a loop).
    MailStorm(String),
}

impl std::fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AutoSubmitted(v) => write!(f, "auto-submitted mail (Auto-Submitted: {v})"),
            Self::AutoReplyHeader => f.write_str("auto-reply (X-Autoreply/X-Autorespond)"),
            Self::Precedence(v) => write!(f, "bulk mail (Precedence: {v})"),
            Self::DeliveryReport => f.write_str("delivery report (multipart/report)"),
            Self::NullReturnPath => f.write_str("null return path (bounce)"),
            Self::OwnAddress(a) => write!(f, "sent from our own address {a}"),
            Self::MailgateLoop => f.write_str("mail sent by mailgate itself"),
            Self::NoSender => f.write_str("no usable From address"),
            Self::Duplicate => f.write_str("duplicate Message-ID"),
            Self::MailStorm(s) => write!(f, "mail storm: too many mails from {s} within an hour"),
        }
    }
}

/// How a reply found its issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyMatch {
    SubjectKey,
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

/// Auto-replies, bounces, our own mail: anything that must not create or
/// comment. `None` means a person wrote it.
pub fn ignore_reason(msg: &InboundMessage, own: &[EmailAddress]) -> Option<IgnoreReason> {
    if msg.x_mailgate_loop {
        return Some(IgnoreReason::MailgateLoop);
    }
    if msg.is_report {
        return Some(IgnoreReason::DeliveryReport);
    }
    if msg.null_return_path {
        return Some(IgnoreReason::NullReturnPath);
    }
    if let Some(v) = &msg.auto_submitted {
        let token = v.split([';', '(']).next().unwrap_or("").trim().to_ascii_lowercase();
        if token != "no" && !token.is_empty() {
            return Some(IgnoreReason::AutoSubmitted(token));
        }
    }
    if msg.x_autoreply {
        return Some(IgnoreReason::AutoReplyHeader);
    }
    if let Some(p) = &msg.precedence {
        let p = p.trim().to_ascii_lowercase();
        if matches!(p.as_str(), "bulk" | "junk" | "list" | "auto_reply") {
            return Some(IgnoreReason::Precedence(p));
        }
    }
    let Some(sender) = msg.sender() else {
        return Some(IgnoreReason::NoSender);
    };
    if own.contains(sender) {
        return Some(IgnoreReason::OwnAddress(sender.to_string()));
    }
    let local = sender.local_part();
    if matches!(local, "mailer-daemon" | "postmaster") {
        return Some(IgnoreReason::NullReturnPath);
    }
    None
}

/// The routing rule for a mail: first rule matching any To/Cc recipient,
/// else the default.
pub fn route<'a>(msg: &InboundMessage, routing: &'a RoutingSettings) -> &'a RouteTarget {
    let recipients: Vec<&EmailAddress> = msg.recipients().collect();
    routing
        .rules
        .iter()
        .find(|rule| {
            recipients.iter().any(|r| {
                rule.recipient.as_ref().is_some_and(|want| want == *r)
                    || rule.domain.as_ref().is_some_and(|d| r.domain().eq_ignore_ascii_case(d.trim_start_matches('@')))
            })
        })
        .map(|rule| &rule.target)
        .unwrap_or(&routing.default)
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
    if let Some(key) = msg.in_reply_to.iter().find_map(|id| threads.get(id)) {
        return Decision::Comment { issue: key.clone(), matched_by: ReplyMatch::InReplyTo };
    }
    if let Some(key) = msg.references.iter().rev().find_map(|id| threads.get(id)) {
        return Decision::Comment { issue: key.clone(), matched_by: ReplyMatch::References };
    }
    Decision::Create(route(msg, routing).clone())
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

/// Cut quoted reply text: `>` lines, "On … wrote:" headers, Outlook
/// "-----Original Message-----" and "From: … Sent:" blocks, and the
/// configured "reply above this line" marker.
pub fn strip_quoted(text: &str, marker: Option<&str>) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let lower = t.to_lowercase();
        let next = lines.get(i + 1).map(|l| l.trim().to_lowercase()).unwrap_or_default();
        let cut = marker.is_some_and(|m| !m.trim().is_empty() && t.contains(m.trim()))
            || lower.starts_with("-----original message-----")
            || lower.starts_with("-----ursprüngliche nachricht-----")
            || ((lower.starts_with("on ") || lower.starts_with("am "))
                && (ends_with_wrote(&lower) || (!next.is_empty() && ends_with_wrote(&next) && next.len() < 80)))
            || (is_header_line(&lower, &["from:", "von:"])
                && lines[i + 1..]
                    .iter()
                    .take(4)
                    .any(|l| is_header_line(&l.trim().to_lowercase(), &["sent:", "gesendet:", "date:", "datum:"])));
        if cut {
            end = i;
            break;
        }
    }
    let kept: Vec<&str> = lines[..end].iter().copied().filter(|l| !l.trim_start().starts_with('>')).collect();
    kept.join("\n").trim().to_string()
}

fn ends_with_wrote(lower: &str) -> bool {
    lower.ends_with("wrote:")
        || lower.ends_with("schrieb:")
        || lower.ends_with("a écrit :")
        || lower.ends_with("a écrit:")
}

fn is_header_line(lower: &str, names: &[&str]) -> bool {
    let l = lower.trim_start_matches('*');
    names.iter().any(|n| l.starts_with(n))
}

#[cfg(test)]
mod tests;

/// Addresses a bounce reports as failed: `Final-Recipient: rfc822; …`
/// lines of a delivery-status report and `X-Failed-Recipients:` headers.
pub fn bounced_addresses(raw: &[u8]) -> Vec<EmailAddress> {
    let text = String::from_utf8_lossy(raw);
    let mut out: Vec<EmailAddress> = Vec::new();
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        let value = if let Some(v) = lower.strip_prefix("final-recipient:") {
            v.split_once(';').map(|(_, a)| a.to_string())
        } else {
            lower.strip_prefix("x-failed-recipients:").map(String::from)
        };
        for part in value.iter().flat_map(|v| v.split(',')) {
            if let Ok(a) = EmailAddress::parse(part.trim())
                && !out.contains(&a)
            {
                out.push(a);
            }
        }
    }
    out
}
