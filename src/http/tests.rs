//! The admin API over a real socket (so `ConnectInfo` is what production
//! sees): key checks, the failure throttle, clamps, body limits, webhooks
//! without or with a secret, and HTTPS.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use secrecy::SecretString;
use tokio::sync::watch;

use super::{AdminState, MAX_FAILURES, MAX_LIMIT, serve};
use crate::clock::{Clock, ManualClock};
use crate::config::{AdminTls, Settings, TokenAuthKind};
use crate::identity::TokenService;
use crate::secrets::TokenCipher;
use crate::store::{PendingNote, Store};

const KEY: &str = "unit-test-admin-key-0123456789abcdef";
const WEBHOOK_SECRET: &str = "unit-test-webhook-secret";

/// Log lines written while a test runs (this thread only: the tests run on
/// a current-thread runtime, so the server's tasks log here too).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

struct Api {
    base: String,
    store: Store,
    clock: Arc<ManualClock>,
    _stop: watch::Sender<bool>,
}

async fn state(clock: Arc<ManualClock>) -> (AdminState, Store) {
    let store = Store::connect("sqlite::memory:").await.expect("store");
    let jira = Settings::dry_run_defaults().expect("defaults").jira;
    let clock_dyn: Arc<dyn Clock> = clock;
    let tokens = TokenService::new(
        store.clone(),
        Some(Arc::new(TokenCipher::for_testing())),
        clock_dyn.clone(),
        jira,
        TokenAuthKind::Basic,
        &[30],
    );
    let s = AdminState::new(Arc::new(tokens), store.clone(), clock_dyn, &SecretString::from(KEY.to_string()))
        .expect("long key");
    (s, store)
}

async fn spawn_with(tls: Option<&AdminTls>, webhook_secret: Option<&str>) -> Api {
    let clock = Arc::new(ManualClock::at("2026-12-01T12:00:00Z".parse().expect("time")));
    let (s, store) = state(clock.clone()).await;
    let s = s.with_webhooks(None, webhook_secret.map(|w| SecretString::from(w.to_string())));
    let (stop, rx) = watch::channel(false);
    let (addr, _handle) = serve("127.0.0.1:0", tls, s, rx).await.expect("serves");
    let scheme = if tls.is_some() { "https" } else { "http" };
    Api { base: format!("{scheme}://{addr}"), store, clock, _stop: stop }
}

async fn spawn() -> Api {
    spawn_with(None, None).await
}

fn http() -> reqwest::Client {
    crate::telemetry::install_crypto_provider();
    reqwest::Client::new()
}

#[tokio::test]
async fn a_call_without_the_header_is_401_and_logged_with_the_address() {
    let api = spawn().await;
    let (logs, _guard) = Logs::capture();
    let r = http().get(format!("{}/api/token", api.base)).send().await.expect("call");
    assert_eq!(r.status(), 401);
    let empty = http().get(format!("{}/api/token", api.base)).header("authorization", "Bearer ").send().await;
    assert_eq!(empty.expect("call").status(), 401, "an empty key is no key");
    let text = logs.text();
    assert!(text.contains("client=127.0.0.1") && text.contains("no bearer key"), "{text}");
}

