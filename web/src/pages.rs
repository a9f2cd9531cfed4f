//! The pages, as Leptos views over data the handlers (`app.rs`) fetched from the
//! components and the regional core. Every page works without JavaScript: links and plain
//! forms.

use leptos::prelude::*;

use crate::bindings::meridian::catalogue::catalogue::{Category, Listing, SearchResults};
use crate::bindings::{ProductDetail, Quote, Recommendation};
use crate::components::{
    Csrf, Footer, Header, Hero, PriceTag, ProductCard, RecommendationRail, StockBadge,
    ThemeProvider,
};
use crate::site::{Site, format_money};

/// The shipped stylesheet; colours, fonts and spacing come from the theme's custom
/// properties.
const STYLE: &str = include_str!("style.css");

/// Renders a whole HTML document for `site` with `title` around `body`.
pub fn document(site: Site, title: &str, query: &str, body: impl FnOnce() -> AnyView) -> String {
    let owner = Owner::new();
    owner.with(|| {
        // The body is built before the document around it, so the context must already be
        // there; ThemeProvider provides the same Site to what it wraps.
        provide_context(site.clone());
        let main = body();
        let css = format!("{}{}", site.storefront.tokens.css_variables(), STYLE);
        let full_title = format!("{title} · {}", site.storefront.tokens.name);
        let query = query.to_owned();
        let html = view! {
            <html lang="en">
                <head>
                    <meta charset="utf-8"/>
                    <meta name="viewport" content="width=device-width, initial-scale=1"/>
                    <title>{full_title}</title>
                    <style>{css}</style>
                </head>
                <body>
                    <ThemeProvider site=site>
                        <a class="skip" href="#main">"Skip to content"</a>
                        <Header query=query/>
                        <main id="main">{main}</main>
                        <Footer/>
                    </ThemeProvider>
                </body>
            </html>
        }
        .to_html();
        format!("<!DOCTYPE html>{html}")
    })
}

pub fn home(categories: Vec<Category>, popular: Vec<Recommendation>) -> AnyView {
    let links = categories
        .into_iter()
        .map(|c| {
            let href = format!("/c/{}", c.slug);
            view! { <li><a href=href>{c.title}</a> <small>{format!("{} products", c.products)}</small></li> }
        })
        .collect_view();
    view! {
        <Hero/>
        <section aria-labelledby="categories">
            <h2 id="categories">"Shop by aisle"</h2>
            <ul class="aisles">{links}</ul>
        </section>
        <RecommendationRail title="Popular in your region" id="popular" items=popular/>
    }
    .into_any()
}

/// A link in a list (pages, sort orders, facets), marked `aria-current` when it is the
/// one shown.
fn list_link(href: String, label: String, current: Option<&'static str>) -> AnyView {
    view! { <li><a href=href aria-current=current>{label}</a></li> }.into_any()
}

/// Links to pages `1..=pages` of `base` (which already holds its other query fields).
fn pagination(base: &str, page: u32, pages: u32) -> AnyView {
    if pages <= 1 {
        return ().into_any();
    }
    let joiner = if base.contains('?') { '&' } else { '?' };
    let links = (1..=pages)
        .map(|p| {
            let current = (p == page).then_some("page");
            list_link(format!("{base}{joiner}page={p}"), p.to_string(), current)
        })
        .collect_view();
    view! { <nav class="pages" aria-label="Pages"><ul>{links}</ul></nav> }.into_any()
}

/// An aisle: its sort orders, its tag filters (`tag` is the one applied) and a page of
/// products.
pub fn category(
    title: String,
    slug: &str,
    sort: &str,
    tag: Option<&str>,
    listing: Listing,
) -> AnyView {
    let pages = listing.total.div_ceil(listing.per_page.max(1));
    // `&tag=…` for links that keep the filter.
    let keep_tag = tag.map_or(String::new(), |t| {
        format!("&tag={}", crate::http::encode(t))
    });
    let sorts = [
        ("name", "Name"),
        ("price", "Price: low to high"),
        ("price-desc", "Price: high to low"),
        ("popularity", "Popularity"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let current = (key == sort).then_some("true");
        list_link(
            format!("/c/{slug}?sort={key}{keep_tag}"),
            label.to_owned(),
            current,
        )
    })
    .collect_view();
    let filters = (!listing.tags.is_empty()).then(|| {
        let all = list_link(
            format!("/c/{slug}?sort={sort}"),
            "All".to_owned(),
            tag.is_none().then_some("true"),
        );
        let links = listing
            .tags
            .iter()
            .map(|f| {
                let current = (Some(f.tag.as_str()) == tag).then_some("true");
                list_link(
                    format!("/c/{slug}?sort={sort}&tag={}", crate::http::encode(&f.tag)),
                    format!("{} ({})", f.tag, f.products),
                    current,
                )
            })
            .collect_view();
        view! { <nav class="facets" aria-label="Filter by"><ul>{all}{links}</ul></nav> }
    });
    let count = match tag {
        Some(t) => format!("{} products tagged “{t}”", listing.total),
        None => format!("{} products", listing.total),
    };
    let body = if listing.total == 0 {
        let all = format!("/c/{slug}?sort={sort}");
        view! {
            <p class="empty">"No product in this aisle carries that tag. "
                <a href=all>"Show the whole aisle"</a></p>
        }
        .into_any()
    } else {
        let cards = listing
            .items
            .into_iter()
            .map(|p| view! { <li><ProductCard product=p/></li> })
            .collect_view();
        view! { <ul class="grid">{cards}</ul> }.into_any()
    };
    let base = format!("/c/{slug}?sort={sort}{keep_tag}");
    view! {
        <h1>{title}</h1>
        <p class="count">{count}</p>
        <nav class="sort" aria-label="Sort by"><ul>{sorts}</ul></nav>
        {filters}
        {body}
        {pagination(&base, listing.page, pages)}
    }
    .into_any()
}

