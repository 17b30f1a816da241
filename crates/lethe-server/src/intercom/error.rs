//! Intercom's error body: `{type: "error.list", request_id, errors: [{code, message}]}`.

use crate::error::ApiError;
use crate::request_id::current_request_id;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lethe_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// One error of the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntercomErrorItem {
    pub code: String,
    pub message: String,
}

/// Intercom's error list.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntercomErrorBody {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub request_id: String,
    pub errors: Vec<IntercomErrorItem>,
}

/// An error on the Intercom surface.
#[derive(Debug)]
pub struct IntercomError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl IntercomError {
    /// An error with a code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::BAD_REQUEST => "parameter_invalid",
        StatusCode::CONFLICT => "conflict",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        _ => "server_error",
    }
}

impl From<ApiError> for IntercomError {
    fn from(e: ApiError) -> Self {
        Self::new(e.status, code_for(e.status), e.message)
    }
}

impl From<ServiceError> for IntercomError {
    fn from(e: ServiceError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for IntercomError {
    fn into_response(self) -> Response {
        let body = IntercomErrorBody {
            kind: "error.list",
            request_id: current_request_id(),
            errors: vec![IntercomErrorItem {
                code: self.code.into(),
                message: self.message,
            }],
        };
        (self.status, Json(body)).into_response()
    }
}
