//! Checkout (`GET /checkout`, `POST /checkout`): the form, its validation with the input library the regional core uses too (`shopper-input`), and the order sent to the shopper's home region core.

use leptos::prelude::*;

use crate::app::{Ctx, LAST_ORDER_COOKIE, PROMO_COOKIE, countries_of, pricing_problem};
use crate::bindings::Quote;
use crate::bindings::meridian::types::types::Cart;
use crate::components::{Csrf, PriceTag};
use crate::http::{Response, field, random_token, valid_token};
use crate::services::catalogue::{DeliverySlot, SlotState};
use crate::services::{cart, catalogue, pricing};
use crate::site::{self};

pub(crate) fn checkout_page(
    ctx: &Ctx,
    cart: Option<Cart>,
    mut form: CheckoutForm,
    status: u16,
) -> Response {
    let Some(cart) = cart.filter(|c| !c.lines.is_empty()) else {
        return ctx.page(status.max(200), "Checkout", "", || {
            crate::routes::cart::view(crate::routes::cart::CartView::default())
        });
    };
    if form.attempt.is_empty() {
        form.attempt = random_token();
    }
    if form.values.is_empty() {
        form.values = prefill(ctx);
        // A slot held before the cart is the one chosen.
        if let Some((slot, _)) = crate::routes::delivery::held(ctx) {
            form.values.push(("slot_id".to_owned(), slot));
        }
    }
    let quote = ctx.quote(&cart, ctx.promo().as_deref()).ok();
    let countries = countries_of(ctx.site.region);
    let slots = delivery_slots(ctx, &form);
    let lines: Vec<(String, String)> = cart
        .lines
        .iter()
        .map(|l| {
            let title = catalogue::product(&ctx.scope, &l.sku)
                .map_or_else(|_| l.sku.clone(), |p| p.summary.title);
            (l.sku.clone(), format!("{} × {title}", l.quantity))
        })
        .collect();
    ctx.page(status, "Checkout", "", move || {
        view(form, quote, countries, slots, lines)
    })
}

/// The coming delivery slots for the form's country and postal code, from the edge's
/// projection; empty when the storefront publishes none (or the code is not yet valid).
fn delivery_slots(ctx: &Ctx, form: &CheckoutForm) -> Vec<DeliverySlot> {
    let country = form.value("country");
    let postal = form.value("postal_code");
    let postal = Some(postal.trim()).filter(|p| !p.is_empty());
    catalogue::delivery_slots(&ctx.scope, &country, postal)
        .or_else(|_| catalogue::delivery_slots(&ctx.scope, &country, None))
        .unwrap_or_default()
}

/// A new checkout form's values: a signed-in shopper's name, e-mail and default address,
/// read from their home core (nothing is kept here), else the shopper's country.
fn prefill(ctx: &Ctx) -> Vec<(String, String)> {
    let country = vec![("country".to_owned(), ctx.site.pricing_country())];
    let (Some(session), Some(core)) = (&ctx.session, core_url(ctx)) else {
        return country;
    };
    let auth = format!("Bearer {session}");
    let get = |path: &str| -> Option<serde_json::Value> {
        let (status, body) = crate::platform::send(
            "GET",
            &format!("{core}{path}"),
            &[("authorization", &auth)],
            &[],
        )
        .ok()?;
        (status == 200)
            .then(|| serde_json::from_slice(&body).ok())
            .flatten()
    };
    let Some(account) = get("/v1/account") else {
        return country;
    };
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_owned();
    let mut values = vec![
        ("name".to_owned(), text(&account, "name")),
        ("email".to_owned(), text(&account, "email")),
    ];
    let address = get("/v1/account/addresses").and_then(|l| l["addresses"].get(0).cloned());
    match address {
        Some(a) => {
            values[0].1 = text(&a, "name");
            for k in ["phone", "line1", "line2", "city", "postal_code", "country"] {
                values.push((k.to_owned(), text(&a, k)));
            }
        }
        None => values.extend(country),
    }
    values
}

