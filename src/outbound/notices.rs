//! Admin notices: warning mails to the admin addresses (token expiry or
//! rejection, mail storms), queued through the outbox once per key.

use sha2::Digest;

use crate::domain::EmailAddress;
use crate::store::{NewOutgoing, Store, StoreError, TokenRecord};

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
            reply_to: None,
            event_id: None,
        };
        store.enqueue(&m, now).await?;
    }
    Ok(())
}

/// The workaround token expires in `days_left` days (`threshold` 0: it has
/// expired); once per token and threshold.
pub async fn token_expiry(
    store: &Store,
    admins: &[EmailAddress],
    rec: &TokenRecord,
    threshold: i64,
    days_left: i64,
    now: i64,
) -> Result<(), StoreError> {
    let user = &rec.user_email;
    let expires_on =
        chrono::DateTime::from_timestamp_millis(rec.expires_at).map(|t| t.date_naive().to_string()).unwrap_or_default();
    let (subject, body) = if threshold == 0 {
        (
            "mailgate: the Jira workaround token has expired".to_string(),
            format!(
                "The API token of the workaround user {user} expired on {expires_on}.\n\nMail that needs a sender lookup is held until a new token is set:\n  mailgate token set --user {user} --expires YYYY-MM-DD < token.txt\n"
            ),
        )
    } else {
        (
            format!("mailgate: the Jira workaround token expires in {days_left} day(s)"),
            format!(
                "The API token of the workaround user {user} expires on {expires_on} ({days_left} day(s) left).\n\nCreate a new token in the Atlassian account settings and set it:\n  mailgate token set --user {user} --expires YYYY-MM-DD < token.txt\n"
            ),
        )
    };
    notify_admins(store, admins, &format!("token-expiry:{}:{threshold}", rec.id), &subject, &body, now).await
}

/// Jira rejected the workaround token; once per token.
pub async fn token_rejected(
    store: &Store,
    admins: &[EmailAddress],
    token_id: &str,
    error: &(dyn std::fmt::Display + Sync),
    now: i64,
) -> Result<(), StoreError> {
    let body = format!(
        "Jira rejected the workaround user's API token: {error}\n\nMail that needs a sender lookup is held, not dropped, until a working token is set:\n  mailgate token set --user EMAIL --expires YYYY-MM-DD < token.txt\n"
    );
    let key = format!("token-rejected:{token_id}");
    notify_admins(store, admins, &key, "mailgate: the Jira workaround token was rejected", &body, now).await
}
