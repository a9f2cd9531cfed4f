//! Meridian's WIT contracts: one package per providing component (`meridian:catalogue`,
//! `meridian:cart`, `meridian:pricing`, `meridian:personalisation`), the types they share
//! (`meridian:types`), and the worlds that put them together (`meridian:edge`), with the
//! upstream WASI packages they import under `deps/`. Host crates that generate bindings or
//! load components find the contracts through [`dir`].
//!
//! Why one package per component: Spin composes a component's dependencies at load time and
//! registers each by its WIT package name, so one importer can take only one package from
//! each providing component (`README.md`).
//!
//! The tests parse the whole folder with `wit-parser` (what `wit-bindgen` and wasmtime's
//! `bindgen!` do) and hold every interface to the contract rules of `README.md`.

use std::path::{Path, PathBuf};

/// The folder holding the packages.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The package holding the worlds, with its version.
pub const PACKAGE: &str = "meridian:edge@0.1.0";

/// Each providing component's interface, as an importer names it.
pub const INTERFACES: [&str; 4] = [
    "meridian:catalogue/catalogue@0.1.0",
    "meridian:cart/cart@0.1.0",
    "meridian:pricing/pricing@0.1.0",
    "meridian:personalisation/personalisation@0.1.0",
];

/// The types every interface shares: records and variants only, so a host need not provide
/// the interface (it has no functions) and a composition can share it.
pub const TYPES: &str = "meridian:types/types@0.1.0";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;

    use wit_parser::{Resolve, WorldItem};

    use super::*;

    const COMPONENTS: [&str; 4] = ["catalogue", "cart", "pricing", "personalisation"];

    fn resolve() -> (Resolve, wit_parser::PackageId) {
        let mut resolve = Resolve::default();
        let (package, _) = resolve.push_dir(dir()).unwrap();
        (resolve, package)
    }

    /// Every Meridian package's interfaces, as `(package, interface, id)`.
    fn meridian_interfaces(resolve: &Resolve) -> Vec<(String, String, wit_parser::InterfaceId)> {
        let mut out = Vec::new();
        for (_, package) in &resolve.packages {
            if package.name.namespace != "meridian" {
                continue;
            }
            for (name, id) in &package.interfaces {
                out.push((package.name.to_string(), name.clone(), *id));
            }
        }
        out
    }

    #[test]
    fn the_worlds_package_parses_with_its_version() {
        let (resolve, package) = resolve();
        assert_eq!(resolve.packages[package].name.to_string(), PACKAGE);
    }

    #[test]
    fn each_component_exports_the_one_interface_of_its_own_package() {
        let (resolve, package) = resolve();
        let worlds = &resolve.packages[package];
        for (component, interface) in COMPONENTS.iter().zip(INTERFACES) {
            let own = resolve
                .packages
                .iter()
                .find(|(_, p)| p.name.to_string() == format!("meridian:{component}@0.1.0"))
                .map(|(_, p)| p)
                .unwrap_or_else(|| panic!("no package meridian:{component}"));
            let names: Vec<&String> = own.interfaces.keys().collect();
            assert_eq!(
                names,
                [component],
                "meridian:{component} holds one interface"
            );
            let world = &resolve.worlds[worlds.worlds[&format!("{component}-component")]];
            let exports: Vec<String> = world
                .exports
                .keys()
                .map(|k| resolve.name_world_key(k))
                .collect();
            assert_eq!(exports, [interface]);
        }
    }

    #[test]
    fn the_storefront_takes_each_interface_from_a_package_of_its_own() {
        // Spin registers each dependency in its composition graph by package name (without
        // version): two imports from one package could not come from two components.
        let (resolve, package) = resolve();
        let world = &resolve.worlds[resolve.packages[package].worlds["storefront-imports"]];
        let mut packages = BTreeSet::new();
        let mut imported = Vec::new();
        for (key, item) in &world.imports {
            let name = resolve.name_world_key(key);
            if let WorldItem::Interface { id, .. } = item
                && name != TYPES
            {
                let owner = resolve.interfaces[*id].package.unwrap();
                let package = &resolve.packages[owner].name;
                assert!(
                    packages.insert(format!("{}:{}", package.namespace, package.name)),
                    "{name} shares its package with another import"
                );
                imported.push(name);
            }
        }
        assert_eq!(imported, INTERFACES);
    }

    #[test]
    fn the_shared_types_interface_has_no_functions() {
        let (resolve, _) = resolve();
        let (_, _, id) = meridian_interfaces(&resolve)
            .into_iter()
            .find(|(p, i, _)| format!("{}/{i}@0.1.0", p.trim_end_matches("@0.1.0")) == TYPES)
            .unwrap();
        assert!(resolve.interfaces[id].functions.is_empty());
    }

    #[test]
    fn every_function_is_documented_and_says_what_bad_input_returns() {
        let (resolve, _) = resolve();
        for (_, name, id) in meridian_interfaces(&resolve) {
            let interface = &resolve.interfaces[id];
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
    fn the_component_worlds_import_only_key_value_config_and_types() {
        let (resolve, package) = resolve();
        let package = &resolve.packages[package];
        for component in COMPONENTS {
            let world = &resolve.worlds[package.worlds[&format!("{component}-component")]];
            for (key, item) in &world.imports {
                let name = resolve.name_world_key(key);
                if matches!(item, WorldItem::Interface { .. }) {
                    assert!(
                        name.starts_with("wasi:keyvalue/")
                            || name.starts_with("wasi:config/")
                            || name == TYPES,
                        "{component} imports {name}"
                    );
                }
            }
        }
    }
}
