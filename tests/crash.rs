//! Crash tests: `mailgate run` is aborted (no cleanup, like SIGKILL) at each
//! pipeline step over a batch of mails, then restarted. Afterwards Jira
//! holds exactly one issue or comment per mail and every mail is
//! acknowledged in IMAP.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::dovecot::Dovecot;
use common::{Imap, JIRA_TOKEN, JIRA_USER, fake_jira, mail};

fn config(dir: &std::path::Path, jira: &str, port: u16) -> std::path::PathBuf {
    let path = dir.join("mailgate.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[database]
url = "sqlite://{}/mailgate.db"
[jira]
flavor = "cloud"
base_url = "{jira}"
auth = {{ kind = "basic", user = "{JIRA_USER}", secret = "{JIRA_TOKEN}" }}
timeout_secs = 5
[inbound]
own_addresses = ["help@corp.test"]
retry_base_ms = 100
[routing]
default = {{ project = "HELP" }}
[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = {port}
tls = "none"
user = "{}"
password = "{}"
processed_folder = "Processed"
failed_folder = "Failed"
poll_interval_secs = 1
"#,
            dir.display(),
            common::dovecot::USER,
            common::dovecot::PASSWORD
        ),
    )
    .expect("config");
    path
}

fn start(config: &std::path::Path, crash_at: Option<&str>) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailgate"));
    c.arg("--config").arg(config).arg("run").stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(point) = crash_at {
        c.env("MAILGATE_TEST_CRASH_AT", point);
    }
    c.spawn().expect("mailgate run starts")
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_at_any_step_every_mail_ends_in_exactly_one_issue_or_comment() {
    common::init();
    for point in [
        "after_fetch:2",
        "after_store:2",
        "after_jira_post:2",
        "after_jira_post:4",
        "before_imap_ack:1",
        "after_imap_ack:1",
    ] {
        let dovecot = Dovecot::start();
        let jira = fake_jira().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path(), &jira.base_url(), dovecot.port);
        let mut imap = Imap::connect(dovecot.port).await;
        imap.append(&mail("m1@c.test", "ann@c.test", "help@corp.test", "First problem", "", "one")).await;
        imap.append(&common::fixture("with-attachments.eml")).await;
        imap.append(&mail("m3@c.test", "bob@c.test", "help@corp.test", "Third problem", "", "three")).await;
        imap.append(&mail("m4@c.test", "ann@c.test", "help@corp.test", "Re: [HELP-1] First problem", "", "a reply"))
            .await;

        let mut crashing = start(&cfg, Some(point));
        let status = wait_exit(&mut crashing, Duration::from_secs(60)).expect("the run crashed at the crash point");
        assert!(!status.success(), "{point}: aborted, not a clean exit");

        let mut service = start(&cfg, None);
        let done = common::wait_until(Duration::from_secs(60), || async {
            let mut probe = Imap::connect(dovecot.port).await;
            let processed = probe.counts("Processed").await;
            probe.logout().await;
            processed == (4, 0) && jira.issue("HELP-1").is_some_and(|i| i.comments.len() == 1)
        })
        .await;
        let _ = Command::new("kill").arg("-TERM").arg(service.id().to_string()).status();
        let _ = wait_exit(&mut service, Duration::from_secs(20));

        assert!(done, "{point}: all mails processed after the restart");
        let mut summaries: Vec<String> = jira.issues().into_iter().map(|i| i.summary).collect();
        summaries.sort();
        assert_eq!(
            summaries,
            vec!["First problem", "Third problem", "VPN does not connect"],
            "{point}: one issue per new mail"
        );
        assert_eq!(jira.issue("HELP-1").expect("HELP-1").comments.len(), 1, "{point}: one comment for the reply");
        let vpn = jira.issues().into_iter().find(|i| i.summary == "VPN does not connect").expect("vpn");
        assert_eq!(vpn.attachments.len(), 2, "{point}: attachments once");
        assert_eq!(imap.counts("INBOX").await, (0, 0), "{point}: nothing left unacknowledged");
        assert_eq!(imap.counts("Processed").await, (4, 0), "{point}");
        imap.logout().await;
    }
}
