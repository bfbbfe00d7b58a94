//! An in-memory mailbox with IMAP semantics that matter here: UIDs,
//! `\Seen`, folders, and a wake-up when mail is appended.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{AckTarget, MailConnector, MailSource, MailboxError};

#[derive(Debug, Clone)]
pub struct StoredMail {
    pub uid: u32,
    pub bytes: Vec<u8>,
    pub seen: bool,
    pub folder: String,
}

#[derive(Default)]
struct Inner {
    next_uid: u32,
    generation: u64,
    mails: Vec<StoredMail>,
}

/// A shared in-memory mailbox. Clone it to keep a handle for assertions.
#[derive(Clone, Default)]
pub struct MemoryMailbox {
    inner: Arc<Mutex<Inner>>,
    notify: Arc<Notify>,
}

impl MemoryMailbox {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deliver a mail into INBOX; returns its UID.
    pub fn append(&self, bytes: &[u8]) -> u32 {
        let uid = {
            let mut g = self.lock();
            g.next_uid += 1;
            g.generation += 1;
            let uid = g.next_uid;
            g.mails.push(StoredMail { uid, bytes: bytes.to_vec(), seen: false, folder: "INBOX".into() });
            uid
        };
        self.notify.notify_waiters();
        uid
    }

    /// Mark a mail `\Seen`, as another mail client reading it would.
    pub fn mark_seen(&self, uid: u32) {
        let mut g = self.lock();
        g.mails.iter_mut().filter(|m| m.uid == uid).for_each(|m| m.seen = true);
    }

    pub fn mails(&self) -> Vec<StoredMail> {
        self.lock().mails.clone()
    }
}

pub struct MemoryConnector {
    name: String,
    mailbox: MemoryMailbox,
    processed: Option<String>,
    failed: Option<String>,
}

impl MemoryConnector {
    pub fn new(name: &str, mailbox: MemoryMailbox, processed: Option<&str>, failed: Option<&str>) -> Self {
        Self { name: name.into(), mailbox, processed: processed.map(String::from), failed: failed.map(String::from) }
    }
}

struct MemorySession {
    mailbox: MemoryMailbox,
    generation: u64,
    uid_next: u32,
    processed: Option<String>,
    failed: Option<String>,
}

#[async_trait]
impl MailConnector for MemoryConnector {
    fn name(&self) -> &str {
        &self.name
    }

    async fn connect(&self) -> Result<Box<dyn MailSource>, MailboxError> {
        let uid_next = self.mailbox.lock().next_uid + 1;
        Ok(Box::new(MemorySession {
            mailbox: self.mailbox.clone(),
            generation: 0,
            uid_next,
            processed: self.processed.clone(),
            failed: self.failed.clone(),
        }))
    }
}

#[async_trait]
impl MailSource for MemorySession {
    fn uidvalidity(&self) -> u32 {
        1
    }

    fn uid_next(&self) -> Option<u32> {
        Some(self.uid_next)
    }

    async fn unseen_uids(&mut self) -> Result<Vec<u32>, MailboxError> {
        let g = self.mailbox.lock();
        self.generation = g.generation;
        Ok(g.mails.iter().filter(|m| !m.seen && m.folder == "INBOX").map(|m| m.uid).collect())
    }

    async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, MailboxError> {
        let g = self.mailbox.lock();
        self.generation = g.generation;
        Ok(g.mails.iter().filter(|m| m.uid > after && m.folder == "INBOX").map(|m| m.uid).collect())
    }

    async fn fetch_many(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, MailboxError> {
        let g = self.mailbox.lock();
        Ok(uids
            .iter()
            .filter_map(|&uid| {
                let m = g.mails.iter().find(|m| m.uid == uid && m.folder == "INBOX")?;
                Some((uid, m.bytes.clone()))
            })
            .collect())
    }

    async fn acknowledge_many(&mut self, uids: &[u32], target: AckTarget) -> Result<(), MailboxError> {
        let folder = match target {
            AckTarget::Processed => self.processed.clone(),
            AckTarget::Failed => self.failed.clone(),
        };
        let mut g = self.mailbox.lock();
        for m in g.mails.iter_mut().filter(|m| uids.contains(&m.uid) && m.folder == "INBOX") {
            m.seen = true;
            if let Some(f) = &folder {
                m.folder = f.clone();
            }
        }
        Ok(())
    }

    async fn wait(&mut self, timeout: Duration) -> Result<(), MailboxError> {
        let notified = self.mailbox.notify.notified();
        if self.mailbox.lock().generation != self.generation {
            return Ok(());
        }
        let _ = tokio::time::timeout(timeout, notified).await;
        Ok(())
    }
}
