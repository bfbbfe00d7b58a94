//! A real Dovecot IMAP server for one test: free loopback ports, its own
//! folder, plain IMAP and IMAPS with a self-signed certificate. Stopped on drop.
//!
//! [`Dovecot::start_with_oauth`] adds SASL XOAUTH2 and OAUTHBEARER checked
//! against an RFC 7662 introspection endpoint (the test's
//! [`OAuthServer`](crate::oauth::OAuthServer)), after Dovecot 2.3's oauth2
//! passdb (doc.dovecot.org/2.3/configuration_manual/authentication/oauth2/;
//! Debian ships 2.3.19.1). Passwords keep working for PLAIN and LOGIN. Two
//! oauth2 passdbs, both `introspection_mode = post`, no `tokeninfo_url`:
//! - user tokens: `username_attribute = username` must equal the SASL user
//!   (Dovecot lowercases both, `username_format = %Lu`), `active_attribute
//!   = active`, `active_value = true`;
//! - app-only tokens (client credentials, Microsoft's IMAP.AccessAsApp): the
//!   token names no user, so the second passdb compares a constant
//!   (`username_format`) and requires `active = true` and the scope
//!   `IMAP.AccessAsApp`; the mailbox is the SASL user's, whoever it is.
//!
//! Dovecot 2.3 answers an inactive token (`{"active":false}`) with
//! `NO [AUTHENTICATIONFAILED]`; for XOAUTH2 it first sends a `+` challenge
//! with Google's JSON error (`{"status":"401","schemes":"bearer",…}`),
//! which the client must answer with an empty line. OAuth users need no
//! passwd entry: a static userdb gives any other user a mailbox. With OAuth
//! on, a failed login is answered at once and does not slow the next one
//! (`auth_failure_delay = 0`, and the anvil auth penalty off as the 2.3
//! documentation says: `unix_listener anvil-auth-penalty { mode = 0 }`;
//! `login_trusted_networks` did not spare loopback from it in 2.3.19).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "jira@example.test";
/// A canary: the secrets test looks for it in every output.
pub const PASSWORD: &str = "imap-pw-LeakCanary-31f2";

pub struct Dovecot {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub port: u16,
    pub tls_port: u16,
    child: Child,
}

pub use crate::free_port;

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn chmod(path: &Path, mode: &str) {
    run(Command::new("chmod").arg(mode).arg(path));
}

impl Dovecot {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Start on a chosen plain-IMAP port (for tests that connect before the server is up).
    pub fn start_on(port: u16) -> Self {
        Self::launch(port, None)
    }

    /// Also take XOAUTH2 and OAUTHBEARER, with tokens checked at this RFC
    /// 7662 introspection URL (see the module comment).
    pub fn start_with_oauth(introspect_url: &str) -> Self {
        Self::launch(free_port(), Some(introspect_url))
    }

    /// [`start_with_oauth`](Self::start_with_oauth) on a chosen plain-IMAP port.
    pub fn start_with_oauth_on(port: u16, introspect_url: &str) -> Self {
        Self::launch(port, Some(introspect_url))
    }

