//! Routing that reaches the right place (issue 14, first part): Bcc'd mail
//! by its envelope recipient, and plus-addressing to a project or an issue,
//! through Dovecot into the fake Jira, on SQLite and PostgreSQL.

use mailgate_testkit::{TestApp, TestDb, mail};

#[tokio::test]
async fn bcc_and_plus_addresses_reach_their_project_and_issue() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).with_imap().spawn().await;
        // Bcc'd to sales: only Delivered-To says so.
        let bcc = mail(
            "bcc@c.test",
            "ann@customer.test",
            "partner@else.test",
            "Quote",
            "Delivered-To: sales@corp.test\r\n",
            "Hi.",
        );
        app.imap_append(&bcc).await;
        // help+sales: project SALES by its tag.
        app.imap_append(&mail("plus@c.test", "bob@customer.test", "help+sales@corp.test", "Order", "", "Hi.")).await;
        app.pass_imap().await;
        let mut keys: Vec<String> = app.jira.issues().into_iter().map(|i| format!("{} {}", i.key, i.summary)).collect();
        keys.sort();
        assert_eq!(keys, vec!["SALES-1 Quote".to_string(), "SALES-2 Order".to_string()], "{}", app.label());

        // help+SALES-1: a comment on SALES-1, whatever the subject.
        app.imap_append(&mail(
            "c@c.test",
            "ann@customer.test",
            "help+SALES-1@corp.test",
            "More",
            "",
            "One more thing.",
        ))
        .await;
        app.pass_imap().await;
        assert_eq!(app.jira.issues().len(), 2, "{}", app.label());
        assert_eq!(app.jira.issue("SALES-1").expect("issue").comments.len(), 1, "{}", app.label());
    }
}
