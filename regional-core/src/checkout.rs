//! `POST /v1/checkouts`: the checkout saga.
//!
//! 1. Validate the `Idempotency-Key` and the body; refuse a shopper whose home region is
//!    another (421, naming it). Nothing is written for any of these.
//! 2. One transaction: claim the idempotency key (`in_flight`), reprice every line, create
//!    the order as `pending_payment` with its shopper row and outbox events, reserve stock
//!    (in the delivery slot's warehouse when one is chosen), then book one unit of the slot
//!    (`delivery`). Out of stock, a full slot or an unknown SKU rolls it all back.
//! 3. Authorise the payment with the PSP under a key derived from the idempotency key.
//! 4. One transaction: approved → `confirmed`; declined → reservations released and
//!    `payment_declined`. The response is stored with the key, so a replay returns it byte
//!    for byte. If the PSP gave no answer the order stays `pending_payment`, the key stays
//!    `in_flight` (retries get 409) and the recovery worker settles it.
//!
//! Replays follow Stripe's semantics: completed key → the first response; same key with a
//! different body → 422; key still in flight → 409.
//!
//! # Layout
//!
//! - this file: the saga (`create`, repricing, `settle`);
//! - [`request`]: parsing the body and the shopper's details;
//! - [`idempotency`]: the key's rule and replays.

mod idempotency;
mod request;

pub(crate) use idempotency::idempotency_key;
use idempotency::{json_response, replay, stored_hash};
use request::{Checkout, parse};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use deadpool_postgres::GenericClient;
use meridian_telemetry::opentelemetry::context::FutureExt as _;
use region_config::Slug;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::delivery;
use crate::error::{ApiError, ErrorBody};
use crate::inventory;
use crate::orders::{self, Status};
use crate::outbox;
use crate::payments::{Authorization, derived_key};
use crate::pricing::{self, LineInput, Quote, QuoteCheck};

/// What the shopper gets back for a confirmed order (and, byte for byte, on every replay).
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmation<'a> {
    order_id: Uuid,
    /// `confirmed`.
    status: &'static str,
    /// The shopper's bearer token for `GET /v1/orders/{id}` and cancel.
    order_access_token: &'a str,
    #[serde(flatten)]
    quote: &'a Quote,
}

