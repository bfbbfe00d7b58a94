use serde_json::json;

use super::*;

fn rule(toml_text: &str) -> RouteTarget {
    toml::from_str(&format!("project = \"SALES\"\n{toml_text}")).unwrap_or_else(|e| panic!("{e}\n{toml_text}"))
}

fn rule_error(toml_text: &str) -> String {
    match toml::from_str::<RouteTarget>(&format!("project = \"SALES\"\n{toml_text}")) {
        Ok(r) => panic!("accepted: {r:?}"),
        Err(e) => e.to_string(),
    }
}

fn mail(subject: &str, headers: &str, body: &str) -> InboundMessage {
    let raw = format!(
        "From: Ann <ann@Customer.Test>\r\nTo: sales@corp.test\r\nSubject: {subject}\r\nMessage-ID: <f@c.test>\r\n{headers}\r\n{body}"
    );
    crate::mime::parse(raw.as_bytes()).expect("parses")
}

fn plan(rule_toml: &str, msg: &InboundMessage) -> FieldPlan {
    decide(&rule(rule_toml), msg, &msg.text)
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[test]
fn constants_are_set_as_configured() {
    let p = plan(
        r#"
labels = ["email"]
components = ["Web"]
fields.priority = "High"
fields.assignee = "Ana@Example.com"
fields.due_date = 2027-01-31
fields.components = ["Billing", "Web"]
fields.fix_versions = "2.0, 2.1"
fields.customfield_10050 = { value = "Gold" }
fields.customfield_10060 = 3
fields.customfield_10070 = "plain text"
"#,
        &mail("Quote", "", "Hi"),
    );
    assert_eq!(p.priority.as_deref(), Some("High"));
    assert_eq!(p.assignee.as_ref().map(|a| a.as_ref()), Some("ana@example.com"));
    assert_eq!(p.due_date, date("2027-01-31"));
    assert_eq!(p.components, ["Web", "Billing"]);
    assert_eq!(p.fix_versions, ["2.0", "2.1"]);
    assert_eq!(p.labels, ["email"]);
    assert_eq!(p.custom.get("customfield_10050"), Some(&json!({"value": "Gold"})));
    assert_eq!(p.custom.get("customfield_10060"), Some(&json!(3)));
    assert_eq!(p.custom.get("customfield_10070"), Some(&json!("plain text")));
    assert_eq!(p.summary, "Quote");
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
}

#[test]
fn the_sender_domain_and_the_sender_are_read_from_the_mail() {
    let p = plan(
        r#"
fields.customfield_10042 = { from = "sender_domain" }
fields.customfield_10043 = { from = "sender" }
"#,
        &mail("Quote", "", "Hi"),
    );
    assert_eq!(p.custom.get("customfield_10042"), Some(&json!("customer.test")));
    assert_eq!(p.custom.get("customfield_10043"), Some(&json!("ann@customer.test")));
}

#[test]
fn a_header_value_is_read_unfolded_and_a_missing_header_sets_nothing() {
    let msg = mail("Quote", "X-Customer-Id: C-\r\n 4711\r\nX-Tier: gold\r\n", "Hi");
    let p = plan(
        r#"
fields.customfield_10050 = { from = "header", name = "x-customer-id" }
fields.customfield_10051 = { from = "header", name = "X-Tier", as = "option" }
fields.customfield_10052 = { from = "header", name = "X-Missing" }
fields.priority = { from = "header", name = "X-Tier", regex = "^(gold)$" }
"#,
        &msg,
    );
    assert_eq!(p.custom.get("customfield_10050"), Some(&json!("C- 4711")));
    assert_eq!(p.custom.get("customfield_10051"), Some(&json!({"value": "gold"})));
    assert!(!p.custom.contains_key("customfield_10052"));
    assert_eq!(p.priority.as_deref(), Some("gold"));
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
}

#[test]
fn a_subject_regex_capture_sets_the_field() {
    let r = r#"fields.due_date = { from = "subject", regex = "due (\\d{4}-\\d\\d-\\d\\d)" }"#;
    assert_eq!(plan(r, &mail("Order, DUE 2027-02-28", "", "Hi")).due_date, date("2027-02-28"));
    let none = plan(r, &mail("Order", "", "Hi"));
    assert_eq!((none.due_date, none.skipped.len()), (None, 0), "no match: nothing set, nothing to say");
    let bad = plan(r, &mail("Order due 2027-02-30", "", "Hi"));
    assert_eq!(bad.due_date, None);
    assert_eq!(bad.skipped, ["fields.due_date: '2027-02-30' is not a date (YYYY-MM-DD)"]);
}

#[test]
fn a_body_regex_capture_sets_the_field_and_numbers_are_numbers() {
    let msg = mail("Quote", "", "Hello,\r\nContract: K-77\r\nSeats: 12\r\nBudget: lots\r\n");
    let p = plan(
        r#"
fields.customfield_10060 = { from = "body", regex = "contract: (\\S+)" }
fields.customfield_10061 = { from = "body", regex = "seats: (\\d+)", as = "number" }
fields.customfield_10062 = { from = "body", regex = "budget: (\\S+)", as = "number" }
"#,
        &msg,
    );
    assert_eq!(p.custom.get("customfield_10060"), Some(&json!("K-77")));
    assert_eq!(p.custom.get("customfield_10061"), Some(&json!(12)));
    assert!(!p.custom.contains_key("customfield_10062"));
    assert_eq!(p.skipped, ["fields.customfield_10062: 'lots' is not a number"]);
}

const ALL_DIRECTIVES: &str = r#"directives = ["priority", "due", "assignee", "components", "labels"]"#;

#[test]
fn each_directive_sets_its_field_and_leaves_the_summary() {
    let msg = mail(
        "Re: Printer #priority=Highest broken",
        "",
        "Hi\r\n#due=2027-03-01\r\n@assignee=Bob@Corp.Test\r\n#components=Hardware, Floor 3\r\n#labels=vip,printer\r\n",
    );
    let p = plan(&format!("labels = [\"email\"]\ncomponents = [\"Web\"]\n{ALL_DIRECTIVES}"), &msg);
    assert_eq!(p.summary, "Printer broken");
    assert_eq!(p.priority.as_deref(), Some("Highest"));
    assert_eq!(p.due_date, date("2027-03-01"));
    assert_eq!(p.assignee.as_ref().map(|a| a.as_ref()), Some("bob@corp.test"));
    assert_eq!(p.components, ["Web", "Hardware", "Floor 3"]);
    assert_eq!(p.labels, ["email", "vip", "printer"]);
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
}

#[test]
fn a_directive_overrides_the_rules_value() {
    let p = plan(&format!("fields.priority = \"Low\"\n{ALL_DIRECTIVES}"), &mail("x #priority=High", "", "Hi"));
    assert_eq!(p.priority.as_deref(), Some("High"));
}

#[test]
fn a_bad_directive_is_skipped_with_a_note_and_the_rest_applies() {
    let msg = mail(
        "Printer #due=2027-13-01",
        "",
        "#priority=High\r\n@assignee=not-an-address\r\n#labels=a b,ok\r\n#due=\r\n",
    );
    let p = plan(ALL_DIRECTIVES, &msg);
    assert_eq!(p.priority.as_deref(), Some("High"));
    assert_eq!((p.due_date.as_ref(), p.assignee.as_ref()), (None, None));
    assert_eq!(p.labels, ["ok"]);
    assert_eq!(
        p.skipped,
        [
            "#due=2027-13-01: '2027-13-01' is not a date (YYYY-MM-DD)",
            "@assignee=not-an-address: 'not-an-address' is not an email address",
            "#labels=a b,ok: label 'a b' has a space (Jira takes none)",
            "#due=: no value",
        ]
    );
}

#[test]
fn only_allowed_directives_are_honoured() {
    let msg = mail("Printer #priority=High", "", "@assignee=bob@corp.test\r\n#due=2027-01-01\r\n");
    let p = plan(r#"directives = ["due"]"#, &msg);
    assert_eq!(p.due_date, date("2027-01-01"));
    assert_eq!((p.priority.as_ref(), p.assignee.as_ref()), (None, None));
    assert_eq!(p.summary, "Printer");
    assert_eq!(
        p.skipped,
        [
            "#priority=High: not allowed for this address, ignored",
            "@assignee=bob@corp.test: not allowed for this address, ignored"
        ]
    );
    // A rule without directives reads none and leaves the subject alone.
    let none = plan("", &msg);
    assert_eq!(
        (none.summary.as_str(), none.priority.as_ref(), none.skipped.len()),
        ("Printer #priority=High", None, 0)
    );
}

#[test]
fn the_note_lists_what_was_skipped() {
    assert_eq!(note(&[]), "");
    assert_eq!(note(&["a".into(), "b".into()]), "\n\nFields not set:\n- a\n- b");
}

#[test]
fn bad_field_rules_are_refused_when_the_config_loads() {
    for (text, want) in [
        (r#"fields.prio = "High""#, "fields.prio: unknown field"),
        (r#"fields.customfield_x = "a""#, "fields.customfield_x: unknown field"),
        (r#"fields.priority = 3"#, "fields.priority: expected a priority name"),
        (r#"fields.due_date = "31.01.2027""#, "fields.due_date: '31.01.2027' is not a date"),
        (r#"fields.assignee = "ana""#, "is not a valid email address"),
        (r#"fields.components = [1]"#, "fields.components: expected a name or a list of names"),
        (r#"fields.customfield_1 = { from = "header" }"#, "needs the header's `name`"),
        (r#"fields.customfield_1 = { from = "body" }"#, "needs a `regex`"),
        (r#"fields.customfield_1 = { from = "subject", regex = "(" }"#, "not a valid regular expression"),
        (r#"fields.customfield_1 = { from = "subject", name = "x" }"#, "`name` goes only with"),
        (r#"fields.customfield_1 = { from = "subjekt" }"#, "expected \"sender\""),
        (r#"fields.customfield_1 = { from = "subject", as = "date" }"#, "as = \"date\""),
        (r#"fields.priority = { from = "subject", as = "option" }"#, "`as` is for custom fields"),
        (r#"fields.priority = { from = "subject", rgx = "a" }"#, "unknown key `rgx`"),
        (r#"directives = ["priority", "status"]"#, "unknown variant `status`"),
    ] {
        let e = rule_error(text);
        assert!(e.contains(want), "{text}: {e}");
    }
}

#[test]
fn field_keys_map_to_jira_ids_and_back() {
    for name in ["priority", "assignee", "due_date", "components", "fix_versions", "labels", "customfield_10042"] {
        let key = FieldKey::parse(name).expect("a key");
        assert_eq!(key.config_name(), name);
        assert_eq!(FieldKey::from_jira_id(key.jira_id()), Some(key));
    }
    assert_eq!(FieldKey::from_jira_id("summary"), None);
    assert_eq!(FieldKey::from_jira_id("due_date"), None);
}
