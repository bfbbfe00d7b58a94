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
fn env_overrides_keep_strings_as_strings_and_type_only_what_is_not_a_string() {
    let s = Settings::from_toml_with_env(
        BASE,
        env(&[
            ("MAILGATE_MAILBOXES__0__PASSWORD", "123456"),
            ("MAILGATE_MAILBOXES__0__USER", "true"),
            ("MAILGATE_MAILBOXES__0__FOLDER", "\"Quoted\""),
            ("MAILGATE_JIRA__AUTH__SECRET", "1e3"),
            ("MAILGATE_INBOUND__MAX_ATTEMPTS", "7"),
            ("MAILGATE_INBOUND__ONLY_UNSEEN", "true"),
            ("MAILGATE_JIRA__MAX_REQUESTS_PER_SEC", "2.5"),
        ]),
    )
    .expect("valid");
    assert_eq!(s.mailboxes[0].password.expose_secret(), "123456");
    assert_eq!(s.mailboxes[0].user, "true");
    assert_eq!(s.mailboxes[0].folder, "\"Quoted\"");
    match &s.jira.auth {
        crate::config::JiraAuth::Basic { secret, .. } => assert_eq!(secret.expose_secret(), "1e3"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.inbound.max_attempts, 7);
    assert!(s.inbound.only_unseen);
    assert!((s.jira.max_requests_per_sec - 2.5).abs() < f64::EPSILON);
}

#[test]
fn config_errors_never_show_a_secret() {
    // A secret of the wrong type in the file, and a broken line holding one.
    let text = BASE.replace("password = \"p\"", "password = 987654321");
    let err = Settings::from_toml_with_env(&text, env(&[])).expect_err("invalid").to_string();
    assert!(!err.contains("987654321"), "{err}");
    let text = BASE.replace("password = \"p\"", "password = \"s3cr3t-value");
    let err = Settings::from_toml_with_env(&text, env(&[])).expect_err("invalid").to_string();
    assert!(!err.contains("s3cr3t-value") && err.contains("line 13"), "{err}");
    // A typed setting given a non-number: the message names the key, not the value.
    let err = Settings::from_toml_with_env(BASE, env(&[("MAILGATE_MAILBOXES__0__PORT", "hunter2")]));
    let err = err.expect_err("invalid").to_string();
    assert!(!err.contains("hunter2") && err.contains("mailboxes.0.port"), "{err}");
}

const GOOD_KEY: &str = "0123456789abcdef0123456789abcdef";

fn with_admin(admin: &str) -> String {
    format!("{BASE}\n[admin]\n{admin}\n")
}

#[test]
fn an_empty_admin_key_is_refused_from_the_file_and_from_the_environment() {
    let err = Settings::from_toml_with_env(&with_admin("listen = \"127.0.0.1:8025\"\napi_key = \"\""), env(&[]))
        .expect_err("empty key");
    let msg = err.to_string();
    assert!(msg.contains("admin.api_key") && msg.contains("empty"), "{msg}");

    let text = with_admin(&format!("listen = \"127.0.0.1:8025\"\napi_key = \"{GOOD_KEY}\""));
    let err = Settings::from_toml_with_env(&text, env(&[("MAILGATE_ADMIN__API_KEY", "")])).expect_err("empty env key");
    assert!(err.to_string().contains("admin.api_key"), "{err}");
    let err = Settings::from_toml_with_env(&text, env(&[("MAILGATE_ADMIN__API_KEY", "   ")])).expect_err("blank key");
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn a_short_admin_key_is_refused_without_printing_it() {
    let short = "hunter2-is-not-a-key";
    let err = Settings::from_toml_with_env(
        &with_admin(&format!("listen = \"127.0.0.1:8025\"\napi_key = \"{short}\"")),
        env(&[]),
    )
    .expect_err("short key");
    let msg = err.to_string();
    assert!(msg.contains("admin.api_key") && msg.contains("32 characters"), "{msg}");
    assert!(!msg.contains(short), "the key is not echoed: {msg}");
    // Refused even when the API is off: a configured key is a key.
    let err =
        Settings::from_toml_with_env(&with_admin(&format!("api_key = \"{short}\"")), env(&[])).expect_err("short");
    assert!(!err.to_string().contains(short));
    let ok = with_admin(&format!("listen = \"127.0.0.1:8025\"\napi_key = \"{GOOD_KEY}\""));
    assert!(Settings::from_toml_with_env(&ok, env(&[])).is_ok());
}

#[test]
fn a_listener_reachable_from_other_hosts_needs_tls_or_an_explicit_opt_out() {
    let plain = with_admin(&format!("listen = \"0.0.0.0:8025\"\napi_key = \"{GOOD_KEY}\""));
    let err = Settings::from_toml_with_env(&plain, env(&[])).expect_err("plain HTTP on every interface");
    let msg = err.to_string();
    assert!(msg.contains("admin.listen") && msg.contains("tls_cert_file") && msg.contains("allow_plain_http"), "{msg}");
    let err = Settings::from_toml_with_env(&plain.replace("0.0.0.0", "[2001:db8::1]"), env(&[])).expect_err("v6");
    assert!(err.to_string().contains("admin.listen"), "{err}");

    let opted_out =
        Settings::from_toml_with_env(&format!("{plain}allow_plain_http = true\n"), env(&[])).expect("opt-out");
    assert!(opted_out.admin.allow_plain_http && opted_out.admin.tls().is_none());
    let tls = format!("{plain}tls_cert_file = \"/etc/mailgate/cert.pem\"\ntls_key_file = \"/etc/mailgate/key.pem\"\n");
    let s = Settings::from_toml_with_env(&tls, env(&[])).expect("TLS");
    assert_eq!(s.admin.tls().map(|t| t.key_file), Some("/etc/mailgate/key.pem".to_string()));
    for loopback in ["127.0.0.1:8025", "[::1]:8025", "localhost:8025"] {
        let text = with_admin(&format!("listen = \"{loopback}\"\napi_key = \"{GOOD_KEY}\""));
        assert!(Settings::from_toml_with_env(&text, env(&[])).is_ok(), "{loopback}");
    }
}

#[test]
fn a_tls_certificate_without_its_key_is_refused() {
    let text = with_admin(&format!(
        "listen = \"0.0.0.0:8025\"\napi_key = \"{GOOD_KEY}\"\ntls_cert_file = \"/etc/mailgate/cert.pem\""
    ));
    let err = Settings::from_toml_with_env(&text, env(&[])).expect_err("no key file");
    assert!(err.to_string().contains("admin.tls_key_file"), "{err}");
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

#[test]
fn routing_rules_take_sender_and_regex_conditions_and_refuse_a_bad_pattern() {
    let text = format!(
        "{BASE}\n[[routing.rules]]\nsender_domain = \"partner.test\"\nsubject_regex = \"^invoice\"\nproject = \"BILL\"\n"
    );
    let s = Settings::from_toml_with_env(&text, env(&[])).expect("valid");
    assert!(s.routing.rules[0].subject_regex.as_ref().is_some_and(|p| p.is_match("INVOICE 7")));
    let bad = format!("{BASE}\n[[routing.rules]]\nrecipient_regex = \"(\"\nproject = \"X\"\n");
    let err = Settings::from_toml_with_env(&bad, env(&[])).expect_err("bad pattern").to_string();
    assert!(err.contains("regular expression"), "{err}");
}

#[test]
fn a_rules_fields_and_directives_load_and_jsm_rules_refuse_them() {
    let text = format!(
        r#"{BASE}
[[routing.rules]]
recipient = "sales@corp.test"
project = "SALES"
fields.priority = "High"
fields.due_date = 2027-01-31
fields.customfield_10042 = {{ from = "sender_domain" }}
fields.customfield_10050 = {{ from = "header", name = "X-Customer-Id" }}
directives = ["priority", "due", "assignee"]
"#
    );
    let s = Settings::from_toml_with_env(&text, env(&[])).expect("valid");
    let t = &s.routing.rules[0].target;
    let keys: Vec<&str> = t.fields.iter().map(|(k, _)| k.config_name()).collect();
    assert_eq!(keys, ["customfield_10042", "customfield_10050", "due_date", "priority"]);
    assert!(t.fields.iter().any(|(_, v)| *v == FieldSource::Constant(serde_json::json!("2027-01-31"))));
    assert_eq!(t.directives, [DirectiveKind::Priority, DirectiveKind::Due, DirectiveKind::Assignee]);

    let jsm = format!(
        r#"{BASE}
[[routing.rules]]
recipient = "sd@corp.test"
project = "SD"
service_desk = "7"
request_type = "25"
directives = ["priority"]
"#
    );
    let err = Settings::from_toml_with_env(&jsm, env(&[])).expect_err("invalid");
    assert!(err.to_string().contains("routing.rules[0]") && err.to_string().contains("JSM"), "{err}");
    let typo = text.replace("fields.priority", "fields.priorty");
    let err = Settings::from_toml_with_env(&typo, env(&[])).expect_err("invalid");
    assert!(err.to_string().contains("fields.priorty: unknown field"), "{err}");
}
