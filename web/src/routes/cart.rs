//! The cart (`GET /cart`) and its forms (`POST /cart/{add,update,remove,promo}`).

use leptos::prelude::*;

use crate::app::{CART_COOKIE, Ctx, MONTH, PROMO_COOKIE, pricing_problem, valid_promo};
use crate::bindings::meridian::types::types::{Cart, Line};
use crate::bindings::{Quote, Recommendation};
use crate::components::{Csrf, PriceTag, RecommendationRail};
use crate::http::{Response, field};
use crate::services::cart;
use crate::services::catalogue::{self};
use crate::services::personalisation::PageContext;
use crate::site::format_money;

pub(crate) fn cart_page(
    ctx: &mut Ctx,
    cart: Option<Cart>,
    problem: Option<String>,
    status: u16,
) -> Response {
    let mut view = CartView {
        problem,
        ..CartView::default()
    };
    if let Some(cart) = cart.filter(|c| !c.lines.is_empty()) {
        for line in &cart.lines {
            if let Ok(p) = catalogue::product(&ctx.scope, &line.sku) {
                view.lines.push((p.summary, line.quantity));
            }
        }
        view.promo = ctx.promo();
        view.quote = match ctx.quote(&cart, view.promo.as_deref()) {
            Ok(q) => Some(q),
            Err(e) => {
                view.problem.get_or_insert_with(|| pricing_problem(&e));
                // A code that does not apply is dropped once the shopper has been told, so
                // checkout is not refused for it.
                if view.promo.take().is_some() {
                    ctx.set(PROMO_COOKIE, "", 0);
                }
                ctx.quote(&cart, None).ok()
            }
        };
        view.also = ctx.recommend(PageContext::Cart, Some(&cart), 6);
    }
    ctx.page(status, "Your cart", "", move || self::view(view))
}

/// Words for a cart problem.
pub(crate) fn cart_problem(e: &cart::CartError) -> String {
    use cart::CartError as E;
    match e {
        E::UnknownSku(s) => format!("We do not sell {s} here."),
        E::BadQuantity(q) => format!("{q} is not a quantity we can sell (1 to 1,000 per product)."),
        E::TooManyLines => "A cart holds at most 100 different products.".into(),
        E::NotInCart(s) => format!("{s} is not in your cart."),
        E::Conflict => "Your cart changed at the same time; please try again.".into(),
        other => format!("Your cart is unavailable right now ({other:?})."),
    }
}

/// `POST /cart/add` from a card's script: the same checks and the same cart as the form,
/// answered as JSON (`{"cart_units", "sku", "quantity"}`, or the error shape
/// `{"error": {"code", "message"}}` with a 4xx) so the page stays where it is.
fn add_json(ctx: &mut Ctx, form: &[(String, String)], cart: Option<Cart>) -> Response {
    let refuse = |ctx: &Ctx, status: u16, code: &str, message: &str| {
        ctx.finish(Response::json(
            status,
            &serde_json::json!({ "error": { "code": code, "message": message } }),
        ))
    };
    if !ctx.csrf_ok(form) {
        return refuse(
            ctx,
            403,
            "csrf",
            "This page expired. Please reload it and try again.",
        );
    }
    let sku = field(form, "sku").unwrap_or("").to_owned();
    let Some(quantity) = field(form, "quantity").and_then(|q| q.trim().parse::<u32>().ok()) else {
        return refuse(
            ctx,
            422,
            "invalid_quantity",
            "The quantity must be a whole number from 1 to 1,000.",
        );
    };
    let id = match &cart {
        Some(c) => c.id.clone(),
        None => match cart::create(&ctx.scope) {
            Ok(c) => {
                ctx.set(CART_COOKIE, &c.id, MONTH);
                ctx.cart_id = Some(c.id.clone());
                c.id
            }
            Err(e) => return refuse(ctx, 503, "cart_unavailable", &cart_problem(&e)),
        },
    };
    match cart::add(
        &ctx.scope,
        &id,
        &Line {
            sku: sku.clone(),
            quantity,
        },
    ) {
        Ok(cart) => {
            let units: u32 = cart.lines.iter().map(|l| l.quantity).sum();
            ctx.finish(Response::json(
                200,
                &serde_json::json!({ "cart_units": units, "sku": sku, "quantity": quantity }),
            ))
        }
        Err(e) => refuse(ctx, 422, "not_added", &cart_problem(&e)),
    }
}

