//! Secrets never leak: a whole run (token set, status, verify, `mailgate run`
//! with trace logging against real Dovecot and the fake Jira) leaves no trace
//! of the token in any output or in the database file; a wrong master key
//! is a clear error that leaves the stored token intact.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use mailgate_testkit::{TestApp, mail, wait_until};

const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT3xFfGF0-LeakCanary-9f8e7d6c5b4a";
const KEY_HEX: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const OTHER_KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn mailgate(app: &TestApp, key: &str) -> Command {
    let mut c = app.command(crate::MAILGATE);
    c.env("MAILGATE_MASTER_KEY", key).env("MAILGATE_LOG", "trace");
    c
}

fn output(c: &mut Command) -> (bool, String) {
    let out = c.output().expect("runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Canaries for every other secret of the configuration.
const ADMIN_API_KEY: &str = "admin-key-LeakCanary-0123456789abcdefghij";
const WEBHOOK_SECRET: &str = "whsec-LeakCanary-5f4e3d2c1b";
const SMTP_PASSWORD: &str = "smtp-pw-LeakCanary-77aa";

/// Forms each secret could take in text: the workaround token, its first
/// half and its Basic auth header value; the service's Jira token and its
/// header; the IMAP and SMTP passwords, the admin key, the webhook secret
/// and the master key.
fn traces() -> Vec<String> {
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        ADMIN_TOKEN.to_string(),
        ADMIN_TOKEN[..16].to_string(),
        b64(format!("{ADMIN_USER}:{ADMIN_TOKEN}")),
        mailgate_testkit::JIRA_TOKEN.to_string(),
        b64(format!("{}:{}", mailgate_testkit::JIRA_USER, mailgate_testkit::JIRA_TOKEN)),
        mailgate_testkit::dovecot::PASSWORD.to_string(),
        ADMIN_API_KEY.to_string(),
        WEBHOOK_SECRET.to_string(),
        SMTP_PASSWORD.to_string(),
        KEY_HEX.to_string(),
        KEY_HEX[..32].to_string(),
    ]
}

fn assert_clean(what: &str, text: &[u8]) {
    for t in traces() {
        assert!(!text.windows(t.len()).any(|w| w == t.as_bytes()), "{what} contains a trace of a secret ({t})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_trace_of_the_token_in_outputs_or_database_and_a_wrong_key_is_refused() {
    // Jira's defaults; unknown senders become users in jira-users.
    let app = TestApp::builder()
        .with_imap()
        .jira_projects(&["HELP"])
        .jira_accepts(ADMIN_USER, ADMIN_TOKEN)
        .mailgate_defaults()
        .set_toml("routing.default", r#"{ project = "HELP", sender_policy = "create-user", groups = ["jira-users"] }"#)
        .unset("mailboxes.0.failed_folder")
        .unset("mailboxes.0.poll_interval_secs")
        .set_toml("admin", &format!(r#"{{ listen = "127.0.0.1:0", api_key = "{ADMIN_API_KEY}" }}"#))
        .set("notify.webhook_secret", WEBHOOK_SECRET)
        .smtp_nowhere()
        .set("smtp.user", "mailgate")
        .set("smtp.password", SMTP_PASSWORD)
        .spawn()
        .await;
    app.jira.add_group("jira-users");
    let mut all_output = String::new();

    // token set: the token comes on stdin, never on the command line.
    let mut child = mailgate(&app, KEY_HEX)
        .args(["token", "set", "--user", ADMIN_USER, "--expires", "2027-06-01"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(format!("{ADMIN_TOKEN}\n").as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    all_output.push_str(&String::from_utf8_lossy(&out.stdout));
    all_output.push_str(&String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{all_output}");

    for args in [&["token", "status"][..], &["token", "status", "--format", "json"], &["token", "verify"]] {
        let (ok, text) = output(mailgate(&app, KEY_HEX).args(args));
        assert!(ok, "{args:?}: {text}");
        all_output.push_str(&text);
    }

    // A run that uses the token: the unknown sender becomes a Jira user.
    let mut imap = app.imap().await;
    imap.append(&mail("leak@c.test", "Lee Leak <lee@newco.test>", "help@corp.test", "Check the logs", "", "x")).await;
    let run =
        mailgate(&app, KEY_HEX).arg("run").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn run");
    let created = wait_until(Duration::from_secs(30), || async { !app.jira.issues().is_empty() }).await;
    let _ = Command::new("kill").arg("-TERM").arg(run.id().to_string()).status();
    let out = run.wait_with_output().expect("run output");
    all_output.push_str(&String::from_utf8_lossy(&out.stdout));
    all_output.push_str(&String::from_utf8_lossy(&out.stderr));
    assert!(created, "the run processed the mail: {all_output}");
    assert_eq!(app.jira.users().iter().filter(|u| u.email == "lee@newco.test").count(), 1);
    assert!(all_output.contains("TRACE") || all_output.contains("DEBUG"), "the log really was verbose");
    // async-imap's wire trace would show `LOGIN "user" "password"` (escaped).
    let imap_password = format!("\"{}", mailgate_testkit::dovecot::PASSWORD);
    assert!(!all_output.contains(&imap_password), "the IMAP password is in the output");

    // A wrong master key: a clear error, no panic, the stored token untouched.
    let (ok, text) = output(mailgate(&app, OTHER_KEY_HEX).arg("run"));
    assert!(!ok, "a wrong key must stop the service");
    assert!(text.contains("cannot be decrypted with this master key"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    all_output.push_str(&text);
    let (ok, text) = output(mailgate(&app, OTHER_KEY_HEX).args(["token", "verify"]));
    assert!(!ok && text.contains("cannot be decrypted"), "{text}");
    all_output.push_str(&text);
    let (ok, text) = output(mailgate(&app, KEY_HEX).args(["token", "verify"]));
    assert!(ok, "the stored token still works with the right key: {text}");
    all_output.push_str(&text);

    assert_clean("command output and logs", all_output.as_bytes());
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = format!("{}{suffix}", app.sqlite_path().expect("a SQLite file").display());
        if let Ok(bytes) = std::fs::read(&path) {
            assert_clean(&path, &bytes);
        }
    }
    imap.logout().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_master_key_re_encrypts_the_token() {
    // Jira is unreachable: only the token's storage is exercised.
    let app = TestApp::builder()
        .mailgate_defaults()
        .unset("inbound")
        .set("jira.base_url", "http://127.0.0.1:9")
        .spawn()
        .await;
    let mut child = mailgate(&app, KEY_HEX)
        .args(["token", "set", "--user", ADMIN_USER])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(ADMIN_TOKEN.as_bytes()).expect("write");
    assert!(child.wait().expect("wait").success());

    let (ok, text) =
        output(mailgate(&app, KEY_HEX).args(["token", "rotate-key"]).env("MAILGATE_NEW_MASTER_KEY", OTHER_KEY_HEX));
    assert!(ok, "{text}");
    assert_clean("rotate output", text.as_bytes());
    // The token now opens with the new key only. `token status` shows the default one-year expiry.
    let out = mailgate(&app, OTHER_KEY_HEX).args(["token", "status", "--format", "json"]).output().expect("runs");
    let status = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{status}");
    let v: serde_json::Value = serde_json::from_str(&status).expect("status is JSON");
    assert!(v["days_left"].as_i64().is_some_and(|d| (364..=366).contains(&d)), "{status}");
    // The old key no longer opens it; the new key does (verify then fails only at the network).
    let (ok, old) = output(mailgate(&app, KEY_HEX).args(["token", "verify"]));
    assert!(!ok && old.contains("cannot be decrypted with this master key"), "{old}");
    let (ok, new) = output(mailgate(&app, OTHER_KEY_HEX).args(["token", "verify"]));
    assert!(!ok && !new.contains("cannot be decrypted") && new.contains("cannot reach Jira"), "{new}");
    assert_clean("verify output", format!("{old}{new}").as_bytes());
}
