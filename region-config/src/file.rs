//! The TOML schema of `regions.toml`, as written by compliance staff.
//!
//! These structs only mirror the file: every key is listed, unknown keys are refused, and
//! values that need checking keep their position (`Spanned`) so that `validate` can point at
//! the line and column of every problem. Each field's doc comment shows the TOML key.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    /// `version = 1`: the schema version of this file.
    pub version: Spanned<u32>,
    /// `fallback = "us-east"`: the region that serves every country no region lists.
    pub fallback: Spanned<String>,
    /// `[[region]]`: one table per region.
    #[serde(default, rename = "region")]
    pub regions: Vec<RawRegion>,
}

/// `[[region]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegion {
    /// `id = "eu-west"`
    pub id: Spanned<String>,
    /// `name = "Europe (West)"`
    pub name: String,
    /// `currency = "EUR"`: ISO 4217; prices and orders of this region are in it.
    pub currency: Spanned<String>,
    /// `countries = ["DE", "FR"]`: ISO 3166-1 alpha-2 codes whose shoppers live here.
    #[serde(default)]
    pub countries: Vec<Spanned<String>>,
    /// `core_url = "http://127.0.0.1:7102"`: the regional core's base URL. Deployments
    /// override it with `MERIDIAN_CORE_URL_<ID>` (e.g. `MERIDIAN_CORE_URL_EU_WEST`).
    pub core_url: Option<Spanned<String>>,
    /// `edge_pops = ["fra", "ams"]`: the edge points of presence nearest this region.
    #[serde(default)]
    pub edge_pops: Vec<Spanned<String>>,
    /// `edge_may_cache = ["catalogue", "prices"]`: data classes the edge may keep for
    /// shoppers of this region. Personal data classes are refused.
    #[serde(default)]
    pub edge_may_cache: Vec<Spanned<String>>,
    /// `[region.pinning]`
    pub pinning: RawPinning,
    /// `[region.tax]`
    pub tax: RawTax,
    /// `[[region.warehouse]]`
    #[serde(default, rename = "warehouse")]
    pub warehouses: Vec<RawWarehouse>,
    /// `[region.retention]`: required when the region is pinned.
    pub retention: Option<RawRetention>,
}

/// `[region.retention]`: how long personal data is kept, in days.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetention {
    /// `guest_order_days = 365`: a guest order's personal fields (name, e-mail, phone,
    /// street, city) are anonymised this many days after the order was completed
    /// (fulfilled, cancelled, declined or refunded). Amounts, tax and country stay.
    pub guest_order_days: Spanned<i64>,
    /// `inactive_account_days = 1095`: an account nobody signed in to for this many days is
    /// erased, as if its shopper had asked.
    pub inactive_account_days: Spanned<i64>,
}

/// `[region.pinning]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPinning {
    /// `pinned = true`: personal data of this region's shoppers never leaves it.
    pub pinned: Spanned<bool>,
    /// `regulation = "GDPR"`: the law that pins it; required when pinned.
    pub regulation: Option<String>,
    /// `basis = "..."`: one sentence for reviewers on why the pin exists.
    pub basis: Option<String>,
}

/// `[region.tax]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTax {
    /// `kind = "vat"`: `vat`, `gst` or `sales_tax`.
    pub kind: TaxKind,
    /// `display = "inclusive"`: whether shown prices include the tax (`inclusive`) or it is
    /// added at checkout (`exclusive`).
    pub display: TaxDisplay,
    /// `default_rate_bp = 2000`: the standard rate in basis points (2000 = 20%).
    pub default_rate_bp: Spanned<u32>,
    /// `categories = { food = 550 }`: reduced or special rates per tax category.
    #[serde(default)]
    pub categories: BTreeMap<String, Spanned<u32>>,
    /// `[[region.tax.country]]`: rates of one country where it differs from the region's.
    #[serde(default, rename = "country")]
    pub countries: Vec<RawCountryTax>,
}

/// `[[region.tax.country]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCountryTax {
    /// `country = "DE"`
    pub country: Spanned<String>,
    /// `default_rate_bp = 1900`
    pub default_rate_bp: Spanned<u32>,
    /// `categories = { food = 700 }`
    #[serde(default)]
    pub categories: BTreeMap<String, Spanned<u32>>,
}

/// `[[region.warehouse]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWarehouse {
    /// `id = "fra-1"`: unique across the whole file.
    pub id: Spanned<String>,
    /// `city = "Frankfurt"`
    pub city: String,
    /// `country = "DE"`
    pub country: Spanned<String>,
}

/// How a region taxes sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxKind {
    /// Value-added tax (EU, UK, Brazil).
    Vat,
    /// Goods and services tax (India, Australia, New Zealand).
    Gst,
    /// Sales tax added at the till (United States, Canada).
    SalesTax,
}

impl TaxKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Vat => "VAT",
            Self::Gst => "GST",
            Self::SalesTax => "sales tax",
        }
    }
}

/// Whether displayed prices include tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxDisplay {
    Inclusive,
    Exclusive,
}
