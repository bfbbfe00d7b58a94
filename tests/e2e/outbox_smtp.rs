//! The outbox worker against a real SMTP server: the Python sink
//! `scripts/dev/smtp_sink.py` (aiosmtpd; `scripts/dev/install-test-deps.sh`
//! installs it), started per test on a free loopback port.

use std::time::Duration;

use mailgate::clock::{Clock, SystemClock};
use mailgate::domain::EmailAddress;
use mailgate::outbound::{DeliveryOutcome, LOOP_GUARD_ERROR, Mailer, RetryPolicy, run_outbox, try_deliver_one};
use mailgate::store::{NewOutgoing, OutgoingRow, Store};
use mailgate_testkit::smtp::Sink;
use mailgate_testkit::{TestApp, TestAppBuilder};
use tokio::time::Instant;

const FROM: &str = "help@example.test";
const KIND: &str = "test-mail";
/// Only a bound for a test that would otherwise hang; nothing is timed.
const DEADLINE: Duration = Duration::from_secs(30);

/// A fresh SQLite store, the mailer for the app's `[smtp]` (from FROM), and
/// a fast retry policy.
struct Ctx {
    app: TestApp,
    store: Store,
    mailer: Mailer,
    policy: RetryPolicy,
    own: Vec<EmailAddress>,
    owner: mailgate::queue::InstanceId,
}

impl Ctx {
    /// `smtp` picks the SMTP side: `with_smtp_args(..)` or `smtp_nowhere()`.
    async fn new(smtp: impl FnOnce(TestAppBuilder) -> TestAppBuilder) -> Self {
        let from = format!("[smtp]\nfrom = \"{FROM}\"\nfrom_name = \"Help Desk\"\ntimeout_secs = 10\n");
        let app = smtp(TestApp::builder()).toml(&from).spawn().await;
        let store = app.store().await;
        let mailer = Mailer::new(app.settings().smtp.as_ref().expect("smtp")).expect("mailer");
        let policy = RetryPolicy { base_ms: 50, max_ms: 200, max_attempts: 20 };
        let own = vec![EmailAddress::parse(FROM).expect("own")];
        let owner = mailgate::queue::InstanceId::new(&SystemClock);
        Self { app, store, mailer, policy, own, owner }
    }

    /// The sink the app was built with.
    fn sink(&self) -> &Sink {
        self.app.sink()
    }

    /// The SMTP port mail goes to.
    fn port(&self) -> u16 {
        self.app.settings().smtp.as_ref().expect("smtp").port
    }

    async fn enqueue(&self, dedupe_key: &str, recipient: &str, subject: &str) -> bool {
        let message_id = format!("{dedupe_key}@mailgate.test");
        let m = NewOutgoing {
            dedupe_key,
            kind: KIND,
            recipient,
            subject,
            body_text: "Your request was received.",
            body_html: None,
            message_id: &message_id,
            in_reply_to: None,
            issue_key: Some("SUP-1"),
            reply_to: None,
            event_id: None,
        };
        self.store.enqueue(&m, SystemClock.now_ms()).await.expect("enqueue")
    }

    async fn deliver_once(&self) -> DeliveryOutcome {
        try_deliver_one(&self.store, &self.mailer, &SystemClock, &self.policy, &self.own, &self.owner)
            .await
            .expect("deliver")
    }

    /// Attempts (waiting for backoffs to fall due) until `done` says so;
    /// returns every non-empty outcome.
    async fn deliver_until(&self, done: impl Fn(&[DeliveryOutcome]) -> bool) -> Vec<DeliveryOutcome> {
        let deadline = Instant::now() + DEADLINE;
        let mut outcomes = Vec::new();
        while !done(&outcomes) {
            assert!(Instant::now() < deadline, "gave up waiting; outcomes so far: {outcomes:?}");
            match self.deliver_once().await {
                DeliveryOutcome::Empty => tokio::time::sleep(Duration::from_millis(10)).await,
                o => outcomes.push(o),
            }
        }
        outcomes
    }

    async fn rows(&self) -> Vec<OutgoingRow> {
        self.store.outgoing_of_kind(KIND).await.expect("rows")
    }

