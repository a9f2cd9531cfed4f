//! The validated configuration and the questions other parts ask of it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::codes::{BasisPoints, CountryCode, Currency, RegionId, Slug};
use crate::error::{LoadError, Problem};
use crate::file::{TaxDisplay, TaxKind};

/// A validated `regions.toml`: every country maps to exactly one region.
#[derive(Debug, Clone)]
pub struct RegionConfig {
    pub(crate) regions: Vec<Region>,
    pub(crate) fallback: usize,
    pub(crate) by_country: BTreeMap<CountryCode, usize>,
}

/// One region: its currency, its shoppers' countries, where their data lives, its taxes.
#[derive(Debug, Clone)]
pub struct Region {
    pub id: RegionId,
    pub name: String,
    pub currency: Currency,
    /// Countries listed for this region in the file (the fallback also serves unlisted ones).
    pub countries: Vec<CountryCode>,
    pub pinning: Pinning,
    /// The regional core's base URL, after environment overrides.
    pub core_url: Option<Url>,
    pub edge_pops: Vec<Slug>,
    pub edge_may_cache: BTreeSet<DataClass>,
    pub tax: TaxRules,
    pub warehouses: Vec<Warehouse>,
    /// How long personal data is kept; always set for a pinned region. `None`: kept until
    /// the shopper or staff ask for erasure.
    pub retention: Option<Retention>,
    /// The 1-based line of this region's `id` key, for explanations.
    pub line: usize,
    /// The 1-based line where each listed country is written, for explanations.
    pub country_lines: BTreeMap<CountryCode, usize>,
}

/// How long a region keeps personal data, in whole days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// After a guest order is completed, its personal fields are anonymised.
    pub guest_order_days: u32,
    /// After an account's last sign-in, the account is erased.
    pub inactive_account_days: u32,
}

impl Retention {
    /// The longest period the checker accepts: a hundred years.
    pub const MAX_DAYS: u32 = 36_500;
}

/// Whether a region's shoppers' personal data is pinned to it, and by which law.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pinning {
    Pinned {
        regulation: String,
        basis: Option<String>,
    },
    NotPinned,
}

impl Pinning {
    pub fn is_pinned(&self) -> bool {
        matches!(self, Self::Pinned { .. })
    }
}

/// A warehouse that ships this region's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    pub id: Slug,
    pub city: String,
    pub country: CountryCode,
}

/// A region's tax rules: a default rate, per-category rates, and per-country overrides.
#[derive(Debug, Clone)]
pub struct TaxRules {
    pub kind: TaxKind,
    pub display: TaxDisplay,
    pub default_rate: BasisPoints,
    pub categories: BTreeMap<Slug, BasisPoints>,
    pub countries: BTreeMap<CountryCode, CountryTax>,
}

/// One country's rates inside a region.
#[derive(Debug, Clone)]
pub struct CountryTax {
    pub default_rate: BasisPoints,
    pub categories: BTreeMap<Slug, BasisPoints>,
}

impl TaxRules {
    /// The rate for goods of `category` sold to a shopper in `country`. The most specific
    /// rule wins: the country's category rate, the country's default, the region's category
    /// rate, the region's default.
    pub fn rate(&self, country: CountryCode, category: &Slug) -> BasisPoints {
        match self.countries.get(&country) {
            Some(c) => c
                .categories
                .get(category)
                .copied()
                .unwrap_or(c.default_rate),
            None => self
                .categories
                .get(category)
                .copied()
                .unwrap_or(self.default_rate),
        }
    }

    /// Whether shown prices already include the tax.
    pub fn prices_include_tax(&self) -> bool {
        self.display == TaxDisplay::Inclusive
    }
}

/// Kinds of data the edge might hold. The file says which ones a region's shoppers' edge
/// may cache; the personal ones are refused by validation whatever the file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataClass {
    Catalogue,
    Prices,
    StockHints,
    Cart,
    Recommendations,
    SessionSignals,
    ShopperContact,
    ShippingAddress,
    PaymentDetails,
    OrderHistory,
}

