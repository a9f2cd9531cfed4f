//! Booking a slot's capacity: at checkout, in the transaction that reserves the order's
//! stock; before the cart, as a hold the shopper keeps for the merchant's hold time; and
//! releasing it with the order's stock.
//!
//! The only write to `booked` that can raise it is the conditional update in [`take_unit`]
//! (`booked < capacity`, backed by a CHECK), so no interleaving of checkouts and holds ever
//! books a slot beyond its capacity.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use deadpool_postgres::GenericClient;
use projections::delivery::{SlotState, Zone};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::SLOTS_CHANGED;
use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::outbox;

/// A slot chosen for an address, checked: it is the storefront's, has not started, and its
/// warehouse delivers there.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub slot_id: Uuid,
    pub storefront: String,
    pub warehouse: String,
    pub fee_minor: i64,
    pub hold_minutes: i32,
}

fn slot_full() -> ApiError {
    ApiError::user(
        StatusCode::CONFLICT,
        "slot_full",
        "this delivery slot is full or closed; choose another",
    )
}

/// Checks `slot_id` for an address in `country` with `postal_code` (no lock is taken).
/// Whether it has room is [`book`]'s to decide: a shopper's hold may already be in it.
pub async fn choose(
    client: &impl GenericClient,
    storefront: &str,
    slot_id: Uuid,
    country: &str,
    postal_code: Option<&str>,
) -> Result<Chosen, ApiError> {
    let row = client
        .query_opt_cached(
            "SELECT s.warehouse, s.fee_minor, s.starts_at > now(), coalesce(t.hold_minutes, 120),
                    (SELECT z.postal_prefixes FROM delivery_zones z
                     WHERE z.storefront = s.storefront AND z.warehouse = s.warehouse
                       AND z.country = $3)
             FROM delivery_slots s
             LEFT JOIN slot_templates t ON t.storefront = s.storefront AND t.warehouse = s.warehouse
             WHERE s.id = $1 AND s.storefront = $2",
            &[&slot_id, &storefront, &country],
        )
        .await?
        .ok_or_else(|| {
            ApiError::unprocessable("unknown_slot", "no such delivery slot in this storefront")
                .with("field", "delivery.slot_id")
        })?;
    if !row.get::<_, bool>(2) {
        return Err(ApiError::user(
            StatusCode::CONFLICT,
            "slot_started",
            "this delivery slot has started; choose a later one",
        ));
    }
    // One zone per warehouse and country (its key); none: not delivered.
    let prefixes: Option<Vec<String>> = row.get(4);
    let covered = prefixes.is_some_and(|postal_prefixes| {
        Zone {
            country: country.to_owned(),
            postal_prefixes,
        }
        .covers(country, postal_code)
    });
    if !covered {
        return Err(ApiError::unprocessable(
            "slot_not_delivering_here",
            "this slot's warehouse does not deliver to this address",
        )
        .with("field", "delivery.slot_id"));
    }
    Ok(Chosen {
        slot_id,
        storefront: storefront.to_owned(),
        warehouse: row.get(0),
        fee_minor: row.get(1),
        hold_minutes: row.get(3),
    })
}

/// Takes one unit of the slot for a hold (an order's, or a shopper's with a token): the
/// conditional update and the hold row in one statement. `false`: full or closed.
async fn take_unit(
    tx: &impl GenericClient,
    slot_id: Uuid,
    order_id: Option<Uuid>,
    token_sha256: Option<Vec<u8>>,
    hold_minutes: i32,
) -> Result<bool, ApiError> {
    let row = tx
        .query_opt_cached(
            "WITH s AS (
                 UPDATE delivery_slots SET booked = booked + 1
                 WHERE id = $1 AND NOT closed AND booked < capacity AND starts_at > now()
                 RETURNING id, storefront, booked, capacity),
             h AS (
                 INSERT INTO slot_holds (id, slot_id, order_id, token_sha256, expires_at)
                 SELECT gen_random_uuid(), id, $2, $3,
                        CASE WHEN $2::uuid IS NULL
                             THEN now() + make_interval(mins => $4::int)
                             ELSE 'infinity' END
                 FROM s)
             SELECT storefront, booked, capacity FROM s",
            &[&slot_id, &order_id, &token_sha256, &hold_minutes],
        )
        .await?;
    let Some(row) = row else { return Ok(false) };
    let (storefront, booked, capacity): (String, i32, i32) = (row.get(0), row.get(1), row.get(2));
    let before = SlotState::of(i64::from(booked) - 1, capacity.into(), false);
    if before != SlotState::of(booked.into(), capacity.into(), false) {
        outbox::enqueue(tx, SLOTS_CHANGED, json!({ "storefront": storefront })).await?;
    }
    Ok(true)
}

