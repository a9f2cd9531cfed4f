//! The values of the edge projections. Every value is a JSON object whose `v` is
//! [`FORMAT_VERSION`]; [`decode`] refuses any other version, so an old component never
//! misreads a new format, and refuses malformed bytes with the key named.

use std::borrow::Cow;
use std::collections::BTreeMap;

use pricing_rules::Promotion;
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

/// Decodes the value stored at `key`, checking its format version first. What `T` borrows
/// (a [`CategoryIndex`]'s lists) borrows from `bytes`.
pub fn decode<'de, T: Deserialize<'de>>(key: &str, bytes: &'de [u8]) -> Result<T, ProjectionError> {
    let malformed = |e: serde_json::Error| ProjectionError::Malformed {
        key: key.to_owned(),
        reason: e.to_string(),
    };
    // Values this crate encodes start with their version (`v` is every versioned struct's
    // first field): read it from there rather than parse the whole value twice. Any other
    // layout is parsed in full for `v`.
    let version = match leading_version(bytes) {
        Some(v) => Some(v),
        None => {
            serde_json::from_slice::<Version>(bytes)
                .map_err(malformed)?
                .v
        }
    };
    match version {
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

/// The `N` of a value that starts `{"v":N,` (as [`encode`] writes it), if it does.
fn leading_version(bytes: &[u8]) -> Option<u64> {
    let rest = bytes.strip_prefix(br#"{"v":"#)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 || !matches!(rest.get(digits), Some(b',' | b'}')) {
        return None;
    }
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
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
    /// Its picture, as the merchant gave it (checked at the merchant API).
    #[serde(default)]
    pub image: Option<crate::theme::Image>,
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
///
/// Its strings borrow the stored bytes where they can (`decode` of a `&[u8]` that outlives
/// the index): a listing reads a 50 KB index to show 24 products, and copies none of it.
/// The counts let a page be sliced without splitting a list; indexes written before them
/// decode with 0, and [`CategoryIndex::count`] counts the list instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryIndex<'a> {
    pub v: u32,
    #[serde(borrow)]
    pub slug: Cow<'a, str>,
    #[serde(borrow)]
    pub title: Cow<'a, str>,
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
    #[serde(borrow)]
    pub by_name: Cow<'a, str>,
    /// By price in `currency`, cheapest first; products without a price there are left out.
    #[serde(borrow)]
    pub by_price: Cow<'a, str>,
    /// Most popular first.
    #[serde(borrow)]
    pub by_popularity: Cow<'a, str>,
    /// How many SKUs `by_name` (and `by_popularity`) list.
    #[serde(default)]
    pub products: u32,
    /// How many SKUs `by_price` lists.
    #[serde(default)]
    pub priced: u32,
    /// The aisle's filters: tag → the SKUs carrying it (SKU order), for the tags most of
    /// its products share ([`MAX_TAG_FILTERS`] at most, most common first, each carried by
    /// at least two products and not by all). Absent in indexes written before filters.
    #[serde(default, borrow)]
    pub tags: Vec<TagFilter<'a>>,
}

impl CategoryIndex<'_> {
    /// How many SKUs `list` holds: `stored` when the index carries it, else counted.
    pub fn count(list: &str, stored: u32) -> u32 {
        if stored > 0 || list.is_empty() {
            stored
        } else {
            u32::try_from(sku_count(list)).unwrap_or(u32::MAX)
        }
    }
}

/// How many tag filters an aisle offers at most.
pub const MAX_TAG_FILTERS: usize = 12;

/// One tag of an aisle and its products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFilter<'a> {
    #[serde(borrow)]
    pub tag: Cow<'a, str>,
    /// SKUs separated by single spaces, in SKU order.
    #[serde(borrow)]
    pub skus: Cow<'a, str>,
    /// How many SKUs `skus` lists (0 in indexes written before counts: count `skus`).
    #[serde(default)]
    pub count: u32,
}

/// The SKUs of a space-separated list.
pub fn sku_list(list: &str) -> impl DoubleEndedIterator<Item = &str> {
    list.split(' ').filter(|s| !s.is_empty())
}

/// How many SKUs a space-separated list holds (as [`sku_list`] would yield, without
/// splitting it).
pub fn sku_count(list: &str) -> usize {
    let mut count = 0;
    let mut after_space = true;
    for &b in list.as_bytes() {
        let space = b == b' ';
        count += usize::from(after_space && !space);
        after_space = space;
    }
    count
}

