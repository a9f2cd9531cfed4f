//! The derived edge projections of a storefront: what the catalogue, pricing and
//! personalisation components read beyond the per-product and per-SKU stock keys (formats
//! in `docs/projections.md`, built by the shared `projections` crate).
//!
//! 1. The relay calls [`publish`] for a storefront when its products changed (catalogue),
//!    when orders were confirmed (model), and for every storefront when it starts.
//! 2. The catalogue part loads the storefront's products with their popularity (distinct
//!    confirmed orders) and writes them, the category list, the category indexes and the
//!    search index; the pricing rules come from this region's config.
//! 3. The model part counts, over confirmed orders, the pairs of products bought together,
//!    keeping only pairs seen in at least [`MIN_PAIR_ORDERS`] distinct orders, and the most
//!    popular products. Each product's pairs are a key of their own, so a page reads only
//!    its anchors' pairs.
//! 4. The derived keys written are recorded under the storefront's `index` key (catalogue)
//!    and `model-index` key (pairs); keys of a previous build that this one did not write (a
//!    category, term or product's pairs that went away) are deleted.

use std::collections::BTreeMap;

use anyhow::Context;
use deadpool_postgres::GenericClient;
use projections::model::{Pair, PricingRules, Recommendations, TaxTable};
use projections::{FORMAT_VERSION, Product, encode, keys};
use region_config::Region;
use serde::{Deserialize, Serialize};

use crate::db::Cached;

/// A pair of products is recommended together only once this many distinct orders held both.
pub const MIN_PAIR_ORDERS: i64 = 5;
/// Pairs kept per product, best first.
pub const PAIRS_PER_PRODUCT: usize = 10;
/// Products in the region's popular list.
pub const POPULAR: usize = 24;

/// What to rebuild.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuild {
    pub catalogue: bool,
    pub model: bool,
}

/// The keys the last build of a storefront wrote.
#[derive(Debug, Serialize, Deserialize)]
struct Written {
    v: u32,
    keys: Vec<String>,
}

/// The pricing rules projection of `region`.
pub fn pricing_rules(region: &Region) -> PricingRules {
    let table =
        |default: u32, categories: &BTreeMap<region_config::Slug, region_config::BasisPoints>| {
            TaxTable {
                default_bp: default,
                categories: categories
                    .iter()
                    .map(|(c, bp)| (c.to_string(), bp.get()))
                    .collect(),
            }
        };
    PricingRules {
        v: FORMAT_VERSION,
        region: region.id.to_string(),
        currency: region.currency.to_string(),
        prices_include_tax: region.tax.prices_include_tax(),
        tax: table(region.tax.default_rate.get(), &region.tax.categories),
        countries: region
            .tax
            .countries
            .iter()
            .map(|(country, tax)| {
                (
                    country.to_string(),
                    table(tax.default_rate.get(), &tax.categories),
                )
            })
            .collect(),
        // The storefront's promotions are added by `publish`.
        promotions: Vec::new(),
    }
}

