//! The admin key check in front of `/api/*`.
//!
//! Only the SHA-256 digest of the configured key is kept, and the presented
//! key is hashed the same way before the two 32-byte digests are compared
//! without an early exit: the time taken says nothing about how much of a
//! guess was right, and not even the key's length leaks (comparing the keys
//! themselves must stop, or branch, on a length mismatch). A call without
//! the header is refused before anything is compared. Refusals are logged
//! with the caller's address and counted by the [`FailureLimiter`].

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::limit::Verdict;
use super::{AdminState, ApiError};
use crate::config::{ApiKeyError, check_api_key};

/// The configured admin key, as its digest. No `Debug` that could print it.
#[derive(Clone)]
pub struct AdminKey {
    digest: [u8; 32],
}

impl AdminKey {
    /// Refuses keys the configuration would refuse (empty, short, padded),
    /// so a state built by hand is held to the same rule.
    pub fn new(key: &SecretString) -> Result<Self, ApiKeyError> {
        check_api_key(key.expose_secret())?;
        Ok(Self { digest: digest(key.expose_secret().as_bytes()) })
    }

    /// Whether `presented` is the key, in time independent of both.
    pub fn matches(&self, presented: &str) -> bool {
        let given = digest(presented.as_bytes());
        given.iter().zip(self.digest.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The key of `Authorization: Bearer <key>` (the scheme is case-insensitive,
/// RFC 9110 §11.1); `None` when there is no such header.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

fn too_many(retry_after_secs: u64) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(serde_json::json!({"error": "too many failed authentication attempts"})),
    )
        .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// Middleware: let the call through with the right key, else 401 (429 once
/// the caller has failed too often).
pub async fn require_key(
    State(state): State<AdminState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let now = state.clock.now_ms();
    let ip = peer.ip();
    if let Verdict::Blocked { retry_after_secs } = state.auth_failures.check(ip, now) {
        tracing::debug!(client = %ip, path = %req.uri().path(), "admin API call refused: client is throttled");
        return too_many(retry_after_secs);
    }
    let refusal = match presented_key(req.headers()) {
        None => "no bearer key",
        Some(key) if state.api_key.matches(key) => return next.run(req).await,
        Some(_) => "wrong key",
    };
    let verdict = state.auth_failures.record_failure(ip, now);
    let throttled = matches!(verdict, Verdict::Blocked { .. });
    tracing::warn!(client = %ip, path = %req.uri().path(), reason = refusal, throttled, "admin API call refused");
    ApiError::Unauthorized.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> AdminKey {
        AdminKey::new(&SecretString::from(s.to_string())).expect("valid key")
    }

    #[test]
    fn keys_compare_exactly() {
        let k = key("0123456789abcdef0123456789abcdef");
        assert!(k.matches("0123456789abcdef0123456789abcdef"));
        assert!(!k.matches("0123456789abcdef0123456789abcdeF"));
        assert!(!k.matches("0123456789abcdef0123456789abcdef0"), "a longer key is another key");
        assert!(!k.matches(""));
    }

    #[test]
    fn short_and_empty_keys_cannot_build_a_state() {
        assert_eq!(AdminKey::new(&SecretString::from(String::new())).err(), Some(ApiKeyError::Empty));
        assert_eq!(AdminKey::new(&SecretString::from("short".to_string())).err(), Some(ApiKeyError::TooShort));
    }

    #[test]
    fn only_a_bearer_header_with_a_key_presents_one() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_key(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(presented_key(&h), None, "an empty key is no key");
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic YWRtaW46YWRtaW4="));
        assert_eq!(presented_key(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(presented_key(&h), Some("abc"));
    }
}
