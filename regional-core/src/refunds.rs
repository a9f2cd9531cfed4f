//! `POST /v1/admin/orders/{id}/refund`: refunds a fulfilled order in whole or in part,
//! exactly once per merchant `Idempotency-Key`, and never beyond what was captured.
//!
//! 1. Validate the key and the body (`{"amount_minor": n}`, or empty for all that is left).
//! 2. One transaction under the order's row lock: a replay of a finished refund answers its
//!    first response; the same key with another body is 422; a refund still in flight is
//!    409. Otherwise the amount must fit in what is left (captured − refunded − refunds in
//!    flight), and the refund is reserved as a `pending` row. Concurrent refunds of one order
//!    queue on the lock, so together they can never exceed the capture.
//! 3. Ask the PSP to refund, under a key derived from the refund's own id: a retry of this
//!    refund repeats at the PSP, another refund is another operation.
//! 4. One transaction: the refund is `done`, the order's `refunded_minor` grows by it and the
//!    order becomes `refunded` or `partially_refunded`; the response is stored for replays.
//!    If the PSP refused, the refund is `failed` (it reserves nothing) and a retry with the
//!    same key tries again. If the PSP gave no answer it may have refunded, so the refund
//!    stays `pending` (a retry gets 409) and the recovery worker asks again under the same
//!    key and records the answer ([`finish_pending`]), as it does for a refund whose core
//!    stopped between 3 and 4. What the order says was refunded thus always comes to what
//!    the PSP refunded.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use deadpool_postgres::GenericClient;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::orders::{self, Status};
use crate::payments::derived_key;

/// A refund; an empty body refunds what remains.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Minor units; the whole remaining amount when absent.
    amount_minor: Option<i64>,
}

/// A refund reserved for the PSP.
#[derive(Debug)]
struct Reserved {
    id: Uuid,
    amount: i64,
}

/// What step 2 decided.
enum Claim {
    /// Go on to the PSP with this reserved refund.
    Reserved(Reserved),
    /// Answer this stored response (a replay).
    Replay(u16, Value),
}

/// `POST /v1/admin/orders/{id}/refund`: a full or partial refund of a fulfilled order.
#[utoipa::path(
    post,
    path = "/v1/admin/orders/{id}/refund",
    tag = "merchant",
    params(("id" = Uuid, Path, description = "The order"), ("Idempotency-Key" = String, Header, description = "Unique per refund; a retry with the same key and body answers the first response")),
    security(("merchant" = [])),
    request_body(content = Option<RefundBody>, description = "Empty: refund the rest"),
    responses(
        (status = 200, description = "The order after the refund", body = orders::OrderView),
        (status = 409, description = "A refund with this key is still in flight", body = ErrorBody),
        (status = 422, description = "More than remains, or this key with another body", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn refund(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let order_id = orders::parse_id(&id)?;
    let key = crate::checkout::idempotency_key(&headers)?;
    let parsed: RefundBody = if body.iter().all(u8::is_ascii_whitespace) {
        RefundBody { amount_minor: None }
    } else {
        crate::json_body(&body)?
    };
    let request_hash = Sha256::digest(
        serde_json::to_vec(&serde_json::json!({ "amount_minor": parsed.amount_minor }))
            .map_err(anyhow::Error::from)?,
    )
    .to_vec();
    let mut client = orders::merchant_order(&app, &headers, order_id).await?;
    let claim = {
        let tx = client.transaction().await?;
        let claim = claim(&tx, order_id, &key, &request_hash, parsed.amount_minor).await?;
        tx.commit().await?;
        claim
    };
    let reserved = match claim {
        Claim::Replay(status, body) => return Ok(stored_response(status, body)),
        Claim::Reserved(reserved) => reserved,
    };
    let p = orders::payment_of(&client, order_id, false).await?;
    if let Err(unavailable) = settle(&app, &p, &reserved).await {
        if unavailable.refused {
            client
                .execute_cached(
                    "UPDATE refunds SET state = 'failed', updated_at = now() WHERE id = $1",
                    &[&reserved.id],
                )
                .await?;
        }
        return Err(ApiError::PaymentUnavailable(unavailable.to_string()));
    }
    let tx = client.transaction().await?;
    let outcome = complete(&tx, order_id, &reserved).await?;
    tx.commit().await?;
    Ok(stored_response(200, outcome))
}

fn stored_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, Json(body)).into_response()
}

