//! Scripts that try to exhaust the host, each run in a child process (this
//! test binary again, `HOSTILE_ENV` naming the script) so that its peak RSS
//! (`VmHWM`) is its own; and the checked functions on ordinary data.

use std::process::Command;
use std::time::{Duration, Instant};

use super::*;
use crate::notify::event::{CommentInfo, Origin};

const HOSTILE_ENV: &str = "MAILGATE_TEST_HOSTILE_SCRIPT";
const TIMEOUT: Duration = Duration::from_millis(500);
/// Time on top of the timeout (debug build, process start, a loaded CI).
const TIME_MARGIN: Duration = Duration::from_millis(750);
/// Peak RSS growth allowed: the 64 MB cap plus a margin for the engine,
/// the thread's stack and the allocator.
const MAX_GROWTH_MB: f64 = 150.0;

/// Operations are unlimited: the sizes, the memory cap and the timeout
/// must hold on their own.
fn limits() -> ScriptLimits {
    ScriptLimits { max_operations: 0, timeout: TIMEOUT, ..ScriptLimits::default() }
}

const HOSTILE: &[(&str, &str)] = &[
    ("pad + replace", r#"let s = ""; s.pad(65000, "a"); s.replace("a", s);"#),
    // rhai's own `pad` loops forever on an empty padding.
    ("pad with empty string", r#"let s = "x"; s.pad(60000, ""); throw `still ${s.len()} byte`;"#),
    ("map with padding", r#"let a = []; a.pad(10000, 0); let b = a.map(|x| { let s = ""; s.pad(60000, "x"); s });"#),
    (
        "filter, allocating predicate",
        r#"let a = []; a.pad(10000, 0); a.filter(|x| { let s = ""; s.pad(60000, "x"); true });"#,
    ),
    ("zip with padding", r#"let a = []; a.pad(10000, 0); a.zip(a, |x, y| { let s = ""; s.pad(60000, "z"); s });"#),
    (
        "sort, allocating comparer",
        r#"let a = []; for i in 0..5000 { a.push(5000 - i); } a.sort(|x, y| { let s = ""; s.pad(60000, "x"); x - y });"#,
    ),
    ("sort, failing comparer", r#"let a = [3, 1, 2]; a.sort(|x, y| throw "bad comparer"); add_user("a@example.com");"#),
    ("sort, endless comparer", r#"let a = [3, 1, 2, 5, 4]; a.sort(|x, y| { loop {} }); add_user("a@example.com");"#),
    ("string doubling s += s", r#"let s = "x"; loop { s += s; }"#),
    (
        "string + number keys",
        r#"let m = #{}; let s = ""; s.pad(60000, "k"); let i = 0; loop { m[s + i] = i; i += 1; }"#,
    ),
    ("array doubling a += a", "let a = [1]; loop { a += a; }"),
    ("a.pad(1e8, 0)", "let a = []; a.pad(100000000, 0);"),
    ("nested arrays [a, a]", "let a = []; loop { a = [a, a]; }"),
    ("split of a huge string", r#"let s = event.comment.body; s += s; s.split("");"#),
    ("to_chars of a huge string", "let s = event.comment.body; s.to_chars().to_chars();"),
    ("deep recursion", "fn f(n) { f(n + 1) + 1 } f(0);"),
    ("infinite loop", "loop { }"),
    ("range(0, 1e9) into an array", "let a = []; for i in range(0, 1000000000) { a.push(i); }"),
    ("range(0, 1e9).map", "range(0, 1000000000).map(|x| x);"),
    ("string building in a loop", r#"let s = ""; for i in 0..1000000000 { s += "0123456789"; }"#),
];

fn event() -> Event {
    Event {
        id: "ev-1".into(),
        kind: EventKind::CommentCreated,
        origin: Origin::Webhook,
        issue_key: "HELP-7".into(),
        project: "HELP".into(),
        summary: "s".into(),
        status: None,
        reporter: None,
        assignee: None,
        watchers: Vec::new(),
        // Customer-written and long: cut to half the string limit.
        comment: Some(CommentInfo {
            id: "1".into(),
            author: None,
            body: "customer text ".repeat(10_000),
            visibility: Default::default(),
        }),
        changed: Vec::new(),
        mail_sender: None,
        customers: Vec::new(),
        files: Vec::new(),
    }
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child: runs the script named by `HOSTILE_ENV` and prints one line,
/// `HOSTILE <ms> <rss kB before> <peak kB after> <result>`. Does nothing
/// in a normal test run.
#[test]
fn hostile_script_child() {
    let Some(index) = std::env::var(HOSTILE_ENV).ok().and_then(|v| v.parse::<usize>().ok()) else {
        return;
    };
    let Some((_, source)) = HOSTILE.iter().chain(KNOWN_GAPS).nth(index) else {
        panic!("no hostile script {index}");
    };
    let before = status_kb("VmRSS");
    let started = Instant::now();
    let result = Scripts::from_sources([("default", *source)], limits()).and_then(|s| s.recipients(&event()));
    let ms = started.elapsed().as_millis();
    let peak = status_kb("VmHWM");
    let result = match result {
        Ok(o) => format!("ok {o:?}"),
        Err(e) => format!("error {e}"),
    };
    println!("HOSTILE {ms} {before} {peak} {result}");
}

/// Not held yet: rhai neither counts map keys nor checks a map's size on
/// `m[key] = v`, and string interpolation is evaluated by rhai itself, out
/// of reach of the checked functions; so keys made by interpolation are
/// held only by the timeout (about 230 MB in 500 ms in a debug build).
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "interpolated map keys",
    r#"let m = #{}; let s = ""; s.pad(60000, "k"); for i in 0..1000000 { m[`${s}${i}`] = i; }"#,
)];

#[test]
fn hostile_scripts_end_in_an_error_within_the_timeout_and_the_memory_cap() {
    let (rows, table) = run_children(HOSTILE, 0);
    println!("{table}");
    for (name, ms, mb, result) in &rows {
        assert!(result.starts_with("error "), "{name}: must fail: {result}");
        assert!(*ms <= (TIMEOUT + TIME_MARGIN).as_millis() as u64, "{name}: took {ms} ms: {result}");
        assert!(*mb < MAX_GROWTH_MB, "{name}: peak RSS grew by {mb:.1} MB: {result}");
    }
}

/// `cargo test --lib known_gaps -- --ignored --nocapture` shows them.
#[test]
#[ignore = "a known gap: measured, not held"]
fn known_gaps_are_measured() {
    let (_, table) = run_children(KNOWN_GAPS, HOSTILE.len());
    println!("{table}");
}

type Row = (&'static str, u64, f64, String);

/// Run each script in a child; `offset` is the index of the first of
/// `scripts` in the child's list (`HOSTILE` then `KNOWN_GAPS`).
fn run_children(scripts: &'static [(&'static str, &'static str)], offset: usize) -> (Vec<Row>, String) {
    let exe = std::env::current_exe().expect("the test binary");
    let mut rows = Vec::new();
    for (index, (name, _)) in scripts.iter().enumerate() {
        let index = index + offset;
        let out = Command::new(&exe)
            .args(["--exact", "notify::script::hostile_tests::hostile_script_child", "--nocapture", "--test-threads=1"])
            .env(HOSTILE_ENV, index.to_string())
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        // The harness prints the test's name on the same line.
        let line = stdout.lines().find_map(|l| l.find("HOSTILE ").map(|at| l[at + 8..].to_string()));
        let Some(line) = line else {
            panic!("{name}: no result (status {}): {stdout}{}", out.status, String::from_utf8_lossy(&out.stderr));
        };
        let mut parts = line.splitn(4, ' ');
        let mut number = || parts.next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(u64::MAX);
        let (ms, before, peak) = (number(), number(), number());
        let result = parts.next().unwrap_or("").to_string();
        let growth_mb = peak.saturating_sub(before) as f64 / 1024.0;
        rows.push((*name, ms, growth_mb, result));
    }
    let mut table = format!("\n{:<30} {:>6} {:>8}  result\n", "script", "ms", "peak MB");
    for (name, ms, mb, result) in &rows {
        let result: String = result.chars().take(90).collect();
        table.push_str(&format!("{name:<30} {ms:>6} {mb:>8.1}  {result}\n"));
    }
    (rows, table)
}

fn run(source: &str) -> Result<ScriptOutcome, ScriptError> {
    Scripts::from_sources([("default", source)], ScriptLimits::default())?.recipients(&event())
}

#[test]
fn an_error_in_a_comparer_is_the_scripts_error() {
    for src in [
        r#"let a = [3, 1, 2]; a.sort(|x, y| throw "bad comparer");"#,
        r#"let a = [3, 1, 2]; a.order(|x, y| throw "bad comparer");"#,
        r#"let a = [1, 1, 2]; a.dedup(|x, y| throw "bad comparer");"#,
        r#"let a = [1, 2]; a.map(|x| throw "bad comparer");"#,
    ] {
        let err = run(src).expect_err("the script must fail");
        assert!(
            matches!(&err, ScriptError::Runtime { message, .. } if message.contains("bad comparer")),
            "{src}: {err:?}"
        );
    }
    // Caught in the script, the array is as it was.
    run(r#"let a = [3, 1, 2]; try { a.sort(|x, y| throw "no"); } catch { } if a != [3, 1, 2] { throw a; }"#)
        .expect("the array is untouched");
}

#[test]
fn the_checked_functions_give_rhais_results() {
    let src = r#"
        let s = "hello"; s.pad(10, "(!)"); if s != "hello(!)(!" { throw `pad str: ${s}`; }
        let t = "ab"; t.pad(4, '*'); if t != "ab**" { throw `pad char: ${t}`; }
        let r = "a-b-c"; r.replace("-", "+"); if r != "a+b+c" { throw `replace: ${r}`; }
        let c = "abc"; c.replace('b', "xyz"); if c != "axyzc" { throw `replace char: ${c}`; }
        if "a b  c".split() != ["a", "b", "c"] { throw "split whitespace"; }
        if "a,b,c".split(",") != ["a", "b", "c"] || "a,b,c".split(',', 2) != ["a", "b,c"] { throw "split"; }
        if "a,b,c".split_rev(",") != ["c", "b", "a"] || "abc".to_chars() != ['a', 'b', 'c'] { throw "split_rev/chars"; }
        if event.comment.body.split(" ").len() < 2 { throw "split on the event"; }
        if "k" + 1 != "k1" || 2 + "k" != "2k" || "x" + () != "x" { throw "string + value"; }
        let k = "n"; k += 5; if k != "n5" { throw `+=: ${k}`; }
        let a = [3, 1, 2];
        if a.map(|x| x * 2) != [6, 2, 4] || a.map(|x, i| i) != [0, 1, 2] { throw "map"; }
        if a.filter(|x| x > 1) != [3, 2] || a.zip([1, 1, 1], |x, y| x + y) != [4, 2, 3] { throw "filter/zip"; }
        let o = a.order(|x, y| x - y); if o != [1, 2, 3] || a != [3, 1, 2] { throw "order"; }
        a.sort(|x, y| y - x); if a != [3, 2, 1] { throw `sort: ${a}`; }
        let d = [1, 1, 2, 2, 1]; d.dedup(|x, y| x == y); if d != [1, 2, 1] { throw `dedup: ${d}`; }
        let w = event.watchers.map(|p| p.email); if w != [] { throw "map on the event"; }
    "#;
    run(src).expect("same results as rhai's functions");
}

#[test]
fn the_memory_cap_counts_what_the_checked_functions_make() {
    let limits = ScriptLimits { max_memory_bytes: 1 << 20, ..ScriptLimits::default() };
    let src = r#"for i in 0..100 { let s = ""; s.pad(60000, "x"); }"#;
    let err = Scripts::from_sources([("default", src)], limits).and_then(|s| s.recipients(&event()));
    assert!(matches!(&err, Err(ScriptError::Limit { message, .. }) if message.contains("bytes of memory")), "{err:?}");
    run(src).expect("within the default cap");
}
