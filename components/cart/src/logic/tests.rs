use std::cell::Cell;

use projections::kv::MemoryKv;
use projections::{encode, fixtures};

use super::*;

fn scope() -> Scope {
    Scope {
        region: "eu-west".into(),
        storefront: "grocer".into(),
    }
}

const ENV: Env = Env {
    now: 1_000,
    ttl_seconds: 100,
};

fn line(sku: &str, quantity: u32) -> Line {
    Line {
        sku: sku.into(),
        quantity,
    }
}

/// A store whose catalogue holds `skus`.
fn with_products(skus: &[&str]) -> MemoryKv {
    let kv = MemoryKv::new();
    for sku in skus {
        let p = fixtures::product(sku, "bakery");
        kv.set(&keys::product("eu-west", "grocer", sku), &encode(&p))
            .unwrap();
    }
    kv
}

fn lines(cart: &Cart) -> Vec<(String, u32)> {
    cart.lines
        .iter()
        .map(|l| (l.sku.clone(), l.quantity))
        .collect()
}

#[test]
fn a_new_cart_has_an_unguessable_id_and_no_lines() {
    let kv = MemoryKv::new();
    let a = create(&kv, &scope(), ENV).unwrap();
    let b = create(&kv, &scope(), ENV).unwrap();
    assert!(valid_id(&a.id));
    assert_ne!(a.id, b.id);
    assert!(a.lines.is_empty());
    assert_eq!(a.expires_at, 1_100);
}

#[test]
fn adding_the_same_sku_twice_adds_up_and_each_change_raises_the_version() {
    let kv = with_products(&["LOAF", "MILK"]);
    let cart = create(&kv, &scope(), ENV).unwrap();
    add(&kv, &scope(), &cart.id, &line("LOAF", 2), ENV).unwrap();
    add(&kv, &scope(), &cart.id, &line("MILK", 1), ENV).unwrap();
    let after = add(&kv, &scope(), &cart.id, &line("LOAF", 3), ENV).unwrap();
    assert_eq!(lines(&after), [("LOAF".into(), 5), ("MILK".into(), 1)]);
    assert_eq!(after.version, 4);
}

#[test]
fn quantities_skus_and_ids_are_checked() {
    let kv = with_products(&["LOAF"]);
    let cart = create(&kv, &scope(), ENV).unwrap();
    let id = cart.id.as_str();
    assert_eq!(
        add(&kv, &scope(), id, &line("LOAF", 0), ENV),
        Err(CartError::BadQuantity(0))
    );
    assert_eq!(
        add(&kv, &scope(), id, &line("LOAF", 1_001), ENV),
        Err(CartError::BadQuantity(1_001))
    );
    add(&kv, &scope(), id, &line("LOAF", 999), ENV).unwrap();
    assert_eq!(
        add(&kv, &scope(), id, &line("LOAF", 2), ENV),
        Err(CartError::BadQuantity(1_001))
    );
    assert_eq!(
        add(&kv, &scope(), id, &line("CAVIAR", 1), ENV),
        Err(CartError::UnknownSku("CAVIAR".into()))
    );
    assert_eq!(
        get(&kv, &scope(), "not-a-cart", ENV),
        Err(CartError::MalformedCartId)
    );
    assert_eq!(
        get(&kv, &scope(), &"0".repeat(32), ENV),
        Err(CartError::UnknownCart)
    );
    assert_eq!(
        set_quantity(&kv, &scope(), id, &line("MILK", 1), ENV),
        Err(CartError::NotInCart("MILK".into()))
    );
    let bad_scope = Scope {
        region: "../x".into(),
        storefront: "grocer".into(),
    };
    assert!(matches!(
        create(&kv, &bad_scope, ENV),
        Err(CartError::BadRequest(_))
    ));
}

#[test]
fn a_cart_holds_at_most_a_hundred_lines() {
    let skus: Vec<String> = (0..101).map(|i| format!("SKU-{i}")).collect();
    let refs: Vec<&str> = skus.iter().map(String::as_str).collect();
    let kv = with_products(&refs);
    let cart = create(&kv, &scope(), ENV).unwrap();
    for sku in &refs[..100] {
        add(&kv, &scope(), &cart.id, &line(sku, 1), ENV).unwrap();
    }
    assert_eq!(
        add(&kv, &scope(), &cart.id, &line(refs[100], 1), ENV),
        Err(CartError::TooManyLines)
    );
}

