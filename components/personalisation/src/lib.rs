//! The personalisation edge component (`meridian:personalisation/personalisation`): recommendations
//! with no personal data. Its only input about the shopper is the session (cart and recently
//! viewed SKUs); everything else comes from the region's model that the regional core
//! publishes (co-occurrence pairs seen in at least 5 distinct confirmed orders, and the most
//! popular SKUs).
//!
//! How a page's recommendations are made:
//!
//! 1. Anchors: the product in view (product page), the cart's SKUs (cart page), and the
//!    recently viewed SKUs (every page, weighted half).
//! 2. Candidates and three scores, each 0 to 1,000: *collaborative* (bought together with an
//!    anchor, by number of orders), *content* (same category as an anchor, plus shared
//!    tags), *rules* (rank in the region's popular list).
//! 3. Business rules remove candidates that are out of stock per the stock hints, already in
//!    the cart, the product in view, or not for sale.
//! 4. The blend is the weighted sum (variable `recommendation_weights`, percentages for
//!    collaborative, content, rules; default `60,30,10`); best first, ties by SKU.
//!
//! # Layout
//!
//! - `logic`: the blend over any key-value store.
//! - `wasm`: the export and its binding to `wasi:keyvalue` and `wasi:config`.

pub mod logic;
mod wasm;

pub use wasm::bindings;

/// Instances live for one request: bump allocation (see `instance_heap`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static HEAP: instance_heap::InstanceHeap = instance_heap::InstanceHeap::new();