/// The storefront's searchable products (`keys::search_docs`): the SKU of each document id
/// (ids count from 0 in SKU order). `generation` identifies this numbering; postings of
/// another generation (written by a different rebuild) are not used with it.
///
/// Stored as bytes and read in place ([`DocsView`]): a search reads it every time, and a
/// JSON string of 10,000 SKUs costs more to decode than the search itself. Layout, little
/// endian: `u8` format version, `u64` generation, `u32` documents, `u32` end offset of each
/// SKU, then the SKUs' bytes back to back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocs {
    pub generation: u64,
    pub skus: Vec<String>,
}

impl SearchDocs {
    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let text: usize = self.skus.iter().map(String::len).sum();
        let mut out = Vec::with_capacity(13 + self.skus.len() * 4 + text);
        out.push(u8::try_from(FORMAT_VERSION).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.generation.to_le_bytes());
        out.extend_from_slice(
            &u32::try_from(self.skus.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        let mut end = 0u32;
        for sku in &self.skus {
            end = end.saturating_add(u32::try_from(sku.len()).unwrap_or(u32::MAX));
            out.extend_from_slice(&end.to_le_bytes());
        }
        for sku in &self.skus {
            out.extend_from_slice(sku.as_bytes());
        }
        out
    }
}

/// A stored document table read in place.
#[derive(Debug, Clone, Copy)]
pub struct DocsView<'a> {
    pub generation: u64,
    ends: &'a [u8],
    text: &'a [u8],
}

impl<'a> DocsView<'a> {
    /// Reads the document table stored at `key`, refusing an unknown version or malformed
    /// bytes.
    pub fn parse(key: &str, bytes: &'a [u8]) -> Result<Self, ProjectionError> {
        let malformed = |reason: &str| ProjectionError::Malformed {
            key: key.to_owned(),
            reason: reason.to_owned(),
        };
        let mut rest = bytes;
        let version = take(&mut rest, 1).ok_or_else(|| malformed("empty"))?[0];
        if u32::from(version) != FORMAT_VERSION {
            return Err(ProjectionError::UnknownVersion {
                key: key.to_owned(),
                found: u64::from(version),
            });
        }
        let header = take(&mut rest, 12).ok_or_else(|| malformed("short header"))?;
        let mut generation = [0u8; 8];
        generation.copy_from_slice(&header[..8]);
        let len = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let ends =
            take(&mut rest, len.saturating_mul(4)).ok_or_else(|| malformed("short offsets"))?;
        let view = Self {
            generation: u64::from_le_bytes(generation),
            ends,
            text: rest,
        };
        let last = if len == 0 { 0 } else { view.end(len - 1) };
        // Each SKU's UTF-8 is checked when it is read (`sku`): a search reads a page of them,
        // and checking all 10,000 every time would cost more than the ranking.
        if last != rest.len() {
            return Err(malformed("SKU bytes do not match their offsets"));
        }
        Ok(view)
    }

