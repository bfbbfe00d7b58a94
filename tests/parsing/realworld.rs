//! Our own real-world shapes (`tests/fixtures/realworld`, written by
//! `scripts/dev/make-realworld-fixtures.py`): each `.eml` beside a `.json`
//! of what it must decode to. Keys: `subject`, `subject_contains`, `text`,
//! `text_contains`, `from_addr` (null: no usable sender), `from_name`,
//! `attachments` (file names in order).

use std::path::PathBuf;

use mailgate::classify::{self, IgnoreReason};
use mailgate::mime::parse;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/realworld");

#[test]
fn realworld_fixtures_decode_as_expected() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("fixtures folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "fixtures missing in {DIR}");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let raw = std::fs::read(path).expect("read fixture");
        let want: Value =
            serde_json::from_slice(&std::fs::read(path.with_extension("json")).expect("expectation")).expect("json");
        let msg = match parse(&raw) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: parse error {e}"));
                continue;
            }
        };
        let mut fail = |what: &str, expected: &dyn std::fmt::Debug, got: &dyn std::fmt::Debug| {
            failures.push(format!("{name}: {what}: expected {expected:?}, got {got:?}"))
        };
        if let Some(s) = want.get("subject").and_then(Value::as_str)
            && msg.subject != s
        {
            fail("subject", &s, &msg.subject);
        }
        if let Some(s) = want.get("subject_contains").and_then(Value::as_str)
            && !msg.subject.contains(s)
        {
            fail("subject", &s, &msg.subject);
        }
        if let Some(s) = want.get("text").and_then(Value::as_str)
            && msg.text != s
        {
            fail("text", &s, &msg.text);
        }
        if let Some(s) = want.get("text_contains").and_then(Value::as_str)
            && !msg.text.contains(s)
        {
            fail("text", &s, &msg.text);
        }
        if let Some(addr) = want.get("from_addr") {
            let got = msg.sender().map(|a| a.to_string());
            if got.as_deref() != addr.as_str() {
                fail("sender", addr, &got);
            }
            if addr.is_null() && classify::ignore_reason(&msg, &[]) != Some(IgnoreReason::NoSender) {
                fail("no sender means ignored", &IgnoreReason::NoSender, &classify::ignore_reason(&msg, &[]));
            }
        }
        if let Some(n) = want.get("from_name").and_then(Value::as_str) {
            let got = msg.from.as_ref().and_then(|m| m.name.as_deref());
            if got != Some(n) {
                fail("display name", &n, &got);
            }
        }
        if let Some(list) = want.get("attachments").and_then(Value::as_array) {
            let want: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            let got: Vec<&str> = msg.attachments.iter().map(|a| a.filename.as_str()).collect();
            if want != got {
                fail("attachments", &want, &got);
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures wrong:\n  {}", failures.len(), files.len(), failures.join("\n  "));
}
