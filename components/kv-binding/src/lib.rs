//! The edge components' one binding to their host, shared so each component's own
//! `wasm.rs` only exports its interface:
//!
//! - [`HostKv`]: the host's `wasi:keyvalue` store as `projections::kv::Kv` (batch reads,
//!   compare-and-swap through `atomics`);
//! - [`variable`]: a variable through `wasi:config` (Spin maps these to the application's
//!   variables);
//! - [`now`]: Unix seconds from the WASI wall clock.
//!
//! Components generate their bindings with `with:` pointing at [`bindings`] for these
//! interfaces, so the types are the same everywhere. The imports only work inside a
//! component; natively they compile (for the components' tests) but are never called.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "component-imports",
        generate_all,
    });
}

use bindings::wasi::config::store as config;
use bindings::wasi::keyvalue::{atomics, batch, store};
use projections::kv::{Kv, KvError, Swap};

pub use bindings::wasi::keyvalue::store::Error as StoreError;

/// An open key-value store.
#[derive(Debug)]
pub struct HostKv(store::Bucket);

fn kv_error(e: store::Error) -> KvError {
    KvError(format!("{e:?}"))
}

impl HostKv {
    /// Opens the store labelled `label` (`default` unless the manifest grants others).
    pub fn open(label: &str) -> Result<Self, KvError> {
        store::open(label).map(Self).map_err(kv_error)
    }
}

impl Kv for HostKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.0.get(key).map_err(kv_error)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        let found = batch::get_many(&self.0, keys).map_err(kv_error)?;
        // The batch answers key/value pairs; put them back in the order asked.
        let mut by_key: std::collections::HashMap<String, Option<Vec<u8>>> =
            found.into_iter().collect();
        Ok(keys.iter().map(|k| by_key.remove(k).flatten()).collect())
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

/// The variable `name`, if set and not empty.
pub fn variable(name: &str) -> Option<String> {
    config::get(name).ok().flatten().filter(|v| !v.is_empty())
}

/// A positive whole-number variable (seconds, counts), or `default` when unset or malformed.
pub fn positive_variable(name: &str, default: u64) -> u64 {
    variable(name)
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
