//! Idempotency keys: the `Idempotency-Key` header's rule (checkouts and refunds), and
//! replaying a checkout's stored response. Replays follow Stripe's semantics: a completed
//! key answers its first response byte for byte; the same key with a different body is
//! 422; a key still in flight is 409.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deadpool_postgres::GenericClient;

use crate::db::Cached;
use crate::error::ApiError;

/// The request's `Idempotency-Key` (checkouts and refunds): 20 to 255 printable ASCII
/// characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers.get("idempotency-key").ok_or_else(|| {
        ApiError::bad_request(
            "missing_idempotency_key",
            "the Idempotency-Key header is required",
        )
    })?;
    let key = value
        .to_str()
        .ok()
        .filter(|k| (20..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(str::to_owned).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_idempotency_key",
            "an Idempotency-Key is 20 to 255 printable ASCII characters",
        )
    })
}

pub(super) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub(super) async fn replay(
    client: &impl GenericClient,
    key: &str,
    request_hash: &[u8],
) -> Result<Response, ApiError> {
    let row = client
        .query_one_cached(
            "SELECT request_sha256, state, response_status, response_body FROM idempotency_keys WHERE key = $1",
            &[&key],
        )
        .await?;
    if row.get::<_, &[u8]>(0) != request_hash {
        return Err(ApiError::unprocessable(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        ));
    }
    if row.get::<_, &str>(1) != "completed" {
        return Err(ApiError::user(
            StatusCode::CONFLICT,
            "checkout_in_progress",
            "a checkout with this Idempotency-Key is still being processed; retry shortly",
        ));
    }
    let status: i32 = row.get(2);
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| anyhow::anyhow!("stored response status {status} is invalid"))?;
    Ok(json_response(status, row.get(3)))
}

pub(super) async fn stored_hash(
    client: &impl GenericClient,
    key: &str,
) -> Result<Vec<u8>, ApiError> {
    Ok(client
        .query_one_cached(
            "SELECT request_sha256 FROM idempotency_keys WHERE key = $1",
            &[&key],
        )
        .await?
        .get(0))
}
