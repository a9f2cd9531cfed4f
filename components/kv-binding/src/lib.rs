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
use std::sync::atomic::{AtomicBool, Ordering};

use projections::kv::{Kv, KvError, Swap};

/// Set once `wasi:keyvalue/batch` gave an answer that cannot be trusted (see
/// [`HostKv::get_many`]): this instance then reads keys one by one.
static BATCH_UNUSABLE: AtomicBool = AtomicBool::new(false);

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
        // The batch answers a key/value pair per key asked, in order. Spin 4.0.2's Redis
        // store runs `get-many` as Redis' `KEYS` command instead of `MGET`: an error for
        // several keys, and a panic in Spin's host (a 500) for one. So one key is a plain
        // `get`; an error or an answer that is not one pair per key asked is not trusted,
        // and the keys are then read one by one, as they are for the rest of this instance
        // (an unreachable store fails there too).
        if keys.len() == 1 || BATCH_UNUSABLE.load(Ordering::Relaxed) {
            return keys.iter().map(|k| self.get(k)).collect();
        }
        match batch::get_many(&self.0, keys) {
            Ok(found)
                if found.len() == keys.len()
                    && found.iter().zip(keys).all(|((got, _), asked)| got == asked) =>
            {
                Ok(found.into_iter().map(|(_, value)| value).collect())
            }
            _ => {
                BATCH_UNUSABLE.store(true, Ordering::Relaxed);
                keys.iter().map(|k| self.get(k)).collect()
            }
        }
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
            // Spin 4.0.2's Redis store reports every swap as failed, even one whose write
            // committed (it ends the transaction with `UNWATCH key`, which Redis refuses).
            // So a failed swap is lost only if the key does not now hold what was written:
            // a store that holds exactly our value is the state a successful swap leaves.
            Err(atomics::CasError::CasFailed(_)) => {
                if self.get(key)?.as_deref() == Some(value) {
                    Ok(Swap::Done)
                } else {
                    Ok(Swap::Lost)
                }
            }
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
