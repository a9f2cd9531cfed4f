//! The Redis backend against the real server: Spin's raw key layout, and compare-and-swap
//! that a concurrent writer defeats.

use std::sync::Arc;

use edge::bindings::cart::GuestIndices;
use edge::bindings::types::{Line, Scope};
use edge::data::{Backend, RedisBackend};

use crate::helpers::{grocery, harness};

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A storefront name no other test run uses, so runs never see each other's keys.
fn unique_storefront() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("t{}-{nanos}", std::process::id())
}

#[test]
fn values_are_raw_bytes_under_raw_keys_and_a_stale_swap_loses() {
    let backend = RedisBackend::open(&redis_url()).unwrap();
    let key = format!("meridian/test/{}", unique_storefront());
    backend.set(&key, b"\x00raw").unwrap();
    let client = redis::Client::open(redis_url()).unwrap();
    let mut con = client.get_connection().unwrap();
    let raw: Vec<u8> = redis::cmd("GET").arg(&key).query(&mut con).unwrap();
    assert_eq!(raw, b"\x00raw");
    assert!(backend.swap_if(&key, Some(b"\x00raw"), b"v2").unwrap());
    assert!(!backend.swap_if(&key, Some(b"\x00raw"), b"v3").unwrap());
    assert_eq!(backend.get(&key).unwrap().unwrap(), b"v2");
    assert!(!backend.swap_if(&key, None, b"v4").unwrap());
    backend.delete(&key).unwrap();
    assert!(backend.swap_if(&key, None, b"v5").unwrap());
    backend.delete(&key).unwrap();
}

#[test]
fn the_cart_component_runs_on_redis() {
    let storefront = unique_storefront();
    let backend: Arc<dyn Backend> = Arc::new(RedisBackend::open(&redis_url()).unwrap());
    let products: Vec<_> = grocery()
        .into_iter()
        .map(|mut p| {
            p.storefront = storefront.clone();
            p
        })
        .collect();
    publish_to(backend.as_ref(), &storefront, &products);
    let scope = Scope {
        region: "eu-west".into(),
        storefront: storefront.clone(),
    };
    let (mut store, instance, loaded) = harness().instance("cart", &backend, &[]);
    let cart = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let id = cart.call_create(&mut store, &scope).unwrap().unwrap().id;
    let line = Line {
        sku: "LOAF-1".into(),
        quantity: 3,
    };
    let after = cart
        .call_add(&mut store, &scope, &id, &line)
        .unwrap()
        .unwrap();
    assert_eq!(crate::cart::pairs(&after.lines), [("LOAF-1".to_owned(), 3)]);
    let key = projections::keys::cart("eu-west", &storefront, &id);
    assert!(backend.exists(&key).unwrap());
    backend.delete(&key).unwrap();
    for p in &products {
        backend
            .delete(&projections::keys::product("eu-west", &storefront, &p.sku))
            .unwrap();
    }
}

fn publish_to(backend: &dyn Backend, storefront: &str, products: &[projections::Product]) {
    for p in products {
        backend
            .set(
                &projections::keys::product("eu-west", storefront, &p.sku),
                &projections::encode(p),
            )
            .unwrap();
    }
}
