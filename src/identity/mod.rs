//! The workaround (admin) user: its encrypted token, expiry warnings, and
//! what it is used for: sender lookup and user/customer creation. Also the
//! admin warnings about OAuth 2.0 grants (`oauth.rs`).

mod expiry;
mod oauth;
mod resolve;
mod token;

pub use expiry::check_expiry;
pub use oauth::{check_grants, warn_expiring, warn_revoked};
pub use resolve::{Resolution, ResolveError, known_users, resolve_sender};
pub use token::{MAX_EXPIRY_DAYS, TokenError, TokenService, TokenState, TokenStatus, Unavailable};
