//! What can be wrong with a `regions.toml`, and where.

use std::fmt;

use crate::codes::{CodeError, CountryCode, RegionId};

/// One problem of a file. Every variant names the thing and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("unsupported version {version}: this build reads version 1")]
    UnsupportedVersion { version: u32 },
    #[error("the file defines no region")]
    NoRegions,
    #[error("{0}")]
    Code(#[from] CodeError),
    #[error("region {region} is defined twice")]
    DuplicateRegion { region: RegionId },
    #[error("country {country} is claimed by region {first} and by region {second}")]
    CountryClaimedTwice {
        country: CountryCode,
        first: RegionId,
        second: RegionId,
    },
    #[error("country {country} is listed twice in region {region}")]
    CountryListedTwice {
        country: CountryCode,
        region: RegionId,
    },
    #[error("region {region} serves no country and is not the fallback")]
    RegionWithoutCountries { region: RegionId },
    #[error(
        "region {region} is pinned but has no core_url: its shoppers' data would have nowhere to go"
    )]
    PinnedRegionWithoutCoreUrl { region: RegionId },
    #[error(
        "region {region} is pinned but has no [region.retention]: compliance must say how long its personal data is kept"
    )]
    PinnedRegionWithoutRetention { region: RegionId },
    #[error(
        "{key} = {value} in region {region}: a retention period is a whole number of days from 1 to 36500"
    )]
    InvalidRetention {
        region: RegionId,
        key: &'static str,
        value: i64,
    },
    #[error("region {region} is pinned but names no regulation")]
    PinnedRegionWithoutRegulation { region: RegionId },
    #[error("core_url {url:?} of region {region} is not a usable base URL: {reason}")]
    InvalidCoreUrl {
        region: RegionId,
        url: String,
        reason: String,
    },
    #[error("fallback {region:?} is not a region defined in this file")]
    UnknownFallback { region: String },
    #[error(
        "fallback region {region} is pinned: shoppers from unlisted countries would be pinned to it without a legal basis"
    )]
    FallbackIsPinned { region: RegionId },
    #[error("region {region} has no warehouse")]
    RegionWithoutWarehouse { region: RegionId },
    #[error("warehouse {warehouse} is defined twice (regions {first} and {second})")]
    DuplicateWarehouse {
        warehouse: String,
        first: RegionId,
        second: RegionId,
    },
    #[error("tax rates for country {country} are given twice in region {region}")]
    CountryTaxTwice {
        country: CountryCode,
        region: RegionId,
    },
    #[error("region {region} sets tax rates for country {country}, which it does not serve")]
    TaxForCountryNotServed {
        country: CountryCode,
        region: RegionId,
    },
    #[error("unknown data class {class:?} in edge_may_cache (known: {known})")]
    UnknownDataClass { class: String, known: String },
    #[error("region {region} lets the edge cache {class}, which is personal data")]
    EdgeMayNotCachePersonalData { region: RegionId, class: String },
}

/// A problem and where it is in the file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub problem: Problem,
}

/// Why a file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("failed to read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, or not this schema (unknown key, wrong type, missing key).
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed but unsafe: every problem found, in file order.
    #[error("{} problem(s) in the region config", .0.len())]
    Invalid(Vec<Diagnostic>),
    /// A deployment override (`MERIDIAN_CORE_URL_<ID>`) is unusable.
    #[error("{0}")]
    Override(Problem),
}

impl LoadError {
    /// Renders every problem as `FILE:LINE:COLUMN: error: MESSAGE`, one per line, the form
    /// the CLI prints and the snapshot tests check.
    pub fn render(&self, file: &str) -> String {
        match self {
            Self::Io { .. } | Self::Override(_) => format!("error: {self}\n"),
            Self::Syntax {
                line,
                column,
                message,
            } => format!("{file}:{line}:{column}: error: {message}\n"),
            Self::Invalid(diagnostics) => diagnostics
                .iter()
                .map(|d| format!("{file}:{d}\n"))
                .collect(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: error: {}", self.line, self.column, self.problem)
    }
}
