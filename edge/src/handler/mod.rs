//! Serving one request on a fresh instance of a component, per ABI: [`p2`]
//! (`wasi:http/incoming-handler@0.2`) and [`p3`] (`wasi:http/handler@0.3`). [`Guest`] is the
//! one place a request's store is built (and, for a WASIp3 component, its dependencies'
//! sidecar store); [`outcome`] names how a request can fail and the page each failure gets.

pub mod outcome;
mod p2;
mod p3;

use std::sync::Arc;
use std::time::Instant;

use http::Request;
use wasmtime::Store;
use wasmtime_wasi_http::WasiBody;

use crate::app::{AppComponent, HttpHandler};
use crate::host::outbound::Outbound;
use crate::observe::Trace;
use crate::runtime::Runtime;
use crate::state::State;
pub use outcome::{Failure, ResponseSender};

/// One request's run of one component: what its stores are made from.
pub struct Guest {
    pub runtime: Arc<Runtime>,
    pub component: Arc<AppComponent>,
    /// Its outbound HTTP: allow-list, region pinning, chaining.
    pub outbound: Outbound,
    /// The component's span, with telemetry on.
    pub trace: Option<Trace>,
}

impl std::fmt::Debug for Guest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guest")
            .field("component", &self.component.id)
            .finish_non_exhaustive()
    }
}

impl Guest {
    /// The state of a store that runs the component (or its dependencies) for this request:
    /// its key-value stores, variables, environment, files, outbound HTTP and span.
    fn state(&self) -> State {
        let component = &self.component;
        State::new(component.stores.clone(), component.variables.clone())
            .with_wasi(
                &component.environment,
                component.files.as_ref().map(|f| f.path()),
            )
            .with_outbound(Box::new(self.outbound.clone()))
            .with_trace(self.trace.clone())
    }

    /// The request's store, under the runtime's limits. A WASIp3 component's dependencies,
    /// if it calls any, run in a sidecar store of the same making.
    fn store(self: &Arc<Self>, p3: bool) -> Store<State> {
        let mut state = self.state();
        if p3 {
            let guest = self.clone();
            state = state.with_sidecar(Box::new(move || {
                let cpu = guest.runtime.cpu_budget(&guest.component.id);
                guest.runtime.store_with_cpu(guest.state(), cpu)
            }));
        }
        let cpu = self.runtime.cpu_budget(&self.component.id);
        self.runtime.store_with_cpu(state, cpu)
    }

    /// Runs `request` through `handler` on the calling (blocking) thread, sending the
    /// response head to `sender` as soon as the guest sets it; `runtime` drives a WASIp3
    /// component's event loop.
    pub fn serve(
        self: Arc<Self>,
        handler: HttpHandler,
        request: Request<WasiBody>,
        sender: ResponseSender,
        runtime: &tokio::runtime::Handle,
    ) -> Result<(), Failure> {
        let started = Instant::now();
        let mut store = self.store(matches!(handler, HttpHandler::P3(_)));
        let outcome = match handler {
            HttpHandler::P2(pre) => p2::run(&mut store, &pre, request, sender),
            HttpHandler::P3(pre) => runtime.block_on(p3::run(&mut store, &pre, request, sender)),
        };
        let outcome = outcome.map_err(|e| outcome::classify(&e, store.data()));
        if let Some(trace) = &self.trace {
            if let Err(failure) = &outcome {
                meridian_telemetry::fail(&trace.cx, failure.code());
            }
            trace
                .observe
                .call_done(&self.component.id, "handle", started.elapsed());
        }
        outcome
    }
}
