//! Jira's answers: status to typed error, Atlassian error bodies, JSON.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::jira::JiraError;

/// `Retry-After` (RFC 9110 §10.2.3): `delay-seconds` or an `HTTP-date`
/// (IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`). A date in the past
/// means "now". Jira Cloud sends seconds on 429
/// (<https://developer.atlassian.com/cloud/jira/platform/rate-limiting/>),
/// a proxy in front of Data Center may send a date.
pub(super) fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = http_date(value)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// An HTTP-date; RFC 2822 parsing accepts IMF-fixdate (`GMT` zone).
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// Map a response to success or a typed error; with `fields`, a 400 whose
/// `errors` name fields is [`JiraError::InvalidFields`].
pub(super) async fn check(resp: Response, fields: bool) -> Result<Response, JiraError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
    let retry_after = header("retry-after").and_then(|v| {
        // An HTTP date is measured against the server's own `Date` header
        // when it sends one (no clock skew), else against ours.
        let now = header("date").and_then(http_date).unwrap_or_else(|| crate::clock::SystemClock.now());
        retry_after(v, now)
    });
    let body = resp.text().await.unwrap_or_default();
    let message = error_message(&body);
    if fields && status == StatusCode::BAD_REQUEST {
        let named = field_errors(&body);
        if !named.is_empty() {
            return Err(JiraError::InvalidFields { message, fields: named });
        }
    }
    Err(match status {
        StatusCode::UNAUTHORIZED => JiraError::Unauthorized,
        StatusCode::FORBIDDEN => JiraError::Forbidden(message),
        StatusCode::NOT_FOUND => JiraError::NotFound(message),
        StatusCode::TOO_MANY_REQUESTS => JiraError::RateLimited { retry_after },
        s if s.is_server_error() => JiraError::Server { status: s.as_u16(), message },
        s => JiraError::Rejected { status: s.as_u16(), message },
    })
}

/// Text of an Atlassian error body: platform `ErrorCollection`
/// (`errorMessages` + `errors`) or JSM `ErrorResponse` (`errorMessage`).
pub fn error_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.chars().take(300).collect();
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(msgs) = v.get("errorMessages").and_then(Value::as_array) {
        parts.extend(msgs.iter().filter_map(Value::as_str).map(String::from));
    }
    if let Some(errs) = v.get("errors").and_then(Value::as_object) {
        parts.extend(errs.iter().map(|(k, m)| format!("{k}: {}", m.as_str().unwrap_or_default())));
    }
    if let Some(m) = v.get("errorMessage").and_then(Value::as_str) {
        parts.push(m.to_string());
    }
    if parts.is_empty() { body.chars().take(300).collect() } else { parts.join("; ") }
}

/// The `errors` of a platform `ErrorCollection`: field id to message.
fn field_errors(body: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    v.get("errors")
        .and_then(Value::as_object)
        .map(|errs| errs.iter().map(|(k, m)| (k.clone(), m.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

pub(super) async fn json_body(resp: Response) -> Result<Value, JiraError> {
    resp.json::<Value>().await.map_err(JiraError::Body)
}

#[cfg(test)]
mod tests {
    use super::{error_message, retry_after};
    use chrono::TimeZone;
    use std::time::Duration;

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).single().expect("a time");
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Tue, 01 Dec 2026 10:00:42 GMT", now), Some(Duration::from_secs(42)));
        assert_eq!(retry_after("Tue, 01 Dec 2026 09:59:00 GMT", now), Some(Duration::ZERO), "past: now");
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn the_fields_of_an_error_collection_are_read() {
        let body = r#"{"errorMessages":[],"errors":{"priority":"Priority name 'Urgent' is not valid"}}"#;
        assert_eq!(
            super::field_errors(body),
            [("priority".to_string(), "Priority name 'Urgent' is not valid".to_string())]
        );
        assert!(super::field_errors(r#"{"errorMessages":["no"],"errors":{}}"#).is_empty());
        assert!(super::field_errors("<html>").is_empty());
    }

    #[test]
    fn atlassian_error_bodies_are_read() {
        let m = error_message(r#"{"errorMessages":["Issue does not exist"],"errors":{"summary":"required"}}"#);
        assert_eq!(m, "Issue does not exist; summary: required");
        assert_eq!(error_message(r#"{"errorMessage":"nope","i18nErrorMessage":{}}"#), "nope");
    }
}
