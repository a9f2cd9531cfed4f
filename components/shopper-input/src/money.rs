//! Money: integer minor units with an ISO 4217 currency code. No float anywhere.

use crate::InputError;

/// An ISO 4217 alphabetic code: three upper-case ASCII letters, e.g. `EUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    pub fn parse(value: &str) -> Result<Self, InputError> {
        match value.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(InputError::Malformed {
                what: "a currency",
                rule: "an ISO 4217 code such as EUR",
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        // Three ASCII letters, checked in `parse`.
        core::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl core::fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units (cents, paise, fils) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: CurrencyCode,
}

impl Money {
    /// The largest amount any input may name: a trillion minor units.
    pub const MAX_MINOR: i64 = 1_000_000_000_000;

    /// A price or amount a merchant or shopper names: 0 to [`Money::MAX_MINOR`].
    pub fn parse(minor: i64, currency: &str) -> Result<Self, InputError> {
        if !(0..=Self::MAX_MINOR).contains(&minor) {
            return Err(InputError::OutOfRange {
                what: "an amount in minor units",
                min: 0,
                max: Self::MAX_MINOR,
            });
        }
        Ok(Self {
            minor,
            currency: CurrencyCode::parse(currency)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_whole_minor_units_of_a_currency() {
        let m = Money::parse(1647, "KWD").unwrap();
        assert_eq!((m.minor, m.currency.as_str()), (1647, "KWD"));
        assert!(Money::parse(-1, "EUR").is_err());
        assert!(Money::parse(1, "eur").is_err());
        assert!(Money::parse(1, "EURO").is_err());
    }
}
