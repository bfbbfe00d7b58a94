//! The token sources against a scripted token endpoint and a real store.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::test_server::TestServer;
use super::*;
use crate::clock::ManualClock;
use crate::config::Flow;
use crate::secrets::TokenCipher;
use crate::store::{GrantState, NewLogin, Refreshed, Store, refresh_aad, secret_aad};

const RT1: &str = "rt-one-SECRET";
const RT2: &str = "rt-two-SECRET";
const CS: &str = "client-SECRET-value";

struct Setup {
    server: TestServer,
    store: Store,
    cipher: Arc<TokenCipher>,
    clock: Arc<ManualClock>,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let store = Store::connect("sqlite::memory:").await.expect("store");
    let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).single().expect("t")));
    Setup { server, store, cipher: Arc::new(TokenCipher::for_testing()), clock }
}

impl Setup {
    fn client(&self, flow: Flow, provider: ProviderKind) -> OAuthClient {
        OAuthClient {
            provider,
            flow,
            client_id: Some("app-id".into()),
            client_secret: SecretSource::Inline(SecretString::from(CS)),
            key_file: None,
            subject: None,
            scopes: vec!["https://outlook.office365.com/.default".into()],
            token_url: self.server.token_url(),
            device_url: None,
            authorize_url: None,
            authorize_params: vec![],
            redirect_url: None,
            body: if provider == ProviderKind::Atlassian { BodyStyle::Json } else { BodyStyle::Form },
            api_url: None,
            cloud_id: None,
            timeout_secs: 5,
        }
    }

    fn source(&self, client: &OAuthClient, grant: &str) -> Arc<dyn AccessTokens> {
        tokens_for(client, grant, self.store.clone(), Some(self.cipher.clone()), self.clock.clone())
    }

    async fn login(&self, grant: &str, rt: &str) {
        let login = NewLogin {
            grant,
            refresh_token: self.cipher.encrypt(&SecretString::from(rt), &refresh_aad(grant)),
            key_id: self.cipher.key_id(),
            cloud_id: None,
            access_expires_at: None,
            refresh_expires_at: None,
        };
        self.store.put_oauth_login(&login, self.clock.now_ms()).await.expect("login");
    }

    async fn stored_refresh(&self, grant: &str) -> String {
        let g = self.store.oauth_grant(grant).await.expect("read").expect("row");
        let (blob, key) = (g.refresh_token.expect("blob"), g.refresh_key_id.expect("key"));
        self.cipher.decrypt(&blob, &refresh_aad(grant), &key).expect("decrypt").expose_secret().to_string()
    }
}

use crate::clock::Clock as _;

fn token(at: &str, expires_in: u64) -> serde_json::Value {
    json!({"access_token": at, "token_type": "Bearer", "expires_in": expires_in})
}

#[tokio::test]
async fn client_credentials_send_the_secret_cache_the_token_and_refetch_after_invalidate() {
    let s = setup().await;
    s.server.answer(200, token("at-1", 3600)).answer(200, token("at-2", 3600)).answer(200, token("at-3", 3600));
    let src = s.source(&s.client(Flow::ClientCredentials, ProviderKind::Microsoft), "mailbox:support");
    assert_eq!(src.access_token().await.expect("t").expose_secret(), "at-1");
    assert_eq!(src.access_token().await.expect("t").expose_secret(), "at-1", "cached");
    src.invalidate();
    assert_eq!(src.access_token().await.expect("t").expose_secret(), "at-2");
    s.clock.advance(Duration::seconds(3550));
    assert_eq!(src.access_token().await.expect("t").expose_secret(), "at-3", "renewed inside the margin");
    let reqs = s.server.requests();
    assert_eq!(reqs.len(), 3);
    let form = reqs[0].form();
    assert_eq!(form.get("grant_type").map(String::as_str), Some("client_credentials"));
    assert_eq!(form.get("client_id").map(String::as_str), Some("app-id"));
    assert_eq!(form.get("client_secret").map(String::as_str), Some(CS));
    assert_eq!(form.get("scope").map(String::as_str), Some("https://outlook.office365.com/.default"));
    let g = s.store.oauth_grant("mailbox:support").await.expect("read").expect("row");
    assert_eq!(g.access_expires_at, Some(s.clock.now_ms() + 3_600_000));
}

