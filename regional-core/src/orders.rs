//! Orders: an explicit state machine whose every transition is a row in
//! `order_transitions`, and the order API.
//!
//! ```text
//! pending_payment ──▶ confirmed ──▶ picking ──▶ packed ──▶ out_for_delivery ──▶ delivered
//!        │                 │  │         │          └──────────────┴──────────────────┴──▶ refunded /
//!        ▼                 │  ▼         ▼                                                 partially_refunded
//! payment_declined         │ cancelled ◀┘   (pending_payment ──▶ cancelled too, on expiry)
//!                          └──▶ fulfilled ──▶ refunded / partially_refunded (no picking)
//! ```
//!
//! Picking, packing (which captures the picked total) and delivery are [`crate::fulfilment`]'s.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::inventory;
use crate::payments::derived_key;
use crate::pricing::PricedLine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    PendingPayment,
    Confirmed,
    Picking,
    Packed,
    OutForDelivery,
    Delivered,
    Fulfilled,
    Cancelled,
    PaymentDeclined,
    Refunded,
    PartiallyRefunded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::Confirmed => "confirmed",
            Self::Picking => "picking",
            Self::Packed => "packed",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Fulfilled => "fulfilled",
            Self::Cancelled => "cancelled",
            Self::PaymentDeclined => "payment_declined",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::PendingPayment,
            Self::Confirmed,
            Self::Picking,
            Self::Packed,
            Self::OutForDelivery,
            Self::Delivered,
            Self::Fulfilled,
            Self::Cancelled,
            Self::PaymentDeclined,
            Self::Refunded,
            Self::PartiallyRefunded,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Whether the machine allows `self → next`.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (PendingPayment, Confirmed | PaymentDeclined | Cancelled)
                | (Confirmed, Picking | Fulfilled | Cancelled)
                | (Picking, Packed | Cancelled)
                | (Packed, OutForDelivery)
                | (OutForDelivery, Delivered)
                | (
                    Packed | OutForDelivery | Delivered | Fulfilled,
                    Refunded | PartiallyRefunded
                )
                | (PartiallyRefunded, Refunded | PartiallyRefunded)
        )
    }

    /// Whether the payment has been captured (what a refund needs).
    pub fn captured(self) -> bool {
        matches!(
            self,
            Self::Packed
                | Self::OutForDelivery
                | Self::Delivered
                | Self::Fulfilled
                | Self::PartiallyRefunded
        )
    }
}

/// Moves an order from `from` to `to` if it is still in `from`; records the transition with
/// who made it (`merchant`, `shopper` or `system`) and queues the shopper's e-mail about it,
/// if any. Returns false when the order was not in `from` (someone else moved it first).
pub async fn transition(
    tx: &impl GenericClient,
    order_id: Uuid,
    from: Status,
    to: Status,
    reason: &str,
    actor: &str,
) -> Result<bool, ApiError> {
    if !from.can_become(to) {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "illegal transition {} -> {}",
            from.as_str(),
            to.as_str()
        )));
    }
    let n = tx
        .execute_cached(
            "UPDATE orders SET status = $3, updated_at = now() WHERE id = $1 AND status = $2",
            &[&order_id, &from.as_str(), &to.as_str()],
        )
        .await?;
    if n == 1 {
        tx.execute_cached(
            "INSERT INTO order_transitions (order_id, from_status, to_status, reason, actor)
             VALUES ($1, $2, $3, $4, $5)",
            &[&order_id, &from.as_str(), &to.as_str(), &reason, &actor],
        )
        .await?;
        crate::notifications::order_moved(tx, order_id, to).await?;
    }
    Ok(n == 1)
}

