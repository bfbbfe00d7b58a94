//! Sender address to Jira identity cache, with a TTL.

use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CachedIdentity {
    pub email: String,
    pub account_id: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: IdentityKind,
    pub resolved_at: i64,
}

/// What a sender is in Jira.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    User,
    /// A JSM portal customer.
    Customer,
    /// No account (remembered, so the lookup is not repeated).
    None,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Customer => "customer",
            Self::None => "none",
        }
    }
}

impl TryFrom<String> for IdentityKind {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "user" => Ok(Self::User),
            "customer" => Ok(Self::Customer),
            "none" => Ok(Self::None),
            other => Err(format!("unknown identity kind {other:?}")),
        }
    }
}

impl Store {
    /// The cached identity if resolved at or after `fresh_after_ms`.
    pub async fn cached_identity(
        &self,
        email: &str,
        fresh_after_ms: i64,
    ) -> Result<Option<CachedIdentity>, StoreError> {
        let sql = self.sql(
            "select email, account_id, username, display_name, kind, resolved_at from sender_identities
             where email = ? and resolved_at >= ?",
        );
        Ok(sqlx::query_as(sql).bind(email).bind(fresh_after_ms).fetch_optional(self.pool()).await?)
    }

    pub async fn cache_identity(&self, id: &CachedIdentity) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into sender_identities (email, account_id, username, display_name, kind, resolved_at)
             values (?, ?, ?, ?, ?, ?)
             on conflict (email) do update set account_id = excluded.account_id, username = excluded.username,
               display_name = excluded.display_name, kind = excluded.kind, resolved_at = excluded.resolved_at",
        );
        sqlx::query(sql)
            .bind(id.email.as_str())
            .bind(id.account_id.clone())
            .bind(id.username.clone())
            .bind(id.display_name.clone())
            .bind(id.kind.as_str())
            .bind(id.resolved_at)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
