use std::sync::Arc;

use edge::bindings::cart::{CartError, GuestIndices};
use edge::bindings::types::Line;
use edge::data::Backend;

use crate::helpers::{harness, memory_grocery, scope};

fn line(sku: &str, quantity: u32) -> Line {
    Line {
        sku: sku.into(),
        quantity,
    }
}

pub fn pairs(lines: &[Line]) -> Vec<(String, u32)> {
    lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect()
}

#[test]
fn a_cart_is_created_filled_and_read_back_through_the_store() {
    let backend = memory_grocery();
    let (mut store, instance, loaded) =
        harness().instance("cart", &backend, &[("cart_ttl_seconds", "3600")]);
    let cart = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let created = cart.call_create(&mut store, &scope()).unwrap().unwrap();
    assert_eq!(created.id.len(), 32);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(created.expires_at.abs_diff(now + 3600) < 5);
    cart.call_add(&mut store, &scope(), &created.id, &line("LOAF-1", 2))
        .unwrap()
        .unwrap();
    // A fresh instance sees what the first one stored.
    let (mut store2, instance2, _) = harness().instance("cart", &backend, &[]);
    let cart2 = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store2, &instance2)
        .unwrap();
    let read = cart2
        .call_get(&mut store2, &scope(), &created.id)
        .unwrap()
        .unwrap();
    assert_eq!(pairs(&read.lines), [("LOAF-1".to_owned(), 2)]);
    assert_eq!(read.version, 2);
}

#[test]
fn zero_quantities_and_unknown_skus_are_typed_errors() {
    let backend = memory_grocery();
    let (mut store, instance, loaded) = harness().instance("cart", &backend, &[]);
    let cart = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let id = cart.call_create(&mut store, &scope()).unwrap().unwrap().id;
    let zero = cart
        .call_add(&mut store, &scope(), &id, &line("LOAF-1", 0))
        .unwrap();
    assert!(matches!(zero, Err(CartError::BadQuantity(0))), "{zero:?}");
    let unknown = cart
        .call_add(&mut store, &scope(), &id, &line("CAVIAR", 1))
        .unwrap();
    assert!(
        matches!(&unknown, Err(CartError::UnknownSku(s)) if s == "CAVIAR"),
        "{unknown:?}"
    );
    let malformed = cart.call_get(&mut store, &scope(), "nope").unwrap();
    assert!(
        matches!(malformed, Err(CartError::MalformedCartId)),
        "{malformed:?}"
    );
}

#[test]
fn concurrent_adds_to_one_cart_from_many_instances_lose_no_line() {
    let backend = memory_grocery();
    let (mut store, instance, loaded) = harness().instance("cart", &backend, &[]);
    let cart = GuestIndices::new(&loaded.pre)
        .unwrap()
        .load(&mut store, &instance)
        .unwrap();
    let id = cart.call_create(&mut store, &scope()).unwrap().unwrap().id;
    let skus = ["LOAF-1", "RYE-1", "MILK-1", "BUTTER-1", "CHERRY-1"];
    std::thread::scope(|s| {
        for sku in skus {
            let backend: Arc<dyn Backend> = backend.clone();
            let id = id.clone();
            s.spawn(move || {
                for _ in 0..10 {
                    let (mut store, instance, loaded) = harness().instance("cart", &backend, &[]);
                    let cart = GuestIndices::new(&loaded.pre)
                        .unwrap()
                        .load(&mut store, &instance)
                        .unwrap();
                    cart.call_add(&mut store, &scope(), &id, &line(sku, 1))
                        .unwrap()
                        .unwrap();
                }
            });
        }
    });
    let read = cart.call_get(&mut store, &scope(), &id).unwrap().unwrap();
    let mut lines = pairs(&read.lines);
    lines.sort();
    let mut want: Vec<(String, u32)> = skus.iter().map(|s| ((*s).to_owned(), 10)).collect();
    want.sort();
    assert_eq!(lines, want);
    assert_eq!(read.version, 51);
}