    /// (result, error) of each recorded attempt for one row.
    async fn attempts(&self, id: i64) -> Vec<(String, Option<String>)> {
        sqlx::query_as::<_, (String, Option<String>)>(
            "select result, error from outbox_attempts where outbox_id = ? order by id",
        )
        .bind(id)
        .fetch_all(self.store.pool())
        .await
        .expect("attempts")
    }

    async fn attempt_count(&self, id: i64) -> i64 {
        let (n,) = sqlx::query_as::<_, (i64,)>("select count(*) from outbox_attempts where outbox_id = ?")
            .bind(id)
            .fetch_one(self.store.pool())
            .await
            .expect("count");
        n
    }
}

fn ends_with(last: DeliveryOutcome) -> impl Fn(&[DeliveryOutcome]) -> bool {
    move |o| o.last() == Some(&last)
}

#[tokio::test]
async fn a_queued_mail_is_delivered_exactly_once() {
    // Arrange
    let ctx = Ctx::new(|b| b.with_smtp()).await;
    let sink = ctx.sink();
    assert!(ctx.enqueue("created:SUP-1:alice", "Alice@Customer.test", "[SUP-1] We got your request").await);

    // Act
    let first = ctx.deliver_once().await;
    let second = ctx.deliver_once().await;

    // Assert
    assert_eq!((first, second), (DeliveryOutcome::Delivered, DeliveryOutcome::Empty));
    let got = sink.received();
    assert_eq!(got.len(), 1);
    let mail = &got[0];
    assert_eq!(mail.mail_from, FROM);
    assert_eq!(mail.rcpt_tos, ["alice@customer.test"]);
    let headers = mail.headers();
    assert!(headers.contains("Message-ID: <created:SUP-1:alice@mailgate.test>"), "{headers}");
    assert!(headers.contains("Auto-Submitted: auto-generated"), "{headers}");
    assert!(headers.contains("X-Mailgate-Loop: yes"), "{headers}");
    assert!(headers.contains("Subject: [SUP-1] We got your request"), "{headers}");
    assert!(mail.raw.contains("Your request was received."));
    let rows = ctx.rows().await;
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("sent", 1));
    assert_eq!(ctx.attempt_count(rows[0].id).await, 1);
}

#[tokio::test]
async fn a_mail_waits_while_the_server_is_down_and_is_sent_once_it_is_up() {
    // Arrange: nothing listens on the port yet.
    let ctx = Ctx::new(|b| b.smtp_nowhere()).await;
    ctx.enqueue("down-then-up", "bob@customer.test", "hello").await;

    // Act
    let while_down = ctx.deliver_until(|o| o.len() == 2).await;
    let sink = Sink::start(ctx.port(), &[]).await;
    let once_up = ctx.deliver_until(ends_with(DeliveryOutcome::Delivered)).await;

    // Assert
    assert_eq!(while_down, [DeliveryOutcome::Retried, DeliveryOutcome::Retried]);
    assert_eq!(once_up, [DeliveryOutcome::Delivered]);
    assert_eq!(sink.received().len(), 1);
    let row = &ctx.rows().await[0];
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 3));
    let attempts = ctx.attempts(row.id).await;
    let results: Vec<&str> = attempts.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(results, ["pending", "pending", "sent"]);
    assert!(attempts[..2].iter().all(|(_, e)| e.is_some()), "{attempts:?}");
    assert_eq!(ctx.attempt_count(row.id).await, 3);
    assert_eq!(ctx.deliver_once().await, DeliveryOutcome::Empty);
}

#[tokio::test]
async fn transient_4xx_replies_are_retried_until_the_mail_is_accepted() {
    // Arrange
    let ctx = Ctx::new(|b| b.with_smtp_args(&["--fail-first", "2"])).await;
    let sink = ctx.sink();
    ctx.enqueue("fail-first-2", "carol@customer.test", "hello").await;

    // Act
    let outcomes = ctx.deliver_until(ends_with(DeliveryOutcome::Delivered)).await;

    // Assert
    assert_eq!(outcomes, [DeliveryOutcome::Retried, DeliveryOutcome::Retried, DeliveryOutcome::Delivered]);
    assert_eq!(sink.received().len(), 1);
    let row = &ctx.rows().await[0];
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 3));
    let attempts = ctx.attempts(row.id).await;
    assert_eq!(attempts.len(), 3);
    for (result, error) in &attempts[..2] {
        assert_eq!(result, "pending");
        assert!(error.as_deref().is_some_and(|e| e.contains("try again later")), "{error:?}");
    }
    assert_eq!(attempts[2], ("sent".to_string(), None));
}

