use std::sync::Arc;

use edge::data::Backend;
use edge::data::KeyValue;
use projections::{Product, encode, fixtures, keys};

use crate::harness::{client, get, on_redis, options, redis_url, shared, start, test_limits};

/// A small eu-west grocery as the relay publishes it.
pub fn publish_grocery(backend: &dyn Backend) {
    let mut loaf: Product = fixtures::product("LOAF-1", "bakery");
    loaf.title = "Sourdough loaf".into();
    loaf.prices = [("EUR".to_owned(), 214)].into();
    let products = vec![loaf];
    for p in &products {
        backend
            .set(&keys::product("eu-west", "grocer", &p.sku), &encode(p))
            .unwrap();
    }
    for (k, v) in projections::build::storefront("eu-west", "grocer", "EUR", &products) {
        backend.set(&k, &v).unwrap();
    }
}

#[tokio::test]
async fn the_memory_store_keeps_values_between_requests() {
    let node = shared();
    let url = format!("{}/probe/kv/test-memory-key", node.url);
    let response = client().put(&url).body("kept").send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (status, body) = get(&url, &[]).await;
    assert_eq!((status, body.as_str()), (200, "kept"));
    assert_eq!(
        node.backend.get("test-memory-key").unwrap().as_deref(),
        Some(&b"kept"[..])
    );
}

#[tokio::test]
async fn the_redis_store_uses_raw_keys_as_spin_does() {
    let node = on_redis();
    let redis_url = redis_url();
    let key = format!("edge-node-test-{}", std::process::id());
    let url = format!("{}/probe/kv/{key}", node.url);
    let response = client().put(&url).body("on redis").send().await.unwrap();
    assert_eq!(response.status(), 204);
    // Another client of the same Redis sees the raw key and bytes.
    let mut con = redis::Client::open(redis_url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let raw: Option<Vec<u8>> = redis::cmd("GET").arg(&key).query(&mut con).unwrap();
    assert_eq!(raw.as_deref(), Some(&b"on redis"[..]));
    let (status, body) = get(&url, &[]).await;
    assert_eq!((status, body.as_str()), (200, "on redis"));
    let _: () = redis::cmd("DEL").arg(&key).query(&mut con).unwrap();
}

#[tokio::test]
async fn a_variable_flag_beats_the_manifest_default() {
    let backend: Arc<dyn Backend> = Arc::new(edge::data::MemoryBackend::default());
    let node = start(
        test_limits(),
        options(
            KeyValue::Shared(backend.clone()),
            &[("greeting", "from the flag")],
        ),
        backend,
    );
    let (status, body) = get(&format!("{}/probe/var/greeting", node.url), &[]).await;
    assert_eq!((status, body.as_str()), (200, "from the flag"));
    // A component only sees the variables its manifest entry declares.
    let (status, _) = get(&format!("{}/probe/var/upstream", node.url), &[]).await;
    assert_eq!(status, 404);
}
