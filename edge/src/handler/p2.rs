//! Serving a request on a WASIp2 component: `wasi:http/incoming-handler@0.2#handle`, host
//! functions called synchronously on the request's blocking thread.

use http::Request;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use crate::handler::outcome::{Failure, ResponseSender};
use crate::state::State;

/// Runs a WASIp2 component's `wasi:http/incoming-handler#handle`: the guest sets the
/// response through its outparam and writes the body as it goes.
pub fn run(
    store: &mut wasmtime::Store<State>,
    pre: &wasmtime_wasi_http::p2::bindings::sync::ProxyPre<State>,
    request: Request<WasiBody>,
    sender: ResponseSender,
) -> wasmtime::Result<()> {
    let Ok(request) = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, request)
    else {
        let _ = sender.send(Err(Failure::BadRequest("The request has no Host header.")));
        return Ok(());
    };
    let out = store
        .data_mut()
        .http()
        .new_response_outparam_from_callback(move |answer| {
            let _ = sender.send(answer.map_err(|code| {
                Failure::Trap(format!("the component answered an error: {code:?}"))
            }));
        })?;
    let proxy = pre.instantiate(&mut *store)?;
    proxy
        .wasi_http_incoming_handler()
        .call_handle(&mut *store, request, out)
}
