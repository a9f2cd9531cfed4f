//! The component's export, over the host binding shared by every component
//! (`kv-binding`).
//!
//! The generated bindings compile on every target so the logic's tests use the same types;
//! their imports only work inside a component.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "cart-component",
        with: {
            "wasi:keyvalue/store@0.2.0-draft2": kv_binding::bindings::wasi::keyvalue::store,
            "wasi:keyvalue/atomics@0.2.0-draft2": kv_binding::bindings::wasi::keyvalue::atomics,
            "wasi:keyvalue/batch@0.2.0-draft2": kv_binding::bindings::wasi::keyvalue::batch,
            "wasi:config/store@0.2.0-draft-2024-09-27": kv_binding::bindings::wasi::config::store,
        },
        // serde: a native build of the storefront (benchmark baseline) calls the logic directly.
        additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
        generate_all,
    });
}

use bindings::exports::meridian::cart::cart::{CartError, Guest};
use bindings::meridian::types::types::{Cart, Line, Scope};
use kv_binding::HostKv;

use crate::logic::{self, Env};

fn open() -> Result<HostKv, CartError> {
    HostKv::open("default").map_err(|e| CartError::StoreUnavailable(e.0))
}

/// Now and the cart lifetime (variable `cart_ttl_seconds`, default 30 days).
fn env() -> Env {
    Env {
        now: kv_binding::now(),
        ttl_seconds: kv_binding::positive_variable("cart_ttl_seconds", logic::DEFAULT_TTL_SECONDS),
    }
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
