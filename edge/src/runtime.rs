//! The wasmtime engine and linker, the limits every instance runs under, and components
//! compiled once (cached on disk by content hash) into `InstancePre`s, with their
//! dependencies linked.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, Func, HasSelf, InstancePre, Linker};
use wasmtime::{AsContextMut, StoreContextMut};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

use crate::bindings::EdgeHost;
use crate::config::Variables;
use crate::kv::Stores;
use crate::state::{Access, State};

/// How much of each memory slot stays resident between instances.
pub const KEEP_RESIDENT: usize = 4 << 20;

/// How often the engine's epoch advances: the granularity of the CPU deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What one instance may use. None of these can take the node down: a component that
/// exceeds one traps, and only its own request fails.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The most any one linear memory may grow to, in bytes.
    pub memory_bytes: usize,
    /// How long one request may run, from instantiation to its last write.
    pub deadline: Duration,
    /// The largest request body accepted, in bytes.
    pub body_bytes: u64,
    /// How many requests may run at once; more get a fast 503.
    pub max_instances: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(5),
            body_bytes: 1 << 20,
            max_instances: 64,
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

/// One import of a component satisfied by another component's export of the same
/// interface (`[component.<id>.dependencies]`).
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The import, e.g. `meridian:catalogue/catalogue@0.1.0`.
    pub import: String,
    /// The export of `provider` that satisfies it (usually the same name).
    pub export: String,
    pub provider: Loaded,
    /// What the dependency may use of the importing component's configuration.
    pub access: Access,
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
        self.load_with(path, &[])
    }

    /// Like [`Runtime::load`], with some imports satisfied by other components.
    pub fn load_with(&self, path: &Path, dependencies: &[Dependency]) -> anyhow::Result<Loaded> {
        let component = self.compile(path)?;
        let p3 = component
            .component_type()
            .exports(&self.engine)
            .any(|(name, _)| name.starts_with(crate::p3::HANDLER_EXPORT));
        let mut linker = if p3 {
            self.linker_p3.clone()
        } else {
            self.linker.clone()
        };
        for dependency in dependencies {
            let slot = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
            link_dependency(&self.engine, &mut linker, &component, slot, dependency, p3)
                .with_context(|| {
                    format!(
                        "failed to link {} of {} to its dependency",
                        dependency.import,
                        path.display()
                    )
                })?;
        }
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

    /// A store for `state`, under the runtime's memory limit and CPU deadline.
    pub fn store_for(&self, state: State) -> Store<State> {
        let mut store = Store::new(
            &self.engine,
            state.with_memory_limit(self.limits.memory_bytes),
        );
        store.limiter(|s| &mut s.limiter);
        let ticks = (self.limits.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
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
    crate::p3::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    EdgeHost::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)
        .map_err(anyhow::Error::from)?;
    Ok(linker)
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

/// Slots name the instances of dependencies in a store ([`State::dependencies`]); each
/// link of an import to a provider gets its own, so a dependency's dependency never finds
/// its importer's instance.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

/// Every function of the interface `dependency.import`, with where the provider exports it.
fn dependency_functions(
    engine: &Engine,
    importer: &Component,
    dependency: &Dependency,
) -> anyhow::Result<Vec<(String, ComponentExportIndex)>> {
    let importer_type = importer.component_type();
    let imported = importer_type
        .get_import(engine, &dependency.import)
        .ok_or_else(|| anyhow!("the component does not import {}", dependency.import))?;
    let ComponentItem::ComponentInstance(interface) = imported.ty else {
        return Err(anyhow!("{} is not an interface", dependency.import));
    };
    let provider = &dependency.provider.component;
    let exported = provider
        .get_export_index(None, dependency.export.as_str())
        .ok_or_else(|| anyhow!("the dependency does not export {}", dependency.export))?;
    let mut functions = Vec::new();
    for (name, item) in interface.exports(engine) {
        if !matches!(item.ty, ComponentItem::ComponentFunc(_)) {
            continue;
        }
        let function = provider
            .get_export_index(Some(&exported), name)
            .ok_or_else(|| anyhow!("the dependency's {} has no {name}", dependency.export))?;
        functions.push((name.to_owned(), function));
    }
    Ok(functions)
}

/// One call into a dependency, under way: what it replaced in the caller's store.
pub(crate) struct DependencyCall {
    previous: Access,
    traced: Option<(meridian_telemetry::opentelemetry::Context, Instant)>,
}

impl DependencyCall {
    /// Gives the store the dependency's view of the importer's configuration and, with
    /// telemetry on, a span for the call that calls it makes nest under.
    pub(crate) fn enter(
        state: &mut State,
        access: Access,
        interface: &str,
        function: &str,
    ) -> Self {
        let previous = std::mem::replace(&mut state.access, access);
        let traced = state.trace.as_mut().map(|trace| {
            let call = trace.observe.call_span(&trace.cx, interface, function);
            let caller = std::mem::replace(&mut trace.cx, call);
            (caller, Instant::now())
        });
        Self { previous, traced }
    }

    /// Gives the store back what [`DependencyCall::enter`] replaced and ends the span.
    pub(crate) fn leave(self, state: &mut State, failed: bool, interface: &str, function: &str) {
        state.access = self.previous;
        if let (Some((caller, started)), Some(trace)) = (self.traced, state.trace.as_mut()) {
            let call = std::mem::replace(&mut trace.cx, caller);
            if failed {
                meridian_telemetry::fail(&call, "trap");
            }
            trace
                .observe
                .call_done(interface, function, started.elapsed());
        }
    }
}

/// Defines every function of `dependency.import` in `linker` as a call into the
/// provider (typed for Meridian's own interfaces: [`crate::typed`]), instantiated on its
/// first call (a page that never searches never pays for the catalogue's instantiation): in
/// the caller's own store for a WASIp2 importer; for a WASIp3 importer (`in_sidecar`), in
/// the request's sidecar store.
///
/// A WASIp3 importer's store runs in an async event loop, where a host function cannot
/// call into another instance; so each call is sent to the sidecar ([`crate::sidecar`]),
/// where the provider runs as it would for a WASIp2 importer, and the importer waits for
/// its results. Its calls are synchronous (the interfaces have no `async` functions), so
/// its instance waits for each one to return.
fn link_dependency(
    engine: &Engine,
    linker: &mut Linker<State>,
    importer: &Component,
    slot: usize,
    dependency: &Dependency,
    in_sidecar: bool,
) -> anyhow::Result<()> {
    let mut instance = linker
        .instance(&dependency.import)
        .map_err(anyhow::Error::from)?;
    for (name, function) in dependency_functions(engine, importer, dependency)? {
        let pre = dependency.provider.pre.clone();
        let access = dependency.access;
        let interface: Arc<str> = dependency.import.as_str().into();
        let function_name: Arc<str> = name.as_str().into();
        if !in_sidecar {
            let target = crate::typed::Target {
                slot,
                pre: pre.clone(),
                function,
                access,
                interface: interface.clone(),
                function_name: function_name.clone(),
            };
            if crate::typed::define(&mut instance, &dependency.import, target)
                .map_err(anyhow::Error::from)?
            {
                continue;
            }
        }
        let defined = if in_sidecar {
            instance.func_new_async(&name, move |mut store, _ty, params, results| {
                let call = crate::sidecar::Call {
                    slot,
                    pre: pre.clone(),
                    function,
                    access,
                    params: params.to_vec(),
                    results: results.len(),
                };
                let interface = interface.clone();
                let function_name = function_name.clone();
                Box::new(async move {
                    let entered =
                        DependencyCall::enter(store.data_mut(), access, &interface, &function_name);
                    let outcome = crate::sidecar::call(store.data_mut(), call).await;
                    entered.leave(
                        store.data_mut(),
                        outcome.is_err(),
                        &interface,
                        &function_name,
                    );
                    for (slot, value) in results.iter_mut().zip(outcome?) {
                        *slot = value;
                    }
                    Ok(())
                })
            })
        } else {
            instance.func_new(&name, move |mut store, _ty, params, results| {
                let call =
                    DependencyCall::enter(store.data_mut(), access, &interface, &function_name);
                let outcome = provider_func(store.as_context_mut(), slot, &pre, function)
                    .and_then(|func| func.call(&mut store, params, results));
                call.leave(
                    store.data_mut(),
                    outcome.is_err(),
                    &interface,
                    &function_name,
                );
                outcome
            })
        };
        defined.map_err(anyhow::Error::from)?;
    }
    Ok(())
}

/// The provider's function `function`, from its instance in `slot` of the store, made from
/// `pre` on the first call.
pub(crate) fn provider_func(
    mut store: StoreContextMut<'_, State>,
    slot: usize,
    pre: &InstancePre<State>,
    function: ComponentExportIndex,
) -> wasmtime::Result<Func> {
    let provider = match store.data().dependencies.get(&slot) {
        Some(instance) => *instance,
        None => {
            let instance = pre.instantiate(&mut store)?;
            store.data_mut().dependencies.insert(slot, instance);
            instance
        }
    };
    provider
        .get_func(&mut store, function)
        .ok_or_else(|| wasmtime::format_err!("the dependency lost a function"))
}
