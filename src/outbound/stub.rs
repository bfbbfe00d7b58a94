//! A transport for unit tests: records what it is given, fails on demand.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use lettre::Message;

use super::transport::{MailTransport, SendError};

#[derive(Default)]
pub struct StubTransport {
    sent: Mutex<Vec<Message>>,
    failures: Mutex<VecDeque<SendError>>,
}

impl StubTransport {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `send` fails with `error` (queued: one failure per call).
    pub fn fail_next(&self, error: SendError) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).push_back(error);
    }

    /// Every mail accepted so far.
    pub fn sent(&self) -> Vec<Message> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn transient(text: &str) -> SendError {
        SendError::Transient(text.to_string().into())
    }

    pub fn permanent(text: &str) -> SendError {
        SendError::Permanent(text.to_string().into())
    }
}

#[async_trait]
impl MailTransport for StubTransport {
    async fn send(&self, message: Message) -> Result<(), SendError> {
        if let Some(e) = self.failures.lock().unwrap_or_else(|p| p.into_inner()).pop_front() {
            return Err(e);
        }
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(message);
        Ok(())
    }
}
