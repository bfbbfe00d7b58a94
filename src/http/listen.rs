//! Where the admin API is served: a plain TCP listener (loopback, or behind
//! `allow_plain_http`), or HTTPS through tokio-rustls.
//!
//! TLS handshakes run in tasks of their own, fed by one accept loop, and
//! only finished connections reach axum: a client that opens a connection
//! and stalls holds up nobody but itself, and is dropped after
//! [`HANDSHAKE_TIMEOUT`]. At most [`MAX_HANDSHAKES`] run at a time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::AdminTls;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HANDSHAKES: usize = 64;

/// Why the admin API cannot be served. Names the setting or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("admin.listen: cannot listen on {listen}: {source}")]
    Bind { listen: String, source: std::io::Error },
    #[error("admin.{key}: cannot use {file}: {message}")]
    Tls { key: &'static str, file: String, message: String },
}

fn tls_error(key: &'static str, file: &str, message: impl ToString) -> ServeError {
    ServeError::Tls { key, file: file.to_string(), message: message.to_string() }
}

/// The acceptor for the configured certificate chain and key. The ring
/// provider is passed explicitly, so nothing depends on a process default.
pub fn tls_acceptor(tls: &AdminTls) -> Result<TlsAcceptor, ServeError> {
    let cert_err = |m: &dyn std::fmt::Display| tls_error("tls_cert_file", &tls.cert_file, m);
    let certs = CertificateDer::pem_file_iter(&tls.cert_file)
        .map_err(|e| cert_err(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(&e))?;
    if certs.is_empty() {
        return Err(cert_err(&"no PEM certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key_file).map_err(|e| tls_error("tls_key_file", &tls.key_file, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| cert_err(&e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_error("tls_key_file", &tls.key_file, format!("does not fit the certificate: {e}")))?;
    // axum is built for HTTP/1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// TLS connections, handshake done, for `axum::serve`.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Start accepting on `tcp`. The accept loop ends when the listener is
    /// dropped (the server stopped).
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(MAX_HANDSHAKES);
        tokio::spawn(accept_loop(tcp, acceptor, tx));
        Ok(Self { ready, local })
    }
}

async fn accept_loop(tcp: TcpListener, acceptor: TlsAcceptor, tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let accepted = tokio::select! {
            () = tx.closed() => return,
            accepted = tcp.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // As axum's own loop does: out of descriptors and the like pass.
                tracing::debug!(error = %e, "admin API: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(client = %peer.ip(), "admin API: too many TLS handshakes at once; connection dropped");
            continue;
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            let _slot = slot;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(client = %peer.ip(), error = %e, "admin API: TLS handshake failed"),
                Err(_) => tracing::debug!(client = %peer.ip(), "admin API: TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends once this listener is gone; until
            // then there is simply nothing more to hand out.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn missing_or_mismatched_files_name_the_setting() {
        let missing = AdminTls { cert_file: "/nonexistent/cert.pem".into(), key_file: fixture("key.pem") };
        let err = tls_acceptor(&missing).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("admin.tls_cert_file") && err.contains("/nonexistent/cert.pem"), "{err}");
        let swapped = AdminTls { cert_file: fixture("key.pem"), key_file: fixture("cert.pem") };
        let err = tls_acceptor(&swapped).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("admin.tls_cert_file"), "{err}");
        assert!(tls_acceptor(&AdminTls { cert_file: fixture("cert.pem"), key_file: fixture("key.pem") }).is_ok());
    }
}
