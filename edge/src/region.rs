//! The shopper's home region for a request: the country from the CDN's header (default
//! `x-meridian-country`), else the country the shopper chose (cookie `meridian_country`),
//! else region-config's fallback region. The region, never the country's personal data,
//! is what components see (header `x-meridian-region`, with the CDN's country as
//! `x-meridian-country`) and what outbound pinning checks.

use http::HeaderMap;
use region_config::{CountryCode, RegionConfig};

/// The cookie in which the storefront keeps the country a shopper chose.
pub const COUNTRY_COOKIE: &str = "meridian_country";
/// The header the node sets to the shopper's home region (any incoming value is replaced).
pub const REGION_HEADER: &str = "x-meridian-region";
/// The default CDN header carrying the shopper's country.
pub const DEFAULT_COUNTRY_HEADER: &str = "x-meridian-country";
/// The header the node sets to the country it read from the CDN's header (any incoming value
/// is replaced or removed), for components that resolve the region themselves as they must
/// on Spin.
pub const COUNTRY_HEADER: &str = "x-meridian-country";

/// The fingerprint of the node's region config, as the storefront's view names it
/// (region-config's `storefront::FINGERPRINT_HEADER`).
pub const REGIONS_HEADER: &str = region_config::storefront::FINGERPRINT_HEADER;

/// Where the country came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    CdnHeader,
    Cookie,
    Fallback,
}

/// One request's shopper: country (if known) and home region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shopper {
    pub country: Option<CountryCode>,
    pub region: String,
    pub source: Source,
}

/// Resolves shoppers' home regions from region-config.
#[derive(Debug, Clone)]
pub struct RegionRouting {
    pub config: RegionConfig,
    pub country_header: http::HeaderName,
    /// The fingerprint of the storefront's view of `config`, sent to components in
    /// [`REGIONS_HEADER`] so the storefront refuses a stale `region_config` variable.
    pub fingerprint: String,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

impl RegionRouting {
    pub fn new(config: RegionConfig, country_header: &str) -> anyhow::Result<Self> {
        Ok(Self {
            fingerprint: region_config::storefront::StorefrontView::of(&config).fingerprint,
            config,
            country_header: http::HeaderName::try_from(country_header.to_ascii_lowercase())?,
        })
    }

    pub fn shopper(&self, headers: &HeaderMap) -> Shopper {
        let country = |value: &str| {
            value
                .trim()
                .to_ascii_uppercase()
                .parse::<CountryCode>()
                .ok()
        };
        let from_header = headers
            .get(&self.country_header)
            .and_then(|v| v.to_str().ok())
            .and_then(country)
            .map(|c| (c, Source::CdnHeader));
        let found = from_header.or_else(|| {
            cookie(headers, COUNTRY_COOKIE)
                .and_then(country)
                .map(|c| (c, Source::Cookie))
        });
        match found {
            Some((country, source)) => Shopper {
                region: self.config.home_region(country).id.as_str().to_owned(),
                country: Some(country),
                source,
            },
            None => Shopper {
                region: self.config.fallback().id.as_str().to_owned(),
                country: None,
                source: Source::Fallback,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing() -> RegionRouting {
        let config = RegionConfig::parse(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../region-config/regions.toml"
            ))
            .unwrap(),
        )
        .unwrap();
        RegionRouting::new(config, DEFAULT_COUNTRY_HEADER).unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cdn_header_then_cookie_then_fallback() {
        let r = routing();
        let s = r.shopper(&headers(&[
            ("x-meridian-country", "FR"),
            ("cookie", "meridian_country=IN"),
        ]));
        assert_eq!(
            (s.region.as_str(), s.source),
            ("eu-west", Source::CdnHeader)
        );
        let s = r.shopper(&headers(&[("cookie", "a=b; meridian_country=IN")]));
        assert_eq!((s.region.as_str(), s.source), ("ap-south", Source::Cookie));
        let s = r.shopper(&headers(&[("x-meridian-country", "not a country")]));
        assert_eq!((s.region.as_str(), s.source), ("us-east", Source::Fallback));
        let s = r.shopper(&headers(&[]));
        assert_eq!(s.region, r.config.fallback().id.as_str());
    }
}
