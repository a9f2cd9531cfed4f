//! The shopper's home region for a request: the country from the CDN's header (default
//! `x-meridian-country`), else the country the shopper chose (cookie `meridian_country`),
//! else region-config's fallback region; but a signed-in shopper (a session cookie signed
//! with a region's key) is served by their account's region wherever they browse from. The
//! region, never the country's personal data,
//! is what components see (header `x-meridian-region`, with the CDN's country as
//! `x-meridian-country`) and what outbound pinning checks.

use http::HeaderMap;
use region_config::{CountryCode, RegionConfig};

/// The cookie holding a signed-in shopper's session (`pricing_rules::session`).
pub const SESSION_COOKIE: &str = "meridian_session";
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
    /// The region is the signed-in shopper's account's, not their country's.
    pub signed_in: bool,
}

/// Resolves shoppers' home regions from region-config.
#[derive(Debug, Clone)]
pub struct RegionRouting {
    pub config: RegionConfig,
    pub country_header: http::HeaderName,
    /// The fingerprint of the storefront's view of `config`, sent to components in
    /// [`REGIONS_HEADER`] so the storefront refuses a stale `region_config` variable.
    pub fingerprint: String,
    /// Each region's key for session cookies (the application's
    /// `quote_signing_key_<region>` variables).
    pub session_keys: std::collections::BTreeMap<String, Vec<u8>>,
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
            session_keys: std::collections::BTreeMap::new(),
            config,
            country_header: http::HeaderName::try_from(country_header.to_ascii_lowercase())?,
        })
    }

    /// Takes each region's session key from the application's variables.
    pub fn with_session_keys(
        mut self,
        variables: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        self.session_keys = self
            .config
            .regions()
            .iter()
            .filter_map(|r| {
                let name = format!("quote_signing_key_{}", r.id.as_str().replace('-', "_"));
                let key = variables.get(&name)?;
                Some((r.id.as_str().to_owned(), key.as_bytes().to_vec()))
            })
            .collect();
        self
    }

    /// The region of a session cookie signed with that region's key.
    fn session_region(&self, headers: &HeaderMap) -> Option<String> {
        let session = pricing_rules::session::parse(cookie(headers, SESSION_COOKIE)?)?;
        let key = self.session_keys.get(session.region)?;
        pricing_rules::session::verify(key, &session).then(|| session.region.to_owned())
    }

    pub fn shopper(&self, headers: &HeaderMap) -> Shopper {
        let mut shopper = self.shopper_by_country(headers);
        if let Some(region) = self.session_region(headers) {
            shopper.region = region;
            shopper.signed_in = true;
        }
        shopper
    }

    fn shopper_by_country(&self, headers: &HeaderMap) -> Shopper {
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
                signed_in: false,
            },
            None => Shopper {
                region: self.config.fallback().id.as_str().to_owned(),
                country: None,
                source: Source::Fallback,
                signed_in: false,
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

    #[test]
    fn a_signed_session_names_the_accounts_region_wherever_the_shopper_browses() {
        let keys = [("quote_signing_key_eu_west".to_owned(), "eu-key".to_owned())];
        let r = routing().with_session_keys(&keys.into_iter().collect());
        let token = "ab".repeat(32);
        let cookie = format!(
            "meridian_session={}",
            pricing_rules::session::issue(b"eu-key", "eu-west", &token)
        );
        let with = |cookie: String| {
            let mut h = headers(&[("x-meridian-country", "US")]);
            h.append("cookie", http::HeaderValue::from_str(&cookie).unwrap());
            r.shopper(&h)
        };
        let s = with(cookie.clone());
        assert_eq!((s.region.as_str(), s.signed_in), ("eu-west", true));
        assert_eq!(s.country.map(|c| c.to_string()), Some("US".to_owned()));
        // Signed with another key, or naming a region without a key: the country decides.
        let forged = format!(
            "meridian_session={}",
            pricing_rules::session::issue(b"other", "eu-west", &token)
        );
        assert_eq!(with(forged).region, "us-east");
        let keyless = format!(
            "meridian_session={}",
            pricing_rules::session::issue(b"eu-key", "ap-south", &token)
        );
        assert_eq!(with(keyless).region, "us-east");
    }
}
