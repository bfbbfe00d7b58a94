//! The test OAuth server (`mailgate_testkit::oauth`) behaves like a strict
//! authorization server: each grant, its errors, rotation, revocation and
//! introspection.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailgate_testkit::oauth::{APP_PERMISSIONS, OAuthServer, service_account_assertion};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use serde_json::Value;

const APP: &str = "mailgate-app";
const SECRET: &str = "app-secret-1";
const USER: &str = "support@corp.test";

fn client() -> reqwest::Client {
    mailgate_testkit::init();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

async fn post(url: &str, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    post_with(url, pairs, None).await
}

async fn post_with(url: &str, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> (StatusCode, Value) {
    let mut req = client().post(url).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(form(pairs));
    if let Some((id, secret)) = basic {
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        req = req.header(AUTHORIZATION, format!("Basic {enc}"));
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.expect("json body"))
}

async fn introspect(server: &OAuthServer, token: &str) -> Value {
    let (status, body) = post(&server.introspect_url(), &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK);
    body
}

async fn server() -> OAuthServer {
    let server = OAuthServer::start().await;
    server.add_client(APP, SECRET);
    server.add_user(USER);
    server
}

#[tokio::test]
async fn client_credentials_gives_an_app_token_that_introspects_without_a_user() {
    let server = server().await;
    let scope = "https://outlook.office365.com/.default";
    let (status, body) = post(
        &server.token_url(),
        &[("grant_type", "client_credentials"), ("client_id", APP), ("client_secret", SECRET), ("scope", scope)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none(), "no refresh token for client credentials: {body}");
    let token = body["access_token"].as_str().expect("access_token");
    assert!(server.is_active(token));
    let info = introspect(&server, token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["idtyp"], "app");
    assert_eq!(info["client_id"], APP);
    assert_eq!(info["scope"], APP_PERMISSIONS);
    assert!(info.get("username").is_none(), "an app token has no user: {info}");

    // HTTP Basic works too.
    let (status, _) =
        post_with(&server.token_url(), &[("grant_type", "client_credentials"), ("scope", scope)], Some((APP, SECRET)))
            .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server.grant_requests(), ["client_credentials", "client_credentials"]);
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc6749() {
    let server = server().await;
    let url = server.token_url();
    let scope = ("scope", "https://outlook.office365.com/.default");
    let cc = ("grant_type", "client_credentials");

    let resp = client()
        .post(&url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[cc, ("client_id", APP), ("client_secret", "wrong"), scope]))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().contains_key(WWW_AUTHENTICATE));
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());

    let (status, body) = post(&url, &[cc, ("client_id", "nobody"), ("client_secret", SECRET), scope]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));

    // Basic and body credentials together: more than one method.
    let (status, body) =
        post_with(&url, &[cc, ("client_id", APP), ("client_secret", SECRET), scope], Some((APP, SECRET))).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));

    let (_, body) =
        post(&url, &[cc, ("client_id", APP), ("client_secret", SECRET), ("scope", "https://mail.google.com/")]).await;
    assert_eq!(body["error"], "invalid_scope");

    let (_, body) = post(&url, &[cc, ("client_id", APP), ("client_secret", SECRET)]).await;
    assert_eq!(body["error"], "invalid_request", "scope is required");

    let (_, body) = post(&url, &[("grant_type", "password"), ("username", USER), ("password", "x")]).await;
    assert_eq!(body["error"], "unsupported_grant_type");

    let (_, body) = post(&url, &[cc, cc, ("client_id", APP), ("client_secret", SECRET), scope]).await;
    assert_eq!(body["error"], "invalid_request", "a repeated parameter");

    let resp = client().post(&url).json(&serde_json::json!({"grant_type": "client_credentials"})).send().await;
    let resp = resp.expect("request");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.expect("json")["error"], "invalid_request", "JSON is not a form");

    // A public client may not use client credentials.
    server.add_client("public-app", "");
    let (_, body) = post(&url, &[cc, ("client_id", "public-app"), scope]).await;
    assert_eq!(body["error"], "unauthorized_client");
}

