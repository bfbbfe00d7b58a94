use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What the admin API answers on failure. Internal details are logged, not
/// returned.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or wrong admin key")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "admin API error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, axum::Json(serde_json::json!({"error": self.to_string()}))).into_response()
    }
}
