//! End to end: mailgate's pipeline, service and binary against the fake
//! Jira, a real Dovecot, the SMTP sink, SQLite and PostgreSQL. One test
//! binary; each test builds its world with `mailgate_testkit::TestApp`.

mod admin_api;
mod attachments;
mod audit;
mod bounces;
mod cli;
mod conversation;
mod crash;
mod faults;
mod fields;
mod helpdesk;
mod identity;
mod inbound_imap;
mod limits;
mod multi_instance;
mod notify;
mod oauth;
mod outbox_smtp;
mod pipeline;
mod policies;
mod privacy;
mod realworld;
mod resume;
mod routing;
mod scripts;
mod secrets;
mod soak;
mod stats;
mod store_raw;
mod store_retry;
mod throttle;

/// The binary under test (built with the `crash-points` feature in test builds).
const MAILGATE: &str = env!("CARGO_BIN_EXE_mailgate");

/// The world for tests that run the `mailgate` binary: Dovecot, mail
/// retried after 100 ms, everything routed to HELP, the mailbox polled
/// every second, Jira's client defaults otherwise.
fn run_app() -> mailgate_testkit::TestAppBuilder {
    mailgate_testkit::TestApp::builder()
        .with_imap()
        .unset("jira.max_retries")
        .set("inbound.retry_base_ms", 100)
        .unset("routing.rules")
        .set_toml("routing.default", r#"{ project = "HELP" }"#)
        .set("mailboxes.0.poll_interval_secs", 1)
}

/// `mailgate run` on the app's config: aborting (like kill -9) at
/// `crash_at` when given (`MAILGATE_TEST_CRASH_AT=<point>[:n]`), its log
/// (info) appended to `log` when given, else discarded.
fn spawn_run(
    app: &mailgate_testkit::TestApp,
    crash_at: Option<&str>,
    log: Option<&std::path::Path>,
) -> std::process::Child {
    use std::process::Stdio;
    let mut c = app.command(MAILGATE);
    c.arg("run").stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(point) = crash_at {
        c.env("MAILGATE_TEST_CRASH_AT", point);
    }
    if let Some(path) = log {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("log file");
        c.env("MAILGATE_LOG", "info,sqlx=warn").stderr(file);
    }
    c.spawn().expect("mailgate run starts")
}

/// `mailgate replay --from-dead-letter ID` on the app's config: the JSON report.
fn replay_dead_letter(app: &mailgate_testkit::TestApp, id: i64) -> serde_json::Value {
    let out =
        app.command(MAILGATE).args(["replay", "--from-dead-letter", &id.to_string()]).output().expect("replay runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.trim()).expect("json")
}

/// `mailgate token set --user USER` with the token on stdin, as an admin runs it.
fn cli_token_set(app: &mailgate_testkit::TestApp, user: &str, token: &str) {
    use std::io::Write;
    let mut set = app
        .command(MAILGATE)
        .args(["token", "set", "--user", user])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    set.stdin.take().expect("stdin").write_all(token.as_bytes()).expect("write");
    assert!(set.wait().expect("wait").success());
}
