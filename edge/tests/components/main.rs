//! Host tests of the edge components: each built `.wasm` is loaded into wasmtime by the edge
//! node's runtime and called through its real WIT interface, with an in-memory (or Redis)
//! key-value store seeded as the regional core's relay would leave it.
#![allow(clippy::unwrap_used)]

mod cart;
mod catalogue;
mod helpers;
mod manifest;
mod personalisation;
mod pricing;
mod redis_store;
