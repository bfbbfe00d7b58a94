//! The header fields classification reads, raw, found in one pass over the
//! header (a lookup per name scans every field each time: ten of them were
//! a tenth of our parsing cost on the shared corpora).

use mail_parser::Message;

/// The fields, in the order of [`Field`].
const NAMES: [&str; 15] = [
    "Auto-Submitted",
    "Precedence",
    "X-Autoreply",
    "X-Autorespond",
    "List-Id",
    "Return-Path",
    "X-Mailgate-Loop",
    "X-Auto-Response-Suppress",
    "X-MS-Exchange-Inbox-Rules-Loop",
    "X-Loop",
    "X-JIRA-FingerPrint",
    "X-Failed-Recipients",
    "X-MLServer",
    "X-ML-Name",
    "Mailing-List",
];

#[derive(Clone, Copy)]
pub(super) enum Field {
    AutoSubmitted,
    Precedence,
    XAutoreply,
    XAutorespond,
    ListId,
    ReturnPath,
    XMailgateLoop,
    XAutoResponseSuppress,
    XMsInboxRulesLoop,
    XLoop,
    XJiraFingerPrint,
    XFailedRecipients,
    XMlServer,
    XMlName,
    MailingList,
}

/// The raw value of each field of the top-level header (the last one when
/// repeated, as mail-parser's `header_raw`), UTF-8 only; and every value of
/// the envelope-recipient fields (`Delivered-To` is added once per delivery
/// hop, `X-Original-To` by Postfix), in order.
pub(super) struct Raw<'a> {
    fields: [Option<&'a str>; NAMES.len()],
    envelope: Vec<&'a str>,
}

impl<'a> Raw<'a> {
    pub(super) fn of(msg: &'a Message<'a>) -> Self {
        let mut out = Self { fields: [None; NAMES.len()], envelope: Vec::new() };
        let Some(root) = msg.parts.first() else { return out };
        for h in &root.headers {
            let name = h.name.as_str();
            let value = || {
                let bytes = msg.raw_message.get(h.offset_start as usize..h.offset_end as usize);
                bytes.and_then(|b| std::str::from_utf8(b).ok())
            };
            if let Some(i) = NAMES.iter().position(|n| n.eq_ignore_ascii_case(name)) {
                out.fields[i] = value();
            } else if name.eq_ignore_ascii_case("Delivered-To") || name.eq_ignore_ascii_case("X-Original-To") {
                out.envelope.extend(value());
            }
        }
        out
    }

    pub(super) fn has(&self, f: Field) -> bool {
        self.fields[f as usize].is_some()
    }

    /// The value, trimmed.
    pub(super) fn text(&self, f: Field) -> Option<String> {
        self.fields[f as usize].map(|v| v.trim().to_string())
    }

    /// The envelope recipients' raw values.
    pub(super) fn envelope(&self) -> &[&'a str] {
        &self.envelope
    }
}
