//! `mailgate demo`: the whole inbound pipeline on one machine with nothing
//! installed: SQLite, the built-in fake Jira, an in-memory mailbox, and the
//! sample mails shipped in `src/demo/mails/`.

use std::path::PathBuf;
use std::sync::Arc;

use fake_jira::{FakeAuth, FakeJira};

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::ingest;
use crate::jira::adf_to_text;
use crate::mailbox::{MailConnector, MemoryConnector, MemoryMailbox};

/// The sample mails, in delivery order.
pub const SAMPLE_MAILS: &[(&str, &[u8])] = &[
    ("01-new-request.eml", include_bytes!("mails/01-new-request.eml")),
    ("02-reply-by-subject-key.eml", include_bytes!("mails/02-reply-by-subject-key.eml")),
    ("03-new-with-attachments.eml", include_bytes!("mails/03-new-with-attachments.eml")),
    ("04-reply-by-in-reply-to.eml", include_bytes!("mails/04-reply-by-in-reply-to.eml")),
    ("05-out-of-office.eml", include_bytes!("mails/05-out-of-office.eml")),
    ("06-bounce.eml", include_bytes!("mails/06-bounce.eml")),
    ("07-same-mail-again.eml", include_bytes!("mails/07-same-mail-again.eml")),
];

fn demo_settings(jira_url: &str, db_url: &str) -> anyhow::Result<Settings> {
    let text = format!(
        r#"
[database]
url = "{db_url}"

[jira]
flavor = "cloud"
base_url = "{jira_url}"
auth = {{ kind = "basic", user = "demo-bot@mailgate.example", secret = "demo-token" }}

[inbound]
own_addresses = ["help@mailgate.example", "sales@mailgate.example"]

[[routing.rules]]
recipient = "sales@mailgate.example"
project = "SALES"
issue_type = "Task"
labels = ["email", "sales"]

[routing]
default = {{ project = "HELP", issue_type = "Task", labels = ["email"] }}
"#
    );
    Ok(Settings::from_toml_with_env(&text, Vec::new())?)
}

pub async fn run(db: Option<PathBuf>) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let db_path = db.unwrap_or_else(|| tmp.path().join("demo.db"));
    let jira = FakeJira::start(
        &["HELP", "SALES"],
        vec![FakeAuth::Basic { user: "demo-bot@mailgate.example".into(), secret: "demo-token".into() }],
    )
    .await?;
    let settings = demo_settings(&jira.base_url(), &format!("sqlite://{}", db_path.display()))?;
    let app = crate::startup::Application::build_with_clock(&settings, Arc::new(SystemClock)).await?;
    let ingest = app.ingest();

    let mailbox = MemoryMailbox::new();
    for (_, bytes) in SAMPLE_MAILS {
        mailbox.append(bytes);
    }
    let connector = MemoryConnector::new("demo", mailbox.clone(), Some("Processed"), Some("Failed"));
    let mut source = connector.connect().await?;
    let stats = ingest::cycle(&ingest, source.as_mut(), "demo").await?;

    println!("mailgate demo: {} sample mails delivered to an in-memory IMAP inbox", SAMPLE_MAILS.len());
    println!("database: {} (SQLite), fake Jira: {}\n", db_path.display(), jira.base_url());
    println!("Processing log:");
    let mut log = app.context().store.recent_log(100).await?;
    log.reverse();
    // Each file with the log row of its Message-ID (mails run side by side,
    // so the log's order is not the files' order); a repeated Message-ID
    // takes the next row of that id.
    let mut used = vec![false; log.len()];
    for (file, bytes) in SAMPLE_MAILS {
        let mid = crate::mime::parse(bytes).ok().and_then(|m| m.message_id).map(|m| m.to_string());
        let found = (0..log.len()).find(|&i| !used[i] && log[i].message_id.is_some() && log[i].message_id == mid);
        let Some(i) = found else {
            println!("  {file:<30} (not in the log)");
            continue;
        };
        used[i] = true;
        let entry = &log[i];
        println!(
            "  {file:<30} {:<8} {:<9} {}",
            entry.action,
            entry.issue_key.as_deref().unwrap_or("-"),
            entry.detail.as_deref().or(entry.error.as_deref()).unwrap_or("")
        );
    }
    println!("\nIn Jira now:");
    for issue in jira.issues() {
        println!("  {} [{}] {}", issue.key, issue.labels.join(","), issue.summary);
        for line in adf_to_text(&issue.description).lines().take(3) {
            println!("      | {line}");
        }
        for a in &issue.attachments {
            println!("      attachment: {} ({} bytes)", a.filename, a.data.len());
        }
        for c in &issue.comments {
            let text = adf_to_text(&c.body);
            println!("      comment {}: {}", c.id, text.lines().filter(|l| !l.is_empty()).nth(1).unwrap_or(""));
        }
    }
    let in_processed = mailbox.mails().iter().filter(|m| m.folder == "Processed" && m.seen).count();
    println!(
        "\n{} mails stored, {} processed, {} acknowledged (moved to Processed: {in_processed}).",
        stats.stored, stats.processed, stats.acknowledged
    );
    app.context().store.close().await;
    Ok(())
}
