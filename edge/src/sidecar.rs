//! The sidecar store of a WASIp3 request, where its component's dependencies run.
//!
//! A WASIp3 component runs in its store's async event loop (`run_concurrent`), and a host
//! function there cannot call into another instance: a synchronous call is refused in an
//! async store, and an asynchronous one would run the event loop inside itself. So a
//! WASIp3 component's dependencies run in a second store, made on the request's first
//! dependency call and owned by a blocking thread until the request ends. That store is a
//! WASIp2 importer's store in all but name: each provider is instantiated on its first
//! call, with the importer's key-value stores, variables (as `inherit_configuration`
//! grants them), outbound policy and limits.

use std::sync::mpsc;

use meridian_telemetry::opentelemetry::Context;
use wasmtime::component::{ComponentExportIndex, InstancePre, Val};
use wasmtime::{AsContextMut, Store};

use crate::state::{Access, State};

/// Makes the sidecar store of one request.
pub type MakeStore = Box<dyn FnOnce() -> Store<State> + Send>;

/// A request's sidecar: how to make its store, then the way to its thread.
pub(crate) struct Sidecar {
    make: Option<MakeStore>,
    calls: Option<mpsc::Sender<Job>>,
}

impl Sidecar {
    pub(crate) fn new(make: MakeStore) -> Self {
        Self {
            make: Some(make),
            calls: None,
        }
    }
}

/// One call of a provider's function.
pub(crate) struct Call {
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

struct Job {
    call: Call,
    /// The span the call's own spans nest under.
    cx: Option<Context>,
    reply: tokio::sync::oneshot::Sender<Reply>,
}

/// What a call answers: the function's results, and whether the sidecar's memory cap has
/// been reached (so a trap that follows is reported as the cap, as it would be for a
/// dependency of a WASIp2 component).
struct Reply {
    results: wasmtime::Result<Vec<Val>>,
    memory_exceeded: bool,
}

/// Runs `call` in the sidecar of the request whose store holds `state`, starting the
/// sidecar on the first call, and answers the function's results.
pub(crate) async fn call(state: &mut State, call: Call) -> wasmtime::Result<Vec<Val>> {
    let cx = state.trace.as_ref().map(|trace| trace.cx.clone());
    let sidecar = state
        .sidecar
        .as_mut()
        .ok_or_else(|| wasmtime::format_err!("this request has no store for dependencies"))?;
    let calls = match &sidecar.calls {
        Some(calls) => calls.clone(),
        None => {
            let make = sidecar
                .make
                .take()
                .ok_or_else(|| wasmtime::format_err!("the dependencies' store stopped"))?;
            let (calls, jobs) = mpsc::channel();
            // Ends when the request's store drops its sender.
            tokio::task::spawn_blocking(move || serve(make(), &jobs));
            sidecar.calls = Some(calls.clone());
            calls
        }
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    calls
        .send(Job { call, cx, reply })
        .map_err(|_| wasmtime::format_err!("the dependencies' store stopped"))?;
    let reply = answer
        .await
        .map_err(|_| wasmtime::format_err!("the dependencies' store stopped mid-call"))?;
    if reply.memory_exceeded {
        state.limiter.exceeded = true;
    }
    reply.results
}

fn serve(mut store: Store<State>, jobs: &mpsc::Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        let results = run(&mut store, job.call, job.cx);
        let memory_exceeded = store.data().memory_exceeded();
        let _ = job.reply.send(Reply {
            results,
            memory_exceeded,
        });
    }
}

fn run(store: &mut Store<State>, call: Call, cx: Option<Context>) -> wasmtime::Result<Vec<Val>> {
    store.data_mut().access = call.access;
    if let (Some(cx), Some(trace)) = (cx, store.data_mut().trace.as_mut()) {
        trace.cx = cx;
    }
    let func =
        crate::runtime::provider_func(store.as_context_mut(), call.slot, &call.pre, call.function)?;
    let mut results = vec![Val::Bool(false); call.results];
    func.call(&mut *store, &call.params, &mut results)?;
    Ok(results)
}
