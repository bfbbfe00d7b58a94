use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::device::{Poller, parse_start};
use super::jira::{Site, accessible_resources, choose_site};
use super::*;
use crate::config::Flow;
use crate::oauth::endpoint::http_client;
use crate::oauth::test_server::TestServer;
use crate::oauth::{BodyStyle, SecretSource};

fn client(provider: ProviderKind, server: &str) -> OAuthClient {
    OAuthClient {
        provider,
        flow: Flow::RefreshToken,
        client_id: Some("app-id".into()),
        client_secret: SecretSource::Inline(SecretString::from("cs")),
        key_file: None,
        subject: None,
        scopes: vec!["read:jira-work".into(), "offline_access".into()],
        token_url: format!("{server}/token"),
        device_url: Some(format!("{server}/device")),
        authorize_url: Some("https://auth.atlassian.com/authorize".into()),
        authorize_params: vec![("audience".into(), "api.atlassian.com".into()), ("prompt".into(), "consent".into())],
        redirect_url: None,
        body: BodyStyle::Form,
        api_url: Some(server.to_string()),
        cloud_id: None,
        timeout_secs: 5,
    }
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url).expect("url").query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[test]
fn pkce_follows_rfc_7636() {
    // RFC 7636 appendix B.
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let (a, b) = (pkce().expect("pkce"), pkce().expect("pkce"));
    assert_eq!(a.verifier.expose_secret().len(), 43);
    assert_ne!(a.verifier.expose_secret(), b.verifier.expose_secret());
    assert_eq!(a.challenge, pkce_challenge(a.verifier.expose_secret()));
}

#[test]
fn the_authorize_url_carries_pkce_state_scopes_and_the_providers_parameters() {
    let c = client(ProviderKind::Atlassian, "http://127.0.0.1:9");
    let url = authorize_url(&c, "http://localhost:8765/callback", "st-1", "ch-1").expect("url");
    assert!(url.starts_with("https://auth.atlassian.com/authorize?"), "{url}");
    let q = query(&url);
    for (k, v) in [
        ("audience", "api.atlassian.com"),
        ("client_id", "app-id"),
        ("scope", "read:jira-work offline_access"),
        ("redirect_uri", "http://localhost:8765/callback"),
        ("state", "st-1"),
        ("response_type", "code"),
        ("prompt", "consent"),
        ("code_challenge", "ch-1"),
        ("code_challenge_method", "S256"),
    ] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k} in {url}");
    }
    assert!(!url.contains("cs"), "no secret in the URL");
    let mut none = c.clone();
    none.authorize_url = None;
    assert!(matches!(authorize_url(&none, "r", "s", "c"), Err(LoginError::Config(_))));
}

#[test]
fn the_redirect_is_read_for_its_code_error_and_state() {
    let code = callback_outcome("/callback?code=abc%2B1&state=s1", "/callback", "s1").expect("ours").expect("code");
    assert_eq!(code.expose_secret(), "abc+1");
    assert!(callback_outcome("/favicon.ico", "/callback", "s1").is_none());
    assert!(matches!(
        callback_outcome("/callback?code=abc&state=other", "/callback", "s1"),
        Some(Err(LoginError::State))
    ));
    assert!(matches!(callback_outcome("/callback?code=abc", "/callback", "s1"), Some(Err(LoginError::State))));
    let denied = callback_outcome("/callback?error=access_denied&error_description=no&state=s1", "/callback", "s1");
    assert!(matches!(denied, Some(Err(LoginError::Denied { error, .. })) if error == "access_denied"));
}

