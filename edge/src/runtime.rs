//! The wasmtime engine and linker, and components compiled once into `InstancePre`s.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::EdgeHost;
use crate::config::Variables;
use crate::kv::Stores;
use crate::state::State;

/// One engine and one linker for every component of the node.
pub struct Runtime {
    engine: Engine,
    linker: Linker<State>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

/// A compiled component, ready to instantiate.
#[derive(Clone)]
pub struct Loaded {
    pub pre: InstancePre<State>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded").finish_non_exhaustive()
    }
}

impl Runtime {
    pub fn new() -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        EdgeHost::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)?;
        Ok(Self { engine, linker })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles the component at `path` and resolves its imports.
    pub fn load(&self, path: &Path) -> anyhow::Result<Loaded> {
        let component = Component::from_file(&self.engine, path)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("failed to compile {}", path.display()))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("failed to link {}", path.display()))?;
        Ok(Loaded { pre })
    }

    /// A store for one instance with its key-value stores and variables.
    pub fn store(&self, stores: Stores, variables: Arc<Variables>) -> Store<State> {
        Store::new(&self.engine, State::new(stores, variables))
    }
}
