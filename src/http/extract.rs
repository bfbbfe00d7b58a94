//! Request extractors whose failures answer in the API's JSON error shape,
//! and the bounds every list endpoint applies to `limit`.
//!
//! Every request type read through them is `#[serde(deny_unknown_fields)]`:
//! a misspelt field (`expire` for `expires`) is an error, not silently a
//! default.

use axum::extract::{FromRequest, FromRequestParts};

use super::ApiError;

/// `axum::Json`, refusing with [`ApiError`].
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query`, refusing with [`ApiError`].
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// The most rows one call returns.
pub const MAX_LIMIT: i64 = 1000;

/// `limit` as asked, or `default`. Zero or less is a 400 (it asks for
/// nothing, or for the store's "no limit"); more than [`MAX_LIMIT`] is cut
/// to it, so a client asking for "everything" gets the largest page.
pub fn clamp_limit(limit: Option<i64>, default: i64) -> Result<i64, ApiError> {
    match limit {
        None => Ok(default.clamp(1, MAX_LIMIT)),
        Some(n) if n < 1 => Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}"))),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_LIMIT, clamp_limit};

    #[test]
    fn limits_are_bounded() {
        assert_eq!(clamp_limit(None, 200).ok(), Some(200));
        assert_eq!(clamp_limit(Some(5), 200).ok(), Some(5));
        assert_eq!(clamp_limit(Some(100_000_000), 200).ok(), Some(MAX_LIMIT));
        assert!(clamp_limit(Some(0), 200).is_err());
        assert!(clamp_limit(Some(-1), 200).is_err());
    }
}