/// Books the chosen slot for `order_id`, in the checkout's transaction, after its stock is
/// reserved. A shopper's unexpired hold on the slot is taken over (no capacity moves);
/// otherwise one unit is taken, or the checkout is refused with `slot_full`.
pub async fn book(
    tx: &impl GenericClient,
    order_id: Uuid,
    chosen: &Chosen,
    hold_token: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(token) = hold_token {
        let taken = tx
            .execute_cached(
                "UPDATE slot_holds SET order_id = $1, expires_at = 'infinity', token_sha256 = NULL
                 WHERE token_sha256 = $2 AND slot_id = $3 AND state = 'held'
                   AND order_id IS NULL AND expires_at > now()",
                &[&order_id, &auth::sha256(token), &chosen.slot_id],
            )
            .await?;
        if taken == 1 {
            return Ok(());
        }
    }
    if take_unit(
        tx,
        chosen.slot_id,
        Some(order_id),
        None,
        chosen.hold_minutes,
    )
    .await?
    {
        Ok(())
    } else {
        Err(slot_full())
    }
}

/// Releases the order's unit of its slot (payment declined, order cancelled, checkout
/// expired), in the caller's transaction, after its stock.
pub async fn release(tx: &impl GenericClient, order_id: Uuid) -> Result<(), ApiError> {
    let row = tx
        .query_opt_cached(
            "WITH h AS (
                 UPDATE slot_holds SET state = 'released'
                 WHERE order_id = $1 AND state = 'held' RETURNING slot_id)
             UPDATE delivery_slots d SET booked = d.booked - 1 FROM h
             WHERE d.id = h.slot_id
             RETURNING d.storefront, d.booked, d.capacity",
            &[&order_id],
        )
        .await?;
    if let Some(row) = row {
        let (storefront, booked, capacity): (String, i32, i32) =
            (row.get(0), row.get(1), row.get(2));
        let before = SlotState::of(i64::from(booked) + 1, capacity.into(), false);
        if before != SlotState::of(booked.into(), capacity.into(), false) {
            outbox::enqueue(tx, SLOTS_CHANGED, json!({ "storefront": storefront })).await?;
        }
    }
    Ok(())
}

/// Releases shoppers' holds that expired without a checkout; returns how many.
pub async fn expire_holds(app: &AppState) -> Result<u64, ApiError> {
    let client = app.pool.get().await?;
    let row = client
        .query_one_cached(
            "WITH due AS (
                 SELECT id FROM slot_holds
                 WHERE state = 'held' AND order_id IS NULL AND expires_at < now()
                 ORDER BY slot_id LIMIT 500 FOR UPDATE SKIP LOCKED),
             h AS (
                 UPDATE slot_holds SET state = 'released', token_sha256 = NULL
                 WHERE id IN (SELECT id FROM due) RETURNING slot_id),
             n AS (SELECT slot_id, count(*)::int AS n FROM h GROUP BY slot_id),
             s AS (
                 UPDATE delivery_slots d SET booked = d.booked - n.n FROM n
                 WHERE d.id = n.slot_id RETURNING d.storefront),
             e AS (
                 INSERT INTO outbox (id, kind, payload)
                 SELECT gen_random_uuid(), $1, jsonb_build_object('storefront', storefront)
                 FROM (SELECT DISTINCT storefront FROM s) x)
             SELECT count(*) FROM h",
            &[&SLOTS_CHANGED],
        )
        .await?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or_default())
}

/// A shopper's request to hold a slot before checkout.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    storefront: String,
    slot_id: String,
    /// The delivery address's country and postal code: the slot's warehouse must deliver
    /// there.
    country: String,
    #[serde(default)]
    postal_code: Option<String>,
    /// The token of a hold this one replaces (released first), if any.
    #[serde(default)]
    replaces: Option<String>,
}

