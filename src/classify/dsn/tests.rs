use super::*;
use crate::classify::suppress::{NoSuppression, SentMail, suppressions};

const OUR_ID: &str = "3f9a1c2b4d5e6f708192a3b4@mailgate.local";

fn sent(id: &str, to: &str) -> SentMail {
    SentMail { message_id: MessageId::parse(id).expect("id"), recipient: EmailAddress::parse(to).expect("addr") }
}

/// A `multipart/report` with `report_type`, a part of `status_type` holding
/// `status`, and the original's headers with `Message-ID: <original_id>`.
fn report(report_type: &str, status_type: &str, status: &str, original_id: &str) -> Vec<u8> {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\n\
         To: help@corp.test\r\n\
         Subject: Delivery Status Notification\r\n\
         Message-ID: <dsn-1@mx.customer.test>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type={report_type}; boundary=\"b1\"\r\n\
         \r\n\
         --b1\r\n\
         Content-Type: text/plain\r\n\
         \r\n\
         Your message could not be delivered.\r\n\
         --b1\r\n\
         Content-Type: {status_type}\r\n\
         \r\n\
         {status}\r\n\
         --b1\r\n\
         Content-Type: text/rfc822-headers\r\n\
         \r\n\
         From: Help Desk <help@corp.test>\r\n\
         To: gone@customer.test\r\n\
         Subject: [HELP-1] Printer\r\n\
         Message-ID: <{original_id}>\r\n\
         \r\n\
         --b1--\r\n"
    )
    .into_bytes()
}

fn dsn(status: &str, original_id: &str) -> Vec<u8> {
    report("delivery-status", "message/delivery-status", status, original_id)
}

const FAILED_ONE_OF_TWO: &str = "Reporting-MTA: dns; mx.customer.test\r\n\
    \r\n\
    Final-Recipient: rfc822; Gone@Customer.test\r\n\
    Action: failed\r\n\
    Status: 5.1.1 (user unknown)\r\n\
    Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\
    \r\n\
    Final-Recipient: rfc822; here@customer.test\r\n\
    Action: delivered\r\n\
    Status: 2.0.0";

#[test]
fn a_permanent_failure_for_our_mail_suppresses_exactly_that_recipient() {
    let r = read(&dsn(FAILED_ONE_OF_TWO, OUR_ID));
    assert_eq!(r.kind, ReportKind::DeliveryStatus);
    assert_eq!(r.recipients.len(), 2);
    let ours = [sent(OUR_ID, "gone@customer.test"), sent("other@mailgate.local", "here@customer.test")];

    let got = suppressions(&r, &ours).expect("suppresses");

    assert_eq!(got.len(), 1);
    assert_eq!(got[0].address.as_ref(), "gone@customer.test");
    assert_eq!(got[0].message_id.as_ref(), OUR_ID);
    assert_eq!(got[0].status, "5.1.1");
}

#[test]
fn a_dsn_about_a_mail_we_never_sent_suppresses_nothing() {
    let r = read(&dsn(FAILED_ONE_OF_TWO, "forged-123@attacker.test"));
    assert_eq!(r.kind, ReportKind::DeliveryStatus);

    assert_eq!(suppressions(&r, &[sent(OUR_ID, "gone@customer.test")]), Err(NoSuppression::NotOurMail));
    assert_eq!(suppressions(&r, &[]), Err(NoSuppression::NotOurMail));
}

#[test]
fn a_failure_for_an_address_our_mail_did_not_go_to_suppresses_nothing() {
    let r = read(&dsn(FAILED_ONE_OF_TWO, OUR_ID));

    assert_eq!(suppressions(&r, &[sent(OUR_ID, "someone-else@customer.test")]), Err(NoSuppression::NoPermanentFailure));
}

#[test]
fn delayed_and_transient_reports_suppress_nothing() {
    let delayed = "Final-Recipient: rfc822; gone@customer.test\r\nAction: delayed\r\nStatus: 4.4.7";
    let transient_failed = "Final-Recipient: rfc822; gone@customer.test\r\nAction: failed\r\nStatus: 4.2.2";
    let relayed_5xx = "Final-Recipient: rfc822; gone@customer.test\r\nAction: relayed\r\nStatus: 5.0.0";
    let no_status = "Final-Recipient: rfc822; gone@customer.test\r\nAction: failed";
    for status in [delayed, transient_failed, relayed_5xx, no_status] {
        let r = read(&dsn(status, OUR_ID));

        let got = suppressions(&r, &[sent(OUR_ID, "gone@customer.test")]);

        assert_eq!(got, Err(NoSuppression::NoPermanentFailure), "{status}");
    }
}

#[test]
fn a_read_receipt_never_suppresses() {
    let mdn = "Reporting-UA: mail.customer.test; Thunderbird\r\n\
        Final-Recipient: rfc822; gone@customer.test\r\n\
        Original-Message-ID: <3f9a1c2b4d5e6f708192a3b4@mailgate.local>\r\n\
        Disposition: manual-action/MDN-sent-manually; displayed";
    let as_mdn = read(&report("disposition-notification", "message/disposition-notification", mdn, OUR_ID));
    // A disposition report that also carries a delivery-status part.
    let mixed = read(&report("disposition-notification", "message/delivery-status", FAILED_ONE_OF_TWO, OUR_ID));
    for r in [as_mdn, mixed] {
        assert_eq!(r.kind, ReportKind::Disposition);

        assert_eq!(suppressions(&r, &[sent(OUR_ID, "gone@customer.test")]), Err(NoSuppression::NotADeliveryFailure));
    }
}

