//! Storefronts as data: a merchant's theme (design tokens and layout variants), the images
//! a merchant may name, and the site projection the relay writes per storefront and per
//! host, which the storefront reads on every request instead of a compiled-in theme.
//!
//! The regional core checks a theme with [`Theme::check`] when a merchant puts it; the
//! edge reads it already checked. The checks name the failing token, so a merchant's
//! 4xx says which value to fix.

use serde::{Deserialize, Serialize};

use crate::model::FORMAT_VERSION;

/// A storefront's theme, as merchants put it (JSON at the merchant API, TOML in the
/// demo's theme files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// The storefront's name: page titles, the footer, e-mail senders.
    pub name: String,
    /// The logo as text; always shown, and the image's text alternative.
    pub logo_text: String,
    /// An optional logo image (SVG or raster), `https://` or a path the storefront serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    pub hero: Hero,
    pub colors: Colors,
    pub fonts: Fonts,
    pub shape: Shape,
    pub layout: Layout,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hero {
    pub title: String,
    pub text: String,
    pub cta_label: String,
    /// A path of the storefront (`/c/bakery`) or an `https://` URL.
    pub cta_href: String,
}

/// Colours as `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colors {
    pub background: String,
    pub surface: String,
    pub text: String,
    pub muted: String,
    pub primary: String,
    pub primary_text: String,
    pub accent: String,
    pub border: String,
    pub focus: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fonts {
    pub body: String,
    pub heading: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub radius: String,
    pub spacing: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grid {
    Comfortable,
    Compact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderStyle {
    Bar,
    Centered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub grid: Grid,
    pub header: HeaderStyle,
}

/// Why a theme cannot be used: the token (`colors.text`, `hero.cta_href`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{token}: {message}")]
pub struct ThemeError {
    pub token: String,
    pub message: String,
}

fn refuse(token: &str, message: impl Into<String>) -> ThemeError {
    ThemeError {
        token: token.to_owned(),
        message: message.into(),
    }
}

/// A `#rrggbb` colour's channels.
pub fn rgb(hex: &str) -> Option<[u8; 3]> {
    let digits = hex.strip_prefix('#')?;
    if digits.len() != 6 {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// WCAG 2 relative luminance, from 0 (black) to 1 (white).
fn luminance(color: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(color[0]) + 0.7152 * linear(color[1]) + 0.0722 * linear(color[2])
}

/// WCAG 2 contrast ratio of two colours (1 to 21).
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// Text must reach WCAG AA's 4.5:1 against what it is drawn on.
pub const AA_TEXT: f64 = 4.5;

/// Text a page shows: 1 to `max` characters, no control characters.
fn text(token: &str, value: &str, max: usize) -> Result<(), ThemeError> {
    let length = value.chars().count();
    if value.trim().is_empty() || length > max || value.chars().any(char::is_control) {
        return Err(refuse(
            token,
            format!("is 1 to {max} characters without control characters"),
        ));
    }
    Ok(())
}

impl Theme {
    /// Checks every token: texts present and bounded, links and images safe, colours
    /// well formed, text pairs legible (WCAG AA), CSS values free of characters that could
    /// end the stylesheet.
    pub fn check(&self) -> Result<(), ThemeError> {
        text("name", &self.name, 80)?;
        text("logo_text", &self.logo_text, 80)?;
        if let Some(url) = &self.logo_url {
            check_image_url(url).map_err(|m| refuse("logo_url", m))?;
        }
        text("hero.title", &self.hero.title, 120)?;
        text("hero.text", &self.hero.text, 400)?;
        text("hero.cta_label", &self.hero.cta_label, 40)?;
        check_link(&self.hero.cta_href).map_err(|m| refuse("hero.cta_href", m))?;
        let c = &self.colors;
        let all = [
            ("background", &c.background),
            ("surface", &c.surface),
            ("text", &c.text),
            ("muted", &c.muted),
            ("primary", &c.primary),
            ("primary_text", &c.primary_text),
            ("accent", &c.accent),
            ("border", &c.border),
            ("focus", &c.focus),
        ];
        for (name, value) in all {
            if rgb(value).is_none() {
                return Err(refuse(
                    &format!("colors.{name}"),
                    format!("{value:?} is not #rrggbb"),
                ));
            }
        }
        let color = |n: &str| all.iter().find(|(k, _)| *k == n).and_then(|(_, v)| rgb(v));
        for (fg, bg) in [
            ("text", "background"),
            ("text", "surface"),
            ("muted", "background"),
            ("muted", "surface"),
            ("primary_text", "primary"),
            ("primary", "surface"),
            ("accent", "surface"),
        ] {
            let (Some(f), Some(b)) = (color(fg), color(bg)) else {
                continue;
            };
            let ratio = contrast(f, b);
            if ratio < AA_TEXT {
                return Err(refuse(
                    &format!("colors.{fg}"),
                    format!("on colors.{bg} has contrast {ratio:.2}:1, below WCAG AA's 4.5:1"),
                ));
            }
        }
        for (name, value) in [
            ("fonts.body", &self.fonts.body),
            ("fonts.heading", &self.fonts.heading),
            ("shape.radius", &self.shape.radius),
            ("shape.spacing", &self.shape.spacing),
        ] {
            if value.trim().is_empty()
                || value.len() > 200
                || value.contains(['<', '>', '{', '}', ';', '\\'])
                || value.chars().any(char::is_control)
            {
                return Err(refuse(
                    name,
                    format!("{value:?} is 1 to 200 characters without < > {{ }} ; \\"),
                ));
            }
        }
        Ok(())
    }

    /// The tokens as CSS custom properties on `:root`.
    pub fn css_variables(&self) -> String {
        let c = &self.colors;
        format!(
            ":root{{--color-background:{};--color-surface:{};--color-text:{};--color-muted:{};--color-primary:{};--color-primary-text:{};--color-accent:{};--color-border:{};--color-focus:{};--font-body:{};--font-heading:{};--radius:{};--space:{};--grid-columns:{}}}",
            c.background,
            c.surface,
            c.text,
            c.muted,
            c.primary,
            c.primary_text,
            c.accent,
            c.border,
            c.focus,
            self.fonts.body,
            self.fonts.heading,
            self.shape.radius,
            self.shape.spacing,
            match self.layout.grid {
                Grid::Comfortable => 3,
                Grid::Compact => 5,
            }
        )
    }
}

/// The longest image URL or link a merchant may give.
pub const MAX_URL: usize = 500;

/// A URL the page may load or link to: `https://host/...`, or a path of the storefront
/// (`/images/x.svg`, not `//elsewhere`); printable ASCII without quotes or angle brackets,
/// at most [`MAX_URL`] bytes.
fn check_url(url: &str, what: &str) -> Result<(), String> {
    let rule = format!(
        "{what} is https:// or a path starting with /, at most {MAX_URL} characters, without spaces, quotes or < >"
    );
    let https = url
        .strip_prefix("https://")
        .is_some_and(|rest| rest.split('/').next().is_some_and(|host| !host.is_empty()));
    let path = url.starts_with('/') && !url.starts_with("//");
    if !(https || path)
        || url.len() > MAX_URL
        || !url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\'))
    {
        return Err(rule);
    }
    Ok(())
}

/// An image's URL: see [`check_url`].
pub fn check_image_url(url: &str) -> Result<(), String> {
    check_url(url, "an image URL")
}

/// A link's target: see [`check_url`].
pub fn check_link(url: &str) -> Result<(), String> {
    check_url(url, "a link")
}

/// A product's picture as merchants give it and the edge renders it: its URL, its text
/// alternative, its intrinsic size (so the page does not jump as it loads) and, optionally,
/// the same picture at other widths for `srcset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub url: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub srcset: Vec<ImageSource>,
}

/// The picture at one width.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSource {
    pub url: String,
    pub width: u32,
}

/// Why an image cannot be used: the field (`image.url`, `image.srcset[1].width`) and why.
pub type ImageError = ThemeError;

impl Image {
    /// Checks the URLs, the text alternative (up to 200 characters; may be empty only for a
    /// picture that says nothing the title does not), the size (1 to 10,000 pixels) and at
    /// most 8 `srcset` widths, each different.
    pub fn check(&self) -> Result<(), ImageError> {
        check_image_url(&self.url).map_err(|m| refuse("image.url", m))?;
        if self.alt.chars().count() > 200 || self.alt.chars().any(char::is_control) {
            return Err(refuse(
                "image.alt",
                "is at most 200 characters without control characters",
            ));
        }
        let size = 1..=10_000;
        if !size.contains(&self.width) {
            return Err(refuse("image.width", "is 1 to 10000 pixels"));
        }
        if !size.contains(&self.height) {
            return Err(refuse("image.height", "is 1 to 10000 pixels"));
        }
        if self.srcset.len() > 8 {
            return Err(refuse("image.srcset", "has at most 8 sources"));
        }
        for (i, source) in self.srcset.iter().enumerate() {
            check_image_url(&source.url)
                .map_err(|m| refuse(&format!("image.srcset[{i}].url"), m))?;
            if !size.contains(&source.width)
                || self.srcset[..i].iter().any(|s| s.width == source.width)
            {
                return Err(refuse(
                    &format!("image.srcset[{i}].width"),
                    "is 1 to 10000 pixels, different from the other sources",
                ));
            }
        }
        Ok(())
    }

    /// The `srcset` attribute (`url 320w, url 640w`), or `None` without sources.
    pub fn srcset_attribute(&self) -> Option<String> {
        (!self.srcset.is_empty()).then(|| {
            self.srcset
                .iter()
                .map(|s| format!("{} {}w", s.url, s.width))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
}

/// A host name a storefront answers on: lowercase letters, digits, `-` and `.`, labels of 1
/// to 63 characters not starting or ending with `-`, at most 253 characters, no port.
pub fn valid_host(host: &str) -> bool {
    (1..=253).contains(&host.len())
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// A storefront as the edge sees it (`keys::site` and `keys::host`): its id (the catalogue
/// namespace every other key of it is under), its hosts and its checked theme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    #[serde(default = "version")]
    pub v: u32,
    pub storefront: String,
    pub hosts: Vec<String>,
    pub theme: Theme,
}

fn version() -> u32 {
    FORMAT_VERSION
}

impl Site {
    pub fn new(storefront: &str, hosts: Vec<String>, theme: Theme) -> Self {
        Self {
            v: FORMAT_VERSION,
            storefront: storefront.to_owned(),
            hosts,
            theme,
        }
    }
}

/// The theme a storefront has until its merchant puts one: plain, legible, the
/// storefront's id as its name.
pub fn default_theme(storefront: &str) -> Theme {
    let s = String::from;
    Theme {
        name: storefront.to_owned(),
        logo_text: storefront.to_owned(),
        logo_url: None,
        hero: Hero {
            title: s("Groceries, delivered"),
            text: s("Fresh food and everyday essentials from the warehouse nearest you."),
            cta_label: s("Search the shop"),
            cta_href: s("/search?q=milk"),
        },
        colors: Colors {
            background: s("#ffffff"),
            surface: s("#ffffff"),
            text: s("#1f2328"),
            muted: s("#57606a"),
            primary: s("#0b5cad"),
            primary_text: s("#ffffff"),
            accent: s("#8a4600"),
            border: s("#d0d7de"),
            focus: s("#0a58ca"),
        },
        fonts: Fonts {
            body: s("system-ui, sans-serif"),
            heading: s("system-ui, sans-serif"),
        },
        shape: Shape {
            radius: s("6px"),
            spacing: s("1rem"),
        },
        layout: Layout {
            grid: Grid::Comfortable,
            header: HeaderStyle::Bar,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_theme_passes_its_own_checks() {
        default_theme("shop").check().expect("legible");
        assert!(
            default_theme("shop")
                .css_variables()
                .starts_with(":root{--color-background:#")
        );
    }

    #[test]
    fn each_failing_token_is_named() {
        let mut pale = default_theme("shop");
        pale.colors.text = "#cccccc".into();
        let e = pale.check().expect_err("pale text");
        assert_eq!(e.token, "colors.text");
        assert!(e.message.contains("colors.background"), "{e}");

        let mut named = default_theme("shop");
        named.colors.primary = "green".into();
        assert_eq!(
            named.check().expect_err("named colour").token,
            "colors.primary"
        );

        let mut css = default_theme("shop");
        css.shape.radius = "1px}body{display:none".into();
        assert_eq!(css.check().expect_err("escape").token, "shape.radius");

        let mut link = default_theme("shop");
        link.hero.cta_href = "javascript:alert(1)".into();
        assert_eq!(link.check().expect_err("script").token, "hero.cta_href");

        let mut logo = default_theme("shop");
        logo.logo_url = Some("http://img.example/logo.svg".into());
        assert_eq!(logo.check().expect_err("http").token, "logo_url");

        let mut empty = default_theme("shop");
        empty.name = " ".into();
        assert_eq!(empty.check().expect_err("empty").token, "name");
    }

    #[test]
    fn contrast_matches_wcag_reference_values() {
        let black = [0, 0, 0];
        let white = [255, 255, 255];
        assert!((contrast(black, white) - 21.0).abs() < 0.01);
        assert!((contrast(white, white) - 1.0).abs() < 0.01);
        // #767676 on white is the classic just-passing grey: 4.54:1.
        assert!((contrast([0x76, 0x76, 0x76], white) - 4.54).abs() < 0.01);
    }

    #[test]
    fn images_are_https_or_paths_with_a_size() {
        let image = |url: &str| Image {
            url: url.into(),
            alt: "A loaf".into(),
            width: 400,
            height: 300,
            srcset: vec![],
        };
        image("https://img.example/loaf.jpg")
            .check()
            .expect("https");
        image("/images/bakery.svg").check().expect("path");
        for bad in [
            "http://img.example/loaf.jpg",
            "//img.example/loaf.jpg",
            "https:///loaf.jpg",
            "loaf.jpg",
            "/a b.jpg",
            "/a\".jpg",
        ] {
            assert_eq!(image(bad).check().expect_err(bad).token, "image.url");
        }
        let long = format!("https://img.example/{}", "a".repeat(MAX_URL));
        assert_eq!(image(&long).check().expect_err("long").token, "image.url");

        let mut sized = image("/images/bakery.svg");
        sized.width = 0;
        assert_eq!(sized.check().expect_err("zero").token, "image.width");

        let mut set = image("https://img.example/loaf.jpg");
        set.srcset = vec![
            ImageSource {
                url: "https://img.example/loaf-320.jpg".into(),
                width: 320,
            },
            ImageSource {
                url: "https://img.example/loaf-640.jpg".into(),
                width: 640,
            },
        ];
        set.check().expect("srcset");
        assert_eq!(
            set.srcset_attribute().as_deref(),
            Some("https://img.example/loaf-320.jpg 320w, https://img.example/loaf-640.jpg 640w")
        );
        set.srcset[1].width = 320;
        assert_eq!(
            set.check().expect_err("twice").token,
            "image.srcset[1].width"
        );
    }

    #[test]
    fn hosts_are_lowercase_names_without_ports() {
        for good in [
            "localhost",
            "corner.localhost",
            "127.0.0.1",
            "shop-1.example.com",
        ] {
            assert!(valid_host(good), "{good}");
        }
        for bad in [
            "",
            "Corner.localhost",
            "corner.localhost:3000",
            "-a.example",
            "a..b",
            "a/b",
        ] {
            assert!(!valid_host(bad), "{bad}");
        }
    }
}
