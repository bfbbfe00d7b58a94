//! Plan, then act: what a mail sends to Jira (summary, body, uploads, the
//! attachments left out and why) as a pure function of the parsed mail, the
//! decision and the inbound policy. Shown by `replay --dry-run`, carried out
//! by the pipeline.

use crate::classify::{self, Decision};
use crate::config::InboundSettings;
use crate::domain::{Attachment, InboundMessage, Sha256Digest};

/// An attachment that is not uploaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub filename: String,
    pub reason: SkipReason,
}

/// Why an attachment is not uploaded. Every skip is in the audit trail; the
/// note on the issue lists only what a reader may miss ([`in_note`]).
///
/// [`in_note`]: SkipReason::in_note
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// 0 bytes: nothing to upload (Jira refuses empty files).
    Empty,
    TooLarge {
        limit: u64,
    },
    BlockedExtension(String),
    BlockedName,
    /// A detached signature (`inbound.keep_signatures` off).
    Signature,
    /// An image under `inbound.min_image_bytes`: a tracking pixel, a spacer.
    SmallImage {
        min: u64,
    },
    /// On `inbound.blocked_sha256` (a signature logo); counted per digest.
    BlockedDigest(Sha256Digest),
}

impl SkipReason {
    /// Listed under "Attachments not uploaded:": what the sender meant to
    /// send (an empty or refused file: the agent can ask again) and that a
    /// mail was signed. Not small images nor block-listed files: they are
    /// decoration by definition, and a line about them in every comment
    /// would be the clutter they are left out to avoid.
    pub fn in_note(&self) -> bool {
        !matches!(self, Self::SmallImage { .. } | Self::BlockedDigest(_))
    }

    /// The digest to count, for a block-listed file.
    pub fn blocked_digest(&self) -> Option<&Sha256Digest> {
        match self {
            Self::BlockedDigest(d) => Some(d),
            _ => None,
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("empty"),
            Self::TooLarge { limit } => write!(f, "larger than {limit} bytes"),
            Self::BlockedExtension(ext) => write!(f, "extension .{ext} is blocked"),
            Self::BlockedName => f.write_str("file name is blocked"),
            Self::Signature => f.write_str("signature"),
            Self::SmallImage { min } => write!(f, "image smaller than {min} bytes"),
            Self::BlockedDigest(_) => f.write_str("SHA-256 on the block list"),
        }
    }
}

impl serde::Serialize for SkipReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Content types of detached signatures (RFC 3156 OpenPGP, RFC 8551
/// S/MIME and its older `x-` spelling).
const SIGNATURE_TYPES: &[&str] =
    &["application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"];

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
    let marker = policy.reply_marker.as_deref();
    let (summary, body) = match decision {
        Decision::Ignore(_) => (classify::summary(&msg.subject), String::new()),
        Decision::Comment { .. } => (classify::summary(&msg.subject), body_for(msg, true, &skipped, marker, false)),
        Decision::Create(route) => (
            crate::fields::summary(route, &msg.subject),
            body_for(msg, false, &skipped, marker, !route.directives.is_empty()),
        ),
    };
    Plan { summary, body, uploads, skipped }
}

/// The text a new issue is made from: the mail's, before our reply marker
/// (someone answering a notification as a new mail quotes it), trimmed.
pub fn issue_text<'a>(msg: &'a InboundMessage, reply_marker: Option<&str>) -> &'a str {
    classify::cut_at_marker(&msg.text, reply_marker).trim()
}

/// The attachments to upload, and those skipped by the inbound policy, in
/// the mail's order. Pure and deterministic: every attempt on a mail gets
/// the same uploads in the same order, which the upload resume relies on
/// (it counts uploads done by their index in this list).
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

