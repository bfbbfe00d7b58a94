//! OAuth 2.0 grants (`oauth_grants`): ciphertext only, never plaintext.
//! Every write that brings a new refresh token or secret raises `version`;
//! a rotated refresh token is written only over the version it was
//! refreshed from, so two instances refreshing at once cannot overwrite a
//! newer grant with an older one.

use super::{Store, StoreError};

/// Whether a grant can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GrantState {
    /// Usable (or not logged in yet: no refresh token).
    Active,
    /// The server refused it (`invalid_grant`, `invalid_client`): unusable
    /// until a new login or secret.
    Revoked,
}

impl GrantState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "revoked" => Self::Revoked,
            _ => Self::Active,
        }
    }
}

/// A stored grant. The blobs are ciphertext; `Debug` shows only whether
/// they are there.
#[derive(Clone)]
pub struct OAuthGrant {
    pub name: String,
    pub state: GrantState,
    pub version: i64,
    /// The refresh token, encrypted (associated data [`refresh_aad`]).
    pub refresh_token: Option<Vec<u8>>,
    pub refresh_key_id: Option<String>,
    /// A client secret or service-account key set by `oauth set-secret`,
    /// encrypted (associated data [`secret_aad`]).
    pub client_secret: Option<Vec<u8>>,
    pub secret_key_id: Option<String>,
    pub cloud_id: Option<String>,
    pub access_expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
    pub logged_in_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for OAuthGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthGrant")
            .field("name", &self.name)
            .field("state", &self.state)
            .field("version", &self.version)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "[encrypted]"))
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[encrypted]"))
            .field("cloud_id", &self.cloud_id)
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("revoked_at", &self.revoked_at)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

/// The associated data of a grant's encrypted refresh token.
pub fn refresh_aad(grant: &str) -> String {
    format!("oauth:{grant}:refresh_token")
}