impl DataClass {
    pub const ALL: [DataClass; 10] = [
        Self::Catalogue,
        Self::Prices,
        Self::StockHints,
        Self::Cart,
        Self::Recommendations,
        Self::SessionSignals,
        Self::ShopperContact,
        Self::ShippingAddress,
        Self::PaymentDetails,
        Self::OrderHistory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Catalogue => "catalogue",
            Self::Prices => "prices",
            Self::StockHints => "stock-hints",
            Self::Cart => "cart",
            Self::Recommendations => "recommendations",
            Self::SessionSignals => "session-signals",
            Self::ShopperContact => "shopper-contact",
            Self::ShippingAddress => "shipping-address",
            Self::PaymentDetails => "payment-details",
            Self::OrderHistory => "order-history",
        }
    }

    /// Personal data: accepted only by the home region's core, never cached at the edge.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            Self::ShopperContact
                | Self::ShippingAddress
                | Self::PaymentDetails
                | Self::OrderHistory
        )
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataClass {
    type Err = ();
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == value)
            .ok_or(())
    }
}

/// Why a country belongs to its home region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    /// The region lists the country.
    Listed,
    /// No region lists it, so the file's fallback serves it.
    Fallback,
}

impl RegionConfig {
    /// Reads, parses and validates a file. Environment overrides are not applied: see
    /// [`RegionConfig::with_core_url_overrides`].
    pub fn from_path(path: &std::path::Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and validates the text of a `regions.toml`.
    pub fn parse(text: &str) -> Result<Self, LoadError> {
        crate::validate::parse(text)
    }

    /// Replaces each region's core URL by `MERIDIAN_CORE_URL_<ID>` where `lookup` has one
    /// (`eu-west` → `MERIDIAN_CORE_URL_EU_WEST`), so one reviewed file serves every
    /// deployment. Pass `|k| std::env::var(k).ok()` in binaries.
    pub fn with_core_url_overrides(
        mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Problem> {
        for region in &mut self.regions {
            let key = core_url_env_key(&region.id);
            if let Some(value) = lookup(&key) {
                let url = parse_core_url(&value).map_err(|reason| Problem::InvalidCoreUrl {
                    region: region.id.clone(),
                    url: format!("{value} (from {key})"),
                    reason,
                })?;
                region.core_url = Some(url);
            }
        }
        Ok(self)
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn region(&self, id: &RegionId) -> Option<&Region> {
        self.regions.iter().find(|r| &r.id == id)
    }

    /// The region that serves every country no region lists.
    pub fn fallback(&self) -> &Region {
        &self.regions[self.fallback]
    }

    /// The home region of a shopper from `country`: the one that lists it, else the fallback.
    pub fn home_region(&self, country: CountryCode) -> &Region {
        self.assignment(country).0
    }

    /// The home region and why it is the home region.
    pub fn assignment(&self, country: CountryCode) -> (&Region, Assignment) {
        match self.by_country.get(&country) {
            Some(&i) => (&self.regions[i], Assignment::Listed),
            None => (self.fallback(), Assignment::Fallback),
        }
    }

    /// What the edge may keep for a shopper from `country`: the home region's
    /// `edge_may_cache`, which validation guarantees holds no personal data class.
    pub fn edge_may_cache(&self, country: CountryCode) -> &BTreeSet<DataClass> {
        &self.home_region(country).edge_may_cache
    }
}

/// The environment variable that overrides a region's core URL.
pub fn core_url_env_key(region: &RegionId) -> String {
    format!(
        "MERIDIAN_CORE_URL_{}",
        region.as_str().replace('-', "_").to_ascii_uppercase()
    )
}

pub(crate) fn parse_core_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https are allowed".to_owned());
    }
    if url.host().is_none() {
        return Err("it has no host".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a base URL has no query or fragment".to_owned());
    }
    Ok(url)
}
