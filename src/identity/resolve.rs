//! Sender resolution: who the issue is filed for. Lookup by email with the
//! workaround token, then the rule's policy when there is no account.
//! Results are cached with a TTL so a repeat sender costs no lookup.

use crate::config::{RouteTarget, SenderPolicy};
use crate::domain::Mailbox;
use crate::jira::{JiraError, JiraUser};
use crate::store::{CachedIdentity, IdentityKind, Store, StoreError};

use super::{TokenService, Unavailable};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// File as / on behalf of this user or customer.
    User { user: JiraUser, detail: String },
    /// No lookup wanted, or no account and the policy says so.
    DefaultReporter(String),
    /// Policy `reject`: keep the mail, create nothing.
    Reject(String),
    /// The token is missing, expired or rejected: try again later.
    Hold(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Transient or unexpected Jira failure.
    #[error(transparent)]
    Jira(#[from] JiraError),
}

fn to_user(c: &CachedIdentity) -> JiraUser {
    JiraUser {
        account_id: c.account_id.clone(),
        name: c.username.clone(),
        display_name: c.display_name.clone(),
        email: Some(c.email.clone()),
    }
}

fn cache_row(email: &str, user: Option<&JiraUser>, kind: IdentityKind, now: i64) -> CachedIdentity {
    CachedIdentity {
        email: email.to_string(),
        account_id: user.and_then(|u| u.account_id.clone()),
        username: user.and_then(|u| u.name.clone()),
        display_name: user.and_then(|u| u.display_name.clone()),
        kind,
        resolved_at: now,
    }
}

/// Resolve `sender` under the rule's policy; `store` holds the identity
/// cache, `now` is in milliseconds.
#[tracing::instrument(skip_all, fields(policy = ?target.sender_policy))]
pub async fn resolve_sender(
    tokens: Option<&TokenService>,
    store: &Store,
    now: i64,
    ttl_secs: i64,
    sender: &Mailbox,
    target: &RouteTarget,
) -> Result<Resolution, ResolveError> {
    let Some(policy) = target.sender_policy else {
        return Ok(Resolution::DefaultReporter("no sender lookup configured".into()));
    };
    let Some(tokens) = tokens else {
        return Ok(Resolution::Hold(
            "held: sender lookup needs the workaround token, and no master key is configured".into(),
        ));
    };
    let email = sender.address.as_ref();
    if let Some(c) = store.cached_identity(email, now - ttl_secs * 1000).await? {
        let resolution = match c.kind {
            IdentityKind::None if policy == SenderPolicy::Reject => {
                Resolution::Reject(format!("{email} has no Jira account (cached)"))
            }
            IdentityKind::None => Resolution::DefaultReporter(format!("{email} has no Jira account (cached)")),
            _ => Resolution::User { user: to_user(&c), detail: format!("sender {email} resolved from cache") },
        };
        // The cache knows the person, not the desks: this rule's desk may be
        // new to them (addCustomers answers 204 for an existing customer too).
        if let (Resolution::User { user, .. }, SenderPolicy::CreateCustomer, Some(sd)) =
            (&resolution, policy, &target.service_desk)
            && let Ok((client, _)) = tokens.client().await
            && let Err(e) = client.add_customer_to_service_desk(sd, user).await
        {
            tracing::warn!(error = %e, service_desk = %sd, "could not add the cached customer to the service desk");
        }
        return Ok(resolution);
    }
    let (client, token_id) = match tokens.client().await {
        Ok(c) => c,
        Err(
            e @ (Unavailable::Missing
            | Unavailable::Expired(_)
            | Unavailable::Failed(_)
            | Unavailable::NoMasterKey
            | Unavailable::Undecryptable(_)
            | Unavailable::Store(_)
            | Unavailable::Client(_)),
        ) => {
            return Ok(Resolution::Hold(format!("held: {e}")));
        }
    };
    let display = sender.name.clone().unwrap_or_else(|| email.to_string());
    let outcome: Result<Resolution, ResolveError> = async {
        if let Some(user) = client.find_user_by_email(email).await? {
            if policy == SenderPolicy::CreateCustomer
                && let Some(sd) = &target.service_desk
            {
                client.add_customer_to_service_desk(sd, &user).await?;
            }
            store.cache_identity(&cache_row(email, Some(&user), IdentityKind::User, now)).await?;
            return Ok(Resolution::User { user, detail: format!("sender {email} found in Jira") });
        }
        match policy {
            SenderPolicy::CreateUser => {
                // Search may not find an account whose email is hidden; Jira
                // then answers the create with that account (201), or with a
                // 400 when the email belongs to an account without Jira
                // access: never a second account, never a failed mail.
                let user = match client.create_user(email, &display).await {
                    Ok(user) => user,
                    Err(JiraError::Rejected { status: 400, message }) => {
                        store.cache_identity(&cache_row(email, None, IdentityKind::None, now)).await?;
                        return Ok(Resolution::DefaultReporter(format!(
                            "Jira would not create a user for {email} ({message}); default reporter"
                        )));
                    }
                    Err(e) => return Err(e.into()),
                };
                for group in &target.groups {
                    client.add_user_to_group(&user, group).await?;
                }
                store.cache_identity(&cache_row(email, Some(&user), IdentityKind::User, now)).await?;
                let groups = if target.groups.is_empty() {
                    String::new()
                } else {
                    format!(" and added to {}", target.groups.join(", "))
                };
                Ok(Resolution::User { user, detail: format!("created Jira user for {email}{groups}") })
            }
            SenderPolicy::CreateCustomer => {
                let user = client.create_customer(email, &display).await?;
                if let Some(sd) = &target.service_desk {
                    client.add_customer_to_service_desk(sd, &user).await?;
                }
                store.cache_identity(&cache_row(email, Some(&user), IdentityKind::Customer, now)).await?;
                Ok(Resolution::User {
                    user,
                    detail: format!(
                        "created customer {email} in service desk {}",
                        target.service_desk.as_deref().unwrap_or("-")
                    ),
                })
            }
            SenderPolicy::DefaultReporter => {
                store.cache_identity(&cache_row(email, None, IdentityKind::None, now)).await?;
                Ok(Resolution::DefaultReporter(format!("{email} has no Jira account; default reporter")))
            }
            SenderPolicy::Reject => {
                store.cache_identity(&cache_row(email, None, IdentityKind::None, now)).await?;
                Ok(Resolution::Reject(format!("{email} has no Jira account and the rule rejects unknown senders")))
            }
        }
    }
    .await;
    match outcome {
        Ok(r) => Ok(r),
        Err(ResolveError::Jira(e @ (JiraError::Unauthorized | JiraError::Forbidden(_)))) => {
            tokens.report_rejection(&token_id, &e).await?;
            Ok(Resolution::Hold(format!("held: the workaround token was rejected: {e}")))
        }
        Err(e) => Err(e),
    }
}

/// Jira ids of Cc'd addresses that have accounts (cache, then lookup; no creation).
pub async fn known_users(
    tokens: &TokenService,
    store: &Store,
    now: i64,
    ttl_secs: i64,
    addresses: &[&str],
) -> Vec<JiraUser> {
    let mut out = Vec::new();
    let Ok((client, _)) = tokens.client().await else { return out };
    for email in addresses {
        if let Ok(Some(c)) = store.cached_identity(email, now - ttl_secs * 1000).await {
            if c.kind != IdentityKind::None {
                out.push(to_user(&c));
            }
            continue;
        }
        match client.find_user_by_email(email).await {
            Ok(Some(u)) => {
                let _ = store.cache_identity(&cache_row(email, Some(&u), IdentityKind::User, now)).await;
                out.push(u);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(email, error = %e, "watcher lookup failed"),
        }
    }
    out
}
