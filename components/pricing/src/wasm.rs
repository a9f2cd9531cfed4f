//! The component's export, over the host binding shared by every component
//! (`kv-binding`).
//!
//! The generated bindings compile on every target so the logic's tests use the same types;
//! their imports only work inside a component.
#![allow(unsafe_code)]

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "pricing-component",
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

use bindings::exports::meridian::pricing::pricing::{Guest, PricingError};
use bindings::meridian::types::types::{Line, Quote, Scope};
use kv_binding::HostKv;

use crate::logic::{self, Env};

// Exported only inside a component: native builds (the logic's tests) have no use for the
// export symbols, whose names a native linker refuses.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

impl Guest for Component {
    fn quote_cart(
        scope: Scope,
        country: String,
        lines: Vec<Line>,
        promo_codes: Vec<String>,
    ) -> Result<Quote, PricingError> {
        let kv = HostKv::open("default").map_err(|e| PricingError::StoreUnavailable(e.0))?;
        let env = Env {
            now: kv_binding::now(),
            ttl_seconds: kv_binding::positive_variable(
                "quote_ttl_seconds",
                logic::DEFAULT_TTL_SECONDS,
            ),
            signing_key: kv_binding::variable(&logic::signing_key_variable(&scope.region))
                .map(String::into_bytes),
        };
        logic::quote_cart(&kv, &scope, &country, &lines, &promo_codes, &env)
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
