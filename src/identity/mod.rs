//! The workaround (admin) user: its encrypted token, expiry warnings, and
//! what it is used for: sender lookup and user/customer creation.

mod expiry;
mod resolve;
mod token;

pub use expiry::check_expiry;
pub use resolve::{Resolution, ResolveError, known_users, resolve_sender};
pub use token::{MAX_EXPIRY_DAYS, TokenError, TokenService, TokenState, TokenStatus, Unavailable};
