//! The `wasi:http/incoming-handler@0.2` export: reads the request, lets `app` answer it,
//! and writes the response in writes as large as the host permits.

use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

use crate::http::Request;

/// The largest request body read (forms are small).
const MAX_BODY: usize = 256 * 1024;

struct Storefront;

fn method(m: Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Patch => "PATCH".into(),
        Method::Options => "OPTIONS".into(),
        Method::Connect => "CONNECT".into(),
        Method::Trace => "TRACE".into(),
        Method::Other(o) => o,
    }
}

fn read(request: &IncomingRequest) -> Result<Request, &'static str> {
    let path_with_query = request.path_with_query().unwrap_or_else(|| "/".into());
    let (path, query) = match path_with_query.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (path_with_query, String::new()),
    };
    let mut headers: Vec<(String, String)> = request
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect();
    // Hosts keep `Host` out of a guest's headers; the request's authority carries it.
    if let Some(authority) = request.authority() {
        headers.retain(|(k, _)| k != "host");
        headers.push(("host".into(), authority));
    }
    let mut body = Vec::new();
    if let Ok(incoming) = request.consume()
        && let Ok(stream) = incoming.stream()
    {
        while let Ok(chunk) = stream.blocking_read(64 * 1024) {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err("request body too large");
            }
        }
    }
    Ok(Request {
        method: method(request.method()),
        path,
        query,
        headers,
        body,
    })
}

fn write(out: ResponseOutparam, response: crate::http::Response) {
    let headers = Fields::new();
    for (name, value) in &response.headers {
        let _ = headers.append(name, value.as_bytes());
    }
    let outgoing = OutgoingResponse::new(headers);
    let _ = outgoing.set_status_code(response.status);
    let Ok(body) = outgoing.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(outgoing));
    if let Ok(stream) = body.write() {
        // As much per write as the host permits (`check-write`): a host like wasmtime's
        // takes a whole page at once, so the page crosses to the thread that sends it in
        // one hand-off rather than one per 4 KiB (`blocking-write-and-flush`'s limit).
        let mut rest = response.body.as_slice();
        while !rest.is_empty() {
            let permitted = match stream.check_write() {
                Ok(0) => {
                    stream.subscribe().block();
                    continue;
                }
                Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
                Err(_) => return,
            };
            let (now, later) = rest.split_at(permitted.min(rest.len()));
            if stream.write(now).is_err() {
                return;
            }
            rest = later;
        }
        if stream.blocking_flush().is_err() {
            return;
        }
    }
    let _ = OutgoingBody::finish(body, None);
}

impl wasip2::exports::http::incoming_handler::Guest for Storefront {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let response = match read(&request) {
            Ok(request) => crate::app::handle(&request),
            Err(why) => crate::http::Response::html(413, why.to_owned()),
        };
        write(out, response);
    }
}

wasip2::http::proxy::export!(Storefront with_types_in wasip2);
