//! Fulfilment, for a picking app on the merchant API: an order is picked in its warehouse
//! with substitutes where the shopper allowed them, packed (the picked order is priced again
//! and its total captured), sent out and delivered. Each step is a transition with its time
//! and actor (`merchant`).
//!
//! 1. `POST /v1/admin/orders/{id}/status {"status": "picking"}` starts picking a confirmed
//!    order.
//! 2. `PUT /v1/admin/orders/{id}/picks` records what the picker found: per line the units
//!    picked, and a substitute for the missing ones where the shopper allowed it. A
//!    substitute is a product of the storefront priced in the order's currency; its units
//!    are reserved in the order's warehouse. Recording again replaces the previous picks.
//! 3. `{"status": "packed"}` prices the picked order with `pricing-rules` (the order's promo
//!    codes, as at the checkout's time), queues the shopper's e-mail about missing lines and
//!    substitutes, captures the picked total (never above what was authorised), releases the
//!    rest of the authorisation, and sells the picked units.
//! 4. `{"status": "out_for_delivery"}`, then `{"status": "delivered"}`; the shopper is
//!    mailed at each.
//!
//! A transition out of order is a 409 and writes nothing.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use deadpool_postgres::GenericClient;
use region_config::{CountryCode, Slug};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::inventory;
use crate::orders::{self, OrderView, Status};
use crate::payments::derived_key;
use crate::pricing::{self, LineInput, Quote};

/// The amount held above `goods` for substitutes: `bp` basis points of it, rounded up.
pub fn margin(goods: i64, bp: i32) -> i64 {
    let goods = goods.max(0);
    let bp = i64::from(bp.max(0));
    (goods * bp + 9_999) / 10_000
}

/// The storefront's substitution rules.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Whether a line allows a substitute unless the shopper says otherwise.
    pub substitutes_by_default: bool,
    /// Authorised above the goods' total when a line allows a substitute, 0 to 5,000 basis
    /// points; 0 authorises the exact amount.
    pub substitution_margin_bp: i32,
}