#[test]
fn a_forwarded_address_is_matched_by_its_original_recipient() {
    let status = "Original-Recipient: rfc822;gone@customer.test\r\n\
        Final-Recipient: rfc822; <gone@elsewhere.test>\r\n\
        Action: failed\r\n\
        Status:\r\n 5.2.2";
    let r = read(&dsn(status, OUR_ID));

    let got = suppressions(&r, &[sent(OUR_ID, "gone@customer.test")]).expect("suppresses");

    assert_eq!(got[0].address.as_ref(), "gone@customer.test", "the address we sent to, read over a folded Status");
    assert_eq!(got[0].status, "5.2.2");
}

#[test]
fn status_codes_are_read_strictly() {
    assert_eq!(DsnStatus::parse("5.1.1 (user unknown)").map(|s| s.to_string()), Some("5.1.1".into()));
    assert!(DsnStatus::parse("4.4.0").is_some_and(|s| !s.is_permanent()));
    for bad in ["5.1", "6.0.0", "5.1.1.1", "5.x.1", "", "550"] {
        assert_eq!(DsnStatus::parse(bad), None, "{bad}");
    }
}

#[test]
fn unreadable_input_is_an_empty_report() {
    let r = read(b"");
    assert_eq!(r.kind, ReportKind::Plain);
    assert!(r.references.is_empty() && r.recipients.is_empty());
}

const SISIMAI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/sisimai-set-of-emails/maildir/bsd/");

fn sisimai(file: &str) -> BounceReport {
    let raw = std::fs::read(format!("{SISIMAI}{file}")).unwrap_or_else(|e| panic!("{file}: {e}"));
    read(&raw)
}

#[test]
fn sisimai_permanent_dsn_suppresses_its_recipient_when_the_mail_is_ours() {
    let r = sisimai("rfc3464-01.eml");
    let id = "E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org";

    let got = suppressions(&r, &[sent(id, "userunknown@bouncehammer.jp")]).expect("suppresses");

    assert_eq!(got[0].address.as_ref(), "userunknown@bouncehammer.jp");
    assert_eq!(got[0].status, "5.1.1");
    assert_eq!(suppressions(&r, &[]), Err(NoSuppression::NotOurMail), "the same DSN with no such mail sent");
}

#[test]
fn sisimai_delayed_dsn_suppresses_nothing() {
    let r = sisimai("rfc3464-07.eml");
    assert_eq!(r.recipients.first().map(|x| x.action), Some(DsnAction::Delayed));

    let got = suppressions(&r, &[sent("000000000000000@list.example.jp", "kijitora@example.net")]);

    assert_eq!(got, Err(NoSuppression::NoPermanentFailure));
}

#[test]
fn sisimai_prose_bounces_suppress_only_when_permanent_and_ours() {
    let exim = sisimai("lhost-exim-01.eml");
    let exim_sent = sent("E1P1ce6-000Egt-GZ@e1.example.org", "kijitora@example.ed.jp");
    let qmail = sisimai("lhost-qmail-01.eml");
    let qmail_sent = sent("000000000.9999999999999.JavaMail.postmaster@mailhub", "kijitora@example.ne.jp");
    for (r, s) in [(&exim, &exim_sent), (&qmail, &qmail_sent)] {
        assert_eq!(r.kind, ReportKind::Plain);

        let got = suppressions(r, std::slice::from_ref(s)).expect("suppresses");

        assert_eq!(got[0].address, s.recipient);
        assert_eq!(suppressions(r, &[]), Err(NoSuppression::NotOurMail));
    }
}

#[test]
fn a_prose_bounce_that_is_not_clearly_permanent_suppresses_nothing() {
    let mail = |body: &str| {
        format!(
            "From: MAILER-DAEMON@mx.customer.test\r\nTo: help@corp.test\r\nSubject: Mail delivery failed\r\n\
             X-Failed-Recipients: gone@customer.test\r\n\r\n{body}\r\n\r\n\
             ------ This is a copy of the message ------\r\n\r\nMessage-ID: <{OUR_ID}>\r\nTo: gone@customer.test\r\n"
        )
    };
    let ours = [sent(OUR_ID, "gone@customer.test")];
    let unclear = read(mail("Delivery to the following recipients failed.").as_bytes());
    let delayed = read(mail("This is a permanent error? No: delivery is delayed, we will keep trying.").as_bytes());
    let clear = read(mail("This is a permanent error. The following address(es) failed:").as_bytes());

    assert_eq!(suppressions(&unclear, &ours), Err(NoSuppression::NoPermanentFailure));
    assert_eq!(suppressions(&delayed, &ours), Err(NoSuppression::NoPermanentFailure));
    assert_eq!(suppressions(&clear, &ours).map(|s| s.len()), Ok(1));
}
