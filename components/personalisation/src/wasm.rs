//! The component's export, over the host binding shared by every component
//! (`kv-binding`).
//!
//! The generated bindings compile on every target so the logic's tests use the same types;
//! their imports only work inside a component.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "personalisation-component",
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

use bindings::exports::meridian::personalisation::personalisation::{
    Guest, PageContext, PersonalisationError, SessionSignals,
};
use bindings::meridian::types::types::{Recommendation, Scope};
use kv_binding::HostKv;

use crate::logic::{self, Weights};

// Exported only inside a component: native builds (the logic's tests) have no use for the
// export symbols, whose names a native linker refuses.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    fn recommend(
        scope: Scope,
        page: PageContext,
        session: SessionSignals,
        limit: u32,
    ) -> Result<Vec<Recommendation>, PersonalisationError> {
        let kv =
            HostKv::open("default").map_err(|e| PersonalisationError::StoreUnavailable(e.0))?;
        // A malformed weights variable falls back to the documented default.
        let weights = kv_binding::variable("recommendation_weights")
            .and_then(|w| Weights::parse(&w))
            .unwrap_or_default();
        logic::recommend(&kv, &scope, &page, &session, limit, weights)
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
