//! A store that is briefly unavailable (SQLite "database is locked") is
//! waited out on the same IMAP session: the mailbox loop does not reconnect.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use mailgate::mailbox::{MailConnector, MailSource, MailboxError, MemoryConnector};
use mailgate_testkit::{TestApp, mail};
use sqlx::Connection;

/// Counts the sessions the loop opens.
struct Counting {
    inner: MemoryConnector,
    connects: Arc<AtomicUsize>,
}

#[async_trait]
impl MailConnector for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn connect(&self) -> Result<Box<dyn MailSource>, MailboxError> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        self.inner.connect().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_is_waited_out_without_reconnecting_to_imap() {
    // Arrange: another connection holds the write lock for longer than
    // SQLite's busy timeout (5 s), so the loop's writes fail as "locked".
    let app = TestApp::spawn().await;
    let ingest = Arc::new(app.ingest().await);
    let mut locker = sqlx::AnyConnection::connect(app.db_url()).await.expect("second connection");
    sqlx::query("begin exclusive").execute(&mut locker).await.expect("lock");
    app.receive(mail("locked@c.test", "a@c.test", "help@corp.test", "While locked", "", "x"));
    let connects = Arc::new(AtomicUsize::new(0));
    let connector = Counting {
        inner: MemoryConnector::new("support", app.mailbox().clone(), None, None),
        connects: connects.clone(),
    };
    let (stop, rx) = tokio::sync::watch::channel(false);

    // Act
    let run = tokio::spawn(mailgate::ingest::run_mailbox(ingest, Arc::new(connector), Duration::from_secs(1), rx));
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert!(app.jira.issues().is_empty(), "nothing is processed while the database is locked");
    sqlx::query("rollback").execute(&mut locker).await.expect("unlock");
    let processed =
        mailgate_testkit::wait_until(Duration::from_secs(30), || async { app.jira.issues().len() == 1 }).await;
    let _ = stop.send(true);
    let _ = run.await;

    // Assert
    assert!(processed, "the mail is processed once the lock is gone");
    assert_eq!(connects.load(Ordering::SeqCst), 1, "one IMAP session throughout");
}
