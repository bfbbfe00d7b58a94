//! The fake Jira's OAuth 2.0 (3LO): Atlassian's authorization server
//! (`/authorize`, `/oauth/token`), the gateway's accessible resources and
//! REST routes under `/ex/jira/{cloudId}`, rotation, expiry, revocation,
//! scopes; basic auth on the site unchanged.

use mailgate_testkit::fake_jira::{FakeAuth, FakeJira, Fault};
use mailgate_testkit::{JIRA_TOKEN, JIRA_USER};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

const CLIENT: &str = "3lo-client-id";
const SECRET: &str = "3lo-client-secret";
const SCOPES: &str = "read:jira-work write:jira-work read:jira-user offline_access";

fn http() -> reqwest::Client {
    mailgate_testkit::init();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn fake() -> (FakeJira, String) {
    let jira = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: JIRA_USER.into(), secret: JIRA_TOKEN.into() }])
        .await
        .expect("fake jira");
    let cloud = jira.enable_3lo(CLIENT, SECRET);
    (jira, cloud)
}

async fn token_call(jira: &FakeJira, body: Value) -> (StatusCode, Value) {
    let resp = http().post(format!("{}/oauth/token", jira.base_url())).json(&body).send().await.expect("token");
    let status = resp.status();
    (status, resp.json().await.expect("json"))
}

async fn refresh(jira: &FakeJira, token: &str) -> (StatusCode, Value) {
    token_call(
        jira,
        json!({"grant_type": "refresh_token", "client_id": CLIENT, "client_secret": SECRET, "refresh_token": token}),
    )
    .await
}

