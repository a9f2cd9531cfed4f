//! Spin's async interfaces that WASIp3 components (spin-sdk 7, Spin 4) import:
//! `spin:key-value@3.0.0` and `spin:variables@3.0.0`, over the same stores and variables as
//! [`crate::host::keyvalue`] and [`crate::host::config`]. Only the WASIp3 linker has them
//! ([`crate::runtime::Runtime`]).

use std::sync::Arc;

use wasmtime::component::{Accessor, FutureReader, HasData, Linker, Resource, StreamReader};

use crate::data::key_value::{Backend, BackendError};
use crate::state::State;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "meridian:edge/spin-v3-host",
        imports: { default: trappable },
        with: {
            "spin:key-value/key-value.store": super::KvStore,
        },
    });
}

use bindings::spin::key_value::key_value as kv;
use bindings::spin::variables::variables;

/// An open `spin:key-value` store.
#[derive(Debug)]
pub struct KvStore {
    backend: Arc<dyn Backend>,
}

/// The host side of Spin's v3 interfaces, over [`State`].
struct SpinV3;

impl HasData for SpinV3 {
    type Data<'a> = &'a mut State;
}

/// Adds `spin:key-value@3.0.0` and `spin:variables@3.0.0` to `linker`.
pub fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    kv::add_to_linker::<_, SpinV3>(linker, |s| s)?;
    variables::add_to_linker::<_, SpinV3>(linker, |s| s)?;
    Ok(())
}

fn other(e: BackendError) -> kv::Error {
    kv::Error::Other(e.to_string())
}

/// The backend behind an open store.
fn backend<T>(
    accessor: &Accessor<T, SpinV3>,
    store: &Resource<KvStore>,
) -> wasmtime::Result<Arc<dyn Backend>> {
    accessor.with(|mut access| Ok(access.get().table.get(store)?.backend.clone()))
}

impl kv::Host for State {}

impl kv::HostStore for State {
    fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

// Backend calls block (Redis): each request's event loop runs on a blocking thread of its
// own (see `handler`), so they hold up only the request that made them.
impl<T> kv::HostStoreWithStore<T> for SpinV3 {
    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvStore>, kv::Error>> {
        accessor.with(|mut access| {
            let state = access.get();
            if !state.access.key_value_stores {
                return Ok(Err(kv::Error::AccessDenied));
            }
            // As in Spin: a label the manifest does not grant is refused, whether or not
            // the runtime configuration defines it.
            let Some(backend) = state.stores.get(&label) else {
                return Ok(Err(kv::Error::AccessDenied));
            };
            Ok(Ok(state.table.push(KvStore { backend })?))
        })
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, kv::Error>> {
        Ok(backend(accessor, &store)?.get(&key).map_err(other))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), kv::Error>> {
        Ok(backend(accessor, &store)?.set(&key, &value).map_err(other))
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), kv::Error>> {
        Ok(backend(accessor, &store)?.delete(&key).map_err(other))
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, kv::Error>> {
        Ok(backend(accessor, &store)?.exists(&key).map_err(other))
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        store: Resource<KvStore>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), kv::Error>>)> {
        let backend = backend(accessor, &store)?;
        // Every page, then one stream: Spin's Redis store also lists the whole database.
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        let outcome = loop {
            match backend.list_keys(cursor.as_deref()) {
                Ok(page) => {
                    keys.extend(page.keys);
                    match page.cursor {
                        Some(next) => cursor = Some(next),
                        None => break Ok(()),
                    }
                }
                Err(e) => break Err(other(e)),
            }
        };
        accessor.with(|mut access| {
            let stream = StreamReader::new(&mut access, keys)?;
            let done =
                FutureReader::new(
                    &mut access,
                    async move { wasmtime::Result::<_>::Ok(outcome) },
                )?;
            Ok((stream, done))
        })
    }
}

/// Whether `name` is a variable name as Spin accepts it: lower-case ASCII letters, digits
/// and single underscores, starting with a letter and not ending with an underscore.
pub fn valid_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('_')
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl variables::Host for State {}

impl<T> variables::HostWithStore<T> for SpinV3 {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, variables::Error>> {
        if !valid_variable_name(&name) {
            return Ok(Err(variables::Error::InvalidName(name)));
        }
        accessor.with(|mut access| {
            let state = access.get();
            let value = state
                .access
                .variables
                .then(|| state.variables.get(&name))
                .flatten();
            Ok(value
                .map(str::to_owned)
                .ok_or(variables::Error::Undefined(name)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_follow_spin() {
        for good in ["a", "core_url_eu_west", "x1", "quote_key"] {
            assert!(valid_variable_name(good), "{good}");
        }
        for bad in ["", "A", "1a", "_a", "a_", "a__b", "a-b", "a.b", "ä"] {
            assert!(!valid_variable_name(bad), "{bad}");
        }
    }
}
