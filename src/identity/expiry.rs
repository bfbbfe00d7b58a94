//! Token expiry warnings: at each configured threshold (30, 14, 7, 3, 1
//! days by default) and at expiry, once each: a WARN log line and an admin
//! notice (`outbound::notices`) to every admin address.

use crate::clock::Clock;
use crate::domain::EmailAddress;
use crate::outbound::notices;
use crate::store::{Store, StoreError};

use super::token::days_left;

/// Check the stored token against the thresholds. Returns the thresholds
/// newly crossed by this check (a mail goes out for the smallest one).
pub async fn check_expiry(
    store: &Store,
    clock: &dyn Clock,
    warn_days: &[i64],
    admins: &[EmailAddress],
) -> Result<Vec<i64>, StoreError> {
    let Some(rec) = store.token().await? else { return Ok(Vec::new()) };
    let now = clock.now_ms();
    let left = days_left(rec.expires_at, now);
    let mut thresholds: Vec<i64> = warn_days.iter().copied().chain(std::iter::once(0)).collect();
    thresholds.sort_unstable_by(|a, b| b.cmp(a));
    thresholds.dedup();
    let mut newly = Vec::new();
    for t in thresholds.into_iter().filter(|t| left <= *t) {
        if store.note_token_warning(&rec.id, t, now).await? {
            newly.push(t);
        }
    }
    let Some(&smallest) = newly.iter().min() else { return Ok(newly) };
    let expires_on =
        chrono::DateTime::from_timestamp_millis(rec.expires_at).map(|t| t.date_naive().to_string()).unwrap_or_default();
    if smallest == 0 {
        tracing::warn!(user = %rec.user_email, %expires_on, "the workaround token has expired; sender lookup and user creation are held");
    } else {
        tracing::warn!(user = %rec.user_email, days_left = left, %expires_on, "the workaround token expires soon");
    }
    notices::token_expiry(store, admins, &rec, smallest, left, now).await?;
    Ok(newly)
}
