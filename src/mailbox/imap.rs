//! The async-imap client: implicit TLS, STARTTLS or (loopback only) plain,
//! UID-based fetch with BODY.PEEK, IDLE when offered.

use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use async_imap::{Client, Session};
use async_trait::async_trait;
use futures_util::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpStream;

use super::sasl::Sasl;
use super::stream::ImapStream;
use super::{AckTarget, MailConnector, MailSource, MailboxError};
use crate::config::{MailboxSettings, TlsMode};
use crate::oauth::{self, AccessTokens};

/// How the connector logs in.
enum ImapAuth {
    Password(SecretString),
    /// SASL with an OAuth 2.0 access token: XOAUTH2 (Microsoft, Google), or
    /// OAUTHBEARER (RFC 7628) when the server offers only that.
    OAuth {
        tokens: Arc<dyn AccessTokens>,
        bearer: bool,
    },
}

pub struct ImapConnector {
    name: String,
    host: String,
    port: u16,
    tls: TlsMode,
    user: String,
    auth: ImapAuth,
    folder: String,
    processed: Option<String>,
    failed: Option<String>,
    idle: bool,
    tls_config: Arc<rustls::ClientConfig>,
}

impl ImapConnector {
    pub fn new(s: &MailboxSettings) -> Result<Self, MailboxError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &s.ca_file {
            let pem = std::fs::read(path).map_err(|source| MailboxError::CaFile { path: path.clone(), source })?;
            use rustls_pki_types::pem::PemObject;
            for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|source| MailboxError::CertificatePem { path: path.clone(), source })?;
                roots.add(cert).map_err(|source| MailboxError::Certificate { path: path.clone(), source })?;
            }
        }
        let tls_config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        Ok(Self {
            name: s.name.clone(),
            host: s.host.clone(),
            port: s.port,
            tls: s.tls,
            user: s.user.clone(),
            auth: ImapAuth::Password(s.password.clone()),
            folder: s.folder.clone(),
            processed: s.processed_folder.clone(),
            failed: s.failed_folder.clone(),
            idle: s.idle,
            tls_config: Arc::new(tls_config),
        })
    }

    /// Log in with OAuth 2.0 access tokens from `tokens` instead of the
    /// password: SASL XOAUTH2, or OAUTHBEARER (RFC 7628) with `bearer`.
    pub fn with_oauth(mut self, tokens: Arc<dyn AccessTokens>, bearer: bool) -> Self {
        self.auth = ImapAuth::OAuth { tokens, bearer };
        self
    }

    /// Log in: the password, or a SASL mechanism with an access token. A
    /// refused token is dropped and a fresh one tried once at once (an
    /// expired one cached from before a reconnect is the usual cause).
    async fn log_in(&self, mut client: Client<ImapStream>) -> Result<Session<ImapStream>, MailboxError> {
        let (tokens, bearer) = match &self.auth {
            ImapAuth::Password(password) => {
                return client
                    .login(&self.user, password.expose_secret())
                    .await
                    .map_err(|(e, _)| MailboxError::Login(e));
            }
            ImapAuth::OAuth { tokens, bearer } => (tokens, *bearer),
        };
        let mut last = None;
        for _ in 0..2 {
            let token = tokens.access_token().await.map_err(MailboxError::OAuth)?;
            let response = if bearer {
                oauth::oauthbearer_response(&self.user, &self.host, self.port, token.expose_secret())
            } else {
                oauth::xoauth2_response(&self.user, token.expose_secret())
            };
            let mechanism = if bearer { "OAUTHBEARER" } else { "XOAUTH2" };
            match client.authenticate(mechanism, Sasl::new(response)).await {
                Ok(session) => return Ok(session),
                Err((e, c)) => {
                    tokens.invalidate();
                    tracing::warn!(mechanism, "the IMAP server refused the access token; trying a fresh one");
                    last = Some(e);
                    client = c;
                }
            }
        }
        Err(MailboxError::Login(last.unwrap_or(async_imap::error::Error::No("authentication failed".into()))))
    }

    async fn tls_wrap(&self, tcp: TcpStream) -> Result<ImapStream, MailboxError> {
        let server_name = rustls_pki_types::ServerName::try_from(self.host.clone())
            .map_err(|source| MailboxError::ServerName { host: self.host.clone(), source })?;
        let tls = tokio_rustls::TlsConnector::from(self.tls_config.clone())
            .connect(server_name, tcp)
            .await
            .map_err(MailboxError::Tls)?;
        Ok(ImapStream::Tls(Box::new(tls)))
    }
}

async fn greeting(client: &mut Client<ImapStream>) -> Result<(), MailboxError> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(MailboxError::NoGreeting),
        Err(e) => Err(MailboxError::Connect(e)),
    }
}

#[async_trait]
impl MailConnector for ImapConnector {
    fn name(&self) -> &str {
        &self.name
    }

