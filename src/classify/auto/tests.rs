//! Each shape as a small raw mail of our own, parsed by `mime::parse`, so
//! the header fields are exercised too.

use super::*;

/// A raw mail from `from` with `subject`, extra `headers` and `body`.
fn raw(from: &str, subject: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: help@corp.test\r\nSubject: {subject}\r\nMessage-ID: <m1@x.test>\r\n\
         Date: Mon, 5 Jan 2026 10:00:00 +0000\r\n{headers}\r\n{body}\r\n"
    )
    .into_bytes()
}

fn reason_of(raw: &[u8]) -> Option<IgnoreReason> {
    let msg = crate::mime::parse(raw).expect("parses");
    ignore_reason(&msg, &[])
}

fn person(subject: &str, headers: &str) -> Option<IgnoreReason> {
    reason_of(&raw("Alice <alice@customer.test>", subject, headers, "Hello"))
}

fn auto_subject(p: &str) -> Option<IgnoreReason> {
    Some(IgnoreReason::AutoReply(AutoReplySign::Subject(p.into())))
}

fn bounce_subject(p: &str) -> Option<IgnoreReason> {
    Some(IgnoreReason::Bounce(BounceSign::Subject(p.into())))
}

#[test]
fn auto_reply_subjects_are_recognised_as_prefixes() {
    let cases = [
        ("Auto reply: Printer", "auto reply"),
        ("Automatic reply: Printer", "automatic reply"),
        ("AutoReply: Printer", "autoreply"),
        ("Out of Office: Printer", "out of office"),
        ("Out of Office Reply: Printer", "out of office reply"),
        ("Abwesenheitsnotiz: Drucker", "abwesenheitsnotiz"),
        ("Automatische Antwort: Drucker", "automatische antwort"),
        ("Réponse automatique : Imprimante", "réponse automatique"),
        ("Respuesta automática: Impresora", "respuesta automática"),
        ("Risposta automatica: Stampante", "risposta automatica"),
        ("Automatisch antwoord: Printer", "automatisch antwoord"),
        ("Resposta automática: Impressora", "resposta automática"),
        ("自動応答: プリンター", "自動応答"),
        ("自动回复：打印机", "自动回复"),
    ];
    for (subject, prefix) in cases {
        assert_eq!(subject_sign(subject), auto_subject(prefix), "{subject}");
    }
    // Only as a prefix, and only with its colon.
    assert_eq!(subject_sign("Re: Out of office: printer"), None);
    assert_eq!(subject_sign("Out of office hours support needed"), None);
    assert_eq!(subject_sign("My automatic reply rule is broken"), None);
}

#[test]
fn bounce_subjects_are_recognised_in_their_exact_forms() {
    let cases = [
        ("Undelivered Mail Returned to Sender", "undelivered mail returned to sender"),
        ("Delivery Status Notification (Failure)", "delivery status notification"),
        ("Mail delivery failed: returning message to sender", "mail delivery failed"),
        ("Returned mail: see transcript for details", "returned mail: see transcript"),
        ("Returned mail: User unknown", "returned mail"),
        ("failure notice", "failure notice"),
        ("Undeliverable: Printer", "undeliverable"),
        ("Non remis : Imprimante", "non remis"),
        ("Unzustellbar: Drucker", "unzustellbar"),
        ("Warning: could not send message for past 4 hours", "warning: could not send message"),
    ];
    for (subject, phrase) in cases {
        assert_eq!(subject_sign(subject), bounce_subject(phrase), "{subject}");
    }
    assert_eq!(subject_sign("Undeliverable packages in the warehouse"), None);
    assert_eq!(subject_sign("Failure notice for order 42"), None);
    assert_eq!(subject_sign("Mail delivery failedover test"), None);
}

#[test]
fn rfc3834_auto_submitted_forms_keep_their_keyword() {
    let cases = [
        ("auto-replied", "auto-replied"),
        ("auto-replied (zimbra; vacation)", "auto-replied"),
        ("auto-replied; owner-email=\"bob@x.test\"", "auto-replied"),
        ("Auto-Generated", "auto-generated"),
    ];
    for (value, token) in cases {
        let got = person("Printer", &format!("Auto-Submitted: {value}\r\n"));
        assert_eq!(got, Some(IgnoreReason::AutoSubmitted(token.into())), "{value}");
    }
    assert_eq!(person("Printer", "Auto-Submitted: no\r\n"), None);
}

