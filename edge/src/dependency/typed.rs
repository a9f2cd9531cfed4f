//! Typed calls into the dependencies that implement Meridian's own interfaces (catalogue,
//! cart, pricing, personalisation), for WASIp2 importers.
//!
//! The generic path (`Func::call` with `Val`s) lifts every result into a tree of `Val`s,
//! with a `String` for each record field's name, and lowers that tree again into the
//! importer. For the interfaces in `wit/` the node knows the types, so it lifts a result
//! straight into the Rust types generated from them and lowers those instead
//! (docs/benchmarks.md). An import of any other interface, or a WASIp3
//! importer (whose calls cross to the sidecar's thread), takes the generic path.

use std::sync::Arc;

use wasmtime::AsContextMut;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, InstancePre, Lift, LinkerInstance, Lower,
};

use crate::bindings::{cart, catalogue, personalisation, pricing, types};
use crate::dependency::call::{DependencyCall, provider_func};
use crate::state::{Access, State};

/// Where one imported function's calls go.
pub(crate) struct Target {
    /// Where the store keeps the provider's instance once made.
    pub slot: usize,
    pub pre: InstancePre<State>,
    pub function: ComponentExportIndex,
    pub access: Access,
    pub interface: Arc<str>,
    pub function_name: Arc<str>,
}

const CATALOGUE: &str = "meridian:catalogue/catalogue@0.1.0";
const CART: &str = "meridian:cart/cart@0.1.0";
const PRICING: &str = "meridian:pricing/pricing@0.1.0";
const PERSONALISATION: &str = "meridian:personalisation/personalisation@0.1.0";

type CatalogueResult<T> = (Result<T, catalogue::CatalogueError>,);
type CartResult = (Result<types::Cart, cart::CartError>,);

/// Defines `target`'s function in `instance` as a typed call, when the import is one of
/// Meridian's interfaces (`import`, exactly as `wit/` names it) and `target` names one of
/// its functions; answers whether it did.
pub(crate) fn define(
    instance: &mut LinkerInstance<'_, State>,
    import: &str,
    target: Target,
) -> wasmtime::Result<bool> {
    use types::{Line, Scope};
    let name = target.function_name.clone();
    match (import, &*name) {
        (CATALOGUE, "product") => {
            wrap::<(Scope, String), CatalogueResult<types::ProductDetail>>(instance, target)
        }
        (CATALOGUE, "categories") => {
            wrap::<(Scope,), CatalogueResult<Vec<catalogue::Category>>>(instance, target)
        }
        (CATALOGUE, "category-page") => wrap::<
            (Scope, String, Option<String>, catalogue::PageRequest),
            CatalogueResult<catalogue::Listing>,
        >(instance, target),
        (CATALOGUE, "search") => wrap::<
            (Scope, String, Option<String>, catalogue::PageRequest),
            CatalogueResult<catalogue::SearchResults>,
        >(instance, target),
        (CART, "create") => wrap::<(Scope,), CartResult>(instance, target),
        (CART, "get" | "clear") => wrap::<(Scope, String), CartResult>(instance, target),
        (CART, "add" | "set-quantity") => {
            wrap::<(Scope, String, Line), CartResult>(instance, target)
        }
        (CART, "remove" | "merge") => wrap::<(Scope, String, String), CartResult>(instance, target),
        (PRICING, "quote-cart") => wrap::<
            (Scope, String, Vec<Line>, Vec<String>),
            (Result<types::Quote, pricing::PricingError>,),
        >(instance, target),
        (PERSONALISATION, "recommend") => wrap::<
            (
                Scope,
                personalisation::PageContext,
                personalisation::SessionSignals,
                u32,
            ),
            (Result<Vec<types::Recommendation>, personalisation::PersonalisationError>,),
        >(instance, target),
        _ => return Ok(false),
    }?;
    Ok(true)
}

/// Defines `target`'s function, taking `P` and answering `R`, as a call into the provider's
/// instance in the caller's store, made on its first call.
fn wrap<P, R>(instance: &mut LinkerInstance<'_, State>, target: Target) -> wasmtime::Result<()>
where
    P: ComponentNamedList + Lift + Lower + Send + Sync + 'static,
    R: ComponentNamedList + Lift + Lower + Send + Sync + 'static,
{
    let name = target.function_name.clone();
    instance.func_wrap(&name, move |mut store, params: P| -> wasmtime::Result<R> {
        let call = DependencyCall::enter(
            store.data_mut(),
            target.access,
            &target.interface,
            &target.function_name,
        );
        let outcome = provider_func(
            store.as_context_mut(),
            target.slot,
            &target.pre,
            target.function,
        )
        .and_then(|func| func.typed::<P, R>(&store))
        .and_then(|func| func.call(&mut store, params));
        call.leave(
            store.data_mut(),
            outcome.is_err(),
            &target.interface,
            &target.function_name,
        );
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names above must be `wit/`'s own, or every call would silently take the
    /// generic path again after a version bump.
    #[test]
    fn the_typed_interfaces_are_named_as_wit_declares_them() {
        let wit = concat!(env!("CARGO_MANIFEST_DIR"), "/../wit");
        for (import, file) in [
            (CATALOGUE, "catalogue.wit"),
            (CART, "cart.wit"),
            (PRICING, "pricing.wit"),
            (PERSONALISATION, "personalisation.wit"),
        ] {
            let text = std::fs::read_to_string(format!("{wit}/{file}")).expect("a wit file");
            let package = text
                .lines()
                .find_map(|l| l.strip_prefix("package ")?.strip_suffix(" {"))
                .expect("a package line");
            let (namespace, version) = package.split_once('@').expect("a versioned package");
            let interface = file.trim_end_matches(".wit");
            assert_eq!(import, format!("{namespace}/{interface}@{version}"));
        }
    }
}