/// An order as its shopper or merchant sees it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderView {
    pub order_id: Uuid,
    /// `pending_payment`, `confirmed`, `fulfilled`, `cancelled`, `declined`,
    /// `partially_refunded` or `refunded`.
    pub status: String,
    pub storefront: String,
    /// ISO 4217; every amount below is in its minor units.
    pub currency: String,
    pub lines: Vec<PricedLine>,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub discount_minor: i64,
    /// The delivery slot's fee, included in `total_minor`.
    pub delivery_fee_minor: i64,
    pub total_minor: i64,
    pub refunded_minor: i64,
    /// The delivery slot booked, if any.
    pub slot: Option<OrderSlot>,
    /// What the PSP authorised: the total, plus the storefront's margin when a line allows
    /// a substitute.
    pub authorized_minor: Option<i64>,
    /// What the PSP captured when the order was packed (or fulfilled).
    pub captured_minor: Option<i64>,
    /// Per line, in order: the shopper's substitution choice and what the picker found.
    pub picking: Vec<LinePicking>,
    /// The order as packed and charged (empty before): picked lines and substitutes, priced
    /// again.
    pub packed_lines: Vec<PackedLine>,
    /// RFC 3339.
    pub created_at: String,
    /// Every transition, oldest first.
    pub history: Vec<Transition>,
}

/// The delivery slot of an order: local date and times at its warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderSlot {
    pub id: Uuid,
    pub warehouse: String,
    /// `YYYY-MM-DD`, `HH:MM`, `HH:MM`, local to the warehouse.
    pub date: String,
    pub start: String,
    pub end: String,
    /// RFC 3339.
    pub starts_at: String,
}

/// One line's picking: whether the shopper allowed a substitute, how many were picked
/// (`None` before the picker recorded it) and the substitute, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LinePicking {
    pub sku: String,
    pub quantity: i32,
    pub substitute_allowed: bool,
    pub picked: Option<i32>,
    pub substitute: Option<SubstituteView>,
}

/// A substitute the picker chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SubstituteView {
    pub sku: String,
    pub quantity: i32,
    pub unit_price_minor: i64,
}

/// A line of the packed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PackedLine {
    #[serde(flatten)]
    pub line: PricedLine,
    /// The ordered SKU this substitute stands in for.
    pub substitute_for: Option<String>,
}

/// One step of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Transition {
    pub status: String,
    pub reason: String,
    /// `shopper`, `merchant` or `system`.
    pub actor: String,
    /// RFC 3339.
    pub at: String,
}

