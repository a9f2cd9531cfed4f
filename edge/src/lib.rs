//! Meridian's edge node: a wasmtime host for the components that `spin.toml` declares.
//!
//! What it does so far, in the order a call flows through it:
//!
//! 1. [`runtime::Runtime`] holds one wasmtime engine and a linker with everything a Meridian
//!    component may import: WASI (p2), `wasi:keyvalue` (store, atomics, batch) and
//!    `wasi:config`. It compiles a component once into an `InstancePre`.
//! 2. Each call gets a fresh [`state::State`]: WASI context, resource table, the key-value
//!    stores the component may open (by label) and its resolved variables.
//! 3. Key-value calls go to a [`kv::Backend`]: in memory (the embedded default) or Redis,
//!    with raw keys and raw byte values as in Spin's Redis store, so the regional core's relay,
//!    Spin and this node all see the same data.
//!
//! Host bindings are generated once, from `wit/` (world `meridian:edge/edge-host`), in
//! [`bindings`].
//!
//! # Layout
//!
//! - `app`: loading `spin.toml` into an application: components compiled and linked,
//!   variables resolved (flags, runtime-config providers, environment, defaults), key-value
//!   stores opened, `files` staged, outbound allow-lists parsed.
//! - `server`: the HTTP server (hyper): one request from routing to the guest's response,
//!   limits, the access log.
//! - `router`: `[[trigger.http]]` routes and Spin's `spin-*` request headers.
//! - `region`: the shopper's home region from the CDN's country header or cookie.
//! - `outbound`: outgoing HTTP (allow-list, TLS, service chaining, region pinning).
//! - `cache`: compiled components cached on disk.
//! - `bindings`: the `bindgen!` output for the edge-host world.
//! - `build`: building the components from source (tests, benchmarks, local run).
//! - `kv`: key-value backends and the `wasi:keyvalue` host implementation.
//! - `config`: variables and the `wasi:config` host implementation.
//! - `manifest`: `spin.toml` (manifest version 2), parsed strictly.
//! - `state`: per-call store state.
//! - `runtime`: engine, linker, compiled components.
//! - `p3`: WASIp3 components (`wasi:http/handler@0.3`) and Spin's v3 key-value and variables.
//! - `sidecar`: the store where a WASIp3 component's dependencies run.
//! - `typed`: typed calls into dependencies that implement Meridian's own interfaces.
//! - `observe`: OpenTelemetry spans and metrics (off unless an OTLP endpoint is set).

pub mod app;
pub mod bindings;
pub mod build;
mod cache;
pub mod config;
pub mod kv;
pub mod manifest;
pub mod observe;
pub mod outbound;
pub mod p3;
pub mod region;
pub mod router;
pub mod runtime;
pub mod server;
pub mod sidecar;
#[cfg(test)]
mod snapshots;
pub mod state;
mod typed;
