//! One token bucket for every Jira call mailgate makes. A 429 pauses the
//! whole bucket for the Retry-After time, so all callers slow down together.

use std::time::Duration;

use tokio::time::Instant;

/// The bucket's arithmetic, separate from time so it can be tested.
#[derive(Debug, Clone)]
pub struct Bucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

impl Bucket {
    pub fn new(per_sec: f64, now: Instant) -> Self {
        let per_sec = if per_sec.is_finite() && per_sec > 0.0 { per_sec } else { 10.0 };
        let capacity = per_sec.max(1.0);
        Self { capacity, per_sec, tokens: capacity, last: now, paused_until: None }
    }

    /// Take a token at `now`; the wait before the call may go out.
    pub fn take(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        self.last = now;
        let pause = self.paused_until.map(|p| p.saturating_duration_since(now)).unwrap_or_default();
        self.tokens -= 1.0;
        let refill =
            if self.tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-self.tokens / self.per_sec) };
        pause.max(refill)
    }

    /// Jira said 429: nobody calls before `until`.
    pub fn pause_until(&mut self, until: Instant) {
        if self.paused_until.is_none_or(|p| p < until) {
            self.paused_until = Some(until);
        }
    }
}

/// The shared limiter.
#[derive(Debug)]
pub struct RateLimiter {
    bucket: std::sync::Mutex<Bucket>,
}

impl RateLimiter {
    pub fn new(per_sec: f64) -> Self {
        Self { bucket: std::sync::Mutex::new(Bucket::new(per_sec, Instant::now())) }
    }

    /// Wait for a token.
    pub async fn acquire(&self) {
        let wait = match self.bucket.lock() {
            Ok(mut b) => b.take(Instant::now()),
            Err(_) => Duration::ZERO,
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    pub fn pause(&self, d: Duration) {
        if let Ok(mut b) = self.bucket.lock() {
            b.pause_until(Instant::now() + d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_calls_are_spaced() {
        let t0 = Instant::now();
        let mut b = Bucket::new(2.0, t0);
        assert_eq!(b.take(t0), Duration::ZERO);
        assert_eq!(b.take(t0), Duration::ZERO);
        assert_eq!(b.take(t0), Duration::from_millis(500));
        assert_eq!(b.take(t0), Duration::from_millis(1000));
        // One second later two tokens came back, and two were owed.
        assert_eq!(b.take(t0 + Duration::from_secs(1)), Duration::from_millis(500));
    }

    #[test]
    fn a_429_pauses_everyone() {
        let t0 = Instant::now();
        let mut b = Bucket::new(100.0, t0);
        b.pause_until(t0 + Duration::from_secs(3));
        assert_eq!(b.take(t0), Duration::from_secs(3));
        assert_eq!(b.take(t0 + Duration::from_secs(3)), Duration::ZERO);
        // A shorter pause does not shorten a longer one.
        b.pause_until(t0 + Duration::from_secs(10));
        b.pause_until(t0 + Duration::from_secs(5));
        assert_eq!(b.take(t0 + Duration::from_secs(4)), Duration::from_secs(6));
    }
}