#[tokio::test]
async fn a_refused_client_is_revoked_and_not_asked_again_until_a_new_secret() {
    let s = setup().await;
    s.server.answer(401, json!({"error": "invalid_client", "error_description": format!("bad secret {CS}")}));
    let mut client = s.client(Flow::ClientCredentials, ProviderKind::Microsoft);
    client.client_secret = SecretSource::Stored;
    let src = s.source(&client, "smtp");
    let e = src.access_token().await.expect_err("no secret yet");
    assert!(matches!(&e, OAuthError::Config { message, .. } if message.contains("set-secret")), "{e}");
    s.store
        .put_oauth_secret("smtp", s.cipher.encrypt(&SecretString::from(CS), &secret_aad("smtp")), s.cipher.key_id(), 1)
        .await
        .expect("secret");
    let e = src.access_token().await.expect_err("refused");
    assert!(matches!(&e, OAuthError::Revoked { .. }) && !e.is_transient(), "{e}");
    assert!(!e.to_string().contains(CS), "the secret is cut out of the server's text: {e}");
    assert!(src.access_token().await.is_err());
    assert_eq!(s.server.requests().len(), 1, "not asked again");
    let g = s.store.oauth_grant("smtp").await.expect("read").expect("row");
    assert_eq!(g.state, GrantState::Revoked);
    // A new secret (a new version) is tried.
    s.store
        .put_oauth_secret(
            "smtp",
            s.cipher.encrypt(&SecretString::from("new"), &secret_aad("smtp")),
            s.cipher.key_id(),
            2,
        )
        .await
        .expect("secret");
    s.server.answer(200, token("at", 3600));
    assert_eq!(src.access_token().await.expect("token").expose_secret(), "at");
    assert_eq!(s.server.requests()[1].form().get("client_secret").map(String::as_str), Some("new"));
    assert_eq!(s.store.oauth_grant("smtp").await.expect("read").expect("row").state, GrantState::Active);
}

#[tokio::test]
async fn an_unavailable_endpoint_is_transient_and_tried_again() {
    let s = setup().await;
    s.server.answer(503, json!({})).answer(429, json!({})).answer(200, token("at", 60));
    let src = s.source(&s.client(Flow::ClientCredentials, ProviderKind::Generic), "mailbox:a");
    assert!(src.access_token().await.expect_err("503").is_transient());
    assert!(src.access_token().await.expect_err("429").is_transient());
    assert_eq!(src.access_token().await.expect("ok").expose_secret(), "at");
}

#[tokio::test]
async fn a_rotated_refresh_token_is_stored_before_the_access_token_is_handed_out() {
    let s = setup().await;
    s.login("mailbox:support", RT1).await;
    let client = s.client(Flow::RefreshToken, ProviderKind::Microsoft);
    let src = s.source(&client, "mailbox:support");
    s.server.answer(200, json!({"access_token": "at-1", "expires_in": 3600, "refresh_token": RT2}));
    assert_eq!(src.access_token().await.expect("t").expose_secret(), "at-1");
    assert_eq!(s.stored_refresh("mailbox:support").await, RT2, "stored by the time the token is out");
    let form = s.server.requests()[0].form();
    assert_eq!(form.get("grant_type").map(String::as_str), Some("refresh_token"));
    assert_eq!(form.get("refresh_token").map(String::as_str), Some(RT1));
    assert!(form.contains_key("scope"), "Microsoft gets the scopes");
    // A restart (a new source) uses the rotated token.
    let again = s.source(&client, "mailbox:support");
    s.server.answer(200, json!({"access_token": "at-2", "expires_in": 3600}));
    assert_eq!(again.access_token().await.expect("t").expose_secret(), "at-2");
    assert_eq!(s.server.requests()[1].form().get("refresh_token").map(String::as_str), Some(RT2));
    assert_eq!(s.stored_refresh("mailbox:support").await, RT2, "not rotated: kept");
}

