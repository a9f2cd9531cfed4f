//! The state of one store: WASI, `wasi:http`, its resource table, the key-value stores and
//! variables its component may use, the instances of the component's dependencies made so
//! far, and what the limits saw.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{Instance, ResourceTable};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::data::key_value::Stores;
use crate::data::variables::Variables;
use crate::dependency::sidecar::{MakeStore, Sidecar};
use crate::host::outbound::DenyAll;

pub struct State {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) hooks: Box<dyn WasiHttpHooks>,
    deny: DenyAll,
    pub(crate) table: ResourceTable,
    pub(crate) stores: Stores,
    pub(crate) variables: Arc<Variables>,
    /// What the code running now may use of the component's configuration: everything for
    /// the component itself, what `inherit_configuration` grants while a dependency runs.
    pub(crate) access: Access,
    /// Instances of the component's dependencies, made on their first call.
    pub(crate) dependencies: HashMap<usize, Instance>,
    pub(crate) limiter: MemoryLimiter,
    /// Whether the guests used up the request's CPU budget (the trap that follows is that).
    pub(crate) cpu_exceeded: bool,
    /// The trace this store's spans belong to; `None` when telemetry is off.
    pub(crate) trace: Option<crate::observe::Trace>,
    /// Where a WASIp3 component's dependencies run ([`crate::dependency::sidecar`]).
    pub(crate) sidecar: Option<Sidecar<State>>,
}

/// Which parts of its component's configuration running code may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub key_value_stores: bool,
    pub variables: bool,
    pub allowed_outbound_hosts: bool,
}

impl Access {
    pub const ALL: Self = Self {
        key_value_stores: true,
        variables: true,
        allowed_outbound_hosts: true,
    };
    pub const NONE: Self = Self {
        key_value_stores: false,
        variables: false,
        allowed_outbound_hosts: false,
    };
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("stores", &self.stores)
            .field("variables", &self.variables)
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl State {
    /// State for one instance that may open `stores` and read `variables`. The guest gets
    /// no environment, arguments, files or sockets: only a clock and randomness; and no
    /// outbound HTTP until [`State::with_outbound`] grants it.
    pub fn new(stores: Stores, variables: Arc<Variables>) -> Self {
        Self {
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            hooks: Box::new(DenyAll),
            deny: DenyAll,
            table: ResourceTable::new(),
            stores,
            variables,
            access: Access::ALL,
            dependencies: HashMap::new(),
            limiter: MemoryLimiter::default(),
            cpu_exceeded: false,
            trace: None,
            sidecar: None,
        }
    }

    /// Outbound HTTP through `hooks` (the allow-list and in-process chaining).
    pub fn with_outbound(mut self, hooks: Box<dyn WasiHttpHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// Environment variables the guest sees (`[component.<id>] environment`), and the
    /// folder it sees, read-only, as `/` (its staged `files`).
    pub fn with_wasi(mut self, environment: &[(String, String)], files: Option<&Path>) -> Self {
        if environment.is_empty() && files.is_none() {
            return self;
        }
        let mut wasi = WasiCtx::builder();
        wasi.envs(environment);
        if let Some(dir) = files
            && let Err(e) = wasi.preopened_dir(dir, "/", FsPerms::ReadOnly)
        {
            tracing::warn!(error = %e, "the component's files could not be opened");
        }
        self.wasi = wasi.build();
        self
    }

    /// Puts this store's spans (dependency calls) under `trace`.
    pub fn with_trace(mut self, trace: Option<crate::observe::Trace>) -> Self {
        self.trace = trace;
        self
    }

    /// Runs the dependencies of this store's (WASIp3) component in a store `make` makes
    /// on their first call.
    pub fn with_sidecar(mut self, make: MakeStore<State>) -> Self {
        self.sidecar = Some(Sidecar::new(make));
        self
    }

    /// Caps each linear memory at `bytes`.
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.limiter.max_bytes = bytes;
        self
    }

    /// Whether the guests used up their CPU budget.
    pub fn cpu_exceeded(&self) -> bool {
        self.cpu_exceeded
    }

    /// Whether a memory grew past the cap (the guest then fails to allocate and traps).
    pub fn memory_exceeded(&self) -> bool {
        self.limiter.exceeded
    }
}

/// Refuses memory growth past a cap and remembers that it did, so a trap that follows is
/// reported as the memory limit rather than a guest bug.
#[derive(Debug)]
pub struct MemoryLimiter {
    max_bytes: usize,
    pub(crate) exceeded: bool,
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self {
            max_bytes: usize::MAX,
            exceeded: false,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A table entry is a pointer: a million is far beyond any real component.
        Ok(desired <= 1_000_000)
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

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        let hooks: &mut dyn WasiHttpHooks = if self.access.allowed_outbound_hosts {
            self.hooks.as_mut()
        } else {
            &mut self.deny
        };
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks,
        }
    }
}
