//! `mailgate bounces list|clear`: the suppressed addresses, and lifting one.

use crate::cli::{BouncesCommand, Format};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::EmailAddress;
use crate::store::{BouncingAddress, Store};

pub async fn run(settings: &Settings, cmd: BouncesCommand) -> anyhow::Result<()> {
    let store = Store::connect(&settings.database.url).await?;
    let now = SystemClock.now_ms();
    let result = match cmd {
        BouncesCommand::List { format, all } => {
            for b in store.bouncing_addresses(now, all).await? {
                match format {
                    Format::Json => println!("{}", serde_json::to_string(&b)?),
                    Format::Text => println!("{}", line(&b, now)),
                }
            }
            Ok(())
        }
        BouncesCommand::Clear { address } => {
            let addr = EmailAddress::parse(&address).map_err(|e| anyhow::anyhow!("{address:?}: {e}"))?;
            if store.clear_bouncing(&addr).await? {
                println!("{addr}: suppression lifted; it is notified again");
                Ok(())
            } else {
                Err(anyhow::anyhow!("{addr} is not suppressed"))
            }
        }
    };
    store.close().await;
    result
}

/// `address  until  status  our-mail  reason`, one line.
fn line(b: &BouncingAddress, now: i64) -> String {
    let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default();
    let until = if b.expires_at > now { format!("until {}", at(b.expires_at)) } else { "expired".to_string() };
    format!(
        "{:<40} {:<36} {:<9} {} {}",
        b.email,
        until,
        b.status.as_deref().unwrap_or("-"),
        b.message_id.as_deref().unwrap_or("-"),
        b.reason.as_deref().unwrap_or("")
    )
}