/// The order's view, read in `client`'s transaction; `None` when there is no such order.
pub async fn view(
    client: &impl GenericClient,
    order_id: Uuid,
) -> Result<Option<OrderView>, ApiError> {
    let Some(o) = client
        .query_opt_cached(
            "SELECT o.status, o.currency, o.subtotal_minor, o.tax_minor, o.discount_minor,
                    o.total_minor, o.refunded_minor, o.storefront, o.created_at,
                    o.delivery_fee_minor, s.id, s.warehouse,
                    to_char(s.starts_at AT TIME ZONE s.time_zone, 'YYYY-MM-DD'),
                    to_char(s.starts_at AT TIME ZONE s.time_zone, 'HH24:MI'),
                    to_char(s.ends_at AT TIME ZONE s.time_zone, 'HH24:MI'), s.starts_at,
                    o.authorized_minor, o.captured_minor
             FROM orders o LEFT JOIN delivery_slots s ON s.id = o.slot_id WHERE o.id = $1",
            &[&order_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let lines = client
        .query_cached(
            "SELECT l.sku, l.quantity, l.unit_price_minor, l.line_total_minor, l.tax_minor,
                    l.tax_rate_bp, l.substitute_allowed, l.picked, s.sku, s.quantity,
                    s.unit_price_minor
             FROM order_lines l
             LEFT JOIN order_substitutions s ON s.order_id = l.order_id AND s.line_no = l.line_no
             WHERE l.order_id = $1 ORDER BY l.line_no",
            &[&order_id],
        )
        .await?;
    let packed = client
        .query_cached(
            "SELECT sku, quantity, unit_price_minor, line_total_minor, tax_minor, tax_rate_bp,
                    substitute_for
             FROM order_packed_lines WHERE order_id = $1 ORDER BY n",
            &[&order_id],
        )
        .await?;
    let history = client
        .query_cached(
            "SELECT to_status, reason, at, actor FROM order_transitions WHERE order_id = $1 ORDER BY id",
            &[&order_id],
        )
        .await?;
    let created: chrono::DateTime<chrono::Utc> = o.get(8);
    Ok(Some(OrderView {
        order_id,
        status: o.get(0),
        storefront: o.get(7),
        currency: o.get(1),
        lines: lines.iter().map(priced_line).collect(),
        picking: lines
            .iter()
            .map(|l| LinePicking {
                sku: l.get(0),
                quantity: l.get(1),
                substitute_allowed: l.get(6),
                picked: l.get(7),
                substitute: l.get::<_, Option<String>>(8).map(|sku| SubstituteView {
                    sku,
                    quantity: l.get(9),
                    unit_price_minor: l.get(10),
                }),
            })
            .collect(),
        packed_lines: packed
            .iter()
            .map(|l| PackedLine {
                line: priced_line(l),
                substitute_for: l.get(6),
            })
            .collect(),
        authorized_minor: o.get(16),
        captured_minor: o.get(17),
        subtotal_minor: o.get(2),
        tax_minor: o.get(3),
        discount_minor: o.get(4),
        delivery_fee_minor: o.get(9),
        total_minor: o.get(5),
        refunded_minor: o.get(6),
        slot: o.get::<_, Option<Uuid>>(10).map(|id| OrderSlot {
            id,
            warehouse: o.get(11),
            date: o.get(12),
            start: o.get(13),
            end: o.get(14),
            starts_at: o.get::<_, chrono::DateTime<chrono::Utc>>(15).to_rfc3339(),
        }),
        created_at: created.to_rfc3339(),
        history: history
            .iter()
            .map(|h| {
                let at: chrono::DateTime<chrono::Utc> = h.get(2);
                Transition {
                    status: h.get(0),
                    reason: h.get(1),
                    actor: h.get(3),
                    at: at.to_rfc3339(),
                }
            })
            .collect(),
    }))
}

/// A priced line from a row whose first six columns are SKU, quantity, unit price, line
/// total, tax and tax rate.
fn priced_line(l: &tokio_postgres::Row) -> PricedLine {
    PricedLine {
        sku: l.get(0),
        quantity: l.get(1),
        unit_price_minor: l.get(2),
        line_total_minor: l.get(3),
        tax_minor: l.get(4),
        tax_rate_bp: u32::try_from(l.get::<_, i32>(5)).unwrap_or_default(),
    }
}

/// Who may act on an order: its shopper (order access token) or its storefront's merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Shopper,
    Merchant,
}

async fn authorise(
    client: &impl GenericClient,
    headers: &HeaderMap,
    order_id: Uuid,
) -> Result<Caller, ApiError> {
    let not_found = || ApiError::not_found("order");
    let token = auth::bearer(headers).ok_or_else(|| {
        ApiError::user(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an order access token or merchant token is required",
        )
    })?;
    let row = client
        .query_opt_cached(
            "SELECT o.access_token_sha256, s.token_sha256
             FROM orders o JOIN storefronts s ON s.id = o.storefront WHERE o.id = $1",
            &[&order_id],
        )
        .await?
        .ok_or_else(not_found)?;
    let hash = auth::sha256(token);
    if row.get::<_, Vec<u8>>(0) == hash {
        Ok(Caller::Shopper)
    } else if row.get::<_, Vec<u8>>(1) == hash {
        Ok(Caller::Merchant)
    } else {
        // Same answer as a missing order: a wrong token learns nothing.
        Err(not_found())
    }
}

pub(crate) fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("order"))
}

