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
