//! Attachments, uploaded one by one after the issue or comment, resuming
//! after the last one recorded. After a failed attempt an upload may have
//! landed without its answer: what the issue already holds (same name and
//! size) is not sent again.

use super::Pipeline;
use crate::domain::{Attachment, IssueKey, MessageId};
use crate::jira::{JiraError, Upload};
use crate::store::{InboundRow, StoreError};

impl Pipeline {
    /// Upload what is left of `uploads`. The inner error is Jira's.
    pub(super) async fn upload_attachments(
        &self,
        row: &InboundRow,
        mid: &MessageId,
        key: &IssueKey,
        uploads: &[&Attachment],
    ) -> Result<Result<(), JiraError>, StoreError> {
        let first = usize::try_from(row.attachments_done).unwrap_or(0);
        let mut present: Vec<(String, u64)> = Vec::new();
        if row.attempts > 0 && first < uploads.len() {
            match self.jira.attachments(key).await {
                Ok(list) => present = list,
                Err(e) => return Ok(Err(e)),
            }
        }
        for (n, a) in uploads.iter().enumerate().skip(first) {
            let here = (a.filename.clone(), a.data.len() as u64);
            if let Some(pos) = present.iter().position(|p| *p == here) {
                present.remove(pos);
                tracing::info!(file = %a.filename, "attachment from an earlier attempt found; not uploading again");
                self.store.record_attachments_done(row.id, n as i64 + 1, self.clock.now_ms()).await?;
                continue;
            }
            let upload =
                Upload { filename: a.filename.clone(), content_type: a.content_type.clone(), data: a.data.clone() };
            if let Err(e) = self.jira.add_attachment(key, &upload).await {
                return Ok(Err(e));
            }
            let what = format!("attachment {} ({} bytes) uploaded to {key}", a.filename, a.data.len());
            self.note(row, Some(mid), "jira", &what);
            self.store.record_attachments_done(row.id, n as i64 + 1, self.clock.now_ms()).await?;
        }
        Ok(Ok(()))
    }
}