#[tokio::test]
async fn a_wrong_key_is_401_logged_with_the_address_but_not_the_key() {
    let api = spawn().await;
    let (logs, _guard) = Logs::capture();
    let guess = "guess-0123456789abcdef0123456789abcdef";
    let r = http().get(format!("{}/api/token", api.base)).bearer_auth(guess).send().await.expect("call");
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"], "missing or wrong admin key");
    let text = logs.text();
    assert!(text.contains("client=127.0.0.1") && text.contains("wrong key"), "{text}");
    assert!(!text.contains(guess) && !text.contains(KEY), "{text}");
    let ok = http().get(format!("{}/api/token", api.base)).bearer_auth(KEY).send().await.expect("call");
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_throttled_with_retry_after() {
    let api = spawn().await;
    let url = format!("{}/api/stats", api.base);
    for n in 1..MAX_FAILURES {
        let r = http().get(&url).bearer_auth(format!("wrong-{n}")).send().await.expect("call");
        assert_eq!(r.status(), 401, "failure {n}");
        let good = http().get(&url).bearer_auth(KEY).send().await.expect("call");
        assert_eq!(good.status(), 200, "successes pass and do not reset the count");
    }
    let last = http().get(&url).bearer_auth("wrong-last").send().await.expect("call");
    assert_eq!(last.status(), 401, "the limit-reaching failure itself is still a 401");
    let blocked = http().get(&url).bearer_auth(KEY).send().await.expect("call");
    assert_eq!(blocked.status(), 429, "blocked whatever key it presents");
    let retry: u64 = blocked
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(http().get(format!("{}/healthz", api.base)).send().await.expect("call").status(), 200);

    api.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(http().get(&url).bearer_auth(KEY).send().await.expect("call").status(), 200, "the window is over");
}

fn note(n: i64) -> PendingNote {
    PendingNote {
        at: n,
        inbound_id: 1,
        mailbox: "support".into(),
        message_id: Some("m@x.test".into()),
        step: "test".into(),
        detail: format!("note {n}"),
    }
}

#[tokio::test]
async fn audit_and_log_limits_are_clamped_and_nonsense_is_refused() {
    let api = spawn().await;
    let notes: Vec<PendingNote> = (0..(MAX_LIMIT + 5)).map(note).collect();
    api.store.audit_many(&notes).await.expect("notes");
    let get = |q: &str| http().get(format!("{}/api/audit?{q}", api.base)).bearer_auth(KEY).send();

    let all: Vec<serde_json::Value> = get("limit=100000000").await.expect("call").json().await.expect("json");
    assert_eq!(all.len(), MAX_LIMIT as usize, "cut to the largest page");
    let some: Vec<serde_json::Value> = get("limit=3").await.expect("call").json().await.expect("json");
    assert_eq!(some.len(), 3);
    for bad in ["limit=-1", "limit=0", "limit=lots", "limt=5"] {
        let r = get(bad).await.expect("call");
        assert_eq!(r.status(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.expect("a JSON error");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    let log = http().get(format!("{}/api/log?limit=-5", api.base)).bearer_auth(KEY).send().await.expect("call");
    assert_eq!(log.status(), 400);
}

#[tokio::test]
async fn token_bodies_refuse_unknown_fields_far_expiries_and_excess_size() {
    let api = spawn().await;
    let put =
        |body: serde_json::Value| http().put(format!("{}/api/token", api.base)).bearer_auth(KEY).json(&body).send();

    let unknown =
        put(serde_json::json!({"user": "a@x.test", "token": "t", "expire": "2027-01-01"})).await.expect("call");
    assert_eq!(unknown.status(), 400);
    let body: serde_json::Value = unknown.json().await.expect("a JSON error");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("unknown field")), "{body}");

    let far = put(serde_json::json!({"user": "a@x.test", "token": "t", "expires": "9999-12-31"})).await.expect("call");
    assert_eq!(far.status(), 400);
    let body: serde_json::Value = far.json().await.expect("json");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("days ahead")), "{body}");
    let past = put(serde_json::json!({"user": "a@x.test", "token": "t", "expires": "2026-12-01"})).await.expect("call");
    assert_eq!(past.status(), 400, "today is not in the future");

    let ok = put(serde_json::json!({"user": "a@x.test", "token": "t", "expires": "2027-11-30"})).await.expect("call");
    assert_eq!(ok.status(), 200, "{:?}", ok.text().await);

    let huge = serde_json::json!({"user": "a@x.test", "token": "t".repeat(super::API_BODY_LIMIT + 1)});
    assert_eq!(put(huge).await.expect("call").status(), 413);
}

#[tokio::test]
async fn a_webhook_without_a_configured_secret_is_503_and_says_why() {
    let api = spawn().await;
    let (logs, _guard) = Logs::capture();
    let r = http().post(format!("{}/webhooks/jira", api.base)).body("{}").send().await.expect("call");
    assert_eq!(r.status(), 503);
    let text = logs.text();
    assert!(text.contains("webhook_secret is not set") && text.contains("client=127.0.0.1"), "{text}");
}

#[tokio::test]
async fn an_unsigned_or_forged_webhook_is_401_and_logged_with_the_address() {
    let api = spawn_with(None, Some(WEBHOOK_SECRET)).await;
    let (logs, _guard) = Logs::capture();
    let url = format!("{}/webhooks/jira", api.base);
    let body = br#"{"webhookEvent":"comment_created"}"#.to_vec();
    let unsigned = http().post(&url).body(body.clone()).send().await.expect("call");
    assert_eq!(unsigned.status(), 401);
    let forged = crate::notify::webhook::sign(b"not-the-secret", &body);
    let r = http().post(&url).header("x-hub-signature", &forged).body(body.clone()).send().await.expect("call");
    assert_eq!(r.status(), 401);
    let text = logs.text();
    assert!(text.contains("client=127.0.0.1") && text.contains("bad signature"), "{text}");
    assert!(!text.contains(&forged) && !text.contains(WEBHOOK_SECRET), "{text}");

    // Signed but notifications are off: only now is that said.
    let signed = crate::notify::webhook::sign(WEBHOOK_SECRET.as_bytes(), &body);
    let r = http().post(&url).header("x-hub-signature", signed).body(body).send().await.expect("call");
    assert_eq!(r.status(), 503);

    let huge = vec![b' '; super::WEBHOOK_BODY_LIMIT + 1];
    assert_eq!(http().post(&url).body(huge).send().await.expect("call").status(), 413);
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn the_tls_listener_serves_https_to_a_client_trusting_the_certificate() {
    crate::telemetry::install_crypto_provider();
    let tls = AdminTls { cert_file: fixture("cert.pem"), key_file: fixture("key.pem") };
    let api = spawn_with(Some(&tls), None).await;
    let pem = std::fs::read(fixture("cert.pem")).expect("cert");
    let cert = reqwest::Certificate::from_pem(&pem).expect("PEM");
    let client = reqwest::Client::builder().tls_certs_only([cert]).build().expect("client");
    let health = client.get(format!("{}/healthz", api.base)).send().await.expect("https call");
    assert_eq!(health.status(), 200);
    let token = client.get(format!("{}/api/token", api.base)).bearer_auth(KEY).send().await.expect("https call");
    assert_eq!(token.status(), 200, "ConnectInfo reaches the key check over TLS too");

    let plain = api.base.replace("https://", "http://");
    let r =
        reqwest::Client::new().get(format!("{plain}/healthz")).timeout(std::time::Duration::from_secs(5)).send().await;
    assert!(r.is_err() || r.is_ok_and(|r| !r.status().is_success()), "no plain HTTP on the TLS port");
}
