//! The region-dependent parts of the edge application's `spin.toml`, generated from the
//! config so that adding a region is one edit of `regions.toml`: Spin's manifest has no
//! loops, so each region needs its own quote-key and core-URL variables, the storefront's
//! copies of them, and its core among the storefront's outbound hosts.
//!
//! Each generated part sits in the manifest between `# BEGIN region-config: NAME` and
//! `# END region-config: NAME` lines; `region-config spin-manifest` rewrites them and
//! `--check` fails when the manifest does not match the config.

use std::fmt::Write;

use crate::model::RegionConfig;

/// The generated parts, by name, in the order they appear in the manifest.
pub fn blocks(config: &RegionConfig) -> Vec<(&'static str, String)> {
    let mut variables = String::new();
    let mut outbound = String::new();
    let mut storefront = String::new();
    for region in config.regions() {
        let id = region.id.as_str().replace('-', "_");
        let _ = writeln!(
            variables,
            "quote_signing_key_{id} = {{ required = true, secret = true }}"
        );
        let _ = writeln!(
            storefront,
            "quote_signing_key_{id} = \"{{{{ quote_signing_key_{id} }}}}\""
        );
        if let Some(url) = &region.core_url {
            let _ = writeln!(
                variables,
                "core_url_{id} = {{ default = \"{}\" }}",
                url.as_str().trim_end_matches('/')
            );
            let _ = writeln!(outbound, "    \"{{{{ core_url_{id} }}}}\",");
            let _ = writeln!(storefront, "core_url_{id} = \"{{{{ core_url_{id} }}}}\"");
        }
    }
    vec![
        ("variables", variables),
        (
            "outbound",
            format!("allowed_outbound_hosts = [\n{outbound}]\n"),
        ),
        ("storefront-variables", storefront),
    ]
}

/// Why a manifest cannot take the generated parts.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error(
        "the manifest has no `# BEGIN region-config: {0}` ... `# END region-config: {0}` block"
    )]
    MissingBlock(&'static str),
}

/// `manifest` with every generated part replaced by what `config` makes of it.
pub fn apply(manifest: &str, config: &RegionConfig) -> Result<String, ManifestError> {
    let mut out = manifest.to_owned();
    for (name, text) in blocks(config) {
        let begin = format!("# BEGIN region-config: {name}\n");
        let end = format!("# END region-config: {name}");
        let start = out
            .find(&begin)
            .map(|i| i + begin.len())
            .ok_or(ManifestError::MissingBlock(name))?;
        let stop = out[start..]
            .find(&end)
            .map(|i| start + i)
            .ok_or(ManifestError::MissingBlock(name))?;
        out.replace_range(start..stop, &text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn shipped() -> RegionConfig {
        RegionConfig::from_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("regions.toml"))
            .unwrap()
    }

    /// The checked-in `spin.toml` is what the shipped config generates: a region added to
    /// `regions.toml` without `region-config spin-manifest` fails here.
    #[test]
    fn the_checked_in_spin_toml_matches_the_shipped_config() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml");
        let manifest = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            apply(&manifest, &shipped()).unwrap(),
            manifest,
            "spin.toml is stale: run `cargo run -p region-config -- spin-manifest spin.toml`"
        );
    }

    #[test]
    fn every_region_gets_its_variables_and_outbound_host_and_a_missing_block_is_named() {
        let config = shipped();
        let parts = blocks(&config);
        for region in config.regions() {
            let id = region.id.as_str().replace('-', "_");
            assert!(
                parts[0].1.contains(&format!("quote_signing_key_{id} =")),
                "{id}"
            );
            assert!(
                parts[1].1.contains(&format!("{{{{ core_url_{id} }}}}")),
                "{id}"
            );
            assert!(parts[2].1.contains(&format!("core_url_{id} = ")), "{id}");
        }
        assert_eq!(
            apply("spin_manifest_version = 2\n", &config),
            Err(ManifestError::MissingBlock("variables"))
        );
    }
}
