//! The workaround user: sender lookup and creation, JSM customers, the
//! identity cache, holding mail on a rejected token, expiry warnings.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use mailgate::clock::{Clock, ManualClock};
use mailgate::domain::EmailAddress;
use mailgate_testkit::fake_jira::FakeAuth;
use mailgate_testkit::{RowOutcome, TestApp, TestAppBuilder, TestDb, mail};
use secrecy::SecretString;

const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT-workaround-7d1c0ffee";

/// Fake Jira (HELP and SD) that accepts the app credentials and the
/// workaround token; a master key; an identity cache of an hour; `rules`
/// TOML for routing.
fn identity_app(db: TestDb, rules: &str) -> TestAppBuilder {
    TestApp::builder()
        .db(db)
        .jira_projects(&["HELP", "SD"])
        .jira_accepts(ADMIN_USER, ADMIN_TOKEN)
        .master_key(&"ab".repeat(32))
        .set("jira.max_retries", 0)
        .set("identity.cache_ttl_secs", 3600)
        .unset("routing")
        .toml(rules)
}

/// Start it, with two groups and service desk 7 (project SD) in Jira.
async fn spawn(builder: TestAppBuilder) -> TestApp {
    let app = builder.spawn().await;
    app.jira.add_group("jira-users");
    app.jira.add_group("customers-team");
    app.jira.add_service_desk("7", "SD");
    app
}

/// The create-user set-up on a manual clock at 2026-01-01 09:00 UTC.
async fn on_new_year() -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().expect("time")));
    (spawn(identity_app(TestDb::sqlite(), CREATE_USER_RULES).clock(clock.clone())).await, clock)
}

async fn set_token(app: &TestApp, token: &str) {
    app.tokens()
        .await
        .set(&EmailAddress::parse(ADMIN_USER).expect("email"), &SecretString::from(token.to_string()), None)
        .await
        .expect("token set");
}

const CREATE_USER_RULES: &str = r#"
[routing]
default = { project = "HELP", sender_policy = "create-user", groups = ["jira-users", "customers-team"] }
"#;

#[tokio::test]
async fn an_unknown_sender_becomes_exactly_one_user_in_each_group() {
    for db in TestDb::all().await {
        let app = spawn(identity_app(db, CREATE_USER_RULES)).await;
        set_token(&app, ADMIN_TOKEN).await;
        app.receive(mail("u1@c.test", "Nora New <nora@newco.test>", "help@corp.test", "First", "", "one"));
        app.receive(mail("u2@c.test", "Nora New <nora@newco.test>", "help@corp.test", "Second", "", "two"));

        app.pass().await;

        let users = app.jira.users();
        let nora: Vec<_> = users.iter().filter(|u| u.email == "nora@newco.test").collect();
        assert_eq!(nora.len(), 1, "exactly one user ({})", app.label());
        let mut groups = nora[0].groups.clone();
        groups.sort();
        assert_eq!(groups, vec!["customers-team".to_string(), "jira-users".to_string()]);
        assert_eq!(app.jira.calls().iter().filter(|c| *c == "POST /rest/api/3/user").count(), 1);
        assert_eq!(app.jira.count_calls("POST /rest/api/3/group/user"), 2);
        let issues = app.jira.issues();
        assert_eq!(issues.len(), 2);
        for i in &issues {
            assert_eq!(i.reporter.as_ref().and_then(|r| r["accountId"].as_str()), Some(nora[0].account_id.as_str()));
        }
    }
}

#[tokio::test]
async fn a_known_sender_is_looked_up_once_within_the_ttl() {
    let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).single().expect("time")));
    let app = spawn(identity_app(TestDb::sqlite(), CREATE_USER_RULES).clock(clock.clone())).await;
    let account = app.jira.add_user("olga@known.test", "Olga Known");
    set_token(&app, ADMIN_TOKEN).await;
    app.receive(mail("k1@c.test", "olga@known.test", "help@corp.test", "One", "", "x"));
    app.receive(mail("k2@c.test", "olga@known.test", "help@corp.test", "Two", "", "x"));

    app.pass().await;

    assert_eq!(app.jira.count_calls("GET /rest/api/3/user/search"), 1, "the second mail used the cache");
    assert_eq!(
        app.jira.calls().iter().filter(|c| *c == "POST /rest/api/3/user").count(),
        0,
        "known users are not created"
    );
    for i in app.jira.issues() {
        assert_eq!(i.reporter.as_ref().and_then(|r| r["accountId"].as_str()), Some(account.as_str()));
    }
    // After the TTL the sender is looked up again.
    clock.advance(Duration::seconds(3601));
    app.receive(mail("k3@c.test", "olga@known.test", "help@corp.test", "Three", "", "x"));
    app.pass().await;
    assert_eq!(app.jira.count_calls("GET /rest/api/3/user/search"), 2);
}

