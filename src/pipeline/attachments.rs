//! Attachments, uploaded one by one after the issue or comment, resuming
//! after the last one recorded. Each upload is announced in the store
//! before it is made; a resumed mail with an announced upload not recorded
//! as done (a crash mid-upload), or after a failed attempt (an answer may
//! be lost), first reads the issue's attachments: what it already holds
//! (same name and size) is not sent again; names are unique within a mail
//! (given at parse time), so two files of one mail are never taken for each
//! other. A file Jira refuses for good (413, 400, 403…) is skipped and
//! listed; the mail still finishes.

use super::{Pipeline, Skipped};
use crate::domain::{Attachment, IssueKey, MessageId, Sha256Digest};
use crate::jira::{JiraError, Upload};
use crate::store::{InboundRow, StoreError};

impl Pipeline {
    /// Upload what is left of `uploads`. Answers the files Jira refused for
    /// good (`name (error)`); the inner error is a Jira failure that ends
    /// the attempt (transient, or the credentials).
    pub(super) async fn upload_attachments(
        &self,
        row: &InboundRow,
        mid: &MessageId,
        key: &IssueKey,
        uploads: &[&Attachment],
    ) -> Result<Result<Vec<String>, JiraError>, StoreError> {
        let first = usize::try_from(row.attachments_done).unwrap_or(0);
        let mut present: Vec<(String, u64)> = Vec::new();
        if (row.attempts > 0 || row.upload_outstanding()) && first < uploads.len() {
            match self.jira.attachments(key).await {
                Ok(list) => present = list,
                Err(e) => return Ok(Err(e)),
            }
        }
        let mut refused = Vec::new();
        for (n, a) in uploads.iter().enumerate().skip(first) {
            let done = n as i64 + 1;
            let here = (a.filename.clone(), a.data.len() as u64);
            if let Some(pos) = present.iter().position(|p| *p == here) {
                present.remove(pos);
                tracing::info!(file = %a.filename, "attachment from an earlier attempt found; not uploading again");
                self.store.record_attachments_done(row.id, done, self.clock.now_ms()).await?;
                continue;
            }
            let upload =
                Upload { filename: a.filename.clone(), content_type: a.content_type.clone(), data: a.data.clone() };
            // Durable before the call: a crash from here on makes the next attempt look first.
            self.store.announce_upload(row.id, done, self.clock.now_ms()).await?;
            crate::crash::point("before_upload");
            match self.jira.add_attachment(key, &upload).await {
                Ok(_) => {
                    crate::crash::point("after_upload");
                    let what = format!("attachment {} ({} bytes) uploaded to {key}", a.filename, a.data.len());
                    self.note(row, Some(mid), "jira", &what);
                }
                Err(e) if e.is_transient() || matches!(e, JiraError::Unauthorized) => return Ok(Err(e)),
                Err(e) => {
                    tracing::warn!(file = %a.filename, error = %e, "attachment refused by Jira; skipped");
                    let what = format!("attachment {} ({} bytes) refused by Jira: {e}", a.filename, a.data.len());
                    self.note(row, Some(mid), "jira", &what);
                    refused.push(format!("{} ({e})", a.filename));
                }
            }
            self.store.record_attachments_done(row.id, done, self.clock.now_ms()).await?;
        }
        Ok(Ok(refused))
    }

    /// Count the block-listed files of a finished mail, once: after its
    /// outcome is committed, so a retried attempt does not count them again
    /// (a crash between the two loses the counts of one mail, which
    /// statistics can afford). A database error here only costs the counts.
    pub(super) async fn count_blocked(&self, skipped: &[Skipped]) {
        let digests: Vec<&Sha256Digest> = skipped.iter().filter_map(|s| s.reason.blocked_digest()).collect();
        if let Err(e) = self.store.count_blocked_attachments(&digests, self.clock.now_ms()).await {
            tracing::warn!(error = %e, "could not count the block-listed attachments");
        }
    }
}