    #[tracing::instrument(skip_all, fields(mailbox = %self.name, host = %self.host, port = self.port))]
    async fn connect(&self) -> Result<Box<dyn MailSource>, MailboxError> {
        let tcp = tokio::time::timeout(Duration::from_secs(30), TcpStream::connect((self.host.as_str(), self.port)))
            .await
            .map_err(|_| MailboxError::ConnectTimeout)?
            .map_err(MailboxError::Connect)?;
        let client = match self.tls {
            TlsMode::Implicit => {
                let mut c = Client::new(self.tls_wrap(tcp).await?);
                greeting(&mut c).await?;
                c
            }
            TlsMode::None => {
                let mut c = Client::new(ImapStream::Plain(tcp));
                greeting(&mut c).await?;
                c
            }
            TlsMode::Starttls => {
                let mut c = Client::new(ImapStream::Plain(tcp));
                greeting(&mut c).await?;
                c.run_command_and_check_ok("STARTTLS", None).await?;
                let ImapStream::Plain(tcp) = c.into_inner() else {
                    return Err(MailboxError::TlsState);
                };
                Client::new(self.tls_wrap(tcp).await?)
            }
        };
        let mut session = self.log_in(client).await?;
        let caps = session.capabilities().await?;
        let has_idle = caps.has_str("IDLE");
        let has_move = caps.has_str("MOVE");
        let has_uidplus = caps.has_str("UIDPLUS");
        let selected = session.select(&self.folder).await?;
        let uidvalidity = selected.uid_validity.unwrap_or(0);
        tracing::info!(idle = has_idle, uidvalidity, "IMAP session open");
        Ok(Box::new(ImapSession {
            session: Some(session),
            uidvalidity,
            uid_next: selected.uid_next,
            use_idle: self.idle && has_idle,
            has_move,
            has_uidplus,
            processed: self.processed.clone(),
            failed: self.failed.clone(),
            pending_exists: false,
        }))
    }
}

struct ImapSession {
    session: Option<Session<ImapStream>>,
    uidvalidity: u32,
    uid_next: Option<u32>,
    use_idle: bool,
    has_move: bool,
    has_uidplus: bool,
    processed: Option<String>,
    failed: Option<String>,
    /// The server announced new mail outside IDLE.
    pending_exists: bool,
}

impl ImapSession {
    fn session(&mut self) -> Result<&mut Session<ImapStream>, MailboxError> {
        self.session.as_mut().ok_or(MailboxError::SessionLost)
    }

    fn drain_unsolicited(&mut self) {
        if let Some(s) = self.session.as_mut() {
            while let Ok(r) = s.unsolicited_responses.try_recv() {
                if matches!(r, UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)) {
                    self.pending_exists = true;
                }
            }
        }
    }
}

#[async_trait]
impl MailSource for ImapSession {
    fn uidvalidity(&self) -> u32 {
        self.uidvalidity
    }

    fn uid_next(&self) -> Option<u32> {
        self.uid_next
    }

    async fn unseen_uids(&mut self) -> Result<Vec<u32>, MailboxError> {
        self.drain_unsolicited();
        self.pending_exists = false;
        let mut uids: Vec<u32> = self.session()?.uid_search("UNSEEN").await?.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, MailboxError> {
        let Some(first) = after.checked_add(1) else { return Ok(Vec::new()) };
        self.drain_unsolicited();
        self.pending_exists = false;
        // `n:*` also matches the highest UID when it is below n (RFC 3501
        // 6.4.8: `*` is the largest UID in use), so the answer is filtered.
        let found = self.session()?.uid_search(format!("UID {first}:*")).await?;
        let mut uids: Vec<u32> = found.into_iter().filter(|&u| u > after).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    async fn fetch_many(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, MailboxError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let session = self.session()?;
        let fetches: Vec<_> = session.uid_fetch(uid_set(uids), "(UID BODY.PEEK[])").await?.try_collect().await?;
        Ok(uids
            .iter()
            .filter_map(|&uid| {
                let f = fetches.iter().find(|f| f.uid == Some(uid))?;
                Some((uid, f.body()?.to_vec()))
            })
            .collect())
    }

    async fn acknowledge_many(&mut self, uids: &[u32], target: AckTarget) -> Result<(), MailboxError> {
        if uids.is_empty() {
            return Ok(());
        }
        let folder = match target {
            AckTarget::Processed => self.processed.clone(),
            AckTarget::Failed => self.failed.clone(),
        };
        let (has_move, has_uidplus) = (self.has_move, self.has_uidplus);
        let session = self.session()?;
        // Already moved (by us before a crash, or by another instance): done.
        let mut present: Vec<u32> = session.uid_search(format!("UID {}", uid_set(uids))).await?.into_iter().collect();
        if present.is_empty() {
            return Ok(());
        }
        present.sort_unstable();
        let set = uid_set(&present);
        let _: Vec<_> = session.uid_store(&set, "+FLAGS.SILENT (\\Seen)").await?.try_collect().await?;
        if let Some(folder) = folder {
            if has_move {
                session.uid_mv(&set, &folder).await?;
            } else {
                session.uid_copy(&set, &folder).await?;
                let _: Vec<_> = session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect().await?;
                if has_uidplus {
                    let _: Vec<_> = session.uid_expunge(&set).await?.try_collect().await?;
                } else {
                    let _: Vec<_> = session.expunge().await?.try_collect().await?;
                }
            }
        }
        Ok(())
    }

    async fn wait(&mut self, timeout: Duration) -> Result<(), MailboxError> {
        self.drain_unsolicited();
        if self.pending_exists {
            return Ok(());
        }
        if !self.use_idle {
            tokio::time::sleep(timeout).await;
            return self.session()?.noop().await.map_err(Into::into);
        }
        let session = self.session.take().ok_or(MailboxError::SessionLost)?;
        let mut handle = session.idle();
        handle.init().await?;
        // Servers drop IDLE after 30 minutes; re-enter well before.
        let (fut, _stop) = handle.wait_with_timeout(timeout.min(Duration::from_secs(25 * 60)));
        let response = fut.await?;
        if let IdleResponse::NewData(_) = response {
            self.pending_exists = true;
        }
        self.session = Some(handle.done().await?);
        Ok(())
    }
}

/// An IMAP sequence set of UIDs, consecutive runs written as ranges.
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod uid_set_tests {
    #[test]
    fn runs_become_ranges() {
        assert_eq!(super::uid_set(&[5, 1, 2, 3, 9, 10, 3]), "1:3,5,9:10");
        assert_eq!(super::uid_set(&[7]), "7");
    }
}
