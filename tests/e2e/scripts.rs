//! Notification scripts: the shipped scripts/ and the sandbox. Pure: no
//! network, no database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mailgate::notify::event::{Change, CommentInfo, Event, EventKind, Origin, Person};
use mailgate::notify::script::{ScriptError, ScriptLimits, ScriptOutcome, Scripts};

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts")
}

fn shipped() -> Scripts {
    Scripts::load(&shipped_dir(), ScriptLimits::default()).expect("the shipped scripts compile")
}

fn person(email: Option<&str>) -> Person {
    Person {
        account_id: Some("acc".into()),
        name: None,
        display_name: Some("Someone".into()),
        email: email.map(String::from),
    }
}

/// An issue in HELP reported by Rita, assigned to Ann, watched by Wes, Rita
/// (again) and someone whose address Jira does not show; Wes commented.
fn sample(kind: EventKind) -> Event {
    Event {
        id: "ev-1".into(),
        kind,
        origin: Origin::Webhook,
        issue_key: "HELP-42".into(),
        project: "HELP".into(),
        summary: "VPN down".into(),
        status: Some("In Progress".into()),
        reporter: Some(person(Some("Rita@Example.com"))),
        assignee: Some(person(Some("ann@example.com"))),
        watchers: vec![person(Some("wes@example.com")), person(Some("rita@example.com")), person(None)],
        comment: Some(CommentInfo {
            id: "100".into(),
            author: Some(person(Some("WES@example.com"))),
            body: "Looking into it".into(),
            visibility: Default::default(),
        }),
        changed: vec![Change { field: "status".into(), from: Some("Open".into()), to: Some("In Progress".into()) }],
        mail_sender: None,
        customers: Vec::new(),
        files: Vec::new(),
    }
}

fn one(source: &str) -> Result<ScriptOutcome, ScriptError> {
    Scripts::from_sources([("default", source)], ScriptLimits::default())?.recipients(&sample(EventKind::IssueCreated))
}

fn users(outcome: &ScriptOutcome) -> Vec<&str> {
    outcome.users.iter().map(String::as_str).collect()
}

// --- the shipped scripts ---------------------------------------------------

#[test]
fn shipped_scripts_load_one_per_event_kind_plus_default() {
    let scripts = shipped();
    assert_eq!(scripts.names(), ["comment_created.rhai", "default.rhai", "issue_created.rhai", "issue_updated.rhai"]);
    assert_eq!(scripts.script_for(EventKind::CommentCreated), Some("comment_created.rhai"));
}

#[test]
fn shipped_comment_script_notifies_reporter_watchers_and_assignee_but_not_the_author() {
    let out = shipped().recipients(&sample(EventKind::CommentCreated)).expect("runs");
    assert_eq!(users(&out), ["rita@example.com", "ann@example.com"]);
    assert_eq!(out.removed, ["wes@example.com"]);
    assert!(out.groups.is_empty(), "the HELP group example is commented out: {out:?}");
    assert!(!out.skip);
}

#[test]
fn shipped_comment_script_copes_with_unknown_people() {
    let mut ev = sample(EventKind::CommentCreated);
    ev.reporter = None;
    ev.assignee = Some(person(None));
    ev.watchers.clear();
    ev.comment =
        Some(CommentInfo { id: "1".into(), author: None, body: String::new(), visibility: Default::default() });
    let out = shipped().recipients(&ev).expect("runs");
    assert_eq!(out, ScriptOutcome::default());
}

#[test]
fn shipped_issue_created_script_notifies_reporter_assignee_and_watchers() {
    let out = shipped().recipients(&sample(EventKind::IssueCreated)).expect("runs");
    assert_eq!(users(&out), ["rita@example.com", "ann@example.com", "wes@example.com"]);
}

#[test]
fn shipped_issue_updated_script_notifies_on_a_status_change() {
    let out = shipped().recipients(&sample(EventKind::IssueUpdated)).expect("runs");
    assert!(!out.skip);
    assert_eq!(users(&out), ["rita@example.com", "ann@example.com", "wes@example.com"]);
}

