//! The storefront's outbound HTTP (to the shopper's home region core), through
//! `wasi:http/outgoing-handler`. The edge node (or Spin) checks every request against
//! `allowed_outbound_hosts`, and the node sends a pinned shopper's requests only to their
//! home region's core.

/// Sends a request; answers the status and body, or why it could not be sent.
#[cfg(target_arch = "wasm32")]
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return Err(format!("not an http(s) URL: {url}")),
    };
    let (authority, path) = rest
        .find('/')
        .map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| format!("header {name}: {e:?}"))?;
    }
    let request = OutgoingRequest::new(fields);
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => Method::Other(other.to_owned()),
    };
    request
        .set_method(&method)
        .map_err(|()| "method".to_owned())?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "scheme".to_owned())?;
    request
        .set_authority(Some(authority))
        .map_err(|()| "authority".to_owned())?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| "path".to_owned())?;
    let outgoing = request.body().map_err(|()| "body".to_owned())?;
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    {
        let stream = outgoing.write().map_err(|()| "body stream".to_owned())?;
        for chunk in body.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("{e:?}"))?;
        }
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))?;
    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(e))) => return Err(format!("{e:?}")),
        _ => return Err("no response".to_owned()),
    };
    let status = response.status();
    let mut out = Vec::new();
    if let Ok(incoming) = response.consume()
        && let Ok(stream) = incoming.stream()
    {
        while let Ok(chunk) = stream.blocking_read(64 * 1024) {
            out.extend_from_slice(&chunk);
        }
    }
    Ok((status, out))
}

/// Natively there is no host to send through (the storefront's native build exists for its
/// unit tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn send(
    _method: &str,
    url: &str,
    _headers: &[(&str, &str)],
    _body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    Err(format!("outbound HTTP to {url} needs the component's host"))
}