/// Step 2, under the order's row lock.
async fn claim(
    tx: &impl GenericClient,
    order_id: Uuid,
    key: &str,
    request_hash: &[u8],
    amount: Option<i64>,
) -> Result<Claim, ApiError> {
    let p = orders::payment_of(tx, order_id, true).await?;
    let existing = tx
        .query_opt_cached(
            "SELECT id, request_sha256, state, response_status, response_body, amount_minor
             FROM refunds WHERE order_id = $1 AND idempotency_key = $2",
            &[&order_id, &key],
        )
        .await?;
    let mut retry_of = None;
    if let Some(row) = existing {
        let (id, hash, state): (Uuid, Vec<u8>, String) = (row.get(0), row.get(1), row.get(2));
        if hash != request_hash {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different refund",
            ));
        }
        match state.as_str() {
            "done" => {
                let status: i32 = row.get(3);
                return Ok(Claim::Replay(
                    u16::try_from(status).unwrap_or(200),
                    row.get(4),
                ));
            }
            "pending" => {
                return Err(ApiError::user(
                    StatusCode::CONFLICT,
                    "refund_in_flight",
                    "a refund with this Idempotency-Key is still being processed; retry later",
                ));
            }
            // A refund the PSP never confirmed: this retry tries it again, same id and key.
            _ => retry_of = Some((id, row.get::<_, i64>(5))),
        }
    }
    if !p.status.captured() {
        return Err(orders::wrong_state(p.status, "refunded"));
    }
    let in_flight: i64 = tx
        .query_one_cached(
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM refunds
             WHERE order_id = $1 AND state = 'pending'",
            &[&order_id],
        )
        .await?
        .get(0);
    let remaining = p.total - p.refunded - in_flight;
    let amount = match (retry_of, amount) {
        (Some((_, reserved)), _) => reserved,
        (None, Some(a)) => a,
        (None, None) => remaining,
    };
    if amount <= 0 || amount > remaining {
        return Err(ApiError::field(
            "amount_minor",
            format!("a refund is 1 to {remaining} minor units (what is left of the capture)"),
        )
        .with("refundable_minor", remaining.max(0)));
    }
    let id = match retry_of {
        Some((id, _)) => {
            tx.execute_cached(
                "UPDATE refunds SET state = 'pending', updated_at = now() WHERE id = $1",
                &[&id],
            )
            .await?;
            id
        }
        None => {
            let id = Uuid::new_v4();
            tx.execute_cached(
                "INSERT INTO refunds (id, order_id, idempotency_key, request_sha256, amount_minor, state)
                 VALUES ($1, $2, $3, $4, $5, 'pending')",
                &[&id, &order_id, &key, &request_hash, &amount],
            )
            .await?;
            id
        }
    };
    Ok(Claim::Reserved(Reserved { id, amount }))
}

/// Step 3: the PSP refunds `reserved`, idempotently under the refund's own key.
async fn settle(
    app: &AppState,
    p: &orders::Payment,
    reserved: &Reserved,
) -> Result<(), crate::payments::Unavailable> {
    let (Some(provider), Some(payment_id)) = (&p.provider, &p.payment_id) else {
        return Err(crate::payments::Unavailable {
            provider: String::new(),
            reason: format!("a {} order without a payment", p.status.as_str()),
            refused: true,
        });
    };
    let key = derived_key(&format!("refund:{}", reserved.id), &p.idempotency_key);
    app.payments
        .settle(provider, payment_id, "refund", &key, Some(reserved.amount))
        .await
        .map(|_| ())
}

/// Step 4: the refund is done, and the order says so; answers the order as it now is.
async fn complete(
    tx: &impl GenericClient,
    order_id: Uuid,
    reserved: &Reserved,
) -> Result<Value, ApiError> {
    let p = orders::payment_of(tx, order_id, true).await?;
    let done = tx
        .execute_cached(
            "UPDATE refunds SET state = 'done', updated_at = now() WHERE id = $1 AND state = 'pending'",
            &[&reserved.id],
        )
        .await?;
    if done == 1 {
        tx.execute_cached(
            "UPDATE orders SET refunded_minor = refunded_minor + $2 WHERE id = $1",
            &[&order_id, &reserved.amount],
        )
        .await?;
        let to = if p.refunded + reserved.amount == p.total {
            Status::Refunded
        } else {
            Status::PartiallyRefunded
        };
        if p.status != to || to == Status::PartiallyRefunded {
            orders::transition(tx, order_id, p.status, to, "refunded", "merchant").await?;
        }
    }
    let view = orders::view(tx, order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    let view = serde_json::to_value(view).map_err(anyhow::Error::from)?;
    tx.execute_cached(
        "UPDATE refunds SET response_status = 200, response_body = $2 WHERE id = $1",
        &[&reserved.id, &view],
    )
    .await?;
    Ok(view)
}

/// Finishes refunds left `pending` for longer than `grace` (their core stopped between
/// asking the PSP and recording the answer): the PSP is asked again under the same key,
/// which repeats rather than refunds twice, and the answer is recorded. Returns how many
/// were finished.
pub async fn finish_pending(app: &AppState, grace: std::time::Duration) -> anyhow::Result<usize> {
    let mut client = app.pool.get().await?;
    let grace_secs = i64::try_from(grace.as_secs()).unwrap_or(i64::MAX);
    let rows = client
        .query_cached(
            "SELECT id, order_id, amount_minor FROM refunds
             WHERE state = 'pending' AND updated_at < now() - make_interval(secs => $1::bigint)
             ORDER BY updated_at LIMIT 100",
            &[&grace_secs],
        )
        .await?;
    let mut finished = 0;
    for row in rows {
        let reserved = Reserved {
            id: row.get(0),
            amount: row.get(2),
        };
        let order_id: Uuid = row.get(1);
        let p = orders::payment_of(&client, order_id, false)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match settle(app, &p, &reserved).await {
            Ok(()) => {}
            Err(e) if e.refused => {
                client
                    .execute_cached(
                        "UPDATE refunds SET state = 'failed', updated_at = now() WHERE id = $1",
                        &[&reserved.id],
                    )
                    .await?;
                continue;
            }
            Err(_) => continue,
        }
        let tx = client.transaction().await?;
        complete(&tx, order_id, &reserved)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
        finished += 1;
    }
    Ok(finished)
}
