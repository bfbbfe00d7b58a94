//! The conversation of an issue: where its request came in, the latest
//! mail on it, and its requester and participants, the people mailgate
//! writes to by mail whether or not Jira knows them or shows their address.

use super::{Store, StoreError};
use crate::domain::{EmailAddress, IssueKey, MessageId};

/// How someone takes part in an issue's conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The sender of the mail that created the issue.
    Requester,
    /// On To/Cc of the creating mail, or a later mail's sender or Cc.
    Participant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requester => "requester",
            Self::Participant => "participant",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "requester" => Self::Requester,
            _ => Self::Participant,
        }
    }
}

/// Someone on a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonIn<'a> {
    pub address: &'a EmailAddress,
    pub name: Option<&'a str>,
    pub account_id: Option<&'a str>,
}

/// What one processed mail tells about its issue's conversation.
#[derive(Debug, Clone)]
pub struct MailOnIssue<'a> {
    pub issue: &'a IssueKey,
    /// The inbound row id: orders mails, so a retried older one never becomes "latest".
    pub seq: i64,
    pub message_id: &'a MessageId,
    /// The address the mail came in on (kept from the first mail).
    pub reply_to: Option<&'a EmailAddress>,
    /// The sender, with this role unless they take part already.
    pub sender: Option<(PersonIn<'a>, Role)>,
    /// Participants added by this mail (To/Cc minus our own addresses).
    pub others: Vec<PersonIn<'a>>,
}

/// A person of an issue, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IssuePerson {
    pub address: String,
    pub name: Option<String>,
    pub account_id: Option<String>,
    pub role: Role,
    /// Their latest mail on the issue (a notification to them threads under it).
    pub last_message_id: Option<String>,
}

/// Where an issue's request came in and its latest mail.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Conversation {
    pub reply_to: Option<String>,
    pub last_message_id: Option<String>,
}

/// The role of someone who takes part already stays; a name or account
/// learnt later fills a gap; the latest mail moves forward only.
const UPSERT_PERSON: &str = "insert into issue_people (issue_key, address, name, account_id, role, last_message_id,
                                   last_seq, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (issue_key, address) do update set
        name = coalesce(issue_people.name, excluded.name),
        account_id = coalesce(issue_people.account_id, excluded.account_id),
        last_message_id = case when excluded.last_message_id is not null and excluded.last_seq >= issue_people.last_seq
            then excluded.last_message_id else issue_people.last_message_id end,
        last_seq = case when excluded.last_message_id is not null and excluded.last_seq >= issue_people.last_seq
            then excluded.last_seq else issue_people.last_seq end,
        updated_at = excluded.updated_at";

type PersonRow = (String, Option<String>, Option<String>, String, Option<String>);

impl Store {
    /// Record a processed mail's people (idempotent: a retry changes nothing).
    pub async fn record_mail_on_issue(&self, m: &MailOnIssue<'_>, now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let sql = self.sql(
            "insert into issue_conversations (issue_key, reply_to, last_message_id, last_seq, created_at, updated_at)
             values (?, ?, ?, ?, ?, ?)
             on conflict (issue_key) do update set
                reply_to = coalesce(issue_conversations.reply_to, excluded.reply_to),
                last_message_id = case when excluded.last_seq >= issue_conversations.last_seq
                    then excluded.last_message_id else issue_conversations.last_message_id end,
                last_seq = case when excluded.last_seq >= issue_conversations.last_seq
                    then excluded.last_seq else issue_conversations.last_seq end,
                updated_at = excluded.updated_at",
        );
        sqlx::query(sql)
            .bind(m.issue.as_ref())
            .bind(m.reply_to.map(|a| a.to_string()))
            .bind(m.message_id.as_ref())
            .bind(m.seq)
            .bind(now_ms)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let people = m
            .sender
            .iter()
            .map(|(p, role)| (p, *role, Some(m.message_id.as_ref()), m.seq))
            .chain(m.others.iter().map(|p| (p, Role::Participant, None, 0)));
        for (p, role, mid, seq) in people {
            sqlx::query(self.sql(UPSERT_PERSON))
                .bind(m.issue.as_ref())
                .bind(p.address.to_string())
                .bind(p.name)
                .bind(p.account_id)
                .bind(role.as_str())
                .bind(mid)
                .bind(seq)
                .bind(now_ms)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The requester first, then the participants in the order they joined.
    pub async fn issue_people(&self, issue: &str) -> Result<Vec<IssuePerson>, StoreError> {
        let sql = self.sql(
            "select address, name, account_id, role, last_message_id from issue_people where issue_key = ?
             order by case when role = 'requester' then 0 else 1 end, created_at, address",
        );
        let rows: Vec<PersonRow> = sqlx::query_as(sql).bind(issue).fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(address, name, account_id, role, last_message_id)| IssuePerson {
                address,
                name,
                account_id,
                role: Role::parse(&role),
                last_message_id,
            })
            .collect())
    }

    /// Where the issue's request came in and its latest mail, if mailgate has seen one.
    pub async fn conversation(&self, issue: &str) -> Result<Option<Conversation>, StoreError> {
        let sql = self.sql("select reply_to, last_message_id from issue_conversations where issue_key = ?");
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as(sql).bind(issue).fetch_optional(self.pool()).await?;
        Ok(row.map(|(reply_to, last_message_id)| Conversation { reply_to, last_message_id }))
    }
}
