//! Meridian's storefront: Leptos pages rendered on the server inside a
//! `wasi:http/incoming-handler@0.2` component at the edge, calling the catalogue, cart,
//! pricing and personalisation components through their typed WIT interfaces
//! (`storefront-imports`, composed at load time), and the shopper's home region core for
//! checkout and order status. Pages work without JavaScript: links and plain forms.
//!
//! # Layout
//!
//! - `app`: one request's context (the storefront by `Host`, the region, session cookies,
//!   CSRF) and the dispatch to a route.
//! - `routes`: one module per route, each with its handler and its page (`routes.rs` lists
//!   them); the HTML shell around every page is [`document`], here.
//! - `components`: the theming components merchants compose or override.
//! - `merchants`: the storefront a request's `Host` selects, read from the relay's site
//!   projection, and merchants' component overrides.
//! - `site`: the per-request page context (region from region-config, session).
//! - `http`: requests, responses, cookies and forms; `platform`: outbound HTTP;
//!   `services`: the four edge interfaces (imports, or natively the components' logic);
//!   `wasm`: the wasi:http export.

pub mod app;
pub mod bindings;
pub mod components;
pub mod http;
pub mod merchants;
pub mod platform;
pub mod routes;
pub mod services;
pub mod site;
/// Themes, images and sites: the shared model the core checks and the relay publishes.
pub use projections::theme;
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod wasm;

/// Instances live for one request: bump allocation (see `instance_heap`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static HEAP: instance_heap::InstanceHeap = instance_heap::InstanceHeap::new();

use leptos::prelude::*;

use crate::components::{Footer, Header, ThemeProvider};
use crate::site::Site;

/// The shipped stylesheet; colours, fonts and spacing come from the theme's custom
/// properties.
const STYLE: &str = include_str!("style.css");

/// The one script, an enhancement: adding from a card without a reload (`assets/add.js`).
pub const SCRIPT: &str = include_str!("assets/add.js");

/// Where the storefront serves [`SCRIPT`]; the content-security policy allows scripts only
/// from the storefront itself.
pub const SCRIPT_PATH: &str = "/assets/add.js";

/// Renders a whole HTML document for `site` with `title` around `body`.
pub fn document(site: Site, title: &str, query: &str, body: impl FnOnce() -> AnyView) -> String {
    let owner = Owner::new();
    owner.with(|| {
        // The body is built before the document around it, so the context must already be
        // there; ThemeProvider provides the same Site to what it wraps.
        provide_context(site.clone());
        let main = body();
        let css = format!("{}{}", site.storefront.theme.css_variables(), STYLE);
        let nonce = site.style_nonce.clone();
        let full_title = format!("{title} · {}", site.storefront.theme.name);
        let query = query.to_owned();
        // A product added from a card: say so where the shopper is.
        let added = site
            .here
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .any(|p| p.starts_with("added="))
            .then(|| {
                view! { <p class="notice" role="status">"Added to your cart. "<a href="/cart">"View your cart"</a></p> }
            });
        let html = view! {
            <html lang="en">
                <head>
                    <meta charset="utf-8"/>
                    <meta name="viewport" content="width=device-width, initial-scale=1"/>
                    <title>{full_title}</title>
                    <style nonce=nonce>{css}</style>
                </head>
                <body>
                    <ThemeProvider site=site>
                        <a class="skip" href="#main">"Skip to content"</a>
                        <Header query=query/>
                        <main id="main">
                            <p id="cart-status" class="live-status" role="status" aria-live="polite"></p>
                            {added}
                            {main}
                        </main>
                        <Footer/>
                    </ThemeProvider>
                    <script src=SCRIPT_PATH defer></script>
                </body>
            </html>
        }
        .to_html();
        format!("<!DOCTYPE html>{html}")
    })
}
