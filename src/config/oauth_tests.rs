use secrecy::ExposeSecret;

use super::*;

const HEAD: &str = r#"
[jira]
flavor = "cloud"
base_url = "https://x.atlassian.net"
auth = { kind = "basic", user = "bot@x.test", secret = "tok" }

[routing]
default = { project = "HELP" }
"#;

fn mailbox(auth: &str) -> String {
    format!(
        "{HEAD}\n[[mailboxes]]\nname = \"support\"\nhost = \"outlook.office365.com\"\nport = 993\ntls = \"implicit\"\nuser = \"support@contoso.com\"\nauth = {auth}\n"
    )
}

fn load(text: &str) -> Result<Settings, ConfigError> {
    Settings::from_toml_with_env(text, Vec::<(String, String)>::new())
}

fn err(text: &str) -> String {
    load(text).expect_err("invalid").to_string()
}

#[test]
fn microsoft_defaults_to_app_only_with_the_office365_scope() {
    let s = load(&mailbox(
        r#"{ kind = "oauth2", provider = "microsoft", tenant = "contoso.onmicrosoft.com", client_id = "app", client_secret = "sec-ret" }"#,
    ))
    .expect("valid");
    let c = s.mailboxes[0].oauth_client().expect("oauth");
    assert_eq!((c.provider, c.flow), (ProviderKind::Microsoft, Flow::ClientCredentials));
    assert_eq!(c.token_url, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    assert_eq!(c.scope().as_deref(), Some("https://outlook.office365.com/.default"));
    assert!(matches!(&c.client_secret, SecretSource::Inline(s) if s.expose_secret() == "sec-ret"));
    assert_eq!(c.subject, None, "app-only logs in as the mailbox user");
    assert!(!format!("{s:?}").contains("sec-ret"), "Debug hides the secret");
}

#[test]
fn microsoft_delegated_google_and_generic_defaults() {
    let s = load(&mailbox(r#"{ kind = "oauth2", provider = "microsoft", flow = "refresh-token", client_id = "app" }"#))
        .expect("valid");
    let c = s.mailboxes[0].oauth_client().expect("oauth");
    assert_eq!(c.device_url.as_deref(), Some("https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"));
    assert_eq!(
        c.scope().as_deref(),
        Some("https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access")
    );
    assert!(matches!(c.client_secret, SecretSource::Stored));

    let s = load(&mailbox(r#"{ kind = "oauth2", provider = "google", key_file = "/etc/mailgate/sa.json" }"#))
        .expect("valid");
    let c = s.mailboxes[0].oauth_client().expect("oauth");
    assert_eq!((c.flow, c.subject.as_deref()), (Flow::ServiceAccount, Some("support@contoso.com")));
    assert_eq!(
        (c.token_url.as_str(), c.scope().as_deref()),
        ("https://oauth2.googleapis.com/token", Some("https://mail.google.com/"))
    );

    let s = load(&mailbox(
        r#"{ kind = "oauth2", provider = "google", flow = "refresh-token", client_id = "c", client_secret_file = "/s" }"#,
    ))
    .expect("valid");
    let c = s.mailboxes[0].oauth_client().expect("oauth");
    assert!(c.authorize_params.contains(&("access_type".into(), "offline".into())));
    assert!(matches!(&c.client_secret, SecretSource::File(p) if p == "/s"));

    let s = load(&mailbox(
        r#"{ kind = "oauth2", provider = "generic", client_id = "c", token_url = "http://127.0.0.1:9/token", scopes = ["a", "b"] }"#,
    ))
    .expect("valid");
    let c = s.mailboxes[0].oauth_client().expect("oauth");
    assert_eq!((c.flow, c.scope().as_deref(), c.body), (Flow::RefreshToken, Some("a b"), BodyStyle::Form));
}

#[test]
fn bad_oauth_settings_are_refused_with_the_key() {
    let cases = [
        (r#"{ kind = "oauth2", provider = "generic", client_id = "c" }"#, "mailboxes[0].auth.token_url"),
        (r#"{ kind = "oauth2", provider = "microsoft", client_id = "c" }"#, "mailboxes[0].auth.tenant"),
        (r#"{ kind = "oauth2", provider = "microsoft", tenant = "a/b", client_id = "c" }"#, "auth.tenant"),
        (r#"{ kind = "oauth2", provider = "microsoft", tenant = "t" }"#, "auth.client_id"),
        (r#"{ kind = "oauth2", provider = "google", flow = "client-credentials", client_id = "c" }"#, "auth.flow"),
        (r#"{ kind = "oauth2", provider = "microsoft", flow = "service-account", tenant = "t" }"#, "auth.flow"),
        (r#"{ kind = "oauth2", provider = "google", client_secret = "x" }"#, "auth.client_secret"),
        (
            r#"{ kind = "oauth2", provider = "microsoft", tenant = "t", client_id = "c", subject = "s" }"#,
            "auth.subject",
        ),
        (
            r#"{ kind = "oauth2", provider = "microsoft", tenant = "t", client_id = "c", key_file = "k" }"#,
            "auth.key_file",
        ),
        (
            r#"{ kind = "oauth2", provider = "microsoft", tenant = "t", client_id = "c", client_secret = "a", client_secret_file = "b" }"#,
            "auth.client_secret",
        ),
        (r#"{ kind = "oauth2", provider = "google", scopes = [] }"#, "auth.scopes"),
        (r#"{ kind = "oauth2", provider = "google", scopes = ["a b"] }"#, "auth.scopes"),
        (
            r#"{ kind = "oauth2", provider = "generic", client_id = "c", token_url = "http://idp.example/token" }"#,
            "auth.token_url",
        ),
        (r#"{ kind = "oauth2", provider = "google", redirect_url = "http://example.com:80/cb" }"#, "auth.redirect_url"),
    ];
    for (auth, key) in cases {
        let e = err(&mailbox(auth));
        assert!(e.contains(key), "{auth}: {e}");
    }
    assert!(err(&mailbox(r#"{ kind = "oauth2", provider = "yahoo" }"#)).contains("yahoo"));
    assert!(err(&mailbox(r#"{ kind = "oauth2", provider = "google", colour = "red" }"#)).contains("colour"));
}

#[test]
fn a_mailbox_needs_a_password_or_oauth_but_not_both() {
    let both = mailbox(r#"{ kind = "oauth2", provider = "google" }"#);
    let e =
        err(&both.replace("user = \"support@contoso.com\"\n", "user = \"support@contoso.com\"\npassword = \"p\"\n"));
    assert!(e.contains("mailboxes[0].password"), "{e}");
    let text =
        format!("{HEAD}\n[[mailboxes]]\nname = \"a\"\nhost = \"h\"\nport = 993\ntls = \"implicit\"\nuser = \"u\"\n");
    assert!(err(&text).contains("mailboxes[0].password"));
}

#[test]
fn smtp_with_oauth_needs_its_user() {
    let smtp = |extra: &str| {
        format!(
            "{HEAD}\n[smtp]\nhost = \"smtp.gmail.com\"\nport = 465\ntls = \"implicit\"\nfrom = \"help@x.test\"\n{extra}auth = {{ kind = \"oauth2\", provider = \"google\" }}\n"
        )
    };
    assert!(err(&smtp("")).contains("smtp.user"));
    assert!(err(&smtp("user = \"u@x.test\"\npassword = \"p\"\n")).contains("smtp.password"));
    let s = load(&smtp("user = \"help@x.test\"\n")).expect("valid");
    let c = s.smtp.as_ref().and_then(|s| s.oauth_client()).expect("oauth");
    assert_eq!(c.subject.as_deref(), Some("help@x.test"));
}

#[test]
fn jira_3lo_has_atlassian_defaults_and_is_for_cloud_only() {
    let jira = |flavor: &str, auth: &str| {
        HEAD.replace("flavor = \"cloud\"", &format!("flavor = \"{flavor}\""))
            .replace(r#"auth = { kind = "basic", user = "bot@x.test", secret = "tok" }"#, auth)
    };
    let text = jira("cloud", r#"auth = { kind = "oauth2", client_id = "app", client_secret = "jira-sec" }"#);
    let s = load(&text).expect("valid");
    let JiraAuth::OAuth2(o) = &s.jira.auth else { panic!("{:?}", s.jira.auth) };
    let c = o.client();
    assert_eq!((c.provider, c.flow, c.body), (ProviderKind::Atlassian, Flow::RefreshToken, BodyStyle::Json));
    assert_eq!(c.token_url, "https://auth.atlassian.com/oauth/token");
    assert_eq!(c.authorize_url.as_deref(), Some("https://auth.atlassian.com/authorize"));
    assert_eq!(c.scope().as_deref(), Some("read:jira-work write:jira-work read:jira-user offline_access"));
    assert_eq!(o.api_base("abc-123"), "https://api.atlassian.com/ex/jira/abc-123");
    assert!(!format!("{s:?}").contains("jira-sec"));
    let e = err(&jira("datacenter", r#"auth = { kind = "oauth2", client_id = "app" }"#));
    assert!(e.contains("jira.auth") && e.contains("Cloud"), "{e}");
    let e = err(&jira("cloud", r#"auth = { kind = "oauth2", client_id = "app", cloud_id = "../x" }"#));
    assert!(e.contains("jira.auth.cloud_id"), "{e}");
}

#[test]
fn oauth_secrets_from_the_environment_stay_strings_and_out_of_errors() {
    let text = mailbox(r#"{ kind = "oauth2", provider = "microsoft", tenant = "t", client_id = "c" }"#);
    let env = vec![("MAILGATE_MAILBOXES__0__AUTH__CLIENT_SECRET".to_string(), "123456".to_string())];
    let s = Settings::from_toml_with_env(&text, env).expect("valid");
    assert!(matches!(&s.mailboxes[0].oauth().expect("oauth").client_secret, Some(v) if v.expose_secret() == "123456"));
    let bad = text.replace("client_id = \"c\"", "client_id = \"c\", client_secret = 98765432");
    assert!(!err(&bad).contains("98765432"));
}
