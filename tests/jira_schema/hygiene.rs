//! The client against a misbehaving or rate-limiting server: paging loops
//! that stop, `Retry-After` in both of RFC 9110's forms.

use super::*;
use mailgate_testkit::fake_jira::Fault;

#[tokio::test]
async fn paging_loops_stop_when_the_server_answers_pages_that_do_not_advance() {
    for flavor in [JiraFlavor::Cloud, JiraFlavor::Datacenter] {
        let (fake, _recorder, jira, _alice) = recorded(flavor).await;
        fill_group(&fake, |_, email| email);
        for n in 0..120 {
            fake.seed_issue("HELP", &format!("Seeded issue {n}"));
        }
        fake.pages_do_not_advance(true);
        let api = if flavor == JiraFlavor::Cloud { "3" } else { "2" };

        let emails = jira.group_member_emails(GROUP).await.expect("group members");
        assert_eq!(emails.len(), 50, "one page, then the repeat is seen");
        assert_eq!(fake.count_calls(&format!("GET /rest/api/{api}/group/member")), 2);

        let issues = jira.search_issues(&catch_up_jql(-1), CATCH_UP_FIELDS, 1000).await.expect("search");
        assert_eq!(issues.len(), 100, "{flavor:?}");
        let search = if flavor == JiraFlavor::Cloud { "GET /rest/api/3/search/jql" } else { "GET /rest/api/2/search" };
        assert_eq!(fake.count_calls(search), 2, "{flavor:?}: stopped after the page that did not advance");
    }
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured_like_seconds() {
    mailgate::telemetry::install_crypto_provider();
    let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
        .await
        .expect("start the fake Jira");
    // Straight at the fake: the recorder does not pass response headers on.
    let settings = JiraSettings {
        flavor: JiraFlavor::Cloud,
        base_url: fake.base_url(),
        auth: JiraAuth::Basic { user: USER.into(), secret: SecretString::from(SECRET) },
        timeout_secs: 10,
        max_retries: 1,
        default_reporter: None,
        max_requests_per_sec: 1000.0,
    };
    let jira = HttpJira::new(&settings).expect("client");
    fake.fail_next(1, Fault::RateLimitDate { retry_after_secs: 2 }, Some("GET /rest/api/3/myself"));
    let started = std::time::Instant::now();
    JiraApi::myself(&jira).await.expect("myself after the 429");
    let waited = started.elapsed();
    // The date has whole seconds: the wait is more than 1 s and at most 2 s.
    assert!(waited >= std::time::Duration::from_millis(900), "waited only {waited:?}");
    assert!(waited < std::time::Duration::from_secs(4), "waited {waited:?}");
    assert_eq!(fake.count_calls("GET /rest/api/3/myself"), 2);
}

#[tokio::test]
async fn a_429_carries_cloud_rate_limit_headers_in_either_retry_after_form() {
    // Atlassian, "Rate limiting" (Jira Cloud):
    // https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
    let fake = FakeJira::start(&["HELP"], vec![FakeAuth::Basic { user: USER.into(), secret: SECRET.into() }])
        .await
        .expect("start the fake Jira");
    fake.fail_next(1, Fault::RateLimit { retry_after_secs: 5 }, None);
    fake.fail_next(1, Fault::RateLimitDate { retry_after_secs: 5 }, None);
    let http = reqwest::Client::new();
    let url = format!("{}/rest/api/3/myself", fake.base_url());
    let mut forms = Vec::new();
    for _ in 0..2 {
        let resp = http.get(&url).basic_auth(USER, Some(SECRET)).send().await.expect("answer");
        assert_eq!(resp.status().as_u16(), 429);
        let h = resp.headers();
        for name in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit-reason", "date"] {
            assert!(h.contains_key(name), "no {name} header");
        }
        forms.push(h.get("retry-after").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string());
    }
    assert_eq!(forms[0], "5");
    assert!(forms[1].ends_with(" GMT"), "an IMF-fixdate: {}", forms[1]);
}