/// `PUT /v1/admin/fulfilment-settings`: the storefront's substitution rules.
#[utoipa::path(
    put,
    path = "/v1/admin/fulfilment-settings",
    tag = "merchant",
    security(("merchant" = [])),
    request_body = Settings,
    responses(
        (status = 200, description = "The rules as stored", body = Settings),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn put_settings(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Settings>, ApiError> {
    let client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let settings: Settings = crate::json_body(&body)?;
    if !(0..=5_000).contains(&settings.substitution_margin_bp) {
        return Err(ApiError::field(
            "substitution_margin_bp",
            "0 to 5,000 basis points",
        ));
    }
    client
        .execute_cached(
            "UPDATE storefronts SET substitutes_by_default = $2, substitution_margin_bp = $3
             WHERE id = $1",
            &[
                &storefront,
                &settings.substitutes_by_default,
                &settings.substitution_margin_bp,
            ],
        )
        .await?;
    Ok(Json(settings))
}

/// The status a picking app moves an order to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `picking`, `packed`, `out_for_delivery` or `delivered`.
    status: String,
}

/// `POST /v1/admin/orders/{id}/status`: the next fulfilment step. Moving to the status the
/// order is already in answers it as it is.
#[utoipa::path(
    post,
    path = "/v1/admin/orders/{id}/status",
    tag = "merchant",
    params(("id" = Uuid, Path, description = "The order")),
    security(("merchant" = [])),
    request_body = StatusChange,
    responses(
        (status = 200, description = "The order as it now is", body = OrderView),
        (status = 409, description = "Not the order's next step, or the picked total is above what was authorised", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn change_status(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<OrderView>, ApiError> {
    let order_id = orders::parse_id(&id)?;
    let change: StatusChange = crate::json_body(&body)?;
    let to = match Status::parse(&change.status) {
        Some(
            s @ (Status::Picking | Status::Packed | Status::OutForDelivery | Status::Delivered),
        ) => s,
        _ => {
            return Err(ApiError::field(
                "status",
                "picking, packed, out_for_delivery or delivered",
            ));
        }
    };
    let mut client = orders::merchant_order(&app, &headers, order_id).await?;
    let current = orders::payment_of(&client, order_id, false).await?.status;
    if current == to {
        return orders::respond(&client, order_id).await;
    }
    let from = match to {
        Status::Picking => Status::Confirmed,
        Status::Packed => Status::Picking,
        Status::OutForDelivery => Status::Packed,
        _ => Status::OutForDelivery,
    };
    if current != from {
        return Err(orders::wrong_state(
            current,
            &format!("moved to {}", to.as_str()),
        ));
    }
    if to == Status::Packed {
        return pack(&app, &mut client, order_id).await;
    }
    let reason = match to {
        Status::Picking => "picking started",
        Status::OutForDelivery => "out for delivery",
        _ => "delivered",
    };
    let tx = client.transaction().await?;
    if !orders::transition(&tx, order_id, from, to, reason, "merchant").await? {
        let now = orders::payment_of(&tx, order_id, false).await?.status;
        if now != to {
            return Err(orders::wrong_state(
                now,
                &format!("moved to {}", to.as_str()),
            ));
        }
    }
    tx.commit().await?;
    orders::respond(&client, order_id).await
}

/// What the picker found, line by line; lines left out were picked whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Picks {
    lines: Vec<PickLine>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickLine {
    /// The ordered SKU.
    sku: String,
    /// Units found, 0 to the quantity ordered.
    picked: i32,
    /// Stands in for the missing units; only where the shopper allowed substitutes.
    #[serde(default)]
    substitute: Option<SubstituteInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubstituteInput {
    sku: String,
    /// 1 to 1,000.
    quantity: i32,
}

/// The order's line as the picker sees it.
struct OrderedLine {
    line_no: i32,
    sku: String,
    quantity: i32,
    substitute_allowed: bool,
}

/// `PUT /v1/admin/orders/{id}/picks`: records what was picked and substituted (replacing
/// earlier picks); substitutes' units are reserved in the order's warehouse.
#[utoipa::path(
    put,
    path = "/v1/admin/orders/{id}/picks",
    tag = "merchant",
    params(("id" = Uuid, Path, description = "The order, being picked")),
    security(("merchant" = [])),
    request_body = Picks,
    responses(
        (status = 200, description = "The order with its picks", body = OrderView),
        (status = 409, description = "The order is not being picked, or a substitute is out of stock", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn put_picks(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<OrderView>, ApiError> {
    let order_id = orders::parse_id(&id)?;
    let picks: Picks = crate::json_body(&body)?;
    let mut client = orders::merchant_order(&app, &headers, order_id).await?;
    let tx = client.transaction().await?;
    let order = tx
        .query_one_cached(
            "SELECT o.status, o.storefront, o.currency,
                    coalesce((SELECT s.warehouse FROM delivery_slots s WHERE s.id = o.slot_id),
                             (SELECT r.warehouse FROM reservations r WHERE r.order_id = o.id
                              ORDER BY r.id LIMIT 1))
             FROM orders o WHERE o.id = $1 FOR UPDATE",
            &[&order_id],
        )
        .await?;
    let status = Status::parse(order.get(0)).ok_or_else(|| anyhow::anyhow!("unknown status"))?;
    if status != Status::Picking {
        return Err(orders::wrong_state(status, "picked"));
    }
    let (storefront, currency): (String, String) = (order.get(1), order.get(2));
    let warehouse: Option<String> = order.get(3);
    let lines: Vec<OrderedLine> = tx
        .query_cached(
            "SELECT line_no, sku, quantity, substitute_allowed FROM order_lines
             WHERE order_id = $1 ORDER BY line_no",
            &[&order_id],
        )
        .await?
        .iter()
        .map(|r| OrderedLine {
            line_no: r.get(0),
            sku: r.get(1),
            quantity: r.get(2),
            substitute_allowed: r.get(3),
        })
        .collect();
    // Check everything before writing anything.
    let mut picked: BTreeMap<i32, i32> = BTreeMap::new();
    let mut substitutes: Vec<(i32, String, i32, i64)> = Vec::new();
    for (i, pick) in picks.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let Some(line) = lines.iter().find(|l| l.sku == pick.sku) else {
            return Err(ApiError::unprocessable(
                "unknown_line",
                "the order has no line with this SKU",
            )
            .with("field", field("sku"))
            .with("sku", pick.sku.as_str()));
        };
        if picked.insert(line.line_no, pick.picked).is_some() {
            return Err(ApiError::field(&field("sku"), "each line once"));
        }
        if !(0..=line.quantity).contains(&pick.picked) {
            return Err(ApiError::field(
                &field("picked"),
                format!("0 to the {} ordered", line.quantity),
            ));
        }
        let Some(sub) = &pick.substitute else {
            continue;
        };
        if !line.substitute_allowed {
            return Err(ApiError::unprocessable(
                "substitute_not_allowed",
                "the shopper asked for no substitute on this line",
            )
            .with("field", field("substitute")));
        }
        if pick.picked == line.quantity {
            return Err(ApiError::field(
                &field("substitute"),
                "a substitute stands in for missing units; this line was picked whole",
            ));
        }
        if !(1..=1_000).contains(&sub.quantity) {
            return Err(ApiError::field(&field("substitute.quantity"), "1 to 1,000"));
        }
        if lines.iter().any(|l| l.sku == sub.sku)
            || substitutes.iter().any(|(_, sku, _, _)| *sku == sub.sku)
        {
            return Err(ApiError::field(
                &field("substitute.sku"),
                "already in the order; pick more of that line instead",
            ));
        }
        let row = tx
            .query_opt_cached(
                "SELECT p.active, pp.amount_minor FROM products p
                 LEFT JOIN product_prices pp ON pp.sku = p.sku AND pp.currency = $3
                 WHERE p.sku = $1 AND p.storefront = $2",
                &[&sub.sku, &storefront, &currency],
            )
            .await?;
        let price = match row {
            Some(r) if r.get::<_, bool>(0) => r.get::<_, Option<i64>>(1).ok_or_else(|| {
                ApiError::unprocessable(
                    "sku_not_sold_in_currency",
                    format!("the substitute is not sold in {currency}"),
                )
                .with("field", field("substitute.sku"))
            })?,
            _ => {
                return Err(ApiError::unprocessable(
                    "unknown_sku",
                    "no such product in this storefront",
                )
                .with("field", field("substitute.sku"))
                .with("sku", sub.sku.as_str()));
            }
        };
        substitutes.push((line.line_no, sub.sku.clone(), sub.quantity, price));
    }
    // The previous picks' substitutes give their units back; the new ones are reserved.
    let ordered: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    inventory::release_except(&tx, order_id, &ordered, "substitute replaced").await?;
    if !substitutes.is_empty() {
        let warehouse = warehouse.ok_or_else(|| anyhow::anyhow!("order without a warehouse"))?;
        let wanted: Vec<(String, i32)> = substitutes
            .iter()
            .map(|(_, sku, q, _)| (sku.clone(), *q))
            .collect();
        // Held until the order is packed or cancelled.
        let until_packed = 60 * 60 * 24 * 365;
        if let Err(short) =
            inventory::reserve(&tx, order_id, &wanted, &[warehouse], until_packed).await?
        {
            return Err(ApiError::user(
                StatusCode::CONFLICT,
                "substitute_out_of_stock",
                "the warehouse has not enough of a substitute",
            )
            .with("sku", short.first().map_or("", |s| s.sku.as_str())));
        }
    }
    tx.execute_cached(
        "DELETE FROM order_substitutions WHERE order_id = $1",
        &[&order_id],
    )
    .await?;
    for line in &lines {
        let p = picked.get(&line.line_no).copied().unwrap_or(line.quantity);
        tx.execute_cached(
            "UPDATE order_lines SET picked = $3 WHERE order_id = $1 AND line_no = $2",
            &[&order_id, &line.line_no, &p],
        )
        .await?;
    }
    for (line_no, sku, quantity, price) in &substitutes {
        tx.execute_cached(
            "INSERT INTO order_substitutions (order_id, line_no, sku, quantity, unit_price_minor)
             VALUES ($1, $2, $3, $4, $5)",
            &[&order_id, line_no, sku, quantity, price],
        )
        .await?;
    }
    tx.commit().await?;
    orders::respond(&client, order_id).await
}

/// One line of the order as picked, for pricing: the ordered SKU's picked units, or a
/// substitute's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickedLine {
    pub sku: String,
    pub quantity: i32,
    pub base_price_minor: i64,
    pub substitute_for: Option<String>,
}

/// The picked order from the ordered lines (`(sku, quantity ordered, unit price, picked)`,
/// `picked` `None` meaning whole) and the substitutes (`(ordered sku, sku, quantity, unit
/// price)`): lines with nothing picked are left out; substitutes follow the line they stand
/// in for.
pub fn picked_order(
    lines: &[(String, i32, i64, Option<i32>)],
    substitutes: &[(String, String, i32, i64)],
) -> Vec<PickedLine> {
    let mut out = Vec::new();
    for (sku, quantity, price, picked) in lines {
        let picked = picked.unwrap_or(*quantity);
        if picked > 0 {
            out.push(PickedLine {
                sku: sku.clone(),
                quantity: picked,
                base_price_minor: *price,
                substitute_for: None,
            });
        }
        for (for_sku, sub, q, p) in substitutes.iter().filter(|s| s.0 == *sku) {
            out.push(PickedLine {
                sku: sub.clone(),
                quantity: *q,
                base_price_minor: *p,
                substitute_for: Some(for_sku.clone()),
            });
        }
    }
    out
}

/// Prices the picked order as the checkout priced the order: the same region rules, the
/// order's promo codes as they stood when it was placed. A code the picked order no longer
/// qualifies for (a minimum spend no longer met) is left out.
pub fn price_picked(
    region: &region_config::Region,
    country: CountryCode,
    picked: &[(PickedLine, Slug)],
    mut codes: Vec<String>,
    promotions: &[pricing_rules::Promotion],
    placed_at: i64,
) -> Result<Quote, ApiError> {
    let inputs: Vec<LineInput> = picked
        .iter()
        .map(|(l, tax)| LineInput {
            sku: l.sku.clone(),
            quantity: l.quantity,
            base_price_minor: l.base_price_minor,
            tax_category: tax.clone(),
        })
        .collect();
    loop {
        match pricing::quote_with(region, country, &inputs, &codes, promotions, placed_at) {
            Ok(q) => return Ok(q),
            Err(e) => {
                use pricing_rules::PricingError as E;
                let failed = match &e {
                    E::UnknownPromoCode { code }
                    | E::PromoExpired { code }
                    | E::MinimumSpendNotMet { code, .. }
                    | E::PromoNotApplicable { code, .. }
                    | E::PromotionsDoNotStack { code } => code.clone(),
                    _ => {
                        return Err(ApiError::Internal(anyhow::anyhow!(
                            "pricing the picked order: {e}"
                        )));
                    }
                };
                codes.retain(|c| *c != failed);
            }
        }
    }
}

/// Picking → packed: prices the picked order, captures its total, sells the picked units.
async fn pack(
    app: &AppState,
    client: &mut deadpool_postgres::Object,
    order_id: Uuid,
) -> Result<Json<OrderView>, ApiError> {
    let tx = client.transaction().await?;
    let order = tx
        .query_one_cached(
            "SELECT o.status, o.storefront, o.promo_codes, extract(epoch FROM o.created_at)::bigint,
                    s.country, o.delivery_fee_minor, coalesce(o.authorized_minor, o.total_minor),
                    o.payment_provider, o.payment_id, o.idempotency_key
             FROM orders o JOIN order_shoppers s ON s.order_id = o.id
             WHERE o.id = $1 FOR UPDATE OF o",
            &[&order_id],
        )
        .await?;
    let status = Status::parse(order.get(0)).ok_or_else(|| anyhow::anyhow!("unknown status"))?;
    if status != Status::Picking {
        return Err(orders::wrong_state(status, "packed"));
    }
    let storefront: String = order.get(1);
    let codes: Vec<String> = order.get(2);
    let placed_at: i64 = order.get(3);
    let country: CountryCode = order
        .get::<_, &str>(4)
        .parse()
        .map_err(|_| anyhow::anyhow!("stored country"))?;
    let (fee, authorized): (i64, i64) = (order.get(5), order.get(6));
    let (provider, payment_id, key): (Option<String>, Option<String>, String) =
        (order.get(7), order.get(8), order.get(9));
    let rows = tx
        .query_cached(
            "SELECT l.sku, l.quantity, l.unit_price_minor, l.picked, p.tax_category
             FROM order_lines l JOIN products p ON p.sku = l.sku
             WHERE l.order_id = $1 ORDER BY l.line_no",
            &[&order_id],
        )
        .await?;
    let mut tax: BTreeMap<String, String> = BTreeMap::new();
    let lines: Vec<(String, i32, i64, Option<i32>)> = rows
        .iter()
        .map(|r| {
            tax.insert(r.get(0), r.get(4));
            (r.get(0), r.get(1), r.get(2), r.get(3))
        })
        .collect();
    let subs = tx
        .query_cached(
            "SELECT l.sku, s.sku, s.quantity, s.unit_price_minor, p.tax_category
             FROM order_substitutions s
             JOIN order_lines l ON l.order_id = s.order_id AND l.line_no = s.line_no
             JOIN products p ON p.sku = s.sku
             WHERE s.order_id = $1",
            &[&order_id],
        )
        .await?;
    let substitutes: Vec<(String, String, i32, i64)> = subs
        .iter()
        .map(|r| {
            tax.insert(r.get(1), r.get(4));
            (r.get(0), r.get(1), r.get(2), r.get(3))
        })
        .collect();
    let picked = picked_order(&lines, &substitutes);
    if picked.is_empty() {
        return Err(ApiError::user(
            StatusCode::CONFLICT,
            "nothing_picked",
            "nothing was picked; cancel the order instead",
        ));
    }
    let with_tax: Vec<(PickedLine, Slug)> = picked
        .iter()
        .map(|l| {
            let slug: Slug = tax
                .get(&l.sku)
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("stored tax category"))?;
            Ok((l.clone(), slug))
        })
        .collect::<Result<_, anyhow::Error>>()?;
    let promotions = crate::promotions::for_storefront(&tx, &storefront).await?;
    let quote = price_picked(
        &app.region,
        country,
        &with_tax,
        codes,
        &promotions,
        placed_at,
    )?;
    let total = quote.total_minor + fee;
    if total > authorized {
        return Err(ApiError::user(
            StatusCode::CONFLICT,
            "exceeds_authorisation",
            "the picked order costs more than the payment authorised; substitute less",
        )
        .with("total_minor", total)
        .with("authorized_minor", authorized));
    }
    tx.execute_cached(
        "DELETE FROM order_packed_lines WHERE order_id = $1",
        &[&order_id],
    )
    .await?;
    for (n, priced) in quote.lines.iter().enumerate() {
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        let substitute_for = picked
            .iter()
            .find(|l| l.sku == priced.sku)
            .and_then(|l| l.substitute_for.clone());
        let rate = i32::try_from(priced.tax_rate_bp).unwrap_or(i32::MAX);
        tx.execute_cached(
            "INSERT INTO order_packed_lines (order_id, n, sku, quantity, unit_price_minor,
                                             line_total_minor, tax_minor, tax_rate_bp, substitute_for)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &order_id,
                &n,
                &priced.sku,
                &priced.quantity,
                &priced.unit_price_minor,
                &priced.line_total_minor,
                &priced.tax_minor,
                &rate,
                &substitute_for,
            ],
        )
        .await?;
    }
    tx.execute_cached(
        "UPDATE orders SET packed_minor = $2 WHERE id = $1",
        &[&order_id, &total],
    )
    .await?;
    // The shopper hears of missing lines and substitutes before the money is taken.
    let changed =
        lines.iter().any(|(_, q, _, p)| p.is_some_and(|p| p < *q)) || !substitutes.is_empty();
    if changed {
        tx.execute_cached(
            "INSERT INTO outgoing_mail (id, storefront, kind, order_id)
             SELECT gen_random_uuid(), $2, 'order_changed', $1
             WHERE NOT EXISTS (SELECT 1 FROM outgoing_mail
                               WHERE order_id = $1 AND kind = 'order_changed')",
            &[&order_id, &storefront],
        )
        .await?;
    }
    tx.commit().await?;

    let (Some(provider), Some(payment_id)) = (provider, payment_id) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a picked order without a payment"
        )));
    };
    app.payments
        .settle(
            &provider,
            &payment_id,
            "capture",
            &derived_key("capture", &key),
            Some(total),
        )
        .await
        .map_err(|e| ApiError::PaymentUnavailable(e.to_string()))?;

    let tx = client.transaction().await?;
    if orders::transition(
        &tx,
        order_id,
        Status::Picking,
        Status::Packed,
        "packed; picked total captured",
        "merchant",
    )
    .await?
    {
        tx.execute_cached(
            "UPDATE orders SET subtotal_minor = $2, tax_minor = $3, discount_minor = $4,
                               total_minor = $5, captured_minor = $5
             WHERE id = $1",
            &[
                &order_id,
                &quote.subtotal_minor,
                &quote.tax_minor,
                &quote.discount_minor,
                &total,
            ],
        )
        .await?;
        let sold: BTreeMap<String, i32> =
            picked.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
        inventory::sell_picked(&tx, order_id, &sold).await?;
    }
    tx.commit().await?;
    orders::respond(&*client, order_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_rounded_up_in_minor_units() {
        assert_eq!(margin(1_000, 1_000), 100);
        assert_eq!(margin(999, 1_000), 100);
        assert_eq!(margin(1, 1), 1);
        assert_eq!(margin(0, 1_000), 0);
        assert_eq!(margin(4_280, 0), 0);
        // Three-decimal currencies are minor units too: 4.280 KWD, 15% = 0.642 KWD.
        assert_eq!(margin(4_280, 1_500), 642);
    }

    #[test]
    fn the_picked_order_keeps_what_was_found_and_adds_substitutes_after_their_line() {
        let lines = vec![
            ("APPLE".to_owned(), 3, 100, None),
            ("BREAD".to_owned(), 2, 250, Some(1)),
            ("MILK".to_owned(), 1, 120, Some(0)),
        ];
        let subs = vec![("MILK".to_owned(), "OATMILK".to_owned(), 2, 180)];
        let picked = picked_order(&lines, &subs);
        let shown: Vec<(&str, i32, Option<&str>)> = picked
            .iter()
            .map(|l| (l.sku.as_str(), l.quantity, l.substitute_for.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("APPLE", 3, None),
                ("BREAD", 1, None),
                ("OATMILK", 2, Some("MILK"))
            ]
        );
        assert!(picked_order(&[("X".to_owned(), 1, 5, Some(0))], &[]).is_empty());
    }

    #[test]
    fn a_picked_order_in_a_three_decimal_currency_is_priced_and_captured_in_fils() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/e2e/six-regions.toml");
        let regions = region_config::RegionConfig::from_path(std::path::Path::new(path)).unwrap();
        let gulf = regions
            .regions()
            .iter()
            .find(|r| r.currency.as_str() == "KWD")
            .unwrap();
        let country = gulf.countries[0];
        let food: Slug = "food".parse().unwrap();
        // 3 × 1.250 KWD dates ordered, 2 found; 1 × 0.999 KWD milk missing, 1 × 1.105 KWD
        // oat milk instead.
        let lines = vec![
            ("DATES".to_owned(), 3, 1_250, Some(2)),
            ("MILK".to_owned(), 1, 999, Some(0)),
        ];
        let subs = vec![("MILK".to_owned(), "OATMILK".to_owned(), 1, 1_105)];
        let picked: Vec<(PickedLine, Slug)> = picked_order(&lines, &subs)
            .into_iter()
            .map(|l| (l, food.clone()))
            .collect();
        let quote = price_picked(gulf, country, &picked, Vec::new(), &[], 0).unwrap();
        assert_eq!(quote.currency, "KWD");
        assert_eq!(quote.subtotal_minor, 2 * 1_250 + 1_105);
        let line_sum: i64 = quote.lines.iter().map(|l| l.line_total_minor).sum();
        assert_eq!(line_sum, 3_605);
        // Ordered 4.749 KWD; authorised with a 10% margin on the goods: 5.224 KWD.
        let ordered = 3 * 1_250 + 999;
        let authorized = ordered + margin(ordered, 1_000);
        assert_eq!(authorized, 5_224);
        assert!(quote.total_minor <= authorized);
        assert!(quote.total_minor >= quote.subtotal_minor - quote.discount_minor);
    }
}
