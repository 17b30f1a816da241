//! JSON response bodies written by sonic-rs. A search page is tens to hundreds of
//! kilobytes of message text, and serde_json escapes strings a byte at a time: that
//! was 7 % of the server's samples under search load. sonic-rs writes the same JSON
//! from the same `Serialize` impls, scanning for bytes to escape with SIMD. The native
//! search answers with it; the LivePerson history pages, larger and more frequent, are
//! written by [`crate::json_write`].

use crate::error::ApiError;
use crate::json_write::{json_response, INITIAL_CAPACITY};
use axum::response::{IntoResponse, Response};
use lethe_service::ServiceError;
use serde::Serialize;

/// A `200 OK` JSON body, as `axum::Json`, written by sonic-rs.
pub struct JsonBody<T>(pub T);

impl<T: Serialize> IntoResponse for JsonBody<T> {
    fn into_response(self) -> Response {
        let mut bytes = Vec::with_capacity(INITIAL_CAPACITY);
        match sonic_rs::to_writer(&mut bytes, &self.0) {
            Ok(()) => json_response(bytes),
            // Only our own types reach here, and none fails to serialise; the message
            // names a position, not the data.
            Err(e) => {
                ApiError::from(ServiceError::Internal(format!("response body did not serialise: {e}"))).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::http::{header, HeaderValue};
    use serde_json::json;

    async fn body_of(response: Response) -> (StatusCode, Option<HeaderValue>, Vec<u8>) {
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, content_type, bytes.to_vec())
    }

    /// The bytes are what serde_json writes for the same value, escapes included.
    #[tokio::test]
    async fn writes_what_serde_json_writes() {
        let value = json!({
            "text": "quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} é 日本 😀 </script>",
            "long": "a".repeat(100_000) + "\u{1f}",
            "n": [1, -2, 3.5, null, true],
            "nested": {"b": [], "a": {}}
        });
        let (status, content_type, bytes) = body_of(JsonBody(&value).into_response()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.unwrap(), "application/json");
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }
}
