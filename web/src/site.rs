//! What every page of one request knows: the storefront (theme and overrides), the
//! shopper's region as the edge node resolved it, and the session's CSRF token and cart
//! size. Provided to the theming components as Leptos context.

use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use crate::theme::Theme;

/// What the storefront knows of a region: region-config's storefront view of
/// `regions.toml` (no core URLs), handed to the storefront at run time as the application
/// variable `region_config` (see [`load_regions`]).
#[derive(Debug, Deserialize)]
pub struct RegionInfo {
    pub id: String,
    pub name: String,
    pub currency: String,
    /// Decimal digits of the currency's minor unit.
    pub exponent: u8,
    /// The regulation that pins shoppers' personal data to this region, if any.
    pub pinned: Option<String>,
    /// "VAT", "GST", "sales tax".
    pub tax_label: String,
    /// Whether shown prices include the tax.
    pub tax_inclusive: bool,
    /// Whether it serves the countries no region lists.
    pub fallback: bool,
    pub countries: Vec<Country>,
}

/// A country a region lists.
#[derive(Debug, Deserialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    pub name: String,
    /// region-config's explanation, for shoppers, of where this country's shoppers are served
    /// and their data kept.
    pub explanation: String,
}

/// The `region_config` variable's value.
#[derive(Debug, Deserialize)]
struct View {
    /// Names the content exactly; the edge node sends its own in [`FINGERPRINT_HEADER`].
    fingerprint: String,
    regions: Vec<RegionInfo>,
}

/// The application variable carrying the regions (region-config's `storefront::VARIABLE`).
pub const VARIABLE: &str = "region_config";

/// Where the edge node sends the fingerprint of its own view of the regions.
pub const FINGERPRINT_HEADER: &str = "x-meridian-regions";

static VIEW: OnceLock<View> = OnceLock::new();

/// Why the storefront cannot serve: its regions are missing, unreadable, or not the node's.
#[derive(Debug, PartialEq, Eq)]
pub enum RegionsError {
    Missing,
    Unreadable(String),
    /// The variable's view and the node's differ: a stale `region_config` was deployed.
    Mismatch {
        ours: String,
        node: String,
    },
}

impl std::fmt::Display for RegionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => write!(f, "the {VARIABLE} variable is not set"),
            Self::Unreadable(e) => write!(f, "the {VARIABLE} variable is not a region view: {e}"),
            Self::Mismatch { ours, node } => write!(
                f,
                "the {VARIABLE} variable describes regions {ours}, the edge node serves regions {node}: deploy the variable from the node's regions.toml (`region-config storefront-view`)"
            ),
        }
    }
}

/// Reads the regions for this instance from `value` (the `region_config` variable), once,
/// and checks them against the fingerprint the node sent, if it sent one (Spin sends none).
/// The unit tests and the native baseline fall back to the shipped file's view.
pub fn load_regions(value: Option<String>, node: Option<&str>) -> Result<(), RegionsError> {
    let view = match VIEW.get() {
        Some(view) => view,
        None => {
            let parsed = match value {
                Some(json) => parse_view(&json)?,
                None => shipped().ok_or(RegionsError::Missing)?,
            };
            VIEW.get_or_init(|| parsed)
        }
    };
    check(view, node)
}

fn parse_view(json: &str) -> Result<View, RegionsError> {
    let view: View =
        serde_json::from_str(json).map_err(|e| RegionsError::Unreadable(e.to_string()))?;
    if view.regions.is_empty() || !view.regions.iter().any(|r| r.fallback) {
        return Err(RegionsError::Unreadable(
            "no regions, or no fallback region".into(),
        ));
    }
    Ok(view)
}

