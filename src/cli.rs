//! Command line: `run`, `replay`, `migrate`, `log`, `demo`.

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
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Show the most recent processing log entries.
    Log {
        #[arg(long, default_value_t = 50)]
        limit: i64,
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
