//! Mail no person wrote: auto-replies, bounces, list-server notices, our
//! own notifications sent back. Such mail must neither create an issue nor
//! comment (a vacation reply to a notification would otherwise loop).
//!
//! Headers come first (they are meant for machines and rarely lie), then
//! subjects, which are only taken as prefixes in the exact forms the
//! auto-responders and MTAs write; a person's "Out of office until Monday,
//! please help" is rare, "Undeliverable packages" is not, so single words
//! need their colon.

use crate::domain::{EmailAddress, InboundMessage};

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
    /// An out-of-office or other auto-reply without `Auto-Submitted`.
    AutoReply(AutoReplySign),
    /// A bounce that is not a multipart/report with a null sender.
    Bounce(BounceSign),
    /// Other machine mail: loops, Jira's own notifications, list servers.
    Automated(AutomatedSign),
}

/// What gave an auto-reply away.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "sign", content = "value")]
pub enum AutoReplySign {
    /// The subject starts with this auto-reply prefix ("Automatic reply").
    Subject(String),
    /// `X-Auto-Response-Suppress: All` with `X-MS-Exchange-Inbox-Rules-Loop`.
    ExchangeOutOfOffice,
}

/// What gave a bounce away.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "sign", content = "value")]
pub enum BounceSign {
    /// The subject starts with this bounce phrase ("Returned mail").
    Subject(String),
    /// `X-Failed-Recipients` header.
    FailedRecipients,
    /// An Amazon SES bounce/complaint/delivery notice sent through SNS.
    AmazonSes,
    /// A mailbox provider's abuse complaint ("complaint about message from
    /// 192.0.2.1", Hotmail's feedback loop).
    Complaint,
}

/// What gave other machine mail away.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "sign", content = "value")]
pub enum AutomatedSign {
    /// `X-Loop` with this value.
    LoopHeader(String),
    /// `X-JIRA-FingerPrint`: a Jira notification, likely our own.
    JiraNotification,
    /// A notice from list software's admin address.
    ListServer(String),
}

impl IgnoreReason {
    /// Whether the mail reports failed deliveries, so the caller may look
    /// in it for addresses to suppress ([`super::dsn`], [`super::suppress`]).
    pub fn is_bounce(&self) -> bool {
        match self {
            Self::DeliveryReport | Self::NullReturnPath => true,
            Self::Bounce(sign) => !matches!(sign, BounceSign::Complaint),
            _ => false,
        }
    }
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
            // "auto-reply" first: the statistics key the text by its start.
            Self::AutoReply(AutoReplySign::Subject(p)) => write!(f, "auto-reply (subject starts with \"{p}\")"),
            Self::AutoReply(AutoReplySign::ExchangeOutOfOffice) => {
                f.write_str("auto-reply (Exchange out-of-office: X-Auto-Response-Suppress, Inbox-Rules-Loop)")
            }
            Self::Bounce(BounceSign::Subject(p)) => write!(f, "bounce (subject starts with \"{p}\")"),
            Self::Bounce(BounceSign::FailedRecipients) => f.write_str("bounce (X-Failed-Recipients)"),
            Self::Bounce(BounceSign::AmazonSes) => f.write_str("bounce (Amazon SES notification)"),
            Self::Bounce(BounceSign::Complaint) => f.write_str("bounce (abuse complaint report)"),
            Self::Automated(AutomatedSign::LoopHeader(v)) => write!(f, "automated mail (X-Loop: {v})"),
            Self::Automated(AutomatedSign::JiraNotification) => {
                f.write_str("automated mail (Jira notification, X-JIRA-FingerPrint)")
            }
            Self::Automated(AutomatedSign::ListServer(a)) => write!(f, "automated mail (list server notice from {a})"),
        }
    }
}

