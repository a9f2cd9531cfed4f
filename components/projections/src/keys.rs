//! Every key of the edge projections. All live under `meridian/v1/{region}/{storefront}/`;
//! a format change an old reader could misread gets a new prefix (see `docs/projections.md`).

/// The prefix of a region's storefront.
pub fn prefix(region: &str, storefront: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/")
}

/// A product, with its prices in every currency.
pub fn product(region: &str, storefront: &str, sku: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/product/{sku}")
}

/// A SKU's stock hint.
pub fn stock(region: &str, storefront: &str, sku: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/stock/{sku}")
}

/// The storefront's categories.
pub fn categories(region: &str, storefront: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/categories")
}

/// One category's SKUs in each sort order.
pub fn category(region: &str, storefront: &str, slug: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/category/{slug}")
}

/// The searchable products, by document id.
pub fn search_docs(region: &str, storefront: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/search/docs")
}

/// One search term's postings. Terms are normalised (`text::terms`), so they hold only
/// `a-z 0-9` and letters without accents.
pub fn search_term(region: &str, storefront: &str, term: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/search/term/{term}")
}

/// The region's pricing rules (tax table and promotions) for the storefront.
pub fn pricing_rules(region: &str, storefront: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/pricing")
}

/// The region's recommendation model for the storefront.
pub fn recommendations(region: &str, storefront: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/recommendations")
}

/// The SKUs bought together with `sku` (the recommendation model's pairs for it).
pub fn together(region: &str, storefront: &str, sku: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/together/{sku}")
}

/// The keys the last model rebuild wrote, so the next one deletes those it no longer writes.
pub fn model_index(region: &str, storefront: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/model-index")
}

/// The storefront's delivery zones and coming slots.
pub fn delivery(region: &str, storefront: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/delivery")
}

/// A cart. Carts are edge state, not projections, but share the key space.
pub fn cart(region: &str, storefront: &str, id: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/cart/{id}")
}

/// A storefront's site: its hosts and theme (`theme::Site`).
pub fn site(region: &str, storefront: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/site")
}

/// The site of the storefront answering on `host` (a copy of its `site`, so a request reads
/// one key). `_hosts` cannot be a storefront: a storefront id is a slug, without `_`.
pub fn host(region: &str, host: &str) -> String {
    format!("meridian/v1/{region}/_hosts/{host}")
}