pub(crate) fn cart_action(ctx: &mut Ctx, action: &str, cart: Option<Cart>) -> Response {
    let form = ctx.request.form();
    // A card's script adds without leaving the page: it asks for JSON.
    let json = action == "add"
        && ctx
            .request
            .header("accept")
            .is_some_and(|a| a.contains("application/json"));
    if json {
        return add_json(ctx, &form, cart);
    }
    if !ctx.csrf_ok(&form) {
        return ctx.error(
            403,
            "This form expired. Please go back, reload the page and try again.".into(),
        );
    }
    if action == "promo" {
        let code = field(&form, "code")
            .unwrap_or("")
            .trim()
            .to_ascii_uppercase();
        if code.is_empty() {
            ctx.set(PROMO_COOKIE, "", 0);
        } else if valid_promo(&code) {
            ctx.set(PROMO_COOKIE, &code, MONTH);
        } else {
            return cart_page(
                ctx,
                cart,
                Some("A promo code is letters, digits and dashes.".into()),
                422,
            );
        }
        return ctx.finish(Response::redirect("/cart"));
    }
    let sku = field(&form, "sku").unwrap_or("").to_owned();
    let quantity = field(&form, "quantity").map(|q| q.trim().parse::<u32>());
    let quantity = match (action, quantity) {
        ("remove", _) => 0,
        (_, Some(Ok(q))) => q,
        _ => {
            return cart_page(
                ctx,
                cart,
                Some("The quantity must be a whole number from 1 to 1,000.".into()),
                422,
            );
        }
    };
    let id = match (&cart, action) {
        (Some(c), _) => c.id.clone(),
        (None, "add") => match cart::create(&ctx.scope) {
            Ok(c) => {
                ctx.set(CART_COOKIE, &c.id, MONTH);
                ctx.cart_id = Some(c.id.clone());
                c.id
            }
            Err(e) => return cart_page(ctx, None, Some(cart_problem(&e)), 503),
        },
        (None, _) => return ctx.finish(Response::redirect("/cart")),
    };
    let line = Line {
        sku: sku.clone(),
        quantity,
    };
    let outcome = match action {
        "add" => cart::add(&ctx.scope, &id, &line),
        "update" => cart::set_quantity(&ctx.scope, &id, &line),
        "remove" => cart::remove(&ctx.scope, &id, &sku),
        _ => return ctx.not_found("this page"),
    };
    match outcome {
        // Added from a card: back to where the shopper was, saying so.
        Ok(_) if action == "add" && back(&form).is_some() => {
            let back = back(&form).unwrap_or_default();
            let joiner = if back.contains('?') { '&' } else { '?' };
            ctx.finish(Response::redirect(&format!(
                "{back}{joiner}added={}",
                crate::http::encode(&sku)
            )))
        }
        Ok(_) => ctx.finish(Response::redirect("/cart")),
        Err(e) => {
            let current = cart::get(&ctx.scope, &id).ok();
            cart_page(ctx, current, Some(cart_problem(&e)), 422)
        }
    }
}

/// The cart page's data.
#[derive(Debug, Clone, Default)]
pub struct CartView {
    pub lines: Vec<(crate::bindings::ProductSummary, u32)>,
    pub quote: Option<Quote>,
    pub promo: Option<String>,
    /// Why the quote or promo failed, in words for the shopper.
    pub problem: Option<String>,
    pub also: Vec<Recommendation>,
}

