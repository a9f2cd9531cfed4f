//! Meridian's storefront: Leptos pages rendered on the server inside a
//! `wasi:http/incoming-handler@0.2` component at the edge, calling the catalogue, cart,
//! pricing and personalisation components through their typed WIT interfaces
//! (`storefront-imports`, composed at load time), and the shopper's home region core for
//! checkout and order status. Pages work without JavaScript: links and plain forms.
//!
//! # Layout
//!
//! - `app`: routes and handlers (sessions in cookies, CSRF, checkout).
//! - `pages`: the pages as Leptos views.
//! - `components`: the theming components merchants compose or override.
//! - `theme`, `merchants`: theme files and the storefronts served, chosen by `Host`.
//! - `site`: the per-request page context (region from region-config, session).
//! - `http`: requests, responses, cookies and forms; `platform`: outbound HTTP;
//!   `services`: the four edge interfaces (imports, or natively the components' logic);
//!   `wasm`: the wasi:http export.

pub mod app;
pub mod bindings;
pub mod components;
pub mod http;
pub mod merchants;
pub mod pages;
pub mod platform;
pub mod services;
pub mod site;
pub mod theme;
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod wasm;

/// Instances live for one request: bump allocation (see `instance_heap`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static HEAP: instance_heap::InstanceHeap = instance_heap::InstanceHeap::new();
