use std::time::Duration;

use super::*;
use crate::notify::event::{Change, CommentInfo, Origin, Person};

fn person(email: Option<&str>) -> Person {
    Person { email: email.map(String::from), display_name: Some("Someone".into()), ..Person::default() }
}

fn event(kind: EventKind) -> Event {
    Event {
        id: "ev-1".into(),
        kind,
        origin: Origin::Webhook,
        issue_key: "HELP-7".into(),
        project: "HELP".into(),
        summary: "Printer on fire".into(),
        status: Some("Open".into()),
        reporter: Some(person(Some("Reporter@Example.com"))),
        assignee: None,
        watchers: vec![person(Some("w1@example.com")), person(None)],
        comment: Some(CommentInfo {
            id: "10".into(),
            author: Some(person(Some("w1@example.com"))),
            body: "hi".into(),
            visibility: Default::default(),
        }),
        changed: vec![Change { field: "status".into(), from: Some("Open".into()), to: Some("Done".into()) }],
        mail_sender: None,
        customers: Vec::new(),
        files: Vec::new(),
    }
}

fn run(source: &str, ev: &Event) -> Result<ScriptOutcome, ScriptError> {
    Scripts::from_sources([("default", source)], ScriptLimits::default())?.recipients(ev)
}

fn users(outcome: &ScriptOutcome) -> Vec<&str> {
    outcome.users.iter().map(String::as_str).collect()
}

#[test]
fn limits_default_to_the_documented_values() {
    let l = ScriptLimits::default();
    assert_eq!(
        (l.max_operations, l.max_call_levels, l.max_string_size, l.max_array_size, l.max_map_size, l.timeout),
        (100_000, 32, 64 * 1024, 10_000, 10_000, Duration::from_secs(1))
    );
}

#[test]
fn scripts_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scripts>();
}

#[test]
fn add_user_trims_lowercases_and_dedupes() {
    let out =
        run(r#"add_user(" Alice@Example.COM "); add_user("alice@example.com");"#, &event(EventKind::IssueCreated))
            .expect("runs");
    assert_eq!(users(&out), ["alice@example.com"]);
}

#[test]
fn add_user_with_unknown_address_does_nothing() {
    let out = run("add_user(event.assignee?.email); add_user(());", &event(EventKind::IssueCreated)).expect("runs");
    assert!(out.users.is_empty(), "{out:?}");
}

#[test]
fn add_user_rejects_an_implausible_address_with_its_line() {
    let err = run("let x = 1;\nadd_user(\"not an address\");", &event(EventKind::IssueCreated))
        .expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Runtime { line: Some(2), .. }), "{err:?}");
    assert!(err.to_string().starts_with("script default.rhai line 2: add_user:"), "{err}");
}

#[test]
fn add_user_rejects_a_number() {
    let err = run("add_user(42);", &event(EventKind::IssueCreated)).expect_err("the script must fail");
    assert!(matches!(&err, ScriptError::Runtime { message, .. } if message.contains("got i64")), "{err:?}");
}

#[test]
fn remove_wins_over_add_user_whatever_the_order() {
    let src = r#"remove("a@example.com"); add_user("A@example.com"); add_user("b@example.com");"#;
    let out = run(src, &event(EventKind::IssueCreated)).expect("runs");
    assert_eq!(users(&out), ["b@example.com"]);
    assert_eq!(out.removed, ["a@example.com"]);
}

#[test]
fn groups_and_roles_are_recorded_trimmed() {
    let out = run(
        r#"add_group(" jira-users "); add_group("jira-users"); add_role("Developers");"#,
        &event(EventKind::IssueCreated),
    )
    .expect("runs");
    assert_eq!(
        (out.groups.as_slice(), out.roles.as_slice()),
        (&["jira-users".to_string()][..], &["Developers".to_string()][..])
    );
}

