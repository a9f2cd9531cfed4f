//! The storefronts this build serves, chosen by the request's `Host`: each a theme file and
//! its component overrides. A merchant adds a storefront here; the pages never change.

use std::sync::{Arc, OnceLock};

use leptos::prelude::*;

use crate::components::{CardData, PriceTag};
use crate::site::{Overrides, Storefront};

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
            {p.price.is_some().then(|| crate::components::card_add(&p.sku))}
        </article>
    }
    .into_any()
}

// The theme files, parsed and checked by `build.rs`: no request parses them.
include!(concat!(env!("OUT_DIR"), "/themes.rs"));

/// Every storefront, the default (served for unknown hosts) first.
pub fn storefronts() -> &'static [Storefront] {
    static ALL: OnceLock<Vec<Storefront>> = OnceLock::new();
    ALL.get_or_init(|| {
        vec![
            Storefront {
                tokens: Arc::new(theme_grocer()),
                overrides: Overrides::default(),
            },
            Storefront {
                tokens: Arc::new(theme_corner()),
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
    fn compiled_themes_are_the_theme_files() {
        use crate::theme::Tokens;
        let parse = |text| Tokens::parse(text).expect("shipped theme");
        assert_eq!(theme_grocer(), parse(include_str!("../themes/grocer.toml")));
        assert_eq!(theme_corner(), parse(include_str!("../themes/corner.toml")));
    }

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
