//! What every page of one request knows: the storefront (theme and overrides), the
//! shopper's region as the edge node resolved it, and the session's CSRF token and cart
//! size. Provided to the theming components as Leptos context.

use std::sync::Arc;

use region_config::{Region, RegionConfig};

use crate::theme::Tokens;

/// The compliance-owned region configuration, compiled in from `region-config/`.
pub fn regions() -> &'static RegionConfig {
    static REGIONS: std::sync::OnceLock<RegionConfig> = std::sync::OnceLock::new();
    REGIONS.get_or_init(|| {
        RegionConfig::parse(include_str!("../../region-config/regions.toml"))
            .expect("region-config/regions.toml is validated by its own tests")
    })
}

/// How a region shows tax next to prices: "incl. VAT", "plus sales tax", "incl. GST".
pub fn tax_note(region: &Region) -> String {
    let label = region.tax.kind.label();
    if region.tax.prices_include_tax() {
        format!("incl. {label}")
    } else {
        format!("plus {label}")
    }
}

/// Formats minor units in `currency` for people (`2.14 EUR`); unknown codes show raw.
pub fn format_money(minor: i64, currency: &str) -> String {
    match currency.parse::<region_config::Currency>() {
        Ok(c) => c.format_minor(minor),
        Err(_) => format!("{minor} {currency} (minor units)"),
    }
}

/// A storefront's component overrides: each replaces one theming component. `None` keeps
/// the shipped one. See web/README.md for the contract.
#[derive(Clone, Copy, Default)]
pub struct Overrides {
    pub product_card: Option<fn(&crate::components::CardData) -> leptos::prelude::AnyView>,
    pub header: Option<fn(&crate::components::HeaderData) -> leptos::prelude::AnyView>,
    pub footer: Option<fn(&crate::components::FooterData) -> leptos::prelude::AnyView>,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("product_card", &self.product_card.is_some())
            .field("header", &self.header.is_some())
            .field("footer", &self.footer.is_some())
            .finish()
    }
}

/// A storefront: its theme tokens and overrides.
#[derive(Debug, Clone)]
pub struct Storefront {
    pub tokens: Arc<Tokens>,
    pub overrides: Overrides,
}

/// One request's page context.
#[derive(Debug, Clone)]
pub struct Site {
    pub storefront: Storefront,
    /// The shopper's home region (from the edge node's `x-meridian-region`).
    pub region: &'static Region,
    /// The shopper's country, when known (CDN header or their choice).
    pub country: Option<region_config::CountryCode>,
    /// The session's CSRF token, put in every form that changes state.
    pub csrf: String,
    /// Units in the cart, for the header.
    pub cart_units: u32,
}

impl Site {
    pub fn tax_note(&self) -> String {
        tax_note(self.region)
    }

    /// The country prices and tax are computed for: the shopper's, else the region's first.
    pub fn pricing_country(&self) -> String {
        self.country
            .or_else(|| self.region.countries.first().copied())
            .map_or_else(String::new, |c| c.as_str().to_owned())
    }
}

/// The page context of the request being rendered.
pub fn use_site() -> Site {
    leptos::prelude::use_context::<Site>().expect("pages render inside ThemeProvider")
}
