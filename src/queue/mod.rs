//! The durable queues (inbound mail, notification events, the outbox) share
//! one mechanism: rows claimed under a lease ([`lease`]), one retry policy
//! ([`retry`]) and one worker loop ([`worker`]).

pub mod lease;
pub mod retry;
pub mod worker;

pub use lease::{Lease, QueueTable};
pub use retry::{Retry, RetryPolicy};
pub use worker::{Step, every, run_worker};

use crate::clock::Clock;

/// This process, as the owner of the rows it claims. Made once at start-up
/// from the injected clock and handed to every worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn new(clock: &dyn Clock) -> Self {
        Self(format!("{}-{}", std::process::id(), clock.now_ms()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for InstanceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
