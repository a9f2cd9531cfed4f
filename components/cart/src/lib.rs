//! The cart edge component (`meridian:cart/cart`): strongly consistent per cart.
//!
//! A cart is one value in the edge key-value store under `keys::cart`, holding SKUs and
//! quantities only. Every change is:
//!
//! 1. read the stored bytes (an expired cart counts as absent and is deleted);
//! 2. apply the change to the decoded cart, checking limits (100 lines, 1 to 1,000 units,
//!    known SKUs), and raise its version;
//! 3. write it back with compare-and-swap against the bytes read; if another writer got there
//!    first, start again from 1 (up to [`logic::ATTEMPTS`] times, then `conflict`).
//!
//! So two shoppers' tabs adding different lines at once both land.
//!
//! # Layout
//!
//! - `logic`: the calls, over any key-value store.
//! - `wasm`: the export and its binding to `wasi:keyvalue` (store and atomics) and
//!   `wasi:config` (the `cart_ttl_seconds` variable).

pub mod logic;
mod wasm;

pub use wasm::bindings;

/// Instances live for one request: bump allocation (see `instance_heap`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static HEAP: instance_heap::InstanceHeap = instance_heap::InstanceHeap::new();
