//! The component's export and its binding to the host's `wasi:keyvalue` and `wasi:config`.
//!
//! The generated bindings compile on every target so the logic's tests use the same types;
//! their imports only work inside a component.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "personalisation-component",
        generate_all,
        additional_derives: [PartialEq],
    });
}

use bindings::exports::meridian::edge::personalisation::{
    Guest, PageContext, PersonalisationError, SessionSignals,
};
use bindings::meridian::edge::types::{Recommendation, Scope};
use bindings::wasi::config::store as config;
use bindings::wasi::keyvalue::{batch, store};
use projections::kv::{Kv, KvError, Swap};

use crate::logic::{self, Weights};

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
        Err(KvError("personalisation never writes".to_owned()))
    }

    fn delete(&self, _: &str) -> Result<(), KvError> {
        Err(KvError("personalisation never writes".to_owned()))
    }

    fn compare_and_swap(&self, _: &str, _: Option<&[u8]>, _: &[u8]) -> Result<Swap, KvError> {
        Err(KvError("personalisation never writes".to_owned()))
    }
}

// Exported only inside a component: native builds (the logic's tests) have no use for the
// export symbols, whose names a native linker refuses.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    fn recommend(
        scope: Scope,
        page: PageContext,
        session: SessionSignals,
        limit: u32,
    ) -> Result<Vec<Recommendation>, PersonalisationError> {
        let kv = store::open("default")
            .map(HostKv)
            .map_err(|e| PersonalisationError::StoreUnavailable(format!("{e:?}")))?;
        // A malformed weights variable falls back to the documented default.
        let weights = config::get("recommendation_weights")
            .ok()
            .flatten()
            .and_then(|w| Weights::parse(&w))
            .unwrap_or_default();
        logic::recommend(&kv, &scope, &page, &session, limit, weights)
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
