//! `mailgate` processes a test started (`TestApp::command`).

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// The child's exit status once it exits, or `None` after `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// SIGTERM (a clean shutdown), then SIGKILL if it is not gone after `limit`.
pub fn terminate(child: &mut Child, limit: Duration) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    if wait_exit(child, limit).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}
