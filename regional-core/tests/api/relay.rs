use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;

async fn read(redis: &mut redis::aio::MultiplexedConnection, key: &str) -> Option<Value> {
    let bytes: Option<Vec<u8>> = redis::cmd("GET").arg(key).query_async(redis).await.unwrap();
    bytes.map(|b| serde_json::from_slice(&b).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_products_and_stock_hints_to_the_edge_store() {
    let app = spawn_app(Options {
        redis: true,
        ..Options::default()
    })
    .await;
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut redis = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is not reachable: start it (scripts/test does)");
    let loaf = sku();
    app.seed(&loaf, 214, 7).await;
    let stock_key = format!("meridian/v1/{}/grocer/stock/{loaf}", app.region);
    let product_key = format!("meridian/v1/{}/grocer/product/{loaf}", app.region);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hint = read(&mut redis, &stock_key).await;
        if hint.as_ref().is_some_and(|h| h["available"] == 7) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stock hint never arrived: {hint:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let product = read(&mut redis, &product_key)
        .await
        .expect("product projection");
    assert_eq!(product["prices"]["EUR"], 214);
    assert_eq!(product["v"], 1);

    assert_eq!(
        app.checkout(&key(), &checkout_body("DE", "EUR", &loaf, 3, "tok_approve"))
            .await
            .status(),
        201
    );
    loop {
        let hint = read(&mut redis, &stock_key).await.unwrap();
        if hint["available"] == 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stock hint never updated: {hint}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let client = app.db.get().await.unwrap();
    let unpublished: i64 = client
        .query_one(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL AND kind <> 'order_confirmed'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(unpublished <= 1);
    redis::cmd("DEL")
        .arg(&stock_key)
        .arg(&product_key)
        .query_async::<()>(&mut redis)
        .await
        .unwrap();
}
