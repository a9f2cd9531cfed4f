//! The state of one component instance: WASI, its resource table, the key-value stores it
//! may open and its variables.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::config::Variables;
use crate::kv::Stores;

pub struct State {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) stores: Stores,
    pub(crate) variables: Arc<Variables>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("stores", &self.stores)
            .field("variables", &self.variables)
            .finish_non_exhaustive()
    }
}

impl State {
    /// State for one instance that may open `stores` and read `variables`. The guest gets
    /// no environment, arguments, files or sockets: only a clock and randomness.
    pub fn new(stores: Stores, variables: Arc<Variables>) -> Self {
        Self {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            stores,
            variables,
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

// The shared types interface has no functions: nothing to provide.
impl crate::bindings::types::Host for State {}