/// `POST /v1/checkouts`: reprices the cart, reserves the stock and authorises the payment.
/// With a signed-in shopper's session as bearer token, the order joins their account.
#[utoipa::path(
    post,
    path = "/v1/checkouts",
    tag = "shopper",
    security((), ("session" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per attempt; a retry with the same key and body answers the first response")),
    request_body = request::Body,
    responses(
        (status = 201, description = "The order is confirmed", body = Confirmation),
        (status = 402, description = "The payment was declined", body = ErrorBody),
        (status = 409, description = "Out of stock, price changed, or this key is in flight", body = ErrorBody),
        (status = 421, description = "The shopper's country belongs to another region", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let raw: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not JSON: {e}"))
    })?;
    let checkout = parse(&app, &raw)?;
    // serde_json's maps are sorted: the hash ignores key order and whitespace.
    let request_hash =
        Sha256::digest(serde_json::to_vec(&raw).map_err(anyhow::Error::from)?).to_vec();

    let order_id = Uuid::new_v4();
    let token = auth::random_token()?;
    let mut client = app.pool.get().await?;
    // A signed-in shopper's order belongs to their account (of the same storefront).
    let account_id = if auth::bearer(&headers).is_some() {
        let me = crate::accounts::session::current(&client, &app, &headers).await?;
        if me.storefront != checkout.body.storefront {
            return Err(ApiError::field(
                "storefront",
                "the signed-in account belongs to another storefront",
            ));
        }
        Some(me.account_id)
    } else {
        None
    };
    let tx = client.transaction().await?;
    let claimed = tx
        .execute_cached(
            "INSERT INTO idempotency_keys (key, request_sha256, state, order_id, order_token)
             VALUES ($1, $2, 'in_flight', $3, $4)
             ON CONFLICT (key) DO NOTHING",
            &[&key, &request_hash, &order_id, &token],
        )
        .await?;
    if claimed == 0 {
        drop(tx);
        return replay(&client, &key, &request_hash).await;
    }

    let Priced {
        mut quote,
        slots_required,
        substitutes_by_default,
        margin_bp,
    } = reprice(&tx, &app, &checkout)
        .with_context(app.observe.step("reprice"))
        .await?;
    check_seen_quote(&app, &checkout, &quote)?;
    let address = &checkout.body.shopper.address;
    let chosen = match checkout.slot {
        Some(slot) => Some(
            delivery::booking::choose(
                &tx,
                &checkout.body.storefront,
                slot,
                checkout.ship_to.as_str(),
                Some(&address.postal_code),
            )
            .await?,
        ),
        None if slots_required => {
            return Err(ApiError::unprocessable(
                "slot_required",
                "this storefront delivers in slots; choose one",
            )
            .with("field", "delivery.slot_id"));
        }
        None => None,
    };
    // The delivery fee is charged with the goods: the order's total includes it.
    let fee = chosen.as_ref().map_or(0, |c| c.fee_minor);
    quote.delivery_fee_minor = fee;
    quote.total_minor += fee;
    let allowed: Vec<bool> = quote
        .lines
        .iter()
        .map(|l| {
            checkout
                .substitutes
                .get(&l.sku)
                .copied()
                .unwrap_or(substitutes_by_default)
        })
        .collect();
    // A substitute may cost more than what it replaces: the PSP holds the storefront's margin
    // on the goods above the total, and the picked total is captured at packing.
    let authorized = quote.total_minor
        + if allowed.contains(&true) {
            crate::fulfilment::margin(quote.total_minor - fee, margin_bp)
        } else {
            0
        };
    let codes: Vec<String> = checkout
        .body
        .promo_codes
        .iter()
        .filter_map(|c| crate::promotions::normalise_code(c))
        .collect();
    let reserving = app.observe.step("reserve");
    let provider = app.payments.current_provider().to_owned();
    let skus: Vec<&str> = quote.lines.iter().map(|l| l.sku.as_str()).collect();
    let quantities: Vec<i32> = quote.lines.iter().map(|l| l.quantity).collect();
    let unit_prices: Vec<i64> = quote.lines.iter().map(|l| l.unit_price_minor).collect();
    let line_totals: Vec<i64> = quote.lines.iter().map(|l| l.line_total_minor).collect();
    let taxes: Vec<i64> = quote.lines.iter().map(|l| l.tax_minor).collect();
    let rates: Vec<i32> = quote
        .lines
        .iter()
        .map(|l| i32::try_from(l.tax_rate_bp).unwrap_or(i32::MAX))
        .collect();
    let s = &checkout.body.shopper;
    let address_json = serde_json::to_value(&s.address).map_err(anyhow::Error::from)?;
    // The order, its lines, its shopper, its first transition and the stock events, in one
    // statement (one round trip).
    tx.execute_cached(
        "WITH o AS (
             INSERT INTO orders (id, storefront, status, currency, subtotal_minor, tax_minor,
                                 discount_minor, total_minor, access_token_sha256, payment_key,
                                 payment_token, payment_provider, idempotency_key, account_id,
                                 slot_id, delivery_fee_minor, promo_codes, authorized_minor)
             VALUES ($1, $2, 'pending_payment', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $24,
                     $25, $26, $27, $28)),
         l AS (
             INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_minor,
                                      line_total_minor, tax_minor, tax_rate_bp,
                                      substitute_allowed)
             SELECT $1, n - 1, sku, q, u, lt, t, r, a
             FROM unnest($13::text[], $14::int[], $15::bigint[], $16::bigint[], $17::bigint[],
                         $18::int[], $29::bool[]) WITH ORDINALITY AS x(sku, q, u, lt, t, r, a, n)),
         s AS (
             INSERT INTO order_shoppers (order_id, email, name, phone, country, address)
             VALUES ($1, $19, $20, $21, $22, $23)),
         t AS (
             INSERT INTO order_transitions (order_id, from_status, to_status, reason)
             VALUES ($1, NULL, 'pending_payment', 'checkout'))
         INSERT INTO outbox (id, kind, payload)
         SELECT gen_random_uuid(), 'stock_changed', jsonb_build_object('sku', sku)
         FROM unnest($13::text[]) AS sku",
        &[
            &order_id,
            &checkout.body.storefront,
            &quote.currency,
            &quote.subtotal_minor,
            &quote.tax_minor,
            &quote.discount_minor,
            &quote.total_minor,
            &auth::sha256(&token),
            &derived_key("authorize", &key),
            &checkout.body.payment.token,
            &provider,
            &key,
            &skus,
            &quantities,
            &unit_prices,
            &line_totals,
            &taxes,
            &rates,
            &s.email,
            &s.name,
            &s.phone,
            &checkout.country.as_str(),
            &address_json,
            &account_id,
            &checkout.slot,
            &fee,
            &codes,
            &authorized,
            &allowed,
        ],
    )
    .with_context(reserving.clone())
    .await?;
    // Reserve last, so a hot SKU's row lock is held only until the commit that follows.
    // With a slot, the slot's warehouse is the order's: lines are reserved there only.
    let warehouses = match &chosen {
        Some(c) => vec![c.warehouse.clone()],
        None => inventory::warehouse_preference(&app.region, checkout.ship_to),
    };
    let ttl = i64::try_from(app.reservation_ttl.as_secs()).unwrap_or(i64::MAX);
    if let Err(shortages) = inventory::reserve(&tx, order_id, &checkout.lines, &warehouses, ttl)
        .with_context(reserving.clone())
        .await?
    {
        // Lines short in the warehouse go ahead only when the shopper, shown them, asked to
        // order anyway and allowed each a substitute: what there is stays reserved, and the
        // picker substitutes the rest.
        let substitutable = |sku: &str| {
            quote
                .lines
                .iter()
                .zip(&allowed)
                .any(|(l, a)| l.sku == sku && *a)
        };
        if !(checkout.body.allow_short && shortages.iter().all(|s| substitutable(&s.sku))) {
            meridian_telemetry::fail(&reserving, "out_of_stock");
            let lines: Vec<Value> = shortages
                .iter()
                .map(|s| {
                    serde_json::json!({"sku": s.sku, "requested": s.requested,
                                       "available": s.available,
                                       "substitute_allowed": substitutable(&s.sku)})
                })
                .collect();
            // Dropping the transaction rolls back the key, the order and every reservation.
            return Err(ApiError::user(
                StatusCode::CONFLICT,
                "out_of_stock",
                "some items are not available in the quantity asked",
            )
            .with("lines", Value::Array(lines)));
        }
    }
    // The slot after the stock (the lock order releases use too): one unit, or slot_full.
    if let Some(c) = &chosen {
        let hold = checkout
            .body
            .delivery
            .as_ref()
            .and_then(|d| d.hold_token.as_deref());
        delivery::booking::book(&tx, order_id, c, hold)
            .with_context(reserving.clone())
            .await?;
    }
    drop(reserving);
    tx.commit().with_context(app.observe.step("commit")).await?;
    // Give the connection back before waiting on the PSP: `settle` takes its own, and a
    // checkout must never hold two (a full pool would deadlock).
    drop(client);

    let outcome = app
        .payments
        .authorize(
            &provider,
            &derived_key("authorize", &key),
            authorized,
            &quote.currency,
            &checkout.body.payment.token,
        )
        .with_context(app.observe.step("authorise"))
        .await;
    match outcome {
        Ok(authorization) => {
            settle(&app, order_id, authorization, Some(&quote))
                .with_context(app.observe.step("settle"))
                .await
        }
        Err(unavailable) => {
            tracing::warn!(%order_id, provider = %unavailable.provider, reason = %unavailable.reason,
                "payment outcome unknown; the recovery worker will settle the order");
            Err(ApiError::PaymentUnavailable(unavailable.to_string()))
        }
    }
}

