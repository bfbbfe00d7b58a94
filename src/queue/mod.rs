//! The durable queues (inbound mail, notification events, the outbox) share
//! one mechanism: rows claimed under a lease (the store's
//! [`queue`](crate::store::queue) SQL, one text per dialect), one retry
//! policy ([`retry`]) and one worker loop ([`worker`]).

pub mod retry;
pub mod worker;

pub use crate::store::queue::{InstanceId, LEASE_MS, Lease, QueueTable};
pub use retry::RetryPolicy;
pub use worker::{Step, every, run_worker};
