//! OAuth 2.0 end to end (issue 15): a mailbox logs in to Dovecot with
//! XOAUTH2 (Dovecot itself checks each token with the test authorization
//! server's introspection), its refresh token is set by `mailgate oauth
//! login --device`, rotates on every refresh and survives a restart; a
//! revoked grant warns the admins once while another mailbox keeps
//! working; SMTP sends with XOAUTH2; nothing secret reaches the database file.

use std::time::Duration;

use mailgate_testkit::dovecot::USER;
use mailgate_testkit::oauth::OAuthServer;
use mailgate_testkit::{TestApp, TestDb, mail, wait_until};

const CLIENT: &str = "mailgate-test-client";
const CLIENT_SECRET: &str = "client-secret-LeakCanary-9c1e";

async fn app_with(server: &OAuthServer, db: TestDb) -> TestApp {
    app_with_mechanism(server, db, "xoauth2").await
}

async fn app_with_mechanism(server: &OAuthServer, db: TestDb, mechanism: &str) -> TestApp {
    server.add_client(CLIENT, CLIENT_SECRET);
    server.add_user(USER);
    let auth = format!(
        r#"{{ kind = "oauth2", provider = "generic", flow = "refresh-token", client_id = "{CLIENT}", client_secret = "{CLIENT_SECRET}", token_url = "{}", device_url = "{}", authorize_url = "{}", scopes = ["imap"], mechanism = "{mechanism}" }}"#,
        server.token_url(),
        server.device_url(),
        server.authorize_url()
    );
    let smtp_auth = format!(
        r#"{{ kind = "oauth2", provider = "generic", flow = "client-credentials", client_id = "{CLIENT}", client_secret = "{CLIENT_SECRET}", token_url = "{}", scopes = ["https://outlook.office365.com/.default"] }}"#,
        server.token_url()
    );
    TestApp::builder()
        .db(db)
        .with_imap_oauth(server)
        .with_smtp_oauth(server)
        .master_key(&"3d".repeat(32))
        .unset("mailboxes.0.password")
        .set_toml("mailboxes.0.auth", &auth)
        .set("mailboxes.0.poll_interval_secs", 1)
        .set("smtp.user", "help@corp.test")
        .set_toml("smtp.auth", &smtp_auth)
        .set_toml("admin.notify", r#"["admins@corp.test"]"#)
        .spawn()
        .await
}

/// `mailgate oauth login --mailbox support --device`, approved on the server.
async fn device_login(app: &TestApp, server: &OAuthServer) {
    let mut child = tokio::process::Command::from(app.command(crate::MAILGATE))
        .args(["oauth", "login", "--mailbox", "support", "--device", "--timeout-secs", "60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("oauth login starts");
    let asked = wait_until(Duration::from_secs(20), || async { !server.pending_user_codes().is_empty() }).await;
    if !asked {
        let _ = child.start_kill();
        let out = child.wait_with_output().await.expect("output");
        panic!(
            "the login asked for no device code:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for code in server.pending_user_codes() {
        server.approve_device(&code, USER);
    }
    let status =
        tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("login ends").expect("status");
    assert!(status.success(), "oauth login succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_logs_in_with_xoauth2_refreshes_keeps_the_rotated_token_and_smtp_sends_with_xoauth2() {
    let server = OAuthServer::start().await;
    server.set_access_lifetime(3);
    let app = app_with(&server, TestDb::sqlite()).await;
    device_login(&app, &server).await;

    let service = app.start_service().await;
    app.imap_append(&mail("o1@c.test", "ann@c.test", "help@corp.test", "Over OAuth", "", "first")).await;
    let created = wait_until(Duration::from_secs(30), || async { app.jira.issues().len() == 1 }).await;
    assert!(created, "the mailbox logged in with XOAUTH2 and processed the mail");
    // The acknowledgement goes out through SMTP with XOAUTH2.
    let sent = wait_until(Duration::from_secs(30), || async { !app.sink().received().is_empty() }).await;
    assert!(sent, "a mail was sent");
    assert_eq!(app.sink().received()[0].auth_user.as_deref(), Some("help@corp.test"));
    service.shutdown().await;

    // The access token expires; after a restart the stored (rotated) refresh
    // token gets a new one: a reused old one would be invalid_grant.
    tokio::time::sleep(Duration::from_secs(4)).await;
    app.restart().await;
    let service = app.start_service().await;
    app.imap_append(&mail("o2@c.test", "ann@c.test", "help@corp.test", "After the restart", "", "second")).await;
    let again = wait_until(Duration::from_secs(30), || async { app.jira.issues().len() == 2 }).await;
    assert!(again, "no mail lost across the expiry and the restart: {:?}", server.grant_requests());
    let refreshes = server.grant_requests().iter().filter(|g| g.as_str() == "refresh_token").count();
    assert!(refreshes >= 2, "refreshed before and after the restart: {:?}", server.grant_requests());
    service.shutdown().await;

    // Nothing secret in the database file.
    let db = std::fs::read(app.sqlite_path().expect("sqlite")).expect("db file");
    let text = String::from_utf8_lossy(&db);
    assert!(!text.contains(CLIENT_SECRET), "the client secret is not in the database");
    assert!(!text.contains("Bearer"), "no token in the database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_warns_the_admins_once_and_another_mailbox_keeps_working() {
    let server = OAuthServer::start().await;
    let app = app_with(&server, TestDb::sqlite()).await;
    device_login(&app, &server).await;
    server.revoke_user(USER);
    // A second mailbox on the same server logs in with its password.
    let other = format!(
        r#"[[mailboxes]]
name = "other"
host = "127.0.0.1"
port = {}
tls = "none"
user = "{USER}"
password = "{}"
poll_interval_secs = 1
"#,
        app.imap_port(),
        mailgate_testkit::dovecot::PASSWORD
    );
    std::fs::write(
        app.config_path(),
        format!("{}\n{other}", std::fs::read_to_string(app.config_path()).expect("config")),
    )
    .expect("config");
    let settings = mailgate::config::Settings::load(&app.config_path()).expect("config loads");
    let service =
        mailgate::startup::Application::build(&settings).await.expect("builds").start().await.expect("starts");

    app.imap_append(&mail("r1@c.test", "ann@c.test", "help@corp.test", "While revoked", "", "still here")).await;
    let processed = wait_until(Duration::from_secs(30), || async { app.jira.issues().len() == 1 }).await;
    assert!(processed, "the other mailbox processed the mail");
    let warned = wait_until(Duration::from_secs(90), || async {
        let rows = app.store().await.outgoing_of_kind("admin-warning").await.expect("rows");
        rows.iter().any(|r| r.subject.contains("mailbox:support"))
    })
    .await;
    assert!(warned, "the admins are warned");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rows = app.store().await.outgoing_of_kind("admin-warning").await.expect("rows");
    assert_eq!(rows.iter().filter(|r| r.subject.contains("mailbox:support")).count(), 1, "once: {rows:?}");
    service.shutdown().await;
}

const JIRA_CLIENT: &str = "jira-3lo-client";
const JIRA_SECRET: &str = "jira-3lo-secret-LeakCanary-77ab";

#[tokio::test]
async fn jira_through_3lo_creates_issues_refreshes_and_keeps_the_rotated_refresh_token() {
    use mailgate::oauth::endpoint::TokenAnswer;
    use secrecy::SecretString;
    let key = "4e".repeat(32);
    // No cloud_id in the configuration: the login stored it with the grant.
    let app = TestApp::builder()
        .master_key(&key)
        .unset("jira.auth")
        .toml(&format!(
            r#"[jira]
auth = {{ kind = "oauth2", client_id = "{JIRA_CLIENT}", client_secret = "{JIRA_SECRET}", auth_url = "{{jira}}", api_url = "{{jira}}" }}"#
        ))
        .spawn()
        .await;
    let cloud_id = app.jira.enable_3lo(JIRA_CLIENT, JIRA_SECRET);
    // As `mailgate oauth login --jira` leaves it: the refresh token stored encrypted.
    let refresh = app.jira.issue_3lo_refresh_token("read:jira-work write:jira-work read:jira-user offline_access");
    let cipher = mailgate::secrets::TokenCipher::from_key_material(&SecretString::from(key.clone())).expect("key");
    let answer = TokenAnswer {
        access_token: SecretString::from(String::new()),
        token_type: Some("Bearer".into()),
        expires_in: None,
        refresh_token: Some(SecretString::from(refresh.clone())),
        refresh_expires_in: None,
        scope: None,
    };
    let now = mailgate::clock::Clock::now_ms(&mailgate::clock::SystemClock);
    let provider = mailgate::oauth::ProviderKind::Atlassian;
    // Its own connection: the application is built (and reads the grant's cloud id) at the first pass.
    let store = mailgate::store::Store::connect(app.db_url()).await.expect("store");
    mailgate::oauth::login::store_login(&store, &cipher, "jira", provider, &answer, Some(&cloud_id), now)
        .await
        .expect("login stored");
    store.close().await;

    app.receive(mail("j1@c.test", "ann@c.test", "help@corp.test", "Through 3LO", "", "first"));
    app.drain().await;
    assert_eq!(app.jira.issues().len(), 1, "created through /ex/jira/{{cloudId}} with a bearer token");
    assert!(app.jira.count_3lo_refreshes() >= 1);

    // The access token expires: the 401 refreshes once and the call goes through.
    app.jira.expire_3lo_access_tokens();
    app.receive(mail("j2@c.test", "ann@c.test", "help@corp.test", "After expiry", "", "second"));
    app.drain().await;
    assert_eq!(app.jira.issues().len(), 2);
    // A restart reads the rotated refresh token (the first one is retired).
    app.restart().await;
    app.jira.expire_3lo_access_tokens();
    app.receive(mail("j3@c.test", "ann@c.test", "help@corp.test", "After restart", "", "third"));
    app.drain().await;
    assert_eq!(app.jira.issues().len(), 3, "the rotated refresh token was kept");
    let db = std::fs::read(app.sqlite_path().expect("sqlite")).expect("db file");
    let text = String::from_utf8_lossy(&db);
    assert!(!text.contains(&refresh) && !text.contains(JIRA_SECRET), "no token or secret in the database");
}

/// Test-server tokens (`at_…`, `rt_…`, `dc_…`, `ac_…`) in `text`.
fn tokens_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for prefix in ["at_", "rt_", "dc_", "ac_"] {
        for (i, _) in text.match_indices(prefix) {
            let rest: String =
                text[i + 3..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
            if rest.len() >= 16 {
                found.push(format!("{prefix}{rest}"));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_oauth_token_or_secret_in_any_output_at_trace_level() {
    let server = OAuthServer::start().await;
    let app = app_with(&server, TestDb::sqlite()).await;
    let mut all = String::new();
    let login = tokio::process::Command::from(app.command(crate::MAILGATE))
        .env("MAILGATE_LOG", "trace")
        .args(["oauth", "login", "--mailbox", "support", "--device", "--timeout-secs", "60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("oauth login starts");
    assert!(wait_until(Duration::from_secs(20), || async { !server.pending_user_codes().is_empty() }).await);
    for code in server.pending_user_codes() {
        server.approve_device(&code, USER);
    }
    let out =
        tokio::time::timeout(Duration::from_secs(60), login.wait_with_output()).await.expect("ends").expect("out");
    all.push_str(&String::from_utf8_lossy(&out.stdout));
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{all}");
    for args in [&["oauth", "status"][..], &["oauth", "status", "--format", "json"]] {
        let out = app.command(crate::MAILGATE).env("MAILGATE_LOG", "trace").args(args).output().expect("runs");
        all.push_str(&String::from_utf8_lossy(&out.stdout));
        all.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    app.imap_append(&mail("t1@c.test", "ann@c.test", "help@corp.test", "Trace me", "", "x")).await;
    let run = app
        .command(crate::MAILGATE)
        .env("MAILGATE_LOG", "trace")
        .arg("run")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let done = wait_until(Duration::from_secs(30), || async { !app.jira.issues().is_empty() }).await;
    // Time for the acknowledgement's SMTP login too.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = std::process::Command::new("kill").arg("-TERM").arg(run.id().to_string()).status();
    let out = run.wait_with_output().expect("run output");
    all.push_str(&String::from_utf8_lossy(&out.stdout));
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    assert!(done, "the run logged in to IMAP with a token: {all}");
    assert!(all.contains("TRACE") || all.contains("DEBUG"), "the log really was verbose");
    assert!(!all.contains(CLIENT_SECRET), "the client secret is in the output");
    assert!(tokens_in(&all).is_empty(), "tokens in the output: {:?}", tokens_in(&all));
    // base64 of a SASL XOAUTH2 response starts with "user=".
    assert!(!all.contains("dXNlcj1"), "an XOAUTH2 response is in the output");
    let db = std::fs::read(app.sqlite_path().expect("sqlite")).expect("db");
    assert!(tokens_in(&String::from_utf8_lossy(&db)).is_empty(), "a token in the database file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_can_log_in_with_oauthbearer() {
    let server = OAuthServer::start().await;
    let app = app_with_mechanism(&server, TestDb::sqlite(), "oauthbearer").await;
    device_login(&app, &server).await;
    let service = app.start_service().await;
    app.imap_append(&mail("b1@c.test", "ann@c.test", "help@corp.test", "Over OAUTHBEARER", "", "x")).await;
    let created = wait_until(Duration::from_secs(30), || async { app.jira.issues().len() == 1 }).await;
    assert!(created, "the mailbox logged in with OAUTHBEARER (RFC 7628) and processed the mail");
    service.shutdown().await;
}
