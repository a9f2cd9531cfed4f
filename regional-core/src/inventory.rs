//! Stock per SKU per warehouse of this region, and reservations.
//!
//! Reservations are conditional updates (`... WHERE on_hand - reserved >= $q`) that cannot
//! take stock below zero, backed by the `reserved <= on_hand` CHECK constraint; stock is
//! never read and then written by the application. Every change writes an audited movement
//! row and a `stock_changed` outbox event in the same transaction.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use deadpool_postgres::GenericClient;
use region_config::{CountryCode, Region};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::outbox;

/// A line's SKU could not be (fully) reserved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortage {
    pub sku: String,
    pub requested: i32,
    pub available: i64,
}

/// Warehouses of `region` in the order allocation tries them: those in the shipping
/// country first, then the rest as the region config lists them.
pub fn warehouse_preference(region: &Region, ship_to: CountryCode) -> Vec<String> {
    let (near, far): (Vec<_>, Vec<_>) =
        region.warehouses.iter().partition(|w| w.country == ship_to);
    near.into_iter()
        .chain(far)
        .map(|w| w.id.to_string())
        .collect()
}

/// Reserves every line for `order_id`, or reports what is short. Each line goes to the
/// first warehouse that can fill it whole, else is split across warehouses in preference
/// order. On `Err` the caller rolls the transaction back.
///
/// Deadlock freedom: preference order differs by ship-to country, so before touching any
/// row it locks every stock row of the lines' SKUs in one global order, (SKU, warehouse),
/// as every other writer of stock rows does ([`lock_rows`]).
pub async fn reserve(
    tx: &impl GenericClient,
    order_id: Uuid,
    lines: &[(String, i32)],
    warehouses: &[String],
    ttl_secs: i64,
) -> Result<Result<(), Vec<Shortage>>, tokio_postgres::Error> {
    let skus: Vec<&str> = lines.iter().map(|(sku, _)| sku.as_str()).collect();
    tx.execute_cached(
        "SELECT 1 FROM stock WHERE sku = ANY($1) ORDER BY sku, warehouse FOR UPDATE",
        &[&skus],
    )
    .await?;
    let mut shortages = Vec::new();
    for (sku, quantity) in lines {
        // First choice: one warehouse fills the whole line.
        let mut filled = false;
        for warehouse in warehouses {
            // The update, the reservation row and the movement row in one statement.
            let n: i64 = tx
                .query_one_cached(
                    "WITH s AS (
                         UPDATE stock SET reserved = reserved + $3
                         WHERE sku = $1 AND warehouse = $2 AND on_hand - reserved >= $3
                         RETURNING sku, warehouse),
                     r AS (
                         INSERT INTO reservations (order_id, sku, warehouse, quantity, expires_at)
                         SELECT $4, sku, warehouse, $3, now() + make_interval(secs => $5::bigint)
                         FROM s),
                     m AS (
                         INSERT INTO stock_movements (sku, warehouse, on_hand_delta,
                                                      reserved_delta, reason, order_id)
                         SELECT sku, warehouse, 0, $3, 'reserve', $4 FROM s)
                     SELECT count(*) FROM s",
                    &[sku, warehouse, quantity, &order_id, &ttl_secs],
                )
                .await?
                .get(0);
            if n == 1 {
                filled = true;
                break;
            }
        }
        if !filled {
            let mut remaining = *quantity;
            for warehouse in warehouses {
                if remaining == 0 {
                    break;
                }
                // One statement: lock the row, take what it has free up to `remaining`.
                let row = tx
                    .query_opt_cached(
                        "WITH free AS (
                             SELECT sku, warehouse, least($3, on_hand - reserved) AS take
                             FROM stock
                             WHERE sku = $1 AND warehouse = $2 AND on_hand - reserved > 0
                             FOR UPDATE)
                         UPDATE stock s SET reserved = s.reserved + free.take FROM free
                         WHERE s.sku = free.sku AND s.warehouse = free.warehouse
                         RETURNING free.take",
                        &[sku, warehouse, &remaining],
                    )
                    .await?;
                if let Some(row) = row {
                    let take: i32 = row.get(0);
                    remaining -= take;
                    record(tx, order_id, sku, warehouse, take, ttl_secs).await?;
                }
            }
            if remaining > 0 {
                shortages.push(Shortage {
                    sku: sku.clone(),
                    requested: *quantity,
                    available: i64::from(*quantity - remaining),
                });
                continue;
            }
        }
    }
    Ok(if shortages.is_empty() {
        Ok(())
    } else {
        Err(shortages)
    })
}

