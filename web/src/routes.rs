//! One module per route, each holding its handler (`app::handle` dispatches to it) and its
//! page as a Leptos view, as Leptos' own examples lay out `routes/`. Every page works without
//! JavaScript: links and plain forms.
//!
//! | route | module |
//! |---|---|
//! | `GET /` | [`home`] |
//! | `GET /c/{slug}` | [`aisle`] |
//! | `GET /search` | [`search`] |
//! | `GET /p/{sku}` | [`product`] |
//! | `GET /images/aisle/{aisle}.svg`, `GET /images/logo/{name}.svg`, `GET /assets/add.js` | [`images`] |
//! | `GET /cart`, `POST /cart/{action}` | [`cart`] |
//! | `GET /checkout`, `POST /checkout` | [`checkout`] |
//! | `GET /delivery`, `POST /delivery` (hold a slot before the cart) | [`delivery`] |
//! | `GET /orders/{id}` | [`order`] |
//! | `/account/...` (sign-up, sign-in, account, orders, addresses, privacy) | [`account`] |
//! | `GET /region`, `POST /region` | [`region`] |
//! | anything else, and errors | [`errors`] |

use leptos::prelude::*;

pub mod account;
pub mod aisle;
pub mod cart;
pub mod checkout;
pub mod delivery;
pub mod errors;
pub mod home;
pub mod images;
pub mod order;
pub mod product;
pub mod region;
pub mod search;

/// A link in a list (pages, sort orders, facets), marked `aria-current` when it is the
/// one shown.
pub(crate) fn list_link(href: String, label: String, current: Option<&'static str>) -> AnyView {
    view! { <li><a href=href aria-current=current>{label}</a></li> }.into_any()
}

/// Links to pages `1..=pages` of `base` (which already holds its other query fields).
pub(crate) fn pagination(base: &str, page: u32, pages: u32) -> AnyView {
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