#[test]
fn an_empty_group_name_is_an_error() {
    let err = run(r#"add_group("  ");"#, &event(EventKind::IssueCreated)).expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Runtime { .. }), "{err:?}");
}

#[test]
fn skip_means_nobody_even_after_adds() {
    let out =
        run(r#"add_user("a@example.com"); add_group("g"); skip();"#, &event(EventKind::IssueCreated)).expect("runs");
    assert_eq!(out, ScriptOutcome { skip: true, ..ScriptOutcome::default() });
}

#[test]
fn a_returned_array_adds_users_and_ignores_unit_items() {
    let out =
        run(r#"add_user("a@example.com"); ["B@example.com", event.assignee?.email]"#, &event(EventKind::IssueCreated))
            .expect("runs");
    assert_eq!(users(&out), ["a@example.com", "b@example.com"]);
}

#[test]
fn returning_nothing_keeps_the_calls() {
    let out = run(r#"add_user("a@example.com"); return;"#, &event(EventKind::IssueCreated)).expect("runs");
    assert_eq!(users(&out), ["a@example.com"]);
}

#[test]
fn garbage_in_a_returned_array_is_an_error() {
    for src in [r#"["a@example.com", 1]"#, r#"["nope"]"#] {
        let err = run(src, &event(EventKind::IssueCreated)).expect_err("the script must fail");
        assert!(matches!(err, ScriptError::Garbage { .. }), "{src}: {err:?}");
    }
}

#[test]
fn returned_strings_and_bools_are_garbage() {
    for src in [r#""a@example.com""#, "true", "1.5"] {
        let err = run(src, &event(EventKind::IssueCreated)).expect_err("the script must fail");
        assert!(matches!(err, ScriptError::Garbage { .. }), "{src}: {err:?}");
    }
}

#[test]
fn the_event_kind_script_is_preferred_over_default() {
    let scripts = Scripts::from_sources(
        [("default.rhai", r#"["d@example.com"]"#), ("comment_created", r#"["c@example.com"]"#)],
        ScriptLimits::default(),
    )
    .expect("compiles");
    assert_eq!(scripts.script_for(EventKind::CommentCreated), Some("comment_created.rhai"));
    assert_eq!(scripts.script_for(EventKind::IssueUpdated), Some("default.rhai"));
    assert_eq!(users(&scripts.recipients(&event(EventKind::CommentCreated)).expect("runs")), ["c@example.com"]);
    assert_eq!(users(&scripts.recipients(&event(EventKind::IssueUpdated)).expect("runs")), ["d@example.com"]);
    assert_eq!(scripts.names(), ["comment_created.rhai", "default.rhai"]);
}

#[test]
fn without_a_script_the_reporter_and_watchers_are_used() {
    let scripts = Scripts::from_sources([("issue_created", "skip();")], ScriptLimits::default()).expect("compiles");
    let out = scripts.recipients(&event(EventKind::CommentCreated)).expect("runs");
    assert_eq!(scripts.script_for(EventKind::CommentCreated), None);
    assert_eq!(out, ScriptOutcome::defaults_for(&event(EventKind::CommentCreated)));
    assert_eq!(users(&out), ["reporter@example.com", "w1@example.com"]);
}

#[test]
fn an_unknown_or_repeated_script_name_is_refused() {
    let err =
        Scripts::from_sources([("comment_added.rhai", "")], ScriptLimits::default()).expect_err("the script must fail");
    assert!(matches!(&err, ScriptError::Load { script, .. } if script == "comment_added.rhai"), "{err:?}");
    let err = Scripts::from_sources([("default", ""), ("default.rhai", "")], ScriptLimits::default())
        .expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Load { .. }), "{err:?}");
}

#[test]
fn an_undefined_variable_is_refused_at_load() {
    let err = Scripts::from_sources([("default", "\nadd_user(evnt.reporter);")], ScriptLimits::default())
        .expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Compile { line: Some(2), .. }), "{err:?}");
}

#[test]
fn a_misspelled_event_field_is_a_runtime_error() {
    let err = run("add_user(event.reportr);", &event(EventKind::IssueCreated)).expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Runtime { line: Some(1), .. }), "{err:?}");
}

#[test]
fn the_script_sees_the_event_fields() {
    let src = r#"
        if event.kind != "comment_created" || event.origin != "webhook" { throw "kind/origin"; }
        if event.issue_key != "HELP-7" || event.project != "HELP" { throw "key"; }
        if event.assignee != () || event.mail_sender != () { throw "unknown is ()"; }
        if event.watchers.len() != 2 || event.watchers[1].email != () { throw "watchers"; }
        if event.changed[0].to != "Done" || event.comment.body != "hi" { throw "changed/comment"; }
    "#;
    run(src, &event(EventKind::CommentCreated)).expect("every field as expected");
}

#[test]
fn long_strings_are_cut_to_half_the_string_limit() {
    let mut ev = event(EventKind::CommentCreated);
    if let Some(c) = ev.comment.as_mut() {
        c.body = "é".repeat(100_000);
    }
    let src = r#"let b = event.comment.body.to_upper(); if b.len() == 0 || b.len() > 32768 { throw b.len(); }"#;
    run(src, &ev).expect("a long comment can be read and transformed");
}