async fn record(
    tx: &impl GenericClient,
    order_id: Uuid,
    sku: &str,
    warehouse: &str,
    quantity: i32,
    ttl_secs: i64,
) -> Result<(), tokio_postgres::Error> {
    tx.execute_cached(
        "INSERT INTO reservations (order_id, sku, warehouse, quantity, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::bigint))",
        &[&order_id, &sku, &warehouse, &quantity, &ttl_secs],
    )
    .await?;
    tx.execute_cached(
        "INSERT INTO stock_movements (sku, warehouse, on_hand_delta, reserved_delta, reason, order_id)
         VALUES ($1, $2, 0, $3, 'reserve', $4)",
        &[&sku, &warehouse, &quantity, &order_id],
    )
    .await?;
    Ok(())
}

/// Releases every held reservation of `order_id` (payment declined, cancelled, expired):
/// the units become available again.
pub async fn release(
    tx: &impl GenericClient,
    order_id: Uuid,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    end_reservations(tx, order_id, End::Released, reason).await
}

/// Turns `order_id`'s held reservations into sold stock (fulfilment): the units leave.
pub async fn sell(tx: &impl GenericClient, order_id: Uuid) -> Result<(), tokio_postgres::Error> {
    end_reservations(tx, order_id, End::Sold, "sell").await
}

/// Releases `order_id`'s held reservations of SKUs other than `keep` (a picker's earlier
/// substitutes).
pub async fn release_except(
    tx: &impl GenericClient,
    order_id: Uuid,
    keep: &[&str],
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    lock_rows(tx, order_id).await?;
    let rows = tx
        .query_cached(
            "UPDATE reservations SET state = 'released'
             WHERE order_id = $1 AND state = 'held' AND NOT (sku = ANY($2))
             RETURNING sku, warehouse, quantity",
            &[&order_id, &keep],
        )
        .await?;
    for row in &rows {
        let (sku, warehouse, quantity): (String, String, i32) =
            (row.get(0), row.get(1), row.get(2));
        move_stock(tx, order_id, &sku, &warehouse, -quantity, 0, reason).await?;
        outbox::enqueue(tx, outbox::STOCK_CHANGED, json!({ "sku": sku })).await?;
    }
    Ok(())
}

/// Packing: of `order_id`'s held reservations, `picked` units per SKU leave the shelf and
/// the rest are released.
pub async fn sell_picked(
    tx: &impl GenericClient,
    order_id: Uuid,
    picked: &BTreeMap<String, i32>,
) -> Result<(), tokio_postgres::Error> {
    lock_rows(tx, order_id).await?;
    let rows = tx
        .query_cached(
            "UPDATE reservations SET state = 'sold'
             WHERE order_id = $1 AND state = 'held'
             RETURNING sku, warehouse, quantity",
            &[&order_id],
        )
        .await?;
    let mut left = picked.clone();
    let mut rows: Vec<(String, String, i32)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    rows.sort();
    for (sku, warehouse, quantity) in rows {
        let remaining = left.entry(sku.clone()).or_default();
        let sold = (*remaining).min(quantity);
        *remaining -= sold;
        move_stock(
            tx,
            order_id,
            &sku,
            &warehouse,
            -quantity,
            -sold,
            "sell picked",
        )
        .await?;
        if sold < quantity {
            outbox::enqueue(tx, outbox::STOCK_CHANGED, json!({ "sku": sku })).await?;
        }
    }
    Ok(())
}

/// One audited change of a stock row: `reserved` and `on_hand` move by the deltas.
async fn move_stock(
    tx: &impl GenericClient,
    order_id: Uuid,
    sku: &str,
    warehouse: &str,
    reserved_delta: i32,
    on_hand_delta: i32,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    tx.execute_cached(
        "WITH s AS (
             UPDATE stock SET reserved = reserved + $3, on_hand = on_hand + $4
             WHERE sku = $1 AND warehouse = $2)
         INSERT INTO stock_movements (sku, warehouse, on_hand_delta, reserved_delta, reason, order_id)
         VALUES ($1, $2, $4, $3, $5, $6)",
        &[&sku, &warehouse, &reserved_delta, &on_hand_delta, &reason, &order_id],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Released,
    Sold,
}

