//! Recommendations over any key-value store.

use std::collections::{BTreeMap, BTreeSet};

use projections::kv::Kv;
use projections::model::{CategoryIndex, PricingRules, Recommendations, Together};
use projections::{Product, ProjectionError, StockHint, decode, keys};
use serde::de::DeserializeOwned;

use crate::bindings::exports::meridian::personalisation::personalisation::{
    PageContext, PersonalisationError, SessionSignals,
};
use crate::bindings::meridian::types::types::{
    Image, ImageSource, Money, ProductSummary, Recommendation, RecommendationReason, Scope,
};

/// Most recommendations in one answer.
pub const MAX_LIMIT: u32 = 50;
/// Most SKUs of each session signal.
pub const MAX_SIGNALS: usize = 50;
/// How many of a category's most popular products are content candidates per anchor.
pub const CATEGORY_CANDIDATES: usize = 40;
/// How many candidates the first read takes: a product page's six recommendations are
/// nearly always among its dozen most promising candidates.
const FIRST_BATCH: usize = 12;

type Result<T> = std::result::Result<T, PersonalisationError>;

/// Blend weights in percent: collaborative, content, rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub collaborative: u32,
    pub content: u32,
    pub rules: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            collaborative: 60,
            content: 30,
            rules: 10,
        }
    }
}

impl Weights {
    /// Parses `60,30,10`: three whole percentages adding up to 100.
    pub fn parse(text: &str) -> Option<Self> {
        let parts: Vec<u32> = text
            .split(',')
            .map(|p| p.trim().parse().ok())
            .collect::<Option<_>>()?;
        match parts[..] {
            [collaborative, content, rules] if collaborative + content + rules == 100 => {
                Some(Self {
                    collaborative,
                    content,
                    rules,
                })
            }
            _ => None,
        }
    }
}

fn bad(message: impl Into<String>) -> PersonalisationError {
    PersonalisationError::BadRequest(message.into())
}

fn corrupt(e: ProjectionError) -> PersonalisationError {
    PersonalisationError::CorruptProjection(e.key().to_owned())
}

fn read_raw(kv: &impl Kv, wanted: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
    kv.get_many(wanted)
        .map_err(|e| PersonalisationError::StoreUnavailable(e.0))
}

fn decode_opt<T: DeserializeOwned>(key: &str, value: Option<Vec<u8>>) -> Result<Option<T>> {
    value.map(|b| decode(key, &b)).transpose().map_err(corrupt)
}

fn check(scope: &Scope, page: &PageContext, session: &SessionSignals, limit: u32) -> Result<()> {
    if !projections::valid_slug(&scope.region) || !projections::valid_slug(&scope.storefront) {
        return Err(bad("scope names no valid region and storefront"));
    }
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    if session.cart.len() > MAX_SIGNALS || session.recently_viewed.len() > MAX_SIGNALS {
        return Err(bad(format!(
            "at most {MAX_SIGNALS} SKUs per session signal"
        )));
    }
    let page_sku = match page {
        PageContext::Product(sku) => Some(sku),
        PageContext::Home | PageContext::Cart => None,
    };
    if page_sku
        .into_iter()
        .chain(&session.cart)
        .chain(&session.recently_viewed)
        .any(|sku| !projections::valid_sku(sku))
    {
        return Err(bad("a SKU is malformed"));
    }
    Ok(())
}

/// The content score of a candidate against an anchor of `weight` percent: 700 for the
/// same category, 100 per tag they share (three at most).
fn content(same_category: bool, shared_tags: usize, weight: u32) -> u32 {
    let category = if same_category { 700 } else { 0 };
    let tags = u32::try_from(shared_tags.min(3)).unwrap_or(3) * 100;
    (category + tags) * weight / 100
}

#[derive(Debug, Default, Clone, Copy)]
struct Scores {
    collaborative: u32,
    content: u32,
    rules: u32,
}

/// Up to `limit` recommendations for `page`, best first.
pub fn recommend(
    kv: &impl Kv,
    scope: &Scope,
    page: &PageContext,
    session: &SessionSignals,
    limit: u32,
    weights: Weights,
) -> Result<Vec<Recommendation>> {
    recommend_in_batches(kv, scope, page, session, limit, weights, FIRST_BATCH)
}

