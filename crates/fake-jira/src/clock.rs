//! The fake's one source of wall-clock time (for `created`/`updated`
//! stamps). The fake is not under test itself, so it reads the system
//! clock here instead of taking mailgate's injected `Clock`.

use chrono::{DateTime, Utc};

pub fn now() -> DateTime<Utc> {
    #[expect(clippy::disallowed_methods, reason = "the fake's only clock: timestamps on what it stores")]
    Utc::now()
}
