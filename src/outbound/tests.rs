use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::Mailbox;

use super::*;
use crate::config::{SmtpSettings, TlsMode};

fn row() -> OutgoingRow {
    OutgoingRow {
        id: 1,
        kind: "test".into(),
        recipient: "Alice@Example.test".into(),
        subject: "Hello".into(),
        body_text: "plain body".into(),
        body_html: None,
        message_id: "abc123@mailgate.local".into(),
        in_reply_to: None,
        reply_to: None,
        merge_until: None,
        event_id: None,
        issue_key: None,
        attempts: 0,
        status: crate::store::OutboxStatus::Pending,
    }
}

fn from() -> Mailbox {
    Mailbox::new(Some("Help Desk".into()), "help@example.test".parse().expect("address"))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("time")
}

fn formatted(row: &OutgoingRow) -> (Message, String) {
    let m = build_message(row, &from(), now()).expect("message builds");
    let text = String::from_utf8(m.formatted()).expect("utf-8");
    (m, text)
}

fn header_block(text: &str) -> &str {
    text.split("\r\n\r\n").next().expect("headers")
}

#[test]
fn crlf_in_the_subject_cannot_add_a_header() {
    let mut r = row();
    r.subject = "Hello\r\nBcc: evil@x".into();
    let (m, text) = formatted(&r);
    let headers = header_block(&text);
    assert!(!headers.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{headers}");
    assert_eq!(m.headers().get_raw("Subject"), Some("Hello  Bcc: evil@x"));
    let rcpts: Vec<String> = m.envelope().to().iter().map(ToString::to_string).collect();
    assert_eq!(rcpts, ["alice@example.test"]);
}

#[test]
fn mail_is_marked_auto_generated_and_carries_our_message_id() {
    let (m, text) = formatted(&row());
    let headers = header_block(&text);
    assert_eq!(m.headers().get_raw("Auto-Submitted"), Some("auto-generated"));
    assert_eq!(m.headers().get_raw("X-Mailgate-Loop"), Some("yes"));
    assert_eq!(m.headers().get_raw("Message-ID"), Some("<abc123@mailgate.local>"));
    assert!(headers.contains("From: \"Help Desk\" <help@example.test>"), "{headers}");
    assert!(headers.contains("To: alice@example.test"), "{headers}");
    assert!(headers.contains("Date: Tue, 14 Nov 2023 22:13:20 +0000"), "{headers}");
    assert!(headers.contains("Content-Type: text/plain; charset=utf-8"), "{headers}");
    assert!(!headers.contains("In-Reply-To"), "{headers}");
}

#[test]
fn replies_are_threaded_and_html_goes_into_an_alternative() {
    let mut r = row();
    r.in_reply_to = Some("<parent@host>".into());
    r.body_html = Some("<p>html body</p>".into());
    let (m, text) = formatted(&r);
    assert_eq!(m.headers().get_raw("In-Reply-To"), Some("<parent@host>"));
    assert_eq!(m.headers().get_raw("References"), Some("<parent@host>"));
    assert!(header_block(&text).contains("multipart/alternative"), "{text}");
    assert!(text.contains("plain body") && text.contains("<p>html body</p>"), "{text}");
}

#[test]
fn a_message_id_with_line_breaks_is_refused() {
    let mut r = row();
    r.message_id = "a@b>\r\nBcc: evil@x".into();
    assert!(matches!(build_message(&r, &from(), now()), Err(BuildError::MessageId(_))));
    let mut r = row();
    r.recipient = "alice@example.test\r\nBcc: evil@x".into();
    assert!(matches!(build_message(&r, &from(), now()), Err(BuildError::Recipient(_))));
}

#[test]
fn mailer_settings_are_checked_when_it_is_built() {
    let settings = |tls, ca_file: Option<String>, user: Option<&str>| SmtpSettings {
        host: "smtp.example.test".into(),
        port: 465,
        tls,
        user: user.map(Into::into),
        password: None,
        auth: None,
        from: EmailAddress::parse("help@example.test").expect("from"),
        from_name: Some("Help\r\nBcc: evil@x".into()),
        ca_file,
        timeout_secs: 5,
    };
    let mailer = Mailer::new(&settings(TlsMode::Implicit, None, None)).expect("implicit TLS");
    assert_eq!(mailer.from().name.as_deref(), Some("Help  Bcc: evil@x"));
    assert!(Mailer::new(&settings(TlsMode::Starttls, None, None)).is_ok());
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").expect("write");
    let bad = settings(TlsMode::Implicit, Some(not_pem.display().to_string()), None);
    assert!(matches!(Mailer::new(&bad), Err(MailerError::CaFile { .. })));
    let missing = settings(TlsMode::Starttls, Some(dir.path().join("nope.pem").display().to_string()), None);
    assert!(matches!(Mailer::new(&missing), Err(MailerError::CaFile { .. })));
    let half = settings(TlsMode::None, None, Some("user"));
    assert!(matches!(Mailer::new(&half), Err(MailerError::Credentials)));
}

#[test]
fn backoff_doubles_per_attempt_up_to_the_cap() {
    let p = RetryPolicy { base_ms: 100, max_ms: 1_000, max_attempts: 5 };
    let delays: Vec<i64> = (0..6).map(|a| p.delay_ms(a)).collect();
    assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000]);
    assert_eq!(p.delay_ms(500), 1_000);
    assert_eq!(RetryPolicy::default().delay_ms(0), 5_000);
}
