use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = mailgate::cli::Cli::parse();
    mailgate::telemetry::install_crypto_provider();
    let default_log = match cli.command {
        mailgate::cli::Command::Demo { .. } => "warn",
        _ => "info,sqlx=warn,async_imap=warn",
    };
    mailgate::telemetry::init(default_log);
    mailgate::commands::dispatch(cli).await
}
