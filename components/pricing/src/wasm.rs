//! The component's export and its binding to the host's `wasi:keyvalue` and `wasi:config`.
//!
//! The generated bindings compile on every target so the logic's tests use the same types;
//! their imports only work inside a component.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "pricing-component",
        generate_all,
        additional_derives: [PartialEq],
    });
}

use bindings::exports::meridian::edge::pricing::{Guest, PricingError};
use bindings::meridian::edge::types::{Line, Quote, Scope};
use bindings::wasi::config::store as config;
use bindings::wasi::keyvalue::{batch, store};
use projections::kv::{Kv, KvError, Swap};

use crate::logic::{self, Env};

/// The default store, read-only here.
struct HostKv(store::Bucket);

fn kv_error(e: store::Error) -> KvError {
    KvError(format!("{e:?}"))
}

impl Kv for HostKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.0.get(key).map_err(kv_error)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        let found = batch::get_many(&self.0, keys).map_err(kv_error)?;
        let mut by_key: std::collections::HashMap<String, Option<Vec<u8>>> =
            found.into_iter().collect();
        Ok(keys.iter().map(|k| by_key.remove(k).flatten()).collect())
    }

    fn set(&self, _: &str, _: &[u8]) -> Result<(), KvError> {
        Err(KvError("pricing never writes".to_owned()))
    }

    fn delete(&self, _: &str) -> Result<(), KvError> {
        Err(KvError("pricing never writes".to_owned()))
    }

    fn compare_and_swap(&self, _: &str, _: Option<&[u8]>, _: &[u8]) -> Result<Swap, KvError> {
        Err(KvError("pricing never writes".to_owned()))
    }
}

fn variable(name: &str) -> Option<String> {
    config::get(name).ok().flatten().filter(|v| !v.is_empty())
}

// Exported only inside a component: native builds (the logic's tests) have no use for the
// export symbols, whose names a native linker refuses.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    fn quote_cart(
        scope: Scope,
        country: String,
        lines: Vec<Line>,
        promo_codes: Vec<String>,
    ) -> Result<Quote, PricingError> {
        let kv = store::open("default")
            .map(HostKv)
            .map_err(|e| PricingError::StoreUnavailable(format!("{e:?}")))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let env = Env {
            now,
            ttl_seconds: variable("quote_ttl_seconds")
                .and_then(|v| v.trim().parse().ok())
                .filter(|ttl| *ttl > 0)
                .unwrap_or(logic::DEFAULT_TTL_SECONDS),
            signing_key: variable(&logic::signing_key_variable(&scope.region))
                .map(String::into_bytes),
        };
        logic::quote_cart(&kv, &scope, &country, &lines, &promo_codes, &env)
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
