//! The host interfaces a component may import, each implemented over the store's
//! [`crate::state::State`]:
//!
//! - [`keyvalue`]: `wasi:keyvalue` (store, atomics, batch);
//! - [`config`]: `wasi:config/store` (the component's variables);
//! - [`spin_v3`]: Spin's `spin:key-value@3.0.0` and `spin:variables@3.0.0` (WASIp3 only);
//! - [`outbound`]: outgoing `wasi:http` (allow-list, TLS, service chaining, region pinning).
//!
//! WASI itself and `wasi:http`'s types come from `wasmtime-wasi` and `wasmtime-wasi-http`;
//! [`crate::runtime`] adds all of them to the linkers.

pub mod config;
pub mod keyvalue;
pub mod outbound;
pub mod spin_v3;

use crate::state::State;

// Meridian's shared types interface has no functions: nothing to provide.
impl crate::bindings::types::Host for State {}
