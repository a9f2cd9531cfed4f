//! A WASIp3 test guest for the edge node (`edge/tests/node/p3.rs`) with a component
//! dependency: spin-sdk 7's `#[http_service]` (`wasi:http/handler@0.3.0`) importing
//! `meridian:catalogue/catalogue`, which the manifest satisfies with the catalogue component. It
//! is a separate guest from `edge-p3` so that the trivial WASIp3 component stays trivial.
//!
//! | path | answers |
//! |---|---|
//! | `/.../product/{sku}` | the product's title, or 404 with the catalogue's error |
//!
//! `...` is whatever one-segment route prefix the manifest gives it.
#![allow(unsafe_code)]
// Natively (clippy, tests of the workspace) nothing is exported, so nothing is used.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "storefront-imports",
        generate_all,
    });
}

use bindings::meridian::catalogue::catalogue;
use bindings::meridian::types::types::Scope;
use spin_sdk::http::{BoxBody, FullBody, Request, StatusCode, box_body};
use spin_sdk::http_service;

type Reply = http::Response<BoxBody>;

fn text(status: StatusCode, body: impl Into<String>) -> Reply {
    let mut response =
        http::Response::new(box_body(FullBody::new(bytes::Bytes::from(body.into()))));
    *response.status_mut() = status;
    response
}

#[http_service]
async fn handle(request: Request) -> anyhow::Result<Reply> {
    let path = request.uri().path().to_owned();
    // Past the route's prefix, whatever the manifest calls it.
    let rest = path
        .trim_start_matches('/')
        .split_once('/')
        .map_or("", |(_, rest)| rest);
    let Some(sku) = rest.strip_prefix("product/") else {
        return Ok(text(StatusCode::NOT_FOUND, format!("no action {rest:?}")));
    };
    let region = request
        .headers()
        .get("x-meridian-region")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let scope = Scope {
        region: region.to_owned(),
        storefront: "grocer".into(),
    };
    Ok(match catalogue::product(&scope, sku) {
        Ok(product) => text(StatusCode::OK, product.summary.title),
        Err(e) => text(StatusCode::NOT_FOUND, format!("{e:?}")),
    })
}