#[tokio::test]
async fn a_jsm_rule_files_the_request_for_a_new_customer() {
    for db in TestDb::all().await {
        let rules = r#"
[[routing.rules]]
recipient = "support@corp.test"
project = "SD"
service_desk = "7"
request_type = "25"
sender_policy = "create-customer"
[routing]
default = { project = "HELP" }
"#;
        let app = spawn(identity_app(db, rules)).await;
        set_token(&app, ADMIN_TOKEN).await;
        app.receive(mail(
            "j1@c.test",
            "Pia Portal <pia@outside.test>",
            "support@corp.test",
            "Need access",
            "",
            "Please.",
        ));

        app.pass().await;

        let customers: Vec<_> = app.jira.users().into_iter().filter(|u| u.email == "pia@outside.test").collect();
        assert_eq!(customers.len(), 1, "{}", app.label());
        assert_eq!(customers[0].account_type, "customer");
        assert_eq!(app.jira.count_calls("POST /rest/servicedeskapi/customer"), 1);
        let desk = app.jira.service_desks().into_iter().find(|d| d.id == "7").expect("desk");
        assert_eq!(desk.customers, vec![customers[0].account_id.clone()]);
        let issues = app.jira.issues();
        assert_eq!(issues.len(), 1);
        let request = issues[0].request.clone().expect("filed as a customer request");
        assert_eq!(request.on_behalf_of.as_deref(), Some(customers[0].account_id.as_str()));
        assert_eq!(request.request_type, "25");
        assert_eq!(app.jira.count_calls("POST /rest/api/3/issue"), 0, "not a plain issue");

        // A reply becomes a public request comment.
        app.receive(mail(
            "j2@c.test",
            "pia@outside.test",
            "support@corp.test",
            "Re: [SD-1] Need access",
            "",
            "Thanks!",
        ));
        app.pass().await;
        let issue = app.jira.issue("SD-1").expect("issue");
        assert_eq!(issue.comments.len(), 1);
        assert_eq!(issue.comments[0].public, Some(true));
    }
}

