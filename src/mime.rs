//! Raw RFC 5322 bytes to [`InboundMessage`]. No I/O. Broken input degrades
//! (replacement characters, missing fields), it never panics.

use mail_parser::{HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};

use crate::domain::{Attachment, InboundMessage, MessageId};
use headers::Field;

mod body;
mod headers;
mod rfc2231;
mod sender;

mod names;

mod html;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the message is empty")]
    Empty,
    #[error("the message has no header section that could be parsed")]
    Unparseable,
    #[error("the MIME parser failed on this message (internal assertion); the raw mail is kept")]
    ParserFailed,
}

/// Parse a raw message. Mail without a Message-ID gets a stable synthetic one.
/// A panic inside the MIME parser (found by fuzzing: mail-parser 0.11 has a
/// `debug_assert` that nested `message/rfc822` parts can reach) becomes an
/// error for this mail instead of taking the mailbox loop down.
pub fn parse(raw: &[u8]) -> Result<InboundMessage, ParseError> {
    std::panic::catch_unwind(|| parse_unguarded(raw)).unwrap_or(Err(ParseError::ParserFailed))
}

fn parse_unguarded(raw: &[u8]) -> Result<InboundMessage, ParseError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let mut msg = MessageParser::default().parse(raw).ok_or(ParseError::Unparseable)?;

    let message_id =
        msg.message_id().and_then(|id| MessageId::parse(id).ok()).unwrap_or_else(|| MessageId::synthetic(raw));

    let text = body::text(&msg);

    let raw = headers::Raw::of(&msg);
    let raw_header = |f: Field| raw.text(f);
    let content_type_is_report = msg.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });

    let mut out = InboundMessage {
        message_id: Some(message_id),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        from: sender::sender(&msg),
        reply_to: msg.reply_to().and_then(sender::first_mailbox),
        to: msg.to().map(sender::mailboxes).unwrap_or_default(),
        cc: msg.cc().map(sender::mailboxes).unwrap_or_default(),
        delivered_to: raw.envelope().iter().filter_map(|v| crate::domain::EmailAddress::parse(v.trim()).ok()).collect(),
        subject: msg.subject().unwrap_or("").trim().to_string(),
        text,
        attachments: Vec::new(),
        auto_submitted: raw_header(Field::AutoSubmitted),
        precedence: raw_header(Field::Precedence),
        x_autoreply: raw.has(Field::XAutoreply) || raw.has(Field::XAutorespond),
        list_id: raw_header(Field::ListId),
        null_return_path: raw_header(Field::ReturnPath).is_some_and(|v| v == "<>" || v.is_empty()),
        is_report: content_type_is_report,
        x_mailgate_loop: raw.has(Field::XMailgateLoop),
        x_auto_response_suppress: raw_header(Field::XAutoResponseSuppress),
        x_ms_inbox_rules_loop: raw.has(Field::XMsInboxRulesLoop),
        x_loop: raw_header(Field::XLoop),
        x_jira_fingerprint: raw.has(Field::XJiraFingerPrint),
        x_failed_recipients: raw.has(Field::XFailedRecipients),
        list_software: [Field::XMlServer, Field::XMlName, Field::MailingList].into_iter().any(|f| raw.has(f)),
        header: header_section(&msg),
    };
    // Last, because the decoded bodies are moved out of the parsed message
    // (a big attachment is not copied).
    // Text parts with a file name are files too (see `body`), in part order.
    let mut ids: Vec<usize> = msg.attachments.iter().map(|&i| i as usize).collect();
    ids.extend(body::named_text_parts(&msg));
    ids.sort_unstable();
    ids.dedup();
    // Names continued over RFC 2231 segments, read again from the raw fields.
    let names: Vec<Option<String>> = ids.iter().map(|&i| continued_name(&msg, i)).collect();
    out.attachments = ids
        .into_iter()
        .zip(names)
        .filter_map(|(i, name)| {
            let mut a = msg.parts.get_mut(i).and_then(attachment)?;
            if let Some(name) = name.map(|n| sanitize_filename(&n)).filter(|n| !n.is_empty()) {
                a.filename = name;
            }
            Some(a)
        })
        .collect();
    // Then two files of one name stay two (same names on every attempt).
    names::make_unique(&mut out.attachments);
    Ok(out)
}

/// The top-level header section's text (invalid UTF-8 replaced).
fn header_section(msg: &mail_parser::Message<'_>) -> crate::domain::RawHeader {
    let text = msg
        .parts
        .first()
        .and_then(|p| msg.raw_message.get(p.offset_header as usize..p.offset_body as usize))
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    crate::domain::RawHeader::new(text)
}