#[test]
fn set_remove_and_clear_change_only_what_they_name() {
    let kv = with_products(&["LOAF", "MILK"]);
    let id = create(&kv, &scope(), ENV).unwrap().id;
    add(&kv, &scope(), &id, &line("LOAF", 2), ENV).unwrap();
    add(&kv, &scope(), &id, &line("MILK", 2), ENV).unwrap();
    let set = set_quantity(&kv, &scope(), &id, &line("LOAF", 7), ENV).unwrap();
    assert_eq!(lines(&set), [("LOAF".into(), 7), ("MILK".into(), 2)]);
    let removed = remove(&kv, &scope(), &id, "MILK", ENV).unwrap();
    assert_eq!(lines(&removed), [("LOAF".into(), 7)]);
    assert_eq!(
        remove(&kv, &scope(), &id, "MILK", ENV),
        Err(CartError::NotInCart("MILK".into()))
    );
    assert!(clear(&kv, &scope(), &id, ENV).unwrap().lines.is_empty());
}

#[test]
fn an_expired_cart_is_gone_and_a_change_extends_the_lifetime() {
    let kv = with_products(&["LOAF"]);
    let id = create(&kv, &scope(), ENV).unwrap().id;
    let later = Env { now: 1_050, ..ENV };
    let cart = add(&kv, &scope(), &id, &line("LOAF", 1), later).unwrap();
    assert_eq!(cart.expires_at, 1_150);
    let expired = Env { now: 1_150, ..ENV };
    assert_eq!(
        get(&kv, &scope(), &id, expired),
        Err(CartError::UnknownCart)
    );
    assert_eq!(get(&kv, &scope(), &id, ENV), Err(CartError::UnknownCart));
}

#[test]
fn merging_adds_quantities_caps_them_and_deletes_the_source_once() {
    let kv = with_products(&["LOAF", "MILK"]);
    let target = create(&kv, &scope(), ENV).unwrap().id;
    let source = create(&kv, &scope(), ENV).unwrap().id;
    add(&kv, &scope(), &target, &line("LOAF", 600), ENV).unwrap();
    add(&kv, &scope(), &source, &line("LOAF", 600), ENV).unwrap();
    add(&kv, &scope(), &source, &line("MILK", 1), ENV).unwrap();
    let merged = merge(&kv, &scope(), &target, &source, ENV).unwrap();
    assert_eq!(lines(&merged), [("LOAF".into(), 1_000), ("MILK".into(), 1)]);
    assert_eq!(
        get(&kv, &scope(), &source, ENV),
        Err(CartError::UnknownCart)
    );
    // A retried merge finds the source recorded and adds nothing.
    let again = merge(&kv, &scope(), &target, &source, ENV).unwrap();
    assert_eq!(lines(&again), lines(&merged));
    let unknown = "f".repeat(32);
    assert_eq!(
        merge(&kv, &scope(), &target, &unknown, ENV),
        Err(CartError::UnknownCart)
    );
}

/// A store where another writer adds a line just before this writer's first swap.
struct Racing<'a> {
    inner: &'a MemoryKv,
    id: String,
    raced: Cell<bool>,
}

impl Kv for Racing<'_> {
    fn get(&self, key: &str) -> std::result::Result<Option<Vec<u8>>, KvError> {
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &[u8]) -> std::result::Result<(), KvError> {
        self.inner.set(key, value)
    }

    fn delete(&self, key: &str) -> std::result::Result<(), KvError> {
        self.inner.delete(key)
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> std::result::Result<Swap, KvError> {
        if !self.raced.replace(true) {
            add(self.inner, &scope(), &self.id, &line("MILK", 1), ENV).unwrap();
        }
        self.inner.compare_and_swap(key, expected, value)
    }
}

#[test]
fn a_concurrent_change_is_retried_and_neither_line_is_lost() {
    let kv = with_products(&["LOAF", "MILK"]);
    let id = create(&kv, &scope(), ENV).unwrap().id;
    let racing = Racing {
        inner: &kv,
        id: id.clone(),
        raced: Cell::new(false),
    };
    let cart = add(&racing, &scope(), &id, &line("LOAF", 1), ENV).unwrap();
    assert_eq!(lines(&cart), [("MILK".into(), 1), ("LOAF".into(), 1)]);
    assert_eq!(cart.version, 3);
}

#[test]
fn a_corrupt_cart_is_reported_not_overwritten() {
    let kv = with_products(&["LOAF"]);
    let id = "a".repeat(32);
    let key = keys::cart("eu-west", "grocer", &id);
    kv.set(&key, b"{oops").unwrap();
    assert!(matches!(
        add(&kv, &scope(), &id, &line("LOAF", 1), ENV),
        Err(CartError::CorruptCart(_))
    ));
    assert_eq!(kv.get(&key).unwrap().unwrap(), b"{oops");
}
