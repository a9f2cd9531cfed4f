//! The component's export and its binding to the host's `wasi:keyvalue` store.
//!
//! The generated bindings compile on every target so the logic's tests use the same types;
//! their imports only work inside a component.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "catalogue-component",
        generate_all,
        additional_derives: [PartialEq],
    });
}

use bindings::exports::meridian::edge::catalogue::{
    CatalogueError, Category, Guest, Listing, PageRequest, SearchResults,
};
use bindings::meridian::edge::types::{ProductDetail, Scope};
use bindings::wasi::keyvalue::{batch, store};
use projections::kv::{Kv, KvError, Swap};

use crate::logic;

/// The default store: Spin's `default` label, which the manifest grants.
struct HostKv(store::Bucket);

impl HostKv {
    fn open() -> Result<Self, CatalogueError> {
        store::open("default")
            .map(Self)
            .map_err(|e| CatalogueError::StoreUnavailable(format!("{e:?}")))
    }
}

impl Kv for HostKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.0.get(key).map_err(|e| KvError(format!("{e:?}")))
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        let found = batch::get_many(&self.0, keys).map_err(|e| KvError(format!("{e:?}")))?;
        // The batch answers key/value pairs; put them back in the order asked.
        let mut by_key: std::collections::HashMap<String, Option<Vec<u8>>> =
            found.into_iter().collect();
        Ok(keys.iter().map(|k| by_key.remove(k).flatten()).collect())
    }

    fn set(&self, _key: &str, _value: &[u8]) -> Result<(), KvError> {
        Err(KvError("the catalogue never writes".to_owned()))
    }

    fn delete(&self, _key: &str) -> Result<(), KvError> {
        Err(KvError("the catalogue never writes".to_owned()))
    }

    fn compare_and_swap(&self, _: &str, _: Option<&[u8]>, _: &[u8]) -> Result<Swap, KvError> {
        Err(KvError("the catalogue never writes".to_owned()))
    }
}

// Exported only inside a component: native builds (the logic's tests) have no use for the
// export symbols, whose names a native linker refuses.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    fn product(scope: Scope, sku: String) -> Result<ProductDetail, CatalogueError> {
        logic::product(&HostKv::open()?, &scope, &sku)
    }

    fn categories(scope: Scope) -> Result<Vec<Category>, CatalogueError> {
        logic::categories(&HostKv::open()?, &scope)
    }

    fn category_page(
        scope: Scope,
        category: String,
        request: PageRequest,
    ) -> Result<Listing, CatalogueError> {
        logic::listing(&HostKv::open()?, &scope, &category, request)
    }

    fn search(
        scope: Scope,
        query: String,
        category: Option<String>,
        request: PageRequest,
    ) -> Result<SearchResults, CatalogueError> {
        logic::search(
            &HostKv::open()?,
            &scope,
            &query,
            category.as_deref(),
            request,
        )
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
