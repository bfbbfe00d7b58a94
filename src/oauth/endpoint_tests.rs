use secrecy::{ExposeSecret, SecretString};

use super::*;
use crate::oauth::test_server::TestServer;

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

#[test]
fn params_encode_as_a_form_and_as_json_and_hide_secrets_in_debug() {
    let p = Params::new()
        .add("grant_type", "client_credentials")
        .add("scope", "https://outlook.office365.com/.default offline_access")
        .secret("client_secret", &secret("s3cr&t=+ü"));
    assert_eq!(
        p.form_body(),
        "grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default+offline_access&client_secret=s3cr%26t%3D%2B%C3%BC"
    );
    let json: serde_json::Value = serde_json::from_str(&p.json_body()).expect("json");
    assert_eq!(json["client_secret"], "s3cr&t=+ü");
    assert_eq!(p.keys(), ["grant_type", "scope", "client_secret"]);
    assert_eq!(p.plain("client_secret"), None, "secrets are not plain values");
    let dbg = format!("{p:?}");
    assert!(!dbg.contains("s3cr") && dbg.contains("[redacted]"), "{dbg}");
}

#[test]
fn a_token_answer_is_parsed_with_expires_in_as_number_or_string() {
    let j = serde_json::json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": "3599",
        "refresh_token": "rt-1", "refresh_token_expires_in": 7776000, "scope": "a b"});
    let a = token_answer(&j).expect("answer");
    assert_eq!(
        (a.access_token.expose_secret(), a.expires_in, a.refresh_expires_in),
        ("at-1", Some(3599), Some(7_776_000))
    );
    assert_eq!(a.refresh_token.as_ref().map(|t| t.expose_secret()), Some("rt-1"));
    let dbg = format!("{a:?}");
    assert!(!dbg.contains("at-1") && !dbg.contains("rt-1"), "{dbg}");
    assert!(matches!(token_answer(&serde_json::json!({"expires_in": 5})), Err(EndpointError::Decode(_))));
}

#[test]
fn answers_are_classified_by_status_and_oauth_error() {
    let err = |status, body: &str| parse_answer(status, body.as_bytes(), &["rt-secret-1"]).expect_err("error");
    let oauth = err(400, r#"{"error":"invalid_grant","error_description":"AADSTS70000: token rt-secret-1 revoked\n"}"#);
    assert_eq!(oauth.code(), Some("invalid_grant"));
    let EndpointError::OAuth { description: Some(d), .. } = &oauth else { panic!("{oauth:?}") };
    assert!(!d.contains("rt-secret-1") && !d.contains('\n'), "cleaned: {d}");
    assert!(matches!(oauth.into_oauth("g"), OAuthError::Revoked { .. }));
    assert!(matches!(err(401, r#"{"error":"invalid_client"}"#).into_oauth("g"), OAuthError::Revoked { .. }));
    assert!(
        matches!(err(403, r#"{"error":"invalid_grant"}"#).into_oauth("g"), OAuthError::Revoked { .. }),
        "Atlassian 403"
    );
    assert!(matches!(err(401, "").into_oauth("g"), OAuthError::Revoked { .. }));
    for (status, body) in [
        (503, ""),
        (429, "slow"),
        (500, r#"{"error":"server_error"}"#),
        (400, r#"{"error":"temporarily_unavailable"}"#),
    ] {
        let e = err(status, body).into_oauth("g");
        assert!(e.is_transient(), "{status} {body}: {e:?}");
    }
    for (status, body) in
        [(400, r#"{"error":"invalid_scope"}"#), (400, r#"{"error":"unauthorized_client"}"#), (404, "nope")]
    {
        assert!(matches!(err(status, body).into_oauth("g"), OAuthError::Config { .. }), "{status} {body}");
    }
    assert!(matches!(err(200, "<html>"), EndpointError::Decode(_)));
    assert_eq!(err(200, r#"{"error":"invalid_grant"}"#).code(), Some("invalid_grant"), "an error in a 200");
    assert!(parse_answer(200, br#"{"access_token":"x"}"#, &[]).is_ok());
}

#[tokio::test]
async fn the_endpoint_posts_form_or_json_and_an_unreachable_one_is_transient() {
    let server = TestServer::start().await;
    server.answer(200, serde_json::json!({"access_token": "at", "expires_in": 60}));
    server.answer(200, serde_json::json!({"access_token": "at2"}));
    let http = http_client(5).expect("client");
    let params = Params::new().add("grant_type", "refresh_token").secret("refresh_token", &secret("rt"));
    let form = TokenEndpoint::new(http.clone(), server.token_url(), BodyStyle::Form);
    assert_eq!(form.token(&params).await.expect("token").expires_in, Some(60));
    let json = TokenEndpoint::new(http.clone(), server.token_url(), BodyStyle::Json);
    json.token(&params).await.expect("token");
    let reqs = server.requests();
    assert_eq!(reqs[0].content_type, "application/x-www-form-urlencoded");
    assert_eq!(reqs[0].form().get("refresh_token").map(String::as_str), Some("rt"));
    assert_eq!(reqs[1].content_type, "application/json");
    assert_eq!(reqs[1].json()["grant_type"], "refresh_token");

    let down = TokenEndpoint::new(http, "http://127.0.0.1:1/token", BodyStyle::Form);
    let e = down.token(&params).await.expect_err("refused").into_oauth("smtp");
    assert!(e.is_transient(), "{e}");
    assert!(!e.to_string().contains("127.0.0.1:1"), "{e}");
}
