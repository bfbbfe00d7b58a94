//! Fields per routing rule and directives in mail (issue 14): a rule's
//! constants, values read from the mail and the sender's directives reach
//! the new issue in the strict fake Jira; a bad value or one Jira refuses
//! is left out with a note and the issue is still created; `replay
//! --dry-run` shows the exact request. On SQLite and PostgreSQL.

use mailgate_testkit::fake_jira::CustomFieldKind;
use mailgate_testkit::{TestApp, TestDb, mail};
use serde_json::json;

const ADMIN_USER: &str = "admin@example.test";
const ADMIN_TOKEN: &str = "ATATT-fields-0c0ffee";

const RULES: &str = r#"
[[routing.rules]]
recipient = "sales@corp.test"
project = "SALES"
components = ["Billing"]
fields.priority = "Low"
fields.due_date = { from = "subject", regex = "due (\\d{4}-\\d\\d-\\d\\d)" }
fields.customfield_10042 = { from = "sender_domain" }
fields.customfield_10050 = { from = "header", name = "X-Customer-Id" }
fields.customfield_10051 = { value = "Gold" }
directives = ["priority", "due", "assignee", "labels"]
"#;

/// The app with the fields rule, the workaround token, and SALES's
/// components and custom fields defined in the fake; Ana's accountId.
async fn fields_app(db: TestDb) -> (TestApp, String) {
    let app = TestApp::builder()
        .db(db)
        .jira_accepts(ADMIN_USER, ADMIN_TOKEN)
        .master_key(&"cd".repeat(32))
        .toml(RULES)
        .spawn()
        .await;
    app.set_token(ADMIN_USER, ADMIN_TOKEN).await;
    app.jira.add_component("SALES", "Billing");
    app.jira.add_custom_field("customfield_10042", CustomFieldKind::Text);
    app.jira.add_custom_field("customfield_10050", CustomFieldKind::Text);
    app.jira.add_custom_field("customfield_10051", CustomFieldKind::Select(vec!["Gold".into()]));
    let ana = app.jira.add_user("ana@corp.test", "Ana Agent");
    (app, ana)
}

fn issue_by_summary(app: &TestApp, summary: &str) -> mailgate_testkit::fake_jira::FakeIssue {
    let found = app.jira.issues().into_iter().find(|i| i.summary == summary);
    found.unwrap_or_else(|| panic!("no issue {summary:?} ({}): {:?}", app.label(), app.jira.issues()))
}

#[tokio::test]
async fn fields_from_the_rule_the_mail_and_directives_reach_one_issue() {
    for db in TestDb::all().await {
        let (app, ana) = fields_app(db).await;
        let body = "Hello,\r\n@assignee=ana@corp.test\r\n#labels=vip\r\nPlease quote 10 seats.\r\n";
        let headers = "X-Customer-Id: C-4711\r\n";
        app.receive(mail(
            "f1@c.test",
            "bob@customer.test",
            "sales@corp.test",
            "Quote due 2027-02-15 #priority=High",
            headers,
            body,
        ));

        app.pass().await;

        assert_eq!(app.jira.issues().len(), 1, "{}", app.label());
        let issue = issue_by_summary(&app, "Quote due 2027-02-15");
        let f = &issue.fields;
        assert_eq!(f["priority"], json!({"name": "High"}), "the directive over the rule's Low");
        assert_eq!(f["duedate"], "2027-02-15");
        assert_eq!(f["assignee"], json!({"accountId": ana}));
        assert_eq!(f["components"], json!([{"name": "Billing"}]));
        assert_eq!(f["customfield_10042"], "customer.test");
        assert_eq!(f["customfield_10050"], "C-4711");
        assert_eq!(f["customfield_10051"], json!({"value": "Gold"}));
        assert_eq!(issue.labels, ["vip"]);
        let text = issue.description.to_string();
        assert!(text.contains("Please quote 10 seats."), "{text}");
        assert!(!text.contains("@assignee") && !text.contains("#labels"), "directive lines removed: {text}");
        assert!(!text.contains("Fields not set"), "{text}");
    }
}

#[tokio::test]
async fn a_bad_directive_or_a_refused_priority_is_left_out_and_the_issue_created() {
    for db in TestDb::all().await {
        let (app, _) = fields_app(db).await;
        let bad = "#due=2027-02-31\r\n@assignee=nobody@corp.test\r\nThe printer is broken.\r\n";
        app.receive(mail("f2@c.test", "bob@customer.test", "sales@corp.test", "Printer", "", bad));
        app.receive(mail("f3@c.test", "carl@customer.test", "sales@corp.test", "Scanner #priority=Urgent", "", "Hi"));

        app.pass().await;

        assert_eq!(app.jira.issues().len(), 2, "{}", app.label());
        let printer = issue_by_summary(&app, "Printer");
        assert!(!printer.fields.contains_key("duedate") && !printer.fields.contains_key("assignee"));
        assert_eq!(printer.fields["priority"], json!({"name": "Low"}), "the rule's value stands");
        let text = printer.description.to_string();
        assert!(text.contains("Fields not set:"), "{text}");
        assert!(text.contains("'2027-02-31' is not a date (YYYY-MM-DD)"), "{text}");
        assert!(text.contains("assignee nobody@corp.test: no Jira user with this email"), "{text}");

        let scanner = issue_by_summary(&app, "Scanner");
        assert!(!scanner.fields.contains_key("priority"), "{:?}", scanner.fields);
        assert_eq!(scanner.fields["customfield_10051"], json!({"value": "Gold"}), "the other fields stay");
        let text = scanner.description.to_string();
        assert!(text.contains("priority: refused by Jira (Priority name 'Urgent' is not valid)"), "{text}");
        assert_eq!(app.jira.count_calls("POST /rest/api/3/issue"), 3, "one create each, the refused one twice");
    }
}

#[tokio::test]
async fn replay_dry_run_prints_the_create_request_without_calling_jira() {
    let (app, _) = fields_app(TestDb::sqlite()).await;
    let raw = mail(
        "f4@c.test",
        "bob@customer.test",
        "sales@corp.test",
        "Quote #priority=High",
        "X-Customer-Id: C-9\r\n",
        "@assignee=ana@corp.test\r\nTen seats.\r\n",
    );
    let file = app.dir().join("quote.eml");
    std::fs::write(&file, raw).expect("write mail");
    let calls = app.jira.calls().len();

    let out = app.command(crate::MAILGATE).args(["replay", "--dry-run", "--format", "json"]).arg(&file).output();
    let out = out.expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("json");

    let req = &report["jira_request"];
    assert_eq!((req["method"].as_str(), req["path"].as_str()), (Some("POST"), Some("/rest/api/3/issue")));
    let f = &req["body"]["fields"];
    assert_eq!(f["summary"], "Quote");
    assert_eq!(f["priority"], json!({"name": "High"}));
    assert_eq!(f["assignee"], json!({"accountId": "ana@corp.test"}), "the email it would look up");
    assert_eq!(req["looked_up"], json!({"assignee": "ana@corp.test"}));
    assert_eq!(f["customfield_10050"], "C-9");
    assert_eq!(f["components"], json!([{"name": "Billing"}]));
    assert_eq!(req["body"]["properties"][0]["value"]["messageId"], "f4@c.test");
    assert!(!f["description"].to_string().contains("@assignee"), "{}", f["description"]);
    assert_eq!(report["summary"], "Quote");
    assert_eq!(app.jira.calls().len(), calls, "no call to Jira");
}
