//! The storefront's imports: the four edge interfaces (world
//! `meridian:edge/storefront-imports`), satisfied at load time by the components the
//! manifest names as dependencies. The bindings compile on every target so the pages'
//! types are the same natively (tests) and in the component; the imports only work inside
//! a component.
#![allow(unsafe_code)]

wit_bindgen::generate!({
    path: "../wit",
    world: "storefront-imports",
    // serde: the native build (feature `native`) hands these to the components' logic.
    additional_derives: [serde::Serialize, serde::Deserialize],
    generate_all,
});

pub use meridian::types::types::{
    Image, ImageSource, Money, ProductDetail, ProductSummary, Quote, QuotedLine, Recommendation,
    RecommendationReason, Scope, StockHint,
};
