//! Merchant themes: one TOML file of design tokens and layout variants per storefront
//! (`web/themes/*.toml`), plus optional component overrides in Rust (`merchants`).
//!
//! The tokens become CSS custom properties (`--color-primary`, `--radius`, ...) on the
//! page, so the shipped stylesheet and every theming component read them.

use serde::Deserialize;

/// A storefront's theme file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    pub name: String,
    /// The catalogue namespace the storefront reads.
    pub namespace: String,
    /// Hosts that select this storefront.
    pub hosts: Vec<String>,
    pub logo_text: String,
    pub logo_mark: String,
    pub hero: Hero,
    pub colors: Colors,
    pub fonts: Fonts,
    pub shape: Shape,
    pub layout: Layout,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Hero {
    pub title: String,
    pub text: String,
    pub cta_label: String,
    pub cta_href: String,
}

/// Colours as `#rrggbb`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
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

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Fonts {
    pub body: String,
    pub heading: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub radius: String,
    pub spacing: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Grid {
    Comfortable,
    Compact,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HeaderStyle {
    Bar,
    Centered,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub grid: Grid,
    pub header: HeaderStyle,
}

/// Why a theme file cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub struct ThemeError(pub String);

impl std::fmt::Display for ThemeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
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

impl Tokens {
    /// Parses and checks a theme file: colours well formed, text pairs legible (WCAG AA),
    /// CSS values free of characters that could end the stylesheet.
    pub fn parse(text: &str) -> Result<Self, ThemeError> {
        let tokens: Self = toml::from_str(text).map_err(|e| ThemeError(e.to_string()))?;
        let c = &tokens.colors;
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
                return Err(ThemeError(format!(
                    "colors.{name} = {value:?} is not #rrggbb"
                )));
            }
        }
        for (fg, bg) in [
            ("text", "background"),
            ("text", "surface"),
            ("muted", "background"),
            ("muted", "surface"),
            ("primary_text", "primary"),
            ("primary", "surface"),
            ("accent", "surface"),
        ] {
            let color = |n: &str| all.iter().find(|(k, _)| *k == n).and_then(|(_, v)| rgb(v));
            let (Some(f), Some(b)) = (color(fg), color(bg)) else {
                continue;
            };
            let ratio = contrast(f, b);
            if ratio < AA_TEXT {
                return Err(ThemeError(format!(
                    "colors.{fg} on colors.{bg} has contrast {ratio:.2}:1, below WCAG AA's 4.5:1"
                )));
            }
        }
        for (name, value) in [
            ("fonts.body", &tokens.fonts.body),
            ("fonts.heading", &tokens.fonts.heading),
            ("shape.radius", &tokens.shape.radius),
            ("shape.spacing", &tokens.shape.spacing),
        ] {
            if value.contains(['<', '>', '{', '}', ';']) {
                return Err(ThemeError(format!(
                    "{name} = {value:?} may not hold < > {{ }} ;"
                )));
            }
        }
        Ok(tokens)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_parse_and_pass_wcag_aa() {
        for text in [
            include_str!("../themes/grocer.toml"),
            include_str!("../themes/corner.toml"),
        ] {
            let tokens = Tokens::parse(text).expect("shipped theme");
            assert!(
                tokens
                    .css_variables()
                    .starts_with(":root{--color-background:#")
            );
        }
    }

    #[test]
    fn illegible_or_malformed_tokens_are_refused() {
        let grocer = include_str!("../themes/grocer.toml");
        let pale = grocer.replace("text = \"#1f2328\"", "text = \"#cccccc\"");
        let e = Tokens::parse(&pale).expect_err("pale text");
        assert!(e.0.contains("colors.text on colors.background"), "{e}");
        let bad = grocer.replace("primary = \"#1a6b3c\"", "primary = \"green\"");
        assert!(
            Tokens::parse(&bad)
                .expect_err("named colour")
                .0
                .contains("#rrggbb")
        );
        let css = grocer.replace("radius = \"10px\"", "radius = \"1px}body{display:none\"");
        assert!(Tokens::parse(&css).is_err());
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
}
