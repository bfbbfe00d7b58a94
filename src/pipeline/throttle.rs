//! Mail storms and the per-issue update limit: pure verdicts, and the step
//! that reads the counts and carries a verdict out.

use super::{Pipeline, RowOutcome};
use crate::classify::{Decision, IgnoreReason};
use crate::domain::{InboundMessage, MessageId};
use crate::store::{InboundRow, LoggedAction, Status, StoreError};

const HOUR_MS: i64 = 3_600_000;

/// Whether `recent` mails from one sender within the hour are a storm.
pub(super) fn is_storm(recent: i64, max_per_hour: i64) -> bool {
    recent > max_per_hour
}

/// Until when a comment on an issue waits, if it must: behind an earlier
/// held comment on the same issue (order kept), or until the oldest comment
/// in the window leaves it when the window is full.
pub(super) fn limit_until(
    earlier_held_until: Option<i64>,
    in_window: (i64, Option<i64>),
    max_per_window: i64,
    window_ms: i64,
) -> Option<i64> {
    match earlier_held_until {
        Some(earlier) => Some(earlier + 1),
        None => match in_window {
            (n, Some(oldest)) if n >= max_per_window => Some(oldest + window_ms),
            _ => None,
        },
    }
}

impl Pipeline {
    /// `Some` when the mail is ignored (storm) or held back (limit) instead
    /// of processed now.
    pub(super) async fn throttled(
        &self,
        row: &InboundRow,
        msg: &InboundMessage,
        mid: &MessageId,
        decision: &Decision,
    ) -> Result<Option<RowOutcome>, StoreError> {
        let now = self.clock.now_ms();
        if row.state.posted_issue().is_some() || row.resumed() {
            return Ok(None);
        }
        let inbound = &self.policy.inbound;
        if let Some(sender) = msg.sender() {
            self.store.set_sender(row.id, sender.as_ref()).await?;
            let recent = self.store.count_from_sender(sender.as_ref(), now - HOUR_MS).await?;
            if is_storm(recent, inbound.storm_max_per_hour) {
                let reason = IgnoreReason::MailStorm(sender.to_string()).to_string();
                tracing::warn!(%sender, recent, "mail storm: ignoring mail from this sender for now");
                let body = format!(
                    "{recent} mails from {sender} arrived within an hour (limit {}). Further mail from this sender is                          ignored until the rate drops; the raw mails are kept and can be replayed.\n",
                    inbound.storm_max_per_hour
                );
                let subject = format!("mailgate: mail storm from {sender}");
                let key = format!("storm:{sender}:{}", now / HOUR_MS);
                crate::outbound::notify_admins(&self.store, &self.policy.admins, &key, &subject, &body, now).await?;
                let logged = LoggedAction::Ignore;
                self.finish(row, Status::Ignored, logged, Some(&reason), None, mid, Some(&reason)).await?;
                return Ok(Some(RowOutcome::Ignored(reason)));
            }
        }
        let Decision::Comment { issue, .. } = decision else { return Ok(None) };
        let window = inbound.issue_update_window_secs.max(1) * 1000;
        let earlier = self.store.earlier_throttled(issue.as_ref(), row.id).await?;
        let in_window = match earlier {
            Some(_) => (0, None),
            None => self.store.comments_since(issue.as_ref(), now - window).await?,
        };
        let Some(until) = limit_until(earlier, in_window, inbound.max_updates_per_issue, window) else {
            return Ok(None);
        };
        let reason =
            format!("throttled: at most {} updates per {} s on {issue}", inbound.max_updates_per_issue, window / 1000);
        tracing::info!(%issue, wait_ms = until - now, "per-issue limit reached; comment waits");
        self.note(row, Some(mid), "throttle", &reason);
        self.store.throttle(row.id, issue.as_ref(), until, &reason, now).await?;
        Ok(Some(RowOutcome::Retry(reason)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_than_the_hourly_limit_is_a_storm() {
        assert!(!is_storm(30, 30));
        assert!(is_storm(31, 30));
    }

    #[test]
    fn a_comment_waits_behind_an_earlier_held_one_or_for_the_window() {
        assert_eq!(limit_until(Some(5_000), (0, None), 10, 60_000), Some(5_001));
        assert_eq!(limit_until(None, (10, Some(1_000)), 10, 60_000), Some(61_000));
        assert_eq!(limit_until(None, (9, Some(1_000)), 10, 60_000), None);
        assert_eq!(limit_until(None, (0, None), 0, 60_000), None);
    }
}
