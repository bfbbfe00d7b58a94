use super::*;
use crate::config::{RoutingRule, RoutingSettings};
use crate::domain::{Mailbox, ProjectKey};

fn target(p: &str) -> RouteTarget {
    RouteTarget {
        project: ProjectKey::parse(p).expect("key"),
        issue_type: "Task".into(),
        labels: vec![],
        components: vec![],
        sender_policy: None,
        groups: vec![],
        service_desk: None,
        request_type: None,
        cc_watchers: false,
        conversation: Default::default(),
        fields: Default::default(),
        directives: vec![],
    }
}

fn routing() -> RoutingSettings {
    RoutingSettings {
        rules: vec![
            RoutingRule { recipient: Some(addr("sales@corp.test")), ..rule(target("SALES")) },
            RoutingRule { domain: Some("ops.test".into()), ..rule(target("OPS")) },
        ],
        default: target("HELP"),
    }
}

/// A rule with no condition yet.
fn rule(target: RouteTarget) -> RoutingRule {
    RoutingRule {
        recipient: None,
        domain: None,
        recipient_regex: None,
        sender: None,
        sender_domain: None,
        subject_regex: None,
        target,
    }
}

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("addr")
}

fn mail(subject: &str) -> InboundMessage {
    InboundMessage {
        from: Some(Mailbox { name: None, address: addr("alice@customer.test") }),
        to: vec![Mailbox { name: None, address: addr("help@corp.test") }],
        subject: subject.into(),
        ..Default::default()
    }
}

#[test]
fn a_new_mail_is_routed_by_recipient_then_domain_then_default() {
    let r = routing();
    let mut m = mail("Printer broken");
    assert_eq!(decide(&m, &[], &r, &HashMap::new()), Decision::Create(target("HELP")));
    m.cc.push(Mailbox { name: None, address: addr("sales@corp.test") });
    assert_eq!(decide(&m, &[], &r, &HashMap::new()), Decision::Create(target("SALES")));
    m.cc = vec![Mailbox { name: None, address: addr("x@OPS.test") }];
    assert_eq!(decide(&m, &[], &r, &HashMap::new()), Decision::Create(target("OPS")));
}

#[test]
fn subject_key_after_prefixes_makes_a_comment() {
    let d = decide(&mail("AW: WG: Re[2]: [HELP-7] Printer"), &[], &routing(), &HashMap::new());
    assert_eq!(
        d,
        Decision::Comment { issue: IssueKey::parse("HELP-7").expect("key"), matched_by: ReplyMatch::SubjectKey }
    );
}

#[test]
fn keys_of_unknown_projects_are_not_replies() {
    let d = decide(&mail("UTF-8 encoding broken"), &[], &routing(), &HashMap::new());
    assert_eq!(d.action_name(), "create");
}

#[test]
fn in_reply_to_and_references_find_the_thread() {
    let known = MessageId::parse("<orig@corp.test>").expect("id");
    let threads = HashMap::from([(known.clone(), IssueKey::parse("HELP-3").expect("key"))]);
    let mut m = mail("Re: printer");
    m.in_reply_to = vec![known.clone()];
    assert!(matches!(
        decide(&m, &[], &routing(), &threads),
        Decision::Comment { matched_by: ReplyMatch::InReplyTo, .. }
    ));
    m.in_reply_to.clear();
    m.references = vec![MessageId::parse("<other@x>").expect("id"), known];
    assert!(matches!(
        decide(&m, &[], &routing(), &threads),
        Decision::Comment { matched_by: ReplyMatch::References, .. }
    ));
}

#[test]
fn auto_replies_bounces_and_own_mail_are_ignored() {
    let own = [addr("help@corp.test")];
    let mut m = mail("Out of office");
    m.auto_submitted = Some("auto-replied".into());
    assert!(matches!(ignore_reason(&m, &own), Some(IgnoreReason::AutoSubmitted(_))));
    let mut m = mail("x");
    m.auto_submitted = Some("no".into());
    assert_eq!(ignore_reason(&m, &own), None);
    let mut m = mail("x");
    m.precedence = Some("Bulk".into());
    assert!(matches!(ignore_reason(&m, &own), Some(IgnoreReason::Precedence(_))));
    let mut m = mail("x");
    m.is_report = true;
    assert_eq!(ignore_reason(&m, &own), Some(IgnoreReason::DeliveryReport));
    let mut m = mail("x");
    m.null_return_path = true;
    assert_eq!(ignore_reason(&m, &own), Some(IgnoreReason::NullReturnPath));
    let mut m = mail("x");
    m.x_autoreply = true;
    assert_eq!(ignore_reason(&m, &own), Some(IgnoreReason::AutoReplyHeader));
    let mut m = mail("x");
    m.from = Some(Mailbox { name: None, address: addr("Help@Corp.test") });
    assert!(matches!(ignore_reason(&m, &own), Some(IgnoreReason::OwnAddress(_))));
}

