//! `ApiError`: every error an HTTP handler can answer with.
//!
//! User errors (4xx) carry a machine-readable body `{"error": {"code", "message", ...}}`.
//! Internal errors answer an opaque 500; the cause travels in a response extension and is
//! logged once, by the `log_internal_errors` middleware, never inside `into_response`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The body of every error the API answers: `{"error": {"code", "message", ...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong. Besides `code` and `message`, keys name details where they apply:
/// `field` (the request field to fix), `reason` (why the input library refused it),
/// `parameter`, `sku`, `status`, `lines` and others named with each error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `invalid_field`, `not_found`, `insufficient_stock`.
    pub code: String,
    /// For people; may change.
    pub message: String,
    #[serde(flatten)]
    #[schema(ignore)]
    pub details: Map<String, Value>,
}

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client can act on it: a 4xx with a code, a message and details.
    #[error("{code}: {message}")]
    User {
        status: StatusCode,
        code: &'static str,
        message: String,
        details: Map<String, Value>,
    },
    /// Ours: a 5xx with an opaque body.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
    /// The payment provider could not be reached: 502, opaque, retry with the same key.
    #[error("payment provider unavailable: {0}")]
    PaymentUnavailable(String),
}

/// The cause of a 500, carried to the logging middleware.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

impl ApiError {
    pub fn user(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::User {
            status,
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::user(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::user(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// A 422 naming the request field the client must fix (`invalid_field`).
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Self::unprocessable("invalid_field", message).with("field", name)
    }

    /// A 422 for a field the shared input library (`shopper-input`) refused, with its reason.
    pub fn input(name: &str, error: &shopper_input::InputError) -> Self {
        Self::field(name, error.to_string()).with("reason", error.code())
    }

    /// A 429 with `Retry-After: secs` (and `retry_after_secs` in the body).
    pub fn too_many_requests(code: &'static str, message: impl Into<String>, secs: i64) -> Self {
        Self::user(StatusCode::TOO_MANY_REQUESTS, code, message).with("retry_after_secs", secs)
    }

    pub fn not_found(what: &str) -> Self {
        Self::user(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// Adds a detail field to a user error's body.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let Self::User { details, .. } = &mut self {
            details.insert(key.to_owned(), value.into());
        }
        self
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::User { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::PaymentUnavailable(_) => StatusCode::BAD_GATEWAY,
        }
    }

    /// The body a client sees.
    pub fn body(&self) -> Value {
        let (code, message, details) = match self {
            Self::User {
                code,
                message,
                details,
                ..
            } => (*code, message.as_str(), details.clone()),
            Self::Internal(_) => ("internal", "internal error", Map::new()),
            Self::PaymentUnavailable(_) => (
                "payment_unavailable",
                "the payment provider did not answer; retry with the same Idempotency-Key",
                Map::new(),
            ),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.to_owned(),
                details,
            },
        };
        serde_json::to_value(body).unwrap_or_default()
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("database query failed"))
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::Internal(anyhow::Error::new(e).context("no database connection"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status_code(), Json(self.body())).into_response();
        match &self {
            Self::Internal(e) => {
                response
                    .extensions_mut()
                    .insert(InternalCause(format!("{e:#}")));
            }
            Self::PaymentUnavailable(e) => {
                response.extensions_mut().insert(InternalCause(e.clone()));
            }
            Self::User { details, .. } => {
                if let Some(secs) = details.get("retry_after_secs").and_then(Value::as_i64) {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, secs.into());
                }
            }
        }
        response
    }
}

/// Logs the cause of every 5xx once. Causes never contain personal data: they are built
/// from database and provider errors, not from request bodies.
pub async fn log_internal_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(InternalCause(cause)) = response.extensions().get::<InternalCause>() {
        tracing::error!(%method, %path, status = response.status().as_u16(), %cause, "request failed");
    }
    response
}

/// The largest request body the core reads, in bytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Gives every 4xx the API's error shape, whoever made it: axum's own answers to a wrong
/// method (405, `Allow` kept), an oversize body (413) or a bad path parameter (400) are plain
/// text or empty. Before any handler runs, it also refuses a body declared larger than
/// [`MAX_BODY_BYTES`] (413, without reading it) and a body whose declared `Content-Type` is
/// not JSON (415); a request without one is read as JSON.
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared_length = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return ApiError::user(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("a request body has at most {MAX_BODY_BYTES} bytes"),
        )
        .into_response();
    }
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_ascii_lowercase());
    if let Some(declared) = declared
        && matches!(request.method().as_str(), "POST" | "PUT" | "PATCH")
        && !is_json(&declared)
    {
        return ApiError::user(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json (JSON lines for imports: application/x-ndjson)",
        )
        .into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    let shaped = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !status.is_client_error() || shaped {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not take that method (see Allow)",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as application/json",
        ),
        StatusCode::BAD_REQUEST => ("bad_request", "the request is malformed"),
        _ => ("client_error", "the request cannot be answered"),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let shaped = ApiError::user(status, code, message).into_response();
    let (shaped_parts, body) = shaped.into_parts();
    for (name, value) in &shaped_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

/// `application/json`, `application/x-ndjson`, or any `+json` type, with parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    matches!(
        essence,
        "application/json" | "application/x-ndjson" | "application/jsonl"
    ) || essence.ends_with("+json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_known_with_their_parameters() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/x-ndjson"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