/// Checks the checkout form; the errors are keyed by field.
pub(crate) fn validate(ctx: &Ctx, values: &[(String, String)]) -> Vec<(String, String)> {
    let mut errors = validate_shopper(values);
    let country = field(values, "country").unwrap_or("");
    let in_region =
        site::country(country).is_some_and(|c| site::home_region(&c.code).id == ctx.site.region.id);
    if !in_region && !errors.iter().any(|(f, _)| f == "country") {
        errors.push((
            "country".to_owned(),
            "Choose a country this region delivers to.".to_owned(),
        ));
    }
    let token = field(values, "token").unwrap_or("").trim();
    if !(token.starts_with("tok_") && token.len() <= 64) {
        errors.push(("token".to_owned(), "Choose a payment method.".to_owned()));
    }
    errors
}

/// The shopper's details as the checkout form has them, parsed with the input library the
/// regional core uses too (`shopper-input`): each refused field with what to do about it.
pub fn validate_shopper(values: &[(String, String)]) -> Vec<(String, String)> {
    use shopper_input::address::AddressInput;
    use shopper_input::{Email, PersonName, Phone, PostalAddress};
    let value = |name: &str| field(values, name).unwrap_or("");
    let mut errors = Vec::new();
    let mut need = |name: &str, ok: bool, message: &str| {
        if !ok {
            errors.push((name.to_owned(), message.to_owned()));
        }
    };
    need(
        "name",
        PersonName::parse(value("name")).is_ok(),
        "Enter your full name.",
    );
    need(
        "email",
        Email::parse(value("email")).is_ok(),
        "Enter an email address like name@example.com.",
    );
    need(
        "phone",
        Phone::parse_optional(value("phone")).is_ok(),
        "Enter a phone number with digits, spaces, + - ( ) only.",
    );
    let address = PostalAddress::parse(AddressInput {
        line1: value("line1"),
        line2: value("line2"),
        city: value("city"),
        postal_code: value("postal_code"),
        country: value("country"),
    });
    if let Err((refused, _)) = address {
        let message = match refused {
            "line1" => "Enter your street address.",
            "line2" => "Keep the second line under 200 characters, on one line.",
            "city" => "Enter your city.",
            "postal_code" => "Enter your postal code.",
            _ => "Choose a country this region delivers to.",
        };
        need(refused, false, message);
    }
    errors
}

/// The home region's core URL (application variable `core_url_<region>`).
pub(crate) fn core_url(ctx: &Ctx) -> Option<String> {
    let name = format!("core_url_{}", ctx.site.region.id.replace('-', "_"));
    crate::services::variable(&name).map(|u| u.trim_end_matches('/').to_owned())
}