/// Refuses the checkout when the quote the shopper saw is not this core's price any more.
/// The answer carries the current totals so the storefront can show them; nothing is
/// written (the caller's transaction is dropped).
fn check_seen_quote(app: &AppState, checkout: &Checkout, quote: &Quote) -> Result<(), ApiError> {
    let (Some(seen), Some(key)) = (&checkout.body.quote, &app.quote_signing_key) else {
        return Ok(());
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let check = pricing::check_quote(
        &app.region,
        key.expose().as_bytes(),
        quote,
        &seen.signature,
        seen.issued_at,
        seen.expires_at,
        now,
    );
    let (code, message) = match check {
        QuoteCheck::Same => return Ok(()),
        QuoteCheck::Expired => (
            "quote_expired",
            "the price shown has expired; confirm the current price",
        ),
        QuoteCheck::Changed => (
            "price_changed",
            "the price changed since it was shown; confirm the current price",
        ),
    };
    Err(ApiError::user(StatusCode::CONFLICT, code, message)
        .with("currency", quote.currency.as_str())
        .with("total_minor", quote.total_minor)
        .with("tax_minor", quote.tax_minor))
}

/// A repriced cart and the storefront's rules that bear on the checkout.
struct Priced {
    quote: Quote,
    /// The storefront delivers in slots (it has a template).
    slots_required: bool,
    substitutes_by_default: bool,
    /// The margin authorised above the goods when substitutes are allowed.
    margin_bp: i32,
}

/// Prices the lines from the catalogue of record (one query, which also reads the
/// storefront's rules); unknown, inactive or foreign SKUs and SKUs without a price in the
/// region's currency are refused.
async fn reprice(
    tx: &impl GenericClient,
    app: &AppState,
    checkout: &Checkout,
) -> Result<Priced, ApiError> {
    let skus: Vec<&str> = checkout.lines.iter().map(|(s, _)| s.as_str()).collect();
    let rows = tx
        .query_cached(
            "SELECT p.sku, p.tax_category, pp.amount_minor,
                    EXISTS (SELECT 1 FROM slot_templates t WHERE t.storefront = $3),
                    f.substitutes_by_default, f.substitution_margin_bp
             FROM products p JOIN storefronts f ON f.id = p.storefront
             LEFT JOIN product_prices pp ON pp.sku = p.sku AND pp.currency = $2
             WHERE p.sku = ANY($1) AND p.active AND p.storefront = $3",
            &[
                &skus,
                &app.region.currency.as_str(),
                &checkout.body.storefront,
            ],
        )
        .await?;
    let mut inputs = Vec::new();
    for (sku, quantity) in &checkout.lines {
        let Some(row) = rows.iter().find(|r| r.get::<_, &str>(0) == sku) else {
            let storefront = &checkout.body.storefront;
            let known = tx
                .query_opt_cached("SELECT 1 FROM storefronts WHERE id = $1", &[storefront])
                .await?;
            return Err(match known {
                None => ApiError::unprocessable("unknown_storefront", "no such storefront")
                    .with("storefront", storefront.as_str()),
                Some(_) => {
                    ApiError::unprocessable("unknown_sku", "no such product in this storefront")
                        .with("sku", sku.as_str())
                }
            });
        };
        let price: Option<i64> = row.get(2);
        let price = price.ok_or_else(|| {
            ApiError::unprocessable(
                "sku_not_sold_in_currency",
                format!("this product is not sold in {}", app.region.currency),
            )
            .with("sku", sku.as_str())
        })?;
        let tax_category: Slug = row
            .get::<_, &str>(1)
            .parse()
            .map_err(|_| anyhow::anyhow!("stored tax category is not a slug"))?;
        inputs.push(LineInput {
            sku: sku.clone(),
            quantity: *quantity,
            base_price_minor: price,
            tax_category,
        });
    }
    let codes: Vec<String> = checkout
        .body
        .promo_codes
        .iter()
        .filter_map(|c| crate::promotions::normalise_code(c))
        .collect();
    let promotions = if codes.is_empty() {
        Vec::new()
    } else {
        crate::promotions::for_storefront(tx, &checkout.body.storefront).await?
    };
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(anyhow::Error::from)?
            .as_secs(),
    )
    .unwrap_or(i64::MAX);
    let first = rows.first();
    let slots_required = first.is_some_and(|r| r.get::<_, bool>(3));
    let substitutes_by_default = first.is_some_and(|r| r.get::<_, bool>(4));
    let margin_bp = first.map_or(0, |r| r.get::<_, i32>(5));
    let quote = pricing::quote_with(
        &app.region,
        checkout.country,
        &inputs,
        &codes,
        &promotions,
        now,
    )
    .map_err(promotion_error)?;
    Ok(Priced {
        quote,
        slots_required,
        substitutes_by_default,
        margin_bp,
    })
}