/// The associated data of a grant's encrypted client secret (or key).
pub fn secret_aad(grant: &str) -> String {
    format!("oauth:{grant}:client_secret")
}

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    state: String,
    version: i64,
    refresh_token: Option<Vec<u8>>,
    refresh_key_id: Option<String>,
    client_secret: Option<Vec<u8>>,
    secret_key_id: Option<String>,
    cloud_id: Option<String>,
    access_expires_at: Option<i64>,
    refresh_expires_at: Option<i64>,
    logged_in_at: Option<i64>,
    revoked_at: Option<i64>,
    last_error: Option<String>,
    last_error_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl From<Row> for OAuthGrant {
    fn from(r: Row) -> Self {
        Self {
            name: r.name,
            state: GrantState::parse(&r.state),
            version: r.version,
            refresh_token: r.refresh_token,
            refresh_key_id: r.refresh_key_id,
            client_secret: r.client_secret,
            secret_key_id: r.secret_key_id,
            cloud_id: r.cloud_id,
            access_expires_at: r.access_expires_at,
            refresh_expires_at: r.refresh_expires_at,
            logged_in_at: r.logged_in_at,
            revoked_at: r.revoked_at,
            last_error: r.last_error,
            last_error_at: r.last_error_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "name, state, version, refresh_token, refresh_key_id, client_secret, secret_key_id, cloud_id, \
     access_expires_at, refresh_expires_at, logged_in_at, revoked_at, last_error, last_error_at, created_at, updated_at";

/// A refresh token from a login (`mailgate oauth login`).
#[derive(Debug, Clone)]
pub struct NewLogin<'a> {
    pub grant: &'a str,
    /// The refresh token, encrypted under `key_id` with [`refresh_aad`].
    pub refresh_token: Vec<u8>,
    pub key_id: &'a str,
    pub cloud_id: Option<&'a str>,
    pub access_expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
}

/// What a refresh brought: maybe a new (rotated) refresh token.
#[derive(Debug, Clone)]
pub struct Refreshed<'a> {
    pub grant: &'a str,
    /// The version the refresh token used was read at.
    pub from_version: i64,
    /// The rotated refresh token, encrypted, and its key id.
    pub rotated: Option<(Vec<u8>, &'a str)>,
    pub access_expires_at: i64,
    pub refresh_expires_at: Option<i64>,
}

impl Store {
    pub async fn oauth_grant(&self, name: &str) -> Result<Option<OAuthGrant>, StoreError> {
        let sql = self.sql(&format!("select {COLUMNS} from oauth_grants where name = ?"));
        let row: Option<Row> = sqlx::query_as(sql).bind(name).fetch_optional(self.pool()).await?;
        Ok(row.map(Into::into))
    }

    pub async fn oauth_grants(&self) -> Result<Vec<OAuthGrant>, StoreError> {
        let sql = self.sql(&format!("select {COLUMNS} from oauth_grants order by name"));
        let rows: Vec<Row> = sqlx::query_as(sql).fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Store the refresh token of a new login: the grant is active again
    /// (a revocation is forgotten) at a new version.
    pub async fn put_oauth_login(&self, l: &NewLogin<'_>, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into oauth_grants (name, state, version, refresh_token, refresh_key_id, cloud_id,
                    access_expires_at, refresh_expires_at, logged_in_at, created_at, updated_at)
             values (?, 'active', 1, ?, ?, ?, ?, ?, ?, ?, ?)
             on conflict (name) do update set state = 'active', version = oauth_grants.version + 1,
                    refresh_token = excluded.refresh_token, refresh_key_id = excluded.refresh_key_id,
                    cloud_id = excluded.cloud_id, access_expires_at = excluded.access_expires_at,
                    refresh_expires_at = excluded.refresh_expires_at, logged_in_at = excluded.logged_in_at,
                    revoked_at = null,
                    last_error = null, last_error_at = null, updated_at = excluded.updated_at",
        );
        sqlx::query(sql)
            .bind(l.grant)
            .bind(l.refresh_token.clone())
            .bind(l.key_id)
            .bind(l.cloud_id)
            .bind(l.access_expires_at)
            .bind(l.refresh_expires_at)
            .bind(now_ms)
            .bind(now_ms)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Store a client secret (or service-account key), encrypted under
    /// `key_id` with [`secret_aad`]; the grant is tried again.
    pub async fn put_oauth_secret(
        &self,
        grant: &str,
        blob: Vec<u8>,
        key_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into oauth_grants (name, state, version, client_secret, secret_key_id, created_at, updated_at)
             values (?, 'active', 1, ?, ?, ?, ?)
             on conflict (name) do update set state = 'active', version = oauth_grants.version + 1,
                    client_secret = excluded.client_secret, secret_key_id = excluded.secret_key_id,
                    revoked_at = null, last_error = null, last_error_at = null, updated_at = excluded.updated_at",
        );
        sqlx::query(sql).bind(grant).bind(blob).bind(key_id).bind(now_ms).bind(now_ms).execute(self.pool()).await?;
        Ok(())
    }

    /// Record a refresh. A rotated refresh token is written only over
    /// `from_version` (and raises it); false when another writer came first
    /// (another instance's rotation, a new login): nothing is written then.
    pub async fn put_oauth_refresh(&self, r: &Refreshed<'_>, now_ms: i64) -> Result<bool, StoreError> {
        let done = match &r.rotated {
            Some((blob, key_id)) => {
                let sql = self.sql(
                    "update oauth_grants set refresh_token = ?, refresh_key_id = ?, version = version + 1,
                            access_expires_at = ?, refresh_expires_at = coalesce(?, refresh_expires_at),
                            last_error = null, last_error_at = null, updated_at = ?
                     where name = ? and version = ? and state = 'active'",
                );
                sqlx::query(sql)
                    .bind(blob.clone())
                    .bind(*key_id)
                    .bind(r.access_expires_at)
                    .bind(r.refresh_expires_at)
                    .bind(now_ms)
                    .bind(r.grant)
                    .bind(r.from_version)
                    .execute(self.pool())
                    .await?
            }
            None => {
                let sql = self.sql(
                    "update oauth_grants set access_expires_at = ?, refresh_expires_at = coalesce(?, refresh_expires_at),
                            last_error = null, last_error_at = null, updated_at = ?
                     where name = ? and version = ? and state = 'active'",
                );
                sqlx::query(sql)
                    .bind(r.access_expires_at)
                    .bind(r.refresh_expires_at)
                    .bind(now_ms)
                    .bind(r.grant)
                    .bind(r.from_version)
                    .execute(self.pool())
                    .await?
            }
        };
        Ok(done.rows_affected() > 0)
    }

    /// An access token was had for a grant without a refresh token (client
    /// credentials, service account): note its expiry; the grant is active.
    pub async fn note_oauth_access(&self, grant: &str, access_expires_at: i64, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql(
            "insert into oauth_grants (name, state, version, access_expires_at, created_at, updated_at)
             values (?, 'active', 0, ?, ?, ?)
             on conflict (name) do update set state = 'active', access_expires_at = excluded.access_expires_at,
                    revoked_at = null, last_error = null, last_error_at = null, updated_at = excluded.updated_at",
        );
        sqlx::query(sql).bind(grant).bind(access_expires_at).bind(now_ms).bind(now_ms).execute(self.pool()).await?;
        Ok(())
    }

    /// Mark a grant revoked, unless it changed since `version` was read (a
    /// new login or rotation came in between). True when this call revoked
    /// it (so the caller warns once).
    pub async fn mark_oauth_revoked(
        &self,
        grant: &str,
        version: i64,
        error: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "insert into oauth_grants (name, state, version, revoked_at, last_error, last_error_at, created_at, updated_at)
             values (?, 'revoked', 0, ?, ?, ?, ?, ?)
             on conflict (name) do update set state = 'revoked', revoked_at = excluded.revoked_at,
                    last_error = excluded.last_error, last_error_at = excluded.last_error_at,
                    updated_at = excluded.updated_at
             where oauth_grants.state <> 'revoked' and oauth_grants.version = ?",
        );
        let done = sqlx::query(sql)
            .bind(grant)
            .bind(now_ms)
            .bind(error)
            .bind(now_ms)
            .bind(now_ms)
            .bind(now_ms)
            .bind(version)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A passing failure (endpoint down), for `oauth status`.
    pub async fn note_oauth_error(&self, grant: &str, error: &str, now_ms: i64) -> Result<(), StoreError> {
        let sql = self.sql("update oauth_grants set last_error = ?, last_error_at = ?, updated_at = ? where name = ?");
        sqlx::query(sql).bind(error).bind(now_ms).bind(now_ms).bind(grant).execute(self.pool()).await?;
        Ok(())
    }

    /// Blobs re-encrypted under a new master key (`token rotate-key`).
    pub async fn rekey_oauth_grant(
        &self,
        grant: &str,
        refresh: Option<(Vec<u8>, &str)>,
        secret: Option<(Vec<u8>, &str)>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        if let Some((blob, key_id)) = refresh {
            let sql = self
                .sql("update oauth_grants set refresh_token = ?, refresh_key_id = ?, updated_at = ? where name = ?");
            sqlx::query(sql).bind(blob).bind(key_id).bind(now_ms).bind(grant).execute(&mut *tx).await?;
        }
        if let Some((blob, key_id)) = secret {
            let sql =
                self.sql("update oauth_grants set client_secret = ?, secret_key_id = ?, updated_at = ? where name = ?");
            sqlx::query(sql).bind(blob).bind(key_id).bind(now_ms).bind(grant).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "oauth_tests.rs"]
mod tests;
