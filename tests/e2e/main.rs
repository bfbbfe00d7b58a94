//! End to end: mailgate's pipeline, service and binary against the fake
//! Jira, a real Dovecot, the SMTP sink, SQLite and PostgreSQL. One test
//! binary; each test builds its world with `mailgate_testkit::TestApp`.

mod admin_api;
mod audit;
mod cli;
mod conversation;
mod crash;
mod faults;
mod identity;
mod inbound_imap;
mod multi_instance;
mod notify;
mod outbox_smtp;
mod pipeline;
mod scripts;
mod secrets;
mod stats;
mod store_raw;
mod store_retry;
mod throttle;

/// The binary under test (built with the `crash-points` feature in test builds).
const MAILGATE: &str = env!("CARGO_BIN_EXE_mailgate");
