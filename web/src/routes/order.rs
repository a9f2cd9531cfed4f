//! An order's status page (`GET /orders/{id}?token=`), read from the home region core.

use leptos::prelude::*;

use crate::app::Ctx;
use crate::http::Response;
use crate::site::{self};

pub(crate) fn order(ctx: &Ctx, id: &str) -> Response {
    let token = ctx.request.query_field("token").unwrap_or_default();
    let id_ok = id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !id_ok || token.is_empty() || token.len() > 128 {
        return ctx.not_found("this order");
    }
    let Some(core) = crate::routes::checkout::core_url(ctx) else {
        return ctx.error(
            503,
            "Order status is not configured for your region.".into(),
        );
    };
    let auth = format!("Bearer {token}");
    let answer = crate::platform::send(
        "GET",
        &format!("{core}/v1/orders/{id}"),
        &[("authorization", &auth)],
        &[],
    );
    let (status, body) = match answer {
        Ok(r) => r,
        Err(_) => return ctx.error(503, "We could not reach the shop's orders just now.".into()),
    };
    if status == 410 {
        return ctx.page(410, "Your order", "", || {
            view! {
                <h1>"Your order"</h1>
                <p class="status" data-status="erased">"This order's details were erased, at the shopper's request or because the time we keep them has passed."</p>
            }
            .into_any()
        });
    }
    if status != 200 {
        return ctx.not_found("this order");
    }
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    // Another storefront's order, even with its token, is not this storefront's to show.
    if json["storefront"].as_str() != Some(ctx.scope.storefront.as_str()) {
        return ctx.not_found("this order");
    }
    let view = from_json(id, &json);
    ctx.page(200, "Your order", "", move || self::view(view))
}

/// An order from the core's JSON (`OrderView`).
pub(crate) fn from_json(id: &str, json: &serde_json::Value) -> OrderView {
    let currency = json["currency"].as_str().unwrap_or("").to_owned();
    let slot = &json["slot"];
    OrderView {
        id: id.to_owned(),
        status: json["status"].as_str().unwrap_or("unknown").to_owned(),
        total: site::format_money(json["total_minor"].as_i64().unwrap_or(0), &currency),
        delivery: slot["date"].as_str().map(|date| {
            let fee = json["delivery_fee_minor"].as_i64().unwrap_or(0);
            format!(
                "Delivery: {}, {}–{} ({})",
                site::format_date(date),
                slot["start"].as_str().unwrap_or(""),
                slot["end"].as_str().unwrap_or(""),
                if fee == 0 {
                    "free".to_owned()
                } else {
                    site::format_money(fee, &currency)
                }
            )
        }),
        changes: changes(json),
        lines: json["lines"]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| {
                        (
                            l["sku"].as_str().unwrap_or("").to_owned(),
                            u32::try_from(l["quantity"].as_i64().unwrap_or(0)).unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// What picking changed, one sentence per line: units not found, substitutes.
fn changes(json: &serde_json::Value) -> Vec<String> {
    let Some(lines) = json["picking"].as_array() else {
        return Vec::new();
    };
    lines
        .iter()
        .filter_map(|l| {
            let sku = l["sku"].as_str().unwrap_or("");
            let ordered = l["quantity"].as_i64().unwrap_or(0);
            let picked = l["picked"].as_i64()?;
            let substitute = l["substitute"]["sku"].as_str().map(|s| {
                format!(
                    "{} × {s}",
                    l["substitute"]["quantity"].as_i64().unwrap_or(0)
                )
            });
            match (picked < ordered, substitute) {
                (_, Some(sub)) if picked == 0 => {
                    Some(format!("{sku}: not available; {sub} instead"))
                }
                (_, Some(sub)) => Some(format!(
                    "{sku}: {picked} of {ordered} found; {sub} for the rest"
                )),
                (true, None) if picked == 0 => Some(format!("{sku}: not available, not charged")),
                (true, None) => Some(format!(
                    "{sku}: {picked} of {ordered} found; the rest not charged"
                )),
                (false, None) => None,
            }
        })
        .collect()
}

/// An order as the home region's core reports it.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub id: String,
    pub status: String,
    pub total: String,
    /// The delivery slot and its fee, as the shopper reads them.
    pub delivery: Option<String>,
    /// What picking changed (missing units, substitutes).
    pub changes: Vec<String>,
    pub lines: Vec<(String, u32)>,
}

pub fn view(order: OrderView) -> AnyView {
    let status = match order.status.as_str() {
        "confirmed" => "Confirmed: we are preparing your order.".to_owned(),
        "picking" => "We are picking your order.".to_owned(),
        "packed" => format!(
            "Packed: you were charged {} for what we picked.",
            order.total
        ),
        "out_for_delivery" => "Out for delivery: on its way to you.".to_owned(),
        "delivered" => "Delivered.".to_owned(),
        "cancelled" => "Cancelled: nothing was charged.".to_owned(),
        "payment_declined" => "Your payment was declined; nothing was charged.".to_owned(),
        "pending_payment" => "Waiting for the payment to be confirmed.".to_owned(),
        other => format!("Status: {other}"),
    };
    let lines = order
        .lines
        .into_iter()
        .map(|(sku, quantity)| view! { <li>{format!("{quantity} × {sku}")}</li> })
        .collect_view();
    view! {
        <h1>"Your order"</h1>
        <p class="order-id">{format!("Order {}", order.id)}</p>
        <p class="status" data-status=order.status.clone()>{status}</p>
        <ul>{lines}</ul>
        {order.delivery.map(|d| view! { <p class="delivery">{d}</p> })}
        {(!order.changes.is_empty()).then(|| {
            let items = order.changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view();
            view! { <h2>"Changes from picking"</h2><ul class="changes">{items}</ul> }
        })}
        <p>{format!("Total: {}", order.total)}</p>
    }
    .into_any()
}
