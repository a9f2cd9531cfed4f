//! One call into a dependency: the importer's configuration narrowed to what
//! `inherit_configuration` grants, a span for the call, and the provider's instance, made
//! on its first call; in the caller's own store (WASIp2 importers) or in the request's
//! sidecar (WASIp3 importers).

use std::time::Instant;

use wasmtime::component::{ComponentExportIndex, Func, InstancePre, Val};
use wasmtime::{AsContextMut, Store, StoreContextMut};

use crate::state::{Access, State};

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

/// One call of a provider's function, to run in the sidecar.
pub(crate) struct SidecarCall {
    /// Where the sidecar keeps the provider's instance once made.
    pub slot: usize,
    pub pre: InstancePre<State>,
    pub function: ComponentExportIndex,
    /// What the provider may use of the importer's configuration.
    pub access: Access,
    pub params: Vec<Val>,
    /// How many results the function has.
    pub results: usize,
}

/// Runs `call` in the sidecar of the request whose store holds `state`, and answers the
/// function's results. A memory cap or CPU budget the sidecar reached is noted in `state`, so
/// a trap that follows is reported as that limit, as it would be for a dependency of a
/// WASIp2 component.
pub(crate) async fn in_sidecar(state: &mut State, call: SidecarCall) -> wasmtime::Result<Vec<Val>> {
    let cx = state.trace.as_ref().map(|trace| trace.cx.clone());
    let sidecar = state
        .sidecar
        .as_mut()
        .ok_or_else(|| wasmtime::format_err!("this request has no store for dependencies"))?;
    let (results, memory_exceeded, cpu_exceeded) = sidecar
        .run(move |store: &mut Store<State>| {
            store.data_mut().access = call.access;
            if let (Some(cx), Some(trace)) = (cx, store.data_mut().trace.as_mut()) {
                trace.cx = cx;
            }
            let results =
                provider_func(store.as_context_mut(), call.slot, &call.pre, call.function)
                    .and_then(|func| {
                        let mut results = vec![Val::Bool(false); call.results];
                        func.call(&mut *store, &call.params, &mut results)?;
                        Ok(results)
                    });
            (
                results,
                store.data().memory_exceeded(),
                store.data().cpu_exceeded(),
            )
        })
        .await?;
    if memory_exceeded {
        state.limiter.exceeded = true;
    }
    if cpu_exceeded {
        state.cpu_exceeded = true;
    }
    results
}