#[test]
fn quoted_text_is_stripped() {
    let body = "Thanks, fixed.\n\nOn Mon, 1 Jan 2026 at 10:00, Bob <b@x.test>\nwrote:\n> old text\n> more";
    assert_eq!(strip_quoted(body, None), "Thanks, fixed.");
    let outlook = "Yes\r\n\r\nFrom: Bob\r\nSent: Monday\r\nTo: x\r\nSubject: y\r\n\r\nold";
    assert_eq!(strip_quoted(outlook, None), "Yes");
    let orig = "Top\n-----Original Message-----\nold";
    assert_eq!(strip_quoted(orig, None), "Top");
    let marked = "New answer\n## reply above this line ##\nold notification";
    assert_eq!(strip_quoted(marked, Some("## reply above this line ##")), "New answer");
    let inline = "> quoted\nmine\n> quoted again\nmore mine";
    assert_eq!(strip_quoted(inline, None), "mine\nmore mine");
}

#[test]
fn summaries_are_one_line_and_bounded() {
    assert_eq!(summary("Re: Fwd:  Hello\r\n world"), "Hello world");
    assert_eq!(summary(""), "(no subject)");
    assert_eq!(summary(&"x".repeat(400)).chars().count(), 255);
}

#[test]
fn bcc_and_aliases_route_by_the_envelope_recipient() {
    let r = routing();
    let mut m = mail("Quote please");
    m.delivered_to = vec![addr("sales@corp.test")];
    assert_eq!(decide(&m, &[], &r, &HashMap::new()), Decision::Create(target("SALES")));
}

#[test]
fn plus_addresses_choose_the_project_or_the_issue() {
    let r = routing();
    let mut m = mail("Quote please");
    m.to = vec![Mailbox { name: None, address: addr("help+sales@corp.test") }];
    assert_eq!(decide(&m, &[], &r, &HashMap::new()), Decision::Create(target("SALES")));
    // The base address still matches its rule (sales+OPS: the rule's options, project OPS).
    m.to = vec![Mailbox { name: None, address: addr("sales+ops@corp.test") }];
    let Decision::Create(t) = decide(&m, &[], &r, &HashMap::new()) else { panic!("create") };
    assert_eq!(t.project.to_string(), "OPS");
    m.to = vec![Mailbox { name: None, address: addr("help+SALES-123@corp.test") }];
    assert_eq!(
        decide(&m, &[], &r, &HashMap::new()),
        Decision::Comment { issue: IssueKey::parse("SALES-123").expect("key"), matched_by: ReplyMatch::PlusAddress }
    );
    // An unknown project in the tag is no project: the default.
    m.to = vec![Mailbox { name: None, address: addr("help+newsletter@corp.test") }];
    assert_eq!(decide(&m, &[], &r, &HashMap::new()), Decision::Create(target("HELP")));
    m.to = vec![Mailbox { name: None, address: addr("help+UTF-8@corp.test") }];
    assert_eq!(decide(&m, &[], &r, &HashMap::new()), Decision::Create(target("HELP")));
}

#[test]
fn rules_match_the_sender_and_regular_expressions() {
    let p = |s: &str| crate::config::Pattern::parse(s).expect("pattern");
    let r = RoutingSettings {
        rules: vec![
            RoutingRule { sender: Some(addr("boss@customer.test")), ..rule(target("VIP")) },
            RoutingRule { sender_domain: Some("partner.test".into()), ..rule(target("PART")) },
            RoutingRule { subject_regex: Some(p(r"^\[?invoice")), ..rule(target("BILL")) },
            RoutingRule { recipient_regex: Some(p(r"^it-.*@corp\.test$")), ..rule(target("IT")) },
            // Two conditions: both must hold.
            RoutingRule {
                sender_domain: Some("customer.test".into()),
                subject_regex: Some(p("outage")),
                ..rule(target("OPS"))
            },
        ],
        default: target("HELP"),
    };
    let project = |m: &InboundMessage| match decide(m, &[], &r, &HashMap::new()) {
        Decision::Create(t) => t.project.to_string(),
        other => format!("{other:?}"),
    };
    let mut m = mail("Hello");
    assert_eq!(project(&m), "HELP");
    m.subject = "Total OUTAGE".into();
    assert_eq!(project(&m), "OPS");
    m.subject = "[Invoice] 42".into();
    assert_eq!(project(&m), "BILL");
    m.subject = "Hello".into();
    m.cc = vec![Mailbox { name: None, address: addr("it-desk@corp.test") }];
    assert_eq!(project(&m), "IT");
    m.from = Some(Mailbox { name: None, address: addr("boss@customer.test") });
    assert_eq!(project(&m), "VIP");
    m.from = Some(Mailbox { name: None, address: addr("ann@Partner.test") });
    assert_eq!(project(&m), "PART");
    assert!(crate::config::Pattern::parse("(unclosed").is_err());
}