/// The first rule that leaves `a` out; the cheap ones first, the digest
/// (which reads the whole file) last.
fn skip_reason(a: &Attachment, policy: &InboundSettings) -> Option<SkipReason> {
    let lower = a.filename.to_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let size = a.data.len() as u64;
    if size == 0 {
        Some(SkipReason::Empty)
    } else if size > policy.max_attachment_bytes {
        Some(SkipReason::TooLarge { limit: policy.max_attachment_bytes })
    } else if policy.blocked_extensions.iter().any(|b| b.trim_start_matches('.').eq_ignore_ascii_case(ext)) {
        Some(SkipReason::BlockedExtension(ext.to_string()))
    } else if policy.blocked_filenames.iter().any(|b| b.eq_ignore_ascii_case(&a.filename)) {
        Some(SkipReason::BlockedName)
    } else if !policy.keep_signatures && SIGNATURE_TYPES.contains(&a.content_type.as_str()) {
        Some(SkipReason::Signature)
    } else if a.content_type.starts_with("image/") && size < policy.min_image_bytes {
        Some(SkipReason::SmallImage { min: policy.min_image_bytes })
    } else if !policy.blocked_sha256.is_empty() {
        let digest = Sha256Digest::of(&a.data);
        policy.blocked_sha256.contains(&digest).then_some(SkipReason::BlockedDigest(digest))
    } else {
        None
    }
}