pub fn view(view_data: CartView) -> AnyView {
    if view_data.lines.is_empty() {
        return view! {
            <h1>"Your cart"</h1>
            <p class="empty">"Your cart is empty."</p>
            <p><a href="/">"Start shopping"</a></p>
        }
        .into_any();
    }
    let quote = view_data.quote.clone();
    let line_total = |sku: &str| {
        quote
            .as_ref()
            .and_then(|q| q.lines.iter().find(|l| l.sku == sku))
            .map(|l| l.line_total.clone())
    };
    let rows = view_data
        .lines
        .iter()
        .map(|(p, quantity)| {
            let id = format!("qty-{}", p.sku);
            let total = line_total(&p.sku);
            view! {
                <tr>
                    <th scope="row"><a href=format!("/p/{}", p.sku)>{p.title.clone()}</a></th>
                    <td><PriceTag price=p.price.clone()/></td>
                    <td>
                        <form method="post" action="/cart/update">
                            <Csrf/>
                            <input type="hidden" name="sku" value=p.sku.clone()/>
                            <label for=id.clone() class="visually-hidden">{format!("Quantity of {}", p.title)}</label>
                            <input id=id name="quantity" type="number" min="1" max="1000" value=quantity.to_string() required/>
                            <button type="submit">"Update"</button>
                        </form>
                    </td>
                    <td><PriceTag price=total/></td>
                    <td>
                        <form method="post" action="/cart/remove">
                            <Csrf/>
                            <input type="hidden" name="sku" value=p.sku.clone()/>
                            <button type="submit" aria-label=format!("Remove {}", p.title)>"Remove"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let summary = view_data.quote.map(|q| {
        let discount = (q.discount.minor != 0).then(|| {
            view! { <tr><th scope="row">{format!("Discount ({})", q.promotions.join(", "))}</th><td>{format!("−{}", format_money(q.discount.minor, &q.discount.currency))}</td></tr> }
        });
        let tax_label = if q.prices_include_tax { "Tax included" } else { "Tax" };
        view! {
            <table class="summary">
                <caption>"Summary"</caption>
                <tbody>
                    <tr><th scope="row">"Subtotal"</th><td>{format_money(q.subtotal.minor, &q.subtotal.currency)}</td></tr>
                    {discount}
                    <tr><th scope="row">{tax_label}</th><td>{format_money(q.tax.minor, &q.tax.currency)}</td></tr>
                    <tr class="total"><th scope="row">"Total"</th><td>{format_money(q.total.minor, &q.total.currency)}</td></tr>
                </tbody>
            </table>
        }
    });
    let problem = view_data
        .problem
        .map(|p| view! { <p class="error" role="alert">{p}</p> });
    let promo = view_data.promo.unwrap_or_default();
    view! {
        <h1>"Your cart"</h1>
        {problem}
        <table class="lines">
            <caption class="visually-hidden">"Items in your cart"</caption>
            <thead><tr><th scope="col">"Product"</th><th scope="col">"Price"</th><th scope="col">"Quantity"</th><th scope="col">"Total"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <form class="promo" method="post" action="/cart/promo">
            <Csrf/>
            <label for="promo">"Promo code"</label>
            <input id="promo" name="code" value=promo autocomplete="off"/>
            <button type="submit">"Apply"</button>
        </form>
        {summary}
        <p><a class="button" href="/checkout">"Go to checkout"</a>" "<a href="/delivery">"Delivery slots"</a></p>
        <RecommendationRail title="You may also need" id="also" items=view_data.also/>
    }
    .into_any()
}

/// Where a card's form asks to go back to: a path of this storefront (never another site),
/// without an earlier confirmation.
fn back(form: &[(String, String)]) -> Option<String> {
    let back = field(form, "back")?;
    let local = back.starts_with('/') && !back.starts_with("//") && !back.contains('\\');
    if !local || back.len() > 512 || back.bytes().any(|b| b.is_ascii_control()) {
        return None;
    }
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let query: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("added="))
        .collect();
    Some(if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    })
}

#[cfg(test)]
mod back_tests {
    #[test]
    fn a_card_brings_the_shopper_back_only_within_the_storefront() {
        let form = |b: &str| vec![("back".to_owned(), b.to_owned())];
        assert_eq!(
            super::back(&form("/c/bakery?page=2")).as_deref(),
            Some("/c/bakery?page=2")
        );
        assert_eq!(
            super::back(&form("/search?q=milk&added=X")).as_deref(),
            Some("/search?q=milk")
        );
        assert_eq!(super::back(&form("//evil.example/")), None);
        assert_eq!(super::back(&form("https://evil.example/")), None);
        assert_eq!(super::back(&form("/\\evil")), None);
        assert_eq!(super::back(&[]), None);
    }
}
