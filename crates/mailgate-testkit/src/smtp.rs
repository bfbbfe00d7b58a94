//! The SMTP sink (`scripts/dev/smtp_sink.py`, aiosmtpd) as a child process.
//! With [`xoauth2_args`] it requires AUTH XOAUTH2 and checks the bearer
//! token at the test OAuth server's introspection endpoint (see the
//! script's docstring for the rules and the two failure styles).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

const DEADLINE: Duration = Duration::from_secs(30);

/// The SMTP sink as a child process; killed when dropped.
pub struct Sink {
    _child: tokio::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub raw: String,
    /// The SASL user the mail was sent as (`--xoauth2-introspect`), or `None`
    /// when the sink asked for no authentication.
    pub auth_user: Option<String>,
}

impl Received {
    pub fn headers(&self) -> &str {
        self.raw.split("\r\n\r\n").next().unwrap_or_default()
    }
}

/// `smtp_sink.py` options for XOAUTH2 checked at `server`'s introspection
/// URL (Google's failure style), for [`Sink::start`] or
/// `TestAppBuilder::with_smtp_args`.
pub fn xoauth2_args(server: &crate::oauth::OAuthServer) -> Vec<String> {
    vec!["--xoauth2-introspect".into(), server.introspect_url()]
}

impl Sink {
    pub async fn start(port: u16, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = crate::repo_root().join("scripts/dev/smtp_sink.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .arg("--port")
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start python3 scripts/dev/smtp_sink.py (run scripts/dev/install-test-deps.sh)");
        let stdout = child.stdout.take().expect("sink stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(DEADLINE, async {
            while let Some(line) = lines.next_line().await.expect("read sink stdout") {
                if line.starts_with("READY ") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(ready, Ok(true), "the SMTP sink did not start (is aiosmtpd installed? see its stderr above)");
        Self { _child: child, dir, port }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn path(&self, name: String) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Every message accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut out = Vec::new();
        for n in 1.. {
            let Ok(json) = std::fs::read_to_string(self.path(format!("{n}.json"))) else { break };
            let meta: serde_json::Value = serde_json::from_str(&json).expect("sink json");
            let raw = std::fs::read(self.path(format!("{n}.eml"))).expect("sink eml");
            out.push(Received {
                mail_from: meta["mail_from"].as_str().expect("mail_from").to_string(),
                rcpt_tos: meta["rcpt_tos"]
                    .as_array()
                    .expect("rcpt_tos")
                    .iter()
                    .map(|v| v.as_str().expect("rcpt").to_string())
                    .collect(),
                raw: String::from_utf8_lossy(&raw).into_owned(),
                auth_user: meta["auth_user"].as_str().map(String::from),
            });
        }
        out
    }
}
