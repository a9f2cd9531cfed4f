//! The wasmtime engine and linker, the limits every instance runs under, and components
//! compiled once (cached on disk by content hash) into `InstancePre`s, with their
//! dependencies linked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};

use crate::bindings::EdgeHost;
use crate::data::{Stores, Variables};
use crate::state::State;

/// The export that marks a WASIp3 HTTP component.
pub const HANDLER_EXPORT: &str = "wasi:http/handler@0.3";

/// How much of each memory slot stays resident between instances.
pub const KEEP_RESIDENT: usize = 4 << 20;

/// How often the engine's epoch advances: the granularity of the CPU budget and the
/// deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What one instance may use. None of these can take the node down: a component that
/// exceeds one traps, and only its own request fails.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The most any one linear memory may grow to, in bytes.
    pub memory_bytes: usize,
    /// How long one request may run, from instantiation to its last write, waiting included.
    pub deadline: Duration,
    /// How much CPU time one request's guests may use on the thread that runs them (time
    /// spent waiting for the network or a store does not count).
    pub cpu: Duration,
    /// A CPU budget of its own for a component, by id (its dependencies share it).
    pub cpu_per_component: BTreeMap<String, Duration>,
    /// The largest request body accepted, in bytes.
    pub body_bytes: u64,
    /// How many requests may run at once; more get a fast 503.
    pub max_instances: usize,
    /// Each component's share of those, and quarantine.
    pub shares: crate::share::ShareLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(5),
            // A storefront page uses well under 1 ms of CPU (docs/benchmarks.md).
            cpu: Duration::from_millis(50),
            cpu_per_component: BTreeMap::new(),
            body_bytes: 1 << 20,
            max_instances: 64,
            shares: crate::share::ShareLimits::default(),
        }
    }
}

/// One engine for every component of the node, and two linkers: one for WASIp2 components
/// (host functions called synchronously, on a blocking thread per request), one for WASIp3
/// components (`wasi:http/handler@0.3`, run in the store's async event loop).
pub struct Runtime {
    engine: Engine,
    linker: Linker<State>,
    linker_p3: Linker<State>,
    limits: Limits,
    cache: Option<PathBuf>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("limits", &self.limits)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// A compiled component, ready to instantiate.
#[derive(Clone)]
pub struct Loaded {
    pub component: Component,
    pub pre: InstancePre<State>,
    /// Whether it exports `wasi:http/handler@0.3` (and so links against WASIp3).
    pub p3: bool,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded").finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime with the default limits and no compilation cache.
    pub fn new() -> anyhow::Result<Self> {
        Self::with_limits(Limits::default(), None)
    }

