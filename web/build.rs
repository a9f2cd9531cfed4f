//! Compiles into the storefront what does not change with a deployment, so no request pays
//! for parsing it (a fresh instance serves every request):
//!
//! - every ISO 3166-1 alpha-2 code region-config accepts, so the storefront reads a country
//!   header or cookie exactly as the edge node does; the regions themselves come at run
//!   time (the `region_config` variable, see `src/site.rs`), and the shipped file's view is
//!   written here only as the unit tests' and the native baseline's fixture;
//! - the merchants' theme files `themes/*.toml`, checked by the storefront's own
//!   `Tokens::parse` (the same checks as its tests: colours, WCAG AA contrast, CSS-safe
//!   values), emitted as functions that build each theme's `Tokens`.

use std::fmt::Write;

// The theme types and their checks, shared with the storefront itself.
#[allow(dead_code)]
#[path = "src/theme.rs"]
mod theme;

/// The theme files `merchants.rs` reads, by the function each becomes.
const THEMES: [(&str, &str); 2] = [
    ("theme_grocer", "themes/grocer.toml"),
    ("theme_corner", "themes/corner.toml"),
];

fn main() {
    regions();
    themes();
}

fn out_dir() -> std::path::PathBuf {
    std::env::var("OUT_DIR").expect("cargo sets OUT_DIR").into()
}

/// `Tokens` as Rust that builds it: a missing or new field fails the storefront's build.
fn tokens_rust(t: &theme::Tokens) -> String {
    let s = |v: &str| format!("String::from({v:?})");
    let hosts: Vec<String> = t.hosts.iter().map(|h| s(h)).collect();
    let (h, c, f) = (&t.hero, &t.colors, &t.fonts);
    format!(
        "crate::theme::Tokens {{ name: {}, namespace: {}, hosts: vec![{}], logo_text: {}, logo_mark: {}, \
         hero: crate::theme::Hero {{ title: {}, text: {}, cta_label: {}, cta_href: {} }}, \
         colors: crate::theme::Colors {{ background: {}, surface: {}, text: {}, muted: {}, primary: {}, primary_text: {}, accent: {}, border: {}, focus: {} }}, \
         fonts: crate::theme::Fonts {{ body: {}, heading: {} }}, \
         shape: crate::theme::Shape {{ radius: {}, spacing: {} }}, \
         layout: crate::theme::Layout {{ grid: crate::theme::Grid::{:?}, header: crate::theme::HeaderStyle::{:?} }} }}",
        s(&t.name),
        s(&t.namespace),
        hosts.join(", "),
        s(&t.logo_text),
        s(&t.logo_mark),
        s(&h.title),
        s(&h.text),
        s(&h.cta_label),
        s(&h.cta_href),
        s(&c.background),
        s(&c.surface),
        s(&c.text),
        s(&c.muted),
        s(&c.primary),
        s(&c.primary_text),
        s(&c.accent),
        s(&c.border),
        s(&c.focus),
        s(&f.body),
        s(&f.heading),
        s(&t.shape.radius),
        s(&t.shape.spacing),
        t.layout.grid,
        t.layout.header,
    )
}

fn themes() {
    let mut out = String::new();
    for (function, path) in THEMES {
        println!("cargo:rerun-if-changed={path}");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let tokens = theme::Tokens::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let _ = writeln!(
            out,
            "/// `{path}`, checked when the storefront was built.\nfn {function}() -> crate::theme::Tokens {{ {} }}",
            tokens_rust(&tokens)
        );
    }
    std::fs::write(out_dir().join("themes.rs"), out).expect("OUT_DIR is writable");
}

fn regions() {
    let path = "../region-config/regions.toml";
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(path).expect("region-config/regions.toml is readable");
    let config = region_config::RegionConfig::parse(&text)
        .unwrap_or_else(|e| panic!("region-config/regions.toml:\n{}", e.render(path)));
    let view = region_config::storefront::StorefrontView::of(&config).to_json();
    std::fs::write(out_dir().join("region_view.json"), view).expect("OUT_DIR is writable");
    // Every code region-config accepts as a country, so the storefront reads a country header
    // or cookie exactly as the edge node does (on Spin it is the only reader).
    let mut codes = String::from("&[");
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let code = String::from_utf8(vec![a, b]).expect("ASCII");
            if code.parse::<region_config::CountryCode>().is_ok() {
                let _ = write!(codes, "{code:?}, ");
            }
        }
    }
    codes.push(']');
    std::fs::write(out_dir().join("iso_countries.rs"), codes).expect("OUT_DIR is writable");
}