/// Locks the stock rows `order_id` holds reservations on, in the global order (SKU,
/// warehouse) that [`reserve`] uses, so the two can never wait on each other in a cycle.
async fn lock_rows(tx: &impl GenericClient, order_id: Uuid) -> Result<(), tokio_postgres::Error> {
    tx.execute_cached(
        "SELECT 1 FROM stock s
         WHERE (s.sku, s.warehouse) IN (
             SELECT sku, warehouse FROM reservations WHERE order_id = $1 AND state = 'held')
         ORDER BY s.sku, s.warehouse
         FOR UPDATE OF s",
        &[&order_id],
    )
    .await?;
    Ok(())
}

async fn end_reservations(
    tx: &impl GenericClient,
    order_id: Uuid,
    end: End,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    let state = match end {
        End::Released => "released",
        End::Sold => "sold",
    };
    lock_rows(tx, order_id).await?;
    let rows = tx
        .query_cached(
            "UPDATE reservations SET state = $2
             WHERE order_id = $1 AND state = 'held' RETURNING sku, warehouse, quantity",
            &[&order_id, &state],
        )
        .await?;
    for row in &rows {
        let (sku, warehouse, quantity): (String, String, i32) =
            (row.get(0), row.get(1), row.get(2));
        // Selling takes the units off the shelf as well as out of the reservation.
        let on_hand_delta = if end == End::Sold { -quantity } else { 0 };
        tx.execute_cached(
            "WITH s AS (
                 UPDATE stock SET reserved = reserved - $3, on_hand = on_hand + $4
                 WHERE sku = $1 AND warehouse = $2)
             INSERT INTO stock_movements (sku, warehouse, on_hand_delta, reserved_delta, reason, order_id)
             VALUES ($1, $2, $4, -$3, $5, $6)",
            &[&sku, &warehouse, &quantity, &on_hand_delta, &reason, &order_id],
        )
        .await?;
        if end == End::Released {
            outbox::enqueue(tx, outbox::STOCK_CHANGED, json!({ "sku": sku })).await?;
        }
    }
    Ok(())
}

/// An audited change of one SKU's stock in one warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    pub sku: String,
    pub warehouse: String,
    /// Change of on-hand stock: positive for deliveries, negative for losses.
    pub delta: i32,
    pub reason: String,
}

/// One SKU's stock in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Level {
    pub on_hand: i32,
    /// Held by checkouts not yet fulfilled or cancelled.
    pub reserved: i32,
    /// `on_hand - reserved`.
    pub available: i32,
}

impl Level {
    fn new(on_hand: i32, reserved: i32) -> Self {
        Self {
            on_hand,
            reserved,
            available: on_hand - reserved,
        }
    }
}

/// A warehouse's stock after an adjustment.
#[derive(Debug, Serialize, ToSchema)]
pub struct Adjusted {
    pub sku: String,
    pub warehouse: String,
    #[serde(flatten)]
    pub level: Level,
}

/// A SKU's authoritative availability.
#[derive(Debug, Serialize, ToSchema)]
pub struct Availability {
    pub sku: String,
    /// Across the region's warehouses.
    pub available: i64,
    /// By warehouse id.
    pub warehouses: BTreeMap<String, Level>,
}

