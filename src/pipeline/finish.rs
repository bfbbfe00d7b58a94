//! How an attempt ends: a committed outcome, a failure that keeps the raw
//! mail for replay, or a Jira error turned into a hold, a retry or a failure.

use super::{Pipeline, RowOutcome};
use crate::domain::{IssueKey, MessageId};
use crate::jira::JiraError;
use crate::store::{Finish, HoldReason, InboundRow, LoggedAction, Status, StoreError};

/// Held mail is looked at again after this long.
pub(super) const HOLD_MS: i64 = 60_000;

impl Pipeline {
    pub(super) async fn jira_failed(
        &self,
        row: &InboundRow,
        mid: &MessageId,
        e: &JiraError,
    ) -> Result<RowOutcome, StoreError> {
        let now = self.clock.now_ms();
        let error = e.to_string();
        let kind = if e.is_transient() { "transient" } else { "permanent" };
        self.note(row, Some(mid), "jira", &format!("call failed ({kind}): {error}"));
        // Refused credentials (a 401, or a 3LO grant that gives no token):
        // the mail waits for an admin, it is not the mail's fault.
        if matches!(e, JiraError::Unauthorized) || matches!(e, JiraError::OAuth(o) if !o.is_transient()) {
            tracing::warn!(error = %e, "Jira credentials rejected; mail held until they work");
            self.store.hold(row.id, HoldReason::Credentials, &error, now + HOLD_MS, now).await?;
            return Ok(RowOutcome::Retry(error));
        }
        if !e.is_transient() {
            return self.fail(row, Some(mid), "jira", &error).await;
        }
        let mut delay = self.policy.retry.delay_ms(row.attempts);
        if let JiraError::RateLimited { retry_after: Some(d) } = e {
            delay = delay.max(i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        }
        let attempts = self.store.retry_later(row.id, &error, now.saturating_add(delay), now).await?;
        if !self.policy.retry.gives_up(attempts - 1) {
            tracing::warn!(error = %e, attempts, delay_ms = delay, "Jira call failed; will retry");
            return Ok(RowOutcome::Retry(error));
        }
        let error = format!("gave up after {attempts} attempts: {error}");
        self.fail(row, Some(mid), "jira", &error).await
    }

    /// The mail failed for good: the raw mail is kept, its Message-ID is
    /// released so a replay may claim it. An issue or comment Jira already
    /// holds stays recorded (its thread link too), so a dead-letter replay
    /// resumes it instead of creating another.
    pub(super) async fn fail(
        &self,
        row: &InboundRow,
        mid: Option<&MessageId>,
        stage: &str,
        error: &str,
    ) -> Result<RowOutcome, StoreError> {
        tracing::error!(stage, error, "mail failed; raw message kept for replay");
        self.note(row, mid, "failed", &format!("{stage}: {error}"));
        let posted = self.store.posted(row.id).await?;
        let action = posted.as_ref().map(|(a, _)| *a).or(row.state.action());
        let f = Finish {
            status: Status::Failed,
            action: action.map_or(LoggedAction::None, LoggedAction::Jira),
            reason: Some(stage),
            issue_key: posted.as_ref().map(|(_, k)| k),
            message_id: mid,
            error: Some(error),
            detail: None,
        };
        let notes = self.notes.take(row.id);
        self.store.finish_noted(row, &f, self.clock.now_ms(), &notes).await?;
        if let Some(mid) = mid {
            self.store.release_claim(mid, row.id).await?;
        }
        Ok(RowOutcome::Failed(error.to_string()))
    }

    #[expect(clippy::too_many_arguments, reason = "one call site per outcome, all named")]
    pub(super) async fn finish(
        &self,
        row: &InboundRow,
        status: Status,
        action: LoggedAction,
        reason: Option<&str>,
        key: Option<&IssueKey>,
        mid: &MessageId,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        let outcome = format!(
            "{} {} {}",
            status.as_str(),
            action.as_str(),
            key.map(|k| k.to_string()).or_else(|| reason.map(String::from)).unwrap_or_default()
        );
        self.note(row, Some(mid), "outcome", outcome.trim());
        let f = Finish { status, action, reason, issue_key: key, message_id: Some(mid), error: None, detail };
        let notes = self.notes.take(row.id);
        self.store.finish_noted(row, &f, self.clock.now_ms(), &notes).await
    }
}
