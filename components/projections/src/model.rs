//! The values of the edge projections. Every value is a JSON object whose `v` is
//! [`FORMAT_VERSION`]; [`decode`] refuses any other version, so an old component never
//! misreads a new format, and refuses malformed bytes with the key named.

use std::collections::BTreeMap;

use pricing_rules::Promotion;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Why a stored value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectionError {
    #[error("{key} is not a valid projection: {reason}")]
    Malformed { key: String, reason: String },
    #[error("{key} has format version {found}, this reader knows {FORMAT_VERSION}")]
    UnknownVersion { key: String, found: u64 },
}

impl ProjectionError {
    /// The key of the value that could not be used.
    pub fn key(&self) -> &str {
        match self {
            Self::Malformed { key, .. } | Self::UnknownVersion { key, .. } => key,
        }
    }
}

#[derive(Deserialize)]
struct Version {
    v: Option<u64>,
}

/// Decodes the value stored at `key`, checking its format version first.
pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, ProjectionError> {
    let malformed = |e: serde_json::Error| ProjectionError::Malformed {
        key: key.to_owned(),
        reason: e.to_string(),
    };
    let version: Version = serde_json::from_slice(bytes).map_err(malformed)?;
    match version.v {
        Some(v) if v == u64::from(FORMAT_VERSION) => {
            serde_json::from_slice(bytes).map_err(malformed)
        }
        Some(found) => Err(ProjectionError::UnknownVersion {
            key: key.to_owned(),
            found,
        }),
        None => Err(ProjectionError::Malformed {
            key: key.to_owned(),
            reason: "no format version `v`".to_owned(),
        }),
    }
}

/// Encodes a value (which carries its own `v`).
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain structs (string keys, no floats that could be NaN) cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn version() -> u32 {
    FORMAT_VERSION
}

/// A product (`keys::product`), as the relay writes it from the core's products table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    #[serde(default = "version")]
    pub v: u32,
    pub sku: String,
    pub storefront: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    pub unit: String,
    pub tax_category: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// Currency (ISO 4217) to price in minor units.
    pub prices: BTreeMap<String, i64>,
    /// Confirmed orders of this product in the region recently.
    #[serde(default)]
    pub popularity: u32,
}

fn yes() -> bool {
    true
}

impl Product {
    /// The price in `currency`, if the product is sold in it.
    pub fn price(&self, currency: &str) -> Option<i64> {
        self.prices.get(currency).copied()
    }
}

/// A SKU's stock hint (`keys::stock`): units available over the region's warehouses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockHint {
    #[serde(default = "version")]
    pub v: u32,
    pub available: i64,
}

/// One category in the storefront's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub slug: String,
    pub title: String,
    pub products: u32,
}

/// The storefront's categories (`keys::categories`), by title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Categories {
    pub v: u32,
    pub categories: Vec<Category>,
}

/// One category's active products (`keys::category`) in each sort order, ties by SKU, each
/// list as SKUs separated by single spaces (SKUs hold no spaces): one string decodes in one
/// copy, where a list of strings costs an allocation per SKU. A listing page is a slice of
/// one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryIndex {
    pub v: u32,
    pub slug: String,
    pub title: String,
    pub currency: String,
    pub by_name: String,
    /// By price in `currency`, cheapest first; products without a price there are left out.
    pub by_price: String,
    /// Most popular first.
    pub by_popularity: String,
}

/// The SKUs of a space-separated list.
pub fn sku_list(list: &str) -> impl DoubleEndedIterator<Item = &str> {
    list.split(' ').filter(|s| !s.is_empty())
}

/// One term's postings (`keys::search_term`), best first: for each product containing the
/// term, its SKU (space-separated in `skus`), its *impact* (the term's BM25 contribution to
/// the product's score, times 1,000, computed when the index is built) and its category (an
/// index into `category_names`). A query's score for a product is the sum of its terms'
/// impacts: exactly BM25, with no arithmetic per posting at query time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermPostings {
    pub v: u32,
    pub skus: String,
    pub impacts: Vec<u32>,
    pub categories: Vec<u16>,
    pub category_names: Vec<String>,
}

/// Tax rates by category in basis points, with a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxTable {
    pub default_bp: u32,
    #[serde(default)]
    pub categories: BTreeMap<String, u32>,
}

impl TaxTable {
    pub fn rate(&self, category: &str) -> u32 {
        self.categories
            .get(category)
            .copied()
            .unwrap_or(self.default_bp)
    }
}

/// A region's pricing rules for a storefront (`keys::pricing_rules`), published by the
/// regional core from region-config and its promotions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingRules {
    pub v: u32,
    pub region: String,
    pub currency: String,
    pub prices_include_tax: bool,
    /// The region's rates, for countries without their own.
    pub tax: TaxTable,
    /// Countries (ISO 3166-1 alpha-2) with their own rates.
    #[serde(default)]
    pub countries: BTreeMap<String, TaxTable>,
    #[serde(default)]
    pub promotions: Vec<Promotion>,
}

impl PricingRules {
    /// The rate for `category` in `country`: the country's table if it has one, else the
    /// region's (the same precedence as region-config).
    pub fn rate(&self, country: &str, category: &str) -> u32 {
        self.countries
            .get(country)
            .unwrap_or(&self.tax)
            .rate(category)
    }
}

/// A pair of products bought together in `orders` distinct confirmed orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    pub sku: String,
    pub orders: u32,
}

/// A region's recommendation model for a storefront (`keys::recommendations`): for each SKU,
/// the SKUs bought with it in at least `min_orders` distinct orders (the core never
/// publishes rarer pairs), best first; and the region's most popular SKUs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendations {
    pub v: u32,
    pub min_orders: u32,
    pub together: BTreeMap<String, Vec<Pair>>,
    pub popular: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_of_a_newer_format_is_refused_not_misread() {
        let err = decode::<StockHint>("k", br#"{"v":2,"available":3}"#).unwrap_err();
        assert_eq!(
            err,
            ProjectionError::UnknownVersion {
                key: "k".into(),
                found: 2
            }
        );
    }

    #[test]
    fn malformed_bytes_name_the_key() {
        let err = decode::<StockHint>("meridian/v1/x", b"\xff{").unwrap_err();
        assert_eq!(err.key(), "meridian/v1/x");
        assert!(matches!(
            decode::<StockHint>("k", br#"{"available":3}"#),
            Err(ProjectionError::Malformed { .. })
        ));
    }

    #[test]
    fn the_relays_product_value_decodes() {
        let bytes = br#"{"v":1,"event":"e","sku":"LOAF-1","storefront":"grocer","title":"Loaf","description":"","category":"bakery","tags":[],"image_url":null,"unit":"800 g","tax_category":"food","active":true,"prices":{"EUR":214}}"#;
        let p: Product = decode("k", bytes).unwrap();
        assert_eq!(
            (p.price("EUR"), p.price("USD"), p.popularity),
            (Some(214), None, 0)
        );
    }

    #[test]
    fn a_country_table_wins_over_the_regions() {
        let rules = crate::fixtures::eu_west_rules();
        assert_eq!(rules.rate("DE", "food"), 700);
        assert_eq!(rules.rate("DE", "toys"), 1900);
        assert_eq!(rules.rate("FR", "food"), 900);
    }
}