#[tokio::test]
async fn a_rejected_token_holds_mail_until_a_working_token_is_set() {
    // Warnings go out by mail: an SMTP section (nothing is sent here).
    let builder = identity_app(TestDb::sqlite(), CREATE_USER_RULES)
        .smtp_nowhere()
        .set_toml("admin.notify", r#"["ops@corp.test"]"#);
    let app = spawn(builder).await;
    set_token(&app, "ATATT-revoked-token").await;
    app.receive(mail("h1@c.test", "quinn@newco.test", "help@corp.test", "Held", "", "x"));

    let first = app.pass().await;

    assert!(
        matches!(first.outcomes.as_slice(), [RowOutcome::Retry(r)] if r.starts_with("held:")),
        "{:?}",
        first.outcomes
    );
    assert!(app.jira.issues().is_empty());
    assert!(app.mailbox().mails().iter().all(|m| !m.seen), "held mail is not acknowledged");
    let status = app.tokens().await.status().await.expect("status");
    assert_eq!(status.state, mailgate::identity::TokenState::Failed);
    let warnings = app.store().await.outgoing_of_kind("admin-warning").await.expect("outbox");
    assert_eq!(warnings.len(), 1, "admins are warned once, at once");
    // Still held on the next pass, without a new warning.
    app.pass().await;
    assert!(app.jira.issues().is_empty());
    assert_eq!(app.store().await.outgoing_of_kind("admin-warning").await.expect("outbox").len(), 1);

    set_token(&app, ADMIN_TOKEN).await;
    app.pass().await;

    assert_eq!(app.jira.issues().len(), 1, "processed after token set");
    assert!(app.mailbox().mails().iter().all(|m| m.seen));
}

#[tokio::test]
async fn expiry_warnings_go_out_once_at_each_threshold() {
    let (app, clock) = on_new_year().await;
    let (start, tokens, store) = (clock.now(), app.tokens().await, app.store().await);
    let expires = (start + Duration::days(40)).date_naive();
    tokens
        .set(&EmailAddress::parse(ADMIN_USER).expect("email"), &SecretString::from(ADMIN_TOKEN), Some(expires))
        .await
        .expect("set");
    let admins =
        vec![EmailAddress::parse("ops@corp.test").expect("a"), EmailAddress::parse("cto@corp.test").expect("b")];
    let days = [30, 14, 7, 3, 1];
    let expiry = expires.and_hms_opt(0, 0, 0).expect("midnight").and_utc();

    assert!(
        mailgate::identity::check_expiry(&store, clock.as_ref(), &days, &admins).await.expect("check").is_empty(),
        "40 days left: quiet"
    );
    for d in days {
        clock.set(expiry - Duration::days(d) + Duration::hours(1));
        let newly = mailgate::identity::check_expiry(&store, clock.as_ref(), &days, &admins).await.expect("check");
        assert_eq!(newly, vec![d], "threshold {d}");
        assert!(
            mailgate::identity::check_expiry(&store, clock.as_ref(), &days, &admins).await.expect("check").is_empty(),
            "once at {d}"
        );
        let status = tokens.status().await.expect("status");
        assert_eq!(status.state, mailgate::identity::TokenState::Expiring);
        assert_eq!(status.days_left, Some(d));
    }
    clock.set(expiry + Duration::hours(1));
    assert_eq!(mailgate::identity::check_expiry(&store, clock.as_ref(), &days, &admins).await.expect("check"), vec![0]);
    assert_eq!(tokens.status().await.expect("status").state, mailgate::identity::TokenState::Expired);

    let mails = app.store().await.outgoing_of_kind("admin-warning").await.expect("outbox");
    assert_eq!(mails.len(), 2 * 6, "five thresholds and expiry, for each of two admins");
    for d in days {
        let subject = format!("expires in {d} day(s)");
        assert_eq!(mails.iter().filter(|m| m.subject.contains(&subject)).count(), 2, "{subject}");
    }
    assert_eq!(mails.iter().filter(|m| m.subject.contains("has expired")).count(), 2);
}

#[tokio::test]
async fn a_late_start_sends_only_the_most_urgent_warning() {
    let (app, clock) = on_new_year().await;
    let (start, tokens, store) = (clock.now(), app.tokens().await, app.store().await);
    tokens
        .set(
            &EmailAddress::parse(ADMIN_USER).expect("email"),
            &SecretString::from(ADMIN_TOKEN),
            Some((start + Duration::days(5)).date_naive()),
        )
        .await
        .expect("set");
    let admins = vec![EmailAddress::parse("ops@corp.test").expect("a")];
    let newly =
        mailgate::identity::check_expiry(&store, clock.as_ref(), &[30, 14, 7, 3, 1], &admins).await.expect("check");
    assert_eq!(newly, vec![30, 14, 7]);
    let mails = app.store().await.outgoing_of_kind("admin-warning").await.expect("outbox");
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("expires in 5 day(s)"), "{}", mails[0].subject);
}

#[tokio::test]
async fn cc_addresses_with_accounts_become_watchers() {
    let rules = r#"
[routing]
default = { project = "HELP", sender_policy = "default-reporter", cc_watchers = true }
"#;
    let app = spawn(identity_app(TestDb::sqlite(), rules)).await;
    let boss = app.jira.add_user("boss@corp.test", "The Boss");
    set_token(&app, ADMIN_TOKEN).await;
    app.receive(mail(
        "w1@c.test",
        "rita@outside.test",
        "help@corp.test",
        "Watch this",
        "Cc: The Boss <boss@corp.test>, nobody@nowhere.test, help@corp.test\r\n",
        "x",
    ));

    app.pass().await;

    let issues = app.jira.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].watchers, vec![boss], "only Cc'd people with accounts, never our own address");
    assert!(issues[0].reporter.is_none(), "unknown sender: default reporter (the API user)");
}

#[tokio::test]
async fn data_center_resolution_uses_usernames_and_a_bearer_token() {
    let app = TestApp::builder()
        .jira_projects(&["HELP"])
        .data_center_bearer("app-pat")
        .jira_accepts_bearer("admin-pat")
        .mailgate_defaults()
        .unset("inbound")
        .master_key(&"ef".repeat(32))
        .set("identity.token_auth", "bearer")
        .set_toml(
            "routing.default",
            r#"{ project = "HELP", sender_policy = "create-user", groups = ["jira-software-users"] }"#,
        )
        .spawn()
        .await;
    app.jira.add_group("jira-software-users");
    set_token(&app, "admin-pat").await;
    app.receive(mail("dc1@c.test", "Sam Server <sam@dc.test>", "help@corp.test", "On prem", "", "x"));

    app.pass().await;

    assert_eq!(app.jira.count_calls("GET /rest/api/2/user/search"), 1);
    let admin = FakeAuth::Bearer("admin-pat".into());
    let app_pat = FakeAuth::Bearer("app-pat".into());
    assert_eq!(app.jira.count_calls_by("GET /rest/api/2/user/search", &admin), 1, "lookups use the workaround token");
    assert_eq!(app.jira.count_calls_by("POST /rest/api/2/user", &admin), 1, "user creation too");
    assert_eq!(app.jira.count_calls_by("POST /rest/api/2/group/user", &admin), 1, "and group membership");
    assert_eq!(app.jira.count_calls_by("POST /rest/api/2/issue", &app_pat), 1, "issues use the app credentials");
    assert_eq!(app.jira.count_calls_by("POST /rest/api/2/issue", &admin), 0);
    assert_eq!(app.jira.calls().iter().filter(|c| *c == "POST /rest/api/2/user").count(), 1);
    let sam = app.jira.users().into_iter().find(|u| u.email == "sam@dc.test").expect("created");
    assert_eq!(sam.groups, vec!["jira-software-users".to_string()]);
    let issue = app.jira.issue("HELP-1").expect("issue");
    assert_eq!(issue.reporter.as_ref().and_then(|r| r["name"].as_str()), Some(sam.name.as_str()));
}

