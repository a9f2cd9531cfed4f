//! How to reach a shopper: e-mail address and phone number.

use crate::text::checked;
use crate::{InputError, string_newtype};

/// An e-mail address: `local@domain`, 3 to 254 characters, no white space; the local part
/// 1 to 64 characters; the domain at least two dot-separated labels, none empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub const MAX: usize = 254;
    const WHAT: &'static str = "an e-mail address";
    const RULE: &'static str = "write it like name@example.com";

    pub fn parse(value: &str) -> Result<Self, InputError> {
        let value = checked(Self::WHAT, value, Self::MAX, false)?;
        let malformed = InputError::Malformed {
            what: Self::WHAT,
            rule: Self::RULE,
        };
        if value.chars().any(char::is_whitespace) {
            return Err(malformed);
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(malformed);
        };
        let local_ok = (1..=64).contains(&local.chars().count()) && !local.contains('@');
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2 && labels.iter().all(|l| !l.is_empty());
        if !(local_ok && domain_ok) || value.chars().count() < 3 {
            return Err(malformed);
        }
        Ok(Self(value.to_owned()))
    }
}

/// A phone number as people write it: 3 to 20 digits, with spaces, `+`, `-`, `(` and `)`,
/// at most 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);
string_newtype!(Phone);

impl Phone {
    pub const MAX: usize = 32;
    const WHAT: &'static str = "a phone number";

    pub fn parse(value: &str) -> Result<Self, InputError> {
        let value = checked(Self::WHAT, value, Self::MAX, false)?;
        let digits = value.chars().filter(char::is_ascii_digit).count();
        if !value
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()".contains(c))
            || !(3..=20).contains(&digits)
        {
            return Err(InputError::Malformed {
                what: Self::WHAT,
                rule: "use 3 to 20 digits, with spaces, +, -, ( or ) only",
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// A phone number is optional: blank is `None`.
    pub fn parse_optional(value: &str) -> Result<Option<Self>, InputError> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        Self::parse(value).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_has_a_local_part_and_a_dotted_domain() {
        for good in [
            "a@b.co",
            "  camille@example.fr ",
            "x.y+tag@mail.example.org",
        ] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "no-at.example",
            "@example.com",
            "a@example",
            "a@.example.com",
            "a@example.",
            "a@exa..mple.com",
            "a b@example.com",
            "a@b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn a_phone_number_has_digits_and_a_few_signs() {
        assert!(Phone::parse("+33 (0)6 12-34-56-78").is_ok());
        assert!(Phone::parse("12").is_err());
        assert!(Phone::parse("call me").is_err());
        assert_eq!(Phone::parse_optional("  "), Ok(None));
    }
}
