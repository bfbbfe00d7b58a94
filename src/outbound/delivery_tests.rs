//! The delivery logic against the stub transport: no TCP, no SMTP server.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lettre::message::Mailbox;

use super::*;
use crate::clock::ManualClock;
use crate::store::NewOutgoing;

const KIND: &str = "unit-test";
const OWN: &str = "help@example.test";

struct Ctx {
    store: Store,
    stub: Arc<StubTransport>,
    mailer: Mailer,
    clock: ManualClock,
    policy: RetryPolicy,
    own: Vec<EmailAddress>,
    owner: InstanceId,
    _dir: tempfile::TempDir,
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("time")
}

impl Ctx {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.expect("store");
        let stub = Arc::new(StubTransport::new());
        let from = Mailbox::new(Some("Help Desk".into()), OWN.parse().expect("address"));
        let mailer = Mailer::with_transport(from, stub.clone());
        let policy = RetryPolicy { base_ms: 1_000, max_ms: 10_000, max_attempts: 3 };
        let own = vec![EmailAddress::parse(OWN).expect("own")];
        let clock = ManualClock::at(t0());
        let owner = InstanceId::new(&clock);
        Self { store, stub, mailer, clock, policy, own, owner, _dir: dir }
    }

    async fn enqueue(&self, key: &str, recipient: &str, message_id: &str) {
        let m = NewOutgoing {
            dedupe_key: key,
            kind: KIND,
            recipient,
            subject: "Your request",
            body_text: "Received.",
            body_html: None,
            message_id,
            in_reply_to: None,
            issue_key: None,
            reply_to: None,
            event_id: None,
        };
        assert!(self.store.enqueue(&m, self.clock.now_ms()).await.expect("enqueue"));
    }

    async fn deliver(&self) -> DeliveryOutcome {
        try_deliver_one(&self.store, &self.mailer, &self.clock, &self.policy, &self.own, &self.owner)
            .await
            .expect("deliver")
    }

    async fn row(&self) -> OutgoingRow {
        let rows = self.store.outgoing_of_kind(KIND).await.expect("rows");
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows.into_iter().next().expect("one row")
    }

    /// (result, error) of each recorded attempt.
    async fn attempts(&self) -> Vec<(String, Option<String>)> {
        sqlx::query_as::<_, (String, Option<String>)>("select result, error from outbox_attempts order by id")
            .fetch_all(self.store.pool())
            .await
            .expect("attempts")
    }
}

#[tokio::test]
async fn an_accepted_mail_is_recorded_as_sent() {
    let ctx = Ctx::new().await;
    ctx.enqueue("k1", "Alice@Example.test", "k1@mailgate.test").await;

    assert_eq!(ctx.deliver().await, DeliveryOutcome::Delivered);

    let sent = ctx.stub.sent();
    assert_eq!(sent.len(), 1);
    let rcpts: Vec<String> = sent[0].envelope().to().iter().map(ToString::to_string).collect();
    assert_eq!(rcpts, ["alice@example.test"]);
    assert_eq!(sent[0].headers().get_raw("Message-ID"), Some("<k1@mailgate.test>"));
    let row = ctx.row().await;
    assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
    assert_eq!(ctx.attempts().await, [("sent".to_string(), None)]);
    assert_eq!(ctx.deliver().await, DeliveryOutcome::Empty, "nothing left");
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_the_backoff() {
    let ctx = Ctx::new().await;
    ctx.enqueue("k1", "alice@example.test", "k1@mailgate.test").await;
    ctx.stub.fail_next(StubTransport::transient("421 try again later"));

    assert_eq!(ctx.deliver().await, DeliveryOutcome::Retried);
    let row = ctx.row().await;
    assert_eq!((row.status.as_str(), row.attempts), ("pending", 1));
    assert_eq!(ctx.attempts().await, [("pending".to_string(), Some("421 try again later".to_string()))]);

    // Not due before the first backoff has passed.
    assert_eq!(ctx.deliver().await, DeliveryOutcome::Empty);
    ctx.clock.advance(Duration::milliseconds(ctx.policy.delay_ms(0)));
    assert_eq!(ctx.deliver().await, DeliveryOutcome::Delivered);
    assert_eq!(ctx.stub.sent().len(), 1);
    assert_eq!(ctx.row().await.status, OutboxStatus::Sent);
}

#[tokio::test]
async fn transient_failures_give_up_after_the_last_attempt() {
    let ctx = Ctx::new().await;
    ctx.enqueue("k1", "alice@example.test", "k1@mailgate.test").await;
    let mut outcomes = Vec::new();
    for attempt in 0..ctx.policy.max_attempts {
        ctx.stub.fail_next(StubTransport::transient("connection refused"));
        outcomes.push(ctx.deliver().await);
        ctx.clock.advance(Duration::milliseconds(ctx.policy.delay_ms(attempt)));
    }

    assert_eq!(outcomes, [DeliveryOutcome::Retried, DeliveryOutcome::Retried, DeliveryOutcome::GaveUp]);
    let row = ctx.row().await;
    assert_eq!((row.status.as_str(), row.attempts), ("failed", ctx.policy.max_attempts));
    assert!(ctx.stub.sent().is_empty());
    assert_eq!(ctx.deliver().await, DeliveryOutcome::Empty, "a failed row is not tried again");
}

#[tokio::test]
async fn a_permanent_failure_gives_up_at_once() {
    let ctx = Ctx::new().await;
    ctx.enqueue("k1", "alice@example.test", "k1@mailgate.test").await;
    ctx.stub.fail_next(StubTransport::permanent("550 no such user"));

    assert_eq!(ctx.deliver().await, DeliveryOutcome::GaveUp);

    let row = ctx.row().await;
    assert_eq!((row.status.as_str(), row.attempts), ("failed", 1));
    assert_eq!(ctx.attempts().await, [("failed".to_string(), Some("550 no such user".to_string()))]);
    assert!(ctx.stub.sent().is_empty());
}

#[tokio::test]
async fn mail_to_our_own_address_is_never_handed_to_the_transport() {
    let ctx = Ctx::new().await;
    ctx.enqueue("k1", "Help@Example.test", "k1@mailgate.test").await;

    assert_eq!(ctx.deliver().await, DeliveryOutcome::GaveUp);

    assert!(ctx.stub.sent().is_empty());
    assert_eq!(ctx.attempts().await, [("failed".to_string(), Some(LOOP_GUARD_ERROR.to_string()))]);
}

#[tokio::test]
async fn a_row_that_cannot_become_a_mail_is_given_up_unsent() {
    let ctx = Ctx::new().await;
    ctx.enqueue("k1", "alice@example.test", "not a message id").await;

    assert_eq!(ctx.deliver().await, DeliveryOutcome::GaveUp);

    assert!(ctx.stub.sent().is_empty());
    let attempts = ctx.attempts().await;
    assert!(attempts[0].1.as_deref().is_some_and(|e| e.contains("invalid Message-ID")), "{attempts:?}");
}

#[test]
fn send_errors_say_whether_to_retry() {
    let transient = StubTransport::transient("x");
    let permanent = StubTransport::permanent("y");
    assert!(transient.is_transient() && !transient.is_permanent());
    assert!(permanent.is_permanent() && !permanent.is_transient());
}
