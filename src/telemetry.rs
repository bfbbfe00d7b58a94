//! Logging set-up: human-readable lines on stderr, filtered by
//! `MAILGATE_LOG` (or `RUST_LOG`), `info` by default.

use tracing_subscriber::EnvFilter;

pub fn init(default: &str) {
    let filter = std::env::var("MAILGATE_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Install the ring crypto provider for rustls once per process; reqwest
/// (built without a provider), tokio-rustls and sqlx all use it.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
