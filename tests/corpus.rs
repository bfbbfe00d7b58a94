//! Runs `mailgate::mime::parse` over the shared real-world mail corpora in
//! `../shared/corpora` (relative to the crate) and checks it against the
//! expectations shipped with them.
//!
//! * Every message in every corpus must parse without panicking and within
//!   [`PARSE_TIMEOUT`]; each message is parsed on its own thread under
//!   `catch_unwind`, failures are collected by file name and reported together.
//! * `stalwart-mail-parser/**.eml`: the `.json` beside each message is the
//!   reference parse by mail-parser (LF line endings, as the `.eml` is stored;
//!   the `.crlf.json` variants are for a CRLF-converted copy and are not used).
//!   We compare
//!   - the subject: the last `subject` header of `parts[0]` (mail-parser's
//!     `Message::subject`), trimmed like `InboundMessage::subject`; a message
//!     without a subject must give an empty subject;
//!   - the attachments: `attachments` indexes into `parts`; multipart entries
//!     are dropped (our parser skips them), the rest must line up one-to-one
//!     with `InboundMessage::attachments`, and where the expected part has a
//!     name (`Content-Disposition` `filename`, else `Content-Type` `name`, as in
//!     `MimeHeaders::attachment_name`) that is not empty after
//!     `sanitize_filename`, our file name must equal the sanitised name.
//!     Unnamed parts get invented names (`attachment.bin`, ...) and are only
//!     counted, not compared.
//! * `mime4j/{testmsgs,mimetools-testmsgs}/*.msg`: the `*_decoded.xml` (else
//!   `*.xml`) holds mime4j's view of the raw header fields, not decoded values.
//!   The expected subject is therefore only taken from it when it is
//!   unambiguous: the last top-level `Subject` field, XML entities resolved
//!   and unfolded, is printable ASCII with no `=?` (no encoded words, no 8-bit
//!   text in an unknown charset); it must equal ours after trimming. A
//!   top-level header without a `Subject` field means an empty subject. Files
//!   where mime4j sees no header field at all must be rejected by `parse` with
//!   `ParseError::Unparseable` (and only those may be rejected).
//!   Encoded subjects and the RFC 2047/2231 attachment names of
//!   `attachment-filename-encoding-*.msg` are asserted explicitly with values
//!   decoded by hand from the raw fields ([`MIME4J_EXPLICIT`]).
//! * `sisimai-set-of-emails/maildir/**`: bounces; every file must parse
//!   (`Ok`) without panicking.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use mailgate::domain::InboundMessage;
use mailgate::mime::{ParseError, parse, sanitize_filename};
use serde_json::Value;

const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora");

/// Far above anything a sane parse of these files takes, even unoptimised.
const PARSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Files whose expected subject legitimately differs from ours, with the reason.
/// Keyed by path relative to the corpora folder.
const SUBJECT_ALLOW: &[(&str, &str)] = &[
    // "Subject :...colon\r\n       \r\n and also..." (obsolete syntax with a
    // blank folded line). RFC 5322 unfolding keeps all 8 spaces; mail-parser
    // joins folded lines with a single space. Harmless for an issue summary.
    ("mime4j/testmsgs/obsolete.msg", "mail-parser collapses folding whitespace to one space"),
];

/// Files whose expected attachment names legitimately differ from ours.
const ATTACHMENT_ALLOW: &[(&str, &str)] = &[];

/// mime4j messages with values decoded by hand from the raw fields.
struct Explicit {
    file: &'static str,
    subject: Option<&'static str>,
    attachments: Option<&'static [&'static str]>,
}

const MIME4J_EXPLICIT: &[Explicit] = &[
    // name="=?ISO-8859-1?B?YXR0YWNobWVudC7k9vw=?=" and
    // filename*=ISO-8859-1''attachment.%E4%F6%FC both say "attachment.äöü".
    Explicit {
        file: "mime4j/mimetools-testmsgs/attachment-filename-encoding-Latin1.msg",
        subject: None,
        attachments: Some(&["attachment.\u{e4}\u{f6}\u{fc}"]),
    },
    // The same name in UTF-8 (RFC 2047 B-encoding and RFC 2231).
    Explicit {
        file: "mime4j/mimetools-testmsgs/attachment-filename-encoding-UTF8.msg",
        subject: None,
        attachments: Some(&["attachment.\u{e4}\u{f6}\u{fc}"]),
    },
    // Three adjacent encoded words (ISO-8859-1 B, ISO-8859-2 B, US-ASCII Q);
    // the folding whitespace between them is dropped (RFC 2047 6.2).
    Explicit {
        file: "mime4j/mimetools-testmsgs/intl.msg",
        subject: Some("If you can read this you understand the example... so, cool!"),
        attachments: None,
    },
];

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

