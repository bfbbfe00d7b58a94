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
/// repeated, as mail-parser's `header_raw`), UTF-8 only.
pub(super) struct Raw<'a>([Option<&'a str>; NAMES.len()]);

impl<'a> Raw<'a> {
    pub(super) fn of(msg: &'a Message<'a>) -> Self {
        let mut found = [None; NAMES.len()];
        let Some(root) = msg.parts.first() else { return Self(found) };
        for h in &root.headers {
            let name = h.name.as_str();
            if let Some(i) = NAMES.iter().position(|n| n.eq_ignore_ascii_case(name)) {
                let bytes = msg.raw_message.get(h.offset_start as usize..h.offset_end as usize);
                found[i] = bytes.and_then(|b| std::str::from_utf8(b).ok());
            }
        }
        Self(found)
    }

    pub(super) fn has(&self, f: Field) -> bool {
        self.0[f as usize].is_some()
    }

    /// The value, trimmed.
    pub(super) fn text(&self, f: Field) -> Option<String> {
        self.0[f as usize].map(|v| v.trim().to_string())
    }
}

/// Every value of the envelope-recipient fields (`Delivered-To` is added
/// once per delivery hop; `X-Original-To` by Postfix), in order.
pub(super) fn envelope_recipients<'a>(msg: &'a Message<'a>) -> Vec<&'a str> {
    let Some(root) = msg.parts.first() else { return Vec::new() };
    root.headers
        .iter()
        .filter(|h| {
            let n = h.name.as_str();
            n.eq_ignore_ascii_case("Delivered-To") || n.eq_ignore_ascii_case("X-Original-To")
        })
        .filter_map(|h| msg.raw_message.get(h.offset_start as usize..h.offset_end as usize))
        .filter_map(|b| std::str::from_utf8(b).ok())
        .collect()
}
