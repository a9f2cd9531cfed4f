//! The component's export and its binding to the host's `wasi:keyvalue` (store, atomics) and
//! `wasi:config`.
//!
//! The generated bindings compile on every target so the logic's tests use the same types;
//! their imports only work inside a component.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "cart-component",
        generate_all,
        additional_derives: [PartialEq],
        additional_derives_ignore: ["cas-error"],
    });
}

use bindings::exports::meridian::edge::cart::{CartError, Guest};
use bindings::meridian::edge::types::{Cart, Line, Scope};
use bindings::wasi::config::store as config;
use bindings::wasi::keyvalue::{atomics, store};
use projections::kv::{Kv, KvError, Swap};

use crate::logic::{self, Env};

/// The default store: Spin's `default` label, which the manifest grants.
struct HostKv(store::Bucket);

fn kv_error(e: store::Error) -> KvError {
    KvError(format!("{e:?}"))
}

impl Kv for HostKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.0.get(key).map_err(kv_error)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.0.set(key, value).map_err(kv_error)
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        self.0.delete(key).map_err(kv_error)
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<Swap, KvError> {
        let cas = atomics::Cas::new(&self.0, key).map_err(kv_error)?;
        if cas.current().map_err(kv_error)?.as_deref() != expected {
            return Ok(Swap::Lost);
        }
        match atomics::swap(cas, value) {
            Ok(()) => Ok(Swap::Done),
            Err(atomics::CasError::CasFailed(_)) => Ok(Swap::Lost),
            Err(atomics::CasError::StoreError(e)) => Err(kv_error(e)),
        }
    }
}

fn open() -> Result<HostKv, CartError> {
    store::open("default")
        .map(HostKv)
        .map_err(|e| CartError::StoreUnavailable(format!("{e:?}")))
}

/// Now and the cart lifetime (variable `cart_ttl_seconds`, default 30 days).
fn env() -> Env {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ttl_seconds = config::get("cart_ttl_seconds")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse().ok())
        .filter(|ttl| *ttl > 0)
        .unwrap_or(logic::DEFAULT_TTL_SECONDS);
    Env { now, ttl_seconds }
}

// Exported only inside a component: native builds (the logic's tests) have no use for the
// export symbols, whose names a native linker refuses.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    fn create(scope: Scope) -> Result<Cart, CartError> {
        logic::create(&open()?, &scope, env())
    }

    fn get(scope: Scope, id: String) -> Result<Cart, CartError> {
        logic::get(&open()?, &scope, &id, env())
    }

    fn add(scope: Scope, id: String, line: Line) -> Result<Cart, CartError> {
        logic::add(&open()?, &scope, &id, &line, env())
    }

    fn set_quantity(scope: Scope, id: String, line: Line) -> Result<Cart, CartError> {
        logic::set_quantity(&open()?, &scope, &id, &line, env())
    }

    fn remove(scope: Scope, id: String, sku: String) -> Result<Cart, CartError> {
        logic::remove(&open()?, &scope, &id, &sku, env())
    }

    fn clear(scope: Scope, id: String) -> Result<Cart, CartError> {
        logic::clear(&open()?, &scope, &id, env())
    }

    fn merge(scope: Scope, target: String, source: String) -> Result<Cart, CartError> {
        logic::merge(&open()?, &scope, &target, &source, env())
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
