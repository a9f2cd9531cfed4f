//! The theming components: what every page is built from, and what a merchant composes or
//! overrides (`site::Overrides`). Their props are the stable API documented in
//! web/README.md; they read the theme's tokens as CSS custom properties and the request's
//! [`Site`] from context.

use leptos::prelude::*;

use crate::bindings::{
    Image, Money, ProductSummary, Recommendation, RecommendationReason, StockHint,
};
use crate::site::{Site, format_money, use_site};

pub mod props;
pub use props::{CardData, FooterData, HeaderData};

/// Provides the request's [`Site`] (theme, region, session) to everything inside it.
#[component]
pub fn ThemeProvider(site: Site, children: Children) -> impl IntoView {
    provide_context(site);
    children()
}

/// A price in the shopper's currency, with the region's tax note when `note` is set
/// ("incl. VAT", "plus sales tax"). `None` means not for sale in the region.
#[component]
pub fn PriceTag(price: Option<Money>, #[prop(optional)] note: bool) -> impl IntoView {
    let site = use_site();
    match price {
        Some(m) => {
            let note =
                note.then(|| view! { <small class="tax-note">" " {site.tax_note()}</small> });
            view! {
                <span class="price" data-minor=m.minor.to_string() data-currency=m.currency.clone()>
                    {format_money(m.minor, &m.currency)}
                    {note}
                </span>
            }
            .into_any()
        }
        None => {
            view! { <span class="price price-none">"Not sold in your region"</span> }.into_any()
        }
    }
}

/// "In stock", "Only 3 left" or "Out of stock", from the edge's stock hint. Renders nothing
/// when no hint is published.
#[component]
pub fn StockBadge(stock: StockHint) -> impl IntoView {
    let (class, text) = match stock {
        StockHint::Unknown => return ().into_any(),
        StockHint::InStock => ("stock stock-in", "In stock".to_owned()),
        StockHint::Low(n) => ("stock stock-low", format!("Only {n} left")),
        StockHint::OutOfStock => ("stock stock-out", "Out of stock".to_owned()),
    };
    view! { <span class=class>{text}</span> }.into_any()
}