/// `GET /v1/orders/{id}`: the order, for its shopper or its merchant.
#[utoipa::path(
    get,
    path = "/v1/orders/{id}",
    tag = "shopper",
    params(("id" = Uuid, Path, description = "The order")),
    security(("order_token" = []), ("merchant" = [])),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 410, description = "The order's details were erased (its shopper asking)", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order_id = parse_id(&id)?;
    let client = app.pool.get().await?;
    if authorise(&client, &headers, order_id).await? == Caller::Shopper {
        let erased = client
            .query_one_cached(
                "SELECT erased_at IS NOT NULL FROM orders WHERE id = $1",
                &[&order_id],
            )
            .await?
            .get::<_, bool>(0);
        if erased {
            return Err(ApiError::user(
                StatusCode::GONE,
                "erased",
                "this order's details were erased at the shopper's request or under the retention policy",
            ));
        }
    }
    respond(&client, order_id).await
}

pub(crate) struct Payment {
    pub(crate) status: Status,
    pub(crate) provider: Option<String>,
    pub(crate) payment_id: Option<String>,
    pub(crate) idempotency_key: String,
    pub(crate) total: i64,
    pub(crate) refunded: i64,
}

pub(crate) async fn payment_of(
    client: &impl GenericClient,
    order_id: Uuid,
    lock: bool,
) -> Result<Payment, ApiError> {
    let sql = format!(
        "SELECT status, payment_provider, payment_id, idempotency_key, total_minor, refunded_minor
         FROM orders WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = client
        .query_opt_cached(&sql, &[&order_id])
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Payment {
        status: Status::parse(row.get(0)).ok_or_else(|| anyhow::anyhow!("unknown order status"))?,
        provider: row.get(1),
        payment_id: row.get(2),
        idempotency_key: row.get(3),
        total: row.get(4),
        refunded: row.get(5),
    })
}

pub(crate) fn wrong_state(status: Status, action: &str) -> ApiError {
    ApiError::user(
        StatusCode::CONFLICT,
        "invalid_order_state",
        format!("an order that is {} cannot be {action}", status.as_str()),
    )
    .with("status", status.as_str())
}

/// The order's current view as a response.
pub(crate) async fn respond(
    client: &impl GenericClient,
    order_id: Uuid,
) -> Result<Json<OrderView>, ApiError> {
    view(client, order_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("order"))
}

/// What a settled payment does to the order, in the same transaction as its transition.
#[derive(Debug, Clone, Copy)]
enum Effect {
    ReleaseStock,
    SellStock,
}

/// One payment operation and the order transition it pays for.
#[derive(Debug)]
struct Move {
    /// `void` or `capture` at the PSP (refunds: [`crate::refunds`]).
    operation: &'static str,
    /// Scopes the PSP idempotency key, so a retry repeats the same operation.
    key_scope: String,
    from: Status,
    to: Status,
    reason: &'static str,
    actor: &'static str,
    effect: Effect,
}