#[tokio::test]
async fn the_database_file_holds_no_token_in_clear() {
    let mut s = setup().await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("m.db");
    s.store = Store::connect(&format!("sqlite://{}", path.display())).await.expect("file store");
    s.login("mailbox:a", RT1).await;
    s.server.answer(200, json!({"access_token": "at-CLEAR-1", "expires_in": 3600, "refresh_token": RT2}));
    let src = s.source(&s.client(Flow::RefreshToken, ProviderKind::Microsoft), "mailbox:a");
    src.access_token().await.expect("token");
    s.store.close().await;
    let mut bytes = std::fs::read(&path).expect("db");
    bytes.extend(std::fs::read(dir.path().join("m.db-wal")).unwrap_or_default());
    for needle in [RT1, RT2, "at-CLEAR-1", CS] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "{needle} in the database file");
    }
}

#[tokio::test]
async fn a_rotation_that_cannot_be_stored_hands_out_no_token() {
    let s = setup().await;
    s.login("jira", RT1).await;
    sqlx::raw_sql(
        "create trigger no_writes before update on oauth_grants begin select raise(abort, 'disk full'); end;",
    )
    .execute(s.store.pool())
    .await
    .expect("trigger");
    s.server.answer(200, json!({"access_token": "at-lost", "expires_in": 3600, "refresh_token": RT2}));
    let src = s.source(&s.client(Flow::RefreshToken, ProviderKind::Atlassian), "jira");
    let e = src.access_token().await.expect_err("not stored, not handed out");
    assert!(e.is_transient(), "{e}");
    assert!(!e.to_string().contains("at-lost") && !e.to_string().contains(RT2), "{e}");
}

#[tokio::test]
async fn invalid_grant_revokes_until_a_new_login_and_warns_the_admins_once_per_revocation() {
    let s = setup().await;
    s.login("mailbox:support", RT1).await;
    let src = s.source(&s.client(Flow::RefreshToken, ProviderKind::Google), "mailbox:support");
    s.server.answer(400, json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}));
    let e = src.access_token().await.expect_err("revoked");
    assert!(matches!(&e, OAuthError::Revoked { grant, .. } if grant == "mailbox:support"), "{e}");
    assert!(!s.server.requests()[0].form().contains_key("scope"), "Google keeps the granted scopes");
    assert!(matches!(src.access_token().await, Err(OAuthError::Revoked { .. })));
    assert_eq!(s.server.requests().len(), 1, "a revoked grant is not sent again");
    let admins = [crate::domain::EmailAddress::parse("admin@x.test").expect("addr")];
    assert!(crate::identity::warn_revoked(&s.store, &admins, "mailbox:support", 10).await.expect("warn"));
    assert!(crate::identity::warn_revoked(&s.store, &admins, "mailbox:support", 20).await.expect("warn again"));
    let mails = s.store.outgoing_of_kind("admin-warning").await.expect("outbox");
    assert_eq!(mails.len(), 1, "one mail per revocation");
    assert!(mails[0].subject.contains("mailbox:support") && !mails[0].body_text.contains(RT1));
    // A new login makes it work again; a later revocation warns again.
    s.clock.advance(Duration::seconds(5));
    s.login("mailbox:support", RT2).await;
    assert!(!crate::identity::warn_revoked(&s.store, &admins, "mailbox:support", 30).await.expect("active"));
    s.server.answer(200, token("at", 3600));
    assert_eq!(src.access_token().await.expect("t").expose_secret(), "at");
    src.invalidate();
    s.clock.advance(Duration::seconds(5));
    s.server.answer(400, json!({"error": "invalid_grant"}));
    assert!(src.access_token().await.is_err());
    assert!(crate::identity::warn_revoked(&s.store, &admins, "mailbox:support", 40).await.expect("warn"));
    assert_eq!(s.store.outgoing_of_kind("admin-warning").await.expect("outbox").len(), 2);
}

