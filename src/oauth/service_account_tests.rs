use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::KeyPair;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::*;
use crate::config::Flow;
use crate::oauth::test_server::TestServer;
use crate::oauth::{BodyStyle, ProviderKind, SecretSource, tokens_for};
use crate::store::secret_aad;

const PKCS8: &str = include_str!("../../tests/fixtures/oauth/test-service-account.pem");
const PKCS1: &str = include_str!("../../tests/fixtures/oauth/test-service-account-pkcs1.pem");
const EMAIL: &str = "mailgate@proj.iam.gserviceaccount.com";

fn key(pem: &str, token_uri: &str) -> ServiceAccountKey {
    ServiceAccountKey {
        client_email: EMAIL.into(),
        private_key: SecretString::from(pem),
        private_key_id: Some("kid-1".into()),
        token_uri: Some(token_uri.into()),
    }
}

fn der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(b64).expect("pem")
}

fn part(jwt: &str, i: usize) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(jwt.split('.').nth(i).expect("part")).expect("b64url")
}

/// The claims, after checking the RS256 signature with the key's public half.
fn verified_claims(jwt: &str) -> serde_json::Value {
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der(PKCS8)).expect("key");
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref().to_vec(),
    );
    let (input, _) = jwt.rsplit_once('.').expect("signed");
    public.verify(input.as_bytes(), &part(jwt, 2)).expect("the signature verifies");
    serde_json::from_slice(&part(jwt, 1)).expect("claims")
}

#[test]
fn the_assertion_has_the_claims_and_a_signature_that_verifies() {
    let k = key(PKCS8, "https://oauth2.googleapis.com/token");
    let jwt = jwt_assertion(
        "g",
        &k,
        "https://mail.google.com/",
        "https://oauth2.googleapis.com/token",
        Some("support@x.test"),
        1_700_000_000,
    )
    .expect("signed");
    let jwt = jwt.expose_secret();
    let header: serde_json::Value = serde_json::from_slice(&part(jwt, 0)).expect("header");
    assert_eq!(header, json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"}));
    let claims = verified_claims(jwt);
    assert_eq!(
        claims,
        json!({"iss": EMAIL, "scope": "https://mail.google.com/", "aud": "https://oauth2.googleapis.com/token",
               "iat": 1_700_000_000, "exp": 1_700_003_600, "sub": "support@x.test"})
    );
    let no_sub = jwt_assertion("g", &k, "s", "a", None, 5).expect("signed");
    assert!(verified_claims(no_sub.expose_secret()).get("sub").is_none());
    // The same key as PKCS#1 signs the same way.
    let pkcs1 = jwt_assertion("g", &key(PKCS1, "a"), "s", "a", None, 5).expect("pkcs1");
    verified_claims(pkcs1.expose_secret());
}

#[test]
fn bad_keys_are_config_errors_that_quote_nothing() {
    let broken = PKCS8.replace("MII", "XXX");
    let e = jwt_assertion("g", &key(&broken, "a"), "s", "a", None, 5).expect_err("bad");
    assert!(matches!(e, OAuthError::Config { .. }), "{e}");
    let body_line = PKCS8.lines().nth(3).expect("line");
    assert!(!e.to_string().contains(body_line), "{e}");
    let e = ServiceAccountKey::parse("g", &format!("{{\"private_key\": \"{}\"", body_line)).expect_err("json");
    assert!(!e.to_string().contains(body_line), "{e}");
    assert!(ServiceAccountKey::parse("g", r#"{"private_key": "x"}"#).is_err(), "client_email is required");
    let dbg = format!("{:?}", key(PKCS8, "a"));
    assert!(!dbg.contains(body_line), "{dbg}");
}

fn key_json(token_uri: &str) -> String {
    json!({"type": "service_account", "project_id": "p", "private_key_id": "kid-1", "private_key": PKCS8,
           "client_email": EMAIL, "client_id": "1", "token_uri": token_uri})
    .to_string()
}

#[tokio::test]
async fn the_service_account_flow_posts_a_jwt_bearer_grant_from_a_key_file_or_a_stored_key() {
    let server = TestServer::start().await;
    let store = crate::store::Store::connect("sqlite::memory:").await.expect("store");
    let cipher = Arc::new(crate::secrets::TokenCipher::for_testing());
    let clock = Arc::new(crate::clock::ManualClock::at(chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("t")));
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("sa.json");
    std::fs::write(&file, key_json(&server.token_url())).expect("write");
    let mut client = crate::oauth::OAuthClient {
        provider: ProviderKind::Google,
        flow: Flow::ServiceAccount,
        client_id: None,
        client_secret: SecretSource::Stored,
        key_file: Some(file.display().to_string()),
        subject: Some("support@x.test".into()),
        scopes: vec!["https://mail.google.com/".into()],
        token_url: server.token_url(),
        device_url: None,
        authorize_url: None,
        authorize_params: vec![],
        redirect_url: None,
        body: BodyStyle::Form,
        api_url: None,
        cloud_id: None,
        timeout_secs: 5,
    };
    server.answer(200, json!({"access_token": "ya29.a", "expires_in": 3599, "token_type": "Bearer"}));
    let src = tokens_for(&client, "mailbox:support", store.clone(), Some(cipher.clone()), clock.clone());
    assert_eq!(src.access_token().await.expect("token").expose_secret(), "ya29.a");
    let form = server.requests()[0].form();
    assert_eq!(form.get("grant_type").map(String::as_str), Some(JWT_BEARER));
    let claims = verified_claims(form.get("assertion").expect("assertion"));
    assert_eq!(
        (claims["sub"].as_str(), claims["aud"].as_str()),
        (Some("support@x.test"), Some(server.token_url().as_str()))
    );
    assert_eq!(claims["iat"].as_i64(), Some(clock.now_ms() / 1000));

    // The key stored with `oauth set-secret` instead of a file.
    client.key_file = None;
    let blob =
        cipher.encrypt(&SecretString::from(key_json("https://oauth2.googleapis.com/token")), &secret_aad("smtp"));
    store.put_oauth_secret("smtp", blob, cipher.key_id(), 1).await.expect("secret");
    server.answer(403, json!({"error": "unauthorized_client", "error_description": "Client is unauthorized"}));
    let src = tokens_for(&client, "smtp", store.clone(), Some(cipher.clone()), clock.clone());
    let e = src.access_token().await.expect_err("no delegation");
    assert!(matches!(&e, OAuthError::Config { message, .. } if message.contains("unauthorized_client")), "{e}");
    let form = server.requests()[1].form();
    assert_eq!(
        verified_claims(form.get("assertion").expect("assertion"))["aud"],
        "https://oauth2.googleapis.com/token"
    );
}
