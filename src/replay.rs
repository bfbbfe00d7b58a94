//! `mailgate replay`: saved mails through the pipeline, or with `--dry-run`
//! only the decision, one JSON object per mail.

use std::path::Path;

use serde::Serialize;

use crate::classify::{self, Decision};
use crate::mime;
use crate::pipeline::{Pipeline, RowOutcome};
use crate::store::NewInbound;

#[derive(Debug, Serialize)]
pub struct AttachmentReport {
    pub filename: String,
    pub size: usize,
    pub sha256: String,
}

/// What happens (or would happen) to one mail.
#[derive(Debug, Serialize)]
pub struct ReplayReport {
    pub file: String,
    pub message_id: Option<String>,
    pub action: String,
    pub issue_key: Option<String>,
    pub reason: Option<String>,
    pub from: Option<String>,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub attachments: Vec<AttachmentReport>,
}

/// Decide what a raw mail would do, without side effects.
pub async fn dry_run(pipeline: &Pipeline, file: &str, raw: &[u8]) -> ReplayReport {
    let msg = match mime::parse(raw) {
        Ok(m) => m,
        Err(e) => return error_report(file, format!("cannot parse mail: {e}")),
    };
    let decision = match pipeline.decide(&msg).await {
        Ok(d) => d,
        Err(e) => return error_report(file, e.to_string()),
    };
    let (uploads, skipped) = pipeline.select_attachments(&msg.attachments);
    let (issue_key, reason, summary) = match &decision {
        Decision::Create(t) => {
            (None, Some(format!("new issue in {}", t.project)), Some(classify::summary(&msg.subject)))
        }
        Decision::Comment { issue, matched_by } => {
            (Some(issue.to_string()), Some(format!("reply matched by {matched_by:?}")), None)
        }
        Decision::Ignore(r) => (None, Some(r.to_string()), None),
    };
    let body = match &decision {
        Decision::Ignore(_) => None,
        d => Some(pipeline.body_for(&msg, d, &skipped)),
    };
    ReplayReport {
        file: file.to_string(),
        message_id: msg.message_id.as_ref().map(|m| m.to_string()),
        action: decision.action_name().to_string(),
        issue_key,
        reason,
        from: msg.sender().map(|a| a.to_string()),
        summary,
        body,
        attachments: uploads
            .iter()
            .map(|a| AttachmentReport { filename: a.filename.clone(), size: a.data.len(), sha256: a.sha256_hex() })
            .collect(),
    }
}

fn error_report(file: &str, reason: String) -> ReplayReport {
    ReplayReport {
        file: file.to_string(),
        message_id: None,
        action: "error".into(),
        issue_key: None,
        reason: Some(reason),
        from: None,
        summary: None,
        body: None,
        attachments: Vec::new(),
    }
}

/// Store the mail as a replay row and process it.
pub async fn replay(pipeline: &Pipeline, file: &Path, raw: &[u8]) -> anyhow::Result<ReplayReport> {
    let name = file.display().to_string();
    let new = NewInbound { mailbox: "replay", uidvalidity: None, uid: None, source: Some(&name), raw };
    let id = pipeline
        .store
        .insert_inbound(&new, pipeline.clock.now_ms())
        .await?
        .ok_or_else(|| anyhow::anyhow!("replay row was not stored"))?;
    let row = pipeline.store.inbound(id).await?.ok_or_else(|| anyhow::anyhow!("replay row vanished"))?;
    let mut report = dry_run(pipeline, &name, raw).await;
    let outcome = pipeline.process(&row).await?;
    match outcome {
        RowOutcome::Done { action, issue } => {
            report.action = action.to_string();
            report.issue_key = Some(issue.to_string());
        }
        RowOutcome::Ignored(reason) => {
            report.action = "ignore".into();
            report.reason = Some(reason);
        }
        RowOutcome::Failed(e) => {
            report.action = "failed".into();
            report.reason = Some(e);
        }
        RowOutcome::Retry(e) => {
            report.action = "pending".into();
            report.reason = Some(format!("will be retried by `mailgate run`: {e}"));
        }
    }
    Ok(report)
}
