//! The `/v1` error body (also used by the LivePerson and Kore.ai dialects).

use crate::request_id::current_request_id;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lethe_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer: a machine code, a human message and the request id.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    /// The part of the request at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The object's current status, when that is why the request was refused (409).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
    pub request_id: String,
}

/// An error on the native surface.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub current_status: Option<String>,
    /// Seconds until a retry can succeed (429), sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with no field.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            current_status: None,
            retry_after: None,
        }
    }

    /// 400 naming a field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_input",
            message: format!("{field}: {message}"),
            field: Some(field),
            current_status: None,
            retry_after: None,
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid { field, message } => Self::invalid(field, message),
            ServiceError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            ServiceError::NotFound(what) => Self::not_found(format!("{what} not found")),
            ServiceError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            ServiceError::Gone(m) => Self::new(StatusCode::GONE, "gone", m),
            ServiceError::WrongState { current, message } => Self {
                current_status: Some(current),
                ..Self::new(StatusCode::CONFLICT, "invalid_state", message)
            },
            ServiceError::QuotaExceeded { limit, resets_at } => {
                let now = lethe_domain::time::now();
                Self {
                    retry_after: Some(((resets_at - now).max(0) / 1000) as u64 + 1),
                    ..Self::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "quota_exceeded",
                        format!(
                            "the account's monthly quota of {limit} deletion requests is used up; it resets at {}",
                            lethe_domain::time::to_rfc3339(resets_at)
                        ),
                    )
                }
            }
            ServiceError::Unavailable(m) => {
                tracing::warn!(error = %m, "storage unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "storage is busy; retry shortly",
                )
            }
            ServiceError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                )
            }
        }
    }
}

impl From<lethe_domain::DomainError> for ApiError {
    fn from(err: lethe_domain::DomainError) -> Self {
        ServiceError::from(err).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            field: self.field,
            current_status: self.current_status,
            request_id: current_request_id(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// Result alias for `/v1` handlers.
pub type ApiResult<T> = Result<T, ApiError>;
