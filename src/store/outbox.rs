//! The durable outbox: one row per mail and recipient. Enqueueing is
//! idempotent by `dedupe_key`; every send attempt is recorded.

use super::queue::{InstanceId, Lease, QueueTable};
use super::{Store, StoreError};

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Queued, or to be tried again.
    Pending,
    /// The SMTP server accepted it.
    Sent,
    /// Given up for good.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// A mail to enqueue.
#[derive(Debug, Clone)]
pub struct NewOutgoing<'a> {
    pub dedupe_key: &'a str,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: Option<&'a str>,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub issue_key: Option<&'a str>,
    /// Where the recipient's answer should go (the mailbox the request came in on).
    pub reply_to: Option<&'a str>,
    /// The event it notifies of: the event's files are attached.
    pub event_id: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct OutgoingRow {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub issue_key: Option<String>,
    pub reply_to: Option<String>,
    /// Other rows of this issue and recipient made until then go out with it.
    pub merge_until: Option<i64>,
    pub event_id: Option<String>,
    pub attempts: i64,
    pub status: OutboxStatus,
}

/// The row as stored; [`OutgoingRow`] is its typed reading.
#[derive(sqlx::FromRow)]
pub(super) struct RawOutgoing {
    id: i64,
    kind: String,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: Option<String>,
    message_id: String,
    in_reply_to: Option<String>,
    issue_key: Option<String>,
    reply_to: Option<String>,
    merge_until: Option<i64>,
    event_id: Option<String>,
    attempts: i64,
    status: String,
}

impl From<RawOutgoing> for OutgoingRow {
    fn from(r: RawOutgoing) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            recipient: r.recipient,
            subject: r.subject,
            body_text: r.body_text,
            body_html: r.body_html,
            message_id: r.message_id,
            in_reply_to: r.in_reply_to,
            issue_key: r.issue_key,
            reply_to: r.reply_to,
            merge_until: r.merge_until,
            event_id: r.event_id,
            attempts: r.attempts,
            status: OutboxStatus::parse(&r.status),
        }
    }
}

pub(super) const COLUMNS: &str = "id, kind, recipient, subject, body_text, body_html, message_id, in_reply_to, issue_key, reply_to, merge_until, event_id, attempts, status";

/// The outbox as a queue: oldest first.
const OUTBOX: QueueTable = QueueTable { table: "outbox", order: "id", columns: COLUMNS };

impl Store {
    /// Enqueue; returns false when a row with this dedupe key exists already.
    pub async fn enqueue(&self, m: &NewOutgoing<'_>, now_ms: i64) -> Result<bool, StoreError> {
        self.enqueue_at(m, now_ms, 0, None).await
    }

    /// Enqueue, due at `due_ms`; rows of its issue and recipient made until
    /// `merge_until` go out with it as one mail.
    pub(super) async fn enqueue_at(
        &self,
        m: &NewOutgoing<'_>,
        now_ms: i64,
        due_ms: i64,
        merge_until: Option<i64>,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "insert into outbox (dedupe_key, kind, recipient, subject, body_text, body_html, message_id, in_reply_to, issue_key,
                                 reply_to, next_attempt_at, merge_until, event_id, created_at, updated_at)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
        );
        let done = sqlx::query(sql)
            .bind(m.dedupe_key)
            .bind(m.kind)
            .bind(m.recipient)
            .bind(m.subject)
            .bind(m.body_text)
            .bind(m.body_html)
            .bind(m.message_id)
            .bind(m.in_reply_to)
            .bind(m.issue_key)
            .bind(m.reply_to)
            .bind(due_ms)
            .bind(merge_until)
            .bind(m.event_id)
            .bind(now_ms)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The oldest due row, claimed for this process for a minute: several
    /// instances on PostgreSQL never send a row twice; on SQLite (one
    /// instance) a claim left by a crash does not delay the restart.
    pub async fn next_outgoing(&self, owner: &InstanceId, now_ms: i64) -> Result<Option<OutgoingRow>, StoreError> {
        Ok(self.claim_due::<RawOutgoing>(&OUTBOX, None, Lease::from_now(owner, now_ms)).await?.map(OutgoingRow::from))
    }

    /// Record an attempt and the row's new state (sent, failed, or pending
    /// with the next attempt time); the claim ends.
    pub async fn record_attempt(
        &self,
        id: i64,
        status: OutboxStatus,
        error: Option<&str>,
        next_attempt_at: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let sql = self.sql(
            "update outbox set status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?,
             lease_owner = null, lease_until = null where id = ?",
        );
        sqlx::query(sql)
            .bind(status.as_str())
            .bind(error)
            .bind(next_attempt_at)
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let sql = self.sql("insert into outbox_attempts (outbox_id, at, result, error) values (?, ?, ?, ?)");
        sqlx::query(sql).bind(id).bind(now_ms).bind(status.as_str()).bind(error).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rows of a kind (tests and admin views).
    pub async fn outgoing_of_kind(&self, kind: &str) -> Result<Vec<OutgoingRow>, StoreError> {
        let sql = self.sql(&format!("select {COLUMNS} from outbox where kind = ? order by id"));
        let rows: Vec<RawOutgoing> = sqlx::query_as(sql).bind(kind).fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(OutgoingRow::from).collect())
    }
}
