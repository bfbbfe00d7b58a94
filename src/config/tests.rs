use super::*;
use secrecy::ExposeSecret;

const BASE: &str = r#"
[jira]
flavor = "cloud"
base_url = "https://x.atlassian.net"
auth = { kind = "basic", user = "bot@x.test", secret = "tok" }

[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = 143
tls = "none"
user = "u"
password = "p"

[routing]
default = { project = "HELP" }
"#;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn a_minimal_file_loads_with_defaults() {
    let s = Settings::from_toml_with_env(BASE, env(&[])).expect("valid");
    assert_eq!(s.mailboxes[0].folder, "INBOX");
    assert_eq!(s.routing.default.issue_type, "Task");
    assert_eq!(s.database.url, "sqlite://mailgate.db");
}

#[test]
fn env_overrides_nested_and_array_values() {
    let s = Settings::from_toml_with_env(
        BASE,
        env(&[("MAILGATE_MAILBOXES__0__PASSWORD", "from-env"), ("MAILGATE_JIRA__TIMEOUT_SECS", "5")]),
    )
    .expect("valid");
    assert_eq!(s.mailboxes[0].password.expose_secret(), "from-env");
    assert_eq!(s.jira.timeout_secs, 5);
}

#[test]
fn plaintext_imap_to_a_remote_host_is_refused_naming_the_key() {
    let text = BASE.replace("host = \"127.0.0.1\"", "host = \"imap.example.com\"");
    let err = Settings::from_toml_with_env(&text, env(&[])).expect_err("invalid");
    assert!(err.to_string().contains("mailboxes[0].tls"), "{err}");
}

#[test]
fn unknown_keys_and_bad_project_keys_are_named() {
    let err = Settings::from_toml_with_env(&format!("{BASE}\n[bogus]\nx=1\n"), env(&[])).expect_err("invalid");
    assert!(err.to_string().contains("bogus"), "{err}");
    let err = Settings::from_toml_with_env(&BASE.replace("\"HELP\"", "\"help me\""), env(&[])).expect_err("invalid");
    assert!(err.to_string().contains("project"), "{err}");
}

#[test]
fn debug_output_hides_secrets() {
    let s = Settings::from_toml_with_env(BASE, env(&[])).expect("valid");
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("\"tok\"") && !dbg.contains("password: \"p\""), "{dbg}");
}

#[test]
fn attachment_settings_have_defaults_and_digests_are_checked() {
    let s = Settings::from_toml_with_env(BASE, env(&[])).expect("valid");
    assert!(!s.inbound.keep_signatures);
    assert_eq!(s.inbound.min_image_bytes, 1024);
    assert!(s.inbound.blocked_sha256.is_empty());

    let logo = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    let text =
        format!("{BASE}\n[inbound]\nkeep_signatures = true\nmin_image_bytes = 0\nblocked_sha256 = [\"{logo}\"]\n");
    let s = Settings::from_toml_with_env(&text, env(&[])).expect("valid");
    assert!(s.inbound.keep_signatures);
    assert_eq!(s.inbound.min_image_bytes, 0);
    assert_eq!(s.inbound.blocked_sha256[0].as_ref(), logo.to_ascii_lowercase());

    let from_env = format!("[\"{logo}\"]");
    let s = Settings::from_toml_with_env(BASE, env(&[("MAILGATE_INBOUND__BLOCKED_SHA256", &from_env)])).expect("env");
    assert_eq!(s.inbound.blocked_sha256.len(), 1);

    let text = format!("{BASE}\n[inbound]\nblocked_sha256 = [\"{}\"]\n", &logo[2..]);
    let err = Settings::from_toml_with_env(&text, env(&[])).expect_err("63 hex characters");
    let msg = err.to_string();
    assert!(msg.contains("blocked_sha256") && msg.contains("64 hex characters"), "{msg}");
}

#[test]
fn bounce_suppression_lasts_30_days_unless_configured() {
    let s = Settings::from_toml_with_env(BASE, env(&[])).expect("valid");
    assert_eq!(s.notify.bounce_suppression_days, 30);
    let set = format!("{BASE}\n[notify]\nbounce_suppression_days = 7\n");
    assert_eq!(Settings::from_toml_with_env(&set, env(&[])).expect("valid").notify.bounce_suppression_days, 7);
    let zero = format!("{BASE}\n[notify]\nbounce_suppression_days = 0\n");
    let err = Settings::from_toml_with_env(&zero, env(&[])).expect_err("zero is refused").to_string();
    assert!(err.contains("notify.bounce_suppression_days"), "{err}");
}
