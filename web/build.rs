//! Compiles the compliance-owned `region-config/regions.toml` into the storefront: parsed
//! and validated by the region-config crate at build time (a bad file fails the build with
//! its diagnostics), emitted as static data, so no request pays for parsing it (a fresh
//! instance serves every request).

use std::fmt::Write;
use std::path::Path;

fn main() {
    let path = "../region-config/regions.toml";
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(path).expect("region-config/regions.toml is readable");
    let config = region_config::RegionConfig::parse(&text)
        .unwrap_or_else(|e| panic!("region-config/regions.toml:\n{}", e.render(path)));
    let mut out = String::from("&[\n");
    for region in config.regions() {
        let pinned = match &region.pinning {
            region_config::Pinning::Pinned { regulation, .. } => format!("Some({regulation:?})"),
            region_config::Pinning::NotPinned => "None".to_owned(),
        };
        let mut countries = String::new();
        for c in &region.countries {
            let explanation = region_config::explain(&config, *c);
            let _ = write!(
                countries,
                "Country {{ code: {:?}, name: {:?}, explanation: {:?} }}, ",
                c.as_str(),
                c.name(),
                explanation
            );
        }
        let _ = writeln!(
            out,
            "RegionInfo {{ id: {:?}, name: {:?}, currency: {:?}, exponent: {}, pinned: {pinned}, tax_label: {:?}, tax_inclusive: {}, fallback: {}, countries: &[{countries}] }},",
            region.id.as_str(),
            region.name,
            region.currency.as_str(),
            region.currency.exponent(),
            region.tax.kind.label(),
            region.tax.prices_include_tax(),
            region.id == config.fallback().id,
        );
    }
    out.push(']');
    let target =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("regions.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
