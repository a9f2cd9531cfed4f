//! The storefronts this build serves, chosen by the request's `Host`: each a theme file and
//! its component overrides. A merchant adds a storefront here; the pages never change.

use std::sync::{Arc, OnceLock};

use leptos::prelude::*;

use crate::components::{CardData, PriceTag};
use crate::site::{Overrides, Storefront};
use crate::theme::Tokens;

/// The Corner Shop's product card: compact, price first, built
/// from the shipped `PriceTag` and the product's own data (an override example for
/// web/README.md).
pub fn corner_product_card(props: &CardData) -> AnyView {
    let p = props.product.clone();
    let href = format!("/p/{}", p.sku);
    view! {
        <article class="card corner-card">
            <p class="corner-price"><PriceTag price=p.price.clone()/></p>
            <h3 class="card-title"><a href=href>{p.title.clone()}</a></h3>
            <p class="card-unit">{p.unit.clone()}</p>
        </article>
    }
    .into_any()
}

/// Every storefront, the default (served for unknown hosts) first.
pub fn storefronts() -> &'static [Storefront] {
    static ALL: OnceLock<Vec<Storefront>> = OnceLock::new();
    ALL.get_or_init(|| {
        let theme = |text: &str| {
            Arc::new(Tokens::parse(text).expect("shipped themes are checked by the theme tests"))
        };
        vec![
            Storefront {
                tokens: theme(include_str!("../themes/grocer.toml")),
                overrides: Overrides::default(),
            },
            Storefront {
                tokens: theme(include_str!("../themes/corner.toml")),
                overrides: Overrides {
                    product_card: Some(corner_product_card),
                    ..Overrides::default()
                },
            },
        ]
    })
}

/// The storefront for a `Host` header (port ignored); the first one when none lists it.
pub fn for_host(host: Option<&str>) -> &'static Storefront {
    let all = storefronts();
    let name = host
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
        .unwrap_or("")
        .to_ascii_lowercase();
    all.iter()
        .find(|s| s.tokens.hosts.contains(&name))
        .unwrap_or(&all[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_choose_storefronts_and_unknown_hosts_get_the_first() {
        assert_eq!(
            for_host(Some("corner.localhost:3000")).tokens.namespace,
            "corner"
        );
        assert_eq!(for_host(Some("localhost:3000")).tokens.namespace, "grocer");
        assert_eq!(
            for_host(Some("elsewhere.example")).tokens.namespace,
            "grocer"
        );
        assert_eq!(for_host(None).tokens.namespace, "grocer");
        assert!(
            for_host(Some("corner.localhost"))
                .overrides
                .product_card
                .is_some()
        );
    }
}
