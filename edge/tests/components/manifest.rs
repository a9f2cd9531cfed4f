//! The repository's `spin.toml` is a valid manifest whose every component exists once built
//! and is one of the components these tests exercise.

use std::path::Path;

use edge::manifest::Manifest;

use crate::helpers::{COMPONENTS, harness};

#[test]
fn spin_toml_is_valid_and_every_source_exists_after_the_build() {
    harness();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml");
    let manifest = Manifest::from_path(&path).unwrap();
    for id in manifest.component.keys() {
        let source = manifest.source_path(&path, id).unwrap();
        assert!(source.exists(), "{id}: {} does not exist", source.display());
    }
    for c in COMPONENTS {
        assert!(
            manifest.component.contains_key(c),
            "spin.toml does not declare {c}"
        );
        assert_eq!(manifest.component[c].key_value_stores, ["default"]);
        assert!(manifest.component[c].allowed_outbound_hosts.is_empty());
    }
    for name in manifest
        .variables
        .keys()
        .filter(|n| n.starts_with("quote_signing_key_"))
    {
        assert!(manifest.variables[name].secret, "{name} must be secret");
    }
}

#[test]
fn runtime_config_backs_the_default_store_with_redis() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime-config.toml");
    let config: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let store = &config["key_value_store"]["default"];
    assert_eq!(store["type"].as_str(), Some("redis"));
    assert!(store["url"].as_str().unwrap().starts_with("redis://"));
}
