//! The binary as users run it: demo, replay --dry-run, bad config, and the
//! README's configuration example.

use std::process::Command;

use mailgate_testkit::TestApp;

fn mailgate() -> Command {
    Command::new(crate::MAILGATE)
}

/// A configuration whose Jira is never called (nothing listens there).
async fn offline_app() -> TestApp {
    TestApp::builder()
        .mailgate_defaults()
        .set("jira.base_url", "http://127.0.0.1:9")
        .set_toml("jira.auth", r#"{ kind = "basic", user = "bot@x.test", secret = "never-called" }"#)
        .spawn()
        .await
}

#[test]
fn demo_runs_the_pipeline_on_the_sample_mails() {
    let out = mailgate().arg("demo").output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("HELP-1 [email] Printer on floor 3 is on fire"), "{stdout}");
    assert!(stdout.contains("SALES-1"), "{stdout}");
    assert!(stdout.contains("duplicate Message-ID"), "{stdout}");
    // Each file beside its own result (mails run side by side).
    let row = |file: &str| stdout.lines().find(|l| l.trim_start().starts_with(file)).unwrap_or_default().to_string();
    assert!(row("01-new-request.eml").contains("create"), "{stdout}");
    assert!(row("05-out-of-office.eml").contains("auto-submitted"), "{stdout}");
    assert!(row("06-bounce.eml").contains("ignore"), "{stdout}");
    assert!(row("07-same-mail-again.eml").contains("duplicate Message-ID"), "{stdout}");
    assert!(stdout.contains("7 mails stored, 7 processed, 7 acknowledged"), "{stdout}");
}

#[tokio::test]
async fn replay_dry_run_prints_one_json_object_per_mail_without_calling_jira() {
    let app = offline_app().await;
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo/mails");
    let out = app
        .command(crate::MAILGATE)
        .args(["replay", "--dry-run", "--format", "json"])
        .arg(format!("{fixtures}/with-attachments.eml"))
        .arg(format!("{demo}/05-out-of-office.eml"))
        .arg(format!("{demo}/02-reply-by-subject-key.eml"))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let reports: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(reports.len(), 3);
    let new = &reports[0];
    for field in ["file", "message_id", "action", "issue_key", "reason", "from", "summary", "body", "attachments"] {
        assert!(new.get(field).is_some(), "missing {field}: {new}");
    }
    assert_eq!(new["action"], "create");
    assert_eq!(new["message_id"], "att-1@customer.test");
    assert_eq!(new["from"], "carla@customer.test");
    assert_eq!(new["summary"], "VPN does not connect");
    let atts = new["attachments"].as_array().expect("array");
    assert_eq!(atts.len(), 2, "the .exe is blocked: {atts:?}");
    assert_eq!(atts[0]["filename"], "screen shot.png");
    assert_eq!(atts[0]["size"], 2679);
    assert_eq!(atts[0]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(reports[1]["action"], "ignore");
    assert!(reports[1]["reason"].as_str().is_some_and(|r| r.contains("auto-replied")));
    assert_eq!(reports[2]["action"], "comment");
    assert_eq!(reports[2]["issue_key"], "HELP-1");
    assert!(!reports[2]["body"].as_str().unwrap_or("").contains("We are on our way"), "quoted text is cut");
}

#[tokio::test]
async fn a_bad_config_is_a_clear_error_naming_the_key() {
    let app = offline_app().await;
    let good = std::fs::read_to_string(app.config_path()).expect("config");
    let bad = good.replace("flavor = \"cloud\"", "flavor = \"cloudy\"");
    assert_ne!(bad, good, "the flavor line is in the config");
    let config = app.dir().join("bad.toml");
    std::fs::write(&config, bad).expect("write config");
    let out = mailgate().arg("--config").arg(&config).arg("migrate").output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("flavor") && stderr.contains("cloudy"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("never-called"), "secrets are not echoed: {stderr}");

    let missing = mailgate().args(["--config", "/nonexistent/mailgate.toml", "run"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(stderr.contains("cannot read config file /nonexistent/mailgate.toml"), "{stderr}");
}

#[test]
fn the_readme_configuration_example_is_valid() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("block end");
    let settings = mailgate::config::Settings::from_toml_with_env(&readme[start..end], Vec::new())
        .unwrap_or_else(|e| panic!("README config does not load: {e}"));
    assert_eq!(settings.mailboxes.len(), 1);
    assert_eq!(settings.routing.rules.len(), 3);
    assert!(settings.smtp.is_some() && settings.admin.listen.is_some());
}

#[tokio::test]
async fn migrate_creates_the_sqlite_file_and_log_reads_it() {
    let app = offline_app().await;
    let db_file = app.sqlite_path().expect("a SQLite file");
    assert!(!db_file.exists(), "nothing has opened the database yet");
    let out = app.command(crate::MAILGATE).arg("migrate").output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(db_file.exists());
    let log = app.command(crate::MAILGATE).arg("log").output().expect("runs");
    assert!(log.status.success(), "{}", String::from_utf8_lossy(&log.stderr));
}

/// Issue 13: `token set` holds to the same expiry range as the admin API.
#[tokio::test]
async fn token_set_refuses_an_expiry_years_ahead() {
    use std::io::Write;
    let app = mailgate_testkit::TestApp::builder().master_key(&"7c".repeat(32)).spawn().await;
    let mut set = app
        .command(crate::MAILGATE)
        .args(["token", "set", "--user", "admin@example.test", "--expires", "9999-12-31"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    set.stdin.take().expect("stdin").write_all(b"ATATT-far-future-token").expect("write");
    let out = set.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("more than 400 days ahead"), "{text}");
    assert!(!text.contains("ATATT-far-future-token"), "{text}");
}
