//! Admin warnings about OAuth 2.0 grants (a revocation, a refresh token
//! about to lapse), queued in the outbox once each like the workaround
//! token's. Here rather than in `crate::oauth`, which the mail clients use:
//! the outbox sits above those, and `oauth` stays below it.

use chrono::DateTime;

use crate::domain::EmailAddress;
use crate::oauth::target_flag;
use crate::outbound::notify_admins;
use crate::store::{GrantState, Store, StoreError};

const DAY_MS: i64 = 86_400_000;

fn day(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map(|t| t.date_naive().to_string()).unwrap_or_default()
}

fn instant(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Queue one admin mail for the revocation of `grant` (its key holds the
/// revocation time: a later revocation, after a new login, warns again).
/// False when the grant is not revoked.
pub async fn warn_revoked(store: &Store, admins: &[EmailAddress], grant: &str, now: i64) -> Result<bool, StoreError> {
    let Some(g) = store.oauth_grant(grant).await? else { return Ok(false) };
    if g.state != GrantState::Revoked {
        return Ok(false);
    }
    let at = g.revoked_at.unwrap_or(g.updated_at);
    let subject = format!("mailgate: the OAuth grant {grant} was refused");
    let body = format!(
        "The authorization server refused the OAuth 2.0 grant {grant} at {}:\n  {}\n\n\
         Nothing that needs it works until it is renewed; mail is not lost (it waits in the mailbox or the \
         outbox), and other mailboxes go on.\n\n\
         For a delegated grant (flow \"refresh-token\", Jira 3LO), log in again:\n  mailgate oauth login {}\n\
         For an app (client credentials, service account), check its secret or key and its permissions, then\n  \
         mailgate oauth set-secret {} < secret.txt   (or fix the configuration and restart)\n",
        instant(at),
        g.last_error.as_deref().unwrap_or("(no reason given)"),
        target_flag(grant),
        target_flag(grant),
    );
    notify_admins(store, admins, &format!("oauth-revoked:{grant}:{at}"), &subject, &body, now).await?;
    Ok(true)
}

/// Warn once per threshold (days, as `[identity] warn_days`) before a
/// refresh token's known expiry (Atlassian: 90 days without use, 365 days
/// after the login). Returns the grants past a threshold (the mail for
/// each threshold is queued once).
pub async fn warn_expiring(
    store: &Store,
    admins: &[EmailAddress],
    warn_days: &[i64],
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let mut warned = Vec::new();
    for g in store.oauth_grants().await? {
        let (Some(expires), GrantState::Active) = (g.refresh_expires_at, g.state) else { continue };
        if g.refresh_token.is_none() {
            continue;
        }
        let left = (expires - now).div_euclid(DAY_MS);
        let Some(threshold) = warn_days.iter().copied().chain([0]).filter(|t| left <= *t).min() else { continue };
        let (subject, when) = if left < 0 {
            (format!("mailgate: the OAuth grant {} has expired", g.name), format!("expired on {}", day(expires)))
        } else {
            (
                format!("mailgate: the OAuth grant {} expires in {left} day(s)", g.name),
                format!("expires on {}", day(expires)),
            )
        };
        let body = format!(
            "The refresh token of the OAuth 2.0 grant {} {when}. Log in again before then:\n  mailgate oauth login {}\n",
            g.name,
            target_flag(&g.name)
        );
        let key = format!("oauth-expiry:{}:{}:{threshold}", g.name, day(expires));
        notify_admins(store, admins, &key, &subject, &body, now).await?;
        warned.push(g.name);
    }
    Ok(warned)
}

/// Run the warnings for every stored grant (idempotent: the outbox dedupes
/// them). Returns how many grants are revoked.
pub async fn check_grants(
    store: &Store,
    admins: &[EmailAddress],
    warn_days: &[i64],
    now_ms: i64,
) -> Result<usize, StoreError> {
    let mut revoked = 0;
    for g in store.oauth_grants().await? {
        if g.state == GrantState::Revoked && warn_revoked(store, admins, &g.name, now_ms).await? {
            revoked += 1;
        }
    }
    warn_expiring(store, admins, warn_days, now_ms).await?;
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewLogin;

    #[tokio::test]
    async fn a_refresh_token_close_to_its_expiry_warns_once_per_threshold() {
        let store = Store::connect("sqlite::memory:").await.expect("store");
        let admins = [EmailAddress::parse("admin@x.test").expect("addr")];
        let login = NewLogin {
            grant: "jira",
            refresh_token: vec![1, 2, 3],
            key_id: "k",
            cloud_id: None,
            access_expires_at: None,
            refresh_expires_at: Some(20 * DAY_MS),
        };
        store.put_oauth_login(&login, 0).await.expect("login");
        let warn = |now| warn_expiring(&store, &admins, &[30, 7], now);
        assert_eq!(warn(0).await.expect("warn"), ["jira"], "20 days left: the 30-day warning");
        assert!(warn(DAY_MS).await.expect("again").contains(&"jira".to_string()));
        assert_eq!(store.outgoing_of_kind("admin-warning").await.expect("outbox").len(), 1, "once per threshold");
        warn(14 * DAY_MS).await.expect("7 days");
        warn(21 * DAY_MS).await.expect("expired");
        let mails = store.outgoing_of_kind("admin-warning").await.expect("outbox");
        assert_eq!(mails.len(), 3);
        assert!(
            mails.iter().any(|m| m.subject.contains("has expired")),
            "{:?}",
            mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        assert!(mails[0].body_text.contains("mailgate oauth login --jira"));
        assert!(!warn_revoked(&store, &admins, "jira", 0).await.expect("not revoked"));
    }
}
