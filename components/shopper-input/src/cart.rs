//! What a cart holds: SKUs and quantities.

use crate::{InputError, string_newtype};

/// A stock-keeping unit: 1 to 64 characters from `A-Z a-z 0-9 - _ .`, starting with a letter
/// or digit. The edge key space (`projections`) and the core's catalogue use this rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sku(String);
string_newtype!(Sku);

impl Sku {
    pub const MAX: usize = 64;

    /// Whether `value` is a SKU, as it is (no trimming: a SKU is never typed by a person).
    pub fn is_valid(value: &str) -> bool {
        value.len() <= Self::MAX
            && value
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }

    pub fn parse(value: &str) -> Result<Self, InputError> {
        if value.chars().any(char::is_control) {
            return Err(InputError::ControlCharacter { what: "a SKU" });
        }
        if !Self::is_valid(value) {
            return Err(InputError::Malformed {
                what: "a SKU",
                rule: "1 to 64 of A-Z a-z 0-9 - _ . starting with a letter or digit",
            });
        }
        Ok(Self(value.to_owned()))
    }
}

/// How many of one SKU a cart or an order line holds: 1 to 1,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(u16);

impl Quantity {
    pub const MAX: u16 = 1_000;

    pub fn parse(value: i64) -> Result<Self, InputError> {
        u16::try_from(value)
            .ok()
            .filter(|q| (1..=Self::MAX).contains(q))
            .map(Self)
            .ok_or(InputError::OutOfRange {
                what: "a quantity",
                min: 1,
                max: i64::from(Self::MAX),
            })
    }

    /// A quantity typed into a form.
    pub fn parse_text(value: &str) -> Result<Self, InputError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(InputError::Missing { what: "a quantity" });
        }
        value
            .parse::<i64>()
            .map_err(|_| InputError::Malformed {
                what: "a quantity",
                rule: "a whole number",
            })
            .and_then(Self::parse)
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sku_is_short_and_plain() {
        assert!(Sku::parse("BAK-00001").is_ok());
        assert!(Sku::parse("a.b_c-1").is_ok());
        for bad in ["", "-lead", "with space", "ünï", "A\u{0}B", &"A".repeat(65)] {
            assert!(Sku::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_quantity_is_one_to_a_thousand() {
        assert_eq!(Quantity::parse(1).unwrap().get(), 1);
        assert!(Quantity::parse(1000).is_ok());
        for bad in [0, -1, 1001, i64::MAX] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Quantity::parse_text(" 3 ").unwrap().get(), 3);
        assert!(Quantity::parse_text("three").is_err());
    }
}