async fn gateway_get(jira: &FakeJira, cloud: &str, path: &str, token: &str) -> (StatusCode, Value) {
    let resp = http()
        .get(format!("{}/ex/jira/{cloud}{path}", jira.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("gateway call");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn authorization_code_then_the_gateway() {
    let (jira, cloud) = fake().await;
    let redirect = "http://127.0.0.1:9/callback";
    let authorize = |extra: &[(&str, &str)]| {
        let mut params = vec![
            ("audience", "api.atlassian.com"),
            ("client_id", CLIENT),
            ("scope", SCOPES),
            ("redirect_uri", redirect),
            ("state", "s t/ate"),
            ("response_type", "code"),
            ("prompt", "consent"),
        ];
        params.extend_from_slice(extra);
        let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("{}/authorize?{q}", jira.base_url())
    };
    let resp = http().get(authorize(&[])).send().await.expect("authorize");
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()[LOCATION].to_str().expect("location").to_string();
    assert!(location.starts_with(redirect));
    let q = query_of(&location);
    assert_eq!(param(&q, "state"), Some("s t/ate"));
    let code = param(&q, "code").expect("code").to_string();

    let exchange = json!({"grant_type": "authorization_code", "client_id": CLIENT, "client_secret": SECRET,
                          "code": code, "redirect_uri": redirect});
    let (status, body) = token_call(&jira, exchange.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], SCOPES);
    assert!(body["refresh_token"].is_string(), "offline_access gives a refresh token");
    let access = body["access_token"].as_str().expect("access_token").to_string();
    let (status, body) = token_call(&jira, exchange).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("invalid_grant")), "code reuse");

    // accessible-resources names the site and its cloud id.
    let resp = http()
        .get(format!("{}/oauth/token/accessible-resources", jira.base_url()))
        .bearer_auth(&access)
        .send()
        .await
        .expect("resources");
    assert_eq!(resp.status(), StatusCode::OK);
    let sites: Value = resp.json().await.expect("json");
    assert_eq!(sites[0]["id"], cloud.as_str());
    assert_eq!(sites[0]["url"], jira.base_url());
    for field in ["name", "avatarUrl"] {
        assert!(sites[0][field].is_string(), "{field}");
    }
    assert!(sites[0]["scopes"].as_array().is_some_and(|s| s.contains(&json!("write:jira-work"))));
    let resp =
        http().get(format!("{}/oauth/token/accessible-resources", jira.base_url())).send().await.expect("resources");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The REST API through the gateway; `self` links point through it.
    let (status, me) = gateway_get(&jira, &cloud, "/rest/api/3/myself", &access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let resp = http()
        .post(format!("{}/ex/jira/{cloud}/rest/api/3/issue", jira.base_url()))
        .bearer_auth(&access)
        .json(&json!({"fields": {"project": {"key": "HELP"}, "summary": "via 3LO", "issuetype": {"name": "Task"}}}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.expect("json");
    let gateway_base = format!("{}/ex/jira/{cloud}/rest/api/3/issue/", jira.base_url());
    assert!(created["self"].as_str().is_some_and(|s| s.starts_with(&gateway_base)), "{created}");
    assert_eq!(jira.issues().len(), 1);
    assert!(jira.count_calls_by("POST /ex/jira/", &FakeAuth::Bearer(access.clone())) == 1);

    // Another cloud id, a 3LO token on the site itself, basic auth on the gateway.
    let (status, body) =
        gateway_get(&jira, "00000000-0000-0000-0000-000000000000", "/rest/api/3/myself", &access).await;
    assert_eq!((status, body["code"].as_u64()), (StatusCode::NOT_FOUND, Some(404)));
    let resp = http().get(format!("{}/rest/api/3/myself", jira.base_url())).bearer_auth(&access).send().await;
    assert_eq!(resp.expect("site").status(), StatusCode::UNAUTHORIZED);
    let resp = http()
        .get(format!("{}/ex/jira/{cloud}/rest/api/3/myself", jira.base_url()))
        .basic_auth(JIRA_USER, Some(JIRA_TOKEN))
        .send()
        .await
        .expect("gateway");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Basic auth on the site works as before.
    let resp = http()
        .get(format!("{}/rest/api/3/myself", jira.base_url()))
        .basic_auth(JIRA_USER, Some(JIRA_TOKEN))
        .send()
        .await
        .expect("site");
    assert_eq!(resp.status(), StatusCode::OK);

    // Expired: the gateway's own 401 body.
    jira.expire_3lo_access_tokens();
    let (status, body) = gateway_get(&jira, &cloud, "/rest/api/3/myself", &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"code": 401, "message": "Unauthorized"}));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_revocation_is_invalid_grant() {
    let (jira, cloud) = fake().await;
    let first = jira.issue_3lo_refresh_token("read:jira-work write:jira-work read:jira-user");
    let (status, body) = refresh(&jira, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = body["refresh_token"].as_str().expect("rotated refresh token").to_string();
    assert_ne!(second, first);
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(gateway_get(&jira, &cloud, "/rest/api/3/myself", &access).await.0, StatusCode::OK);

    let (status, body) = refresh(&jira, &first).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}));

    let (status, body) = token_call(
        &jira,
        json!({"grant_type": "refresh_token", "client_id": CLIENT, "client_secret": "wrong", "refresh_token": second}),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("access_denied")));

    // A form body is taken too.
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("refresh_token", &second),
        ])
        .finish();
    let resp = http()
        .post(format!("{}/oauth/token", jira.base_url()))
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("token");
    assert_eq!(resp.status(), StatusCode::OK);
    let third: Value = resp.json().await.expect("json");
    let third_refresh = third["refresh_token"].as_str().expect("refresh").to_string();
    let third_access = third["access_token"].as_str().expect("access").to_string();
    assert_eq!(jira.count_3lo_refreshes(), 4);

    jira.revoke_3lo();
    assert_eq!(gateway_get(&jira, &cloud, "/rest/api/3/myself", &third_access).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = refresh(&jira, &third_refresh).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("invalid_grant")));
    assert_eq!(jira.count_3lo_refreshes(), 5);
}