pub fn search(query: &str, category: Option<&str>, results: Option<SearchResults>) -> AnyView {
    let Some(results) = results.filter(|r| r.total > 0) else {
        let message = if query.trim().is_empty() {
            "Type what you are looking for: bread, milk, apples…".to_owned()
        } else {
            format!(
                "Nothing matches “{query}”. Check the spelling, try fewer words, or browse the aisles."
            )
        };
        return view! {
            <h1>"Search"</h1>
            <p class="empty">{message}</p>
            <p><a href="/">"Browse the aisles"</a></p>
        }
        .into_any();
    };
    let q = crate::http::encode(query);
    let facets = results
        .facets
        .iter()
        .map(|f| {
            let current = (Some(f.category.as_str()) == category).then_some("true");
            list_link(
                format!("/search?q={q}&category={}", f.category),
                format!("{} ({})", f.category, f.hits),
                current,
            )
        })
        .collect_view();
    let terms = results.terms.clone();
    let cards = results
        .hits
        .into_iter()
        .map(|hit| {
            let mut marks = terms.clone();
            marks.extend(hit.matched);
            view! { <li><ProductCard product=hit.product highlight=marks/></li> }
        })
        .collect_view();
    let pages = results.total.div_ceil(results.per_page.max(1));
    let base = match category {
        Some(c) => format!("/search?q={q}&category={c}"),
        None => format!("/search?q={q}"),
    };
    view! {
        <h1>{format!("Results for “{query}”")}</h1>
        <p class="count">{format!("{} products", results.total)}</p>
        <nav class="facets" aria-label="Filter by aisle">
            <ul>
                <li><a href=format!("/search?q={q}")>"All aisles"</a></li>
                {facets}
            </ul>
        </nav>
        <ul class="grid">{cards}</ul>
        {pagination(&base, results.page, pages)}
    }
    .into_any()
}

pub fn product(
    detail: ProductDetail,
    quote: Option<Quote>,
    together: Vec<Recommendation>,
) -> AnyView {
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
            <img src=p.image_url.clone() alt=p.title.clone() width="320" height="240"/>
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

pub fn cart(view_data: CartView) -> AnyView {
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
        <p><a class="button" href="/checkout">"Go to checkout"</a></p>
        <RecommendationRail title="You may also need" id="also" items=view_data.also/>
    }
    .into_any()
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
}

impl CheckoutForm {
    pub fn value(&self, name: &str) -> String {
        crate::http::field(&self.values, name)
            .unwrap_or_default()
            .to_owned()
    }

    pub fn error(&self, name: &str) -> Option<String> {
        crate::http::field(&self.errors, name).map(str::to_owned)
    }
}

fn text_field(
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

pub fn checkout(
    form: CheckoutForm,
    quote: Option<Quote>,
    countries: Vec<(String, String)>,
) -> AnyView {
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
            <fieldset>
                <legend>"Payment (sandbox)"</legend>
                {tokens}
                {token_error}
            </fieldset>
            <button type="submit">"Place order"</button>
        </form>
    }
    .into_any()
}

/// An order as the home region's core reports it.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub id: String,
    pub status: String,
    pub total: String,
    pub lines: Vec<(String, u32)>,
}

pub fn order(order: OrderView) -> AnyView {
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

pub fn region(site: &Site, explanation: String, countries: Vec<(String, String)>) -> AnyView {
    let chosen = site.country.map(|c| c.code.to_owned()).unwrap_or_default();
    let options = countries
        .into_iter()
        .map(|(code, name)| {
            let selected = code == chosen;
            view! { <option value=code selected=selected>{name}</option> }
        })
        .collect_view();
    let pinned = match site.region.pinned {
        Some(regulation) => format!(
            "Your personal details (name, email, address, payment and orders) are kept only in the {} region, under {regulation}. The shop's edge servers never store them.",
            site.region.name
        ),
        None => format!(
            "Your personal details are kept in the {} region. The shop's edge servers never store them.",
            site.region.name
        ),
    };
    view! {
        <h1>"Your region"</h1>
        <p>{format!("You are served by our {} region ({}); prices are in {}.", site.region.name, site.region.id, site.region.currency)}</p>
        <p>{pinned}</p>
        <pre class="explain">{explanation}</pre>
        <form method="post" action="/region">
            <Csrf/>
            <label for="country">"Your country"</label>
            <select id="country" name="country">{options}</select>
            <button type="submit">"Save"</button>
        </form>
    }
    .into_any()
}

pub fn not_found(what: &str) -> AnyView {
    let text = format!("We could not find {what}.");
    view! {
        <h1>"Page not found"</h1>
        <p>{text}</p>
        <p><a href="/">"Back to the shop"</a></p>
    }
    .into_any()
}

pub fn error(text: String) -> AnyView {
    view! {
        <h1>"Something went wrong"</h1>
        <p>{text}</p>
        <p><a href="/">"Back to the shop"</a></p>
    }
    .into_any()
}
