//! Logging set-up: human-readable lines on stderr, filtered by
//! `MAILGATE_LOG` (or `RUST_LOG`), `info` by default.

use tracing_subscriber::EnvFilter;

/// async-imap traces every line it sends and receives (through `log`): the
/// LOGIN command with the IMAP password, and whole mails. That target is
/// off whatever the filter says (the more specific directive wins).
const QUIET_IMAP_STREAM: &str = "async_imap::imap_stream=off";

pub fn init(default: &str) {
    let _ = tracing_subscriber::fmt().with_env_filter(filter(default)).with_writer(std::io::stderr).try_init();
}

fn filter(default: &str) -> EnvFilter {
    let filter = std::env::var("MAILGATE_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    match QUIET_IMAP_STREAM.parse() {
        Ok(quiet) => filter.add_directive(quiet),
        Err(_) => filter,
    }
}

/// Install the ring crypto provider for rustls once per process; reqwest
/// (built without a provider), tokio-rustls and sqlx all use it.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_imap_wire_trace_is_off_even_at_trace_level() {
        let filter = super::filter("trace").to_string();
        assert!(filter.contains(super::QUIET_IMAP_STREAM), "{filter}");
    }
}