async fn refresh(server: &OAuthServer, token: &str) -> (StatusCode, Value) {
    post(
        &server.token_url(),
        &[("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", APP), ("client_secret", SECRET)],
    )
    .await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_used_one_is_invalid_grant() {
    let server = server().await;
    let scope = "https://mail.google.com/ offline_access";
    let first = server.issue_refresh_token(APP, USER, scope);

    let (status, body) = refresh(&server, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], scope);
    let second = body["refresh_token"].as_str().expect("a new refresh token").to_string();
    assert_ne!(second, first);
    let access = body["access_token"].as_str().expect("access_token").to_string();
    let info = introspect(&server, &access).await;
    assert_eq!((info["active"].as_bool(), info["username"].as_str()), (Some(true), Some(USER)));
    assert_eq!(info["idtyp"], "user");
    assert_eq!(info["client_id"], APP);

    let (status, body) = refresh(&server, &first).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "reuse");

    // Narrowing is allowed, widening is not.
    let (_, body) = post(
        &server.token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &second),
            ("scope", "https://mail.google.com/ https://www.googleapis.com/auth/drive"),
            ("client_id", APP),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_scope");

    // Another client cannot use it.
    server.add_client("other-app", "other-secret");
    let (_, body) = post(
        &server.token_url(),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &second),
            ("client_id", "other-app"),
            ("client_secret", "other-secret"),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");

    server.set_access_lifetime(120);
    let (status, body) = refresh(&server, &second).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 120);
    let third = body["refresh_token"].as_str().expect("refresh_token").to_string();
    let access2 = body["access_token"].as_str().expect("access_token").to_string();
    let exp = introspect(&server, &access2).await["exp"].as_u64().expect("exp");
    assert!(exp > 0);

    server.expire_access_tokens();
    assert!(!server.is_active(&access));
    assert_eq!(introspect(&server, &access2).await, serde_json::json!({"active": false}));

    // Expired access tokens do not spoil the refresh token; revocation does.
    let (status, body) = refresh(&server, &third).await;
    assert_eq!(status, StatusCode::OK);
    let fourth = body["refresh_token"].as_str().expect("refresh_token").to_string();
    let access3 = body["access_token"].as_str().expect("access_token").to_string();
    server.revoke_user(USER);
    assert!(!server.is_active(&access3));
    let (_, body) = refresh(&server, &fourth).await;
    assert_eq!(body["error"], "invalid_grant");

    let grants = server.grant_requests();
    assert_eq!(grants.iter().filter(|g| *g == "refresh_token").count(), grants.len());
    assert_eq!(grants.len(), 7);

    // A refresh token is not a bearer credential.
    assert_eq!(introspect(&server, &first).await["active"], false);
}