/// Text of a new issue's description or a comment: who wrote, what they
/// wrote (a reply without the quoted part), and what was not uploaded.
/// With `directives` a new issue's directive lines are left out
/// (`crate::fields`).
pub fn body_for(
    msg: &InboundMessage,
    reply: bool,
    skipped: &[Skipped],
    reply_marker: Option<&str>,
    directives: bool,
) -> String {
    // A new issue's text is borrowed, not copied: a long mail's body is the
    // biggest thing in memory.
    let stripped;
    let text: &str = if reply {
        stripped = classify::strip_quoted(&msg.text, reply_marker);
        &stripped
    } else {
        issue_text(msg, reply_marker)
    };
    let mut out = String::with_capacity(text.len() + 128);
    if let Some(from) = &msg.from {
        match &from.name {
            Some(name) => out.push_str(&format!("From: {name} <{}>\n\n", from.address)),
            None => out.push_str(&format!("From: {}\n\n", from.address)),
        }
    }
    let start = out.len();
    if directives && !reply {
        // Copied line by line, in place: no second copy of the text.
        for line in text.split_inclusive('\n').filter(|l| !crate::fields::is_directive_line(l)) {
            out.push_str(line);
        }
        let lead = out[start..].len() - out[start..].trim_start().len();
        out.drain(start..start + lead);
        out.truncate(start + out[start..].trim_end().len());
    } else {
        out.push_str(text);
    }
    if out.len() == start {
        out.push_str("(no text)");
    }
    let mut listed = skipped.iter().filter(|s| s.reason.in_note()).peekable();
    if listed.peek().is_some() {
        out.push_str("\n\nAttachments not uploaded:");
        for s in listed {
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
        let reasons: Vec<String> = p.skipped.iter().map(|s| s.reason.to_string()).collect();
        assert_eq!(reasons, ["larger than 10 bytes", "extension .exe is blocked", "file name is blocked"]);
        assert!(p.body.ends_with("- WINMAIL.DAT (file name is blocked)"), "{}", p.body);
    }

    fn typed(name: &str, content_type: &str, data: &[u8]) -> Attachment {
        Attachment { filename: name.into(), content_type: content_type.into(), data: data.to_vec().into() }
    }

    fn skipped(p: &Plan<'_>) -> Vec<(String, String)> {
        p.skipped.iter().map(|s| (s.filename.clone(), s.reason.to_string())).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn empty_files_and_signatures_are_skipped_and_listed() {
        let msg = mail(
            "x",
            vec![
                typed("empty.pdf", "application/pdf", b""),
                typed("signature.asc", "application/pgp-signature", b"-----BEGIN PGP SIGNATURE-----"),
                typed("smime.p7s", "application/pkcs7-signature", &[0x30, 0x82]),
                typed("old.p7s", "application/x-pkcs7-signature", &[0x30, 0x82]),
                typed("key.asc", "application/pgp-keys", b"-----BEGIN PGP PUBLIC KEY BLOCK-----"),
            ],
        );
        let p = plan(&msg, &comment(), &InboundSettings::default());
        let names: Vec<&str> = p.uploads.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(names, ["key.asc"]);
        assert_eq!(
            skipped(&p),
            pairs(&[
                ("empty.pdf", "empty"),
                ("signature.asc", "signature"),
                ("smime.p7s", "signature"),
                ("old.p7s", "signature")
            ])
        );
        assert!(
            p.body.ends_with(
                "Attachments not uploaded:\n- empty.pdf (empty)\n- signature.asc (signature)\n- smime.p7s (signature)\n- old.p7s (signature)"
            ),
            "{}",
            p.body
        );

        let keep = InboundSettings { keep_signatures: true, ..InboundSettings::default() };
        let p = plan(&msg, &comment(), &keep);
        assert_eq!(p.uploads.len(), 4);
        assert_eq!(skipped(&p), pairs(&[("empty.pdf", "empty")]));
    }

    #[test]
    fn small_images_inline_or_not_are_skipped_without_a_line_in_the_note() {
        let pixel: &[u8] =
            b"GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
        let msg = mail(
            "x",
            vec![
                typed("image.gif", "image/gif", pixel),
                typed("screen.png", "image/png", &[7; 1024]),
                typed("tiny.txt", "text/plain", b"ok"),
            ],
        );
        let p = plan(&msg, &comment(), &InboundSettings::default());
        let names: Vec<&str> = p.uploads.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(names, ["screen.png", "tiny.txt"]);
        assert_eq!(skipped(&p), pairs(&[("image.gif", "image smaller than 1024 bytes")]));
        assert!(!p.body.contains("not uploaded"), "{}", p.body);

        let every_image = InboundSettings { min_image_bytes: 0, ..InboundSettings::default() };
        assert_eq!(plan(&msg, &comment(), &every_image).uploads.len(), 3);
    }

    #[test]
    fn block_listed_files_are_skipped_by_digest_whatever_their_name() {
        let logo = vec![9u8; 4000];
        let digest = Sha256Digest::of(&logo);
        let policy = InboundSettings { blocked_sha256: vec![digest.clone()], ..InboundSettings::default() };
        let msg = mail(
            "x",
            vec![
                typed("image001.png", "image/png", &logo),
                typed("photo.png", "image/png", &[8; 4000]),
                typed("logo-copy.jpg", "image/jpeg", &logo),
            ],
        );
        let p = plan(&msg, &comment(), &policy);
        let names: Vec<&str> = p.uploads.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(names, ["photo.png"]);
        assert_eq!(
            skipped(&p),
            pairs(&[("image001.png", "SHA-256 on the block list"), ("logo-copy.jpg", "SHA-256 on the block list")])
        );
        let counted: Vec<&Sha256Digest> = p.skipped.iter().filter_map(|s| s.reason.blocked_digest()).collect();
        assert_eq!(counted, [&digest, &digest]);
        assert!(!p.body.contains("not uploaded"), "{}", p.body);
    }

    #[test]
    fn two_files_of_one_name_are_two_uploads_in_the_same_order_every_time() {
        let raw = "From: a@b.test\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n\r\nfirst\r\n--b\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n\r\nsecond\r\n--b--\r\n";
        let names = || {
            let msg = crate::mime::parse(raw.as_bytes()).expect("parses");
            let (uploads, _) = select_attachments(&msg.attachments, &InboundSettings::default());
            uploads.iter().map(|a| a.filename.clone()).collect::<Vec<_>>()
        };
        assert_eq!(names(), ["report.pdf", "report (2).pdf"]);
        assert_eq!(names(), names(), "a resumed attempt sees the same list");
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