/// `POST /v1/admin/stock`: adjusts on-hand stock of one SKU in one warehouse of this region.
#[utoipa::path(
    post,
    path = "/v1/admin/stock",
    tag = "merchant",
    security(("merchant" = [])),
    request_body = Adjustment,
    responses(
        (status = 200, description = "The warehouse's stock after the change", body = Adjusted),
        (status = 409, description = "It would leave less on hand than is reserved", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn adjust(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Adjusted>, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let a: Adjustment = crate::json_body(&body)?;
    if !app
        .region
        .warehouses
        .iter()
        .any(|w| w.id.as_str() == a.warehouse)
    {
        return Err(ApiError::unprocessable(
            "unknown_warehouse",
            "no such warehouse in this region",
        )
        .with("warehouse", a.warehouse));
    }
    shopper_input::Text::parse("a reason", &a.reason, 200)
        .map_err(|e| ApiError::input("reason", &e))?;
    if a.delta == 0 || a.delta.unsigned_abs() > 1_000_000 {
        return Err(ApiError::unprocessable(
            "invalid_field",
            "delta is a non-zero integer up to 1000000",
        )
        .with("field", "delta"));
    }
    let tx = client.transaction().await?;
    let owner = tx
        .query_opt_cached("SELECT storefront FROM products WHERE sku = $1", &[&a.sku])
        .await?;
    match owner {
        None => {
            return Err(
                ApiError::unprocessable("unknown_sku", "no such product").with("sku", a.sku)
            );
        }
        Some(r) if r.get::<_, String>(0) != storefront => {
            return Err(ApiError::user(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this SKU belongs to another storefront",
            )
            .with("sku", a.sku));
        }
        Some(_) => {}
    }
    let row = tx
        .query_opt_cached(
            "INSERT INTO stock (sku, warehouse, on_hand) VALUES ($1, $2, greatest($3, 0))
             ON CONFLICT (sku, warehouse) DO UPDATE SET on_hand = stock.on_hand + $3
             WHERE stock.on_hand + $3 >= stock.reserved
             RETURNING on_hand, reserved, xmax = 0",
            &[&a.sku, &a.warehouse, &a.delta],
        )
        .await?;
    let Some(row) = row else {
        return Err(ApiError::user(
            StatusCode::CONFLICT,
            "insufficient_stock",
            "the adjustment would leave less on hand than is reserved",
        )
        .with("sku", a.sku));
    };
    let (on_hand, reserved, inserted): (i32, i32, bool) = (row.get(0), row.get(1), row.get(2));
    if inserted && a.delta < 0 {
        return Err(ApiError::user(
            StatusCode::CONFLICT,
            "insufficient_stock",
            "there is no stock to remove",
        )
        .with("sku", a.sku));
    }
    tx.execute_cached(
        "INSERT INTO stock_movements (sku, warehouse, on_hand_delta, reserved_delta, reason)
         VALUES ($1, $2, $3, 0, $4)",
        &[&a.sku, &a.warehouse, &a.delta, &a.reason],
    )
    .await?;
    outbox::enqueue(&tx, outbox::STOCK_CHANGED, json!({ "sku": a.sku })).await?;
    tx.commit().await?;
    Ok(Json(Adjusted {
        sku: a.sku,
        warehouse: a.warehouse,
        level: Level::new(on_hand, reserved),
    }))
}

/// `GET /v1/stock?sku=…`: authoritative availability, per warehouse and in total.
#[utoipa::path(
    get,
    path = "/v1/stock",
    tag = "shopper",
    params(("sku" = String, Query, description = "The product")),
    responses(
        (status = 200, description = "Its availability", body = Availability),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<Availability>, ApiError> {
    let sku = query.get("sku").filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::bad_request("missing_parameter", "the sku query parameter is required")
            .with("parameter", "sku")
    })?;
    if !crate::products::valid_sku(sku) {
        return Err(ApiError::not_found("product").with("sku", "(not a SKU)"));
    }
    let client = app.pool.get().await?;
    let known = client
        .query_opt_cached("SELECT 1 FROM products WHERE sku = $1", &[sku])
        .await?;
    if known.is_none() {
        return Err(ApiError::not_found("product").with("sku", sku.as_str()));
    }
    let rows = client
        .query_cached(
            "SELECT warehouse, on_hand, reserved FROM stock WHERE sku = $1 ORDER BY warehouse",
            &[sku],
        )
        .await?;
    let mut total = 0i64;
    let mut warehouses = BTreeMap::new();
    for r in &rows {
        let (w, on_hand, reserved): (String, i32, i32) = (r.get(0), r.get(1), r.get(2));
        total += i64::from(on_hand - reserved);
        warehouses.insert(w, Level::new(on_hand, reserved));
    }
    Ok(Json(Availability {
        sku: sku.clone(),
        available: total,
        warehouses,
    }))
}
