//! What Meridian accepts from a shopper, defined once: the storefront's forms (at the edge,
//! in `wasm32-wasip2`) and the regional core's API (natively) parse every shopper input
//! with these types, so an input the form accepts is never refused by the core, and the
//! reverse.
//!
//! Parse, don't validate: each type can only hold a valid value, built with `parse`.
//! Parsing trims surrounding white space where a person may type it, and refuses control
//! characters everywhere (PostgreSQL cannot store NUL, and no field needs a control
//! character). Lengths of text a person reads are counted in characters, not bytes.
//!
//! # Layout
//!
//! - [`text`]: names, address lines, cities and free text ([`Text`], [`Paragraphs`],
//!   [`PersonName`]).
//! - [`contact`]: [`Email`] and [`Phone`].
//! - [`address`]: [`Country`], [`PostalCode`] (a shape per country where one is known) and
//!   [`PostalAddress`].
//! - [`cart`]: [`Sku`] and [`Quantity`].
//! - [`password`]: [`Password`], for shopper accounts.
//! - [`money`]: [`Money`], integer minor units with an ISO 4217 [`CurrencyCode`].
//! - [`table`] (feature `table`): the inputs both the storefront and the core are tested
//!   against, with whether each must be accepted.

pub mod address;
pub mod cart;
pub mod contact;
pub mod money;
pub mod password;
#[cfg(feature = "table")]
pub mod table;
pub mod text;

pub use address::{Country, PostalAddress, PostalCode};
pub use cart::{Quantity, Sku};
pub use contact::{Email, Phone};
pub use money::{CurrencyCode, Money};
pub use password::Password;
pub use text::{Paragraphs, PersonName, Text};

/// Why a shopper's input was refused. The message is for people: the storefront shows it
/// next to the field, the core sends it in its error body with the field's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{what} is required")]
    Missing { what: &'static str },
    #[error("{what} has at most {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} contains a control character")]
    ControlCharacter { what: &'static str },
    #[error("{what} is not valid: {rule}")]
    Malformed {
        what: &'static str,
        rule: &'static str,
    },
    #[error("{what} must be between {min} and {max}")]
    OutOfRange {
        what: &'static str,
        min: i64,
        max: i64,
    },
}

impl InputError {
    /// A machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing { .. } => "missing",
            Self::TooLong { .. } => "too_long",
            Self::ControlCharacter { .. } => "control_character",
            Self::Malformed { .. } => "malformed",
            Self::OutOfRange { .. } => "out_of_range",
        }
    }
}

/// Implements `as_str`, `Display` and `AsRef<str>` for a newtype over `String`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use string_newtype;
