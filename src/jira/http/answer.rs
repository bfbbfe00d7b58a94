//! Jira's answers: status to typed error, Atlassian error bodies, JSON.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::jira::JiraError;

/// Map a response to success or a typed error.
pub(super) async fn check(resp: Response) -> Result<Response, JiraError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = resp.text().await.unwrap_or_default();
    let message = error_message(&body);
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

pub(super) async fn json_body(resp: Response) -> Result<Value, JiraError> {
    resp.json::<Value>().await.map_err(JiraError::Body)
}

#[cfg(test)]
mod tests {
    use super::error_message;

    #[test]
    fn atlassian_error_bodies_are_read() {
        let m = error_message(r#"{"errorMessages":["Issue does not exist"],"errors":{"summary":"required"}}"#);
        assert_eq!(m, "Issue does not exist; summary: required");
        assert_eq!(error_message(r#"{"errorMessage":"nope","i18nErrorMessage":{}}"#), "nope");
    }
}