#[test]
fn shipped_issue_updated_script_skips_other_changes() {
    let mut ev = sample(EventKind::IssueUpdated);
    ev.changed = vec![Change { field: "summary".into(), from: Some("a".into()), to: Some("b".into()) }];
    assert_eq!(shipped().recipients(&ev).expect("runs"), ScriptOutcome { skip: true, ..ScriptOutcome::default() });
    ev.changed.clear();
    assert!(shipped().recipients(&ev).expect("runs").skip);
}

#[test]
fn shipped_default_script_notifies_reporter_and_watchers() {
    let source = std::fs::read_to_string(shipped_dir().join("default.rhai")).expect("default.rhai");
    let scripts = Scripts::from_sources([("default.rhai", source)], ScriptLimits::default()).expect("compiles");
    let out = scripts.recipients(&sample(EventKind::CommentCreated)).expect("runs");
    assert_eq!(users(&out), ["rita@example.com", "wes@example.com"]);
}

// --- loading ---------------------------------------------------------------

#[test]
fn a_syntax_error_at_load_names_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("default.rhai"), "add_user(\"a@example.com\");\n").expect("write");
    std::fs::write(dir.path().join("issue_created.rhai"), "// ok\nlet x = 1;\nlet y = (x + ;\nadd_user(y);\n")
        .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a script").expect("write");
    let err = Scripts::load(dir.path(), ScriptLimits::default()).expect_err("the script must fail");
    assert!(
        matches!(&err, ScriptError::Compile { script, line: Some(3), .. } if script == "issue_created.rhai"),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("script issue_created.rhai line 3: syntax error:"), "{err}");
}

#[test]
fn a_folder_of_valid_scripts_loads_and_other_files_are_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("issue_updated.rhai"), "skip();").expect("write");
    std::fs::write(dir.path().join("README.md"), "# scripts").expect("write");
    let scripts = Scripts::load(dir.path(), ScriptLimits::default()).expect("loads");
    assert_eq!(scripts.names(), ["issue_updated.rhai"]);
    // No script for this kind and no default: reporter and watchers.
    let out = scripts.recipients(&sample(EventKind::IssueCreated)).expect("runs");
    assert_eq!(out, ScriptOutcome::defaults_for(&sample(EventKind::IssueCreated)));
    assert_eq!(users(&out), ["rita@example.com", "wes@example.com"]);
}

#[test]
fn a_missing_folder_is_a_load_error() {
    let err = Scripts::load(Path::new("/nonexistent/mailgate-scripts"), ScriptLimits::default())
        .expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Load { .. }), "{err:?}");
}

// --- the sandbox -----------------------------------------------------------

#[test]
fn an_endless_loop_hits_the_operation_limit() {
    let err = one("loop {}").expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Limit { .. }), "{err:?}");
}

#[test]
fn an_endless_loop_hits_the_timeout_when_operations_are_unlimited() {
    let limits = ScriptLimits { max_operations: 0, timeout: Duration::from_millis(100), ..ScriptLimits::default() };
    let scripts = Scripts::from_sources([("issue_created", "let i = 0; loop { i += 1; }")], limits).expect("compiles");
    let err = scripts.recipients(&sample(EventKind::IssueCreated)).expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Limit { .. }), "{err:?}");
}

#[test]
fn a_thrown_error_is_a_runtime_error_with_its_line() {
    let err = one("add_user(\"a@example.com\");\n\nthrow \"boom\";").expect_err("the script must fail");
    assert!(matches!(&err, ScriptError::Runtime { line: Some(3), message, .. } if message == "boom"), "{err:?}");
    assert_eq!(err.to_string(), "script default.rhai line 3: boom");
}

#[test]
fn returning_a_number_or_a_map_is_garbage() {
    for source in ["42", "#{a: 1}", "\"someone@example.com\"", "false"] {
        let err = one(source).expect_err("the script must fail");
        assert!(matches!(err, ScriptError::Garbage { .. }), "{source}: {err:?}");
    }
}

