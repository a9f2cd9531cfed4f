//! Meridian's region pinning config: the one file that says which countries are served by
//! which region, whose personal data is pinned where and under which regulation, and how
//! each region prices and taxes. Every other part of Meridian reads regions through this
//! crate; none hard-codes a region, currency or country.
//!
//! How a file becomes a [`RegionConfig`]:
//!
//! 1. `file` deserialises the TOML into raw structs that refuse unknown keys and keep the
//!    position of every value.
//! 2. `validate` turns raw values into newtypes and checks the cross-cutting rules (one home
//!    region per country, pinned regions have a core and a regulation, the fallback is not
//!    pinned, no personal data at the edge, ...), collecting every problem with its line and
//!    column instead of stopping at the first.
//! 3. Binaries apply `MERIDIAN_CORE_URL_<ID>` overrides with
//!    [`RegionConfig::with_core_url_overrides`], then ask [`RegionConfig::home_region`] and
//!    [`RegionConfig::edge_may_cache`].
//!
//! # Layout
//!
//! - `codes`: newtypes that only hold valid values (`RegionId`, `CountryCode`, `Currency`,
//!   `BasisPoints`, `Slug`).
//! - `file`: the TOML schema, one struct per table, documented with the keys it maps to.
//! - `validate`: raw file to validated model, with positioned diagnostics.
//! - `model`: the validated `RegionConfig`, `Region`, tax rules, data classes and queries.
//! - `diff`: what a change from one file to another does, for compliance review.
//! - `error`: `Problem`, `Diagnostic` and `LoadError`, and how they render.
//! - `explain`: the text of `region-config explain` and `region-config list`.
//! - `spin_manifest`: the per-region parts of `spin.toml`, generated.
//! - `storefront`: the storefront's view (no core URLs), handed to it at run time, with its
//!   fingerprint.

mod codes;
pub mod diff;
mod error;
mod explain;
mod file;
mod model;
pub mod spin_manifest;
pub mod storefront;
mod validate;

pub use codes::{BasisPoints, CodeError, CountryCode, Currency, RegionId, Slug};
pub use error::{Diagnostic, LoadError, Problem};
pub use explain::{explain, list};
pub use file::{TaxDisplay, TaxKind};
pub use model::{
    Assignment, CountryTax, DataClass, Pinning, Region, RegionConfig, Retention, TaxRules,
    Warehouse, core_url_env_key,
};

/// Where binaries look for the file when no path is given: `MERIDIAN_REGION_CONFIG`, else
/// this path relative to the working directory.
pub const DEFAULT_PATH: &str = "region-config/regions.toml";
