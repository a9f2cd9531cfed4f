//! The catalogue's calls over any key-value store.

use projections::delivery::Delivery;
use projections::kv::Kv;
use projections::model::{CategoryIndex, PricingRules};
use projections::{
    Categories, DocsView, PostingsView, Product, ProjectionError, StockHint, decode, keys, search,
    sku_list, text,
};

use crate::bindings::exports::meridian::catalogue::catalogue::{
    CatalogueError, Category, DeliverySlot, Facet, Listing, PageRequest, SearchHit, SearchResults,
    SlotState, Sort, TagFacet,
};
use crate::bindings::meridian::types::types::{
    Image, ImageSource, Money, ProductDetail, ProductSummary, Scope, StockHint as Hint,
};

/// At most this many units counts as "only N left".
pub const LOW_STOCK: i64 = 5;
/// The longest query accepted, in bytes.
pub const MAX_QUERY: usize = 200;
/// The most distinct terms of a query that are looked up.
pub const MAX_TERMS: usize = 12;
/// The most products on one page.
pub const MAX_PER_PAGE: u32 = 100;
/// The longest tag a listing may be filtered by, in bytes.
pub const MAX_TAG: usize = 64;

type Result<T> = std::result::Result<T, CatalogueError>;

/// Seconds since the Unix epoch by the host's clock.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn bad(message: impl Into<String>) -> CatalogueError {
    CatalogueError::BadRequest(message.into())
}

fn corrupt(e: ProjectionError) -> CatalogueError {
    CatalogueError::CorruptProjection(e.key().to_owned())
}

fn store_failed(e: projections::kv::KvError) -> CatalogueError {
    CatalogueError::StoreUnavailable(e.0)
}

fn check_scope(scope: &Scope) -> Result<()> {
    if !projections::valid_slug(&scope.region) {
        return Err(bad("scope.region is not a region id"));
    }
    if !projections::valid_slug(&scope.storefront) {
        return Err(bad("scope.storefront is not a storefront id"));
    }
    Ok(())
}

fn check_page(request: &PageRequest) -> Result<()> {
    if request.page == 0 {
        return Err(bad("page counts from 1"));
    }
    if request.per_page == 0 || request.per_page > MAX_PER_PAGE {
        return Err(bad(format!("per-page must be 1 to {MAX_PER_PAGE}")));
    }
    Ok(())
}

fn decode_opt<'a, T: serde::Deserialize<'a>>(
    key: &str,
    bytes: Option<&'a Vec<u8>>,
) -> Result<Option<T>> {
    bytes.map(|b| decode(key, b)).transpose().map_err(corrupt)
}

/// The stock hint a shopper sees for `available` units.
pub fn stock_hint(hint: Option<&StockHint>) -> Hint {
    match hint.map(|h| h.available) {
        None => Hint::Unknown,
        Some(n) if n <= 0 => Hint::OutOfStock,
        Some(n) if n <= LOW_STOCK => Hint::Low(u32::try_from(n).unwrap_or(0)),
        Some(_) => Hint::InStock,
    }
}

/// A listing's view of a product, priced in `currency`.
pub fn summary(product: &Product, currency: Option<&str>) -> ProductSummary {
    ProductSummary {
        sku: product.sku.clone(),
        title: product.title.clone(),
        unit: product.unit.clone(),
        category: product.category.clone(),
        image: image(product),
        price: currency.and_then(|c| {
            product.price(c).map(|minor| Money {
                minor,
                currency: c.to_owned(),
            })
        }),
        popularity: product.popularity,
    }
}

/// The product with `sku`, with its stock hint, priced in the region's currency.
pub fn product(kv: &impl Kv, scope: &Scope, sku: &str) -> Result<ProductDetail> {
    check_scope(scope)?;
    if !projections::valid_sku(sku) {
        return Err(bad("sku is malformed"));
    }
    let (r, s) = (scope.region.as_str(), scope.storefront.as_str());
    let wanted = [
        keys::product(r, s, sku),
        keys::stock(r, s, sku),
        keys::pricing_rules(r, s),
    ];
    let values = kv.get_many(&wanted).map_err(store_failed)?;
    let product: Option<Product> = decode_opt(&wanted[0], values[0].as_ref())?;
    let Some(product) = product.filter(|p| p.active) else {
        return Err(CatalogueError::UnknownSku(sku.to_owned()));
    };
    let stock: Option<StockHint> = decode_opt(&wanted[1], values[1].as_ref())?;
    let rules: Option<PricingRules> = decode_opt(&wanted[2], values[2].as_ref())?;
    Ok(ProductDetail {
        summary: summary(&product, rules.as_ref().map(|r| r.currency.as_str())),
        description: product.description.clone(),
        tags: product.tags.clone(),
        tax_category: product.tax_category.clone(),
        stock: stock_hint(stock.as_ref()),
    })
}

