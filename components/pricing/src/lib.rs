//! The pricing edge component (`meridian:pricing/pricing`): deterministic, signed quotes.
//!
//! How a cart is quoted:
//!
//! 1. The arguments are checked (country, 1 to 100 lines of known SKUs, 1 to 1,000 units).
//! 2. The region's pricing rules (currency, tax display, tax rates by country and category,
//!    promotions) and every line's product are read in one batch.
//! 3. `pricing-rules`, the library the regional core reprices with, computes the quote.
//! 4. The quote is signed with the region's key (variable `quote_signing_key_<region>`,
//!    dashes as underscores) and given an expiry (variable `quote_ttl_seconds`, default
//!    15 minutes), so the core can tell whether the shopper saw the price it commits.
//!
//! # Layout
//!
//! - `logic`: the quote over any key-value store.
//! - `wasm`: the export and its binding to `wasi:keyvalue` and `wasi:config`.

pub mod logic;
mod wasm;

pub use wasm::bindings;

/// Instances live for one request: bump allocation (see `instance_heap`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static HEAP: instance_heap::InstanceHeap = instance_heap::InstanceHeap::new();
