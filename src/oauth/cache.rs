//! The cached access token of a source: handed out while it has more than
//! its margin left, fetched again after that or after [`TokenCache::invalidate`].
//! One mutex: callers arriving during a fetch wait for it and share its token.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::SecretString;

use super::OAuthError;
use crate::clock::Clock;

/// Lifetime assumed when the server gives no `expires_in`.
pub const DEFAULT_LIFETIME_SECS: u64 = 600;
/// A token is renewed when this much of it is left (or 10 % of its
/// lifetime, when that is less: short-lived tokens stay usable).
pub const REFRESH_MARGIN_MS: i64 = 60_000;

/// A freshly fetched token and how long the server says it lives.
pub struct Fresh {
    pub token: SecretString,
    pub expires_in: Option<u64>,
}

struct Cached {
    token: SecretString,
    obtained_ms: i64,
    expires_ms: i64,
}

/// When a token fetched at `obtained_ms`, expiring at `expires_ms`, is due
/// for renewal: its margin (60 s, or a tenth of its lifetime if less)
/// before it expires.
pub fn renew_at(obtained_ms: i64, expires_ms: i64) -> i64 {
    let life = (expires_ms - obtained_ms).max(0);
    expires_ms - REFRESH_MARGIN_MS.min(life / 10)
}

/// The expiry of a token fetched at `now_ms` with `expires_in` seconds.
pub fn expires_at(now_ms: i64, expires_in: Option<u64>) -> i64 {
    let secs = expires_in.unwrap_or(DEFAULT_LIFETIME_SECS).min(i64::MAX as u64 / 2_000);
    now_ms.saturating_add(secs as i64 * 1000)
}

pub struct TokenCache {
    slot: tokio::sync::Mutex<Option<Cached>>,
    stale: AtomicBool,
    clock: Arc<dyn Clock>,
}

impl TokenCache {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { slot: tokio::sync::Mutex::new(None), stale: AtomicBool::new(false), clock }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The cached token while it is good, else the one `fetch` brings
    /// (cached with the expiry it gives; on error nothing is cached).
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<SecretString, OAuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fresh, OAuthError>>,
    {
        let mut slot = self.slot.lock().await;
        if self.stale.swap(false, Ordering::SeqCst) {
            *slot = None;
        }
        let now = self.clock.now_ms();
        if let Some(c) = slot.as_ref()
            && now < renew_at(c.obtained_ms, c.expires_ms)
        {
            return Ok(c.token.clone());
        }
        *slot = None;
        let fresh = fetch().await?;
        let obtained_ms = self.clock.now_ms();
        let expires_ms = expires_at(obtained_ms, fresh.expires_in);
        *slot = Some(Cached { token: fresh.token.clone(), obtained_ms, expires_ms });
        Ok(fresh.token)
    }

    /// The next [`get`](Self::get) fetches a new token.
    pub fn invalidate(&self) {
        self.stale.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use chrono::{Duration, TimeZone, Utc};
    use secrecy::ExposeSecret;

    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn the_margin_is_a_minute_or_a_tenth_of_a_short_life() {
        assert_eq!(renew_at(0, 3_600_000), 3_540_000, "1 h token: 60 s before");
        assert_eq!(renew_at(0, 300_000), 270_000, "5 min token: 30 s before");
        assert_eq!(renew_at(1_000, 1_000), 1_000, "no life, no margin");
        assert_eq!(expires_at(1_000, None), 1_000 + DEFAULT_LIFETIME_SECS as i64 * 1000);
        assert_eq!(expires_at(0, Some(u64::MAX)), (i64::MAX as u64 / 2_000) as i64 * 1000, "no overflow");
    }

    async fn counting(n: &AtomicUsize, expires_in: u64) -> Result<Fresh, OAuthError> {
        let i = n.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Fresh { token: SecretString::from(format!("t{i}")), expires_in: Some(expires_in) })
    }

    #[tokio::test]
    async fn cached_until_the_margin_then_renewed_and_invalidate_forces_a_new_one() {
        let clock = Arc::new(ManualClock::at(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).single().expect("t")));
        let cache = TokenCache::new(clock.clone());
        let n = AtomicUsize::new(0);
        assert_eq!(cache.get(|| counting(&n, 3600)).await.expect("t").expose_secret(), "t1");
        clock.advance(Duration::seconds(3539));
        assert_eq!(cache.get(|| counting(&n, 3600)).await.expect("t").expose_secret(), "t1");
        clock.advance(Duration::seconds(2));
        assert_eq!(cache.get(|| counting(&n, 3600)).await.expect("t").expose_secret(), "t2", "inside the margin");
        cache.invalidate();
        assert_eq!(cache.get(|| counting(&n, 3600)).await.expect("t").expose_secret(), "t3");
        assert_eq!(cache.get(|| counting(&n, 3600)).await.expect("t").expose_secret(), "t3");
        let failed = cache.get(|| async { Err(OAuthError::Unavailable("down".into())) });
        assert_eq!(failed.await.expect("still cached").expose_secret(), "t3", "a good token needs no fetch");
        cache.invalidate();
        let failed = cache.get(|| async { Err(OAuthError::Unavailable("down".into())) }).await;
        assert!(matches!(failed, Err(OAuthError::Unavailable(_))));
        assert_eq!(cache.get(|| counting(&n, 3600)).await.expect("t").expose_secret(), "t4", "an error is not cached");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::new(Arc::new(crate::clock::SystemClock)));
        let n = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, n) = (cache.clone(), n.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        counting(&n, 3600).await
                    })
                    .await
                    .map(|t| t.expose_secret().to_string())
            }));
        }
        for t in tasks {
            assert_eq!(t.await.expect("join").expect("token"), "t1");
        }
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }
}