/// The node's fingerprint, if it sent one, must be the view's.
fn check(view: &View, node: Option<&str>) -> Result<(), RegionsError> {
    match node.map(str::trim) {
        Some(node) if node != view.fingerprint => Err(RegionsError::Mismatch {
            ours: view.fingerprint.clone(),
            node: node.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The shipped `regions.toml`'s view, for the unit tests and the native baseline only.
fn shipped() -> Option<View> {
    #[cfg(any(test, feature = "native"))]
    return serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/region_view.json"))).ok();
    #[cfg(not(any(test, feature = "native")))]
    None
}

/// Every region, in the file's order.
pub fn regions() -> &'static [RegionInfo] {
    if VIEW.get().is_none() {
        // Outside a request (unit tests): the shipped view.
        let _ = load_regions(None, None);
    }
    VIEW.get().map_or(&[], |v| &v.regions)
}

/// Every ISO 3166-1 alpha-2 code, sorted: what region-config accepts as a country.
static ISO_COUNTRIES: &[&str] = include!(concat!(env!("OUT_DIR"), "/iso_countries.rs"));

/// A shopper's home region for a request, resolved as the edge node resolves it: the
/// country from the CDN's header, else the country the shopper chose (cookie), else the
/// fallback region. A value that is not an ISO 3166-1 alpha-2 code (upper case) is passed
/// over. On Spin, which knows nothing of regions, this is the only place a region is chosen,
/// so the storefront never trusts a region a client names.
pub fn home_of(header: Option<&str>, cookie: Option<&str>) -> &'static RegionInfo {
    fn code(value: &str) -> Option<&str> {
        let value = value.trim();
        ISO_COUNTRIES.binary_search(&value).is_ok().then_some(value)
    }
    header
        .and_then(code)
        .or_else(|| cookie.and_then(code))
        .map_or_else(fallback, home_region)
}

/// The region serving countries no region lists.
pub fn fallback() -> &'static RegionInfo {
    let regions = regions();
    regions
        .iter()
        .find(|r| r.fallback)
        .unwrap_or_else(|| &regions[0])
}

pub fn region(id: &str) -> Option<&'static RegionInfo> {
    regions().iter().find(|r| r.id == id)
}

/// A listed country by its code (any case).
pub fn country(code: &str) -> Option<&'static Country> {
    let code = code.trim().to_ascii_uppercase();
    regions()
        .iter()
        .flat_map(|r| r.countries.iter())
        .find(|c| c.code == code)
}

/// The home region of a shopper from `code`: the region listing it, else the fallback.
pub fn home_region(code: &str) -> &'static RegionInfo {
    let code = code.trim().to_ascii_uppercase();
    regions()
        .iter()
        .find(|r| r.countries.iter().any(|c| c.code == code))
        .unwrap_or_else(fallback)
}

/// How a region shows tax next to prices: "incl. VAT", "plus sales tax", "incl. GST".
pub fn tax_note(region: &RegionInfo) -> String {
    if region.tax_inclusive {
        format!("incl. {}", region.tax_label)
    } else {
        format!("plus {}", region.tax_label)
    }
}

/// Formats minor units in `currency` for people (`2.14 EUR`), with the currency's exponent
/// from the regions' currencies (2 for a currency no region uses).
pub fn format_money(minor: i64, currency: &str) -> String {
    let exponent = regions()
        .iter()
        .find(|r| r.currency == currency)
        .map_or(2, |r| u32::from(r.exponent));
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude} {currency}");
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$} {currency}",
        magnitude / scale,
        magnitude % scale,
        width = exponent as usize
    )
}

/// A `YYYY-MM-DD` date for people: `Tuesday 8 December`; the text itself if it is not one.
pub fn format_date(date: &str) -> String {
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut parts = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (Some(Some(y)), Some(Some(m)), Some(Some(d))) = (parts.next(), parts.next(), parts.next())
    else {
        return date.to_owned();
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return date.to_owned();
    }
    // Sakamoto's day of the week (0 = Sunday).
    const T: [i64; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y2 = if m < 3 { y - 1 } else { y };
    let weekday = (y2 + y2 / 4 - y2 / 100 + y2 / 400 + T[(m - 1) as usize] + d).rem_euclid(7);
    format!(
        "{} {d} {}",
        DAYS[weekday as usize],
        MONTHS[(m - 1) as usize]
    )
}

/// A storefront's component overrides: each replaces one theming component. `None` keeps
/// the shipped one. See web/README.md for the contract.
#[derive(Clone, Copy, Default)]
pub struct Overrides {
    pub product_card: Option<fn(&crate::components::props::CardData) -> leptos::prelude::AnyView>,
    pub header: Option<fn(&crate::components::props::HeaderData) -> leptos::prelude::AnyView>,
    pub footer: Option<fn(&crate::components::props::FooterData) -> leptos::prelude::AnyView>,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("product_card", &self.product_card.is_some())
            .field("header", &self.header.is_some())
            .field("footer", &self.footer.is_some())
            .finish()
    }
}

/// A storefront: its id (the catalogue namespace of its scope), its theme (data, from the
/// relay's site projection) and its component overrides (code).
#[derive(Debug, Clone)]
pub struct Storefront {
    pub id: String,
    pub theme: Arc<Theme>,
    pub overrides: Overrides,
}

