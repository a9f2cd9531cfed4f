//! Reserving a delivery slot before filling the cart (`GET /delivery`, `POST /delivery`), as
//! grocers let shoppers do: the slots for the shopper's country and postal code, from the
//! edge's slot projection; choosing one holds it at the home region's core for the
//! merchant's hold time. The hold is a cookie (`meridian_slot`: the slot's id and the
//! hold's token, nothing personal); checkout preselects the slot and keeps the hold.

use leptos::prelude::*;

use crate::app::Ctx;
use crate::components::Csrf;
use crate::http::{Response, field};
use crate::services::catalogue::{self, DeliverySlot, SlotState};
use crate::site;

/// The held slot: `SLOT_ID.TOKEN`.
pub const SLOT_COOKIE: &str = "meridian_slot";

/// The slot the shopper holds, and the hold's token, from the cookie.
pub(crate) fn held(ctx: &Ctx) -> Option<(String, String)> {
    let value = ctx.request.cookie(SLOT_COOKIE)?;
    let (slot, token) = value.split_once('.')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (ok(slot) && ok(token)).then(|| (slot.to_owned(), token.to_owned()))
}

pub(crate) fn delivery_page(ctx: &Ctx, problem: Option<String>, status: u16) -> Response {
    let postal = ctx.request.query_field("postal_code").unwrap_or_default();
    let country = ctx.site.pricing_country();
    let slots = slots_for(ctx, &country, &postal);
    let held = held(ctx).map(|(slot, _)| slot);
    let just_held = ctx.request.query_field("held").is_some();
    ctx.page(status, "Delivery slots", "", move || {
        view(slots, postal, held, just_held, problem)
    })
}

fn slots_for(ctx: &Ctx, country: &str, postal: &str) -> Vec<DeliverySlot> {
    let postal = Some(postal.trim()).filter(|p| !p.is_empty());
    catalogue::delivery_slots(&ctx.scope, country, postal).unwrap_or_default()
}

/// `POST /delivery`: holds the chosen slot at the home region's core, replacing the hold the
/// shopper had.
pub(crate) fn hold(ctx: &mut Ctx) -> Response {
    let values = ctx.request.form();
    if !ctx.csrf_ok(&values) {
        return ctx.error(
            403,
            "This form expired. Please go back, reload the page and try again.".into(),
        );
    }
    let slot = field(&values, "slot_id").unwrap_or("").to_owned();
    let postal = field(&values, "postal_code")
        .unwrap_or("")
        .trim()
        .to_owned();
    let Some(core) = crate::routes::checkout::core_url(ctx) else {
        return ctx.error(
            503,
            "Delivery slots are not configured for your region.".into(),
        );
    };
    let body = serde_json::json!({
        "storefront": ctx.scope.storefront,
        "slot_id": slot,
        "country": ctx.site.pricing_country(),
        "postal_code": Some(postal.clone()).filter(|p| !p.is_empty()),
        "replaces": held(ctx).map(|(_, token)| token),
    });
    let sent = crate::platform::send(
        "POST",
        &format!("{core}/v1/slot-holds"),
        &[("content-type", "application/json")],
        &serde_json::to_vec(&body).unwrap_or_default(),
    );
    let Ok((status, answer)) = sent else {
        return delivery_page(
            ctx,
            Some("We could not reach the shop just now; please try again.".into()),
            503,
        );
    };
    let json: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
    if status == 201 {
        let token = json["hold_token"].as_str().unwrap_or("");
        ctx.set(SLOT_COOKIE, &format!("{slot}.{token}"), 24 * 3600);
        let query = if postal.is_empty() {
            "?held=1".to_owned()
        } else {
            format!("?held=1&postal_code={}", crate::http::encode(&postal))
        };
        return ctx.finish(Response::redirect(&format!("/delivery{query}")));
    }
    let problem = match json["error"]["code"].as_str() {
        Some("slot_full") => "That slot just filled up. Please choose another.".to_owned(),
        Some("slot_started") => "That slot has started. Please choose a later one.".to_owned(),
        _ => format!(
            "We could not hold that slot: {}.",
            json["error"]["message"]
                .as_str()
                .unwrap_or("it was refused")
        ),
    };
    delivery_page(ctx, Some(problem), if status >= 500 { 503 } else { 409 })
}

fn view(
    slots: Vec<DeliverySlot>,
    postal: String,
    held: Option<String>,
    just_held: bool,
    problem: Option<String>,
) -> AnyView {
    let problem = problem.map(|p| view! { <p class="error" role="alert">{p}</p> });
    let notice = (just_held && held.is_some()).then(|| {
        view! { <p class="notice" role="status">"Your slot is held. Fill your cart; checkout keeps it for you."</p> }
    });
    let rows = slots
        .into_iter()
        .map(|s| {
            let fee = if s.fee.minor == 0 {
                "free".to_owned()
            } else {
                site::format_money(s.fee.minor, &s.fee.currency)
            };
            let label = format!(
                "{}, {}–{} · {fee}",
                site::format_date(&s.date),
                s.start,
                s.end
            );
            let is_held = held.as_deref() == Some(s.id.as_str());
            let action = match (is_held, s.state) {
                (true, _) => view! { <strong class="held">"Held for you"</strong> }.into_any(),
                (false, SlotState::Full) => view! { <span class="full">"Full"</span> }.into_any(),
                (false, state) => {
                    let few = (state == SlotState::FewLeft).then_some(" (few left)");
                    view! {
                        <form method="post" action="/delivery" class="inline">
                            <Csrf/>
                            <input type="hidden" name="slot_id" value=s.id.clone()/>
                            <input type="hidden" name="postal_code" value=postal.clone()/>
                            <button type="submit">"Hold this slot"</button>{few}
                        </form>
                    }
                    .into_any()
                }
            };
            view! { <li class="slot" data-slot=s.id.clone()><span>{label}</span>" "{action}</li> }
        })
        .collect_view();
    view! {
        <h1>"Delivery slots"</h1>
        {problem}
        {notice}
        <form method="get" action="/delivery" class="inline">
            <label for="postal_code">"Postal code"</label>
            " "<input id="postal_code" name="postal_code" value=postal.clone() autocomplete="postal-code"/>
            " "<button type="submit">"Show slots"</button>
        </form>
        <ul class="slots">{rows}</ul>
    }
    .into_any()
}
