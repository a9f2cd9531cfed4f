//! How a storefront's e-mail looks and whom it comes from: its name, logo and colours, read
//! from the theme its merchant put (`PUT /v1/admin/storefront/theme`, the same theme the edge
//! shows), so a shopper's e-mail looks like the shop they bought from; and its sender.
//!
//! The sender is the storefront's own mailbox when the core is given one
//! (`--mail-sender STOREFRONT=MAILBOX`), else the theme's name at the core's default address
//! (`--mail-from`): `The Corner Shop <no-reply@meridian.invalid>`.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use lettre::message::Mailbox;
use projections::theme::Theme;

use crate::mail::escape;

/// What e-mail takes from a storefront: its id and its theme (the default one until its
/// merchant puts one; `None` for a storefront the region does not have).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub storefront: String,
    pub theme: Option<Theme>,
}

impl Brand {
    /// The storefront's brand, read from its row.
    pub async fn of(client: &impl GenericClient, storefront: &str) -> anyhow::Result<Self> {
        Ok(Self {
            storefront: storefront.to_owned(),
            theme: crate::storefronts::site(client, storefront)
                .await?
                .map(|(site, _)| site.theme),
        })
    }

    /// The storefront's sender: its configured mailbox, else its name (or the default's)
    /// at the default address.
    pub fn sender(&self, senders: &BTreeMap<String, Mailbox>, default: &Mailbox) -> Mailbox {
        if let Some(own) = senders.get(&self.storefront) {
            return own.clone();
        }
        match &self.theme {
            Some(theme) => Mailbox::new(Some(theme.name.clone()), default.email.clone()),
            None => default.clone(),
        }
    }

    /// `content` (HTML) in the storefront's letterhead: its logo on its primary colour, its
    /// text colour on its surface. Colours that are not `#rrggbb` are left out.
    pub fn letter(&self, content: &str) -> String {
        let Some(theme) = &self.theme else {
            return content.to_owned();
        };
        let colour = |c: &str, fallback: &'static str| -> String {
            if projections::theme::rgb(c).is_some() {
                c.to_owned()
            } else {
                fallback.to_owned()
            }
        };
        let c = &theme.colors;
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0;background:{bg};color:{text};font-family:sans-serif\">\
             <div style=\"background:{primary};color:{primary_text};padding:16px 24px;font-weight:bold\">{logo}</div>\
             <div style=\"background:{surface};padding:16px 24px\">{content}</div>\
             <p style=\"padding:8px 24px;font-size:small\">{name}</p></body></html>",
            bg = colour(&c.background, "#ffffff"),
            text = colour(&c.text, "#000000"),
            primary = colour(&c.primary, "#000000"),
            primary_text = colour(&c.primary_text, "#ffffff"),
            surface = colour(&c.surface, "#ffffff"),
            logo = escape(&theme.logo_text),
            name = escape(&theme.name),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn corner() -> Brand {
        let mut theme = projections::theme::default_theme("corner");
        theme.name = "The Corner Shop".into();
        theme.logo_text = "THE CORNER SHOP".into();
        Brand {
            storefront: "corner".into(),
            theme: Some(theme),
        }
    }

    #[test]
    fn a_theme_gives_its_mail_a_letterhead_and_a_sender() {
        let brand = corner();
        let letter = brand.letter("<p>Hello</p>");
        assert!(letter.contains("THE CORNER SHOP"), "{letter}");
        assert!(letter.contains("#0b5cad"), "its primary colour: {letter}");
        assert!(letter.contains("<p>Hello</p>"));
        let default: Mailbox = "Meridian <no-reply@meridian.invalid>".parse().unwrap();
        let sender = brand.sender(&BTreeMap::new(), &default);
        assert_eq!(sender.name.as_deref(), Some("The Corner Shop"));
        assert_eq!(sender.email.to_string(), "no-reply@meridian.invalid");
        let own: BTreeMap<String, Mailbox> = [(
            "grocer".to_owned(),
            "Fresh Grocer <orders@grocer.example>".parse().unwrap(),
        )]
        .into();
        let grocer = Brand {
            storefront: "grocer".into(),
            theme: None,
        };
        assert_eq!(
            grocer.sender(&own, &default).email.to_string(),
            "orders@grocer.example"
        );
        let nobody = Brand {
            storefront: "nobody".into(),
            theme: None,
        };
        assert_eq!(nobody.sender(&own, &default), default);
        assert_eq!(nobody.letter("<p>Hi</p>"), "<p>Hi</p>");
    }

    #[test]
    fn a_colour_that_is_not_hex_never_reaches_the_style() {
        let mut brand = corner();
        if let Some(theme) = brand.theme.as_mut() {
            theme.colors.primary = "red;background:url(x)".into();
        }
        let letter = brand.letter("");
        assert!(!letter.contains("url(x)"), "{letter}");
    }
}
