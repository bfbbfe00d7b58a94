//! Routing that reaches the right place (issue 14, first part): Bcc'd mail
//! by its envelope recipient, and plus-addressing to a project or an issue,
//! through Dovecot into the fake Jira, on SQLite and PostgreSQL.

use mailgate_testkit::{TestApp, TestDb, mail};

#[tokio::test]
async fn bcc_and_plus_addresses_reach_their_project_and_issue() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).with_imap().spawn().await;
        // Bcc'd to sales: only Delivered-To says so.
        let bcc_header = "Delivered-To: sales@corp.test\r\n";
        let bcc = mail("bcc@c.test", "ann@customer.test", "partner@else.test", "Quote", bcc_header, "Hi.");
        app.imap_append(&bcc).await;
        // help+sales: project SALES by its tag.
        app.imap_append(&mail("plus@c.test", "bob@customer.test", "help+sales@corp.test", "Order", "", "Hi.")).await;
        app.pass_imap().await;
        // The two mails are worked on side by side: their keys come in either order.
        let issues = app.jira.issues();
        let mut found: Vec<(String, String)> = issues
            .iter()
            .map(|i| (i.summary.clone(), i.key.split('-').next().unwrap_or_default().to_string()))
            .collect();
        found.sort();
        let want = vec![("Order".to_string(), "SALES".to_string()), ("Quote".to_string(), "SALES".to_string())];
        assert_eq!(found, want, "{}", app.label());
        let quote = issues.iter().find(|i| i.summary == "Quote").map(|i| i.key.clone()).expect("quote");

        // help+<KEY>: a comment on that issue, whatever the subject.
        let to = format!("help+{quote}@corp.test");
        app.imap_append(&mail("c@c.test", "ann@customer.test", &to, "More", "", "One more thing.")).await;
        app.pass_imap().await;
        assert_eq!(app.jira.issues().len(), 2, "{}", app.label());
        assert_eq!(app.jira.issue(&quote).expect("issue").comments.len(), 1, "{}", app.label());
    }
}
