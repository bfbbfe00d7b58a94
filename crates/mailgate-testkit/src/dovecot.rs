//! A real Dovecot IMAP server for one test: free loopback ports, its own
//! folder, plain IMAP and IMAPS with a self-signed certificate. Stopped on drop.

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
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {r}/passwd
  default_fields = uid={uid} gid={gid} home={r}/home/%u
}}
mail_location = maildir:{r}/mail/%u
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
}}
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
