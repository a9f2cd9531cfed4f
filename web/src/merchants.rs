//! The storefront a request is for, chosen by its `Host`: its id and theme are data (the
//! relay's site projection, read through the catalogue per request: one key-value read and
//! one small JSON decode), its component overrides are code, here. A merchant's new
//! storefront, hosts or theme need no rebuild; a new override does.

use std::sync::Arc;

use leptos::prelude::*;

use crate::components::{CardData, PriceTag};
use crate::site::{Overrides, Storefront};
use crate::theme::{Site, default_theme};

/// The Corner Shop's product card: compact, its picture then the price, built from the
/// shipped `product_image` and `PriceTag` and the product's own data (an override example for
/// web/README.md).
pub fn corner_product_card(props: &CardData) -> AnyView {
    let p = props.product.clone();
    let href = format!("/p/{}", p.sku);
    view! {
        <article class="card corner-card">
            {crate::components::product_image(p.image.clone(), crate::components::CARD_SIZES, true)}
            <p class="corner-price"><PriceTag price=p.price.clone()/></p>
            <h3 class="card-title"><a href=href>{p.title.clone()}</a></h3>
            <p class="card-unit">{p.unit.clone()}</p>
            {p.price.is_some().then(|| crate::components::card_add(&p.sku))}
        </article>
    }
    .into_any()
}

/// The application variable naming the storefront that serves hosts no storefront lists.
pub const DEFAULT_VARIABLE: &str = "default_storefront";

/// The default storefront when the variable is unset.
const DEFAULT_STOREFRONT: &str = "grocer";

/// The component overrides of a storefront, by id: Rust, compiled in.
pub fn overrides(storefront: &str) -> Overrides {
    match storefront {
        "corner" => Overrides {
            product_card: Some(corner_product_card),
            ..Overrides::default()
        },
        _ => Overrides::default(),
    }
}

/// A `Host` header's name: port dropped, lower-cased.
pub fn host_name(host: Option<&str>) -> String {
    let host = host.unwrap_or("").trim();
    let name = match host.rsplit_once(':') {
        // Not an IPv6 literal's colon.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    name.to_ascii_lowercase()
}

/// The storefront for a `Host` header in `region`: the one listing the host, else the
/// default storefront; with its plain default theme while nothing is published (a fresh
/// edge store, or one the relay cannot reach).
pub fn resolve(region: &str, host: Option<&str>) -> Storefront {
    let fallback = crate::services::variable(DEFAULT_VARIABLE)
        .filter(|id| projections::valid_slug(id))
        .unwrap_or_else(|| DEFAULT_STOREFRONT.to_owned());
    let host = host_name(host);
    let site = match crate::services::catalogue::site(region, &host, &fallback) {
        Ok(Some(json)) => {
            match projections::decode::<Site>(
                &projections::keys::host(region, &host),
                json.as_bytes(),
            ) {
                Ok(site) => Some(site),
                Err(e) => {
                    eprintln!("storefront: {e}; serving the default theme");
                    None
                }
            }
        }
        Ok(None) => None,
        Err(e) => {
            eprintln!(
                "storefront: cannot read the site of host {host:?}: {e:?}; serving the default theme"
            );
            None
        }
    };
    match site {
        Some(site) => Storefront {
            overrides: overrides(&site.storefront),
            id: site.storefront,
            theme: Arc::new(site.theme),
        },
        None => Storefront {
            overrides: overrides(&fallback),
            theme: Arc::new(default_theme(&fallback)),
            id: fallback,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port_and_case() {
        assert_eq!(host_name(Some("Corner.Localhost:3000")), "corner.localhost");
        assert_eq!(host_name(Some("localhost")), "localhost");
        assert_eq!(host_name(None), "");
        assert!(overrides("corner").product_card.is_some());
        assert!(overrides("grocer").product_card.is_none());
    }
}
