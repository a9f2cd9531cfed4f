//! A password as a shopper chose it.

use std::fmt;

use crate::InputError;

/// A password: 10 to 128 characters, kept exactly as typed (spaces count), no control
/// characters. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Long enough to resist guessing without other rules on what it contains.
    pub const MIN: usize = 10;
    /// Bounds the hashing work one request can ask for.
    pub const MAX: usize = 128;
    const WHAT: &'static str = "a password";

    pub fn parse(value: &str) -> Result<Self, InputError> {
        if value.chars().any(char::is_control) {
            return Err(InputError::ControlCharacter { what: Self::WHAT });
        }
        let length = value.chars().count();
        if length == 0 {
            return Err(InputError::Missing { what: Self::WHAT });
        }
        if length > Self::MAX {
            return Err(InputError::TooLong {
                what: Self::WHAT,
                max: Self::MAX,
            });
        }
        if length < Self::MIN || value.trim().is_empty() {
            return Err(InputError::Malformed {
                what: Self::WHAT,
                rule: "use at least 10 characters",
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_password_has_ten_to_128_characters_and_never_prints() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("          ").is_err());
        assert!(Password::parse("correct horse").is_ok());
        assert!(Password::parse("ünïcödé-ßtring").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse("tab\there-long-enough").is_err());
        let p = Password::parse("hunter2-hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter"));
        assert_eq!(p.expose(), "hunter2-hunter2");
    }
}