    fn end(&self, id: usize) -> usize {
        let b = &self.ends[id * 4..id * 4 + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.ends.len() / 4
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The SKU of document `id`.
    pub fn sku(&self, id: u32) -> Option<&'a str> {
        let id = id as usize;
        if id >= self.len() {
            return None;
        }
        let start = if id == 0 { 0 } else { self.end(id - 1) };
        let end = self.end(id);
        self.text
            .get(start..end)
            .and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// One term's postings (`keys::search_term`): for each product containing the term, its
/// document id, its *impact* (the term's BM25 contribution to the product's score, times
/// 1,000, computed when the index is built) and its category (an index into
/// `category_names`). A query's score for a product is the sum of its terms' impacts:
/// exactly BM25, with no arithmetic per posting at query time.
///
/// Stored as bytes, not JSON: a common term has thousands of postings, and [`PostingsView`]
/// reads them in place. Layout, little endian: `u8` format version, `u64` generation, `u32`
/// postings, `u16` category names, each name as `u16` length and UTF-8 bytes, then the ids
/// (`u32`), the impacts (`u32`) and the categories (`u16`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermPostings {
    pub generation: u64,
    pub docs: Vec<u32>,
    pub impacts: Vec<u32>,
    pub categories: Vec<u16>,
    pub category_names: Vec<String>,
}

impl TermPostings {
    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(15 + self.docs.len() * 10);
        out.push(u8::try_from(FORMAT_VERSION).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.generation.to_le_bytes());
        out.extend_from_slice(
            &u32::try_from(self.docs.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        let names = u16::try_from(self.category_names.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&names.to_le_bytes());
        for name in self.category_names.iter().take(usize::from(names)) {
            let bytes = &name.as_bytes()[..name.len().min(usize::from(u16::MAX))];
            out.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        for doc in &self.docs {
            out.extend_from_slice(&doc.to_le_bytes());
        }
        for impact in &self.impacts {
            out.extend_from_slice(&impact.to_le_bytes());
        }
        for category in &self.categories {
            out.extend_from_slice(&category.to_le_bytes());
        }
        out
    }
}

/// Stored postings read in place: nothing is copied or allocated per posting.
#[derive(Debug, Clone, Copy)]
pub struct PostingsView<'a> {
    pub generation: u64,
    len: usize,
    names: &'a [u8],
    docs: &'a [u8],
    impacts: &'a [u8],
    categories: &'a [u8],
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if bytes.len() < n {
        return None;
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Some(head)
}

impl<'a> PostingsView<'a> {
    /// Reads the postings stored at `key`, refusing an unknown version or malformed bytes.
    pub fn parse(key: &str, bytes: &'a [u8]) -> Result<Self, ProjectionError> {
        let malformed = |reason: &str| ProjectionError::Malformed {
            key: key.to_owned(),
            reason: reason.to_owned(),
        };
        let mut rest = bytes;
        let version = take(&mut rest, 1).ok_or_else(|| malformed("empty"))?[0];
        if u32::from(version) != FORMAT_VERSION {
            return Err(ProjectionError::UnknownVersion {
                key: key.to_owned(),
                found: u64::from(version),
            });
        }
        let header = take(&mut rest, 14).ok_or_else(|| malformed("short header"))?;
        let mut generation = [0u8; 8];
        generation.copy_from_slice(&header[..8]);
        let len = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let name_count = u16::from_le_bytes([header[12], header[13]]);
        let names_start = rest;
        for _ in 0..name_count {
            let n = take(&mut rest, 2).ok_or_else(|| malformed("short category name"))?;
            let n = usize::from(u16::from_le_bytes([n[0], n[1]]));
            take(&mut rest, n).ok_or_else(|| malformed("short category name"))?;
        }
        let names = &names_start[..names_start.len() - rest.len()];
        let short = || malformed("short postings");
        let docs = take(&mut rest, len.saturating_mul(4)).ok_or_else(short)?;
        let impacts = take(&mut rest, len.saturating_mul(4)).ok_or_else(short)?;
        let categories = take(&mut rest, len.saturating_mul(2)).ok_or_else(short)?;
        if !rest.is_empty() {
            return Err(malformed("trailing bytes"));
        }
        Ok(Self {
            generation: u64::from_le_bytes(generation),
            len,
            names,
            docs,
            impacts,
            categories,
        })
    }

    /// Number of postings.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The category names.
    pub fn category_names(&self) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut rest = self.names;
        while rest.len() >= 2 {
            let n = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
            let end = (2 + n).min(rest.len());
            out.push(std::str::from_utf8(&rest[2..end]).unwrap_or(""));
            rest = &rest[end..];
        }
        out
    }

    /// The document ids.
    pub fn docs(&self) -> impl Iterator<Item = u32> + 'a {
        self.docs
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The impacts, in document order.
    pub fn impacts(&self) -> impl Iterator<Item = u32> + 'a {
        self.impacts
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The category indexes, in document order.
    pub fn categories(&self) -> impl Iterator<Item = u16> + 'a {
        self.categories
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
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

/// A region's recommendation model for a storefront (`keys::recommendations`): the region's
/// most popular SKUs, and the least number of distinct orders a pair is published with.
///
/// The pairs themselves are one key per SKU ([`Together`], `keys::together`), so a page reads
/// the pairs of its anchors only, not a map over the whole catalogue. `together` is the
/// model's first layout, which held them all: the core writes it empty, so components that
/// still read it decode it cheaply, and readers fall back to it for a SKU with no key of its
/// own (a core that still writes the first layout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recommendations {
    pub v: u32,
    pub min_orders: u32,
    #[serde(default)]
    pub together: BTreeMap<String, Vec<Pair>>,
    pub popular: Vec<String>,
}

/// The SKUs bought with one SKU (`keys::together`) in at least the model's `min_orders`
/// distinct confirmed orders, best first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Together {
    pub v: u32,
    pub pairs: Vec<Pair>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_count_counts_what_sku_list_yields() {
        for list in [
            "",
            " ",
            "A",
            "A B",
            "A  B ",
            " A B C",
            "SKU-1 SKU-22 SKU-333",
        ] {
            assert_eq!(sku_count(list), sku_list(list).count(), "{list:?}");
        }
        // A stored count wins; an index without one has its list counted.
        assert_eq!(CategoryIndex::count("A B C", 3), 3);
        assert_eq!(CategoryIndex::count("A B C", 0), 3);
        assert_eq!(CategoryIndex::count("", 0), 0);
    }

    #[test]
    fn postings_read_back_in_place_and_malformed_bytes_are_refused() {
        let postings = TermPostings {
            generation: 7,
            docs: vec![3, 9],
            impacts: vec![900, 12],
            categories: vec![0, 1],
            category_names: vec!["bakery".into(), "dairy".into()],
        };
        let bytes = postings.to_bytes();
        let view = PostingsView::parse("k", &bytes).unwrap();
        assert_eq!(view.generation, 7);
        assert_eq!(view.docs().collect::<Vec<_>>(), [3, 9]);
        assert_eq!(view.impacts().collect::<Vec<_>>(), [900, 12]);
        assert_eq!(view.categories().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(view.category_names(), ["bakery", "dairy"]);
        for cut in 0..bytes.len() {
            assert!(
                PostingsView::parse("k", &bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut newer = bytes.clone();
        newer[0] = 2;
        assert!(matches!(
            PostingsView::parse("k", &newer),
            Err(ProjectionError::UnknownVersion { found: 2, .. })
        ));
    }

    #[test]
    fn a_document_table_reads_back_in_place() {
        let docs = SearchDocs {
            generation: 3,
            skus: vec!["A".into(), "BB-2".into(), "C".into()],
        };
        let bytes = docs.to_bytes();
        let view = DocsView::parse("k", &bytes).unwrap();
        assert_eq!(view.len(), 3);
        assert_eq!(view.generation, 3);
        assert_eq!(
            [view.sku(0), view.sku(1), view.sku(2), view.sku(3)],
            [Some("A"), Some("BB-2"), Some("C"), None]
        );
        for cut in 0..bytes.len() {
            assert!(DocsView::parse("k", &bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

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
    fn the_version_is_read_from_the_front_or_else_from_anywhere() {
        assert_eq!(leading_version(br#"{"v":1,"available":3}"#), Some(1));
        assert_eq!(leading_version(br#"{"v":12}"#), Some(12));
        for other in [
            &br#"{"available":3,"v":2}"#[..],
            br#"{ "v":1}"#,
            br#"{"v":1x}"#,
            br#"{"v":}"#,
            br#"{"v":-1,"#,
        ] {
            assert_eq!(leading_version(other), None, "{other:?}");
        }
        // Either way a newer version is refused, and a value cut short is malformed.
        assert!(matches!(
            decode::<StockHint>("k", br#"{"available":3,"v":2}"#),
            Err(ProjectionError::UnknownVersion { found: 2, .. })
        ));
        assert!(matches!(
            decode::<StockHint>("k", br#"{"v":1,"avail"#),
            Err(ProjectionError::Malformed { .. })
        ));
        let hint: StockHint = decode("k", &encode(&StockHint { v: 1, available: 4 })).unwrap();
        assert_eq!(hint.available, 4);
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
        assert_eq!(p.image, None);
        let pictured: Product = decode(
            "k",
            br#"{"v":1,"sku":"LOAF-1","storefront":"grocer","title":"Loaf","category":"bakery","image":{"url":"https://img.example/loaf.jpg","alt":"A loaf","width":400,"height":300},"unit":"800 g","tax_category":"food","prices":{"EUR":214}}"#,
        )
        .unwrap();
        assert_eq!(
            pictured.image.map(|i| (i.url, i.width)),
            Some(("https://img.example/loaf.jpg".into(), 400))
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
