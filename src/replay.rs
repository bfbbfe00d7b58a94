//! `mailgate replay`: saved mails through the pipeline, or with `--dry-run`
//! only the decision, one JSON object per mail.

use std::path::Path;

use serde::Serialize;

use crate::classify::Decision;
use crate::context::AppContext;
use crate::mime;
use crate::pipeline::{Parsed, Pipeline, RequestPreview, RowOutcome, Skipped};
use crate::store::{Action, NewInbound};

/// What happened (or would happen) to a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplayAction {
    Create,
    Comment,
    Ignore,
    /// Left pending: `mailgate run` tries it again.
    Pending,
    /// Processed and failed.
    Failed,
    /// Could not even be decided (unparseable mail, store error).
    Error,
}

impl ReplayAction {
    /// The mail did not get through.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Error)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Comment => "comment",
            Self::Ignore => "ignore",
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Error => "error",
        }
    }
}

impl From<Action> for ReplayAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Create => Self::Create,
            Action::Comment => Self::Comment,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AttachmentReport {
    pub filename: String,
    pub content_type: String,
    pub size: usize,
    pub sha256: String,
}

/// What happens (or would happen) to one mail.
#[derive(Debug, Serialize)]
pub struct ReplayReport {
    pub file: String,
    pub message_id: Option<String>,
    pub action: ReplayAction,
    pub issue_key: Option<String>,
    pub reason: Option<String>,
    pub from: Option<String>,
    /// The sender's display name, decoded.
    pub from_name: Option<String>,
    /// The decoded Subject as the mail has it.
    pub subject: Option<String>,
    /// The Jira summary made from it (also for replies and ignored mail).
    pub summary: Option<String>,
    pub body: Option<String>,
    pub attachments: Vec<AttachmentReport>,
    /// Attachments that would not be uploaded, and why.
    pub skipped: Vec<Skipped>,
    /// The create or comment request as it would be sent to Jira (method,
    /// path, JSON body); ids Jira is asked for first show as emails, listed
    /// in `looked_up`.
    pub jira_request: Option<RequestPreview>,
}

/// Decide what a raw mail would do, without side effects.
pub async fn dry_run(pipeline: &Pipeline, file: &str, raw: &[u8]) -> ReplayReport {
    report_for(pipeline, file, &mime::parse(raw)).await
}

/// What a parsed mail would do.
async fn report_for(pipeline: &Pipeline, file: &str, parsed: &Parsed) -> ReplayReport {
    let msg = match parsed {
        Ok(m) => m,
        Err(e) => return error_report(file, format!("cannot parse mail: {e}")),
    };
    let decision = match pipeline.decide(msg).await {
        Ok(d) => d,
        Err(e) => return error_report(file, e.to_string()),
    };
    let plan = pipeline.plan(msg, &decision);
    let jira_request = pipeline.jira_request(msg, &decision);
    let (issue_key, reason) = match &decision {
        Decision::Create(t) => (None, Some(format!("new issue in {}", t.project))),
        Decision::Comment { issue, matched_by } => {
            (Some(issue.to_string()), Some(format!("reply matched by {matched_by:?}")))
        }
        Decision::Ignore(r) => (None, Some(r.to_string())),
    };
    let (action, body) = match &decision {
        Decision::Ignore(_) => (ReplayAction::Ignore, None),
        Decision::Create(_) => (ReplayAction::Create, Some(plan.body)),
        Decision::Comment { .. } => (ReplayAction::Comment, Some(plan.body)),
    };
    ReplayReport {
        file: file.to_string(),
        message_id: msg.message_id.as_ref().map(|m| m.to_string()),
        action,
        issue_key,
        reason,
        from: msg.sender().map(|a| a.to_string()),
        from_name: msg.from.as_ref().and_then(|m| m.name.clone()),
        subject: Some(msg.subject.clone()),
        summary: Some(plan.summary),
        body,
        attachments: plan
            .uploads
            .iter()
            .map(|a| AttachmentReport {
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                size: a.data.len(),
                sha256: a.sha256_hex(),
            })
            .collect(),
        skipped: plan.skipped,
        jira_request,
    }
}

fn error_report(file: &str, reason: String) -> ReplayReport {
    ReplayReport {
        file: file.to_string(),
        message_id: None,
        action: ReplayAction::Error,
        issue_key: None,
        reason: Some(reason),
        from: None,
        from_name: None,
        subject: None,
        summary: None,
        body: None,
        attachments: Vec::new(),
        skipped: Vec::new(),
        jira_request: None,
    }
}

/// Store the mail as a replay row and process it.
pub async fn replay(ctx: &AppContext, pipeline: &Pipeline, file: &Path, raw: &[u8]) -> anyhow::Result<ReplayReport> {
    replay_row(ctx, pipeline, file, raw, None).await
}

/// Replay dead letter `dead`: a new row that resumes where the dead mail
/// stopped (its issue or comment is never made again; attachments are
/// looked for before any upload).
pub async fn replay_dead_letter(
    ctx: &AppContext,
    pipeline: &Pipeline,
    dead: i64,
    raw: &[u8],
) -> anyhow::Result<ReplayReport> {
    let file = format!("dead-letter:{dead}");
    replay_row(ctx, pipeline, Path::new(&file), raw, Some(dead)).await
}

async fn replay_row(
    ctx: &AppContext,
    pipeline: &Pipeline,
    file: &Path,
    raw: &[u8],
    dead: Option<i64>,
) -> anyhow::Result<ReplayReport> {
    let name = file.display().to_string();
    let new = NewInbound { mailbox: "replay", uidvalidity: None, uid: None, source: Some(&name), raw };
    let id = ctx
        .store
        .insert_inbound(&new, ctx.clock.now_ms())
        .await?
        .ok_or_else(|| anyhow::anyhow!("replay row was not stored"))?;
    if let Some(dead) = dead {
        ctx.store.resume_from(id, dead, ctx.clock.now_ms()).await?;
    }
    let row = ctx.store.inbound(id).await?.ok_or_else(|| anyhow::anyhow!("replay row vanished"))?;
    // Parsed once: the report and the processing share it.
    let parsed = mime::parse(raw);
    let mut report = report_for(pipeline, &name, &parsed).await;
    let outcome = pipeline.process(&row, parsed).await?;
    match outcome {
        RowOutcome::Done { action, issue } => {
            report.action = action.into();
            report.issue_key = Some(issue.to_string());
        }
        RowOutcome::Ignored(reason) => {
            report.action = ReplayAction::Ignore;
            report.reason = Some(reason);
        }
        RowOutcome::Failed(e) => {
            report.action = ReplayAction::Failed;
            report.reason = Some(e);
        }
        RowOutcome::Retry(e) => {
            report.action = ReplayAction::Pending;
            report.reason = Some(format!("will be retried by `mailgate run`: {e}"));
        }
    }
    Ok(report)
}
