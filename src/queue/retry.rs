//! One retry policy for every durable queue: exponential backoff from a
//! base, capped, and a give-up threshold counted in attempts.

/// Backoff for transient failures: `base_ms * 2^attempts`, at most `max_ms`;
/// an item is given up on its `max_attempts`-th failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base_ms: i64,
    pub max_ms: i64,
    pub max_attempts: i64,
}

/// Fifteen minutes: no queue waits longer between two attempts.
pub const MAX_DELAY_MS: i64 = 15 * 60 * 1_000;

impl Default for RetryPolicy {
    /// The outbox's policy: 5 s doubling to 15 min, 12 attempts.
    fn default() -> Self {
        Self { base_ms: 5_000, max_ms: MAX_DELAY_MS, max_attempts: 12 }
    }
}

impl RetryPolicy {
    /// A policy with the usual 15-minute cap.
    pub fn new(base_ms: i64, max_attempts: i64) -> Self {
        Self { base_ms, max_ms: MAX_DELAY_MS, max_attempts }
    }

    /// The wait after a failed attempt, given the attempts made before it.
    pub fn delay_ms(&self, attempts_before: i64) -> i64 {
        let exp = u32::try_from(attempts_before.clamp(0, 62)).unwrap_or(62);
        self.base_ms.saturating_mul(2i64.saturating_pow(exp)).min(self.max_ms)
    }

    /// Whether this failed attempt (after `attempts_before` earlier ones) is the last.
    pub fn gives_up(&self, attempts_before: i64) -> bool {
        attempts_before.saturating_add(1) >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_base_up_to_the_cap() {
        let p = RetryPolicy { base_ms: 1_000, max_ms: 5_000, max_attempts: 10 };
        let delays: Vec<i64> = (0..5).map(|n| p.delay_ms(n)).collect();
        assert_eq!(delays, vec![1_000, 2_000, 4_000, 5_000, 5_000]);
        assert_eq!(p.delay_ms(i64::MAX), 5_000);
        assert_eq!(p.delay_ms(-3), 1_000);
    }

    #[test]
    fn the_last_allowed_attempt_gives_up() {
        let p = RetryPolicy::new(10, 3);
        assert!(!p.gives_up(0));
        assert!(!p.gives_up(1));
        assert!(p.gives_up(2));
    }
}
