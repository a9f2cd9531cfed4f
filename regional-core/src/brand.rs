//! How a storefront's e-mail looks and whom it comes from: its name, logo and colours, read
//! from the merchant's theme (the `web/themes/*.toml` files the storefront compiles in, so a
//! shopper's e-mail looks like the shop they bought from), and its sender.
//!
//! The sender is the storefront's own mailbox when the core is given one
//! (`--mail-sender STOREFRONT=MAILBOX`), else the theme's name at the core's default address
//! (`--mail-from`): `The Corner Shop <no-reply@meridian.invalid>`.

use std::collections::BTreeMap;

use lettre::message::Mailbox;
use serde::Deserialize;

use crate::mail::escape;

/// The theme files of the storefronts this build knows.
const THEMES: [&str; 2] = [
    include_str!("../../web/themes/grocer.toml"),
    include_str!("../../web/themes/corner.toml"),
];

/// What e-mail takes from a theme.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Brand {
    pub name: String,
    /// The storefront id.
    pub namespace: String,
    pub logo_text: String,
    pub logo_mark: String,
    pub colors: Colors,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Colors {
    pub background: String,
    pub surface: String,
    pub text: String,
    pub primary: String,
    pub primary_text: String,
}

impl Brand {
    /// The storefront's brand, if its theme is known.
    pub fn of(storefront: &str) -> Option<Self> {
        THEMES
            .iter()
            .filter_map(|t| toml::from_str::<Brand>(t).ok())
            .find(|b| b.namespace == storefront)
    }

    /// The storefront's sender: its configured mailbox, else its name (or the default's)
    /// at the default address.
    pub fn sender(
        storefront: &str,
        senders: &BTreeMap<String, Mailbox>,
        default: &Mailbox,
    ) -> Mailbox {
        if let Some(own) = senders.get(storefront) {
            return own.clone();
        }
        match Self::of(storefront) {
            Some(brand) => Mailbox::new(Some(brand.name), default.email.clone()),
            None => default.clone(),
        }
    }

    /// `content` (HTML) in the storefront's letterhead: its logo on its primary colour, its
    /// text colour on its surface. Colours that are not `#rrggbb` are left out.
    pub fn letter(&self, content: &str) -> String {
        let colour = |c: &str, fallback: &'static str| -> String {
            let ok =
                c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if ok {
                c.to_owned()
            } else {
                fallback.to_owned()
            }
        };
        let c = &self.colors;
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0;background:{bg};color:{text};font-family:sans-serif\">\
             <div style=\"background:{primary};color:{primary_text};padding:16px 24px;font-weight:bold\">{mark} {logo}</div>\
             <div style=\"background:{surface};padding:16px 24px\">{content}</div>\
             <p style=\"padding:8px 24px;font-size:small\">{name}</p></body></html>",
            bg = colour(&c.background, "#ffffff"),
            text = colour(&c.text, "#000000"),
            primary = colour(&c.primary, "#000000"),
            primary_text = colour(&c.primary_text, "#ffffff"),
            surface = colour(&c.surface, "#ffffff"),
            mark = escape(&self.logo_mark),
            logo = escape(&self.logo_text),
            name = escape(&self.name),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_storefront_theme_gives_its_mail_a_letterhead_and_a_sender() {
        for storefront in ["grocer", "corner"] {
            let brand = Brand::of(storefront).unwrap();
            let letter = brand.letter("<p>Hello</p>");
            assert!(letter.contains(&escape(&brand.logo_text)), "{letter}");
            assert!(letter.contains(&brand.colors.primary), "{letter}");
            assert!(letter.contains("<p>Hello</p>"));
        }
        let default: Mailbox = "Meridian <no-reply@meridian.invalid>".parse().unwrap();
        let corner = Brand::sender("corner", &BTreeMap::new(), &default);
        assert_eq!(corner.name.as_deref(), Some("The Corner Shop"));
        assert_eq!(corner.email.to_string(), "no-reply@meridian.invalid");
        let own: BTreeMap<String, Mailbox> = [(
            "grocer".to_owned(),
            "Fresh Grocer <orders@grocer.example>".parse().unwrap(),
        )]
        .into();
        assert_eq!(
            Brand::sender("grocer", &own, &default).email.to_string(),
            "orders@grocer.example"
        );
        assert_eq!(Brand::sender("nobody", &own, &default), default);
    }

    #[test]
    fn a_colour_that_is_not_hex_never_reaches_the_style() {
        let mut brand = Brand::of("corner").unwrap();
        brand.colors.primary = "red;background:url(x)".into();
        let letter = brand.letter("");
        assert!(!letter.contains("url(x)"), "{letter}");
    }
}