#[tokio::test]
async fn jwt_bearer_verifies_the_service_account_assertion() {
    let server = server().await;
    let sa = "mailgate@project.iam.gserviceaccount.com";
    let key_file = server.add_service_account(sa);
    let key: Value = serde_json::from_str(&key_file).expect("key JSON");
    assert_eq!(key["type"], "service_account");
    assert_eq!(key["client_email"], sa);
    assert_eq!(key["token_uri"], server.token_url());
    assert!(key["private_key"].as_str().is_some_and(|k| k.starts_with("-----BEGIN PRIVATE KEY-----")));
    assert!(key["private_key_id"].as_str().is_some_and(|k| !k.is_empty()));

    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let scope = "https://mail.google.com/";
    let assertion = service_account_assertion(&key_file, scope, Some(USER));
    let (status, body) = post(&server.token_url(), &[("grant_type", grant), ("assertion", &assertion)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none());
    let info = introspect(&server, body["access_token"].as_str().expect("token")).await;
    assert_eq!((info["active"].as_bool(), info["username"].as_str()), (Some(true), Some(USER)));
    assert_eq!(info["scope"], scope);

    // Signed by another account's key.
    let other = server.add_service_account("other@project.iam.gserviceaccount.com");
    let mut forged: Value = serde_json::from_str(&key_file).expect("json");
    forged["private_key"] = serde_json::from_str::<Value>(&other).expect("json")["private_key"].clone();
    forged["private_key_id"] = Value::Null;
    let bad_sig = service_account_assertion(&forged.to_string(), scope, Some(USER));
    let (status, body) = post(&server.token_url(), &[("grant_type", grant), ("assertion", &bad_sig)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));

    // Wrong audience.
    let mut wrong_aud: Value = serde_json::from_str(&key_file).expect("json");
    wrong_aud["token_uri"] = "https://oauth2.googleapis.com/token".into();
    let a = service_account_assertion(&wrong_aud.to_string(), scope, Some(USER));
    let (_, body) = post(&server.token_url(), &[("grant_type", grant), ("assertion", &a)]).await;
    assert_eq!(body["error"], "invalid_grant");

    // No scope.
    let a = service_account_assertion(&key_file, "", Some(USER));
    let (_, body) = post(&server.token_url(), &[("grant_type", grant), ("assertion", &a)]).await;
    assert_eq!(body["error"], "invalid_scope");

    // An unknown user, then a revoked one.
    let a = service_account_assertion(&key_file, scope, Some("nobody@corp.test"));
    let (_, body) = post(&server.token_url(), &[("grant_type", grant), ("assertion", &a)]).await;
    assert_eq!(body["error"], "invalid_grant");
    server.revoke_user(USER);
    let (_, body) = post(&server.token_url(), &[("grant_type", grant), ("assertion", &assertion)]).await;
    assert_eq!(body["error"], "invalid_grant");
    server.add_user(USER);
    let (status, _) = post(&server.token_url(), &[("grant_type", grant), ("assertion", &assertion)]).await;
    assert_eq!(status, StatusCode::OK);

    let (_, body) = post(&server.token_url(), &[("grant_type", grant), ("assertion", "not.a.jwt")]).await;
    assert_eq!(body["error"], "invalid_grant");
}

async fn device_start(server: &OAuthServer) -> Value {
    let (status, body) = post(
        &server.device_url(),
        &[
            ("client_id", APP),
            ("client_secret", SECRET),
            ("scope", "https://outlook.office365.com/IMAP.AccessAsUser.All offline_access"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn device_poll(server: &OAuthServer, device_code: &str) -> (StatusCode, Value) {
    post(
        &server.token_url(),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", APP),
            ("client_secret", SECRET),
        ],
    )
    .await
}

#[tokio::test]
async fn device_code_flow_pending_slow_down_approve_deny_expire() {
    let server = server().await;
    let grant = device_start(&server).await;
    for field in ["device_code", "user_code", "verification_uri", "message"] {
        assert!(grant[field].is_string(), "{field}: {grant}");
    }
    assert_eq!(grant["interval"], 1);
    assert_eq!(grant["expires_in"], 900);
    let code = grant["device_code"].as_str().expect("device_code");
    let user_code = grant["user_code"].as_str().expect("user_code");
    assert_eq!(server.pending_user_codes(), [user_code]);

    let (_, body) = device_poll(&server, code).await;
    assert_eq!(body["error"], "authorization_pending");
    let (_, body) = device_poll(&server, code).await;
    assert_eq!(body["error"], "slow_down", "polled again at once");
    // The interval is now 6 s; a poll after 1.1 s is still too fast.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, body) = device_poll(&server, code).await;
    assert_eq!(body["error"], "slow_down");

    // With interval 0, approval goes through at once.
    server.set_device_interval(0);
    let grant = device_start(&server).await;
    let code = grant["device_code"].as_str().expect("device_code").to_string();
    let (_, body) = device_poll(&server, &code).await;
    assert_eq!(body["error"], "authorization_pending");
    server.approve_device(grant["user_code"].as_str().expect("user_code"), USER);
    let (status, body) = device_poll(&server, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["refresh_token"].is_string());
    let info = introspect(&server, body["access_token"].as_str().expect("token")).await;
    assert_eq!(info["username"], USER);
    let (_, body) = device_poll(&server, &code).await;
    assert_eq!(body["error"], "invalid_grant", "a device code is exchanged once");

    let grant = device_start(&server).await;
    server.deny_device(grant["user_code"].as_str().expect("user_code"));
    let (_, body) = device_poll(&server, grant["device_code"].as_str().expect("code")).await;
    assert_eq!(body["error"], "access_denied");

    let grant = device_start(&server).await;
    server.expire_device_codes();
    let (_, body) = device_poll(&server, grant["device_code"].as_str().expect("code")).await;
    assert_eq!(body["error"], "expired_token");
    assert!(server.pending_user_codes().is_empty());

    let (_, body) = device_poll(&server, "dc_unknown").await;
    assert_eq!(body["error"], "invalid_grant");
}

fn pkce() -> (String, String) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_string();
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    (verifier, URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

async fn authorize(server: &OAuthServer, params: &[(&str, &str)]) -> reqwest::Response {
    let url = format!("{}?{}", server.authorize_url(), form(params));
    client().get(url).send().await.expect("authorize")
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

#[tokio::test]
async fn authorization_code_with_pkce() {
    let server = server().await;
    server.add_user("other@corp.test");
    let (verifier, challenge) = pkce();
    let redirect = "http://127.0.0.1:8765/callback";
    let params = [
        ("response_type", "code"),
        ("client_id", APP),
        ("redirect_uri", redirect),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "xyz &="),
        ("scope", "https://mail.google.com/"),
        ("login_hint", USER),
    ];
    let resp = authorize(&server, &params).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()[LOCATION].to_str().expect("location").to_string();
    assert!(location.starts_with(redirect), "{location}");
    let q = query_of(&location);
    let code = q.iter().find(|(k, _)| k == "code").map(|(_, v)| v.clone()).expect("code");
    assert!(q.contains(&("state".into(), "xyz &=".into())), "{q:?}");

    let exchange = |code: String, verifier: String| {
        let url = server.token_url();
        async move {
            post(
                &url,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", redirect),
                    ("code_verifier", &verifier),
                    ("client_id", APP),
                    ("client_secret", SECRET),
                ],
            )
            .await
        }
    };
    let (_, body) = exchange(code.clone(), "x".repeat(43)).await;
    assert_eq!(body["error"], "invalid_grant", "wrong verifier");
    let (status, body) = exchange(code.clone(), verifier.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(introspect(&server, &access).await["username"], USER, "login_hint picks the user");
    assert!(body["refresh_token"].is_string());
    let (_, body) = exchange(code, verifier.clone()).await;
    assert_eq!(body["error"], "invalid_grant", "replayed code");
    assert!(!server.is_active(&access), "a replayed code revokes what it gave");

    // No login_hint: the user added last.
    let resp = authorize(&server, &params[..7]).await;
    let q = query_of(resp.headers()[LOCATION].to_str().expect("location"));
    let code = q.iter().find(|(k, _)| k == "code").map(|(_, v)| v.clone()).expect("code");
    let (_, body) = exchange(code, verifier.clone()).await;
    let info = introspect(&server, body["access_token"].as_str().expect("token")).await;
    assert_eq!(info["username"], "other@corp.test");

    // PKCE is required, S256 only.
    let resp = authorize(&server, &[params[0], params[1], params[2], params[5]]).await;
    let q = query_of(resp.headers()[LOCATION].to_str().expect("location"));
    assert!(q.contains(&("error".into(), "invalid_request".into())), "{q:?}");
    let resp = authorize(
        &server,
        &[params[0], params[1], params[2], ("code_challenge", &verifier), ("code_challenge_method", "plain")],
    )
    .await;
    let q = query_of(resp.headers()[LOCATION].to_str().expect("location"));
    assert!(q.contains(&("error".into(), "invalid_request".into())), "{q:?}");
    let resp = authorize(&server, &[("response_type", "token"), params[1], params[2], params[3], params[4]]).await;
    let q = query_of(resp.headers()[LOCATION].to_str().expect("location"));
    assert!(q.contains(&("error".into(), "unsupported_response_type".into())), "{q:?}");

    // An unknown client is not redirected.
    let resp = authorize(&server, &[params[0], ("client_id", "nobody"), params[2], params[3], params[4]]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_server_answers_while_the_test_thread_blocks() {
    let server = server().await;
    let url = server.token_url();
    // A blocking client on another thread while this runtime's thread sleeps.
    let handle = std::thread::spawn(move || {
        let body = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", SECRET),
            ("scope", "https://outlook.office365.com/.default"),
        ]);
        let mut stream =
            std::net::TcpStream::connect(url.trim_start_matches("http://").split('/').next().unwrap_or(""))
                .expect("connect");
        use std::io::{Read, Write};
        write!(
            stream,
            "POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut out = String::new();
        stream.read_to_string(&mut out).expect("read");
        out
    });
    std::thread::sleep(Duration::from_millis(300));
    let out = handle.join().expect("thread");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}
