//! Token expiry warnings: at each configured threshold (30, 14, 7, 3, 1
//! days by default) and at expiry, once each: a WARN log line and a mail to
//! every admin address through the outbox.

use sha2::Digest;

use crate::domain::EmailAddress;
use crate::store::{NewOutgoing, Store, StoreError};

use super::TokenService;
use super::token::days_left;

/// A stable Message-ID for an outbox mail with this dedupe key.
pub fn outbox_message_id(dedupe_key: &str) -> String {
    let digest = sha2::Sha256::digest(dedupe_key.as_bytes());
    format!("{}@mailgate.local", hex::encode(&digest[..12]))
}

/// Queue an admin notice to each address, once per `key`.
pub async fn notify_admins(
    store: &Store,
    admins: &[EmailAddress],
    key: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    for admin in admins {
        let dedupe = format!("{key}:{admin}");
        let message_id = outbox_message_id(&dedupe);
        let m = NewOutgoing {
            dedupe_key: &dedupe,
            kind: "admin-warning",
            recipient: admin.as_ref(),
            subject,
            body_text: body,
            body_html: None,
            message_id: &message_id,
            in_reply_to: None,
            issue_key: None,
        };
        store.enqueue(&m, now).await?;
    }
    Ok(())
}

/// Check the stored token against the thresholds. Returns the thresholds
/// newly crossed by this check (a mail goes out for the smallest one).
pub async fn check_expiry(
    tokens: &TokenService,
    warn_days: &[i64],
    admins: &[EmailAddress],
) -> Result<Vec<i64>, StoreError> {
    let store = tokens.store();
    let Some(rec) = store.token().await? else { return Ok(Vec::new()) };
    let now = tokens.clock_now();
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
    let (subject, body) = if smallest == 0 {
        tracing::warn!(user = %rec.user_email, %expires_on, "the workaround token has expired; sender lookup and user creation are held");
        (
            "mailgate: the Jira workaround token has expired".to_string(),
            format!(
                "The API token of the workaround user {} expired on {expires_on}.\n\nMail that needs a sender lookup is held until a new token is set:\n  mailgate token set --user {} --expires YYYY-MM-DD < token.txt\n",
                rec.user_email, rec.user_email
            ),
        )
    } else {
        tracing::warn!(user = %rec.user_email, days_left = left, %expires_on, "the workaround token expires soon");
        (
            format!("mailgate: the Jira workaround token expires in {left} day(s)"),
            format!(
                "The API token of the workaround user {} expires on {expires_on} ({left} day(s) left).\n\nCreate a new token in the Atlassian account settings and set it:\n  mailgate token set --user {} --expires YYYY-MM-DD < token.txt\n",
                rec.user_email, rec.user_email
            ),
        )
    };
    notify_admins(store, admins, &format!("token-expiry:{}:{smallest}", rec.id), &subject, &body, now).await?;
    Ok(newly)
}
