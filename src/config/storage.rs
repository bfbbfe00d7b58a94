//! Where state is kept: the database, and how long the audit trail lasts.

use serde::Deserialize;

/// Retention of the audit trail and the processing log, enforced daily.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    #[serde(default = "default_audit_entries")]
    pub max_entries: i64,
    #[serde(default = "default_audit_days")]
    pub max_age_days: i64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self { max_entries: default_audit_entries(), max_age_days: default_audit_days() }
    }
}

fn default_audit_entries() -> i64 {
    1_000_000
}
fn default_audit_days() -> i64 {
    180
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://…`.
    #[serde(default = "default_db_url")]
    pub url: String,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: default_db_url() }
    }
}

fn default_db_url() -> String {
    "sqlite://mailgate.db".into()
}