/// Splits `text` into runs, marking those that match a query term (case-insensitive, whole
/// words or word starts), for search highlighting.
pub fn highlight(text: &str, terms: &[String]) -> Vec<(String, bool)> {
    let terms: Vec<String> = terms
        .iter()
        .map(|t| t.to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let mut runs: Vec<(String, bool)> = Vec::new();
    for word in text.split_inclusive(' ') {
        let bare = word.trim_end();
        let lower = bare.to_lowercase();
        let hit = terms.iter().any(|t| {
            lower.starts_with(t.as_str())
                || t.strip_suffix('s').is_some_and(|s| lower.starts_with(s))
        });
        let push = |runs: &mut Vec<(String, bool)>, s: &str, marked: bool| match runs.last_mut() {
            Some((last, m)) if *m == marked => last.push_str(s),
            _ => runs.push((s.to_owned(), marked)),
        };
        push(&mut runs, bare, hit);
        push(&mut runs, &word[bare.len()..], false);
    }
    runs.retain(|(s, _)| !s.is_empty());
    runs
}

/// The shipped product card: image, title (linked), unit and price. A merchant override can
/// call this and wrap it, or build its own from [`PriceTag`] and [`StockBadge`].
pub fn default_product_card(props: &CardData) -> AnyView {
    let p = props.product.clone();
    let href = format!("/p/{}", p.sku);
    let title_runs = highlight(&p.title, &props.highlight)
        .into_iter()
        .map(|(text, marked)| {
            if marked {
                view! { <mark>{text}</mark> }.into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view();
    view! {
        <article class="card">
            {product_image(p.image.clone(), CARD_SIZES, true)}
            <h3 class="card-title"><a href=href>{title_runs}</a></h3>
            <p class="card-unit">{p.unit.clone()}</p>
            <PriceTag price=p.price.clone()/>
            {p.price.is_some().then(|| card_add(&p.sku))}
        </article>
    }
    .into_any()
}

/// How wide a card's picture is drawn, for the browser's choice from `srcset`.
pub const CARD_SIZES: &str = "(max-width: 40rem) 50vw, 16rem";

/// A product's picture at its own size (so the page does not move as it loads), with
/// `srcset` and `sizes` when the merchant gave other widths, lazily loaded when `lazy`;
/// a plain placeholder box only when the product has no picture.
pub fn product_image(image: Option<Image>, sizes: &'static str, lazy: bool) -> AnyView {
    let Some(image) = image else {
        return view! { <div class="picture placeholder" aria-hidden="true"></div> }.into_any();
    };
    let srcset = (!image.srcset.is_empty()).then(|| {
        image
            .srcset
            .iter()
            .map(|s| format!("{} {}w", s.url, s.width))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let sizes = srcset.as_ref().map(|_| sizes);
    view! {
        <img
            class="picture"
            src=image.url
            alt=image.alt
            width=image.width
            height=image.height
            srcset=srcset
            sizes=sizes
            loading=lazy.then_some("lazy")
            decoding="async"
        />
    }
    .into_any()
}

/// A card's add-to-cart form: a quantity and "Add", back to this page with a confirmation
/// (without JavaScript a plain post and redirect).
pub fn card_add(sku: &str) -> AnyView {
    let site = use_site();
    let id = format!("qty-{sku}");
    view! {
        <form class="card-add" method="post" action="/cart/add">
            <Csrf/>
            <input type="hidden" name="sku" value=sku.to_owned()/>
            <input type="hidden" name="back" value=site.here.clone()/>
            <label for=id.clone() class="visually-hidden">"Quantity"</label>
            <input id=id name="quantity" type="number" min="1" max="1000" value="1" required/>
            <button type="submit">"Add"</button>
        </form>
    }
    .into_any()
}

/// A product in a grid or rail; the storefront's override when it has one.
#[component]
pub fn ProductCard(
    product: ProductSummary,
    #[prop(optional)] highlight: Vec<String>,
) -> impl IntoView {
    let site = use_site();
    let props = CardData { product, highlight };
    match site.storefront.overrides.product_card {
        Some(card) => card(&props),
        None => default_product_card(&props),
    }
}

/// The storefront's hero banner, from the theme file.
#[component]
pub fn Hero() -> impl IntoView {
    let tokens = use_site().storefront.theme;
    view! {
        <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title">{tokens.hero.title.clone()}</h1>
            <p>{tokens.hero.text.clone()}</p>
            <a class="button" href=tokens.hero.cta_href.clone()>{tokens.hero.cta_label.clone()}</a>
        </section>
    }
}

/// A titled row of recommended products; renders nothing when there are none.
#[component]
pub fn RecommendationRail(
    title: &'static str,
    id: &'static str,
    items: Vec<Recommendation>,
) -> impl IntoView {
    if items.is_empty() {
        return ().into_any();
    }
    let cards = items
        .into_iter()
        .map(|r| {
            let why = match r.reason {
                RecommendationReason::BoughtTogether => "Often bought together",
                RecommendationReason::Similar => "Similar",
                RecommendationReason::Popular => "Popular near you",
            };
            view! {
                <li>
                    <ProductCard product=r.product/>
                    <p class="why">{why}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="rail" aria-labelledby=id>
            <h2 id=id>{title}</h2>
            <ul class="grid">{cards}</ul>
        </section>
    }
    .into_any()
}

/// The shipped header: logo, search, region and cart links.
pub fn default_header(props: &HeaderData) -> AnyView {
    let site = use_site();
    let tokens = site.storefront.theme.clone();
    let style = match tokens.layout.header {
        crate::theme::HeaderStyle::Bar => "site-header header-bar",
        crate::theme::HeaderStyle::Centered => "site-header header-centered",
    };
    let cart = if site.cart_units == 0 {
        "Cart".to_owned()
    } else {
        format!("Cart ({})", site.cart_units)
    };
    let region = match site.country {
        Some(c) => format!("{} · {}", c.code, site.region.id),
        None => site.region.id.to_owned(),
    };
    view! {
        <header class=style>
            <a class="logo" href="/">
                {tokens.logo_url.clone().map(|url| view! { <img class="logo-image" src=url alt="" height="32"/> " " })}
                {tokens.logo_text.clone()}
            </a>
            <form class="search" role="search" action="/search" method="get">
                <label for="q">"Search products"</label>
                <input id="q" name="q" type="search" value=props.query.clone()/>
                <button type="submit">"Search"</button>
            </form>
            <nav aria-label="Account">
                {if site.signed_in {
                    view! { <a href="/account">"Your account"</a> }.into_any()
                } else {
                    view! { <a href="/account/sign-in">"Sign in"</a> }.into_any()
                }}
                " "
                <a href="/region">{format!("Region: {region}")}</a>
                " "
                <a id="cart-link" href="/cart">{cart}</a>
            </nav>
        </header>
    }
    .into_any()
}

#[component]
pub fn Header(#[prop(optional, into)] query: String) -> impl IntoView {
    let site = use_site();
    let props = HeaderData { query };
    match site.storefront.overrides.header {
        Some(header) => header(&props),
        None => default_header(&props),
    }
}

/// The shipped footer: where the shopper's data is kept.
pub fn default_footer(_props: &FooterData) -> AnyView {
    let site = use_site();
    let pinned = if site.region.pinned.is_some() {
        format!(
            "Your details are kept only in our {} region.",
            site.region.name
        )
    } else {
        format!("You are served by our {} region.", site.region.name)
    };
    view! {
        <footer class="site-footer">
            <p>{site.storefront.theme.name.clone()} " · " {pinned} " " <a href="/region">"Why?"</a></p>
        </footer>
    }
    .into_any()
}

#[component]
pub fn Footer() -> impl IntoView {
    let site = use_site();
    let props = FooterData::default();
    match site.storefront.overrides.footer {
        Some(footer) => footer(&props),
        None => default_footer(&props),
    }
}

/// The hidden CSRF field every state-changing form carries.
#[component]
pub fn Csrf() -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=use_site().csrf/> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlighting_marks_word_starts_and_plurals() {
        let runs = highlight("Sourdough loaf, sliced", &["loaves".into(), "SOUR".into()]);
        assert_eq!(
            runs,
            vec![
                ("Sourdough".to_owned(), true),
                (" loaf, sliced".to_owned(), false)
            ]
        );
        let runs = highlight("Whole milk", &["milks".into()]);
        assert_eq!(runs[1], ("milk".to_owned(), true));
        assert_eq!(highlight("Rye", &[]), vec![("Rye".to_owned(), false)]);
    }
}