pub(crate) fn checkout(ctx: &mut Ctx, cart: Option<Cart>) -> Response {
    let values = ctx.request.form();
    if !ctx.csrf_ok(&values) {
        return ctx.error(
            403,
            "This form expired. Please go back, reload the page and try again.".into(),
        );
    }
    let attempt = field(&values, "attempt")
        .filter(|a| valid_token(a))
        .map_or_else(random_token, str::to_owned);
    let kept: Vec<(String, String)> = values
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "attempt"))
        .cloned()
        .collect();
    let Some(cart) = cart.filter(|c| !c.lines.is_empty()) else {
        // A second submit of a checkout that already went through.
        if let Some(last) = ctx.request.cookie(LAST_ORDER_COOKIE)
            && let Some((done, rest)) = last.split_once('.')
            && done == attempt
            && let Some((id, token)) = rest.split_once('.')
        {
            return ctx.finish(Response::redirect(&format!("/orders/{id}?token={token}")));
        }
        return ctx.page(409, "Checkout", "", || {
            crate::routes::cart::view(crate::routes::cart::CartView::default())
        });
    };
    // "Show delivery slots" re-renders the form with the slots for the address typed.
    if field(&values, "intent") == Some("slots") {
        return checkout_page(ctx, Some(cart), form_of(kept, attempt), 200);
    }
    let errors = validate(ctx, &kept);
    let form =
        |problem: Option<String>, errors: Vec<(String, String)>, attempt: String| CheckoutForm {
            values: kept
                .iter()
                .filter(|(k, _)| k != "allow_short")
                .cloned()
                .collect(),
            errors,
            problem,
            attempt,
            offer_short: false,
        };
    if !errors.is_empty() {
        return checkout_page(ctx, Some(cart), form(None, errors, attempt), 422);
    }
    let value = |name: &str| field(&kept, name).unwrap_or("").trim().to_owned();
    let country = value("country");
    let promo = ctx.promo();
    let codes: Vec<String> = promo.iter().cloned().collect();
    let quote = match pricing::quote_cart(&ctx.scope, &country, &cart.lines, &codes) {
        Ok(q) => q,
        Err(e) => {
            return checkout_page(
                ctx,
                Some(cart),
                form(Some(pricing_problem(&e)), Vec::new(), attempt),
                422,
            );
        }
    };
    let Some(core) = core_url(ctx) else {
        return ctx.error(503, "Checkout is not configured for your region.".into());
    };
    let optional = |name: &str| Some(value(name)).filter(|v| !v.is_empty());
    let body = serde_json::json!({
        "storefront": ctx.scope.storefront,
        "lines": cart.lines.iter().map(|l| serde_json::json!({"sku": l.sku, "quantity": l.quantity})).collect::<Vec<_>>(),
        "currency": quote.currency,
        "promo_codes": codes,
        "quote": {
            "signature": quote.signature,
            "issued_at": quote.issued_at,
            "expires_at": quote.expires_at,
        },
        "shopper": {
            "email": value("email"),
            "name": value("name"),
            "phone": optional("phone"),
            "country": country,
            "address": {
                "line1": value("line1"),
                "line2": optional("line2"),
                "city": value("city"),
                "postal_code": value("postal_code"),
                "country": country,
            },
        },
        "payment": {"method": "card", "token": value("token")},
    });
    let mut body = body;
    if field(&kept, "allow_short") == Some("1") {
        body["allow_short"] = serde_json::json!(true);
    }
    if let Some(slot) = optional("slot_id") {
        // The hold on this slot, when the shopper reserved it before the cart.
        let hold = crate::routes::delivery::held(ctx)
            .filter(|(held, _)| *held == slot)
            .map(|(_, token)| token);
        body["delivery"] = serde_json::json!({ "slot_id": slot, "hold_token": hold });
    }
    // The form states each line's choice (a box per line, ticked for "substitute"); a post
    // without the choices leaves them to the storefront's default.
    if field(&kept, "choices").is_some() {
        let allowed: Vec<&str> = kept
            .iter()
            .filter(|(k, _)| k == "substitute")
            .map(|(_, v)| v.as_str())
            .collect();
        if let Some(lines) = body["lines"].as_array_mut() {
            for line in lines {
                let sku = line["sku"].as_str().unwrap_or("").to_owned();
                line["substitute"] = serde_json::json!(allowed.contains(&sku.as_str()));
            }
        }
    }
    // A signed-in shopper's order joins their account.
    let auth = ctx.session.as_ref().map(|s| format!("Bearer {s}"));
    let mut headers = vec![
        ("content-type", "application/json"),
        ("idempotency-key", attempt.as_str()),
    ];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    let sent = crate::platform::send(
        "POST",
        &format!("{core}/v1/checkouts"),
        &headers,
        &serde_json::to_vec(&body).unwrap_or_default(),
    );
    let (status, answer) = match sent {
        Ok(r) => r,
        Err(_) => {
            return checkout_page(
                ctx,
                Some(cart),
                form(
                    Some("We could not reach the shop's checkout just now. Nothing was charged; please try again.".into()),
                    Vec::new(),
                    attempt,
                ),
                503,
            );
        }
    };
    let json: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
    // A refusal is `{"error": {"code", "message", "field"?}}`; a confirmation is flat.
    let error = json.get("error").unwrap_or(&json);
    let text = |k: &str| {
        json.get(k)
            .or_else(|| error.get(k))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    match status {
        200 | 201 => {
            let id = text("order_id");
            let token = text("order_access_token");
            if text("status") == "confirmed" {
                let _ = cart::clear(&ctx.scope, &cart.id);
                ctx.set(PROMO_COOKIE, "", 0);
            }
            ctx.set(LAST_ORDER_COOKIE, &format!("{attempt}.{id}.{token}"), 3600);
            // The held slot now belongs to the order.
            ctx.set(crate::routes::delivery::SLOT_COOKIE, "", 0);
            ctx.finish(Response::redirect(&format!("/orders/{id}?token={token}")))
        }
        409 if matches!(text("code").as_str(), "slot_full" | "slot_started") => checkout_page(
            ctx,
            Some(cart),
            form(
                None,
                vec![(
                    "slot_id".to_owned(),
                    "That delivery slot is no longer available. Please choose another.".to_owned(),
                )],
                random_token(),
            ),
            409,
        ),
        409 if matches!(text("code").as_str(), "price_changed" | "quote_expired") => checkout_page(
            ctx,
            Some(cart),
            form(
                Some("Prices changed since you looked. Please check the new total and place the order again.".into()),
                Vec::new(),
                random_token(),
            ),
            409,
        ),
        // Lines the warehouse (the slot's, when one is chosen) cannot fill: named, with what
        // the shopper can do, before anything is paid.
        409 if text("code") == "out_of_stock" => {
            let short: Vec<String> = error["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| {
                    format!(
                        "{} (you asked for {}, {} can be delivered)",
                        l["sku"].as_str().unwrap_or(""),
                        l["requested"].as_i64().unwrap_or(0),
                        l["available"].as_i64().unwrap_or(0)
                    )
                })
                .collect();
            // Ordering anyway is offered when every short line allows a substitute.
            let substitutable = error["lines"].as_array().is_some_and(|lines| {
                lines.iter().all(|l| l["substitute_allowed"] == true)
            });
            let problem = format!(
                "Some items cannot be delivered in the quantity asked: {}. Change them in your cart, choose another delivery slot{}. Nothing was charged.",
                short.join("; "),
                if substitutable {
                    ", or order anyway and we will substitute what is missing"
                } else {
                    ""
                }
            );
            let mut form = form(Some(problem), Vec::new(), random_token());
            form.offer_short = substitutable;
            checkout_page(ctx, Some(cart), form, 409)
        }
        _ => {
            let message = error
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("the checkout was refused");
            let field_name = error
                .get("field")
                .and_then(|f| f.as_str())
                .map(str::to_owned);
            let errors = field_name
                .and_then(|f| f.rsplit('.').next().map(str::to_owned))
                .map(|f| vec![(f, message.to_owned())])
                .unwrap_or_default();
            checkout_page(
                ctx,
                Some(cart),
                form(Some(format!("We could not place the order: {message}.")), errors, random_token()),
                if status >= 500 { 503 } else { 422 },
            )
        }
    }
}

