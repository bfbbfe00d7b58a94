//! Dovecot with OAuth (`Dovecot::start_with_oauth`, `with_imap_oauth`):
//! SASL XOAUTH2 and OAUTHBEARER succeed with an active token of the test
//! OAuth server and fail with an expired, revoked or someone else's one;
//! passwords still work.

use mailgate::oauth::{oauthbearer_response, xoauth2_response};
use mailgate_testkit::TestApp;
use mailgate_testkit::dovecot::{self, Dovecot};
use mailgate_testkit::imap::{self, Imap};
use mailgate_testkit::oauth::OAuthServer;

const APP: &str = "mailgate-app";
const SCOPE: &str = "https://mail.google.com/";

async fn xoauth2(port: u16, user: &str, token: &str) -> Result<String, String> {
    imap::authenticate(port, "XOAUTH2", &xoauth2_response(user, token)).await
}

async fn oauthbearer(port: u16, user: &str, token: &str) -> Result<String, String> {
    imap::authenticate(port, "OAUTHBEARER", &oauthbearer_response(user, "127.0.0.1", port, token)).await
}

fn refused(result: Result<String, String>, what: &str, dovecot: &Dovecot) {
    match result {
        Ok(line) => panic!("{what}: logged in: {line}\n{}", dovecot.log()),
        Err(line) => assert!(line.contains("NO [AUTHENTICATIONFAILED]"), "{what}: {line}\n{}", dovecot.log()),
    }
}

#[tokio::test]
async fn xoauth2_and_oauthbearer_follow_the_token() {
    mailgate_testkit::init();
    let server = OAuthServer::start().await;
    server.add_client(APP, "secret");
    let dovecot = Dovecot::start_with_oauth(&server.introspect_url());
    let port = dovecot.port;
    let token = server.issue_access_token(APP, dovecot::USER, SCOPE);

    let ok = xoauth2(port, dovecot::USER, &token).await;
    assert!(ok.is_ok(), "{ok:?}\n{}", dovecot.log());
    let ok = oauthbearer(port, dovecot::USER, &token).await;
    assert!(ok.is_ok(), "{ok:?}\n{}", dovecot.log());

    // Someone else's mailbox with this user's token.
    refused(xoauth2(port, "other@example.test", &token).await, "XOAUTH2 as another user", &dovecot);
    refused(oauthbearer(port, "other@example.test", &token).await, "OAUTHBEARER as another user", &dovecot);
    refused(xoauth2(port, dovecot::USER, "at_garbage").await, "an unknown token", &dovecot);

    // Passwords still work.
    Imap::connect(port).await.logout().await;

    // Expired.
    server.expire_access_tokens();
    refused(xoauth2(port, dovecot::USER, &token).await, "XOAUTH2 expired", &dovecot);
    refused(oauthbearer(port, dovecot::USER, &token).await, "OAUTHBEARER expired", &dovecot);

    // A fresh token works again; revoking the user stops it.
    let fresh = server.issue_access_token(APP, dovecot::USER, SCOPE);
    assert!(xoauth2(port, dovecot::USER, &fresh).await.is_ok());
    server.revoke_user(dovecot::USER);
    refused(xoauth2(port, dovecot::USER, &fresh).await, "XOAUTH2 revoked", &dovecot);
    refused(oauthbearer(port, dovecot::USER, &fresh).await, "OAUTHBEARER revoked", &dovecot);

    // A user without a passwd entry gets a mailbox too.
    let newcomer = server.issue_access_token(APP, "newcomer@example.test", SCOPE);
    let ok = xoauth2(port, "newcomer@example.test", &newcomer).await;
    assert!(ok.is_ok(), "{ok:?}\n{}", dovecot.log());
}

#[tokio::test]
async fn an_app_only_token_opens_any_mailbox_until_it_expires() {
    mailgate_testkit::init();
    let server = OAuthServer::start().await;
    server.add_client(APP, "secret");
    let dovecot = Dovecot::start_with_oauth(&server.introspect_url());
    let app_token = server.issue_app_token(APP);
    for user in [dovecot::USER, "other@example.test"] {
        let ok = xoauth2(dovecot.port, user, &app_token).await;
        assert!(ok.is_ok(), "{user}: {ok:?}\n{}", dovecot.log());
        let ok = oauthbearer(dovecot.port, user, &app_token).await;
        assert!(ok.is_ok(), "{user}: {ok:?}\n{}", dovecot.log());
    }
    server.expire_access_tokens();
    refused(xoauth2(dovecot.port, dovecot::USER, &app_token).await, "expired app token", &dovecot);
}

#[tokio::test]
async fn test_app_with_imap_oauth() {
    let server = OAuthServer::start().await;
    server.add_client(APP, "secret");
    let app = TestApp::builder().with_imap_oauth(&server).spawn().await;
    // The password-configured mailbox and the test's own sessions work as before.
    app.imap_append(&mailgate_testkit::mail("m1@x", "a@corp.test", "help@corp.test", "Hi", "", "Body")).await;
    assert_eq!(app.imap_counts("INBOX").await, (1, 1));
    let token = server.issue_access_token(APP, dovecot::USER, SCOPE);
    assert!(xoauth2(app.imap_port(), dovecot::USER, &token).await.is_ok());
}
