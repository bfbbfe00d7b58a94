//! Attachments through the whole pipeline: same-named files stay two files,
//! empty files and signatures are listed in the note, tracking pixels and
//! block-listed logos are left out quietly and the logos counted, on SQLite
//! and PostgreSQL (migration 0016).

use mailgate::jira::adf_to_text;
use mailgate_testkit::{TestApp, TestDb};

/// A part with a 7bit body; `inline` for an image in the HTML.
fn part(content_type: &str, name: &str, inline: bool, body: &str) -> String {
    let disposition = if inline { "inline" } else { "attachment" };
    format!(
        "--b\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: {disposition}; filename=\"{name}\"\r\n\r\n{body}\r\n"
    )
}

fn mail(id: &str, subject: &str, parts: &[String]) -> Vec<u8> {
    format!(
        "From: ann@customer.test\r\nTo: help@corp.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe printer jams.\r\n{}--b--\r\n",
        parts.concat()
    )
    .into_bytes()
}

fn logo() -> String {
    "L".repeat(2000)
}

#[tokio::test]
async fn files_are_named_apart_and_junk_is_left_out_and_counted() {
    let first = mail(
        "att-a@customer.test",
        "Printer",
        &[
            part("application/pdf", "report.pdf", false, "first  report"),
            part("application/pdf", "report.pdf", false, "second report"),
            part("text/plain", "empty.txt", false, ""),
            part("application/pgp-signature", "signature.asc", false, "-----BEGIN PGP SIGNATURE-----"),
            part("image/gif", "pixel.gif", true, "GIF89a"),
            part("image/png", "image001.png", true, &logo()),
        ],
    );
    let parsed = mailgate::mime::parse(&first).expect("parses");
    let digest = parsed.attachments.iter().find(|a| a.filename == "image001.png").expect("logo").sha256_hex();
    let reply =
        mail("att-b@customer.test", "Re: [HELP-1] Printer", &[part("image/png", "image001.png", true, &logo())]);

    for db in TestDb::all().await {
        let app =
            TestApp::builder().db(db).set_toml("inbound.blocked_sha256", &format!("[\"{digest}\"]")).spawn().await;
        app.receive(&first);
        app.drain().await;
        app.receive(&reply);
        app.drain().await;

        let issue = app.jira.issue("HELP-1").expect("issue");
        let names: Vec<&str> = issue.attachments.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(names, ["report.pdf", "report (2).pdf"], "{}", app.label());
        let description = adf_to_text(&issue.description);
        assert!(
            description.ends_with("Attachments not uploaded:\n\n* empty.txt (empty)\n* signature.asc (signature)"),
            "{description}"
        );
        assert_eq!(issue.comments.len(), 1, "{}", app.label());
        let comment = adf_to_text(&issue.comments[0].body);
        assert!(!comment.contains("not uploaded"), "{comment}");

        let counts = app.store().await.blocked_attachment_counts().await.expect("counts");
        assert_eq!(counts.len(), 1, "{}", app.label());
        assert_eq!((counts[0].sha256.as_str(), counts[0].skipped), (digest.as_str(), 2), "{}", app.label());
        let stats = app.store().await.statistics(0).await.expect("stats");
        assert_eq!(stats.blocked_attachments, counts);
    }
}
