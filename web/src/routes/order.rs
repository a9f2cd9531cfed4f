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
    let view = from_json(id, &json);
    ctx.page(200, "Your order", "", move || self::view(view))
}

/// An order from the core's JSON (`OrderView`).
pub(crate) fn from_json(id: &str, json: &serde_json::Value) -> OrderView {
    let currency = json["currency"].as_str().unwrap_or("").to_owned();
    OrderView {
        id: id.to_owned(),
        status: json["status"].as_str().unwrap_or("unknown").to_owned(),
        total: site::format_money(json["total_minor"].as_i64().unwrap_or(0), &currency),
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

/// An order as the home region's core reports it.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub id: String,
    pub status: String,
    pub total: String,
    pub lines: Vec<(String, u32)>,
}

pub fn view(order: OrderView) -> AnyView {
    let status = match order.status.as_str() {
        "confirmed" => "Confirmed: we are preparing your order.".to_owned(),
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
        <p>{format!("Total: {}", order.total)}</p>
    }
    .into_any()
}
