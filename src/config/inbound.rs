//! `[[mailboxes]]` and `[inbound]`: where mail comes from and how it is
//! taken in.

use secrecy::SecretString;
use serde::Deserialize;

use super::{MailAuth, OAuthClient, OAuthSettings};
use crate::domain::{EmailAddress, Sha256Digest};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    Implicit,
    Starttls,
    /// Plain text; allowed only for loopback hosts.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSettings {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: String,
    /// The IMAP password; not with `auth` (OAuth 2.0).
    #[serde(default = "no_password")]
    pub password: SecretString,
    /// Absent: LOGIN with `password`. `{ kind = "oauth2", … }`: AUTHENTICATE
    /// XOAUTH2 with a token for `user` (see [`super::OAuthSettings`]).
    #[serde(default)]
    pub auth: Option<MailAuth>,
    #[serde(default = "default_folder")]
    pub folder: String,
    #[serde(default)]
    pub processed_folder: Option<String>,
    #[serde(default)]
    pub failed_folder: Option<String>,
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    #[serde(default = "default_true")]
    pub idle: bool,
    /// Extra PEM root certificate to trust (self-signed servers).
    #[serde(default)]
    pub ca_file: Option<String>,
}

impl MailboxSettings {
    /// The OAuth 2.0 client, when the mailbox logs in with one.
    pub fn oauth(&self) -> Option<&OAuthSettings> {
        match &self.auth {
            Some(MailAuth::OAuth2(o)) => Some(o),
            None => None,
        }
    }

    /// The OAuth 2.0 client with its defaults resolved (a service
    /// account acts as `user` unless `subject` says otherwise).
    pub fn oauth_client(&self) -> Option<OAuthClient> {
        self.oauth().map(|o| o.client(&self.user))
    }
}

pub(super) fn no_password() -> SecretString {
    SecretString::from(String::new())
}

fn default_folder() -> String {
    "INBOX".into()
}
fn default_poll() -> u64 {
    60
}
fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundSettings {
    /// Our own addresses: mail from them is ignored (loop guard).
    #[serde(default)]
    pub own_addresses: Vec<EmailAddress>,
    /// A line such as `## reply above this line ##`; text from it down is cut.
    #[serde(default)]
    pub reply_marker: Option<String>,
    #[serde(default = "default_max_attachment")]
    pub max_attachment_bytes: u64,
    #[serde(default = "default_blocked")]
    pub blocked_extensions: Vec<String>,
    #[serde(default)]
    pub blocked_filenames: Vec<String>,
    /// Upload detached signatures (`application/pgp-signature` such as
    /// `signature.asc`, `application/pkcs7-signature` such as `smime.p7s`).
    /// Off by default: nobody verifies them on an issue and a signing
    /// sender adds one to every mail. Skipped ones are still listed in the
    /// note, so the issue says the mail was signed.
    #[serde(default)]
    pub keep_signatures: bool,
    /// Images (`image/*`, attached or inline) smaller than this are not
    /// uploaded nor listed in the note, only in the audit trail: tracking
    /// pixels and spacers (a 1x1 GIF is 43 bytes, a 1x1 PNG or JPEG a few
    /// hundred with its tables) are far below 1 KiB, even a screenshot of a
    /// single button is above it. 0 keeps every image.
    #[serde(default = "default_min_image")]
    pub min_image_bytes: u64,
    /// SHA-256 digests (hex, as `sha256sum` prints them) of files never
    /// uploaded, whatever their name: the logo in everyone's signature.
    /// Not listed in the note; each skip is counted per digest (`GET
    /// /api/stats`, `blocked_attachments`) so the list can be checked.
    #[serde(default)]
    pub blocked_sha256: Vec<Sha256Digest>,
    /// Attempts before a mail that keeps failing is given up.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// First retry delay after a transient failure; doubles per attempt.
    #[serde(default = "default_retry_base")]
    pub retry_base_ms: i64,
    /// At most this many comments from mail per issue per window; more wait
    /// (in order) until the window allows them.
    #[serde(default = "default_issue_updates")]
    pub max_updates_per_issue: i64,
    #[serde(default = "default_issue_window")]
    pub issue_update_window_secs: i64,
    /// More mails than this from one sender within an hour is a storm (a
    /// loop): the rest is ignored and the admins are warned once an hour.
    #[serde(default = "default_storm")]
    pub storm_max_per_hour: i64,
    /// Mails of one mailbox worked on at once. Mails of the same
    /// conversation (issue, thread) or the same sender still go one after
    /// the other, in arrival order.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How long a claim on a mail lasts without renewal (renewed every
    /// third of it while the mail is worked on): after a crash, another
    /// instance takes the mail over this long after the last renewal.
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u64,
    /// Take only mails not yet marked `\Seen`. Off by default: a mail that
    /// another client (a person reading the shared inbox) opened first is
    /// still new to mailgate, which tracks UIDs, not flags.
    #[serde(default)]
    pub only_unseen: bool,
}

impl Default for InboundSettings {
    fn default() -> Self {
        Self {
            own_addresses: Vec::new(),
            reply_marker: None,
            max_attachment_bytes: default_max_attachment(),
            blocked_extensions: default_blocked(),
            blocked_filenames: Vec::new(),
            keep_signatures: false,
            min_image_bytes: default_min_image(),
            blocked_sha256: Vec::new(),
            max_attempts: default_attempts(),
            retry_base_ms: default_retry_base(),
            max_updates_per_issue: default_issue_updates(),
            issue_update_window_secs: default_issue_window(),
            storm_max_per_hour: default_storm(),
            concurrency: default_concurrency(),
            lease_secs: default_lease_secs(),
            only_unseen: false,
        }
    }
}

fn default_max_attachment() -> u64 {
    10 * 1024 * 1024
}
fn default_min_image() -> u64 {
    1024
}
fn default_blocked() -> Vec<String> {
    ["exe", "bat", "cmd", "com", "scr", "vbs", "js", "msi", "ps1"].into_iter().map(String::from).collect()
}
fn default_attempts() -> u32 {
    10
}
fn default_retry_base() -> i64 {
    5_000
}
fn default_issue_updates() -> i64 {
    10
}
fn default_issue_window() -> i64 {
    60
}
fn default_concurrency() -> usize {
    8
}
fn default_lease_secs() -> u64 {
    60
}
fn default_storm() -> i64 {
    30
}