    fn launch(port: u16, oauth: Option<&str>) -> Self {
        assert!(
            Command::new("dovecot").arg("--version").output().is_ok_and(|o| o.status.success()),
            "dovecot is not installed: run `apt-get install -y dovecot-imapd` (scripts/test.sh does)"
        );
        let dir = tempfile::Builder::new().prefix("mailgate-dovecot-").tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        chmod(&root, "755");
        for sub in ["run", "state", "mail", "home"] {
            std::fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let (login_user, internal_user, internal_group, uid, gid) = if is_root {
            run(Command::new("chown").arg("nobody:nogroup").arg(root.join("mail")).arg(root.join("home")));
            let uid = String::from_utf8_lossy(&Command::new("id").args(["-u", "nobody"]).output().expect("id").stdout)
                .trim()
                .to_string();
            let gid = String::from_utf8_lossy(&Command::new("id").args(["-g", "nobody"]).output().expect("id").stdout)
                .trim()
                .to_string();
            ("dovenull".to_string(), "dovecot".to_string(), "dovecot".to_string(), uid, gid)
        } else {
            let me =
                String::from_utf8_lossy(&Command::new("id").arg("-un").output().expect("id").stdout).trim().to_string();
            let group =
                String::from_utf8_lossy(&Command::new("id").arg("-gn").output().expect("id").stdout).trim().to_string();
            let uid =
                String::from_utf8_lossy(&Command::new("id").arg("-u").output().expect("id").stdout).trim().to_string();
            let gid =
                String::from_utf8_lossy(&Command::new("id").arg("-g").output().expect("id").stdout).trim().to_string();
            (me.clone(), me, group, uid, gid)
        };
        let tls_port = free_port();
        let r = root.display();
        let (mechanisms, password_mechs, oauth_dbs) = match oauth {
            None => ("plain login", String::new(), String::new()),
            Some(url) => {
                Self::write_oauth_files(&root, url);
                (
                    "plain login xoauth2 oauthbearer",
                    "  mechanisms = plain login\n".to_string(),
                    format!(
                        r#"passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {r}/dovecot-oauth2.conf.ext
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {r}/dovecot-oauth2-app.conf.ext
}}
"#
                    ),
                )
            }
        };
        let oauth_userdb = if oauth.is_some() {
            // A failed token login answers at once (no 2 s failure delay).
            format!(
                r#"auth_failure_delay = 0
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={r}/home/%u
}}
"#
            )
        } else {
            String::new()
        };
        // With OAuth, failed logins must not slow the next one: no anvil
        // auth penalty (2, 4, 8, 15 s before every later login from the IP),
        // which Dovecot's documentation turns off with this listener mode.
        let anvil_penalty =
            if oauth.is_some() { "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n" } else { "" };
        let conf = format!(
            r#"protocols = imap
listen = 127.0.0.1
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
info_log_path = {r}/dovecot.log
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 0
first_valid_gid = 0
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
passdb {{
  driver = passwd-file
{password_mechs}  args = scheme=PLAIN username_format=%u {r}/passwd
}}
{oauth_dbs}userdb {{
  driver = passwd-file
  args = username_format=%u {r}/passwd
  default_fields = uid={uid} gid={gid} home={r}/home/%u
}}
{oauth_userdb}mail_location = maildir:{r}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Processed {{
    auto = create
  }}
  mailbox Failed {{
    auto = create
  }}
}}
ssl = yes
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
service anvil {{
  chroot =
{anvil_penalty}}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
"#
        );
        std::fs::write(root.join("dovecot.conf"), conf).expect("write conf");
        std::fs::write(
            root.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\nother@example.test:{{PLAIN}}secret2::::::\n"),
        )
        .expect("write passwd");
        chmod(&root.join("passwd"), "644");
        // rustls refuses a CA:TRUE certificate as a server certificate.
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"])
            .arg("-keyout")
            .arg(root.join("key.pem"))
            .arg("-out")
            .arg(root.join("cert.pem")));
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen: {}",
                std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
        Self { _dir: dir, root, port, tls_port, child }
    }

    /// The oauth2 passdb files (Dovecot 2.3 `dovecot-oauth2.conf.ext` syntax).
    fn write_oauth_files(root: &Path, introspect_url: &str) {
        let user = format!(
            "introspection_mode = post\nintrospection_url = {introspect_url}\nusername_attribute = username\n\
             active_attribute = active\nactive_value = true\n"
        );
        // `username_attribute = active` is present in every RFC 7662 answer;
        // the constant `username_format` makes any SASL user match it.
        let app = format!(
            "introspection_mode = post\nintrospection_url = {introspect_url}\nusername_attribute = active\n\
             username_format = app-only\nactive_attribute = active\nactive_value = true\nscope = IMAP.AccessAsApp\n"
        );
        for (name, text) in [("dovecot-oauth2.conf.ext", user), ("dovecot-oauth2-app.conf.ext", app)] {
            std::fs::write(root.join(name), text).expect("write oauth2 passdb file");
            chmod(&root.join(name), "644");
        }
    }

    /// The server's log (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("dovecot.log")).unwrap_or_default()
    }

    /// Drop every IMAP connection of the test user (server side).
    pub fn kick(&self) {
        let _ = Command::new("doveadm")
            .arg("-c")
            .arg(self.root.join("dovecot.conf"))
            .args(["kick", USER])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    pub fn cert_path(&self) -> PathBuf {
        self.root.join("cert.pem")
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