/// Part `i`'s file name when its header gives it as RFC 2231 continuations:
/// `Content-Disposition` `filename`, else `Content-Type` `name`.
fn continued_name(msg: &mail_parser::Message<'_>, i: usize) -> Option<String> {
    let part = msg.parts.get(i)?;
    let field = |name: HeaderName<'_>| {
        let h = part.headers.iter().rev().find(|h| h.name == name)?;
        msg.raw_message.get(h.offset_start as usize..h.offset_end as usize)
    };
    field(HeaderName::ContentDisposition)
        .and_then(|f| rfc2231::continued_param(f, "filename"))
        .or_else(|| field(HeaderName::ContentType).and_then(|f| rfc2231::continued_param(f, "name")))
}

/// Readable text from HTML in the lightweight form Jira text is written
/// from (`jira::text`: paragraphs, lists, quotes, links, emphasis); falls
/// back to the HTML with tags removed if the converter fails.
pub fn html_to_text(html: &str) -> String {
    match html::to_text(html) {
        Some(t) => normalise_newlines(&t),
        None => strip_tags(html),
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn normalise_newlines(s: &str) -> String {
    let mut out = String::new();
    body::push_normalised(&mut out, s);
    out.truncate(out.trim_end().len());
    out
}

/// One part as a file. A part without a type is what RFC 2045 says it is
/// (text, or a forwarded mail where the parser took it for one); one
/// without a name is named by its subject or type ([`names`]).
fn attachment(part: &mut mail_parser::MessagePart<'_>) -> Option<Attachment> {
    let implied = match &part.body {
        PartType::Multipart(_) => return None,
        PartType::Text(_) => "text/plain",
        PartType::Html(_) => "text/html",
        PartType::Message(_) => "message/rfc822",
        PartType::Binary(_) | PartType::InlineBinary(_) => "application/octet-stream",
    };
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_lowercase(),
            None => ct.ctype().to_lowercase(),
        })
        .unwrap_or_else(|| implied.to_string());
    let filename =
        part.attachment_name().map(sanitize_filename).filter(|n| !n.is_empty()).unwrap_or_else(|| match &part.body {
            PartType::Message(m) => names::forwarded_name(m.subject()),
            _ => names::default_name(&content_type),
        });
    let data: bytes::Bytes = match std::mem::replace(&mut part.body, PartType::Text("".into())) {
        PartType::Binary(b) | PartType::InlineBinary(b) => b.into_owned().into(),
        PartType::Text(t) | PartType::Html(t) => t.into_owned().into_bytes().into(),
        PartType::Message(m) => m.raw_message().to_vec().into(),
        PartType::Multipart(_) => return None,
    };
    Some(Attachment { filename, content_type, data })
}

/// Keep only the last path segment and drop control characters.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    last.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string()
}

fn ids(value: &HeaderValue<'_>) -> Vec<MessageId> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    raw.into_iter().flat_map(|s| s.split_whitespace()).filter_map(|s| MessageId::parse(s).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_and_plain_body_are_decoded() {
        let raw = b"From: =?UTF-8?Q?J=C3=BCrgen?= <J@Example.test>\r\nTo: help@corp.test\r\nSubject: =?UTF-8?B?w5xiZXI=?=\r\nMessage-ID: <a@b>\r\nIn-Reply-To: <x@y>\r\nReferences: <w@y> <x@y>\r\n\r\nHello\r\n";
        let m = parse(raw).expect("parses");
        assert_eq!(m.subject, "\u{dc}ber");
        let from = m.from.expect("from");
        assert_eq!(from.name.as_deref(), Some("J\u{fc}rgen"));
        assert_eq!(from.address.as_ref(), "j@example.test");
        assert_eq!(m.text, "Hello");
        assert_eq!(m.in_reply_to.len(), 1);
        assert_eq!(m.references.len(), 2);
    }

    #[test]
    fn html_only_mail_becomes_text() {
        let raw = b"From: a@b.test\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>world</b></p>";
        let m = parse(raw).expect("parses");
        assert!(m.text.contains("Hello"), "{}", m.text);
        assert!(!m.text.contains("<p>"));
    }

    #[test]
    fn broken_charset_does_not_fail() {
        let raw = b"From: a@b.test\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xff\xfe broken";
        let m = parse(raw).expect("parses");
        assert!(m.text.contains("broken"));
    }

    #[test]
    fn empty_input_is_an_error() {
        assert!(matches!(parse(b"  \r\n"), Err(ParseError::Empty)));
    }

    #[test]
    fn filenames_lose_their_paths() {
        assert_eq!(sanitize_filename("C:\\tmp\\evil.exe"), "evil.exe");
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
    }
}
