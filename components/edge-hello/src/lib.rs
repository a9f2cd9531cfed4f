//! A trivial `wasi:http/incoming-handler@0.2` guest for benchmarks: it answers `hello` to
//! every request and imports nothing but WASI, so `wasmtime serve` runs it too.
#![allow(unsafe_code)]
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Hello;

impl wasip2::exports::http::incoming_handler::Guest for Hello {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let headers = Fields::new();
        let _ = headers.set("content-type", &[b"text/plain".to_vec()]);
        let response = OutgoingResponse::new(headers);
        let Ok(body) = response.body() else {
            return;
        };
        ResponseOutparam::set(out, Ok(response));
        if let Ok(stream) = body.write() {
            let _ = stream.blocking_write_and_flush(b"hello\n");
        }
        let _ = OutgoingBody::finish(body, None);
    }
}

#[cfg(target_arch = "wasm32")]
wasip2::http::proxy::export!(Hello with_types_in wasip2);