/// [`recommend`], reading `first_batch` candidates first (then twice as many each time).
fn recommend_in_batches(
    kv: &impl Kv,
    scope: &Scope,
    page: &PageContext,
    session: &SessionSignals,
    limit: u32,
    weights: Weights,
    first_batch: usize,
) -> Result<Vec<Recommendation>> {
    check(scope, page, session, limit)?;
    let (r, s) = (scope.region.as_str(), scope.storefront.as_str());

    // 1. Anchors, with their weight in percent.
    let mut anchors: BTreeMap<&str, u32> = BTreeMap::new();
    match page {
        PageContext::Product(sku) => {
            anchors.insert(sku, 100);
        }
        PageContext::Cart => {
            for sku in &session.cart {
                anchors.insert(sku, 100);
            }
        }
        PageContext::Home => {}
    }
    for sku in &session.recently_viewed {
        anchors.entry(sku).or_insert(50);
    }
    let mut excluded: BTreeSet<&str> = session.cart.iter().map(String::as_str).collect();
    if let PageContext::Product(sku) = page {
        excluded.insert(sku);
    }

    // 2. The model, the rules (for the currency), the anchors' products and the anchors'
    // pairs, in one batch.
    let mut wanted = vec![keys::recommendations(r, s), keys::pricing_rules(r, s)];
    wanted.extend(anchors.keys().map(|sku| keys::product(r, s, sku)));
    wanted.extend(anchors.keys().map(|sku| keys::together(r, s, sku)));
    let mut values = read_raw(kv, &wanted)?.into_iter();
    let model: Option<Recommendations> = decode_opt(&wanted[0], values.next().flatten())?;
    let rules: Option<PricingRules> = decode_opt(&wanted[1], values.next().flatten())?;
    let mut anchor_products = Vec::new();
    for key in &wanted[2..2 + anchors.len()] {
        anchor_products.extend(decode_opt::<Product>(key, values.next().flatten())?);
    }
    let mut anchor_pairs = Vec::new();
    for key in &wanted[2 + anchors.len()..] {
        anchor_pairs.push(decode_opt::<Together>(key, values.next().flatten())?);
    }

    let mut scores: BTreeMap<String, Scores> = BTreeMap::new();
    // Collaborative: pairs with anchors; confidence grows with the number of orders and
    // saturates (5 orders: 500, 20 orders: 800).
    if let Some(model) = &model {
        for ((anchor, weight), own) in anchors.iter().zip(&anchor_pairs) {
            // The anchor's own key; the model's first layout for a core that still writes it.
            let pairs = match own {
                Some(together) => &together.pairs,
                None => match model.together.get(*anchor) {
                    Some(pairs) => pairs,
                    None => continue,
                },
            };
            for pair in pairs.iter().filter(|p| p.orders >= model.min_orders) {
                let orders = pair.orders.min(1_000_000);
                let score = orders * 1000 / (orders + 5) * weight / 100;
                let entry = scores.entry(pair.sku.clone()).or_default();
                entry.collaborative = entry.collaborative.max(score);
            }
        }
        // Rules: the region's popular list, by rank.
        let n = u32::try_from(model.popular.len())
            .unwrap_or(u32::MAX)
            .max(1);
        for (rank, sku) in model.popular.iter().enumerate() {
            let rank = u32::try_from(rank).unwrap_or(u32::MAX);
            scores.entry(sku.clone()).or_default().rules = (n - rank.min(n)) * 1000 / n;
        }
    }
    // Content: the anchors' categories' most popular products, plus shared tags.
    let categories: BTreeSet<&str> = anchor_products
        .iter()
        .map(|p| p.category.as_str())
        .collect();
    let wanted: Vec<String> = categories.iter().map(|c| keys::category(r, s, c)).collect();
    // Read in place: only the head of each index's popularity list is used.
    let raw = read_raw(kv, &wanted)?;
    let mut content_candidates: BTreeSet<String> = BTreeSet::new();
    for (key, value) in wanted.iter().zip(&raw) {
        let Some(value) = value else { continue };
        let index: CategoryIndex = decode(key, value).map_err(corrupt)?;
        content_candidates.extend(
            projections::sku_list(&index.by_popularity)
                .take(CATEGORY_CANDIDATES)
                .map(str::to_owned),
        );
    }
    for sku in &content_candidates {
        scores.entry(sku.clone()).or_default();
    }

    // 3. Candidates' products and stock hints; business rules. A candidate's collaborative
    // and rules scores are known already; its content score needs its product, but is at
    // most what sharing an anchor's category and all its tags (up to three) would give. So
    // candidates are read in batches, most promising first, until no unread one could make
    // the answer: a product page reads a dozen or two of its ~70 candidates, and answers
    // exactly what reading them all would.
    scores.retain(|sku, _| !excluded.contains(sku.as_str()));
    // Each anchor's distinct tags and weight.
    let anchor_tags: Vec<(&Product, BTreeSet<&str>, u32)> = anchor_products
        .iter()
        .map(|a| {
            let tags = a.tags.iter().map(String::as_str).collect();
            (a, tags, anchors.get(a.sku.as_str()).copied().unwrap_or(0))
        })
        .collect();
    let content_bound = anchor_tags
        .iter()
        .map(|(_, tags, weight)| content(true, tags.len(), *weight))
        .max()
        .unwrap_or(0);
    let bound = |s: &Scores| {
        (s.collaborative * weights.collaborative
            + content_bound * weights.content
            + s.rules * weights.rules)
            * 10
    };
    let mut order: Vec<(&str, u32)> = scores.iter().map(|(k, s)| (k.as_str(), bound(s))).collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let currency = rules.as_ref().map(|r| r.currency.as_str());
    let limit = limit as usize;

    let mut blended: Vec<Recommendation> = Vec::new();
    let mut read = 0;
    let mut batch = first_batch.max(1);
    while read < order.len() {
        // Unread candidates are in (bound, SKU) order: the next one is the strongest left.
        if let Some(last) = blended.get(limit.wrapping_sub(1)) {
            let (sku, bound) = order[read];
            if last.score > bound || (last.score == bound && last.product.sku.as_str() < sku) {
                break;
            }
        }
        let candidates = &order[read..read.saturating_add(batch).min(order.len())];
        read += candidates.len();
        batch = batch.saturating_mul(2);
        let mut wanted: Vec<String> = candidates
            .iter()
            .map(|(sku, _)| keys::product(r, s, sku))
            .collect();
        wanted.extend(candidates.iter().map(|(sku, _)| keys::stock(r, s, sku)));
        let mut values = read_raw(kv, &wanted)?;
        let stock = values.split_off(candidates.len());
        for (((sku, _), (key, product)), (stock_key, hint)) in candidates
            .iter()
            .zip(wanted.iter().zip(values))
            .zip(wanted[candidates.len()..].iter().zip(stock))
        {
            let Some(product) = decode_opt::<Product>(key, product)?.filter(|p| p.active) else {
                continue;
            };
            let hint: Option<StockHint> = decode_opt(stock_key, hint)?;
            let price = currency.and_then(|c| product.price(c));
            if price.is_none() || hint.is_some_and(|h| h.available <= 0) {
                continue;
            }
            let mut sc = scores[*sku];
            for (anchor, tags, weight) in &anchor_tags {
                let shared = tags
                    .iter()
                    .filter(|t| product.tags.iter().any(|p| p == *t))
                    .count();
                let same_category = anchor.category == product.category;
                sc.content = sc.content.max(content(same_category, shared, *weight));
            }
            let parts = [
                (
                    sc.collaborative * weights.collaborative,
                    RecommendationReason::BoughtTogether,
                ),
                (sc.content * weights.content, RecommendationReason::Similar),
                (sc.rules * weights.rules, RecommendationReason::Popular),
            ];
            let score: u32 = parts.iter().map(|(p, _)| p * 10).sum();
            if score == 0 {
                continue;
            }
            let reason = parts
                .iter()
                .max_by_key(|(p, _)| *p)
                .map_or(RecommendationReason::Popular, |(_, r)| *r);
            blended.push(Recommendation {
                product: ProductSummary {
                    sku: product.sku.clone(),
                    title: product.title.clone(),
                    unit: product.unit.clone(),
                    category: product.category.clone(),
                    image: image(&product),
                    price: price.zip(currency).map(|(minor, c)| Money {
                        minor,
                        currency: c.to_owned(),
                    }),
                    popularity: product.popularity,
                },
                score,
                reason,
            });
        }
        blended.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| a.product.sku.cmp(&b.product.sku))
        });
    }
    blended.truncate(limit);
    Ok(blended)
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
