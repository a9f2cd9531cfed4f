//! Where an order goes: a country, a postal code of that country's shape, and the lines of
//! a postal address.

use crate::text::checked;
use crate::{InputError, Text, string_newtype};

/// A country as an ISO 3166-1 alpha-2 code, upper case (`fr` is read as `FR`). Whether a
/// region serves it is the region config's business, not this type's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(value: &str) -> Result<Self, InputError> {
        let value = value.trim();
        match value.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            [] => Err(InputError::Missing { what: "a country" }),
            _ => Err(InputError::Malformed {
                what: "a country",
                rule: "a two-letter country code such as FR",
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        // Two ASCII letters, checked in `parse`.
        core::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl core::fmt::Display for Country {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The shapes of a country's postal codes, where one is known: `9` a digit, `A` a letter,
/// `X` a letter or digit, anything else itself. Codes are compared in upper case.
fn shapes(country: &str) -> Option<&'static [&'static str]> {
    Some(match country {
        "US" => &["99999", "99999-9999"],
        "CA" => &["A9A 9A9", "A9A9A9"],
        "MX" | "DE" | "FR" | "ES" | "IT" | "FI" => &["99999"],
        "NL" => &["9999 AA", "9999AA"],
        "BE" | "AT" | "AU" | "NZ" => &["9999"],
        "LU" => &["9999", "L-9999"],
        "IE" => &["X99 XXXX", "X99XXXX"],
        "PT" => &["9999-999"],
        "IN" => &["999999", "999 999"],
        "BR" => &["99999-999", "99999999"],
        _ => return None,
    })
}

fn fits(code: &str, shape: &str) -> bool {
    code.len() == shape.len()
        && code.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'9' => c.is_ascii_digit(),
            b'A' => c.is_ascii_uppercase(),
            b'X' => c.is_ascii_uppercase() || c.is_ascii_digit(),
            literal => c == literal,
        })
}

/// A postal code: of the country's shape where one is known, else 1 to 16 letters, digits,
/// spaces and dashes. Kept in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);
string_newtype!(PostalCode);

impl PostalCode {
    pub const MAX: usize = 16;
    const WHAT: &'static str = "a postal code";

    pub fn parse(value: &str, country: Country) -> Result<Self, InputError> {
        let code = checked(Self::WHAT, value, Self::MAX, false)?.to_ascii_uppercase();
        let ok = match shapes(country.as_str()) {
            Some(shapes) => shapes.iter().any(|s| fits(&code, s)),
            None => {
                code.bytes().any(|b| b.is_ascii_alphanumeric())
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
            }
        };
        if !ok {
            return Err(InputError::Malformed {
                what: Self::WHAT,
                rule: "write it as it is written in that country",
            });
        }
        Ok(Self(code))
    }

    /// A code of `country`'s shape, for forms' hints, demo data and tests.
    pub fn example(country: Country) -> String {
        let shape = shapes(country.as_str()).map_or("1000", |s| s[0]);
        shape
            .bytes()
            .map(|b| match b {
                b'9' => '1',
                b'A' | b'X' => 'A',
                other => char::from(other),
            })
            .collect()
    }
}

/// A delivery address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalAddress {
    pub line1: Text,
    pub line2: Option<Text>,
    pub city: Text,
    pub postal_code: PostalCode,
    pub country: Country,
}

/// The fields of a [`PostalAddress`] as typed, for [`PostalAddress::parse`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AddressInput<'a> {
    pub line1: &'a str,
    pub line2: &'a str,
    pub city: &'a str,
    pub postal_code: &'a str,
    pub country: &'a str,
}

impl PostalAddress {
    pub const LINE_MAX: usize = 200;
    pub const CITY_MAX: usize = 100;

    /// Parses every field; on failure, the first field refused (`line1`, `line2`, `city`,
    /// `postal_code` or `country`) and why.
    pub fn parse(input: AddressInput<'_>) -> Result<Self, (&'static str, InputError)> {
        let country = Country::parse(input.country).map_err(|e| ("country", e))?;
        Ok(Self {
            line1: Text::parse("a street address", input.line1, Self::LINE_MAX)
                .map_err(|e| ("line1", e))?,
            line2: Text::parse_optional("a second address line", input.line2, Self::LINE_MAX)
                .map_err(|e| ("line2", e))?,
            city: Text::parse("a city", input.city, Self::CITY_MAX).map_err(|e| ("city", e))?,
            postal_code: PostalCode::parse(input.postal_code, country)
                .map_err(|e| ("postal_code", e))?,
            country,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(code: &str) -> Country {
        Country::parse(code).unwrap()
    }

    #[test]
    fn postal_codes_have_their_countrys_shape() {
        for (c, good) in [
            ("FR", "69001"),
            ("US", "10001-1234"),
            ("CA", "k1a 0b1"),
            ("NL", "1012 AB"),
            ("PT", "1000-001"),
            ("IN", "560001"),
            ("BR", "01310-100"),
            ("AU", "2000"),
            ("GB", "SW1A 1AA"),
        ] {
            assert!(PostalCode::parse(good, country(c)).is_ok(), "{c} {good}");
        }
        for (c, bad) in [
            ("FR", "6900"),
            ("US", "ABCDE"),
            ("IN", "56001"),
            ("GB", "--"),
        ] {
            assert!(PostalCode::parse(bad, country(c)).is_err(), "{c} {bad}");
        }
    }

    #[test]
    fn every_known_shape_has_an_example_that_fits_it() {
        for c in [
            "US", "CA", "DE", "NL", "LU", "IE", "PT", "IN", "BR", "AU", "JP",
        ] {
            let example = PostalCode::example(country(c));
            assert!(
                PostalCode::parse(&example, country(c)).is_ok(),
                "{c} {example}"
            );
        }
    }

    #[test]
    fn an_address_names_the_first_field_it_refuses() {
        let input = AddressInput {
            line1: "12 rue du Four",
            line2: "",
            city: "Lyon",
            postal_code: "69001",
            country: "fr",
        };
        let address = PostalAddress::parse(input).unwrap();
        assert_eq!(address.country.as_str(), "FR");
        assert_eq!(address.line2, None);
        let bad = AddressInput {
            city: "Ly\u{0}on",
            ..input
        };
        assert_eq!(PostalAddress::parse(bad).unwrap_err().0, "city");
        let bad = AddressInput {
            postal_code: "6900",
            ..input
        };
        assert_eq!(PostalAddress::parse(bad).unwrap_err().0, "postal_code");
    }
}