#[test]
fn print_and_debug_do_not_fail() {
    let out =
        run(r#"for i in 0..200 { print(`line ${i}`); debug(i); } ["a@example.com"]"#, &event(EventKind::IssueCreated))
            .expect("runs");
    assert_eq!(users(&out), ["a@example.com"]);
}

#[test]
fn assigning_to_the_event_is_an_error() {
    let ev = event(EventKind::IssueCreated);
    for src in [r#"event.summary = "x";"#, "event = 1;", r#"event.watchers.push(1);"#] {
        let err = run(src, &ev);
        assert!(matches!(err, Err(ScriptError::Runtime { .. }) | Err(ScriptError::Compile { .. })), "{src}: {err:?}");
    }
    assert_eq!(ev, event(EventKind::IssueCreated));
}

#[test]
fn a_copy_of_the_event_may_be_changed_without_effect() {
    let ev = event(EventKind::IssueCreated);
    run(r#"let e = event; e.summary = "changed"; e.watchers.clear();"#, &ev).expect("a copy is writable");
    assert_eq!(ev, event(EventKind::IssueCreated));
}

#[test]
fn the_timeout_stops_a_script_with_unlimited_operations() {
    let limits = ScriptLimits { max_operations: 0, timeout: Duration::from_millis(50), ..ScriptLimits::default() };
    let scripts = Scripts::from_sources([("default", "loop { }")], limits).expect("compiles");
    let err = scripts.recipients(&event(EventKind::IssueCreated)).expect_err("the script must fail");
    assert!(matches!(&err, ScriptError::Limit { message, .. } if message.contains("longer than")), "{err:?}");
}

#[test]
fn recursion_beyond_the_call_limit_is_a_limit_not_a_crash() {
    let src = "fn f(n) { if n == 0 { 0 } else { 1 + f(n - 1) } }\nf(10000)";
    let err = run(src, &event(EventKind::IssueCreated)).expect_err("the script must fail");
    assert!(matches!(err, ScriptError::Limit { .. }), "{err:?}");
    // Up to the limit, recursion works (the script thread's stack fits it).
    run("fn f(n) { if n == 0 { 0 } else { 1 + f(n - 1) } }\nf(30); ()", &event(EventKind::IssueCreated))
        .expect("within the call limit");
}

#[test]
fn deeply_nested_data_ends_in_an_error_or_a_result_not_a_crash() {
    // Formatting and comparing nested arrays recurse natively; the
    // script thread's stack is sized for nesting up to the size limits
    // (checked by hand up to 9000 levels in a debug build).
    let limits = ScriptLimits { timeout: Duration::from_millis(300), ..ScriptLimits::default() };
    let src = "let a = []; for i in 0..20000 { a = [a]; } print(a); a == a; ()";
    let scripts = Scripts::from_sources([("default", src)], limits).expect("compiles");
    let _ = scripts.recipients(&event(EventKind::IssueCreated));
}

#[test]
fn errors_name_the_script_and_the_line() {
    let err = run("let a = 1;\nthrow \"boom\";", &event(EventKind::IssueCreated)).expect_err("the script must fail");
    assert_eq!(err.to_string(), "script default.rhai line 2: boom");
    assert_eq!(err.script(), "default.rhai");
}

#[test]
fn an_error_in_a_function_reports_the_line_of_the_throw() {
    let err = run("fn check() {\n  throw \"inner\";\n}\ncheck();", &event(EventKind::IssueCreated))
        .expect_err("the script must fail");
    assert!(
        matches!(&err, ScriptError::Runtime { line: Some(2), message, .. } if message.contains("check")),
        "{err:?}"
    );
}

#[test]
fn a_script_sees_the_requester_and_participants_and_can_remove_them() {
    let mut ev = event(EventKind::CommentCreated);
    let customer = |email: &str, role| crate::notify::event::Customer {
        email: email.into(),
        name: None,
        account_id: None,
        role,
        last_message_id: None,
    };
    ev.customers = vec![
        customer("ann@c.test", crate::store::Role::Requester),
        customer("bob@c.test", crate::store::Role::Participant),
    ];
    let source = r#"
        for c in event.customers { if c.role == "participant" { remove(c.email); } }
        add_user(event.customers[0].email);
    "#;
    let out = run(source, &ev).expect("runs");
    assert_eq!(users(&out), ["ann@c.test"]);
    assert_eq!(out.removed, ["bob@c.test"], "the notifier leaves the removed ones out of the customers it adds");
}