#[test]
fn exchange_out_of_office_needs_both_headers() {
    let oof = "X-Auto-Response-Suppress: All\r\nX-MS-Exchange-Inbox-Rules-Loop: bob@corp.test\r\n";
    assert_eq!(person("Printer", oof), Some(IgnoreReason::AutoReply(AutoReplySign::ExchangeOutOfOffice)));
    // Outlook sets the suppress header on ordinary mail too.
    assert_eq!(person("Printer", "X-Auto-Response-Suppress: All\r\n"), None);
    assert_eq!(person("Printer", "X-Auto-Response-Suppress: DR, RN\r\nX-MS-Exchange-Inbox-Rules-Loop: b@x\r\n"), None);
}

#[test]
fn loop_jira_and_failed_recipient_headers() {
    assert_eq!(
        person("Printer", "X-Loop: helpdesk@vendor.test\r\n"),
        Some(IgnoreReason::Automated(AutomatedSign::LoopHeader("helpdesk@vendor.test".into())))
    );
    assert_eq!(
        person("[HELP-1] Printer", "X-JIRA-FingerPrint: 0123abcd\r\n"),
        Some(IgnoreReason::Automated(AutomatedSign::JiraNotification))
    );
    assert_eq!(
        person("Printer", "X-Failed-Recipients: gone@customer.test\r\n"),
        Some(IgnoreReason::Bounce(BounceSign::FailedRecipients))
    );
}

#[test]
fn daemon_senders_are_bounces_in_any_case() {
    for from in ["MAILER-DAEMON@mx.customer.test", "Mail Delivery System <Mailer-Daemon@mx.test>", "post_master@x.test"]
    {
        assert_eq!(reason_of(&raw(from, "Re: Printer", "", "Error")), Some(IgnoreReason::NullReturnPath), "{from}");
    }
}

#[test]
fn amazon_ses_notices_need_sender_subject_and_body() {
    let body = "{\"notificationType\":\"Bounce\",\"bounce\":{}}";
    let ses = raw("<no-reply@sns.amazonaws.com>", "AWS Notification Message", "", body);
    assert_eq!(reason_of(&ses), Some(IgnoreReason::Bounce(BounceSign::AmazonSes)));
    // Any other SNS mail (an alarm someone wants a ticket for) is not.
    let alarm = raw("<no-reply@sns.amazonaws.com>", "AWS Notification Message", "", "Disk full on db1");
    assert_eq!(reason_of(&alarm), None);
}

#[test]
fn complaint_reports_and_list_server_notices() {
    let complaint = raw("staff@hotmail.test", "complaint about message from 192.0.2.1", "", "x");
    assert_eq!(reason_of(&complaint), Some(IgnoreReason::Bounce(BounceSign::Complaint)));
    assert_eq!(subject_sign("Complaint about message from our sales team"), None);
    let fml = raw("list-admin@lists.test", "You are not member", "X-MLServer: fml\r\n", "x");
    assert_eq!(
        reason_of(&fml),
        Some(IgnoreReason::Automated(AutomatedSign::ListServer("list-admin@lists.test".into())))
    );
    // An admin writing without list headers, and a list post, are people.
    assert_eq!(reason_of(&raw("it-admin@customer.test", "Printer", "", "x")), None);
    assert_eq!(reason_of(&raw("alice@customer.test", "Printer", "List-Id: <dev.lists.test>\r\n", "x")), None);
}

#[test]
fn reasons_say_why_and_bounces_are_marked() {
    let r = IgnoreReason::AutoReply(AutoReplySign::Subject("out of office".into()));
    assert_eq!(r.to_string(), "auto-reply (subject starts with \"out of office\")");
    assert!(!r.is_bounce());
    assert!(IgnoreReason::Bounce(BounceSign::FailedRecipients).is_bounce());
    assert!(!IgnoreReason::Bounce(BounceSign::Complaint).is_bounce());
    assert!(IgnoreReason::NullReturnPath.is_bounce());
    assert_eq!(
        IgnoreReason::Automated(AutomatedSign::JiraNotification).to_string(),
        "automated mail (Jira notification, X-JIRA-FingerPrint)"
    );
}

#[test]
fn a_normal_mail_is_not_ignored() {
    assert_eq!(person("Printer broken", "X-Mailer: Thunderbird\r\n"), None);
}
