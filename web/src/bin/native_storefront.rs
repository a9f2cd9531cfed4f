//! The storefront built natively and served by axum: the benchmarks' baseline for the
//! storefront the edge node serves (`docs/benchmarks.md`). Never deployed.
//!
//! ```sh
//! cargo run --release --manifest-path components/Cargo.toml -p storefront \
//!     --features native --bin native-storefront -- 127.0.0.1:3400
//! ```
//!
//! It serves the benchmarks' storefront (`projections::fixtures::demo_storefront`: 10,000
//! products in eu-west's `grocer`) from memory, with the four components' logic linked in
//! (`storefront::services`), and adds the region header the edge node would add, from the
//! shopper's country header.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, Response, StatusCode};
use projections::kv::{Kv, MemoryKv};
use storefront::{http, services};

/// The products of the benchmarks' storefront.
const PRODUCTS: usize = 10_000;
/// The largest request body read, as in the component.
const MAX_BODY: usize = 256 * 1024;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3400".into());
    let kv = MemoryKv::new();
    for (key, value) in projections::fixtures::demo_storefront(PRODUCTS) {
        kv.set(&key, &value).map_err(|e| e.0)?;
    }
    services::native::install(Arc::new(kv), BTreeMap::new());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "native storefront ({PRODUCTS} products) listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, axum::Router::new().fallback(serve)).await?;
    Ok(())
}

async fn serve(request: Request<Body>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    };
    // The storefront resolves the shopper's region from the country header itself.
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let request = http::Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body: body.to_vec(),
    };
    let response = storefront::app::handle(&request);
    let mut answer = Response::builder().status(response.status);
    for (name, value) in &response.headers {
        answer = answer.header(name, value);
    }
    answer
        .body(Body::from(response.body))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "bad response header"))
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}
