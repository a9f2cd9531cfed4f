//! What each overridable theming component is given (its props). The page context
//! ([`crate::site`]) names these types for a storefront's overrides, so they live apart from
//! the components, which read that context: neither module imports the other in a loop.

use crate::bindings::ProductSummary;

/// What a product card shows.
#[derive(Debug, Clone)]
pub struct CardData {
    pub product: ProductSummary,
    /// Query terms to highlight in the title (search results).
    pub highlight: Vec<String>,
}

/// What the header shows.
#[derive(Debug, Clone)]
pub struct HeaderData {
    pub query: String,
}

/// What the footer shows.
#[derive(Debug, Clone, Default)]
pub struct FooterData {}
