//! Command line: `run`, `replay`, `migrate`, `log`, `demo`, `bounces`, …

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "mailgate", version, about = "Email to Jira: issues and comments from IMAP mailboxes")]
pub struct Cli {
    /// Configuration file (TOML). Values can be overridden by MAILGATE_* variables.
    #[arg(long, short, global = true, env = "MAILGATE_CONFIG", default_value = "mailgate.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: watch every configured mailbox until stopped.
    Run,
    /// Process saved .eml files (or, with --dry-run, only say what would happen).
    Replay {
        /// Decide without calling Jira or writing anything.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Retry a failed mail from the dead-letter list (its id in `mailgate dead-letters`).
        #[arg(long, conflicts_with = "files")]
        from_dead_letter: Option<i64>,
        #[arg(required_unless_present = "from_dead_letter")]
        files: Vec<PathBuf>,
    },
    /// The audit trail of mails: each decision and Jira call.
    Audit {
        /// The stored mail's id (as in `dead-letters`), or…
        #[arg(long)]
        inbound: Option<i64>,
        /// …its Message-ID.
        #[arg(long)]
        message_id: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: i64,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Mails that failed for good, with their errors (raw bytes are kept).
    DeadLetters {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Show the most recent processing log entries.
    Log {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Only rows for this issue key.
        #[arg(long)]
        issue: Option<String>,
        /// Only `ok` or `failed` rows.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        mailbox: Option<String>,
        #[arg(long)]
        message_id: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Run the whole pipeline on sample mails with SQLite and a built-in fake
    /// Jira; nothing else needed.
    Demo {
        /// Keep the demo database here instead of a temporary folder.
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// The workaround (admin) user's API token: stored encrypted, used only
    /// for user lookup and creation.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check, with the workaround token, the Jira permissions the configured
    /// features need, and print what is missing.
    Doctor,
    /// Notification-mapping scripts.
    #[command(subcommand)]
    Script(ScriptCommand),
    /// Addresses not notified because our mail to them bounced for good.
    #[command(subcommand)]
    Bounces(BouncesCommand),
    /// OAuth 2.0 grants of mailboxes, SMTP and Jira (3LO): log in, store a
    /// client secret, show their state.
    #[command(subcommand, name = "oauth")]
    OAuth(OAuthCommand),
}

/// Which grant: one of --mailbox NAME, --smtp, --jira.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct GrantTarget {
    /// The mailbox with this `name` ([[mailboxes]]).
    #[arg(long)]
    pub mailbox: Option<String>,
    /// [smtp].
    #[arg(long)]
    pub smtp: bool,
    /// [jira] (OAuth 2.0 3LO).
    #[arg(long)]
    pub jira: bool,
}

#[derive(Debug, Subcommand)]
pub enum OAuthCommand {
    /// Log in as the mailbox's user (or the Jira user) and store the refresh
    /// token encrypted: in a browser (authorization code with PKCE, back to
    /// a loopback address), or with --device on a headless server.
    Login {
        #[command(flatten)]
        target: GrantTarget,
        /// The device-code flow: a URL and a code to enter on any device.
        #[arg(long)]
        device: bool,
        /// How long to wait for the login, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
    },
    /// Store a client secret, or a service account's JSON key, read from
    /// standard input (never from the command line), encrypted.
    SetSecret {
        #[command(flatten)]
        target: GrantTarget,
    },
    /// Each configured grant: provider, flow, state, expiry, what is stored,
    /// the last error. Never a secret.
    Status {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum BouncesCommand {
    /// Suppressed addresses: until when, and which bounce of which of our mails.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Also suppressions that have expired.
        #[arg(long)]
        all: bool,
    },
    /// Notify ADDRESS again: lift its suppression now.
    Clear { address: String },
}

#[derive(Debug, Subcommand)]
pub enum ScriptCommand {
    /// Run SCRIPT on the event in a JSON file and print the recipients.
    Test {
        script: PathBuf,
        #[arg(long)]
        event: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Store a token read from standard input (never from the command line).
    Set {
        /// The workaround user's email (Cloud) or username (Data Center).
        #[arg(long)]
        user: String,
        /// Expiry date, YYYY-MM-DD (default: one year from today, Atlassian's maximum).
        #[arg(long)]
        expires: Option<chrono::NaiveDate>,
    },
    /// User, set on, expires on, days left, last verified, last failure.
    Status {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Call Jira with the token (myself) and report who it belongs to.
    Verify,
    /// Delete the stored token.
    Clear,
    /// Re-encrypt the stored token under a new master key, read from
    /// MAILGATE_NEW_MASTER_KEY or --new-key-file.
    RotateKey {
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
    /// Print a fresh random master key (hex) to put in a key file.
    GenKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