/// Local parts of MTA senders. Addresses are lower-cased when parsed, so
/// `MAILER-DAEMON@…` matches too.
const DAEMON_LOCAL_PARTS: &[&str] =
    &["mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "postmaster", "post_master"];

/// Auto-reply subject prefixes (lower case), each followed by `:` or `：`.
/// Outlook, Exchange, Gmail, Apple Mail, Zimbra and common vacation
/// programs in the languages we see.
const AUTO_REPLY_PREFIXES: &[&str] = &[
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "automatic reply",
    "automatic response",
    "automated reply",
    "out of office",
    "out of office reply",
    "out of office autoreply",
    "out of the office",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "reponse automatique",
    "absence du bureau",
    "respuesta automática",
    "respuesta automatica",
    "risposta automatica",
    "automatisch antwoord",
    "resposta automática",
    "resposta automatica",
    "automatiskt svar",
    "automatisk svar",
    "autosvar",
    "odpowiedź automatyczna",
    "自動応答",
    "自動返信",
    "自动回复",
    "自動回覆",
];

/// Bounce subject prefixes (lower case) that stand on their own: the
/// phrase is followed by the end, a space or punctuation.
const BOUNCE_PHRASES: &[&str] = &[
    "undelivered mail returned to sender",
    "delivery status notification",
    "mail delivery failed",
    "mail delivery failure",
    "delivery notification: delivery has failed",
    "mail system error - returned mail",
    "warning: could not send message",
    "undeliverable mail",
    "undeliverable message",
    "undelivered message",
    "message delivery failure",
    "delivery failure notification",
    "nondeliverable mail",
    "mail could not be delivered",
    "postmaster notify: see transcript",
    "returned mail: see transcript",
    "メールエラー通知",
];

/// Single-word (or short) bounce prefixes that only count with a colon.
const BOUNCE_COLON_PREFIXES: &[&str] = &[
    "returned mail",
    "undeliverable",
    "undelivered",
    "non remis",
    "non distribuable",
    "unzustellbar",
    "nicht zustellbar",
    "no se puede entregar",
    "no entregado",
    "non recapitabile",
    "onbestelbaar",
    "não entregue",
    "nao entregue",
    "配信不能",
    "无法投递",
    "無法傳遞",
];

/// Subjects that are the whole subject (qmail's "failure notice").
const BOUNCE_EXACT: &[&str] = &["failure notice", "delivery failure", "returned mail"];

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
        // `auto-replied (zimbra; vacation)`, `auto-replied; owner-email=…`:
        // the keyword is what counts.
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
    if let Some(reason) = header_sign(msg) {
        return Some(reason);
    }
    let Some(sender) = msg.sender() else {
        return Some(IgnoreReason::NoSender);
    };
    if own.contains(sender) {
        return Some(IgnoreReason::OwnAddress(sender.to_string()));
    }
    if DAEMON_LOCAL_PARTS.contains(&sender.local_part()) {
        // Kept as the null-return-path reason: the pipeline reads bounced
        // addresses from mail ignored for it.
        return Some(IgnoreReason::NullReturnPath);
    }
    if msg.list_software || msg.list_id.is_some() {
        let local = sender.local_part();
        let admin = ["-admin", "-owner", "-request", "-bounces"].iter().any(|s| local.ends_with(s))
            || local.starts_with("owner-");
        if admin {
            return Some(IgnoreReason::Automated(AutomatedSign::ListServer(sender.to_string())));
        }
    }
    if sender.domain().ends_with("sns.amazonaws.com")
        && msg.subject.trim().eq_ignore_ascii_case("AWS Notification Message")
        && msg.text.contains("notificationType")
    {
        return Some(IgnoreReason::Bounce(BounceSign::AmazonSes));
    }
    subject_sign(&msg.subject)
}

/// Machine headers other than the RFC 3834 ones.
fn header_sign(msg: &InboundMessage) -> Option<IgnoreReason> {
    if msg.x_jira_fingerprint {
        return Some(IgnoreReason::Automated(AutomatedSign::JiraNotification));
    }
    if msg.x_failed_recipients {
        return Some(IgnoreReason::Bounce(BounceSign::FailedRecipients));
    }
    // Exchange marks its out-of-office replies so; the pair, not either
    // header alone (Outlook sets the first on ordinary mail too).
    let suppress_all = msg.x_auto_response_suppress.as_deref().is_some_and(|v| {
        v.split(',').any(|t| t.trim().eq_ignore_ascii_case("all") || t.trim().eq_ignore_ascii_case("oof"))
    });
    if suppress_all && msg.x_ms_inbox_rules_loop {
        return Some(IgnoreReason::AutoReply(AutoReplySign::ExchangeOutOfOffice));
    }
    if let Some(v) = msg.x_loop.as_deref().filter(|v| !v.is_empty()) {
        return Some(IgnoreReason::Automated(AutomatedSign::LoopHeader(v.to_string())));
    }
    None
}

/// An auto-reply or bounce subject, by prefix.
pub fn subject_sign(subject: &str) -> Option<IgnoreReason> {
    let lower = subject.trim().to_lowercase();
    if let Some(p) = AUTO_REPLY_PREFIXES.iter().find(|p| colon_prefix(&lower, p)) {
        return Some(IgnoreReason::AutoReply(AutoReplySign::Subject((*p).to_string())));
    }
    let bounce = BOUNCE_EXACT.iter().find(|p| lower == **p).or_else(|| {
        BOUNCE_PHRASES
            .iter()
            .find(|p| phrase_prefix(&lower, p))
            .or_else(|| BOUNCE_COLON_PREFIXES.iter().find(|p| colon_prefix(&lower, p)))
    });
    if let Some(p) = bounce {
        return Some(IgnoreReason::Bounce(BounceSign::Subject((*p).to_string())));
    }
    complaint_subject(&lower).then_some(IgnoreReason::Bounce(BounceSign::Complaint))
}

/// `prefix` then optional spaces then `:` or `：` ("Réponse automatique :").
fn colon_prefix(lower: &str, prefix: &str) -> bool {
    lower.strip_prefix(prefix).is_some_and(|rest| rest.trim_start().starts_with([':', '：']))
}

/// `phrase` at the start, not running on into a longer word.
fn phrase_prefix(lower: &str, phrase: &str) -> bool {
    lower.strip_prefix(phrase).is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
}

/// Hotmail's feedback-loop subject: "complaint about message from <IP>".
fn complaint_subject(lower: &str) -> bool {
    lower.strip_prefix("complaint about message from ").is_some_and(|ip| ip.trim().parse::<std::net::IpAddr>().is_ok())
}

#[cfg(test)]
mod tests;
