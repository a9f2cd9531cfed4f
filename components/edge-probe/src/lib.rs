//! A test guest for the edge node (`edge/tests/node/`): one `wasi:http` (WASIp2) component
//! whose paths exercise what the node provides. It is never deployed.
//!
//! | path | answers |
//! |---|---|
//! | `/.../hello` | the method, path and the headers the node adds, one `name: value` per line |
//! | `/.../var/{name}` | the variable's value (404 if unset) |
//! | `/.../kv/{key}` | `GET`: the value (404 if none); `PUT`: stores the body |
//! | `/.../fetch?{url}` | an outbound `GET` of `url`: `status N` and the body, or 502 `denied: ...` |
//! | `/.../product/{sku}` | the title, through the typed `meridian:catalogue/catalogue` import |
//! | `/.../stream/{kib}` | `kib` KiB of `x`, written 4 KiB at a time |
//! | `/.../sleep/{ms}` | waits `ms` milliseconds, then 200 |
//! | `/.../loop` | never returns (the node's CPU deadline must stop it) |
//! | `/.../bomb` | allocates until memory runs out (the node's memory cap must stop it) |
//! | `/.../trap` | traps at once |
//! | `/.../leftovers` | what this instance found of an earlier one: `visits=N dirty=B`, the times a static counter was bumped (1 in a fresh instance) and the non-zero bytes in 1 MiB it grows its memory by; then it marks both |
//!
//! `...` is whatever route prefix the manifest gives it.
#![allow(unsafe_code)]
// Natively (clippy, tests of the workspace) nothing is exported, so nothing is used.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "storefront-imports",
        generate_all,
    });
}

use bindings::meridian::catalogue::catalogue;
use bindings::meridian::types::types::Scope;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingRequest, OutgoingResponse,
    ResponseOutparam, Scheme,
};

/// The largest write the host accepts at once (`blocking-write-and-flush`).
const CHUNK: usize = 4096;

struct Probe;

impl wasip2::exports::http::incoming_handler::Guest for Probe {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path_with_query = request.path_with_query().unwrap_or_default();
        let (path, query) = match path_with_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path_with_query.clone(), None),
        };
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // The action is the first segment after the route prefix the probe recognises.
        let at = segments
            .iter()
            .position(|s| {
                matches!(
                    *s,
                    "hello"
                        | "var"
                        | "kv"
                        | "fetch"
                        | "product"
                        | "stream"
                        | "sleep"
                        | "loop"
                        | "bomb"
                        | "trap"
                        | "file"
                        | "write"
                        | "leftovers"
                )
            })
            .unwrap_or(segments.len());
        let action = segments.get(at).copied().unwrap_or("");
        let arg = segments.get(at + 1).copied().unwrap_or("");
        match action {
            "hello" => {
                let headers = request.headers();
                let mut text = format!("method: {:?}\npath: {path_with_query}\n", request.method());
                for name in [
                    "spin-full-url",
                    "spin-path-info",
                    "spin-matched-route",
                    "spin-component-route",
                    "spin-client-addr",
                    "x-meridian-region",
                    "x-meridian-country",
                    "host",
                    "cookie",
                ] {
                    for value in headers.get(name) {
                        text.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(&value)));
                    }
                }
                respond(out, 200, text.as_bytes());
            }
            "leftovers" => respond(out, 200, leftovers().as_bytes()),
            "var" => match kv_binding::variable(arg) {
                Some(v) => respond(out, 200, v.as_bytes()),
                None => respond(out, 404, b"no such variable"),
            },
            "kv" => kv(request, out, arg),
            "fetch" => fetch(out, query.as_deref().unwrap_or("")),
            "product" => {
                let region = first_header(&request, "x-meridian-region").unwrap_or_default();
                let scope = Scope {
                    region,
                    storefront: "grocer".into(),
                };
                match catalogue::product(&scope, arg) {
                    Ok(p) => respond(out, 200, p.summary.title.as_bytes()),
                    Err(e) => respond(out, 404, format!("{e:?}").as_bytes()),
                }
            }
            "stream" => {
                let kib: usize = arg.parse().unwrap_or(0);
                let response = OutgoingResponse::new(Fields::new());
                let body = response.body().expect("body");
                ResponseOutparam::set(out, Ok(response));
                let stream = body.write().expect("stream");
                let chunk = [b'x'; CHUNK];
                let mut left = kib * 1024;
                while left > 0 {
                    let n = left.min(CHUNK);
                    if stream.blocking_write_and_flush(&chunk[..n]).is_err() {
                        return;
                    }
                    left -= n;
                }
                drop(stream);
                let _ = OutgoingBody::finish(body, None);
            }
            "sleep" => {
                let ms: u64 = arg.parse().unwrap_or(0);
                wasip2::clocks::monotonic_clock::subscribe_duration(ms * 1_000_000).block();
                respond(out, 200, b"slept");
            }
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => std::process::abort(),
            // The files the component sees (read-only, under `/`): `?/path`.
            "file" => match std::fs::read(query.as_deref().unwrap_or("")) {
                Ok(bytes) => respond(out, 200, &bytes),
                Err(e) => respond(out, 404, format!("{e}").as_bytes()),
            },
            "write" => match std::fs::write(query.as_deref().unwrap_or(""), b"overwritten") {
                Ok(()) => respond(out, 200, b"written"),
                Err(e) => respond(out, 403, format!("{e}").as_bytes()),
            },
            _ => respond(out, 404, b"the probe has no such action"),
        }
    }
}