#[tokio::test]
async fn the_loopback_listener_waits_for_the_redirect_and_times_out() {
    crate::telemetry::install_crypto_provider();
    let lb = Loopback::bind(None).await.expect("bind");
    let uri = lb.redirect_uri().to_string();
    assert!(uri.starts_with("http://127.0.0.1:") && uri.ends_with("/callback"), "{uri}");
    let wait = tokio::spawn(lb.wait("st", Duration::from_secs(5)));
    let http = reqwest::Client::new();
    let base = uri.trim_end_matches("/callback");
    // A browser's idle speculative connection holds nothing up.
    let _idle = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.expect("idle");
    assert_eq!(http.get(format!("{base}/favicon.ico")).send().await.expect("get").status(), 404);
    let ok = http.get(format!("{uri}?code=the-code&state=st")).send().await.expect("get");
    assert_eq!(ok.status(), 200);
    assert_eq!(wait.await.expect("join").expect("code").expose_secret(), "the-code");

    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let lb = Loopback::bind(Some(&format!("http://localhost:{free}/cb"))).await.expect("bind fixed");
    assert_eq!(lb.redirect_uri(), format!("http://localhost:{free}/cb"));
    let wait = tokio::spawn(lb.wait("st", Duration::from_secs(10)));
    let bad = http.get(format!("http://127.0.0.1:{free}/cb?code=x&state=forged")).send().await.expect("get");
    assert_eq!(bad.status(), 400);
    assert!(matches!(wait.await.expect("join"), Err(LoginError::State)));

    let lb = Loopback::bind(None).await.expect("bind");
    assert!(matches!(lb.wait("st", Duration::from_millis(50)).await, Err(LoginError::Timeout(_))));
}

#[tokio::test]
async fn the_code_is_exchanged_and_the_refresh_token_stored_encrypted() {
    let server = TestServer::start().await;
    let c = client(ProviderKind::Microsoft, &server.url);
    let endpoint = TokenEndpoint::new(http_client(5).expect("http"), c.token_url.clone(), c.body);
    server.answer(200, json!({"access_token": "at", "expires_in": 3600, "refresh_token": "rt-login"}));
    let verifier = SecretString::from("v".repeat(43));
    let params = code_params(
        &c,
        &SecretString::from("code-1"),
        &verifier,
        "http://127.0.0.1:5/callback",
        Some(&SecretString::from("cs")),
    );
    let answer = exchange_code(&endpoint, "mailbox:a", &params).await.expect("tokens");
    let form = server.requests()[0].form();
    for (k, v) in [
        ("grant_type", "authorization_code"),
        ("code", "code-1"),
        ("redirect_uri", "http://127.0.0.1:5/callback"),
        ("client_id", "app-id"),
        ("client_secret", "cs"),
        ("code_verifier", verifier.expose_secret()),
    ] {
        assert_eq!(form.get(k).map(String::as_str), Some(v), "{k}");
    }
    let store = Store::connect("sqlite::memory:").await.expect("store");
    let cipher = TokenCipher::for_testing();
    store_login(&store, &cipher, "mailbox:a", c.provider, &answer, None, 1_000).await.expect("stored");
    let g = store.oauth_grant("mailbox:a").await.expect("read").expect("row");
    let rt =
        cipher.decrypt(&g.refresh_token.expect("blob"), &refresh_aad("mailbox:a"), &g.refresh_key_id.expect("key"));
    assert_eq!(rt.expect("decrypt").expose_secret(), "rt-login");
    assert_eq!((g.logged_in_at, g.access_expires_at), (Some(1_000), Some(3_601_000)));

    server.answer(200, json!({"access_token": "at"}));
    let answer = exchange_code(&endpoint, "mailbox:a", &params).await.expect("tokens");
    let e = store_login(&store, &cipher, "mailbox:a", c.provider, &answer, None, 2_000)
        .await
        .expect_err("no refresh token");
    assert!(e.to_string().contains("offline_access"), "{e}");
    server.answer(400, json!({"error": "invalid_grant", "error_description": "code expired"}));
    assert!(matches!(
        exchange_code(&endpoint, "mailbox:a", &params).await,
        Err(LoginError::OAuth(OAuthError::Revoked { .. }))
    ));
}

#[test]
fn the_device_answer_and_the_polling_rules() {
    let start = parse_start(&json!({"device_code": "dc-SECRET", "user_code": "ABCD-EFGH", "verification_url": "https://www.google.com/device", "expires_in": 1800, "interval": 5}))
        .expect("google shape");
    assert_eq!((start.verification_uri.as_str(), start.interval), ("https://www.google.com/device", 5));
    assert!(!format!("{start:?}").contains("dc-SECRET"));
    assert!(parse_start(&json!({"user_code": "x"})).is_err());
    let mut p = Poller::new(5, Duration::from_secs(1));
    let oauth = |code: &str| EndpointError::OAuth { status: 400, code: code.into(), description: None };
    assert_eq!(p.on_error(oauth("authorization_pending"), "g").expect("wait"), Duration::from_secs(5));
    assert_eq!(p.on_error(oauth("slow_down"), "g").expect("slower"), Duration::from_secs(10));
    assert_eq!(p.on_error(oauth("authorization_pending"), "g").expect("wait"), Duration::from_secs(10), "stays slower");
    assert!(p.on_error(EndpointError::Status(503), "g").is_ok(), "a passing outage keeps polling");
    assert!(matches!(p.on_error(oauth("access_denied"), "g"), Err(LoginError::Denied { .. })));
    assert!(matches!(p.on_error(oauth("expired_token"), "g"), Err(LoginError::Expired)));
    assert!(matches!(p.on_error(oauth("invalid_client"), "g"), Err(LoginError::OAuth(OAuthError::Revoked { .. }))));
    assert_eq!(Poller::new(0, Duration::from_millis(10)).interval, Duration::from_millis(10));
}