/// One request's page context.
#[derive(Debug, Clone)]
pub struct Site {
    pub storefront: Storefront,
    /// The shopper's home region, resolved by the storefront itself ([`home_of`]).
    pub region: &'static RegionInfo,
    /// The shopper's country, when known (CDN header or their choice).
    pub country: Option<&'static Country>,
    /// The session's CSRF token, put in every form that changes state.
    pub csrf: String,
    /// Units in the cart, for the header.
    pub cart_units: u32,
    /// This response's nonce for the one inline stylesheet (the theme's), named in its
    /// `Content-Security-Policy`.
    pub style_nonce: String,
    /// Whether the request carries a signed session cookie (the header says "Your
    /// account"); whether the session is still live, only the core knows.
    pub signed_in: bool,
    /// This page's path and query, where a card's "Add" brings the shopper back to.
    pub here: String,
}

impl Site {
    pub fn tax_note(&self) -> String {
        tax_note(self.region)
    }

    /// The country prices and tax are computed for: the shopper's, else the region's first.
    pub fn pricing_country(&self) -> String {
        self.country
            .or_else(|| self.region.countries.first())
            .map_or_else(String::new, |c| c.code.to_owned())
    }
}

/// The page context of the request being rendered.
pub fn use_site() -> Site {
    leptos::prelude::use_context::<Site>().expect("pages render inside ThemeProvider")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_with_their_weekday() {
        assert_eq!(format_date("2026-12-08"), "Tuesday 8 December");
        assert_eq!(format_date("2027-01-01"), "Friday 1 January");
        assert_eq!(format_date("2028-02-29"), "Tuesday 29 February");
        assert_eq!(format_date("tomorrow"), "tomorrow");
    }

    #[test]
    fn the_home_region_comes_from_the_country_header_then_the_cookie_then_the_fallback() {
        assert_eq!(home_of(Some("FR"), Some("IN")).id, "eu-west");
        assert_eq!(home_of(None, Some("IN")).id, "ap-south");
        // Not a country code: passed over, as the edge node does.
        assert_eq!(home_of(Some("ZZ"), Some("BR")).id, "sa-east");
        assert_eq!(home_of(Some("fr"), Some("BR")).id, "sa-east");
        // A country no region lists is served by the fallback, whatever the cookie says.
        assert_eq!(home_of(Some("JP"), Some("FR")).id, fallback().id);
        assert_eq!(home_of(None, None).id, fallback().id);
    }

    #[test]
    fn a_view_is_refused_when_missing_unreadable_or_not_the_nodes() {
        let shipped = include_str!(concat!(env!("OUT_DIR"), "/region_view.json"));
        let view = parse_view(shipped).expect("the shipped view");
        assert_eq!(check(&view, None), Ok(()), "Spin sends no fingerprint");
        assert_eq!(check(&view, Some(view.fingerprint.as_str())), Ok(()));
        assert!(matches!(
            check(&view, Some("0123456789abcdef")),
            Err(RegionsError::Mismatch { .. })
        ));
        for bad in ["", "{}", r#"{"fingerprint": "x", "regions": []}"#] {
            assert!(
                matches!(parse_view(bad), Err(RegionsError::Unreadable(_))),
                "{bad}"
            );
        }
        // A sixth region in a three-decimal currency is read like any other.
        let mut value: serde_json::Value = serde_json::from_str(shipped).expect("JSON");
        let mut extra = value["regions"][0].clone();
        extra["id"] = "me-central".into();
        extra["currency"] = "KWD".into();
        extra["exponent"] = 3.into();
        extra["fallback"] = false.into();
        value["regions"]
            .as_array_mut()
            .expect("regions")
            .push(extra);
        let six = parse_view(&value.to_string()).expect("six regions");
        assert_eq!(six.regions.len(), view.regions.len() + 1);
        assert_eq!(six.regions.last().map(|r| r.exponent), Some(3));
    }

    #[test]
    fn the_shipped_regions_read_as_region_config_wrote_them() {
        assert_eq!(home_region("fr").id, "eu-west");
        assert_eq!(home_region("IN").id, "ap-south");
        assert!(fallback().fallback);
        assert_eq!(home_region("ZZ").id, fallback().id);
        let eu = region("eu-west").expect("eu-west");
        assert_eq!(
            (eu.currency.as_str(), eu.exponent, eu.pinned.as_deref()),
            ("EUR", 2, Some("GDPR"))
        );
        assert_eq!(tax_note(eu), "incl. VAT");
        assert!(country("de").expect("DE").explanation.contains("eu-west"));
    }

    #[test]
    fn money_formats_with_the_currency_exponent() {
        assert_eq!(format_money(214, "EUR"), "2.14 EUR");
        assert_eq!(format_money(-5, "USD"), "-0.05 USD");
        assert_eq!(format_money(14_900, "INR"), "149.00 INR");
    }
}
