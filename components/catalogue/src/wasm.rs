//! The component's export, over the host binding shared by every component
//! (`kv-binding`).
//!
//! The generated bindings compile on every target so the logic's tests use the same types;
//! their imports only work inside a component.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "catalogue-component",
        with: {
            "wasi:keyvalue/store@0.2.0-draft2": kv_binding::bindings::wasi::keyvalue::store,
            "wasi:keyvalue/atomics@0.2.0-draft2": kv_binding::bindings::wasi::keyvalue::atomics,
            "wasi:keyvalue/batch@0.2.0-draft2": kv_binding::bindings::wasi::keyvalue::batch,
            "wasi:config/store@0.2.0-draft-2024-09-27": kv_binding::bindings::wasi::config::store,
        },
        // serde: a native build of the storefront (benchmark baseline) calls the logic directly.
        additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
        generate_all,
    });
}

use bindings::exports::meridian::catalogue::catalogue::{
    CatalogueError, Category, DeliverySlot, Guest, Listing, PageRequest, SearchResults,
};
use bindings::meridian::types::types::{ProductDetail, Scope};
use kv_binding::HostKv;

use crate::logic;

fn open() -> Result<HostKv, CatalogueError> {
    HostKv::open("default").map_err(|e| CatalogueError::StoreUnavailable(e.0))
}

// Exported only inside a component: native builds (the logic's tests) have no use for the
// export symbols, whose names a native linker refuses.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    fn product(scope: Scope, sku: String) -> Result<ProductDetail, CatalogueError> {
        logic::product(&open()?, &scope, &sku)
    }

    fn categories(scope: Scope) -> Result<Vec<Category>, CatalogueError> {
        logic::categories(&open()?, &scope)
    }

    fn category_page(
        scope: Scope,
        category: String,
        tag: Option<String>,
        request: PageRequest,
    ) -> Result<Listing, CatalogueError> {
        logic::listing(&open()?, &scope, &category, tag.as_deref(), request)
    }

    fn search(
        scope: Scope,
        query: String,
        category: Option<String>,
        request: PageRequest,
    ) -> Result<SearchResults, CatalogueError> {
        logic::search(&open()?, &scope, &query, category.as_deref(), request)
    }

    fn site(
        region: String,
        host: String,
        fallback: String,
    ) -> Result<Option<String>, CatalogueError> {
        logic::site(&open()?, &region, &host, &fallback)
    }

    fn delivery_slots(
        scope: Scope,
        country: String,
        postal_code: Option<String>,
    ) -> Result<Vec<DeliverySlot>, CatalogueError> {
        logic::delivery_slots(
            &open()?,
            &scope,
            &country,
            postal_code.as_deref(),
            logic::unix_now(),
        )
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
