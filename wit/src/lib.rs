//! Meridian's WIT contracts: the package `meridian:edge@0.1.0` in this folder, with the
//! upstream WASI packages it imports under `deps/`. Host crates that generate bindings or
//! load components find the contracts through [`dir`].
//!
//! The tests parse the whole package with `wit-parser` (what `wit-bindgen` and wasmtime's
//! `bindgen!` do) and hold every interface to the contract rules of `README.md`.

use std::path::{Path, PathBuf};

/// The folder holding the `meridian:edge` package.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The package's name and version.
pub const PACKAGE: &str = "meridian:edge@0.1.0";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use wit_parser::{Resolve, WorldItem};

    use super::*;

    fn resolve() -> (Resolve, wit_parser::PackageId) {
        let mut resolve = Resolve::default();
        let (package, _) = resolve.push_dir(dir()).unwrap();
        (resolve, package)
    }

    #[test]
    fn the_package_parses_with_its_version() {
        let (resolve, package) = resolve();
        assert_eq!(resolve.packages[package].name.to_string(), PACKAGE);
    }

    #[test]
    fn there_is_one_interface_per_component_and_a_world_for_each() {
        let (resolve, package) = resolve();
        let package = &resolve.packages[package];
        for name in ["types", "catalogue", "cart", "pricing", "personalisation"] {
            assert!(package.interfaces.contains_key(name), "no interface {name}");
        }
        for component in ["catalogue", "cart", "pricing", "personalisation"] {
            let world = &resolve.worlds[package.worlds[&format!("{component}-component")]];
            let exports: Vec<String> = world
                .exports
                .keys()
                .map(|k| resolve.name_world_key(k))
                .collect();
            assert_eq!(exports, [format!("meridian:edge/{component}@0.1.0")]);
        }
    }

    #[test]
    fn every_function_is_documented_and_says_what_bad_input_returns() {
        let (resolve, package) = resolve();
        let package = &resolve.packages[package];
        for (name, id) in &package.interfaces {
            let interface = &resolve.interfaces[*id];
            assert!(
                interface.docs.contents.is_some(),
                "interface {name} has no docs"
            );
            for (function, f) in &interface.functions {
                let docs = f.docs.contents.as_deref().unwrap_or_default();
                assert!(!docs.is_empty(), "{name}.{function} has no docs");
                let typed_error = match f.result {
                    Some(wit_parser::Type::Id(t)) => matches!(
                        &resolve.types[t].kind,
                        wit_parser::TypeDefKind::Result(r) if r.err.is_some()
                    ),
                    _ => false,
                };
                assert!(
                    typed_error,
                    "{name}.{function} must return a result with a typed error"
                );
            }
            for (type_name, t) in &interface.types {
                let def = &resolve.types[*t];
                if let wit_parser::TypeDefKind::Variant(v) = &def.kind
                    && type_name.ends_with("-error")
                {
                    assert!(
                        v.cases.iter().any(|c| c.name == "bad-request"
                            || c.name.starts_with("malformed")
                            || c.name.starts_with("unknown")),
                        "{name}.{type_name} has no case for bad input"
                    );
                }
            }
        }
    }

    #[test]
    fn the_component_worlds_import_only_key_value_and_config() {
        let (resolve, package) = resolve();
        let package = &resolve.packages[package];
        for component in ["catalogue", "cart", "pricing", "personalisation"] {
            let world = &resolve.worlds[package.worlds[&format!("{component}-component")]];
            for (key, item) in &world.imports {
                let name = resolve.name_world_key(key);
                if matches!(item, WorldItem::Interface { .. }) {
                    assert!(
                        name.starts_with("wasi:keyvalue/")
                            || name.starts_with("wasi:config/")
                            || name == "meridian:edge/types@0.1.0",
                        "{component} imports {name}"
                    );
                }
            }
        }
    }
}