/// The site projection (JSON) of the storefront on `host` in `region`, else of `fallback`.
pub fn site(kv: &impl Kv, region: &str, host: &str, fallback: &str) -> Result<Option<String>> {
    if !projections::valid_slug(region) {
        return Err(bad("region: a lowercase slug".to_owned()));
    }
    if !projections::valid_slug(fallback) {
        return Err(bad("fallback: a storefront id".to_owned()));
    }
    let mut value = None;
    if projections::theme::valid_host(host) {
        value = kv.get(&keys::host(region, host)).map_err(store_failed)?;
    }
    if value.is_none() {
        value = kv
            .get(&keys::site(region, fallback))
            .map_err(store_failed)?;
    }
    value
        .map(|bytes| {
            String::from_utf8(bytes)
                .map_err(|_| CatalogueError::CorruptProjection(keys::host(region, host)))
        })
        .transpose()
}

/// The coming delivery slots for an address in `country` (and `postal_code`, when given),
/// by date and time; slots starting at or before `now` (Unix seconds) are left out.
pub fn delivery_slots(
    kv: &impl Kv,
    scope: &Scope,
    country: &str,
    postal_code: Option<&str>,
    now: i64,
) -> Result<Vec<DeliverySlot>> {
    check_scope(scope)?;
    let country =
        shopper_input::Country::parse(country).map_err(|e| bad(format!("country: {e}")))?;
    let postal_code = postal_code
        .filter(|p| !p.trim().is_empty())
        .map(|p| shopper_input::PostalCode::parse(p, country))
        .transpose()
        .map_err(|e| bad(format!("postal-code: {e}")))?;
    let key = keys::delivery(&scope.region, &scope.storefront);
    let value = kv.get(&key).map_err(store_failed)?;
    let Some(delivery) = decode_opt::<Delivery>(&key, value.as_ref())? else {
        return Ok(Vec::new());
    };
    Ok(delivery
        .slots_for(
            country.as_str(),
            postal_code.as_ref().map(|p| p.as_str()),
            now,
        )
        .into_iter()
        .map(|s| DeliverySlot {
            id: s.id.clone(),
            date: s.date.clone(),
            start: s.start.clone(),
            end: s.end.clone(),
            fee: Money {
                minor: s.fee_minor,
                currency: delivery.currency.clone(),
            },
            state: match s.state {
                projections::delivery::SlotState::Available => SlotState::Available,
                projections::delivery::SlotState::FewLeft => SlotState::FewLeft,
                projections::delivery::SlotState::Full => SlotState::Full,
            },
        })
        .collect())
}

/// The storefront's categories; empty before anything is published.
pub fn categories(kv: &impl Kv, scope: &Scope) -> Result<Vec<Category>> {
    check_scope(scope)?;
    let key = keys::categories(&scope.region, &scope.storefront);
    let value = kv.get(&key).map_err(store_failed)?;
    let list: Option<Categories> = decode_opt(&key, value.as_ref())?;
    Ok(list
        .map(|l| l.categories)
        .unwrap_or_default()
        .into_iter()
        .map(|c| Category {
            slug: c.slug,
            title: c.title,
            products: c.products,
        })
        .collect())
}

/// Reads the products of `skus` in order, skipping any that vanished or went inactive since
/// the index was written.
fn load_products(kv: &impl Kv, scope: &Scope, skus: &[&str]) -> Result<Vec<Product>> {
    let wanted: Vec<String> = skus
        .iter()
        .map(|sku| keys::product(&scope.region, &scope.storefront, sku))
        .collect();
    let values = kv.get_many(&wanted).map_err(store_failed)?;
    let mut out = Vec::with_capacity(skus.len());
    for (key, value) in wanted.iter().zip(&values) {
        if let Some(p) = decode_opt::<Product>(key, value.as_ref())?
            && p.active
        {
            out.push(p);
        }
    }
    Ok(out)
}

/// The positions of the requested page among `total` items.
fn page_slice(total: usize, request: &PageRequest) -> std::ops::Range<usize> {
    let per = request.per_page as usize;
    let start = (request.page as usize - 1).saturating_mul(per).min(total);
    start..start.saturating_add(per).min(total)
}