/// Confirmed (or later fulfilled) orders of the storefront per SKU.
async fn popularity(
    client: &impl GenericClient,
    storefront: &str,
) -> Result<BTreeMap<String, i64>, tokio_postgres::Error> {
    let rows = client
        .query_cached(
            "SELECT ol.sku, count(DISTINCT o.id)
             FROM orders o JOIN order_lines ol ON ol.order_id = o.id
             WHERE o.storefront = $1 AND o.status IN ('confirmed', 'picking', 'packed', 'out_for_delivery', 'delivered', 'fulfilled')
             GROUP BY ol.sku",
            &[&storefront],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The recommendation model of the storefront from its confirmed orders.
pub async fn model(
    client: &impl GenericClient,
    storefront: &str,
) -> Result<Recommendations, tokio_postgres::Error> {
    let rows = client
        .query_cached(
            "SELECT a.sku, b.sku, count(DISTINCT a.order_id) AS orders
             FROM orders o
             JOIN order_lines a ON a.order_id = o.id
             JOIN order_lines b ON b.order_id = o.id AND b.sku <> a.sku
             WHERE o.storefront = $1 AND o.status IN ('confirmed', 'picking', 'packed', 'out_for_delivery', 'delivered', 'fulfilled')
             GROUP BY a.sku, b.sku
             HAVING count(DISTINCT a.order_id) >= $2
             ORDER BY a.sku, orders DESC, b.sku",
            &[&storefront, &MIN_PAIR_ORDERS],
        )
        .await?;
    let mut together: BTreeMap<String, Vec<Pair>> = BTreeMap::new();
    for row in &rows {
        let pairs = together.entry(row.get(0)).or_default();
        if pairs.len() < PAIRS_PER_PRODUCT {
            let orders: i64 = row.get(2);
            pairs.push(Pair {
                sku: row.get(1),
                orders: u32::try_from(orders).unwrap_or(u32::MAX),
            });
        }
    }
    let mut popular: Vec<(String, i64)> =
        popularity(client, storefront).await?.into_iter().collect();
    popular.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(Recommendations {
        v: FORMAT_VERSION,
        min_orders: u32::try_from(MIN_PAIR_ORDERS).unwrap_or(5),
        together,
        popular: popular
            .into_iter()
            .take(POPULAR)
            .map(|(sku, _)| sku)
            .collect(),
    })
}

/// The storefronts that have products.
pub async fn storefronts(
    client: &impl GenericClient,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = client
        .query_cached("SELECT DISTINCT storefront FROM products ORDER BY 1", &[])
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Rebuilds and writes the storefront's derived projections.
pub async fn publish(
    client: &impl GenericClient,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &Region,
    storefront: &str,
    what: Rebuild,
) -> anyhow::Result<()> {
    let r = region.id.as_str();
    let index_key = format!("{}index", keys::prefix(r, storefront));
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    if what.catalogue {
        let popular = popularity(client, storefront).await?;
        let mut products = Vec::new();
        for p in crate::products::load_storefront(client, storefront).await? {
            let mut product: Product = serde_json::from_value(serde_json::to_value(&p)?)
                .context("a stored product does not fit the projection format")?;
            product.popularity = popular
                .get(&product.sku)
                .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX));
            entries.push((keys::product(r, storefront, &product.sku), encode(&product)));
            products.push(product);
        }
        entries.extend(projections::build::storefront(
            r,
            storefront,
            region.currency.as_str(),
            &products,
        ));
        entries.push((
            keys::pricing_rules(r, storefront),
            encode(&PricingRules {
                promotions: crate::promotions::for_storefront(client, storefront)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                ..pricing_rules(region)
            }),
        ));
        // Only derived keys are tracked (product keys have their own lifecycle).
        let derived: Vec<(String, Vec<u8>)> = entries
            .iter()
            .filter(|(k, _)| !k.contains("/product/"))
            .cloned()
            .collect();
        entries.push(replace_derived(redis, index_key, &derived).await?);
    }
    if what.model {
        let model = model(client, storefront).await?;
        let (together, own) = projections::build::model(r, storefront, model);
        let index = replace_derived(redis, keys::model_index(r, storefront), &together).await?;
        entries.extend(together);
        entries.extend([index, own]);
    }
    // MSET in chunks: one round trip per thousand keys.
    for chunk in entries.chunks(1_000) {
        let mut cmd = redis::cmd("MSET");
        for (k, v) in chunk {
            cmd.arg(k).arg(v);
        }
        cmd.query_async::<()>(redis)
            .await
            .with_context(|| format!("failed to write the projections of {storefront}"))?;
    }
    Ok(())
}

/// Deletes the keys the previous build recorded under `index_key` that `derived` no longer
/// has, and answers the entry that records `derived`'s keys there in their place.
async fn replace_derived(
    redis: &mut redis::aio::MultiplexedConnection,
    index_key: String,
    derived: &[(String, Vec<u8>)],
) -> anyhow::Result<(String, Vec<u8>)> {
    let previous: Option<Vec<u8>> = redis::cmd("GET").arg(&index_key).query_async(redis).await?;
    let previous = previous
        .and_then(|b| projections::decode::<Written>(&index_key, &b).ok())
        .map(|w| w.keys)
        .unwrap_or_default();
    let stale: Vec<&str> = projections::build::stale_keys(&previous, derived);
    if !stale.is_empty() {
        redis::cmd("DEL")
            .arg(&stale)
            .query_async::<()>(redis)
            .await?;
    }
    let written = Written {
        v: FORMAT_VERSION,
        keys: derived.iter().map(|(k, _)| k.clone()).collect(),
    };
    Ok((index_key, encode(&written)))
}