fn first_header(request: &IncomingRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .first()
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn kv(request: IncomingRequest, out: ResponseOutparam, key: &str) {
    let store = match kv_binding::HostKv::open("default") {
        Ok(s) => s,
        Err(e) => return respond(out, 503, e.0.as_bytes()),
    };
    use projections::kv::Kv;
    match request.method() {
        Method::Put => {
            let body = read_body(&request);
            match store.set(key, &body) {
                Ok(()) => respond(out, 204, b""),
                Err(e) => respond(out, 500, e.0.as_bytes()),
            }
        }
        _ => match store.get(key) {
            Ok(Some(v)) => respond(out, 200, &v),
            Ok(None) => respond(out, 404, b"no such key"),
            Err(e) => respond(out, 500, e.0.as_bytes()),
        },
    }
}

fn read_body(request: &IncomingRequest) -> Vec<u8> {
    let Ok(body) = request.consume() else {
        return Vec::new();
    };
    let Ok(stream) = body.stream() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        out.extend_from_slice(&chunk);
    }
    out
}

/// `GET url` through `wasi:http/outgoing-handler`.
fn fetch(out: ResponseOutparam, url: &str) {
    let (scheme, rest) = match url.split_once("://") {
        Some(("https", rest)) => (Scheme::Https, rest),
        Some(("http", rest)) => (Scheme::Http, rest),
        _ => return respond(out, 400, b"fetch wants ?http://host/path"),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&scheme));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some(path));
    let future = match outgoing_handler::handle(request, None) {
        Ok(f) => f,
        Err(e) => return respond(out, 502, format!("denied: {e:?}").as_bytes()),
    };
    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(e))) => return respond(out, 502, format!("denied: {e:?}").as_bytes()),
        _ => return respond(out, 502, b"denied: no response"),
    };
    let status = response.status();
    let mut body = format!("status {status}\n").into_bytes();
    if let Ok(incoming) = response.consume()
        && let Ok(stream) = incoming.stream()
    {
        while let Ok(chunk) = stream.blocking_read(64 * 1024) {
            body.extend_from_slice(&chunk);
        }
    }
    respond(out, 200, &body);
}

/// A whole response: status and body, written in chunks the host accepts.
fn respond(out: ResponseOutparam, status: u16, body: &[u8]) {
    let headers = Fields::new();
    let _ = headers.set("content-type", &[b"text/plain; charset=utf-8".to_vec()]);
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let outgoing = response.body().expect("a response body is taken once");
    ResponseOutparam::set(out, Ok(response));
    {
        let stream = outgoing.write().expect("a body stream is taken once");
        for chunk in body.chunks(CHUNK) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return;
            }
        }
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

#[cfg(target_arch = "wasm32")]
wasip2::http::proxy::export!(Probe with_types_in wasip2);

/// Bumped by every `leftovers` request this instance serves.
static VISITS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// What an earlier instance left in this one's memory, if the host reused a memory slot
/// without resetting it: the static counter's count, and the non-zero bytes of 1 MiB of
/// newly grown memory (zero by the wasm spec). Marks both for whoever comes next.
#[cfg(target_arch = "wasm32")]
fn leftovers() -> String {
    const PAGES: usize = 16;
    const PAGE: usize = 65_536;
    let visits = VISITS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let start = core::arch::wasm32::memory_grow(0, PAGES);
    if start == usize::MAX {
        return format!("visits={visits} dirty=unknown (memory did not grow)");
    }
    let base = (start * PAGE) as *mut u8;
    let mut dirty = 0usize;
    for i in 0..PAGES * PAGE {
        // SAFETY: the pages were just grown; the allocator does not know of them, so
        // nothing else reads or writes them.
        unsafe {
            let byte = base.add(i);
            if core::ptr::read_volatile(byte) != 0 {
                dirty += 1;
            }
            core::ptr::write_volatile(byte, 0xAA);
        }
    }
    format!("visits={visits} dirty={dirty}")
}

#[cfg(not(target_arch = "wasm32"))]
fn leftovers() -> String {
    String::new()
}
