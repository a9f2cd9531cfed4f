//! Newtypes that can only hold valid values: region ids, ISO 3166-1 country codes, ISO 4217
//! currencies with their minor-unit exponent, basis points and slugs.
//!
//! Every type parses from its text form with `FromStr`/`TryFrom<String>` and serialises back
//! to the same text, so HTTP bodies and WIT records use the plain strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a code was refused. The text is what users see next to the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error(
        "region id {value:?} must be 2 to 32 lowercase letters, digits or '-', starting with a letter"
    )]
    RegionId { value: String },
    #[error("{value:?} is not an ISO 3166-1 alpha-2 country code")]
    Country { value: String },
    #[error("{value:?} is not an ISO 4217 currency code")]
    Currency { value: String },
    #[error("currency {value} has no minor unit and cannot price goods")]
    CurrencyWithoutMinorUnit { value: String },
    #[error(
        "{value:?} must be 1 to 48 lowercase letters, digits, '-' or '_', starting with a letter"
    )]
    Slug { value: String },
    #[error("rate {value} basis points is over 100% (10000)")]
    BasisPoints { value: u32 },
}

fn is_slug(value: &str, max: usize, extra: &[char]) -> bool {
    let mut chars = value.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && value.len() <= max
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
        impl TryFrom<String> for $name {
            type Error = CodeError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }
    };
}

/// A region's id, e.g. `eu-west`: 2–32 characters of `[a-z0-9-]`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionId(String);

impl RegionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RegionId {
    type Err = CodeError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.len() >= 2 && is_slug(value, 32, &['-']) && !value.ends_with('-') {
            Ok(Self(value.to_owned()))
        } else {
            Err(CodeError::RegionId {
                value: value.to_owned(),
            })
        }
    }
}
string_newtype!(RegionId);

/// A lowercase identifier (`[a-z][a-z0-9_-]{0,47}`): tax categories, warehouse ids, edge
/// points of presence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Slug {
    type Err = CodeError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if is_slug(value, 48, &['-', '_']) {
            Ok(Self(value.to_owned()))
        } else {
            Err(CodeError::Slug {
                value: value.to_owned(),
            })
        }
    }
}
string_newtype!(Slug);

/// An ISO 3166-1 alpha-2 country code, always upper case (`DE`, `IN`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(isocountry::CountryCode);

impl CountryCode {
    pub fn as_str(&self) -> &'static str {
        self.0.alpha2()
    }

    /// The English short name, e.g. "Germany".
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl PartialOrd for CountryCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CountryCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl FromStr for CountryCode {
    type Err = CodeError;
    /// Only the upper-case alpha-2 form is accepted: `de` is a typo in a reviewed file.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let refuse = || CodeError::Country {
            value: value.to_owned(),
        };
        if value.len() != 2 || !value.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(refuse());
        }
        isocountry::CountryCode::for_alpha2(value)
            .map(Self)
            .map_err(|_| refuse())
    }
}
string_newtype!(CountryCode);

/// An ISO 4217 currency that has a minor unit, with its exponent (JPY 0, EUR 2, BHD 3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    iso: iso_currency::Currency,
    exponent: u8,
}

impl Currency {
    pub fn as_str(&self) -> &'static str {
        self.iso.code()
    }

    /// Number of decimal digits of the minor unit.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// The English name, e.g. "Euro".
    pub fn name(&self) -> &str {
        self.iso.name()
    }

    /// Formats an amount in minor units for people, e.g. `1234` EUR → `12.34 EUR`.
    pub fn format_minor(&self, amount: i64) -> String {
        let exponent = u32::from(self.exponent);
        let sign = if amount < 0 { "-" } else { "" };
        let magnitude = amount.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{magnitude} {}", self.as_str());
        }
        let scale = 10u64.pow(exponent);
        format!(
            "{sign}{}.{:0width$} {}",
            magnitude / scale,
            magnitude % scale,
            self.as_str(),
            width = exponent as usize
        )
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({}, exponent {})", self.as_str(), self.exponent)
    }
}

impl FromStr for Currency {
    type Err = CodeError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let iso = iso_currency::Currency::from_code(value).ok_or_else(|| CodeError::Currency {
            value: value.to_owned(),
        })?;
        let exponent = iso
            .exponent()
            .and_then(|e| u8::try_from(e).ok())
            .ok_or_else(|| CodeError::CurrencyWithoutMinorUnit {
                value: value.to_owned(),
            })?;
        Ok(Self { iso, exponent })
    }
}
string_newtype!(Currency);

/// A rate in basis points, 0 to 10,000 (0% to 100%). 1,900 is 19%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct BasisPoints(u16);

impl BasisPoints {
    pub const MAX: u32 = 10_000;

    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl TryFrom<u32> for BasisPoints {
    type Error = CodeError;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        u16::try_from(value)
            .ok()
            .filter(|v| u32::from(*v) <= Self::MAX)
            .map(Self)
            .ok_or(CodeError::BasisPoints { value })
    }
}

impl From<BasisPoints> for u32 {
    fn from(value: BasisPoints) -> u32 {
        value.get()
    }
}

impl fmt::Display for BasisPoints {
    /// `1900` → `19%`, `550` → `5.5%`, `725` → `7.25%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 100;
        match self.0 % 100 {
            0 => write!(f, "{whole}%"),
            frac if frac % 10 == 0 => write!(f, "{whole}.{}%", frac / 10),
            frac => write!(f, "{whole}.{frac:02}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_code_must_be_upper_case_alpha_2_and_assigned() {
        assert_eq!("DE".parse::<CountryCode>().unwrap().name(), "Germany");
        assert!("de".parse::<CountryCode>().is_err());
        assert!("DEU".parse::<CountryCode>().is_err());
        assert!("XX".parse::<CountryCode>().is_err());
    }

    #[test]
    fn a_currency_knows_its_minor_unit_exponent() {
        let exponent = |c: &str| c.parse::<Currency>().unwrap().exponent();
        assert_eq!(exponent("JPY"), 0);
        assert_eq!(exponent("EUR"), 2);
        assert_eq!(exponent("BHD"), 3);
        assert!("EURO".parse::<Currency>().is_err());
        assert!(matches!(
            "XAU".parse::<Currency>(),
            Err(CodeError::CurrencyWithoutMinorUnit { .. })
        ));
    }

    #[test]
    fn amounts_are_formatted_with_the_currency_exponent() {
        let format = |c: &str, amount| c.parse::<Currency>().unwrap().format_minor(amount);
        assert_eq!(format("EUR", 1234), "12.34 EUR");
        assert_eq!(format("EUR", 5), "0.05 EUR");
        assert_eq!(format("JPY", 1234), "1234 JPY");
        assert_eq!(format("BHD", -1234), "-1.234 BHD");
    }

    #[test]
    fn basis_points_stop_at_one_hundred_percent() {
        assert_eq!(BasisPoints::try_from(10_000).unwrap().to_string(), "100%");
        assert_eq!(BasisPoints::try_from(550).unwrap().to_string(), "5.5%");
        assert_eq!(BasisPoints::try_from(725).unwrap().to_string(), "7.25%");
        assert!(BasisPoints::try_from(10_001).is_err());
    }

    #[test]
    fn region_ids_are_lowercase_slugs() {
        assert!("eu-west".parse::<RegionId>().is_ok());
        assert!("EU-West".parse::<RegionId>().is_err());
        assert!("e".parse::<RegionId>().is_err());
        assert!("eu-".parse::<RegionId>().is_err());
        assert!("1eu".parse::<RegionId>().is_err());
    }
}