#[tokio::test]
async fn a_sender_whose_email_is_hidden_gets_one_account_never_a_second() {
    use mailgate_testkit::fake_jira::{HiddenEmailSearch, Strictness};
    for mode in [HiddenEmailSearch::MatchesButOmits, HiddenEmailSearch::FindsNothing] {
        let app = spawn(identity_app(TestDb::sqlite(), CREATE_USER_RULES)).await;
        app.jira.set_strictness(Strictness { hidden_email_search: mode, ..Strictness::default() });
        set_token(&app, ADMIN_TOKEN).await;
        let hidden = app.jira.add_user("hugo@private.test", "Hugo Hidden");
        app.jira.hide_email(&hidden);
        let portal = app.jira.add_customer("paula@portal.test", "Paula Portal");
        app.jira.hide_email(&portal);
        app.receive(mail("h1@c.test", "hugo@private.test", "help@corp.test", "Hidden", "", "x"));
        app.receive(mail("h2@c.test", "paula@portal.test", "help@corp.test", "Portal only", "", "x"));

        app.drain().await;

        assert_eq!(app.seen_in("Processed"), 2, "{mode:?}: no failed mail");
        let users = app.jira.users();
        assert_eq!(users.iter().filter(|u| u.email == "hugo@private.test").count(), 1, "{mode:?}: no second account");
        assert_eq!(users.iter().filter(|u| u.email == "paula@portal.test").count(), 1, "{mode:?}");
        let by_summary = |s: &str| app.jira.issues().into_iter().find(|i| i.summary == s).expect("issue");
        let reporter = by_summary("Hidden").reporter.and_then(|r| r["accountId"].as_str().map(String::from));
        assert_eq!(reporter.as_deref(), Some(hidden.as_str()), "{mode:?}: the hidden account reports");
        // The portal customer has no Jira access: Jira's 400, then the default reporter.
        let reporter = by_summary("Portal only").reporter.and_then(|r| r["accountId"].as_str().map(String::from));
        assert_ne!(reporter.as_deref(), Some(portal.as_str()), "{mode:?}");
        // Both modes: the portal customer is asked for (400); FindsNothing also Hugo (201, his account).
        let creates = app.jira.count_calls("POST /rest/api/3/user");
        assert_eq!(creates, 1 + usize::from(mode == HiddenEmailSearch::FindsNothing), "{mode:?}");
    }
}

#[tokio::test]
async fn a_cached_customer_is_still_added_to_the_rules_service_desk() {
    let rules = r#"
[[routing.rules]]
recipient = "support@corp.test"
project = "SD"
service_desk = "7"
request_type = "25"
sender_policy = "create-customer"
[[routing.rules]]
recipient = "billing@corp.test"
project = "SD"
service_desk = "8"
request_type = "25"
sender_policy = "create-customer"
[routing]
default = { project = "HELP" }
"#;
    let app = spawn(identity_app(TestDb::sqlite(), rules)).await;
    app.jira.add_service_desk("8", "SD");
    set_token(&app, ADMIN_TOKEN).await;
    app.receive(mail("d1@c.test", "pia@outside.test", "support@corp.test", "Access", "", "x"));
    app.pass().await;
    app.receive(mail("d2@c.test", "pia@outside.test", "billing@corp.test", "Invoice", "", "x"));
    app.pass().await;

    let pia = app.jira.users().into_iter().find(|u| u.email == "pia@outside.test").expect("customer");
    for desk in app.jira.service_desks() {
        assert_eq!(desk.customers, vec![pia.account_id.clone()], "desk {}", desk.id);
    }
    assert_eq!(app.jira.count_calls("POST /rest/servicedeskapi/customer"), 1, "created once, then cached");
}