#[tokio::test]
async fn the_gateway_holds_tokens_to_the_operations_scopes() {
    let (jira, cloud) = fake().await;
    let read_only = jira.issue_3lo_access_token("read:jira-work read:jira-user");
    jira.seed_issue("HELP", "seeded");
    assert_eq!(gateway_get(&jira, &cloud, "/rest/api/3/issue/HELP-1", &read_only).await.0, StatusCode::OK);
    let resp = http()
        .post(format!("{}/ex/jira/{cloud}/rest/api/3/issue/HELP-1/comment", jira.base_url()))
        .bearer_auth(&read_only)
        .json(&json!({"body": {"type": "doc", "version": 1, "content": []}}))
        .send()
        .await
        .expect("comment");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body, json!({"code": 401, "message": "Unauthorized; scope does not match"}));

    // The granular set works as well as the classic one.
    let granular = jira.issue_3lo_access_token("read:issue.property:jira");
    assert_eq!(
        gateway_get(&jira, &cloud, "/rest/api/3/issue/HELP-1/properties/mailgate", &granular).await.0,
        StatusCode::NOT_FOUND,
        "past the gateway (the property does not exist)"
    );
    assert_eq!(gateway_get(&jira, &cloud, "/rest/api/3/issue/HELP-1", &granular).await.0, StatusCode::UNAUTHORIZED);

    // Creating users is basic-auth only: no scope opens it.
    let all = jira.issue_3lo_access_token(SCOPES);
    let resp = http()
        .post(format!("{}/ex/jira/{cloud}/rest/api/3/user", jira.base_url()))
        .bearer_auth(&all)
        .json(&json!({"emailAddress": "new@example.test", "products": []}))
        .send()
        .await
        .expect("create user");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // JSM through the gateway needs the servicedesk scopes.
    let resp = http()
        .post(format!("{}/ex/jira/{cloud}/rest/servicedeskapi/request", jira.base_url()))
        .bearer_auth(&all)
        .json(&json!({"serviceDeskId": "1", "requestTypeId": "1", "requestFieldValues": {"summary": "x"}}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Attachments' content redirects to the media host, outside the gateway.
    let attach = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt").mime_str("text/plain").expect("mime"),
    );
    let resp = http()
        .post(format!("{}/ex/jira/{cloud}/rest/api/3/issue/HELP-1/attachments", jira.base_url()))
        .bearer_auth(&all)
        .header("X-Atlassian-Token", "no-check")
        .multipart(attach)
        .send()
        .await
        .expect("attach");
    assert_eq!(resp.status(), StatusCode::OK);
    let files: Value = resp.json().await.expect("json");
    let id = files[0]["id"].as_str().expect("id").to_string();
    let resp = http()
        .get(format!("{}/ex/jira/{cloud}/rest/api/3/attachment/content/{id}", jira.base_url()))
        .bearer_auth(&all)
        .send()
        .await
        .expect("content");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()[LOCATION].to_str().expect("location").to_string();
    assert!(location.starts_with(&format!("{}/media/", jira.base_url())), "{location}");
    let bytes = http().get(&location).send().await.expect("media").bytes().await.expect("bytes");
    assert_eq!(&bytes[..], b"hello");
}

#[tokio::test]
async fn pkce_and_authorize_errors() {
    let (jira, _cloud) = fake().await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let redirect = "http://127.0.0.1:9/cb";
    let url = |params: &[(&str, &str)]| {
        let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("{}/authorize?{q}", jira.base_url())
    };
    let base = [
        ("audience", "api.atlassian.com"),
        ("client_id", CLIENT),
        ("scope", "read:jira-work"),
        ("redirect_uri", redirect),
        ("state", "st"),
        ("response_type", "code"),
    ];
    let mut with_pkce = base.to_vec();
    with_pkce.extend([("code_challenge", challenge), ("code_challenge_method", "S256")]);
    let resp = http().get(url(&with_pkce)).send().await.expect("authorize");
    let q = query_of(resp.headers()[LOCATION].to_str().expect("location"));
    let code = param(&q, "code").expect("code").to_string();
    let exchange = |verifier: Option<&str>| {
        let mut body = json!({"grant_type": "authorization_code", "client_id": CLIENT, "client_secret": SECRET,
                              "code": code, "redirect_uri": redirect});
        if let Some(v) = verifier {
            body["code_verifier"] = json!(v);
        }
        body
    };
    let (status, _) = token_call(&jira, exchange(None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the verifier is required once a challenge was sent");
    let (status, body) = token_call(&jira, exchange(Some(verifier))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none(), "no offline_access, no refresh token");

    let no_audience: Vec<_> = base.iter().filter(|(k, _)| *k != "audience").copied().collect();
    let resp = http().get(url(&no_audience)).send().await.expect("authorize");
    let q = query_of(resp.headers()[LOCATION].to_str().expect("location"));
    assert_eq!(param(&q, "error"), Some("invalid_request"));
    let mut wrong_client = base.to_vec();
    wrong_client[1] = ("client_id", "someone-else");
    let resp = http().get(url(&wrong_client)).send().await.expect("authorize");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unfiltered_faults_skip_the_authorization_server() {
    let (jira, cloud) = fake().await;
    let first = jira.issue_3lo_refresh_token("read:jira-user");
    jira.fail_next(1, Fault::Status(503), None);
    let (status, body) = refresh(&jira, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(gateway_get(&jira, &cloud, "/rest/api/3/myself", &access).await.0, StatusCode::SERVICE_UNAVAILABLE);
    // A fault filtered for the token endpoint reaches it.
    jira.fail_next(1, Fault::Status(503), Some("POST /oauth/token"));
    let (status, _) = refresh(&jira, body["refresh_token"].as_str().expect("refresh")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}
