//! The storefront's view of the config: what the edge needs to show a shopper their region
//! (names, currencies, tax labels, countries and their explanations), and nothing a shopper
//! must not see (no core URLs). The edge node hands it to the storefront at run time as the
//! application variable `region_config`, so a new `regions.toml` reaches the pages without a
//! rebuild; `region-config storefront-view` prints it for Spin deployments.
//!
//! Its `fingerprint` names the exact content: the node sends its own with every request, and
//! the storefront refuses to serve from a view whose fingerprint differs.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{Pinning, RegionConfig};

/// The application variable that carries the view.
pub const VARIABLE: &str = "region_config";

/// The request header carrying the fingerprint of the node's own view.
pub const FINGERPRINT_HEADER: &str = "x-meridian-regions";

/// What the storefront knows of the regions.
#[derive(Debug, Clone, Serialize)]
pub struct StorefrontView {
    /// 16 hex digits of the SHA-256 of `regions` as JSON.
    pub fingerprint: String,
    pub regions: Vec<RegionView>,
}

/// One region, as shoppers see it.
#[derive(Debug, Clone, Serialize)]
pub struct RegionView {
    pub id: String,
    pub name: String,
    pub currency: String,
    /// Decimal digits of the currency's minor unit.
    pub exponent: u8,
    /// The regulation that pins its shoppers' personal data, if any.
    pub pinned: Option<String>,
    /// "VAT", "GST", "sales tax".
    pub tax_label: String,
    pub tax_inclusive: bool,
    /// Whether it serves the countries no region lists.
    pub fallback: bool,
    pub countries: Vec<CountryView>,
}

/// A country a region lists.
#[derive(Debug, Clone, Serialize)]
pub struct CountryView {
    pub code: String,
    pub name: String,
    /// Where its shoppers are served and their data kept, for shoppers.
    pub explanation: String,
}

impl StorefrontView {
    pub fn of(config: &RegionConfig) -> Self {
        let regions: Vec<RegionView> = config
            .regions()
            .iter()
            .map(|region| RegionView {
                id: region.id.as_str().to_owned(),
                name: region.name.clone(),
                currency: region.currency.as_str().to_owned(),
                exponent: region.currency.exponent(),
                pinned: match &region.pinning {
                    Pinning::Pinned { regulation, .. } => Some(regulation.clone()),
                    Pinning::NotPinned => None,
                },
                tax_label: region.tax.kind.label().to_owned(),
                tax_inclusive: region.tax.prices_include_tax(),
                fallback: region.id == config.fallback().id,
                countries: region
                    .countries
                    .iter()
                    .map(|c| CountryView {
                        code: c.as_str().to_owned(),
                        name: c.name().to_owned(),
                        explanation: crate::explain::for_shoppers(config, *c),
                    })
                    .collect(),
            })
            .collect();
        let json = serde_json::to_vec(&regions).unwrap_or_default();
        let fingerprint = hex(&Sha256::digest(&json)[..8]);
        Self {
            fingerprint,
            regions,
        }
    }

    /// The view as the `region_config` variable's value.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint inside a `region_config` value, without parsing the rest.
pub fn fingerprint_of(json: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        fingerprint: String,
    }
    serde_json::from_str::<Head>(json)
        .ok()
        .map(|h| h.fingerprint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_names_no_core_url_and_its_fingerprint_follows_the_content() {
        let config = RegionConfig::from_path(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/regions.toml"
        )))
        .unwrap();
        let view = StorefrontView::of(&config);
        let json = view.to_json();
        assert!(
            !json.contains("http://") && !json.contains("https://"),
            "{json}"
        );
        assert_eq!(
            fingerprint_of(&json).as_deref(),
            Some(view.fingerprint.as_str())
        );
        assert_eq!(view.regions.len(), config.regions().len());
        assert_eq!(view.regions.iter().filter(|r| r.fallback).count(), 1);
        let mut other = view.clone();
        other.regions[0].name.push('!');
        let changed = serde_json::to_vec(&other.regions).unwrap();
        assert_ne!(hex(&Sha256::digest(&changed)[..8]), view.fingerprint);
    }
}
