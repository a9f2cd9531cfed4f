//! The catalogue edge component (`meridian:catalogue/catalogue`): products, category listings and
//! full-text search, answered from the projections the regional core's relay writes into the
//! edge key-value store. It never writes.
//!
//! How a call is answered:
//!
//! 1. The scope and arguments are checked; bad input is a `bad-request`, never a trap.
//! 2. A listing reads the category's index (SKUs in each sort order) and slices the page; a
//!    search reads the corpus statistics and the postings of each query term in one batch
//!    and ranks them with BM25 (`projections::search`).
//! 3. The page's products (and, for a product page, its stock hint) are read in one batch
//!    and priced in the region's currency, which the pricing rules projection names.
//!
//! The logic is generic over [`projections::kv::Kv`] so it is tested natively; `wasm`
//! binds it to the host's `wasi:keyvalue`.
//!
//! # Layout
//!
//! - `logic`: the calls, over any key-value store.
//! - `wasm`: the component's export and its key-value binding (built for `wasm32-wasip2`).

pub mod logic;
mod wasm;

pub use wasm::bindings;

/// Instances live for one request: bump allocation (see `instance_heap`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static HEAP: instance_heap::InstanceHeap = instance_heap::InstanceHeap::new();
