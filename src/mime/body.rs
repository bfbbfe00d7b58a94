//! Which parts make the mail's text. mail-parser lists the parts a reader
//! would show (`text_body`: inline text and HTML, the plain alternative when
//! there is one) and, for HTML readers, `html_body`. On top of that:
//! - several inline text parts are joined in order (Apple Mail splits the
//!   text around an inline image);
//! - a text part that has a file name is an attachment, not text (a log
//!   pasted as `build.log`, `inline; filename=notes.txt`);
//! - a blank `text/plain` alternative beside a non-empty HTML one (mail
//!   written in HTML by clients that send an empty plain part) gives the
//!   HTML's text, not "(no text)".

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// The mail's text, newlines normalised and trailing space trimmed.
pub(super) fn text(msg: &Message<'_>) -> String {
    let out = join(msg, &msg.text_body);
    if !out.trim().is_empty() {
        return out;
    }
    join(msg, &msg.html_body)
}

/// Text parts listed in `text_body` that have a file name: they go to the
/// attachments (mail-parser leaves them out of its attachment list).
pub(super) fn named_text_parts(msg: &Message<'_>) -> Vec<usize> {
    msg.text_body
        .iter()
        .map(|&i| i as usize)
        .filter(|&i| msg.parts.get(i).is_some_and(|p| is_named_text(p) && i != 0))
        .collect()
}

fn is_named_text(part: &MessagePart<'_>) -> bool {
    matches!(part.body, PartType::Text(_) | PartType::Html(_))
        && part.attachment_name().is_some_and(|n| !n.trim().is_empty())
}

fn join(msg: &Message<'_>, ids: &[u32]) -> String {
    let mut out = String::new();
    for (i, part) in ids.iter().filter_map(|&i| msg.parts.get(i as usize).map(|p| (i, p))) {
        // The root part is the mail itself: its name does not make it a file.
        if i != 0 && is_named_text(part) {
            continue;
        }
        let before = out.len();
        if !out.is_empty() {
            out.push('\n');
        }
        match &part.body {
            PartType::Text(t) => push_normalised(&mut out, t),
            PartType::Html(h) => out.push_str(&super::html_to_text(h)),
            _ => {}
        }
        // A blank part adds nothing, not even a separator.
        if out[before..].trim().is_empty() {
            out.truncate(before);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Append `s` with CRLF turned into LF, in one copy: a long mail's text is
/// the biggest thing in memory (issue 11: at most 3x the mail).
pub(super) fn push_normalised(out: &mut String, s: &str) {
    out.reserve(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\r\n") {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
}