#[tokio::test]
async fn the_device_flow_polls_until_approved() {
    let server = TestServer::start().await;
    let c = client(ProviderKind::Microsoft, &server.url);
    let http = http_client(5).expect("http");
    let device = TokenEndpoint::new(http.clone(), c.device_url.clone().expect("device"), c.body);
    let token = TokenEndpoint::new(http, c.token_url.clone(), c.body);
    server.answer(200, json!({"device_code": "dc", "user_code": "WXYZ", "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 60, "interval": 0}));
    server
        .answer(400, json!({"error": "authorization_pending"}))
        .answer(400, json!({"error": "authorization_pending"}));
    server.answer(200, json!({"access_token": "at", "refresh_token": "rt", "expires_in": 3600}));
    let start = device::start(&device, "smtp", &c, None).await.expect("start");
    assert_eq!(start.user_code, "WXYZ");
    let answer = device::poll(&token, "smtp", &c, &start, None, Duration::from_millis(10)).await.expect("approved");
    assert_eq!(answer.refresh_token.as_ref().map(|t| t.expose_secret()), Some("rt"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].form().get("scope").map(String::as_str), Some("read:jira-work offline_access"));
    assert!(!reqs[0].form().contains_key("client_secret"));
    let poll = reqs[3].form();
    assert_eq!(poll.get("grant_type").map(String::as_str), Some(device::DEVICE_CODE_GRANT));
    assert_eq!(poll.get("device_code").map(String::as_str), Some("dc"));
}

fn site(id: &str, url: &str) -> Site {
    Site { id: id.into(), url: url.into(), name: id.into(), scopes: vec![] }
}

#[test]
fn the_jira_site_is_the_configured_one_the_one_at_base_url_or_the_only_one() {
    let sites = [site("c1", "https://one.atlassian.net"), site("c2", "https://two.atlassian.net")];
    assert_eq!(choose_site(&sites, Some("c2"), "https://one.atlassian.net").expect("id").id, "c2");
    assert!(choose_site(&sites, Some("c3"), "").is_err());
    assert_eq!(choose_site(&sites, None, "https://TWO.atlassian.net/").expect("url").id, "c2");
    let e = choose_site(&sites, None, "https://three.atlassian.net").expect_err("ambiguous");
    assert!(e.to_string().contains("cloud_id") && e.to_string().contains("c1"), "{e}");
    assert_eq!(choose_site(&sites[..1], None, "https://x").expect("only").id, "c1");
    assert!(choose_site(&[], None, "https://x").is_err());
}

#[tokio::test]
async fn accessible_resources_are_asked_with_the_access_token() {
    let server = TestServer::start().await;
    server.answer(200, json!([{"id": "cloud-1", "url": "https://x.atlassian.net", "name": "x", "scopes": ["read:jira-work"], "avatarUrl": "a"}]));
    let sites = accessible_resources(&http_client(5).expect("http"), &server.url, &SecretString::from("at-1"))
        .await
        .expect("sites");
    assert_eq!(
        sites,
        vec![Site {
            id: "cloud-1".into(),
            url: "https://x.atlassian.net".into(),
            name: "x".into(),
            scopes: vec!["read:jira-work".into()]
        }]
    );
    let req = &server.requests()[0];
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/oauth/token/accessible-resources"));
    assert_eq!(req.authorization.as_deref(), Some("Bearer at-1"));
    server.answer(401, json!({"code": 401, "message": "Unauthorized"}));
    let e = accessible_resources(&http_client(5).expect("http"), &server.url, &SecretString::from("at-1"))
        .await
        .expect_err("401");
    assert!(!e.to_string().contains("at-1"), "{e}");
}
