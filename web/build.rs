//! Compiles into the storefront what does not change with a deployment, so no request pays
//! for parsing it (a fresh instance serves every request): every ISO 3166-1 alpha-2 code
//! region-config accepts, so the storefront reads a country header or cookie exactly as the
//! edge node does. The regions themselves come at run time (the `region_config` variable,
//! see `src/site.rs`); the shipped file's view is written here only as the unit tests' and
//! the native baseline's fixture. Themes are data: the relay publishes them (`src/merchants.rs`).

use std::fmt::Write;

fn main() {
    regions();
}

fn out_dir() -> std::path::PathBuf {
    std::env::var("OUT_DIR").expect("cargo sets OUT_DIR").into()
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
