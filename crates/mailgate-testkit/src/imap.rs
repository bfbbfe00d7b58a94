//! A test-side IMAP client (plain TCP on loopback) for the test's Dovecot.

use base64::Engine;
use futures_util::TryStreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::dovecot;

pub struct Imap {
    session: async_imap::Session<tokio::net::TcpStream>,
}

impl Imap {
    pub async fn connect(port: u16) -> Self {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect imap");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting").expect("greeting");
        let session = client.login(dovecot::USER, dovecot::PASSWORD).await.map_err(|e| e.0).expect("login");
        Self { session }
    }

    pub async fn append(&mut self, raw: &[u8]) {
        self.session.append("INBOX", None, None, raw).await.expect("append");
    }

    /// Deliver a mail already flagged `\Seen`, as if a person had opened it
    /// in another client before mailgate looked.
    pub async fn append_seen(&mut self, raw: &[u8]) {
        self.session.append("INBOX", Some("(\\Seen)"), None, raw).await.expect("append");
    }

    /// (messages, unseen) in a folder.
    pub async fn counts(&mut self, folder: &str) -> (u32, u32) {
        self.session.select(folder).await.expect("select");
        let all = self.session.uid_search("ALL").await.expect("search").len() as u32;
        let unseen = self.session.uid_search("UNSEEN").await.expect("search").len() as u32;
        (all, unseen)
    }

    pub async fn seen_in_inbox(&mut self) -> u32 {
        self.session.select("INBOX").await.expect("select");
        self.session.uid_search("SEEN").await.expect("search").len() as u32
    }

    pub async fn logout(mut self) {
        let _ = self.session.logout().await;
    }

    pub async fn flags(&mut self, folder: &str) -> Vec<String> {
        self.session.select(folder).await.expect("select");
        let fetches: Vec<_> =
            self.session.fetch("1:*", "FLAGS").await.expect("fetch").try_collect().await.expect("fetch");
        fetches.iter().map(|f| format!("{:?}", f.flags().collect::<Vec<_>>())).collect()
    }
}

/// (messages, unseen) in `folder`, through a session of its own (for polling
/// while the service holds its connections).
pub async fn counts_once(port: u16, folder: &str) -> (u32, u32) {
    let mut probe = Imap::connect(port).await;
    let counts = probe.counts(folder).await;
    probe.logout().await;
    counts
}

/// A raw `AUTHENTICATE <mechanism> <base64(initial_response)>` (SASL-IR,
/// RFC 4959) on a new connection: `Ok(tagged OK line)` or `Err(tagged NO/BAD
/// line)`. A `+` challenge (XOAUTH2's error JSON) is answered with an empty
/// line, as a client must. Use with `mailgate::oauth::xoauth2_response` or
/// `oauthbearer_response`.
pub async fn authenticate(port: u16, mechanism: &str, initial_response: &str) -> Result<String, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect imap");
    let (read, mut write) = tcp.into_split();
    let mut lines = BufReader::new(read).lines();
    lines.next_line().await.expect("greeting").expect("greeting");
    let ir = base64::engine::general_purpose::STANDARD.encode(initial_response);
    write.write_all(format!("a1 AUTHENTICATE {mechanism} {ir}\r\n").as_bytes()).await.expect("write");
    loop {
        let Some(line) = lines.next_line().await.expect("read") else {
            return Err("connection closed".into());
        };
        if line.starts_with('+') {
            write.write_all(b"\r\n").await.expect("write");
        } else if let Some(rest) = line.strip_prefix("a1 ") {
            let _ = write.write_all(b"a2 LOGOUT\r\n").await;
            return if rest.starts_with("OK") { Ok(line) } else { Err(line) };
        }
    }
}
