//! Text a person types: trimmed, counted in characters, no control characters.

use crate::{InputError, string_newtype};

/// Checks `value` and trims it: 1 to `max` characters (or 0 when `optional`), none of them a
/// control character (Unicode category Cc: NUL, tab, newline, DEL and the C1 controls).
pub(crate) fn checked<'a>(
    what: &'static str,
    value: &'a str,
    max: usize,
    optional: bool,
) -> Result<&'a str, InputError> {
    if value.chars().any(char::is_control) {
        return Err(InputError::ControlCharacter { what });
    }
    let value = value.trim();
    if value.is_empty() && !optional {
        return Err(InputError::Missing { what });
    }
    if value.chars().count() > max {
        return Err(InputError::TooLong { what, max });
    }
    Ok(value)
}

/// One line of text of 1 to `max` characters: an address line, a city, a product title, a
/// stock adjustment's reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text(String);
string_newtype!(Text);

impl Text {
    pub fn parse(what: &'static str, value: &str, max: usize) -> Result<Self, InputError> {
        checked(what, value, max, false).map(|v| Self(v.to_owned()))
    }

    /// Like [`Text::parse`], but empty (after trimming) is `None`.
    pub fn parse_optional(
        what: &'static str,
        value: &str,
        max: usize,
    ) -> Result<Option<Self>, InputError> {
        let value = checked(what, value, max, true)?;
        Ok((!value.is_empty()).then(|| Self(value.to_owned())))
    }
}

/// Text of several lines, such as a product description: like [`Text`], but line breaks
/// and tabs are kept (other control characters are still refused), and it may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Paragraphs(String);
string_newtype!(Paragraphs);

impl Paragraphs {
    pub fn parse(what: &'static str, value: &str, max: usize) -> Result<Self, InputError> {
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(InputError::ControlCharacter { what });
        }
        let value = value.trim();
        if value.chars().count() > max {
            return Err(InputError::TooLong { what, max });
        }
        Ok(Self(value.to_owned()))
    }
}

/// A person's name as they write it: 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);
string_newtype!(PersonName);

impl PersonName {
    pub const MAX: usize = 200;

    pub fn parse(value: &str) -> Result<Self, InputError> {
        checked("a name", value, Self::MAX, false).map(|v| Self(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_counted_in_characters() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert!(PersonName::parse(&"é".repeat(200)).is_ok());
        assert!(PersonName::parse(&"é".repeat(201)).is_err());
        assert_eq!(
            PersonName::parse("   "),
            Err(InputError::Missing { what: "a name" })
        );
    }

    #[test]
    fn control_characters_are_refused_wherever_they_are() {
        for bad in [
            "Ada\u{0}Lovelace",
            "Ada\nLovelace",
            "Ada\u{7f}",
            "\u{85}Ada",
        ] {
            assert_eq!(
                PersonName::parse(bad),
                Err(InputError::ControlCharacter { what: "a name" }),
                "{bad:?}"
            );
        }
        assert!(Text::parse("a reason", "delivery\u{0}", 200).is_err());
    }

    #[test]
    fn paragraphs_keep_line_breaks_but_no_other_control_character() {
        assert!(Paragraphs::parse("a description", "Line one.\nLine two.", 100).is_ok());
        assert!(Paragraphs::parse("a description", "NUL\u{0}", 100).is_err());
        assert!(Paragraphs::parse("a description", "", 100).is_ok());
    }

    #[test]
    fn optional_text_is_none_when_blank() {
        assert_eq!(Text::parse_optional("line 2", "  ", 200), Ok(None));
        assert!(
            Text::parse_optional("line 2", "Flat 3", 200)
                .unwrap()
                .is_some()
        );
    }
}
