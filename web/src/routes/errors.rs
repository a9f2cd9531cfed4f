//! The pages for what is not there (404) and what went wrong (4xx, 503).

use leptos::prelude::*;

pub fn not_found(what: &str) -> AnyView {
    let text = format!("We could not find {what}.");
    view! {
        <h1>"Page not found"</h1>
        <p>{text}</p>
        <p><a href="/">"Back to the shop"</a></p>
    }
    .into_any()
}

pub fn error(text: String) -> AnyView {
    view! {
        <h1>"Something went wrong"</h1>
        <p>{text}</p>
        <p><a href="/">"Back to the shop"</a></p>
    }
    .into_any()
}

/// The answer to every request while the storefront has no usable region configuration:
/// a plain 503 (no theme, no region: neither can be trusted yet).
pub fn unavailable() -> crate::http::Response {
    crate::http::Response {
        status: 503,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("retry-after".into(), "30".into()),
            ("x-meridian-error".into(), "region_config".into()),
            (
                "content-security-policy".into(),
                "default-src 'none'; frame-ancestors 'none'".into(),
            ),
            ("x-content-type-options".into(), "nosniff".into()),
            ("referrer-policy".into(), "strict-origin-when-cross-origin".into()),
        ],
        body: b"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Temporarily unavailable</title></head><body><main><h1>Temporarily unavailable</h1><p>The shop is being updated. Please try again in a moment.</p></main></body></html>\n".to_vec(),
    }
}
