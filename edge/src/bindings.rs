//! Host bindings for Meridian's WIT contracts, generated once from `wit/` (world
//! `meridian:edge/edge-host`): the traits this node implements for the components'
//! imports, and typed calls into each component's export.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "meridian:edge/edge-host",
    imports: { default: trappable },
    with: {
        "wasi:keyvalue/store.bucket": crate::data::key_value::Bucket,
        "wasi:keyvalue/atomics.cas": crate::data::key_value::Cas,
    },
});

pub use exports::meridian::{
    cart::cart, catalogue::catalogue, personalisation::personalisation, pricing::pricing,
};
pub use meridian::types::types;
