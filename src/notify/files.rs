//! Files an agent adds go out with the notification: each is read once per
//! event (its metadata, then its bytes up to `notify.attachment_max_bytes`)
//! and kept with the event, so every recipient's mail and every retry
//! attaches the same bytes without asking Jira again. Bigger files are
//! linked. Files mailgate itself uploaded (from a customer's mail) are left
//! out: the customer sent them.

use super::Notifier;
use super::error::NotifyError;
use super::event::Event;
use crate::jira::JiraError;

/// At most this many files are attached to one mail; more are linked.
const MAX_FILES: usize = 10;

impl Notifier {
    /// Read the event's files: attach an agent's small ones, link the big
    /// ones, drop mailgate's own uploads and deleted files.
    pub(super) async fn gather_files(&self, event: &mut Event) -> Result<(), NotifyError> {
        if event.files.is_empty() {
            return Ok(());
        }
        let ours = self.own_account().await;
        let mut kept = Vec::new();
        for (idx, mut file) in std::mem::take(&mut event.files).into_iter().enumerate() {
            let what = format!("attachment {}", file.filename);
            let meta = match self.jira.attachment_meta(&file.id).await {
                Ok(m) => m,
                Err(JiraError::NotFound(_)) => continue, // deleted since
                Err(source) if source.is_transient() => return Err(NotifyError::Jira { what: what.clone(), source }),
                Err(e) => {
                    tracing::warn!(file = %file.filename, error = %e, "cannot read an attachment; left out");
                    continue;
                }
            };
            if ours.is_some() && meta.author.as_ref().and_then(|a| a.id()) == ours.as_deref() {
                continue;
            }
            file.filename = meta.filename.clone();
            file.size = Some(meta.size);
            file.url = Some(format!(
                "{}/secure/attachment/{}/{}",
                self.jira_base.trim_end_matches('/'),
                meta.id,
                urlencoding(&meta.filename)
            ));
            let stored = self.store.event_file_exists(&event.id, idx as i64).await?;
            if stored {
                file.attached = true;
            } else if kept.iter().filter(|f: &&super::event::FileRef| f.attached).count() < MAX_FILES
                && meta.size <= self.attachment_max_bytes
            {
                match self.jira.download_attachment(&meta.id, self.attachment_max_bytes).await {
                    Ok(Some(bytes)) => {
                        let now = self.clock.now_ms();
                        self.store
                            .put_event_file(&event.id, idx as i64, &meta.filename, &meta.mime_type, &bytes, now)
                            .await?;
                        file.attached = true;
                    }
                    Ok(None) => {}
                    Err(source) if source.is_transient() => {
                        return Err(NotifyError::Jira { what: what.clone(), source });
                    }
                    Err(e) => {
                        tracing::warn!(file = %file.filename, error = %e, "cannot download an attachment; linked")
                    }
                }
            }
            kept.push(file);
        }
        event.files = kept;
        Ok(())
    }

    /// The account mailgate posts as (cached; `None` when Jira cannot say now).
    async fn own_account(&self) -> Option<String> {
        if let Some(id) = self.own_account.get() {
            return id.clone();
        }
        match self.jira.myself().await {
            Ok(me) => {
                let id = me.id().map(String::from);
                let _ = self.own_account.set(id.clone());
                id
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read mailgate's own Jira account");
                None
            }
        }
    }
}

/// A file name as a URL path segment.
fn urlencoding(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