fn corpora_root() -> PathBuf {
    let root = PathBuf::from(CORPORA);
    assert!(
        root.is_dir(),
        "the shared mail corpora are missing: expected a folder at {} \
         (stalwart-mail-parser/, mime4j/, sisimai-set-of-emails/); CI always provides it",
        root.display()
    );
    root
}

fn corpus_dir(sub: &str) -> PathBuf {
    let dir = corpora_root().join(sub);
    assert!(dir.is_dir(), "corpus folder {} is missing from the shared corpora", dir.display());
    dir
}

/// Path relative to the corpora folder, used as the key in reports and allow-lists.
fn rel(path: &Path) -> String {
    path.strip_prefix(CORPORA).unwrap_or(path).display().to_string()
}

/// All regular files below `dir` (recursively) accepted by `keep`, sorted.
fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
        for entry in entries {
            let path = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display())).path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() && keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e == ext)
}

/// Parse on a separate thread under `catch_unwind`, giving up after
/// [`PARSE_TIMEOUT`] (a hung thread is left behind; the test fails anyway).
/// `Err` describes a panic or a hang.
fn parse_guarded(raw: Vec<u8>) -> Result<Result<InboundMessage, ParseError>, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("corpus-parse".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(|| parse(&raw)).map_err(|payload| {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_string());
                format!("PANIC: {message}")
            });
            // The receiver is gone only after a timeout; nothing to report then.
            let _ = tx.send(result);
        })
        .expect("spawn a parser thread");
    match rx.recv_timeout(PARSE_TIMEOUT) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => Err(format!("no result within {PARSE_TIMEOUT:?}")),
        Err(RecvTimeoutError::Disconnected) => Err("parser thread ended without a result".to_string()),
    }
}

/// Read and parse one file. The outer `Err` (unreadable, panic, hang) carries
/// a failure line for the report; whether a `ParseError` is acceptable is up
/// to the caller.
fn load_and_parse(path: &Path) -> Result<Result<InboundMessage, ParseError>, String> {
    let name = rel(path);
    let raw = std::fs::read(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    parse_guarded(raw).map_err(|e| format!("{name}: {e}"))
}

/// For corpora where every file is a real message: a `ParseError` is a failure.
fn load_and_parse_ok(path: &Path) -> Result<InboundMessage, String> {
    load_and_parse(path)?.map_err(|e| format!("{}: parse error: {e}", rel(path)))
}

/// Compare `ours` with `expected` unless `file` is allow-listed; allow-list
/// entries that are no longer needed are reported too, so the list stays short.
fn check(
    failures: &mut Vec<String>,
    allow: &[(&str, &str)],
    file: &str,
    what: &str,
    expected: &dyn std::fmt::Debug,
    ours: &dyn std::fmt::Debug,
    equal: bool,
) {
    let allowed = allow.iter().any(|(f, _)| *f == file);
    match (equal, allowed) {
        (true, false) | (false, true) => {}
        (false, false) => {
            failures.push(format!("{file}: {what}: expected {expected:?}, got {ours:?}"));
        }
        (true, true) => failures.push(format!("{file}: {what} now matches; remove it from the allow-list")),
    }
}

fn finish(corpus: &str, failures: &[String]) {
    assert!(failures.is_empty(), "{corpus}: {} failure(s):\n  {}", failures.len(), failures.join("\n  "));
}

// ---------------------------------------------------------------------------
// Stalwart mail-parser corpus
// ---------------------------------------------------------------------------

/// mail-parser's `GetHeader::header_value`: the last header with this name.
fn json_header<'a>(part: &'a Value, name: &str) -> Option<&'a Value> {
    part.get("headers")?
        .as_array()?
        .iter()
        .rev()
        .find(|h| h.get("name").and_then(Value::as_str) == Some(name))?
        .get("value")
}

/// mail-parser's `HeaderValue::as_text`.
fn json_text(value: &Value) -> Option<&str> {
    if let Some(text) = value.get("Text").and_then(Value::as_str) {
        return Some(text);
    }
    value.get("TextList")?.as_array()?.last()?.as_str()
}

/// The first attribute `attr` of a content-type-like header (`ContentType::attribute`).
fn json_attribute<'a>(part: &'a Value, header: &str, attr: &str) -> Option<&'a str> {
    json_header(part, header)?
        .get("ContentType")?
        .get("attributes")?
        .as_array()?
        .iter()
        .find(|a| a.get("name").and_then(Value::as_str) == Some(attr))?
        .get("value")?
        .as_str()
}

