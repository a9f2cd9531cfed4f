//! The regional core's one integration-test binary. Every test runs against the real
//! PostgreSQL (its own database), the real sandbox PSP process, and, for the relay, the real
//! Redis: `scripts/test` starts them; a test that finds them absent fails.

// Helpers outside #[test] functions unwrap too: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod helpers;

mod accounts;
mod bad_input;
mod checkout;
mod concurrency;
mod delivery;
mod edge_index;
mod fulfilment;
mod health;
mod logs;
mod mail;
mod merchant;
mod model;
mod openapi;
mod orders;
mod payments;
mod privacy;
mod promotions;
mod relay;
mod residency;
mod shutdown;
mod storefronts;
