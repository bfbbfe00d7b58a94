//! The admin HTTP API (token set/status/verify/clear behind a bearer key,
//! health) and `mailgate doctor`.

use std::sync::Arc;

use mailgate_testkit::admin::AdminApi;
use mailgate_testkit::fake_jira::FakeAuth;
use mailgate_testkit::{JIRA_TOKEN, JIRA_USER, TestApp};

const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT-admin-api-5e6f7a8b";
use mailgate_testkit::ADMIN_API_KEY as API_KEY;

/// Projects HELP and VIP, the workaround token accepted, a master key;
/// VIP mail creates users, other mail gets the default reporter.
async fn admin_app() -> TestApp {
    TestApp::builder()
        .jira_projects(&["HELP", "VIP"])
        .jira_accepts(ADMIN_USER, ADMIN_TOKEN)
        .master_key(&"cd".repeat(32))
        .unset("jira.max_retries")
        .unset("inbound")
        .unset("routing")
        .toml(
            r#"
[[routing.rules]]
domain = "vip.test"
project = "VIP"
sender_policy = "create-user"
[routing]
default = { project = "HELP", sender_policy = "default-reporter" }
"#,
        )
        .spawn()
        .await
}

#[tokio::test]
async fn the_admin_api_sets_and_reports_the_token_but_never_returns_it() {
    let app = admin_app().await;
    let store = mailgate::store::Store::connect(app.db_url()).await.expect("store");
    let clock: Arc<dyn mailgate::clock::Clock> = Arc::new(mailgate::clock::SystemClock);
    let tokens = app.token_service(store.clone(), clock.clone());
    let admin_api = AdminApi::serve(Arc::new(tokens), store, clock).await;
    let base = admin_api.base.clone();
    let http = reqwest::Client::new();

    let health: serde_json::Value =
        http.get(format!("{base}/healthz")).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["token"]["state"], "missing");

    let unauth = http.get(format!("{base}/api/token")).send().await.expect("call");
    assert_eq!(unauth.status(), 401);
    let wrong = http.get(format!("{base}/api/token")).bearer_auth("nope").send().await.expect("call");
    assert_eq!(wrong.status(), 401);
    let bad = http
        .put(format!("{base}/api/token"))
        .bearer_auth(API_KEY)
        .json(&serde_json::json!({"user": "not an email", "token": ADMIN_TOKEN}))
        .send()
        .await
        .expect("call");
    assert_eq!(bad.status(), 400);

    let set = http
        .put(format!("{base}/api/token"))
        .bearer_auth(API_KEY)
        .json(&serde_json::json!({"user": ADMIN_USER, "token": ADMIN_TOKEN, "expires": "2027-09-30"}))
        .send()
        .await
        .expect("call");
    assert_eq!(set.status(), 200);
    let body = set.text().await.expect("body");
    assert!(!body.contains(ADMIN_TOKEN), "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["user"], ADMIN_USER);
    assert_eq!(v["expires_on"], "2027-09-30");

    let verify = http.post(format!("{base}/api/token/verify")).bearer_auth(API_KEY).send().await.expect("call");
    assert_eq!(verify.status(), 200);
    let status = http
        .get(format!("{base}/api/token"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("call")
        .text()
        .await
        .expect("body");
    assert!(!status.contains(ADMIN_TOKEN));
    let status: serde_json::Value = serde_json::from_str(&status).expect("json");
    assert!(status["last_verified"].is_string(), "{status}");

    // Revoked in Jira: verify reports it, the token is marked failed, health degrades.
    app.jira.set_auth(vec![FakeAuth::Basic { user: JIRA_USER.into(), secret: JIRA_TOKEN.into() }]);
    let verify = http.post(format!("{base}/api/token/verify")).bearer_auth(API_KEY).send().await.expect("call");
    assert_eq!(verify.status(), 502);
    let health: serde_json::Value =
        http.get(format!("{base}/healthz")).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["token"]["state"], "failed");

    let cleared = http.delete(format!("{base}/api/token")).bearer_auth(API_KEY).send().await.expect("call");
    assert_eq!(cleared.status(), 200);
    let health: serde_json::Value =
        http.get(format!("{base}/healthz")).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["token"]["state"], "missing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_prints_what_is_missing() {
    let app = admin_app().await;
    app.jira.deny_permissions(&["ADMINISTER", "MODIFY_REPORTER"]);
    crate::cli_token_set(&app, ADMIN_USER, ADMIN_TOKEN);

    let out = app.command(crate::MAILGATE).arg("doctor").output().expect("doctor");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "missing permissions fail the doctor: {text}");
    let line =
        |scope: &str, perm: &str| text.lines().find(|l| l.starts_with(scope) && l.contains(perm)).map(String::from);
    assert!(line("global", "ADMINISTER").is_some_and(|l| l.contains("MISSING")), "{text}");
    assert!(line("global", "USER_PICKER").is_some_and(|l| l.contains(" ok ")), "{text}");
    for project in ["HELP", "VIP"] {
        assert!(line(project, "CREATE_ISSUES").is_some_and(|l| l.contains(" ok ")), "{text}");
        assert!(line(project, "MODIFY_REPORTER").is_some_and(|l| l.contains("MISSING")), "{text}");
    }
    assert!(text.contains("some permissions are missing"), "{text}");
    assert!(!text.contains(ADMIN_TOKEN));

    app.jira.deny_permissions(&[]);
    let out = app.command(crate::MAILGATE).arg("doctor").output().expect("doctor");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_center_username_is_stored_as_given_not_as_an_email() {
    let app = admin_app().await;
    crate::cli_token_set(&app, "jdoe", ADMIN_TOKEN);

    let out = app.command(crate::MAILGATE).args(["token", "status", "--format", "json"]).output().expect("status");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status json");
    assert_eq!(status["user"], "jdoe", "{status}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("users.invalid"));
}

/// The old service started with `MAILGATE_ADMIN__API_KEY=` and served every
/// `/api/*` call without a header; now such a key, a short one, or plain
/// HTTP on every interface stop it at start, naming the key and not the value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_weak_admin_keys_and_plain_http_off_loopback() {
    let app = admin_app().await;
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = app.command(crate::MAILGATE);
        cmd.env("MAILGATE_ADMIN__LISTEN", "127.0.0.1:0");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.arg("migrate").output().expect("runs")
    };
    for key in ["", "   ", "short-admin-key-0123"] {
        let out = run(&[("MAILGATE_ADMIN__API_KEY", key)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "key {key:?} accepted");
        assert!(stderr.contains("admin.api_key"), "{stderr}");
        assert!(key.trim().is_empty() || !stderr.contains(key), "the key is not echoed: {stderr}");
    }
    let out = run(&[("MAILGATE_ADMIN__LISTEN", "0.0.0.0:0")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("admin.listen") && stderr.contains("tls_cert_file"), "{stderr}");
    let out = run(&[("MAILGATE_ADMIN__LISTEN", "0.0.0.0:0"), ("MAILGATE_ADMIN__ALLOW_PLAIN_HTTP", "true")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
