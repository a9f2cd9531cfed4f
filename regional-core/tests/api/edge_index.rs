//! The derived edge projections the relay rebuilds per storefront, read back from real
//! Redis and decoded with the same `projections` crate the edge components use.

use projections::model::{CategoryIndex, PricingRules, Recommendations, Together};
use projections::{Categories, DocsView, PostingsView, decode, keys};
use regional_core::edge_index::{self, Rebuild};
use serde_json::json;

use crate::helpers::*;

async fn get(redis: &mut redis::aio::MultiplexedConnection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query_async(redis).await.unwrap()
}

/// Buys one unit of each of `skus` in one order, paid.
async fn buy(app: &TestApp, skus: &[&str]) {
    let mut body = checkout_body("DE", "EUR", skus[0], 1, "tok_approve");
    body["lines"] = skus
        .iter()
        .map(|s| json!({"sku": s, "quantity": 1}))
        .collect();
    let response = app.checkout(&key(), &body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storefront_gets_category_and_search_indexes_pricing_rules_and_a_model() {
    let app = spawn_app(Options::default()).await;
    let (bread, butter, jam) = (sku(), sku(), sku());
    for s in [&bread, &butter, &jam] {
        app.seed(s, 214, 50).await;
    }
    // Bread with butter in 5 orders, bread with jam in 4: only the first pair is published.
    for _ in 0..5 {
        buy(&app, &[&bread, &butter]).await;
    }
    for _ in 0..4 {
        buy(&app, &[&bread, &jam]).await;
    }
    // A region id of this test's own, so parallel tests never share these keys.
    let mut region = region_config::Region::clone(&app.state.region);
    region.id = format!("test-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
        .parse()
        .unwrap();
    let r = region.id.to_string();
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut redis = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is not reachable: start it (scripts/test does)");
    // Keys left by an earlier build: a term that no longer exists, and the pairs of a
    // product no longer bought with anything.
    let stale = keys::search_term(&r, "grocer", "caviar");
    let index_key = format!("{}index", keys::prefix(&r, "grocer"));
    let earlier = json!({"v": 1, "keys": [stale]}).to_string();
    let stale_pairs = keys::together(&r, "grocer", &jam);
    let model_index = keys::model_index(&r, "grocer");
    let earlier_model = json!({"v": 1, "keys": [stale_pairs]}).to_string();
    redis::cmd("MSET")
        .arg(&stale)
        .arg("{}")
        .arg(&index_key)
        .arg(earlier)
        .arg(&stale_pairs)
        .arg("{}")
        .arg(&model_index)
        .arg(earlier_model)
        .query_async::<()>(&mut redis)
        .await
        .unwrap();

    let client = app.db.get().await.unwrap();
    let all = Rebuild {
        catalogue: true,
        model: true,
    };
    edge_index::publish(&client, &mut redis, &region, "grocer", all)
        .await
        .unwrap();

    let k = keys::categories(&r, "grocer");
    let categories: Categories = decode(&k, &get(&mut redis, &k).await.unwrap()).unwrap();
    assert_eq!(categories.categories[0].slug, "bakery");
    let k = keys::category(&r, "grocer", "bakery");
    let bytes = get(&mut redis, &k).await.unwrap();
    let bakery: CategoryIndex = decode(&k, &bytes).unwrap();
    assert_eq!(projections::sku_list(&bakery.by_price).count(), 3);
    assert_eq!(bakery.priced, 3, "the index counts its lists");
    assert_eq!(
        projections::sku_list(&bakery.by_popularity).next(),
        Some(bread.as_str()),
        "bread is in the most orders"
    );
    let k = keys::search_term(&r, "grocer", "sourdough");
    let bytes = get(&mut redis, &k).await.unwrap();
    let postings = PostingsView::parse(&k, &bytes).unwrap();
    assert_eq!(postings.docs().count(), 3);
    let k = keys::search_docs(&r, "grocer");
    let bytes = get(&mut redis, &k).await.unwrap();
    let docs = DocsView::parse(&k, &bytes).unwrap();
    assert_eq!(postings.generation, docs.generation);
    assert_eq!(docs.len(), 3);
    let k = keys::pricing_rules(&r, "grocer");
    let rules: PricingRules = decode(&k, &get(&mut redis, &k).await.unwrap()).unwrap();
    assert_eq!(
        (rules.currency.as_str(), rules.rate("DE", "food")),
        ("EUR", 700)
    );
    assert!(rules.prices_include_tax);
    let k = keys::recommendations(&r, "grocer");
    let model: Recommendations = decode(&k, &get(&mut redis, &k).await.unwrap()).unwrap();
    assert_eq!(model.popular[0], bread);
    assert!(
        model.together.is_empty(),
        "the pairs are keys of their own, not part of the model's value"
    );
    let pairs = |key: String, bytes: Vec<u8>| -> Vec<(String, u32)> {
        let together: Together = decode(&key, &bytes).unwrap();
        together
            .pairs
            .into_iter()
            .map(|p| (p.sku, p.orders))
            .collect()
    };
    let k = keys::together(&r, "grocer", &bread);
    let bytes = get(&mut redis, &k).await.unwrap();
    assert_eq!(pairs(k, bytes), [(butter.clone(), 5)]);
    let k = keys::together(&r, "grocer", &butter);
    let bytes = get(&mut redis, &k).await.unwrap();
    assert_eq!(pairs(k, bytes), [(bread.clone(), 5)]);
    assert!(
        get(&mut redis, &stale).await.is_none(),
        "the stale term key is deleted"
    );
    assert!(
        get(&mut redis, &stale_pairs).await.is_none(),
        "jam's pairs (4 orders, under the minimum) are not published, and its old key is deleted"
    );

    // Clean up this test's keys.
    let mut cursor = 0u64;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("meridian/v1/{r}/*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut redis)
            .await
            .unwrap();
        if !found.is_empty() {
            redis::cmd("DEL")
                .arg(&found)
                .query_async::<()>(&mut redis)
                .await
                .unwrap();
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
}
