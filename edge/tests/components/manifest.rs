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
        // Spin's rule: a dependency declares nothing of its own.
        let component = &manifest.component[c];
        assert!(component.key_value_stores.is_empty(), "{c}");
        assert!(component.variables.is_empty(), "{c}");
        assert!(component.allowed_outbound_hosts.is_empty(), "{c}");
    }
    // The storefront holds the store, and gives each dependency no more than it needs: the
    // store to all, variables to all but the catalogue, the network to none.
    let storefront = &manifest.component["storefront"];
    assert_eq!(storefront.key_value_stores, ["default"]);
    for (import, dependency) in &storefront.dependencies {
        let edge::manifest::Dependency::Component {
            component,
            inherit_configuration: Some(toml::Value::Array(parts)),
            ..
        } = dependency
        else {
            panic!("{import}: expected a component with a list of what it inherits");
        };
        let parts: Vec<&str> = parts.iter().filter_map(toml::Value::as_str).collect();
        let expected: &[&str] = if component == "catalogue" {
            &["key_value_stores"]
        } else {
            &["key_value_stores", "variables"]
        };
        assert_eq!(parts, expected, "{component}");
        assert_eq!(
            edge::manifest::dependency_package(import),
            format!("meridian:{component}")
        );
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
