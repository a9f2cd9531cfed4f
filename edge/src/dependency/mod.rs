//! Dependencies: a component's imports satisfied by other components' exports
//! (`[component.<id>.dependencies]`), as Spin composes them.
//!
//! Each imported function is defined in the importer's linker as a call into the provider,
//! instantiated on its first call (a page that never searches never pays for the
//! catalogue's instantiation):
//!
//! - [`call`]: one call: the importer's configuration narrowed to what
//!   `inherit_configuration` grants, its span, the provider's instance;
//! - [`typed`]: typed calls for Meridian's own interfaces (no `Val` trees);
//! - [`sidecar`]: the second store where a WASIp3 importer's dependencies run.

pub(crate) mod call;
pub mod sidecar;
mod typed;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, anyhow};
use wasmtime::AsContextMut;
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, Linker};

use crate::runtime::{Loaded, Runtime};
use crate::state::{Access, State};
use call::{DependencyCall, SidecarCall, provider_func};

/// One import of a component satisfied by another component's export of the same
/// interface (`[component.<id>.dependencies]`).
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The import, e.g. `meridian:catalogue/catalogue@0.1.0`.
    pub import: String,
    /// The export of `provider` that satisfies it (usually the same name).
    pub export: String,
    pub provider: Loaded,
    /// What the dependency may use of the importing component's configuration.
    pub access: Access,
}

/// Compiles the component at `path` with `dependencies` linked to its imports.
pub fn load(runtime: &Runtime, path: &Path, dependencies: &[Dependency]) -> anyhow::Result<Loaded> {
    runtime.load_linked(path, |linker, component, p3| {
        for dependency in dependencies {
            let slot = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
            link(runtime.engine(), linker, component, slot, dependency, p3).with_context(|| {
                format!(
                    "failed to link {} of {} to its dependency",
                    dependency.import,
                    path.display()
                )
            })?;
        }
        Ok(())
    })
}

/// Slots name the instances of dependencies in a store ([`State::dependencies`]); each
/// link of an import to a provider gets its own, so a dependency's dependency never finds
/// its importer's instance.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

/// Every function of the interface `dependency.import`, with where the provider exports it.
fn dependency_functions(
    engine: &Engine,
    importer: &Component,
    dependency: &Dependency,
) -> anyhow::Result<Vec<(String, ComponentExportIndex)>> {
    let importer_type = importer.component_type();
    let imported = importer_type
        .get_import(engine, &dependency.import)
        .ok_or_else(|| anyhow!("the component does not import {}", dependency.import))?;
    let ComponentItem::ComponentInstance(interface) = imported.ty else {
        return Err(anyhow!("{} is not an interface", dependency.import));
    };
    let provider = &dependency.provider.component;
    let exported = provider
        .get_export_index(None, dependency.export.as_str())
        .ok_or_else(|| anyhow!("the dependency does not export {}", dependency.export))?;
    let mut functions = Vec::new();
    for (name, item) in interface.exports(engine) {
        if !matches!(item.ty, ComponentItem::ComponentFunc(_)) {
            continue;
        }
        let function = provider
            .get_export_index(Some(&exported), name)
            .ok_or_else(|| anyhow!("the dependency's {} has no {name}", dependency.export))?;
        functions.push((name.to_owned(), function));
    }
    Ok(functions)
}

/// Defines every function of `dependency.import` in `linker` as a call into the
/// provider (typed for Meridian's own interfaces: [`crate::typed`]), instantiated on its
/// first call (a page that never searches never pays for the catalogue's instantiation): in
/// the caller's own store for a WASIp2 importer; for a WASIp3 importer (`in_sidecar`), in
/// the request's sidecar store.
///
/// A WASIp3 importer's store runs in an async event loop, where a host function cannot
/// call into another instance; so each call is sent to the sidecar ([`sidecar`]),
/// where the provider runs as it would for a WASIp2 importer, and the importer waits for
/// its results. Its calls are synchronous (the interfaces have no `async` functions), so
/// its instance waits for each one to return.
fn link(
    engine: &Engine,
    linker: &mut Linker<State>,
    importer: &Component,
    slot: usize,
    dependency: &Dependency,
    in_sidecar: bool,
) -> anyhow::Result<()> {
    let mut instance = linker
        .instance(&dependency.import)
        .map_err(anyhow::Error::from)?;
    for (name, function) in dependency_functions(engine, importer, dependency)? {
        let pre = dependency.provider.pre.clone();
        let access = dependency.access;
        let interface: Arc<str> = dependency.import.as_str().into();
        let function_name: Arc<str> = name.as_str().into();
        if !in_sidecar {
            let target = typed::Target {
                slot,
                pre: pre.clone(),
                function,
                access,
                interface: interface.clone(),
                function_name: function_name.clone(),
            };
            if typed::define(&mut instance, &dependency.import, target)
                .map_err(anyhow::Error::from)?
            {
                continue;
            }
        }
        let defined = if in_sidecar {
            instance.func_new_async(&name, move |mut store, _ty, params, results| {
                let call = SidecarCall {
                    slot,
                    pre: pre.clone(),
                    function,
                    access,
                    params: params.to_vec(),
                    results: results.len(),
                };
                let interface = interface.clone();
                let function_name = function_name.clone();
                Box::new(async move {
                    let entered =
                        DependencyCall::enter(store.data_mut(), access, &interface, &function_name);
                    let outcome = call::in_sidecar(store.data_mut(), call).await;
                    entered.leave(
                        store.data_mut(),
                        outcome.is_err(),
                        &interface,
                        &function_name,
                    );
                    for (slot, value) in results.iter_mut().zip(outcome?) {
                        *slot = value;
                    }
                    Ok(())
                })
            })
        } else {
            instance.func_new(&name, move |mut store, _ty, params, results| {
                let call =
                    DependencyCall::enter(store.data_mut(), access, &interface, &function_name);
                let outcome = provider_func(store.as_context_mut(), slot, &pre, function)
                    .and_then(|func| func.call(&mut store, params, results));
                call.leave(
                    store.data_mut(),
                    outcome.is_err(),
                    &interface,
                    &function_name,
                );
                outcome
            })
        };
        defined.map_err(anyhow::Error::from)?;
    }
    Ok(())
}
