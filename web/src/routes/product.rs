//! A product page (`GET /p/{sku}`) with its price, stock and recommendations.

use leptos::prelude::*;

use crate::app::{Ctx, MONTH, VIEWED_COOKIE};
use crate::bindings::meridian::types::types::{Cart, Line};
use crate::bindings::{ProductDetail, Quote, Recommendation};
use crate::components::{Csrf, PriceTag, RecommendationRail, StockBadge};
use crate::http::Response;
use crate::services::catalogue::{self};
use crate::services::personalisation::PageContext;
use crate::site::format_money;

pub(crate) fn product(ctx: &mut Ctx, sku: &str, cart: Option<&Cart>) -> Response {
    let detail = match catalogue::product(&ctx.scope, sku) {
        Ok(d) => d,
        Err(
            catalogue::CatalogueError::UnknownSku(_) | catalogue::CatalogueError::BadRequest(_),
        ) => {
            return ctx.not_found("this product");
        }
        Err(e) => return ctx.error(503, format!("The catalogue is unavailable ({e:?}).")),
    };
    // The price as the shopper would pay it for one unit, with the region's tax rules.
    let one = Cart {
        id: String::new(),
        version: 0,
        lines: vec![Line {
            sku: sku.to_owned(),
            quantity: 1,
        }],
        expires_at: 0,
    };
    let quote = ctx.quote(&one, None).ok();
    let together = ctx.recommend(PageContext::Product(sku.to_owned()), cart, 6);
    // Remember the last ten products viewed (SKUs only) for recommendations.
    let mut viewed: Vec<String> = vec![sku.to_owned()];
    viewed.extend(
        ctx.request
            .cookie(VIEWED_COOKIE)
            .unwrap_or("")
            .split('.')
            .filter(|s| !s.is_empty() && *s != sku && s.len() <= 64)
            .take(9)
            .map(str::to_owned),
    );
    if viewed.iter().all(|s| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        ctx.set(VIEWED_COOKIE, &viewed.join("."), MONTH);
    }
    let title = detail.summary.title.clone();
    ctx.page(200, &title, "", move || view(detail, quote, together))
}

pub fn view(detail: ProductDetail, quote: Option<Quote>, together: Vec<Recommendation>) -> AnyView {
    let p = detail.summary.clone();
    let sku = p.sku.clone();
    let sellable =
        p.price.is_some() && !matches!(detail.stock, crate::bindings::StockHint::OutOfStock);
    let shown = quote
        .as_ref()
        .map(|q| {
            let total = q.total.clone();
            let tax = format!(
                "{} {}",
                format_money(q.tax.minor, &q.tax.currency),
                if q.prices_include_tax {
                    "tax included"
                } else {
                    "tax added at checkout"
                }
            );
            view! {
                <p class="quote">
                    <PriceTag price=Some(total) note=true/>
                    <br/>
                    <small>{tax}</small>
                </p>
            }
            .into_any()
        })
        .unwrap_or_else(|| {
            view! { <p class="quote"><PriceTag price=p.price.clone() note=true/></p> }.into_any()
        });
    let form = if sellable {
        view! {
            <form class="add" method="post" action="/cart/add">
                <Csrf/>
                <input type="hidden" name="sku" value=sku.clone()/>
                <label for="quantity">"Quantity"</label>
                <input id="quantity" name="quantity" type="number" min="1" max="1000" value="1" required/>
                <button type="submit">"Add to cart"</button>
            </form>
        }
        .into_any()
    } else {
        view! { <p class="unavailable">"You cannot buy this right now."</p> }.into_any()
    };
    let tags = detail.tags.join(", ");
    view! {
        <article class="product" aria-labelledby="product-title">
            {crate::components::product_image(p.image.clone(), "(max-width: 40rem) 100vw, 24rem", false)}
            <div>
                <h1 id="product-title">{p.title.clone()}</h1>
                <p class="card-unit">{p.unit.clone()}</p>
                {shown}
                <StockBadge stock=detail.stock/>
                <p>{detail.description.clone()}</p>
                <p class="tags">{tags}</p>
                {form}
            </div>
        </article>
        <RecommendationRail title="Goes well with" id="together" items=together/>
    }
    .into_any()
}
