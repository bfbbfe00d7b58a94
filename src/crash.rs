//! Deliberate crash points for the crash tests: with
//! `MAILGATE_TEST_CRASH_AT=<point>[:<n>]` the process aborts (no cleanup,
//! like SIGKILL) the n-th time (default 1st) it passes `<point>`. Unset, the
//! check is one load of a cached value. Only with the `crash-points` cargo
//! feature (test builds, see Cargo.toml); without it `point` is empty.

#[cfg(feature = "crash-points")]
mod armed {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};

    static TARGET: OnceLock<Option<(String, u32)>> = OnceLock::new();
    static HITS: AtomicU32 = AtomicU32::new(0);

    fn target() -> &'static Option<(String, u32)> {
        TARGET.get_or_init(|| {
            let v = std::env::var("MAILGATE_TEST_CRASH_AT").ok()?;
            let (name, n) = match v.split_once(':') {
                Some((name, n)) => (name.to_string(), n.parse().unwrap_or(1)),
                None => (v, 1),
            };
            Some((name, n.max(1)))
        })
    }

    /// Abort here if the crash test asked for it.
    pub fn point(name: &str) {
        if let Some((want, n)) = target()
            && want == name
            && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n
        {
            eprintln!("crash point {name} reached: aborting (MAILGATE_TEST_CRASH_AT)");
            std::process::abort();
        }
    }
}

#[cfg(feature = "crash-points")]
pub use armed::point;

/// Built without the `crash-points` feature: nothing to do.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn point(_name: &str) {}
