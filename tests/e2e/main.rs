//! The whole product, end to end: regional cores (on their own PostgreSQL databases, with
//! the sandbox PSP) publishing through their relays to Redis, an edge node running the real
//! `spin.toml` over that Redis, and shoppers browsing and buying through the storefront.
#![allow(clippy::unwrap_used)]

mod browser;
mod delivery;
mod harness;
mod pages;
mod regions;
mod residency;
mod shopper;
mod spin;
mod storefronts;
