//! End to end: mailgate's pipeline, service and binary against the fake
//! Jira, a real Dovecot, the SMTP sink, SQLite and PostgreSQL. One test
//! binary; each test builds its world with `mailgate_testkit::TestApp`.

mod audit;
mod crash;
mod faults;
mod multi_instance;
mod pipeline;
mod store_raw;

/// The binary under test (built with the `crash-points` feature in test builds).
const MAILGATE: &str = env!("CARGO_BIN_EXE_mailgate");
