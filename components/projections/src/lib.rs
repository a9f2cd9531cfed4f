//! The edge projections: what the regional core's relay writes into the edge key-value store
//! and the edge components read. One plain library (no wasm, no I/O) used on both sides, so
//! writer and readers agree on every key and byte. `docs/projections.md` is the prose
//! version of this crate.
//!
//! How a storefront's catalogue gets to the edge:
//!
//! 1. The core's relay loads a region's products of one storefront and calls
//!    [`build::storefront`], which returns every derived key and value: the category list,
//!    one index per category (SKUs in each sort order) and the search index (one postings
//!    list per term, best first).
//! 2. It writes those beside the per-product and per-SKU stock keys it already writes.
//! 3. An edge component reads a key, decodes it with [`decode`], which refuses values whose
//!    format version it does not know, and answers from it: a listing reads one category
//!    index and then the page's products; a search reads one postings list per query term
//!    in one batch, ranks with [`search::rank`] (sums of precomputed BM25 impacts), then
//!    reads the page's products.
//!
//! # Layout
//!
//! - `keys`: every key, in one place.
//! - `model`: the value types and their format version.
//! - `delivery`: delivery zones and slots, and the zone rule checkout shares.
//! - `theme`: storefronts as data: themes, product images, hosts, the site projection.
//! - `text`: normalisation of text into search terms (case, accents, simple plurals).
//! - `search`: building postings and ranking them with BM25.
//! - `build`: every derived projection of one storefront from its products.
//! - `kv`: the key-value operations components need, and an in-memory store for tests.
//! - `fixtures` (feature `fixtures`): a product and pricing rules for tests.

pub mod build;
pub mod delivery;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod keys;
pub mod kv;
pub mod model;
pub mod search;
pub mod text;
pub mod theme;

pub use model::{
    Categories, Category, CategoryIndex, DocsView, FORMAT_VERSION, Pair, PostingsView,
    PricingRules, Product, ProjectionError, Recommendations, SearchDocs, StockHint, TaxTable,
    TermPostings, decode, encode, sku_count, sku_list,
};

/// Checks a SKU: 1 to 64 characters from `A-Z a-z 0-9 - _ .`, starting with a letter or
/// digit: the shared input library's rule (`shopper-input`), which the regional core uses
/// too. Every component checks SKUs with this before they reach a key.
pub fn valid_sku(sku: &str) -> bool {
    shopper_input::Sku::is_valid(sku)
}

/// Checks a slug (region, storefront, category): 1 to 64 characters from `a-z 0-9 -`.
pub fn valid_slug(slug: &str) -> bool {
    (1..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_and_slugs_that_could_escape_a_key_are_refused() {
        assert!(valid_sku("LOAF-1"));
        assert!(!valid_sku("LOAF/1"));
        assert!(!valid_sku(""));
        assert!(!valid_sku(".LOAF"));
        assert!(!valid_sku(&"A".repeat(65)));
        assert!(valid_slug("eu-west"));
        assert!(!valid_slug("EU-west"));
        assert!(!valid_slug("a/b"));
    }
}