fn form_of(values: Vec<(String, String)>, attempt: String) -> CheckoutForm {
    CheckoutForm {
        values,
        attempt,
        ..CheckoutForm::default()
    }
}

/// The checkout form's values and the errors next to them.
#[derive(Debug, Clone, Default)]
pub struct CheckoutForm {
    pub values: Vec<(String, String)>,
    pub errors: Vec<(String, String)>,
    /// A problem that is not one field's (price changed, payment declined).
    pub problem: Option<String>,
    /// The idempotency key of this checkout attempt.
    pub attempt: String,
    /// Lines are short in the warehouse and each allows a substitute: offer to order anyway.
    pub offer_short: bool,
}

impl CheckoutForm {
    pub fn value(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default().to_owned()
    }

    pub fn error(&self, name: &str) -> Option<String> {
        field(&self.errors, name).map(str::to_owned)
    }
}

pub(crate) fn text_field(
    form: &CheckoutForm,
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    required: bool,
) -> AnyView {
    let error = form.error(name);
    let error_id = format!("{name}-error");
    let invalid = if error.is_some() { "true" } else { "false" };
    let message = error.map(|e| view! { <p class="field-error" id=error_id.clone()>{e}</p> });
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input id=name name=name type=kind value=form.value(name) autocomplete=autocomplete
                required=required aria-invalid=invalid aria-describedby=error_id.clone()/>
            {message}
        </div>
    }
    .into_any()
}