    /// A runtime whose instances run under `limits`, caching compiled components in
    /// `cache` when given.
    pub fn with_limits(limits: Limits, cache: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        // WASIp3 components (spin-sdk 7) use the component model's async ABI.
        config.wasm_component_model_async(true);
        config.epoch_interruption(true);
        // For profiling: `MERIDIAN_EDGE_PERFMAP=1` writes /tmp/perf-<pid>.map, so `perf
        // report` names the guests' functions (edge/README.md, "Profiling").
        if std::env::var_os("MERIDIAN_EDGE_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let mut pool = PoolingAllocationConfig::new();
        // A request may hold the component, its dependencies and chained components.
        let instances = u32::try_from(limits.max_instances.saturating_mul(8))
            .unwrap_or(u32::MAX)
            .max(1000);
        pool.total_component_instances(instances);
        pool.total_core_instances(instances.saturating_mul(4));
        pool.total_memories(instances.saturating_mul(2));
        pool.total_tables(instances.saturating_mul(2));
        pool.max_memory_size(limits.memory_bytes);
        pool.max_core_instances_per_component(64);
        pool.max_memories_per_component(16);
        pool.max_tables_per_component(16);
        // Reset the first megabytes of a memory slot by zeroing them in place rather than
        // returning them to the kernel: a fresh instance then does not page-fault its way
        // through the heap it uses on every request (measured in docs/benchmarks.md).
        pool.linear_memory_keep_resident(KEEP_RESIDENT);
        // Where the kernel can say which of those pages a request touched (`PAGEMAP_SCAN`,
        // Linux 6.7+), reset only those, not all 4 MiB: storefront pages 10-15% faster at
        // concurrency 1 and up to twice the requests/s at 32 (docs/benchmarks.md).
        pool.pagemap_scan(wasmtime::Enabled::Auto);
        pool.table_keep_resident(64 << 10);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        start_epoch_ticker(&engine);
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
            .map_err(anyhow::Error::from)?;
        EdgeHost::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)?;
        let linker_p3 = p3_linker(&engine)?;
        Ok(Self {
            engine,
            linker,
            linker_p3,
            limits,
            cache,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Compiles the component at `path` (or reads it from the cache) and resolves its
    /// imports.
    pub fn load(&self, path: &Path) -> anyhow::Result<Loaded> {
        self.load_linked(path, |_, _, _| Ok(()))
    }

    /// Like [`Runtime::load`], after `link` has defined more imports in the component's
    /// linker (its dependencies: [`crate::dependency::load`]); `link` is told whether the
    /// component is a WASIp3 one.
    pub fn load_linked(
        &self,
        path: &Path,
        link: impl FnOnce(&mut Linker<State>, &Component, bool) -> anyhow::Result<()>,
    ) -> anyhow::Result<Loaded> {
        let component = self.compile(path)?;
        let p3 = component
            .component_type()
            .exports(&self.engine)
            .any(|(name, _)| name.starts_with(HANDLER_EXPORT));
        let mut linker = if p3 {
            self.linker_p3.clone()
        } else {
            self.linker.clone()
        };
        link(&mut linker, &component, p3)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("failed to link {}", path.display()))?;
        Ok(Loaded { component, pre, p3 })
    }

    fn compile(&self, path: &Path) -> anyhow::Result<Component> {
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        let Some(cache) = &self.cache else {
            return Component::new(&self.engine, &bytes)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("failed to compile {}", path.display()));
        };
        // Keyed by the component's bytes and by everything in the engine that changes
        // compiled code, so a stale artifact is never picked up.
        let mut hash = Sha256::new();
        hash.update(&bytes);
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(
            &self.engine.precompile_compatibility_hash(),
            &mut engine_hash,
        );
        hash.update(std::hash::Hasher::finish(&engine_hash).to_le_bytes());
        let file = cache.join(format!("{}.cwasm", hex::encode(hash.finalize())));
        if file.exists()
            && let Ok(component) = crate::cache::deserialize(&self.engine, &file)
        {
            return Ok(component);
        }
        let component = Component::new(&self.engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("failed to compile {}", path.display()))?;
        if let Err(e) = crate::cache::store(cache, &file, &component) {
            tracing::warn!(error = %e, "could not write the compiled-component cache");
        }
        Ok(component)
    }

    /// A store for one instance with its key-value stores and variables, under the
    /// runtime's memory limit and CPU deadline.
    pub fn store(&self, stores: Stores, variables: Arc<Variables>) -> Store<State> {
        self.store_for(State::new(stores, variables))
    }

    /// A store for `state`, under the runtime's memory limit, CPU budget and deadline.
    pub fn store_for(&self, state: State) -> Store<State> {
        self.store_with_cpu(state, self.limits.cpu)
    }

    /// The CPU budget of component `id`.
    pub fn cpu_budget(&self, id: &str) -> Duration {
        self.limits
            .cpu_per_component
            .get(id)
            .copied()
            .unwrap_or(self.limits.cpu)
    }

    /// A store for `state` whose guests may use `cpu` of CPU time on the calling thread
    /// (the store must run there), and run for at most the deadline. The check runs at each
    /// epoch tick while a guest runs; a guest waiting on the host is not charged.
    pub fn store_with_cpu(&self, state: State, cpu: Duration) -> Store<State> {
        let mut store = Store::new(
            &self.engine,
            state.with_memory_limit(self.limits.memory_bytes),
        );
        store.limiter(|s| &mut s.limiter);
        let until = Instant::now() + self.limits.deadline;
        let started = thread_cpu();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut store| {
            if thread_cpu().saturating_sub(started) >= cpu {
                store.data_mut().cpu_exceeded = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            if Instant::now() >= until {
                return Ok(UpdateDeadline::Interrupt);
            }
            Ok(UpdateDeadline::Continue(1))
        });
        store
    }
}

/// What a WASIp3 component may import: WASIp3 and `wasi:http@0.3`, WASIp2 as async host
/// functions (the standard library's `wasi:cli@0.2` imports), Spin's v3 key-value and
/// variables, and the node's `wasi:keyvalue` and `wasi:config`.
fn p3_linker(engine: &Engine) -> anyhow::Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    crate::host::spin_v3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    EdgeHost::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)
        .map_err(anyhow::Error::from)?;
    Ok(linker)
}

/// The CPU time the calling thread has used.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Advances the engine's epoch every [`EPOCH_TICK`] for as long as the engine lives.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("failed to start the epoch ticker thread");
}
