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

mod mime4j;
mod mime4j_bodies;
mod stalwart;

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

/// Files whose expected text legitimately differs from ours.
const BODY_ALLOW: &[(&str, &str)] = &[
    // mail-parser 0.11 takes "--boundary" as a delimiter where it is not at
    // the start of a line (RFC 2046 5.1.1 wants CRLF before it) and cuts the
    // part there. Real boundaries are long random strings that text does not
    // contain; only these hand-made messages meet it.
    ("mime4j/testmsgs/intermediate-boundaries.msg", "mail-parser: boundary not at a line start"),
    ("mime4j/testmsgs/misplaced-boundary.msg", "mail-parser: boundary not at a line start"),
    // A header line without a colon and no blank line after the header:
    // mime4j starts the body at that line, mail-parser skips the line.
    ("mime4j/testmsgs/malformedHeaderStartsBody-nocrlfcrlf.msg", "mail-parser skips a header line without a colon"),
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

/// Whether every piece appears in `body`, each after the one before.
fn contains_in_order(body: &str, pieces: &[String]) -> bool {
    let mut rest = body;
    pieces.iter().all(|p| match rest.find(p.as_str()) {
        Some(i) => {
            rest = &rest[i + p.len()..];
            true
        }
        None => false,
    })
}

fn finish(corpus: &str, failures: &[String]) {
    assert!(failures.is_empty(), "{corpus}: {} failure(s):\n  {}", failures.len(), failures.join("\n  "));
}

// ---------------------------------------------------------------------------
// Stalwart mail-parser corpus
// ---------------------------------------------------------------------------

/// mail-parser's `GetHeader::header_value`: the last header with this name.

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
