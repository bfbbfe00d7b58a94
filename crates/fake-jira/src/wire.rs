//! What every route shares: JSON answers, the two error bodies (platform
//! and JSM) and query-string parsing. A leaf: it imports no other module of
//! the fake, so `routes` and `people` both build on it.

use std::collections::BTreeMap;

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub fn json_response(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// Atlassian's platform error body.
pub fn error_collection(status: StatusCode, messages: &[&str], errors: &[(&str, &str)]) -> Response {
    let errors: serde_json::Map<String, Value> =
        errors.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    (status, axum::Json(json!({"errorMessages": messages, "errors": errors}))).into_response()
}

/// JSM's error body (differs from the platform's ErrorCollection).
pub fn jsm_error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        json!({"errorMessage": message, "i18nErrorMessage": {"i18nKey": "sd.error", "parameters": []}}),
    )
}

/// An error body in the shape of the API the path belongs to: JSM's
/// `ErrorResponse` under /rest/servicedeskapi, else the platform's `ErrorCollection`.
pub fn error_for(uri: &Uri, status: StatusCode, message: &str) -> Response {
    if uri.path().starts_with("/rest/servicedeskapi") {
        jsm_error(status, message)
    } else {
        error_collection(status, &[message], &[])
    }
}

pub fn query_map(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .map(|q| {
            q.split('&')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    Some((percent_decode(k)?, percent_decode(v)?))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}