/// One page of a category in the requested order.
pub fn listing(
    kv: &impl Kv,
    scope: &Scope,
    category: &str,
    tag: Option<&str>,
    request: PageRequest,
) -> Result<Listing> {
    check_scope(scope)?;
    check_page(&request)?;
    if !projections::valid_slug(category) {
        return Err(bad("category is not a category slug"));
    }
    if tag.is_some_and(|t| t.len() > MAX_TAG) {
        return Err(bad(format!("tag is longer than {MAX_TAG} bytes")));
    }
    let key = keys::category(&scope.region, &scope.storefront, category);
    let value = kv.get(&key).map_err(store_failed)?;
    let Some(index) = decode_opt::<CategoryIndex>(&key, value.as_ref())? else {
        return Err(CatalogueError::UnknownCategory(category.to_owned()));
    };
    let (list, stored) = match request.sort {
        Sort::Name => (&index.by_name, index.products),
        Sort::PriceAscending | Sort::PriceDescending => (&index.by_price, index.priced),
        Sort::Popularity => (&index.by_popularity, index.products),
    };
    let descending = matches!(request.sort, Sort::PriceDescending);
    // The list in the requested order, split lazily (from its end when descending).
    let in_order = |list| -> Box<dyn Iterator<Item = &str> + '_> {
        if descending {
            Box::new(sku_list(list).rev())
        } else {
            Box::new(sku_list(list))
        }
    };
    let (page, total) = match tag.map(|t| t.trim().to_lowercase()) {
        // Filtered: the tag's carriers in the chosen order.
        Some(tag) => {
            let carriers: std::collections::HashSet<&str> = index
                .tags
                .iter()
                .find(|f| f.tag == tag)
                .map(|f| sku_list(&f.skus).collect())
                .unwrap_or_default();
            let order: Vec<&str> = in_order(list)
                .filter(|sku| carriers.contains(sku))
                .collect();
            let range = page_slice(order.len(), &request);
            (order[range].to_vec(), order.len())
        }
        // Unfiltered: the page's slice of the list, without splitting the rest of it.
        None => {
            let total = CategoryIndex::count(list, stored) as usize;
            let range = page_slice(total, &request);
            let page = in_order(list).skip(range.start).take(range.len()).collect();
            (page, total)
        }
    };
    let products = load_products(kv, scope, &page)?;
    Ok(Listing {
        items: products
            .iter()
            .map(|p| summary(p, Some(&index.currency)))
            .collect(),
        page: request.page,
        per_page: request.per_page,
        total: u32::try_from(total).unwrap_or(u32::MAX),
        tags: index
            .tags
            .iter()
            .map(|f| TagFacet {
                tag: f.tag.clone().into_owned(),
                products: CategoryIndex::count(&f.skus, f.count),
            })
            .collect(),
    })
}

/// Ranked full-text search, optionally in one category.
pub fn search(
    kv: &impl Kv,
    scope: &Scope,
    query: &str,
    category: Option<&str>,
    request: PageRequest,
) -> Result<SearchResults> {
    check_scope(scope)?;
    check_page(&request)?;
    if query.len() > MAX_QUERY {
        return Err(bad(format!("query is longer than {MAX_QUERY} bytes")));
    }
    if category.is_some_and(|c| !projections::valid_slug(c)) {
        return Err(bad("category is not a category slug"));
    }
    let mut terms: Vec<String> = Vec::new();
    for term in text::terms(query) {
        if !terms.contains(&term) && terms.len() < MAX_TERMS {
            terms.push(term);
        }
    }
    if terms.is_empty() {
        return Err(bad("query has no words to search for"));
    }
    let (r, s) = (scope.region.as_str(), scope.storefront.as_str());
    let mut wanted = vec![keys::pricing_rules(r, s), keys::search_docs(r, s)];
    wanted.extend(terms.iter().map(|t| keys::search_term(r, s, t)));
    let values = kv.get_many(&wanted).map_err(store_failed)?;
    let rules: Option<PricingRules> = decode_opt(&wanted[0], values[0].as_ref())?;
    let docs = values[1]
        .as_deref()
        .map(|bytes| DocsView::parse(&wanted[1], bytes))
        .transpose()
        .map_err(corrupt)?;
    let mut lists = Vec::with_capacity(terms.len());
    for ((term, key), value) in terms.iter().zip(&wanted[2..]).zip(&values[2..]) {
        let view = value
            .as_deref()
            .map(|bytes| PostingsView::parse(key, bytes))
            .transpose()
            .map_err(corrupt)?;
        lists.push((term.clone(), view));
    }
    // Only the hits up to the end of the requested page are built.
    let end = (request.page as usize).saturating_mul(request.per_page as usize);
    let ranked = match &docs {
        Some(docs) => search::rank(docs, &lists, category, end),
        None => search::Ranked::default(),
    };
    let page = &ranked.hits[page_slice(ranked.hits.len(), &request)];
    let skus: Vec<&str> = page.iter().map(|h| h.sku.as_str()).collect();
    let products = load_products(kv, scope, &skus)?;
    let currency = rules.as_ref().map(|r| r.currency.as_str());
    let hits = page
        .iter()
        .filter_map(|hit| {
            let product = products.iter().find(|p| p.sku == hit.sku)?;
            Some(SearchHit {
                product: summary(product, currency),
                score: hit.score,
                matched: hit.matched.clone(),
            })
        })
        .collect();
    Ok(SearchResults {
        hits,
        total: u32::try_from(ranked.total).unwrap_or(u32::MAX),
        facets: ranked
            .facets
            .into_iter()
            .map(|(category, hits)| Facet { category, hits })
            .collect(),
        page: request.page,
        per_page: request.per_page,
        terms,
    })
}

/// The product's picture as the interface carries it.
fn image(product: &Product) -> Option<Image> {
    product.image.as_ref().map(|i| Image {
        url: i.url.clone(),
        alt: i.alt.clone(),
        width: i.width,
        height: i.height,
        srcset: i
            .srcset
            .iter()
            .map(|s| ImageSource {
                url: s.url.clone(),
                width: s.width,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests;
