//! A bounce of our mail stops notifications to its recipient for a while.
//! What counts is decided in `classify::suppress`; here it is only read,
//! looked up in the outbox and recorded.

use super::Pipeline;
use crate::classify::{self, dsn};
use crate::domain::MessageId;
use crate::store::{BounceMark, InboundRow, StoreError};

const DAY_MS: i64 = 24 * 3600 * 1000;

impl Pipeline {
    /// Suppress the recipients a bounce reports as permanently failed for a
    /// mail we sent; every outcome goes into the mail's audit trail.
    pub(super) async fn suppress_bounced(&self, row: &InboundRow, mid: &MessageId) -> Result<(), StoreError> {
        // The raw bytes were let go once the mail was parsed.
        let raw: std::borrow::Cow<'_, [u8]> = match row.raw.is_empty() {
            true => self.store.inbound(row.id).await?.map(|r| r.raw).unwrap_or_default().into(),
            false => (&row.raw[..]).into(),
        };
        let report = dsn::read(&raw);
        let sent = self.store.sent_mails(&report.references).await?;
        let found = match classify::suppressions(&report, &sent) {
            Ok(found) => found,
            Err(why) => {
                tracing::info!(%why, "bounce suppresses no address");
                self.note(row, Some(mid), "bounce", &format!("no address suppressed: {why}"));
                return Ok(());
            }
        };
        let now = self.clock.now_ms();
        let expires_at = now.saturating_add(i64::from(self.policy.bounce_suppression_days).saturating_mul(DAY_MS));
        let until = chrono::DateTime::from_timestamp_millis(expires_at).map(|t| t.to_rfc3339()).unwrap_or_default();
        for s in &found {
            let reason = format!("bounce {mid} of our mail {} ({})", s.message_id, s.status);
            let mark = BounceMark {
                email: &s.address,
                reason: &reason,
                message_id: Some(&s.message_id),
                status: &s.status,
                expires_at,
            };
            self.store.mark_bouncing(&mark, now).await?;
            tracing::info!(address = %s.address, status = %s.status, %until, "address bounced; not notified until then");
            let detail =
                format!("{} suppressed until {until}: status {} for our mail {}", s.address, s.status, s.message_id);
            self.note(row, Some(mid), "bounce", &detail);
        }
        Ok(())
    }
}