#[test]
fn returning_an_array_of_addresses_adds_them() {
    let out = one("[event.reporter.email, \" Other@Example.com \"]").expect("runs");
    assert_eq!(users(&out), ["rita@example.com", "other@example.com"]);
}

#[test]
fn deep_recursion_is_stopped() {
    let err = one("fn down(n) { down(n + 1) }\ndown(0);").expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Limit { .. } | ScriptError::Runtime { .. }), "{err:?}");
}

#[test]
fn a_huge_string_hits_the_size_limit() {
    let err = one("let s = \"x\"; loop { s += s; }").expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Limit { .. }), "{err:?}");
}

#[test]
fn a_huge_array_hits_the_size_limit() {
    for source in ["let a = []; a.pad(1000000, 0);", "let a = []; loop { a.push(1); }"] {
        let err = one(source).expect_err("the script must fail");
        assert!(matches!(&err, ScriptError::Limit { message, .. } if message.contains("too large")), "{err:?}");
    }
}

#[test]
fn a_huge_map_hits_the_size_limit() {
    let err = one("let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }").expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Limit { .. }), "{err:?}");
}

#[test]
fn import_is_refused_at_load() {
    let err = Scripts::from_sources([("default", "import \"x\" as y;")], ScriptLimits::default())
        .expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Compile { line: Some(1), .. }), "{err:?}");
}

#[test]
fn eval_is_refused_at_load() {
    let err = Scripts::from_sources([("default", "let a = 1;\neval(\"1\");")], ScriptLimits::default())
        .expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Compile { line: Some(2), .. }), "{err:?}");
}

#[test]
fn the_event_is_read_only_and_the_callers_event_is_untouched() {
    let ev = sample(EventKind::IssueCreated);
    let scripts = Scripts::from_sources([("issue_created", "event.summary = \"hacked\";")], ScriptLimits::default())
        .expect("compiles");
    let err = scripts.recipients(&ev).expect_err("the script must fail");
    assert!(
        matches!(&err, ScriptError::Runtime { line: Some(1), message, .. } if message.contains("constant")),
        "{err:?}"
    );
    assert_eq!(ev, sample(EventKind::IssueCreated));
}

#[test]
fn scripts_run_from_several_threads_at_once() {
    let scripts = std::sync::Arc::new(shipped());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let scripts = scripts.clone();
            std::thread::spawn(move || scripts.recipients(&sample(EventKind::CommentCreated)))
        })
        .collect();
    for h in handles {
        let out = h.join().expect("no panic").expect("runs");
        assert_eq!(users(&out), ["rita@example.com", "ann@example.com"]);
    }
}

// --- `mailgate script test` ------------------------------------------------

#[tokio::test]
async fn script_test_runs_with_the_limits_of_the_config_file() {
    let app = mailgate_testkit::TestApp::builder()
        .mailgate_defaults()
        .set("jira.base_url", "http://127.0.0.1:9")
        .set("notify.script_max_memory_bytes", 1 << 20)
        .spawn()
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    // 100 strings of 60 KB: 6 MB, within the built-in 64 MB cap, not the configured 1 MB.
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, "for i in 0..100 { let s = \"\"; s.pad(60000, \"x\"); }\nadd_user(\"a@example.com\");")
        .expect("script");
    let event = dir.path().join("event.json");
    std::fs::write(&event, serde_json::to_string(&sample(EventKind::IssueCreated)).expect("json")).expect("event");
    let script_test = |config: &Path| {
        std::process::Command::new(crate::MAILGATE)
            .arg("--config")
            .arg(config)
            .args(["script", "test"])
            .arg(&script)
            .arg("--event")
            .arg(&event)
            .output()
            .expect("runs")
    };

    let out = script_test(&app.config_path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("more than 1048576 bytes of memory"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));

    let out = script_test(Path::new("/nonexistent/mailgate.toml"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "built-in limits without a config: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("a@example.com"), "{stdout}");
}