fn expected_subject(json: &Value) -> String {
    json.get("parts")
        .and_then(|parts| parts.get(0))
        .and_then(|root| json_header(root, "subject"))
        .and_then(json_text)
        .unwrap_or("")
        .trim()
        .to_string()
}

/// One entry per attachment our parser should produce (multipart entries
/// dropped); `Some(name)` where the reference part has a usable name.
fn expected_attachments(json: &Value) -> Result<Vec<Option<String>>, String> {
    let parts = json.get("parts").and_then(Value::as_array).ok_or("no `parts` array")?;
    let indices = json.get("attachments").and_then(Value::as_array).ok_or("no `attachments` array")?;
    let mut out = Vec::new();
    for index in indices {
        let part = index
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| parts.get(i))
            .ok_or_else(|| format!("attachment index {index} is not a part"))?;
        if part.get("body").and_then(|b| b.get("Multipart")).is_some() {
            continue;
        }
        let name = json_attribute(part, "content_disposition", "filename")
            .or_else(|| json_attribute(part, "content_type", "name"))
            .map(sanitize_filename)
            .filter(|n| !n.is_empty());
        out.push(name);
    }
    Ok(out)
}

#[test]
fn stalwart_mail_parser_corpus() {
    let dir = corpus_dir("stalwart-mail-parser");
    let files = files_under(&dir, &|p| has_ext(p, "eml"));
    assert!(!files.is_empty(), "no .eml files under {}", dir.display());

    let mut failures = Vec::new();
    let (mut subjects, mut names, mut unnamed) = (0usize, 0usize, 0usize);
    for path in &files {
        let file = rel(path);
        let msg = match load_and_parse_ok(path) {
            Ok(msg) => msg,
            Err(failure) => {
                failures.push(failure);
                continue;
            }
        };
        let json_path = path.with_extension("json");
        let json: Value = match std::fs::read(&json_path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(json) => json,
            Err(e) => {
                failures.push(format!("{}: unusable expectation: {e}", rel(&json_path)));
                continue;
            }
        };

        let want = expected_subject(&json);
        check(&mut failures, SUBJECT_ALLOW, &file, "subject", &want, &msg.subject, want == msg.subject);
        subjects += 1;

        let want = match expected_attachments(&json) {
            Ok(want) => want,
            Err(e) => {
                failures.push(format!("{}: unusable expectation: {e}", rel(&json_path)));
                continue;
            }
        };
        let ours: Vec<&str> = msg.attachments.iter().map(|a| a.filename.as_str()).collect();
        if want.len() != ours.len() {
            check(&mut failures, ATTACHMENT_ALLOW, &file, "attachment count", &want, &ours, false);
            continue;
        }
        let named: Vec<(&str, &str)> =
            want.iter().zip(&ours).filter_map(|(w, o)| w.as_deref().map(|w| (w, *o))).collect();
        unnamed += want.len() - named.len();
        names += named.len();
        check(
            &mut failures,
            ATTACHMENT_ALLOW,
            &file,
            "attachment names",
            &named.iter().map(|(w, _)| *w).collect::<Vec<_>>(),
            &named.iter().map(|(_, o)| *o).collect::<Vec<_>>(),
            named.iter().all(|(w, o)| w == o),
        );
    }

    println!(
        "stalwart-mail-parser: {} files checked, {subjects} subjects compared, \
         {names} attachment names compared ({unnamed} unnamed attachments counted only)",
        files.len()
    );
    finish("stalwart-mail-parser", &failures);
}

// ---------------------------------------------------------------------------
// mime4j corpus
// ---------------------------------------------------------------------------

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Raw top-level header fields from a mime4j XML file: the `<field>`s of the
/// first `<header>` element, entities resolved, the newline mime4j writes
/// after `<field>` removed.
fn xml_top_level_fields(xml: &str) -> Vec<String> {
    let Some(start) = xml.find("<header>") else {
        return Vec::new();
    };
    let header = &xml[start..];
    let header = &header[..header.find("</header>").unwrap_or(header.len())];
    header
        .split("<field>")
        .skip(1)
        .map(|f| {
            let f = f.split("</field>").next().unwrap_or(f);
            let f = f.strip_prefix("\r\n").or_else(|| f.strip_prefix('\n')).unwrap_or(f);
            xml_unescape(f)
        })
        .collect()
}

