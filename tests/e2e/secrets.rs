//! Secrets never leak: a whole run (token set, status, verify, `mailgate run`
//! with trace logging against real Dovecot and the fake Jira) leaves no trace
//! of the token in any output or in the database file; a wrong master key
//! is a clear error that leaves the stored token intact.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use common::dovecot::Dovecot;
use common::{Imap, JIRA_TOKEN, JIRA_USER, mail};
use mailgate::fake_jira::{FakeAuth, FakeJira};

const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT3xFfGF0-LeakCanary-9f8e7d6c5b4a";
const KEY_HEX: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const OTHER_KEY_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn mailgate(config: &std::path::Path, key: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailgate"));
    c.arg("--config").arg(config).env("MAILGATE_MASTER_KEY", key).env("MAILGATE_LOG", "trace");
    c
}

fn output(c: &mut Command) -> (bool, String) {
    let out = c.output().expect("runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Forms the token could take in text: itself, its first half, and the Basic
/// auth header value.
fn traces() -> Vec<String> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ADMIN_USER}:{ADMIN_TOKEN}"));
    vec![ADMIN_TOKEN.to_string(), ADMIN_TOKEN[..16].to_string(), basic]
}

fn assert_clean(what: &str, text: &[u8]) {
    for t in traces() {
        assert!(!text.windows(t.len()).any(|w| w == t.as_bytes()), "{what} contains a trace of the token ({t})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_trace_of_the_token_in_outputs_or_database_and_a_wrong_key_is_refused() {
    common::init();
    let dovecot = Dovecot::start();
    let jira = FakeJira::start(
        &["HELP"],
        vec![
            FakeAuth::Basic { user: JIRA_USER.into(), secret: JIRA_TOKEN.into() },
            FakeAuth::Basic { user: ADMIN_USER.into(), secret: ADMIN_TOKEN.into() },
        ],
    )
    .await
    .expect("jira");
    jira.add_group("jira-users");
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("mailgate.db");
    let config = dir.path().join("mailgate.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[database]
url = "sqlite://{}"
[jira]
flavor = "cloud"
base_url = "{}"
auth = {{ kind = "basic", user = "{JIRA_USER}", secret = "{JIRA_TOKEN}" }}
[inbound]
own_addresses = ["help@corp.test"]
[routing]
default = {{ project = "HELP", sender_policy = "create-user", groups = ["jira-users"] }}
[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = {}
tls = "none"
user = "{}"
password = "{}"
processed_folder = "Processed"
"#,
            db_path.display(),
            jira.base_url(),
            dovecot.port,
            common::dovecot::USER,
            common::dovecot::PASSWORD
        ),
    )
    .expect("config");
    let mut all_output = String::new();

    // token set: the token comes on stdin, never on the command line.
    let mut child = mailgate(&config, KEY_HEX)
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
        let (ok, text) = output(mailgate(&config, KEY_HEX).args(args));
        assert!(ok, "{args:?}: {text}");
        all_output.push_str(&text);
    }

    // A run that uses the token: the unknown sender becomes a Jira user.
    let mut imap = Imap::connect(dovecot.port).await;
    imap.append(&mail("leak@c.test", "Lee Leak <lee@newco.test>", "help@corp.test", "Check the logs", "", "x")).await;
    let run =
        mailgate(&config, KEY_HEX).arg("run").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn run");
    let created = common::wait_until(Duration::from_secs(30), || async { !jira.issues().is_empty() }).await;
    let _ = Command::new("kill").arg("-TERM").arg(run.id().to_string()).status();
    let out = run.wait_with_output().expect("run output");
    all_output.push_str(&String::from_utf8_lossy(&out.stdout));
    all_output.push_str(&String::from_utf8_lossy(&out.stderr));
    assert!(created, "the run processed the mail: {all_output}");
    assert_eq!(jira.users().iter().filter(|u| u.email == "lee@newco.test").count(), 1);
    assert!(all_output.contains("TRACE") || all_output.contains("DEBUG"), "the log really was verbose");

    // A wrong master key: a clear error, no panic, the stored token untouched.
    let (ok, text) = output(mailgate(&config, OTHER_KEY_HEX).arg("run"));
    assert!(!ok, "a wrong key must stop the service");
    assert!(text.contains("cannot be decrypted with this master key"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    all_output.push_str(&text);
    let (ok, text) = output(mailgate(&config, OTHER_KEY_HEX).args(["token", "verify"]));
    assert!(!ok && text.contains("cannot be decrypted"), "{text}");
    all_output.push_str(&text);
    let (ok, text) = output(mailgate(&config, KEY_HEX).args(["token", "verify"]));
    assert!(ok, "the stored token still works with the right key: {text}");
    all_output.push_str(&text);

    assert_clean("command output and logs", all_output.as_bytes());
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = format!("{}{suffix}", db_path.display());
        if let Ok(bytes) = std::fs::read(&path) {
            assert_clean(&path, &bytes);
        }
    }
    imap.logout().await;
}

#[test]
fn rotating_the_master_key_re_encrypts_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("mailgate.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite://{}/m.db\"\n[jira]\nflavor = \"cloud\"\nbase_url = \"http://127.0.0.1:9\"\nauth = {{ kind = \"basic\", user = \"u@x.test\", secret = \"s\" }}\n[routing]\ndefault = {{ project = \"HELP\" }}\n",
            dir.path().display()
        ),
    )
    .expect("config");
    let mut child = mailgate(&config, KEY_HEX)
        .args(["token", "set", "--user", ADMIN_USER])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(ADMIN_TOKEN.as_bytes()).expect("write");
    assert!(child.wait().expect("wait").success());

    let (ok, text) =
        output(mailgate(&config, KEY_HEX).args(["token", "rotate-key"]).env("MAILGATE_NEW_MASTER_KEY", OTHER_KEY_HEX));
    assert!(ok, "{text}");
    assert_clean("rotate output", text.as_bytes());
    // The token now opens with the new key only. `token status` shows the default one-year expiry.
    let out = mailgate(&config, OTHER_KEY_HEX).args(["token", "status", "--format", "json"]).output().expect("runs");
    let status = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{status}");
    let v: serde_json::Value = serde_json::from_str(&status).expect("status is JSON");
    assert!(v["days_left"].as_i64().is_some_and(|d| (364..=366).contains(&d)), "{status}");
    // The old key no longer opens it; the new key does (verify then fails only at the network).
    let (ok, old) = output(mailgate(&config, KEY_HEX).args(["token", "verify"]));
    assert!(!ok && old.contains("cannot be decrypted with this master key"), "{old}");
    let (ok, new) = output(mailgate(&config, OTHER_KEY_HEX).args(["token", "verify"]));
    assert!(!ok && !new.contains("cannot be decrypted") && new.contains("cannot reach Jira"), "{new}");
    assert_clean("verify output", format!("{old}{new}").as_bytes());
}
