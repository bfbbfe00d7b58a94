//! Plan, then act: what a mail sends to Jira (summary, body, uploads, the
//! attachments left out and why) as a pure function of the parsed mail, the
//! decision and the inbound policy. Shown by `replay --dry-run`, carried out
//! by the pipeline.

use crate::classify::{self, Decision};
use crate::config::InboundSettings;
use crate::domain::{Attachment, InboundMessage};

/// An attachment that is not uploaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub filename: String,
    pub reason: String,
}

/// What a mail would send to Jira.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    pub summary: String,
    /// The description of a new issue, or the comment's text.
    pub body: String,
    pub uploads: Vec<&'a Attachment>,
    pub skipped: Vec<Skipped>,
}

/// The plan for `msg` under `decision` (an ignored mail gets an empty body).
pub fn plan<'a>(msg: &'a InboundMessage, decision: &Decision, policy: &InboundSettings) -> Plan<'a> {
    let (uploads, skipped) = select_attachments(&msg.attachments, policy);
    let body = match decision {
        Decision::Ignore(_) => String::new(),
        Decision::Comment { .. } => body_for(msg, true, &skipped, policy.reply_marker.as_deref()),
        Decision::Create(_) => body_for(msg, false, &skipped, policy.reply_marker.as_deref()),
    };
    Plan { summary: classify::summary(&msg.subject), body, uploads, skipped }
}

/// The attachments to upload, and those skipped by size or name policy.
pub fn select_attachments<'a>(all: &'a [Attachment], policy: &InboundSettings) -> (Vec<&'a Attachment>, Vec<Skipped>) {
    let mut keep = Vec::new();
    let mut skipped = Vec::new();
    for a in all {
        match skip_reason(a, policy) {
            Some(reason) => skipped.push(Skipped { filename: a.filename.clone(), reason }),
            None => keep.push(a),
        }
    }
    (keep, skipped)
}

fn skip_reason(a: &Attachment, policy: &InboundSettings) -> Option<String> {
    let lower = a.filename.to_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if a.data.len() as u64 > policy.max_attachment_bytes {
        Some(format!("larger than {} bytes", policy.max_attachment_bytes))
    } else if policy.blocked_extensions.iter().any(|b| b.trim_start_matches('.').eq_ignore_ascii_case(ext)) {
        Some(format!("extension .{ext} is blocked"))
    } else if policy.blocked_filenames.iter().any(|b| b.eq_ignore_ascii_case(&a.filename)) {
        Some("file name is blocked".to_string())
    } else {
        None
    }
}

/// Text of a new issue's description or a comment: who wrote, what they
/// wrote (a reply without the quoted part), and what was not uploaded.
pub fn body_for(msg: &InboundMessage, reply: bool, skipped: &[Skipped], reply_marker: Option<&str>) -> String {
    // A new issue's text is borrowed, not copied: a long mail's body is the
    // biggest thing in memory. It is cut at our reply marker too: someone
    // answering a notification as a new mail (or forwarding one) quotes it.
    let stripped;
    let text: &str = if reply {
        stripped = classify::strip_quoted(&msg.text, reply_marker);
        &stripped
    } else {
        classify::cut_at_marker(&msg.text, reply_marker).trim()
    };
    let mut out = String::with_capacity(text.len() + 128);
    if let Some(from) = &msg.from {
        match &from.name {
            Some(name) => out.push_str(&format!("From: {name} <{}>\n\n", from.address)),
            None => out.push_str(&format!("From: {}\n\n", from.address)),
        }
    }
    out.push_str(if text.is_empty() { "(no text)" } else { text });
    if !skipped.is_empty() {
        out.push_str("\n\nAttachments not uploaded:");
        for s in skipped {
            out.push_str(&format!("\n- {} ({})", s.filename, s.reason));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{IgnoreReason, ReplyMatch};
    use crate::domain::{EmailAddress, IssueKey, Mailbox};

    fn policy() -> InboundSettings {
        let mut p: InboundSettings = toml::from_str("").expect("defaults");
        p.max_attachment_bytes = 10;
        p.blocked_extensions = vec!["exe".into()];
        p.blocked_filenames = vec!["winmail.dat".into()];
        p
    }

    fn attachment(name: &str, size: usize) -> Attachment {
        Attachment {
            filename: name.into(),
            content_type: "application/octet-stream".into(),
            data: vec![0; size].into(),
        }
    }

    fn mail(text: &str, attachments: Vec<Attachment>) -> InboundMessage {
        InboundMessage {
            subject: "Re: Printer".into(),
            text: text.into(),
            from: Some(Mailbox { name: Some("Ann".into()), address: EmailAddress::parse("ann@c.test").expect("a") }),
            attachments,
            ..Default::default()
        }
    }

    fn comment() -> Decision {
        Decision::Comment { issue: IssueKey::parse("HELP-1").expect("key"), matched_by: ReplyMatch::SubjectKey }
    }

    #[test]
    fn attachments_are_skipped_by_size_extension_and_name() {
        let msg = mail(
            "x",
            vec![
                attachment("ok.txt", 3),
                attachment("big.pdf", 11),
                attachment("run.EXE", 1),
                attachment("WINMAIL.DAT", 1),
            ],
        );
        let p = plan(&msg, &comment(), &policy());
        let names: Vec<&str> = p.uploads.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(names, ["ok.txt"]);
        let reasons: Vec<&str> = p.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons, ["larger than 10 bytes", "extension .exe is blocked", "file name is blocked"]);
        assert!(p.body.ends_with("- WINMAIL.DAT (file name is blocked)"), "{}", p.body);
    }

    #[test]
    fn a_comment_drops_the_quoted_part_and_names_the_sender() {
        let msg = mail("Fixed, thanks.\n\nOn Monday Bob wrote:\n> old text\n", Vec::new());
        let p = plan(&msg, &comment(), &policy());
        assert_eq!(p.body, "From: Ann <ann@c.test>\n\nFixed, thanks.");
        assert_eq!(p.summary, "Printer");
    }

    #[test]
    fn an_empty_text_says_so_and_an_ignored_mail_has_no_body() {
        let msg = mail("  ", Vec::new());
        assert!(plan(&msg, &comment(), &policy()).body.ends_with("(no text)"));
        assert_eq!(plan(&msg, &Decision::Ignore(IgnoreReason::NoSender), &policy()).body, "");
    }
}