#[tokio::test]
async fn a_permanent_5xx_reply_gives_up_without_retrying() {
    let ctx = Ctx::new(|b| b.with_smtp_args(&["--reject-first", "1"])).await;
    let sink = ctx.sink();
    ctx.enqueue("rejected", "dave@customer.test", "hello").await;

    let outcomes = ctx.deliver_until(|o| !o.is_empty()).await;

    assert_eq!(outcomes, [DeliveryOutcome::GaveUp]);
    assert_eq!(ctx.deliver_once().await, DeliveryOutcome::Empty);
    assert!(sink.received().is_empty());
    let row = &ctx.rows().await[0];
    assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));
}

#[tokio::test]
async fn enqueueing_the_same_dedupe_key_twice_sends_one_mail() {
    let ctx = Ctx::new(|b| b.with_smtp()).await;
    let sink = ctx.sink();

    let first = ctx.enqueue("comment:SUP-1:10001", "erin@customer.test", "first").await;
    let again = ctx.enqueue("comment:SUP-1:10001", "erin@customer.test", "second").await;
    let outcomes = ctx.deliver_until(|o| !o.is_empty()).await;

    assert_eq!((first, again), (true, false));
    assert_eq!(outcomes, [DeliveryOutcome::Delivered]);
    assert_eq!(ctx.deliver_once().await, DeliveryOutcome::Empty);
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].headers().contains("Subject: first"), "{}", got[0].headers());
}

#[tokio::test]
async fn mail_to_one_of_our_own_addresses_is_never_sent() {
    // Arrange: one mail to ourselves (other case), one to a customer.
    let ctx = Ctx::new(|b| b.with_smtp()).await;
    let sink = ctx.sink();
    ctx.enqueue("to-self", "Help@Example.TEST", "loop").await;
    ctx.enqueue("to-customer", "frank@customer.test", "fine").await;

    // Act
    let outcomes = ctx.deliver_until(|o| o.len() == 2).await;

    // Assert
    assert_eq!(outcomes, [DeliveryOutcome::GaveUp, DeliveryOutcome::Delivered]);
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_tos, ["frank@customer.test"]);
    let rows = ctx.rows().await;
    assert_eq!(rows[0].status, mailgate::store::OutboxStatus::Failed);
    assert_eq!(ctx.attempts(rows[0].id).await, [("failed".to_string(), Some(LOOP_GUARD_ERROR.to_string()))]);
    assert_eq!(ctx.deliver_once().await, DeliveryOutcome::Empty);
}

#[tokio::test]
async fn the_worker_loop_drains_the_queue_and_stops_when_told() {
    let ctx = Ctx::new(|b| b.with_smtp_args(&["--fail-first", "1"])).await;
    let sink = ctx.sink();
    ctx.enqueue("loop-1", "gina@customer.test", "one").await;
    ctx.enqueue("loop-2", "hank@customer.test", "two").await;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    let worker = run_outbox(&ctx.store, &ctx.mailer, &SystemClock, &ctx.policy, &ctx.own, &ctx.owner, stop_rx);
    let watcher = async {
        while sink.received().len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop_tx.send(true).expect("worker listens");
    };
    tokio::time::timeout(DEADLINE, async { tokio::join!(worker, watcher) }).await.expect("the worker stopped");

    let rows = ctx.rows().await;
    assert!(rows.iter().all(|r| r.status == mailgate::store::OutboxStatus::Sent), "{rows:?}");
    let mut rcpts: Vec<String> = sink.received().into_iter().flat_map(|m| m.rcpt_tos).collect();
    rcpts.sort();
    assert_eq!(rcpts, ["gina@customer.test", "hank@customer.test"]);
}
