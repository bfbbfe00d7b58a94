//! The SMTP sink with `--xoauth2-introspect`: AUTH XOAUTH2 is required, the
//! bearer token is checked at the test OAuth server, failures follow
//! Google's (334 + JSON, then 535) or Microsoft's (535) style, and each
//! mail records the user it was sent as.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mailgate::oauth::xoauth2_response;
use mailgate_testkit::oauth::OAuthServer;
use mailgate_testkit::smtp::{Sink, xoauth2_args};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const APP: &str = "mailgate-app";
const USER: &str = "help@corp.test";

/// A line-level SMTP client.
struct Smtp {
    lines: tokio::io::Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl Smtp {
    async fn connect(port: u16) -> Self {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        let (read, write) = tcp.into_split();
        let mut s = Self { lines: BufReader::new(read).lines(), write };
        assert!(s.reply().await.starts_with("220"));
        s
    }

    /// One reply, its lines joined with '\n'.
    async fn reply(&mut self) -> String {
        let mut out = Vec::new();
        loop {
            let line = self.lines.next_line().await.expect("read").expect("a reply");
            let more = line.as_bytes().get(3) == Some(&b'-');
            out.push(line);
            if !more {
                return out.join("\n");
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.write.write_all(format!("{line}\r\n").as_bytes()).await.expect("write");
        self.reply().await
    }
}

fn ir(user: &str, token: &str) -> String {
    STANDARD.encode(xoauth2_response(user, token))
}

async fn send_one(s: &mut Smtp, from: &str) {
    assert!(s.cmd(&format!("MAIL FROM:<{from}>")).await.starts_with("250"));
    assert!(s.cmd("RCPT TO:<customer@example.test>").await.starts_with("250"));
    assert!(s.cmd("DATA").await.starts_with("354"));
    let reply = s.cmd("Subject: hi\r\n\r\nbody\r\n.").await;
    assert!(reply.starts_with("250"), "{reply}");
}

#[tokio::test]
async fn xoauth2_is_required_and_checked_by_introspection() {
    mailgate_testkit::init();
    let server = OAuthServer::start().await;
    server.add_client(APP, "secret");
    let args = xoauth2_args(&server);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let sink = Sink::start(mailgate_testkit::free_port(), &args).await;
    let token = server.issue_access_token(APP, USER, "https://mail.google.com/");

    let mut s = Smtp::connect(sink.port()).await;
    let ehlo = s.cmd("EHLO client.test").await;
    assert!(ehlo.contains("AUTH XOAUTH2"), "{ehlo}");
    assert!(!ehlo.contains("PLAIN"), "{ehlo}");
    assert!(s.cmd("MAIL FROM:<help@corp.test>").await.starts_with("530"), "authentication is required");

    // Someone else's token: Google's failure (334 + JSON, empty line, 535).
    let reply = s.cmd(&format!("AUTH XOAUTH2 {}", ir("other@corp.test", &token))).await;
    let challenge = reply.strip_prefix("334 ").expect("a 334 challenge");
    let json: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(challenge).expect("base64")).expect("JSON error");
    assert_eq!(json["status"], "400");
    assert!(s.cmd("").await.starts_with("535 5.7.8"));

    let reply = s.cmd(&format!("AUTH XOAUTH2 {}", ir(USER, &token))).await;
    assert!(reply.starts_with("235"), "{reply}");
    send_one(&mut s, USER).await;
    let _ = s.cmd("QUIT").await;

    // Without an initial response: an empty 334 first.
    let mut s = Smtp::connect(sink.port()).await;
    s.cmd("EHLO client.test").await;
    assert_eq!(s.cmd("AUTH XOAUTH2").await, "334 ");
    assert!(s.cmd(&ir(USER, &token)).await.starts_with("235"));
    let _ = s.cmd("QUIT").await;

    // An app-only token may send as any mailbox.
    let app_token = server.issue_app_token(APP);
    let mut s = Smtp::connect(sink.port()).await;
    s.cmd("EHLO client.test").await;
    assert!(s.cmd(&format!("AUTH XOAUTH2 {}", ir("sales@corp.test", &app_token))).await.starts_with("235"));
    send_one(&mut s, "sales@corp.test").await;
    let _ = s.cmd("QUIT").await;

    // Expired tokens are refused.
    server.expire_access_tokens();
    let mut s = Smtp::connect(sink.port()).await;
    s.cmd("EHLO client.test").await;
    assert!(s.cmd(&format!("AUTH XOAUTH2 {}", ir(USER, &token))).await.starts_with("334 "));
    assert!(s.cmd("").await.starts_with("535"));

    let received = sink.received();
    let users: Vec<Option<&str>> = received.iter().map(|r| r.auth_user.as_deref()).collect();
    assert_eq!(users, [Some(USER), Some("sales@corp.test")]);
}

#[tokio::test]
async fn microsoft_failures_are_a_plain_535() {
    mailgate_testkit::init();
    let server = OAuthServer::start().await;
    let mut args = xoauth2_args(&server);
    args.extend(["--xoauth2-failure".to_string(), "microsoft".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let sink = Sink::start(mailgate_testkit::free_port(), &args).await;
    let mut s = Smtp::connect(sink.port()).await;
    s.cmd("EHLO client.test").await;
    let reply = s.cmd(&format!("AUTH XOAUTH2 {}", ir(USER, "at_unknown"))).await;
    assert!(reply.starts_with("535 5.7.3"), "{reply}");
}

#[tokio::test]
async fn lettre_sends_with_xoauth2_and_what_it_reports_on_failure() {
    mailgate_testkit::init();
    let server = OAuthServer::start().await;
    server.add_client(APP, "secret");
    let token = server.issue_access_token(APP, USER, "https://mail.google.com/");
    let transport = |sink: &Sink, token: &str| {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(sink.port())
            .credentials(Credentials::new(USER.into(), token.into()))
            .authentication(vec![Mechanism::Xoauth2])
            .build()
    };
    let mail = || {
        lettre::Message::builder()
            .from(USER.parse().expect("from"))
            .to("customer@example.test".parse().expect("to"))
            .subject("hi")
            .body("body".to_string())
            .expect("message")
    };
    let google = xoauth2_args(&server);
    let google: Vec<&str> = google.iter().map(String::as_str).collect();
    let sink = Sink::start(mailgate_testkit::free_port(), &google).await;
    transport(&sink, &token).send(mail()).await.expect("sent with XOAUTH2");
    assert_eq!(sink.received()[0].auth_user.as_deref(), Some(USER));

    // Google's 334 error challenge: lettre answers it with a client error
    // of its own, not the server's 535.
    let err = transport(&sink, "at_unknown").send(mail()).await.expect_err("refused");
    assert!(!err.is_permanent() && !err.is_transient(), "{err:?}");
    assert!(err.to_string().contains("does not expect a challenge"), "{err}");

    // Microsoft's plain 535: a permanent error.
    let mut ms = xoauth2_args(&server);
    ms.extend(["--xoauth2-failure".to_string(), "microsoft".to_string()]);
    let ms: Vec<&str> = ms.iter().map(String::as_str).collect();
    let sink = Sink::start(mailgate_testkit::free_port(), &ms).await;
    let err = transport(&sink, "at_unknown").send(mail()).await.expect_err("refused");
    assert!(err.is_permanent(), "{err:?}");
}
