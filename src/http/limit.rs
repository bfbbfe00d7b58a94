//! Failed-authentication throttle: after [`MAX_FAILURES`] refused calls from
//! one client within [`WINDOW_MS`], every call from it is answered 429 until
//! the window ends, whatever key it presents, so a guesser learns nothing
//! from the answers while blocked. Successes do not count and do not reset
//! the count: a client holding the key is not slowed, and one that knows it
//! cannot launder guesses with good calls in between.
//!
//! A fixed window per client is enough here: the aim is to make guessing a
//! 32-character key hopeless (ten guesses a minute), not to shape traffic.
//! Clients are IPv4 addresses or IPv6 /64 networks (one host commonly holds a
//! whole /64). Behind a reverse proxy every client has the proxy's address;
//! forwarded-for headers are not trusted, since any caller can set them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};

/// Refused calls allowed per client and window.
pub const MAX_FAILURES: u32 = 10;
/// The window: one minute.
pub const WINDOW_MS: i64 = 60_000;
/// Clients tracked at most; beyond it the oldest window is forgotten, so a
/// flood from many addresses cannot grow the table without bound.
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Window {
    started_ms: i64,
    failures: u32,
}

/// Whether a client may try to authenticate now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Blocked; try again in this many seconds (at least 1).
    Blocked {
        retry_after_secs: u64,
    },
}

#[derive(Debug, Default)]
pub struct FailureLimiter {
    windows: Mutex<HashMap<IpAddr, Window>>,
}

/// The unit clients are counted in.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn retry_after(w: &Window, now_ms: i64) -> u64 {
    let left_ms = u64::try_from(w.started_ms + WINDOW_MS - now_ms).unwrap_or(0);
    left_ms.div_ceil(1000).max(1)
}

impl FailureLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Before the key is looked at.
    pub fn check(&self, ip: IpAddr, now_ms: i64) -> Verdict {
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get(&client_key(ip)) {
            Some(w) if now_ms < w.started_ms + WINDOW_MS && w.failures >= MAX_FAILURES => {
                Verdict::Blocked { retry_after_secs: retry_after(w, now_ms) }
            }
            _ => Verdict::Allowed,
        }
    }

    /// Count a refused call; the verdict for the client's next call.
    pub fn record_failure(&self, ip: IpAddr, now_ms: i64) -> Verdict {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let key = client_key(ip);
        if !windows.contains_key(&key) && windows.len() >= MAX_TRACKED {
            windows.retain(|_, w| now_ms < w.started_ms + WINDOW_MS);
            if windows.len() >= MAX_TRACKED
                && let Some(oldest) = windows.iter().min_by_key(|(_, w)| w.started_ms).map(|(k, _)| *k)
            {
                windows.remove(&oldest);
            }
        }
        let w = windows.entry(key).or_insert(Window { started_ms: now_ms, failures: 0 });
        if now_ms >= w.started_ms + WINDOW_MS {
            *w = Window { started_ms: now_ms, failures: 0 };
        }
        w.failures = w.failures.saturating_add(1);
        if w.failures >= MAX_FAILURES {
            Verdict::Blocked { retry_after_secs: retry_after(w, now_ms) }
        } else {
            Verdict::Allowed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn a_client_is_blocked_after_the_limit_until_the_window_ends() {
        let limiter = FailureLimiter::new();
        let a = ip("192.0.2.7");
        for n in 1..MAX_FAILURES {
            assert_eq!(limiter.record_failure(a, 0), Verdict::Allowed, "failure {n}");
        }
        assert_eq!(limiter.record_failure(a, 1_000), Verdict::Blocked { retry_after_secs: 59 });
        assert_eq!(limiter.check(a, 30_500), Verdict::Blocked { retry_after_secs: 30 });
        assert_eq!(limiter.check(ip("192.0.2.8"), 30_000), Verdict::Allowed, "other clients are not affected");
        assert_eq!(limiter.check(a, 60_001), Verdict::Allowed, "the window is over");
        assert_eq!(limiter.record_failure(a, 60_001), Verdict::Allowed, "a new window starts");
    }

    #[test]
    fn one_ipv6_network_is_one_client() {
        let limiter = FailureLimiter::new();
        for n in 0..MAX_FAILURES {
            limiter.record_failure(ip(&format!("2001:db8:1:2::{n:x}")), 0);
        }
        assert!(matches!(limiter.check(ip("2001:db8:1:2:ffff::1"), 1), Verdict::Blocked { .. }));
        assert_eq!(limiter.check(ip("2001:db8:1:3::1"), 1), Verdict::Allowed);
        assert_eq!(client_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn the_table_stays_bounded() {
        let limiter = FailureLimiter::new();
        for n in 0..(MAX_TRACKED as u32 + 10) {
            limiter.record_failure(IpAddr::V4(n.into()), i64::from(n));
        }
        let len = limiter.windows.lock().map(|w| w.len()).unwrap_or(0);
        assert_eq!(len, MAX_TRACKED);
    }
}
