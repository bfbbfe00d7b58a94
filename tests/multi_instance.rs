//! Two `mailgate run` processes on the same mailbox and the same PostgreSQL
//! database: every mail is processed once (row claims with
//! `FOR UPDATE SKIP LOCKED` and a lease), and acknowledged once.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::dovecot::Dovecot;
use common::{Imap, JIRA_TOKEN, JIRA_USER, TestDb, fake_jira, mail};

fn start(config: &std::path::Path, log: &std::path::Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_mailgate"))
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("MAILGATE_LOG", "info,sqlx=warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("mailgate run starts")
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    for _ in 0..200 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_process_each_mail_once() {
    common::init();
    let Some(db) = TestDb::postgres().await else { return };
    let dovecot = Dovecot::start();
    let jira = fake_jira().await;
    jira.seed_issue("HELP", "Shared thread");
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("mailgate.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[database]
url = "{}"
[jira]
flavor = "cloud"
base_url = "{}"
auth = {{ kind = "basic", user = "{JIRA_USER}", secret = "{JIRA_TOKEN}" }}
[inbound]
own_addresses = ["help@corp.test"]
[routing]
default = {{ project = "HELP" }}
[[mailboxes]]
name = "support"
host = "127.0.0.1"
port = {}
tls = "none"
user = "{}"
password = "{}"
processed_folder = "Processed"
poll_interval_secs = 1
"#,
            db.url,
            jira.base_url(),
            dovecot.port,
            common::dovecot::USER,
            common::dovecot::PASSWORD
        ),
    )
    .expect("config");
    let mut imap = Imap::connect(dovecot.port).await;
    for n in 0..24 {
        if n % 4 == 3 {
            imap.append(&mail(
                &format!("r{n}@c.test"),
                "ann@c.test",
                "help@corp.test",
                "Re: [HELP-1] Shared thread",
                "",
                "reply",
            ))
            .await;
        } else {
            imap.append(&mail(
                &format!("n{n}@c.test"),
                "bob@c.test",
                "help@corp.test",
                &format!("New {n:02}"),
                "",
                "new",
            ))
            .await;
        }
    }

    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let a = start(&cfg, &log_a);
    let b = start(&cfg, &log_b);
    let done = common::wait_until(Duration::from_secs(90), || async {
        let mut probe = Imap::connect(dovecot.port).await;
        let processed = probe.counts("Processed").await;
        probe.logout().await;
        processed.0 == 24 && jira.issues().len() == 19 && jira.issue("HELP-1").is_some_and(|i| i.comments.len() == 6)
    })
    .await;
    stop(a);
    stop(b);

    let logs = format!(
        "--- a ---\n{}\n--- b ---\n{}",
        std::fs::read_to_string(&log_a).unwrap_or_default(),
        std::fs::read_to_string(&log_b).unwrap_or_default()
    );
    assert!(
        done,
        "all 24 mails processed (issues: {}, comments: {:?}, processed: {:?})\n{logs}",
        jira.issues().len(),
        jira.issue("HELP-1").map(|i| i.comments.len()),
        imap.counts("Processed").await
    );
    let mut summaries: Vec<String> =
        jira.issues().into_iter().map(|i| i.summary).filter(|s| s.starts_with("New")).collect();
    let total = summaries.len();
    summaries.dedup();
    assert_eq!((total, summaries.len()), (18, 18), "each new mail created one issue");
    assert_eq!(jira.issue("HELP-1").expect("HELP-1").comments.len(), 6, "each reply one comment");
    assert_eq!(jira.calls().iter().filter(|c| *c == "POST /rest/api/3/issue").count(), 18, "no doubled create call");
    assert_eq!(imap.counts("INBOX").await, (0, 0));
    assert_eq!(imap.counts("Processed").await, (24, 0));
    imap.logout().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_outbox_workers_on_postgres_send_each_mail_once() {
    use mailgate::clock::{Clock, SystemClock};
    use mailgate::outbound::{DeliveryOutcome, Mailer, RetryPolicy, try_deliver_one};
    common::init();
    let Some(db) = TestDb::postgres().await else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
    let sink = common::smtp::Sink::start(port, &[]).await;
    let store = mailgate::store::Store::connect(&db.url).await.expect("store");
    let now = SystemClock.now_ms();
    for n in 0..40 {
        let m = mailgate::store::NewOutgoing {
            dedupe_key: &format!("k{n}"),
            kind: "test",
            recipient: &format!("r{n:02}@c.test"),
            subject: "s",
            body_text: "b",
            body_html: None,
            message_id: &format!("o{n}@mailgate.test"),
            in_reply_to: None,
            issue_key: None,
        };
        assert!(store.enqueue(&m, now).await.expect("enqueue"));
    }
    let smtp = mailgate::config::SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        tls: mailgate::config::TlsMode::None,
        user: None,
        password: None,
        from: mailgate::domain::EmailAddress::parse("help@corp.test").expect("from"),
        from_name: None,
        ca_file: None,
        timeout_secs: 5,
    };
    let worker = || {
        let store = store.clone();
        let mailer = Mailer::new(&smtp).expect("mailer");
        async move {
            let mut sent = 0;
            while try_deliver_one(
                &store,
                &mailer,
                &SystemClock,
                &RetryPolicy::default(),
                &[],
                &mailgate::queue::InstanceId::new(&SystemClock),
            )
            .await
            .expect("deliver")
                != DeliveryOutcome::Empty
            {
                sent += 1;
            }
            sent
        }
    };
    let (a, b) = tokio::join!(tokio::spawn(worker()), tokio::spawn(worker()));
    let (a, b) = (a.expect("worker a"), b.expect("worker b"));

    assert_eq!(a + b, 40, "each row sent by exactly one worker ({a} + {b})");
    let mut to: Vec<String> = sink.received().into_iter().flat_map(|m| m.rcpt_tos).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 40);
    assert_eq!(sink.received().len(), 40, "no mail twice");
    store.close().await;
    db.cleanup().await;
}