/// A held slot: send `hold_token` with the checkout to keep it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Hold {
    pub hold_token: String,
    pub slot_id: Uuid,
    /// RFC 3339; the slot is released then unless a checkout took it over.
    pub expires_at: String,
}

/// `POST /v1/slot-holds`: holds one unit of a slot for the merchant's hold time, before
/// the cart is filled.
#[utoipa::path(
    post,
    path = "/v1/slot-holds",
    tag = "shopper",
    request_body = HoldRequest,
    responses(
        (status = 201, description = "Held", body = Hold),
        (status = 409, description = "The slot is full, closed or has started", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn hold(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Hold>), ApiError> {
    let input: HoldRequest = crate::json_body(&body)?;
    let slot_id: Uuid = input
        .slot_id
        .parse()
        .map_err(|_| ApiError::field("slot_id", "a slot id"))?;
    let country = shopper_input::address::Country::parse(&input.country)
        .map_err(|e| ApiError::input("country", &e))?;
    let postal_code = input
        .postal_code
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(|p| shopper_input::address::PostalCode::parse(p, country))
        .transpose()
        .map_err(|e| ApiError::input("postal_code", &e))?;
    if app
        .regions
        .home_region(country.as_str().parse().map_err(|_| {
            ApiError::field("country", "an ISO 3166-1 alpha-2 country code, e.g. DE")
        })?)
        .id
        != app.region.id
    {
        return Err(ApiError::user(
            StatusCode::MISDIRECTED_REQUEST,
            "wrong_region",
            "this country is served by another region",
        ));
    }
    let mut client = app.pool.get().await?;
    let chosen = choose(
        &client,
        &input.storefront,
        slot_id,
        country.as_str(),
        postal_code.as_ref().map(|p| p.as_str()),
    )
    .await?;
    let token = auth::random_token()?;
    let tx = client.transaction().await?;
    if let Some(previous) = input.replaces.as_deref() {
        let row = tx
            .query_opt_cached(
                "WITH h AS (
                     UPDATE slot_holds SET state = 'released', token_sha256 = NULL
                     WHERE token_sha256 = $1 AND state = 'held' AND order_id IS NULL
                     RETURNING slot_id)
                 UPDATE delivery_slots d SET booked = d.booked - 1 FROM h WHERE d.id = h.slot_id
                 RETURNING d.storefront",
                &[&auth::sha256(previous)],
            )
            .await?;
        if let Some(row) = row {
            let storefront: String = row.get(0);
            outbox::enqueue(&tx, SLOTS_CHANGED, json!({ "storefront": storefront })).await?;
        }
    }
    if !take_unit(
        &tx,
        slot_id,
        None,
        Some(auth::sha256(&token)),
        chosen.hold_minutes,
    )
    .await?
    {
        return Err(slot_full());
    }
    let expires: chrono::DateTime<chrono::Utc> = tx
        .query_one_cached(
            "SELECT expires_at FROM slot_holds WHERE token_sha256 = $1",
            &[&auth::sha256(&token)],
        )
        .await?
        .get(0);
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Hold {
            hold_token: token,
            slot_id,
            expires_at: expires.to_rfc3339(),
        }),
    ))
}

/// Queues the reminder for orders whose slot starts within a day, once per order; orders
/// placed less than a day before their slot get none. Answers how many were queued.
pub async fn queue_reminders(app: &AppState) -> Result<u64, ApiError> {
    let client = app.pool.get().await?;
    let n = client
        .execute_cached(
            "INSERT INTO outgoing_mail (id, storefront, kind, order_id)
             SELECT gen_random_uuid(), o.storefront, 'slot_reminder', o.id
             FROM delivery_slots s JOIN orders o ON o.slot_id = s.id
             WHERE s.starts_at > now() AND s.starts_at <= now() + interval '1 day'
               AND o.status IN ('confirmed', 'picking', 'packed')
               AND o.erased_at IS NULL
               AND o.created_at < s.starts_at - interval '1 day'
               AND NOT EXISTS (SELECT 1 FROM outgoing_mail m
                               WHERE m.order_id = o.id AND m.kind = 'slot_reminder')",
            &[],
        )
        .await?;
    Ok(n)
}
