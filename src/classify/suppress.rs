//! Which addresses a bounce may stop notifications to. Pure: the caller
//! reads the bounce ([`super::dsn::read`]) and looks up, in the outbox, the
//! mails we sent under the Message-IDs it references.
//!
//! Anyone can send us a mail that looks like a bounce, so a bounce counts
//! only for a mail we sent, to the recipient we sent it to, and only when
//! the failure is permanent:
//!
//! * a delivery status notification (RFC 3464) suppresses the recipient of
//!   each block with `Action: failed` and a `Status: 5.x.x` whose
//!   `Final-Recipient` or `Original-Recipient` is the address our
//!   referenced mail went to (the address we sent to is suppressed, also
//!   when it forwarded to the final one);
//! * `Action: delayed`, `delivered`, `relayed`, `expanded` and 4.x.x
//!   statuses never suppress, nor do read receipts (RFC 8098) and other
//!   reports;
//! * a prose bounce (qmail, Exim, …) suppresses an address only when the
//!   address is named as failed (`X-Failed-Recipients` or qmail's
//!   `<address>:` line), the mail it references went to that address, the
//!   text says the failure is permanent, and nothing in it says the
//!   delivery is only delayed or will be retried.
//!
//! A forger must know a Message-ID we sent to the victim, which only the
//! victim's mailbox has seen.

use super::dsn::{BounceReport, ReportKind};
use crate::domain::{EmailAddress, MessageId};

/// One mail we sent: its Message-ID and its (single) recipient; outbox rows
/// have one recipient each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub message_id: MessageId,
    pub recipient: EmailAddress,
}

/// An address to stop notifying, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub address: EmailAddress,
    /// Our mail that bounced.
    pub message_id: MessageId,
    /// The DSN status (`5.1.1`), or `permanent` for a prose bounce.
    pub status: String,
}

/// Why a bounce suppressed nothing (for the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSuppression {
    /// A read receipt or other non-delivery report.
    NotADeliveryFailure,
    /// It references no mail we sent.
    NotOurMail,
    /// It reports no permanent failure for a recipient of our mail.
    NoPermanentFailure,
}

impl std::fmt::Display for NoSuppression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotADeliveryFailure => "not a delivery failure report (read receipt or other report)",
            Self::NotOurMail => "references no mail mailgate sent",
            Self::NoPermanentFailure => "reports no permanent failure for a recipient of our mail",
        })
    }
}

/// The addresses `report` suppresses, given `sent`: the mails we sent
/// under the ids in `report.references` (others in `sent` are ignored).
pub fn suppressions(report: &BounceReport, sent: &[SentMail]) -> Result<Vec<Suppression>, NoSuppression> {
    if matches!(report.kind, ReportKind::Disposition | ReportKind::OtherReport) {
        return Err(NoSuppression::NotADeliveryFailure);
    }
    let ours: Vec<&SentMail> = sent.iter().filter(|s| report.references.contains(&s.message_id)).collect();
    if ours.is_empty() {
        return Err(NoSuppression::NotOurMail);
    }
    let mut out: Vec<Suppression> = Vec::new();
    let mut add = |s: &SentMail, status: String| {
        if !out.iter().any(|o| o.address == s.recipient) {
            out.push(Suppression { address: s.recipient.clone(), message_id: s.message_id.clone(), status });
        }
    };
    match report.kind {
        ReportKind::DeliveryStatus => {
            for r in report.recipients.iter().filter(|r| r.is_permanent_failure()) {
                let named = |a: &EmailAddress| {
                    r.final_recipient.as_ref() == Some(a) || r.original_recipient.as_ref() == Some(a)
                };
                for s in ours.iter().filter(|s| named(&s.recipient)) {
                    add(s, r.status.map(|st| st.to_string()).unwrap_or_default());
                }
            }
        }
        ReportKind::Plain if report.plain.says_permanent && !report.plain.says_delayed => {
            for s in ours.iter().filter(|s| report.plain.failed_recipients.contains(&s.recipient)) {
                add(s, "permanent".into());
            }
        }
        _ => {}
    }
    if out.is_empty() { Err(NoSuppression::NoPermanentFailure) } else { Ok(out) }
}
