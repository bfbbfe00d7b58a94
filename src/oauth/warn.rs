//! A refused grant warns the admins once: each revocation (a grant's state
//! turning `revoked`, at its `revoked_at`) queues one admin mail, whichever
//! consumer (a mailbox, SMTP, Jira) met it first and however often.

use crate::domain::EmailAddress;
use crate::outbound::notify_admins;
use crate::store::{GrantState, Store, StoreError};

/// Queue the warning for every revoked grant not warned of yet (idempotent:
/// the outbox dedupes by grant and revocation time). Returns how many grants are revoked.
pub async fn warn_revoked(store: &Store, admins: &[EmailAddress], now_ms: i64) -> Result<usize, StoreError> {
    let mut revoked = 0;
    for g in store.oauth_grants().await? {
        if g.state != GrantState::Revoked {
            continue;
        }
        revoked += 1;
        let key = format!("oauth-revoked:{}:{}", g.name, g.revoked_at.unwrap_or(g.updated_at));
        let subject = format!("mailgate: the OAuth grant {} was refused", g.name);
        let body = format!(
            "The authorization server refused the OAuth 2.0 grant {name} ({why}).\n\n\
             mailgate cannot log in with it until an admin logs in again:\n\n    mailgate oauth login {flag}\n\n\
             Mail for the other mailboxes goes on; nothing of this one is lost (it stays on the server).\n",
            name = g.name,
            why = g.last_error.as_deref().unwrap_or("no reason given"),
            flag = super::target_flag(&g.name),
        );
        notify_admins(store, admins, &key, &subject, &body, now_ms).await?;
    }
    Ok(revoked)
}