#[tokio::test]
async fn a_refusal_of_a_token_another_instance_just_rotated_is_retried_with_the_new_one() {
    let s = setup().await;
    s.login("smtp", RT1).await;
    let src = s.source(&s.client(Flow::RefreshToken, ProviderKind::Generic), "smtp");
    let gate = s.server.hold();
    s.server.answer(400, json!({"error": "invalid_grant"})).answer(200, token("at", 3600));
    let task = tokio::spawn(async move { src.access_token().await.map(|t| t.expose_secret().to_string()) });
    while s.server.requests().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Meanwhile another instance rotated RT1 to RT2.
    let other = Refreshed {
        grant: "smtp",
        from_version: 1,
        rotated: Some((s.cipher.encrypt(&SecretString::from(RT2), &refresh_aad("smtp")), s.cipher.key_id())),
        access_expires_at: 0,
        refresh_expires_at: None,
    };
    assert!(s.store.put_oauth_refresh(&other, 1).await.expect("rotate"));
    gate.add_permits(2);
    assert_eq!(task.await.expect("join").expect("token"), "at");
    assert_eq!(s.server.requests()[1].form().get("refresh_token").map(String::as_str), Some(RT2));
    assert_eq!(s.store.oauth_grant("smtp").await.expect("read").expect("row").state, GrantState::Active);
}

#[tokio::test]
async fn jira_refreshes_with_json_and_tracks_atlassian_expiry() {
    let s = setup().await;
    s.login("jira", RT1).await;
    let src = s.source(&s.client(Flow::RefreshToken, ProviderKind::Atlassian), "jira");
    s.server.answer(200, json!({"access_token": "at", "expires_in": 3600, "refresh_token": RT2, "scope": "x"}));
    src.access_token().await.expect("token");
    let req = &s.server.requests()[0];
    assert_eq!(req.content_type, "application/json");
    assert_eq!((req.json()["refresh_token"].as_str(), req.json()["client_secret"].as_str()), (Some(RT1), Some(CS)));
    assert!(req.json().get("scope").is_none());
    let g = s.store.oauth_grant("jira").await.expect("read").expect("row");
    let now = s.clock.now_ms();
    assert_eq!(g.refresh_expires_at, Some(now + refresh::ATLASSIAN_INACTIVITY_MS));
    assert_eq!(s.stored_refresh("jira").await, RT2);
}

#[tokio::test]
async fn missing_logins_keys_and_secrets_are_config_errors_that_say_what_to_do() {
    let s = setup().await;
    let client = s.client(Flow::RefreshToken, ProviderKind::Microsoft);
    let e = s.source(&client, "mailbox:a").access_token().await.expect_err("no login");
    assert!(matches!(&e, OAuthError::Config { .. }) && e.to_string().contains("oauth login --mailbox a"), "{e}");
    s.login("mailbox:a", RT1).await;
    let no_key = tokens_for(&client, "mailbox:a", s.store.clone(), None, s.clock.clone());
    let e = no_key.access_token().await.expect_err("no key");
    assert!(e.to_string().contains("master key"), "{e}");
    let mut file = client.clone();
    file.client_secret = SecretSource::File("/nonexistent/secret".into());
    let e = s.source(&file, "mailbox:a").access_token().await.expect_err("no file");
    assert!(e.to_string().contains("/nonexistent/secret"), "{e}");
    assert!(s.server.requests().is_empty());
}

#[tokio::test]
async fn no_secret_in_debug_output_or_errors() {
    let s = setup().await;
    s.login("mailbox:a", RT1).await;
    let client = s.client(Flow::RefreshToken, ProviderKind::Generic);
    let src = RefreshTokenSource::new(
        "mailbox:a",
        client.clone(),
        reqwest::Client::new(),
        s.store.clone(),
        Some(s.cipher.clone()),
        s.clock.clone(),
    );
    let cc = ClientCredentials::new(
        "mailbox:a",
        client.clone(),
        reqwest::Client::new(),
        s.store.clone(),
        None,
        s.clock.clone(),
    );
    let row = s.store.oauth_grant("mailbox:a").await.expect("read");
    let texts = [format!("{src:?}"), format!("{cc:?}"), format!("{client:?}"), format!("{row:?}")];
    s.server.answer(400, json!({"error": "invalid_request", "error_description": format!("{RT1} {CS} bad")}));
    let e = src.access_token().await.expect_err("refused");
    for t in texts.iter().chain([&e.to_string(), &format!("{e:?}")]) {
        assert!(!t.contains(RT1) && !t.contains(CS), "{t}");
    }
}
