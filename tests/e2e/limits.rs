//! Jira's field limits (strict fake: 32,767 characters, an ADF document
//! counted as its JSON): a long mail is cut at a line boundary with a note,
//! and its whole text is attached as mail-body.txt, for an issue and for a
//! comment, on Cloud and Data Center.

use mailgate_testkit::{TestApp, mail};

fn long_text() -> String {
    (0..1_000).map(|n| format!("Line {n:04}: the printer on the third floor still jams.\n")).collect()
}

#[tokio::test]
async fn a_body_over_jiras_limit_is_cut_with_a_note_and_attached_in_full() {
    for dc in [false, true] {
        let mut builder = TestApp::builder().jira_issue("HELP", "Existing");
        if dc {
            builder = builder.data_center_bearer("pat-123");
        }
        let app = builder.spawn().await;
        let text = long_text();
        assert!(text.len() > 40_000);
        app.receive(mail("long@c.test", "a@c.test", "help@corp.test", "Long mail", "", &text));
        app.receive(mail("long-re@c.test", "a@c.test", "help@corp.test", "Re: [HELP-1] Existing", "", &text));

        app.drain().await;

        assert_eq!(app.seen_in("Processed"), 2, "dc={dc}");
        let created = app.jira.issue("HELP-2").expect("the long mail's issue");
        let description = match &created.description {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert!(description.chars().count() <= 32_767, "dc={dc}: {}", description.len());
        assert!(description.contains("attached as mail-body.txt"), "dc={dc}: the note");
        let full = created.attachments.iter().find(|a| a.filename == "mail-body.txt").expect("full text attached");
        assert!(String::from_utf8_lossy(&full.data).contains("Line 0999"), "dc={dc}: all of it");
        let existing = app.jira.issue("HELP-1").expect("existing");
        assert_eq!(existing.comments.len(), 1, "dc={dc}");
        assert!(existing.attachments.iter().any(|a| a.filename == "mail-body.txt"), "dc={dc}: the reply's text");
    }
}
