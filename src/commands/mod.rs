//! What each CLI subcommand does.

pub mod bounces;
pub mod oauth;
pub mod token;

use crate::cli::{Cli, Command, Format};
use crate::config::Settings;
use crate::startup::Application;
use crate::store::Store;

pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        #[cfg(feature = "sandbox")]
        Command::Demo { db } => crate::demo::run(db).await,
        #[cfg(not(feature = "sandbox"))]
        Command::Demo { .. } => {
            anyhow::bail!("this mailgate was built without the `sandbox` feature, which `demo` needs")
        }
        Command::Token(cmd) => {
            let settings = Settings::load(&cli.config)?;
            token::run(&settings, cmd).await
        }
        Command::Script(crate::cli::ScriptCommand::Test { script, event }) => {
            token::script_test(&cli.config, &script, &event).await
        }
        Command::OAuth(cmd) => {
            let settings = Settings::load(&cli.config)?;
            oauth::run(&settings, cmd).await
        }
        Command::Bounces(cmd) => {
            let settings = Settings::load(&cli.config)?;
            bounces::run(&settings, cmd).await
        }
        Command::Doctor => {
            let settings = Settings::load(&cli.config)?;
            if token::doctor(&settings).await? { Ok(()) } else { anyhow::bail!("permissions are missing") }
        }
        Command::Run => {
            let settings = Settings::load(&cli.config)?;
            let service = Application::build(&settings).await?.start().await?;
            tracing::info!(mailboxes = settings.mailboxes.len(), "mailgate running");
            shutdown_signal().await;
            tracing::info!("stopping");
            service.shutdown().await;
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::load(&cli.config)?;
            Store::connect(&settings.database.url).await?;
            println!("database schema is up to date");
            Ok(())
        }
        Command::Audit { inbound, message_id, limit, format } => {
            let settings = Settings::load(&cli.config)?;
            let store = Store::connect(&settings.database.url).await?;
            let f = crate::store::AuditFilter { inbound_id: inbound, message_id, since_ms: None, limit };
            for e in store.audit_entries(&f).await? {
                match format {
                    Format::Json => println!("{}", serde_json::to_string(&e)?),
                    Format::Text => {
                        let at =
                            chrono::DateTime::from_timestamp_millis(e.at).map(|t| t.to_rfc3339()).unwrap_or_default();
                        println!("{at} #{:<5} {:<9} {}", e.inbound_id.unwrap_or(0), e.step, e.detail);
                    }
                }
            }
            Ok(())
        }
        Command::Log { limit, issue, status, mailbox, message_id, format } => {
            let settings = Settings::load(&cli.config)?;
            let store = Store::connect(&settings.database.url).await?;
            let filter = crate::store::LogFilter { issue, status, mailbox, message_id, limit: Some(limit) };
            for e in store.log_entries(&filter).await? {
                match format {
                    Format::Json => println!("{}", serde_json::to_string(&e)?),
                    Format::Text => {
                        let at =
                            chrono::DateTime::from_timestamp_millis(e.at).map(|t| t.to_rfc3339()).unwrap_or_default();
                        println!(
                            "{at} {:<10} {:<8} {:<7} {:<10} {} {}",
                            e.mailbox,
                            e.action,
                            e.status,
                            e.issue_key.as_deref().unwrap_or("-"),
                            e.message_id.as_deref().unwrap_or("-"),
                            e.error.as_deref().or(e.detail.as_deref()).unwrap_or("")
                        );
                    }
                }
            }
            Ok(())
        }
        Command::DeadLetters { limit } => {
            let settings = Settings::load(&cli.config)?;
            let store = Store::connect(&settings.database.url).await?;
            for d in store.dead_letters(limit).await? {
                println!(
                    "{:>6} {:<10} {:<40} {}",
                    d.id,
                    d.mailbox,
                    d.message_id.as_deref().unwrap_or("-"),
                    d.last_error.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
        Command::Replay { from_dead_letter: Some(id), format, .. } => {
            let settings = Settings::load(&cli.config)?;
            let app = Application::build(&settings).await?;
            let (ctx, pipeline) = (app.context(), app.pipeline());
            let raw =
                ctx.store.dead_letter_raw(id).await?.ok_or_else(|| anyhow::anyhow!("no dead letter with id {id}"))?;
            let report = crate::replay::replay_dead_letter(ctx, pipeline, id, &raw).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string(&report)?),
                Format::Text => println!(
                    "dead letter {id}: {} {}",
                    report.action.as_str(),
                    report.issue_key.as_deref().unwrap_or("-")
                ),
            }
            ctx.store.close().await;
            if report.action.is_failure() {
                anyhow::bail!("the mail failed again: {}", report.reason.unwrap_or_default());
            }
            Ok(())
        }
        Command::Replay { dry_run, format, files, .. } => {
            let settings = if dry_run && !cli.config.exists() {
                eprintln!(
                    "no config file at {}: deciding with the built-in defaults (every mail to project HELP)",
                    cli.config.display()
                );
                Settings::dry_run_defaults()?
            } else {
                Settings::load(&cli.config)?
            };
            let app = Application::build(&settings).await?;
            let (ctx, pipeline) = (app.context(), app.pipeline());
            let mut failed = false;
            for file in files {
                let raw = match std::fs::read(&file) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("{}: {e}", file.display());
                        failed = true;
                        continue;
                    }
                };
                let report = if dry_run {
                    crate::replay::dry_run(pipeline, &file.display().to_string(), &raw).await
                } else {
                    crate::replay::replay(ctx, pipeline, &file, &raw).await?
                };
                failed |= report.action.is_failure();
                match format {
                    Format::Json => println!("{}", serde_json::to_string(&report)?),
                    Format::Text => println!(
                        "{}: {} {} {}",
                        report.file,
                        report.action.as_str(),
                        report.issue_key.as_deref().unwrap_or("-"),
                        report.reason.as_deref().unwrap_or("")
                    ),
                }
            }
            ctx.store.close().await;
            if failed {
                anyhow::bail!("some mails could not be processed");
            }
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