/// The expected subject where it is clearly available; see the module docs.
/// A header section without a `Subject` field means an empty subject.
fn mime4j_expected_subject(fields: &[String]) -> Option<String> {
    let Some(raw) = fields.iter().rev().find_map(|f| {
        let (name, value) = f.split_once(':')?;
        name.trim().eq_ignore_ascii_case("subject").then_some(value)
    }) else {
        return Some(String::new());
    };
    let unfolded: String = raw.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let plain = unfolded.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) && !unfolded.contains("=?");
    plain.then(|| unfolded.trim().to_string())
}

#[test]
fn mime4j_corpus() {
    let dir = corpus_dir("mime4j");
    let mut files = Vec::new();
    for sub in ["testmsgs", "mimetools-testmsgs"] {
        let sub_dir = dir.join(sub);
        assert!(sub_dir.is_dir(), "{} is missing", sub_dir.display());
        files.extend(files_under(&sub_dir, &|p| has_ext(p, "msg")));
    }
    assert!(!files.is_empty(), "no .msg files under {}", dir.display());
    for e in MIME4J_EXPLICIT {
        assert!(files.iter().any(|p| rel(p) == e.file), "explicitly checked file {} is missing", e.file);
    }

    let mut failures = Vec::new();
    let (mut subjects, mut names, mut headerless) = (0usize, 0usize, 0usize);
    for path in &files {
        let file = rel(path);

        let stem = path.with_extension("");
        let stem = stem.to_string_lossy();
        let xml_path =
            [format!("{stem}_decoded.xml"), format!("{stem}.xml")].into_iter().map(PathBuf::from).find(|p| p.is_file());
        let Some(xml_path) = xml_path else {
            failures.push(format!("{file}: no .xml expectation beside it"));
            continue;
        };
        let fields = match std::fs::read(&xml_path) {
            Ok(bytes) => xml_top_level_fields(&String::from_utf8_lossy(&bytes)),
            Err(e) => {
                failures.push(format!("{}: cannot read: {e}", rel(&xml_path)));
                continue;
            }
        };

        // mime4j reads a few files as body only, without any header field;
        // `parse` rejects exactly those (`ParseError::Unparseable`).
        let msg = match load_and_parse(path) {
            Ok(Ok(msg)) if !fields.is_empty() => msg,
            Ok(Err(ParseError::Unparseable)) if fields.is_empty() => {
                headerless += 1;
                continue;
            }
            Ok(Ok(_)) => {
                failures.push(format!("{file}: parsed, but mime4j finds no header section"));
                continue;
            }
            Ok(Err(e)) => {
                failures.push(format!("{file}: parse error: {e}"));
                continue;
            }
            Err(failure) => {
                failures.push(failure);
                continue;
            }
        };

        if let Some(e) = MIME4J_EXPLICIT.iter().find(|e| e.file == file) {
            if let Some(want) = e.subject {
                check(&mut failures, SUBJECT_ALLOW, &file, "subject", &want, &msg.subject, want == msg.subject);
                subjects += 1;
            }
            if let Some(want) = e.attachments {
                let ours: Vec<&str> = msg.attachments.iter().map(|a| a.filename.as_str()).collect();
                check(
                    &mut failures,
                    ATTACHMENT_ALLOW,
                    &file,
                    "attachment names",
                    &want,
                    &ours,
                    want == ours.as_slice(),
                );
                names += want.len();
            }
            if e.subject.is_some() {
                continue;
            }
        }

        if let Some(want) = mime4j_expected_subject(&fields) {
            check(&mut failures, SUBJECT_ALLOW, &file, "subject", &want, &msg.subject, want == msg.subject);
            subjects += 1;
        }
    }

    println!(
        "mime4j: {} files checked, {subjects} subjects compared, \
         {names} attachment names compared ({headerless} header-less files rejected as expected)",
        files.len()
    );
    finish("mime4j", &failures);
}

// ---------------------------------------------------------------------------
// sisimai bounce corpus
// ---------------------------------------------------------------------------

#[test]
fn sisimai_bounce_corpus() {
    let dir = corpus_dir("sisimai-set-of-emails").join("maildir");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    let files = files_under(&dir, &|_| true);
    assert!(!files.is_empty(), "no files under {}", dir.display());

    let failures: Vec<String> = files.iter().filter_map(|path| load_and_parse_ok(path).err()).collect();

    println!(
        "sisimai-set-of-emails: {} files checked, 0 subjects compared, \
         0 attachment names compared (no expectations; parse only)",
        files.len()
    );
    finish("sisimai-set-of-emails", &failures);
}
