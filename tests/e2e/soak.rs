//! Soak: 200 mails (120 new, 20 of them with attachments, 80 replies in
//! threads matched by In-Reply-To) through Dovecot and `mailgate run`,
//! with 30% of Jira calls failing (5xx, 429, answers lost after the
//! effect), the strict fake's 3 s search lag, and the process killed
//! (SIGKILL) ten times at random moments. Afterwards the counts are exact:
//! one issue per new mail, one comment per reply in its thread's issue and
//! in order, each attachment once, every mail acknowledged.

use std::time::Duration;

use mailgate::store::Status;
use mailgate_testkit::fake_jira::Fault;
use mailgate_testkit::process::terminate;
use mailgate_testkit::{TestApp, fixture, mail, wait_until};

const NEW: usize = 120;
const THREADS_WITH_REPLIES: usize = 40;
const REPLIES: usize = 2;

/// xorshift64: a repeatable sequence for a seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `mailgate run`, its log appended to `soak.log` in the app's folder.
fn start(app: &TestApp) -> std::process::Child {
    crate::spawn_run(app, None, Some(&app.dir().join("soak.log")))
}

fn parent(t: usize) -> Vec<u8> {
    let subject = format!("Soak {t:03}");
    if t.is_multiple_of(6) {
        let raw = String::from_utf8(fixture("with-attachments.eml")).expect("ascii fixture");
        raw.replace("<att-1@customer.test>", &format!("<p{t}@soak.test>"))
            .replace("Subject: VPN does not connect", &format!("Subject: {subject}"))
            .into_bytes()
    } else {
        mail(&format!("p{t}@soak.test"), &format!("u{t}@c.test"), "help@corp.test", &subject, "", "new")
    }
}

fn reply(t: usize, k: usize) -> Vec<u8> {
    let headers = format!("In-Reply-To: <p{t}@soak.test>\r\nReferences: <p{t}@soak.test>\r\n");
    let (id, from) = (format!("r{t}-{k}@soak.test"), format!("u{t}@c.test"));
    mail(&id, &from, "help@corp.test", &format!("Re: Soak {t:03}"), &headers, &format!("reply {k} to {t}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_mails_under_faults_kills_and_search_lag_end_in_exact_counts() {
    let seed = 0x5eed_2026_u64;
    let mut rng = Rng(seed);
    let app = crate::run_app()
        .set("jira.timeout_secs", 1)
        .set("inbound.max_attempts", 10_000)
        .set("inbound.lease_secs", 2)
        .spawn()
        .await;
    let mut imap = app.imap().await;
    for t in 0..NEW {
        imap.append(&parent(t)).await;
    }
    for k in 0..REPLIES {
        for t in 0..THREADS_WITH_REPLIES {
            imap.append(&reply(t, k)).await;
        }
    }
    let total = u32::try_from(NEW + THREADS_WITH_REPLIES * REPLIES).expect("small");
    app.jira.fail_share(
        30,
        vec![
            Fault::Status(500),
            Fault::StatusAfterEffect(504),
            Fault::RateLimit { retry_after_secs: 1 },
            Fault::SlowAfterEffect(Duration::from_millis(1500)),
            Fault::Status(503),
        ],
        seed,
    );

    for _ in 0..10 {
        let mut run = start(&app);
        tokio::time::sleep(Duration::from_millis(1000 + rng.below(3000))).await;
        // SIGKILL: no cleanup, no release of claims.
        let _ = run.kill();
        let _ = run.wait();
    }
    let mut run = start(&app);
    let settled = || async { app.imap_counts("Processed").await.0 + app.imap_counts("Failed").await.0 == total };
    let done = wait_until(Duration::from_secs(240), settled).await && app.imap_counts("Processed").await.0 == total;
    terminate(&mut run, Duration::from_secs(20));
    app.jira.clear_faults();

    if !done {
        let store = app.store().await;
        let mut by_status = Vec::new();
        for status in [Status::Pending, Status::Done, Status::Failed, Status::Ignored] {
            by_status.push((status, store.count_by_status(status).await.expect("count")));
        }
        let dead = store.dead_letters(10).await.expect("dead letters");
        let dead: Vec<String> = dead.iter().map(|d| format!("{d:?}")).collect();
        let log = std::fs::read_to_string(app.dir().join("soak.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).take(20).collect();
        panic!(
            "seed {seed:#x}: {:?} of {total} acknowledged, Failed folder {:?}, rows {by_status:?}, dead {dead:?}\n{}",
            app.imap_counts("Processed").await,
            app.imap_counts("Failed").await,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    let issues = app.jira.issues();
    let mut summaries: Vec<String> = issues.iter().map(|i| i.summary.clone()).collect();
    summaries.sort();
    let want: Vec<String> = (0..NEW).map(|t| format!("Soak {t:03}")).collect();
    assert_eq!(summaries, want, "seed {seed:#x}: one issue per new mail, no reply became an issue");
    for i in &issues {
        let t: usize = i.summary.trim_start_matches("Soak ").parse().expect("thread number");
        let bodies: Vec<String> = i.comments.iter().map(|c| c.body.to_string()).collect();
        let want = if t < THREADS_WITH_REPLIES { REPLIES } else { 0 };
        assert_eq!(bodies.len(), want, "seed {seed:#x}: {} has one comment per reply", i.key);
        for (k, body) in bodies.iter().enumerate() {
            assert!(body.contains(&format!("reply {k} to {t}")), "seed {seed:#x}: {} in order: {bodies:?}", i.key);
        }
        let attachments = if t.is_multiple_of(6) { 2 } else { 0 };
        assert_eq!(i.attachments.len(), attachments, "seed {seed:#x}: {} attachments once", i.key);
    }
    assert_eq!(imap.counts("INBOX").await, (0, 0), "nothing left unacknowledged");
    assert_eq!(imap.counts("Processed").await, (total, 0));
    imap.logout().await;
}