/// A pricing refusal as the shopper's error: promotions by name, anything else unpriceable.
fn promotion_error(e: pricing_rules::PricingError) -> ApiError {
    use pricing_rules::PricingError as E;
    let (code, promo) = match &e {
        E::UnknownPromoCode { code } => ("unknown_promo_code", code.clone()),
        E::PromoExpired { code } => ("promo_expired", code.clone()),
        E::MinimumSpendNotMet { code, .. } => ("minimum_spend_not_met", code.clone()),
        E::PromoNotApplicable { code, .. } => ("promo_not_applicable", code.clone()),
        E::PromotionsDoNotStack { code } => ("promotions_do_not_stack", code.clone()),
        _ => return ApiError::unprocessable("unpriceable_cart", e.to_string()),
    };
    ApiError::unprocessable(code, e.to_string()).with("promo_code", promo)
}

/// Applies the PSP's answer to a pending order and stores the response for replays.
/// Safe to call twice (checkout and the recovery worker may race): the second finds the
/// order already moved and returns the stored response. `quote` is the committed quote when
/// the caller has it; otherwise it is read back from the order.
pub(crate) async fn settle(
    app: &AppState,
    order_id: Uuid,
    authorization: Authorization,
    quote: Option<&Quote>,
) -> Result<Response, ApiError> {
    let mut client = app.pool.get().await?;
    let tx = client.transaction().await?;
    let key_row = tx
        .query_one_cached(
            "SELECT k.key, k.order_token FROM idempotency_keys k WHERE k.order_id = $1 FOR UPDATE",
            &[&order_id],
        )
        .await?;
    let key: String = key_row.get(0);
    let (status, body) = match &authorization {
        Authorization::Approved { provider, id } => {
            // The pending_payment -> confirmed transition, its audit row, the payment
            // reference, the outbox event and the shopper's e-mail (written when sent; see
            // `notifications`), in one statement.
            let moved: i64 = tx
                .query_one_cached(
                    "WITH o AS (
                         UPDATE orders SET status = 'confirmed', payment_provider = $2,
                                           payment_id = $3, updated_at = now()
                         WHERE id = $1 AND status = 'pending_payment' RETURNING id, storefront),
                     m AS (
                         INSERT INTO outgoing_mail (id, storefront, kind, order_id)
                         SELECT gen_random_uuid(), storefront, 'order_confirmed', id FROM o),
                     t AS (
                         INSERT INTO order_transitions (order_id, from_status, to_status, reason)
                         SELECT id, 'pending_payment', 'confirmed', 'payment authorised' FROM o),
                     e AS (
                         INSERT INTO outbox (id, kind, payload)
                         SELECT gen_random_uuid(), $4, jsonb_build_object('order_id', id) FROM o)
                     SELECT count(*) FROM o",
                    &[&order_id, provider, id, &outbox::ORDER_CONFIRMED],
                )
                .await?
                .get(0);
            if moved == 0 {
                drop(tx);
                return replay(&client, &key, &stored_hash(&client, &key).await?).await;
            }
            let token: Option<String> = key_row.get(1);
            let token = token.ok_or_else(|| anyhow::anyhow!("order token missing"))?;
            let stored;
            let quote = match quote {
                Some(q) => q,
                None => {
                    stored =
                        stored_quote(&tx, order_id, app.region.tax.prices_include_tax()).await?;
                    &stored
                }
            };
            let body = serde_json::to_vec(&Confirmation {
                order_id,
                status: "confirmed",
                order_access_token: &token,
                quote,
            })
            .map_err(anyhow::Error::from)?;
            (StatusCode::CREATED, body)
        }
        Authorization::Declined { .. } => {
            if !orders::transition(
                &tx,
                order_id,
                Status::PendingPayment,
                Status::PaymentDeclined,
                "payment declined",
                "system",
            )
            .await?
            {
                drop(tx);
                return replay(&client, &key, &stored_hash(&client, &key).await?).await;
            }
            inventory::release(&tx, order_id, "payment declined").await?;
            delivery::booking::release(&tx, order_id).await?;
            let error = ApiError::user(
                StatusCode::PAYMENT_REQUIRED,
                "payment_declined",
                "the payment was declined; no order was placed",
            )
            .with("order_id", order_id.to_string());
            (
                StatusCode::PAYMENT_REQUIRED,
                serde_json::to_vec(&error.body()).map_err(anyhow::Error::from)?,
            )
        }
    };
    tx.execute_cached(
        "UPDATE idempotency_keys SET state = 'completed', response_status = $2, response_body = $3, order_token = NULL
         WHERE key = $1",
        &[&key, &i32::from(status.as_u16()), &body],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%order_id, status = status.as_u16(), "checkout settled");
    Ok(json_response(status, body))
}

/// The quote as committed with the order, rebuilt from its rows.
async fn stored_quote(
    tx: &impl GenericClient,
    order_id: Uuid,
    prices_include_tax: bool,
) -> Result<Quote, ApiError> {
    let view = orders::view(tx, order_id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Quote {
        currency: view.currency,
        prices_include_tax,
        lines: view.lines,
        subtotal_minor: view.subtotal_minor,
        tax_minor: view.tax_minor,
        discount_minor: view.discount_minor,
        delivery_fee_minor: view.delivery_fee_minor,
        total_minor: view.total_minor,
        priced: None,
    })
}