/// The delivery slots, by day: a radio per slot with its times and fee; full slots are
/// shown, disabled. Nothing when the storefront has no slots for the address.
fn slot_choice(form: &CheckoutForm, slots: Vec<DeliverySlot>) -> AnyView {
    let chosen = form.value("slot_id");
    let error = form
        .error("slot_id")
        .map(|e| view! { <p class="field-error" id="slot_id-error" role="alert">{e}</p> });
    let mut days: Vec<(String, Vec<DeliverySlot>)> = Vec::new();
    for slot in slots {
        match days.last_mut() {
            Some((date, list)) if *date == slot.date => list.push(slot),
            _ => days.push((slot.date.clone(), vec![slot])),
        }
    }
    if days.is_empty() && error.is_none() {
        return ().into_any();
    }
    let days = days
        .into_iter()
        .map(|(date, slots)| {
            let options = slots
                .into_iter()
                .map(|s| {
                    let id = format!("slot-{}", s.id);
                    let full = s.state == SlotState::Full;
                    let fee = if s.fee.minor == 0 {
                        "free".to_owned()
                    } else {
                        site::format_money(s.fee.minor, &s.fee.currency)
                    };
                    let state = match s.state {
                        SlotState::Available => "",
                        SlotState::FewLeft => " · few left",
                        SlotState::Full => " · full",
                    };
                    let checked = !full && s.id == chosen;
                    let label = format!("{}–{} · {fee}{state}", s.start, s.end);
                    view! {
                        <div class="slot" data-state=format!("{:?}", s.state).to_lowercase()>
                            <input type="radio" id=id.clone() name="slot_id" value=s.id.clone()
                                checked=checked disabled=full aria-describedby="slot_id-error"/>
                            " "<label for=id>{label}</label>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <div class="slot-day">
                    <h3>{site::format_date(&date)}</h3>
                    {options}
                </div>
            }
        })
        .collect_view();
    view! {
        <fieldset class="slots">
            <legend>"Delivery slot"</legend>
            {error}
            <p class="hint">"Slots for the address above. "
                <button type="submit" name="intent" value="slots" formnovalidate=true>"Show slots for this address"</button>
                " "<a href="/delivery">"Hold a slot"</a>
            </p>
            {days}
        </fieldset>
    }
    .into_any()
}

/// Per line of the cart, whether a substitute may replace it if it is unavailable: ticked
/// unless the shopper unticked it on a form sent back to them.
fn substitute_choice(form: &CheckoutForm, lines: Vec<(String, String)>) -> AnyView {
    let sent = !form.value("choices").is_empty();
    let allowed: Vec<String> = form
        .values
        .iter()
        .filter(|(k, _)| k == "substitute")
        .map(|(_, v)| v.clone())
        .collect();
    let boxes = lines
        .into_iter()
        .map(|(sku, label)| {
            let id = format!("substitute-{sku}");
            let checked = !sent || allowed.contains(&sku);
            view! {
                <div class="substitute">
                    <input type="checkbox" id=id.clone() name="substitute" value=sku checked=checked/>
                    " "<label for=id>{label}</label>
                </div>
            }
        })
        .collect_view();
    view! {
        <fieldset class="substitutes">
            <legend>"If something is unavailable"</legend>
            <input type="hidden" name="choices" value="1"/>
            <p class="hint">"Ticked items may be replaced by a similar product; you pay for what we pick."</p>
            {boxes}
        </fieldset>
    }
    .into_any()
}

pub fn view(
    form: CheckoutForm,
    quote: Option<Quote>,
    countries: Vec<(String, String)>,
    slots: Vec<DeliverySlot>,
    lines: Vec<(String, String)>,
) -> AnyView {
    let slots = slot_choice(&form, slots);
    let substitutes = substitute_choice(&form, lines);
    let problem = form
        .problem
        .clone()
        .map(|p| view! { <p class="error" role="alert">{p}</p> });
    let total = quote.map(|q| {
        view! { <p class="total">"To pay: " <PriceTag price=Some(q.total) note=true/></p> }
    });
    let chosen = form.value("country");
    let options = countries
        .into_iter()
        .map(|(code, name)| {
            let selected = code == chosen;
            view! { <option value=code selected=selected>{name}</option> }
        })
        .collect_view();
    let country_error = form
        .error("country")
        .map(|e| view! { <p class="field-error" id="country-error">{e}</p> });
    let token_error = form
        .error("token")
        .map(|e| view! { <p class="field-error" id="token-error">{e}</p> });
    let token = form.value("token");
    let tokens = [
        ("tok_approve", "Test card: approved"),
        ("tok_decline", "Test card: declined"),
    ]
    .into_iter()
    .map(|(value, label)| {
        let checked = token == value || (token.is_empty() && value == "tok_approve");
        let id = format!("token-{value}");
        view! {
            <div><input type="radio" id=id.clone() name="token" value=value checked=checked/> <label for=id>{label}</label></div>
        }
    })
    .collect_view();
    view! {
        <h1>"Checkout"</h1>
        {problem}
        {total}
        <form class="checkout" method="post" action="/checkout" novalidate>
            <Csrf/>
            <input type="hidden" name="attempt" value=form.attempt.clone()/>
            <fieldset>
                <legend>"Contact"</legend>
                {text_field(&form, "name", "Full name", "text", "name", true)}
                {text_field(&form, "email", "Email", "email", "email", true)}
                {text_field(&form, "phone", "Phone (optional)", "tel", "tel", false)}
            </fieldset>
            <fieldset>
                <legend>"Delivery address"</legend>
                {text_field(&form, "line1", "Address", "text", "address-line1", true)}
                {text_field(&form, "line2", "Address line 2 (optional)", "text", "address-line2", false)}
                {text_field(&form, "city", "City", "text", "address-level2", true)}
                {text_field(&form, "postal_code", "Postal code", "text", "postal-code", true)}
                <div class="field">
                    <label for="country">"Country"</label>
                    <select id="country" name="country" autocomplete="country" aria-describedby="country-error">{options}</select>
                    {country_error}
                </div>
            </fieldset>
            {slots}
            {substitutes}
            <fieldset>
                <legend>"Payment (sandbox)"</legend>
                {tokens}
                {token_error}
            </fieldset>
            <button type="submit" class="place-order">"Place order"</button>
            {form.offer_short.then(|| view! {
                " "<button type="submit" name="allow_short" value="1" class="place-anyway">"Order anyway: substitute what is missing"</button>
            })}
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_checkout_form_accepts_exactly_what_the_shared_input_table_says() {
        // The regional core runs the same table against its API (`checkout::parse_shopper`).
        for row in shopper_input::table::rows() {
            let values: Vec<(String, String)> = shopper_input::table::shopper(&row)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            let errors = super::validate_shopper(&values);
            assert_eq!(errors.is_empty(), row.accepted, "{row:?}: {errors:?}");
            if !row.accepted {
                assert!(errors.iter().any(|(f, _)| f == row.field), "{row:?}");
            }
        }
    }
}
