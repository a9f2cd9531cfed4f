//! The region-config crate's one integration-test binary.

// Helpers outside #[test] functions unwrap too: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod cli;
mod ui;
