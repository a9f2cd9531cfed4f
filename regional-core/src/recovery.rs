//! The recovery worker: settles checkouts stuck between steps.
//!
//! A checkout can stop after its reservation committed and before its payment outcome was
//! stored: the process crashed, or the PSP timed out or lost its answer. Every `interval`
//! the worker takes `pending_payment` orders untouched for `grace`, asks their PSP what
//! happened under the derived key, and:
//!
//! 1. authorised → confirms the order (as checkout would have);
//! 2. declined → releases the stock and marks it `payment_declined`;
//! 3. unknown to the PSP → asks for the authorisation again under the same key (the shopper
//!    did submit it), unless the reservation has expired: then releases the stock and
//!    cancels the order;
//! 4. PSP unreachable → tries again next round, until the reservation expires: then the
//!    stock is released and the order cancelled (an authorisation the PSP may hold is never
//!    captured and lapses).
//!
//! Each outcome also completes the idempotency key, so the shopper's retry gets the answer.
//!
//! The same rounds finish refunds left `pending` ([`crate::refunds::finish_pending`]).

use std::time::Duration;

use axum::http::StatusCode;
use uuid::Uuid;

use crate::AppState;
use crate::checkout;
use crate::db::Cached;
use crate::error::ApiError;
use crate::inventory;
use crate::orders::{self, Status};
use crate::payments::{Authorization, AuthorizationStatus};

/// Runs rounds forever.
pub async fn run(app: AppState, interval: Duration, grace: Duration) {
    loop {
        if let Err(e) = round(&app, grace).await {
            tracing::warn!(error = %e, "recovery round failed");
        }
        if let Err(e) = crate::refunds::finish_pending(&app, grace).await {
            tracing::warn!(error = %format!("{e:#}"), "finishing pending refunds failed");
        }
        tokio::time::sleep(interval).await;
    }
}

/// One round; returns how many orders it settled.
pub async fn round(app: &AppState, grace: Duration) -> Result<usize, ApiError> {
    let client = app.pool.get().await?;
    let grace_secs = grace.as_secs_f64();
    let rows = client
        .query_cached(
            "SELECT o.id, o.payment_provider, o.payment_key, coalesce(o.authorized_minor, o.total_minor), o.currency, o.payment_token,
                    NOT EXISTS (SELECT 1 FROM reservations r
                                WHERE r.order_id = o.id AND r.state = 'held' AND r.expires_at > now())
             FROM orders o
             WHERE o.status = 'pending_payment' AND o.updated_at < now() - make_interval(secs => $1)
             ORDER BY o.created_at LIMIT 100",
            &[&grace_secs],
        )
        .await?;
    drop(client);
    let mut settled = 0;
    for row in rows {
        let order_id: Uuid = row.get(0);
        let provider: String = row
            .get::<_, Option<String>>(1)
            .unwrap_or_else(|| app.payments.current_provider().to_owned());
        let key: String = row.get(2);
        let expired: bool = row.get(6);
        let found = match app.payments.find(&provider, &key).await {
            Ok(found) => found,
            Err(e) if expired => {
                // The PSP has been unreachable for the whole reservation: give the stock
                // back. An authorisation it may hold was never captured and lapses there.
                tracing::warn!(%order_id, error = %e,
                    "payment outcome unknown at reservation expiry; cancelling the order");
                expire(app, order_id).await?;
                settled += 1;
                continue;
            }
            Err(e) => {
                tracing::warn!(%order_id, error = %e, "recovery cannot ask the PSP yet");
                continue;
            }
        };
        let outcome = match found {
            Some(record) if record.status == AuthorizationStatus::Declined => {
                Authorization::Declined { provider }
            }
            Some(record) => Authorization::Approved {
                provider,
                id: record.id,
            },
            None if expired => {
                expire(app, order_id).await?;
                settled += 1;
                continue;
            }
            None => {
                let (total, currency, token): (i64, String, String) =
                    (row.get(3), row.get(4), row.get(5));
                match app
                    .payments
                    .authorize(&provider, &key, total, &currency, &token)
                    .await
                {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        tracing::warn!(%order_id, error = %e, "recovery authorisation got no answer");
                        continue;
                    }
                }
            }
        };
        checkout::settle(app, order_id, outcome, None).await?;
        tracing::info!(%order_id, "recovery settled a pending checkout");
        settled += 1;
    }
    Ok(settled)
}

/// Cancels a pending order whose reservation expired before any payment was made.
async fn expire(app: &AppState, order_id: Uuid) -> Result<(), ApiError> {
    let mut client = app.pool.get().await?;
    let tx = client.transaction().await?;
    if orders::transition(
        &tx,
        order_id,
        Status::PendingPayment,
        Status::Cancelled,
        "reservation expired before payment",
        "system",
    )
    .await?
    {
        inventory::release(&tx, order_id, "reservation expired").await?;
        crate::delivery::booking::release(&tx, order_id).await?;
        let body = ApiError::user(
            StatusCode::CONFLICT,
            "checkout_expired",
            "the checkout expired before payment; nothing was charged",
        )
        .with("order_id", order_id.to_string())
        .body();
        tx.execute_cached(
            "UPDATE idempotency_keys SET state = 'completed', response_status = 409, response_body = $2, order_token = NULL
             WHERE order_id = $1",
            &[&order_id, &serde_json::to_vec(&body).map_err(anyhow::Error::from)?],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