/// Settles the payment with the PSP (idempotently: the key derives from the checkout's),
/// then moves the order and applies the effect in one transaction, and answers the order.
/// A concurrent twin that moved the order first makes this one a no-op.
async fn settle_and_move(
    app: &AppState,
    client: &mut deadpool_postgres::Object,
    order_id: Uuid,
    p: &Payment,
    m: Move,
) -> Result<Json<OrderView>, ApiError> {
    let (Some(provider), Some(payment_id)) = (&p.provider, &p.payment_id) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "order {order_id} is {} without a payment",
            p.status.as_str()
        )));
    };
    let key = derived_key(&m.key_scope, &p.idempotency_key);
    app.payments
        // A capture takes the order's total, never the margin authorised above it.
        .settle(
            provider,
            payment_id,
            m.operation,
            &key,
            (m.operation == "capture").then_some(p.total),
        )
        .await
        .map_err(|e| ApiError::PaymentUnavailable(e.to_string()))?;
    let tx = client.transaction().await?;
    if transition(&tx, order_id, m.from, m.to, m.reason, m.actor).await? {
        match m.effect {
            Effect::ReleaseStock => {
                inventory::release(&tx, order_id, "cancel").await?;
                crate::delivery::booking::release(&tx, order_id).await?;
            }
            Effect::SellStock => {
                inventory::sell(&tx, order_id).await?;
                tx.execute_cached(
                    "UPDATE orders SET captured_minor = total_minor WHERE id = $1",
                    &[&order_id],
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    respond(&*client, order_id).await
}

/// `POST /v1/orders/{id}/cancel`: voids the payment and releases the stock of a confirmed
/// order (shopper or merchant).
#[utoipa::path(
    post,
    path = "/v1/orders/{id}/cancel",
    tag = "shopper",
    params(("id" = Uuid, Path, description = "The order")),
    security(("order_token" = []), ("merchant" = [])),
    responses(
        (status = 200, description = "The order, cancelled", body = OrderView),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order_id = parse_id(&id)?;
    let mut client = app.pool.get().await?;
    let caller = authorise(&client, &headers, order_id).await?;
    let p = payment_of(&client, order_id, false).await?;
    match p.status {
        Status::Cancelled => respond(&client, order_id).await,
        // A shopper may cancel until picking starts; the merchant until it is packed.
        from @ (Status::Confirmed | Status::Picking)
            if from == Status::Confirmed || caller == Caller::Merchant =>
        {
            let m = Move {
                operation: "void",
                key_scope: "void".into(),
                from,
                to: Status::Cancelled,
                reason: "cancelled; payment voided",
                actor: match caller {
                    Caller::Shopper => "shopper",
                    Caller::Merchant => "merchant",
                },
                effect: Effect::ReleaseStock,
            };
            settle_and_move(&app, &mut client, order_id, &p, m).await
        }
        other => Err(wrong_state(other, "cancelled")),
    }
}

pub(crate) async fn merchant_order(
    app: &AppState,
    headers: &HeaderMap,
    order_id: Uuid,
) -> Result<deadpool_postgres::Object, ApiError> {
    let client = app.pool.get().await?;
    if authorise(&client, headers, order_id).await? != Caller::Merchant {
        return Err(ApiError::user(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a merchant token is required",
        ));
    }
    Ok(client)
}

/// `POST /v1/admin/orders/{id}/fulfil`: captures the payment and turns reservations into
/// sold stock.
#[utoipa::path(
    post,
    path = "/v1/admin/orders/{id}/fulfil",
    tag = "merchant",
    params(("id" = Uuid, Path, description = "The order")),
    security(("merchant" = [])),
    responses(
        (status = 200, description = "The order, fulfilled", body = OrderView),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn fulfil(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order_id = parse_id(&id)?;
    let mut client = merchant_order(&app, &headers, order_id).await?;
    let p = payment_of(&client, order_id, false).await?;
    match p.status {
        Status::Fulfilled => respond(&client, order_id).await,
        Status::Confirmed => {
            let m = Move {
                operation: "capture",
                key_scope: "capture".into(),
                from: Status::Confirmed,
                to: Status::Fulfilled,
                reason: "fulfilled; payment captured",
                actor: "merchant",
                effect: Effect::SellStock,
            };
            settle_and_move(&app, &mut client, order_id, &p, m).await
        }
        other => Err(wrong_state(other, "fulfilled")),
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;

    #[test]
    fn the_state_machine_allows_only_its_edges() {
        assert!(PendingPayment.can_become(Confirmed));
        assert!(Confirmed.can_become(Fulfilled));
        assert!(Fulfilled.can_become(Refunded));
        assert!(!PaymentDeclined.can_become(Confirmed));
        assert!(!Cancelled.can_become(Confirmed));
        assert!(!Fulfilled.can_become(Cancelled));
        assert!(!Refunded.can_become(Refunded));
    }
}
