//! `wasi:keyvalue` (store, atomics, batch) for WASIp2 and WASIp3 components alike.
//!
//! A component opens a store by label (`default` unless the manifest names others); labels
//! the manifest does not grant it are `no-such-store`, and a dependency whose
//! `inherit_configuration` leaves out `key_value_stores` is denied every store.

use std::sync::Arc;

use wasmtime::component::Resource;

use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use crate::data::key_value::{Backend, BackendError, Bucket, Cas};
use crate::state::State;

fn other(e: BackendError) -> store::Error {
    store::Error::Other(e.to_string())
}

impl State {
    fn backend(&self, bucket: &Resource<Bucket>) -> wasmtime::Result<Arc<dyn Backend>> {
        Ok(self.table.get(bucket)?.backend.clone())
    }
}

impl store::Host for State {
    fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<Bucket>, store::Error>> {
        if !self.access.key_value_stores {
            return Ok(Err(store::Error::AccessDenied));
        }
        let Some(backend) = self.stores.get(&identifier) else {
            return Ok(Err(store::Error::NoSuchStore));
        };
        Ok(Ok(self.table.push(Bucket { backend })?))
    }
}

impl store::HostBucket for State {
    fn get(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        Ok(self.backend(&bucket)?.get(&key).map_err(other))
    }

    fn set(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        Ok(self.backend(&bucket)?.set(&key, &value).map_err(other))
    }

    fn delete(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        Ok(self.backend(&bucket)?.delete(&key).map_err(other))
    }

    fn exists(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<bool, store::Error>> {
        Ok(self.backend(&bucket)?.exists(&key).map_err(other))
    }

    fn list_keys(
        &mut self,
        bucket: Resource<Bucket>,
        cursor: Option<String>,
    ) -> wasmtime::Result<Result<store::KeyResponse, store::Error>> {
        Ok(self
            .backend(&bucket)?
            .list_keys(cursor.as_deref())
            .map(|page| store::KeyResponse {
                keys: page.keys,
                cursor: page.cursor,
            })
            .map_err(other))
    }

    fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl batch::Host for State {
    fn get_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, store::Error>> {
        let backend = self.backend(&bucket)?;
        Ok(backend
            .get_many(&keys)
            .map(|values| keys.into_iter().zip(values).collect())
            .map_err(other))
    }

    fn set_many(
        &mut self,
        bucket: Resource<Bucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        Ok(self.backend(&bucket)?.set_many(&key_values).map_err(other))
    }

    fn delete_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        Ok(self.backend(&bucket)?.delete_many(&keys).map_err(other))
    }
}

impl atomics::Host for State {
    fn increment(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, store::Error>> {
        Ok(self.backend(&bucket)?.increment(&key, delta).map_err(other))
    }

    fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let taken = self.table.delete(cas)?;
        match taken
            .backend
            .swap_if(&taken.key, taken.current.as_deref(), &value)
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                // Hand back a fresh CAS on the current value, as the interface says.
                let current = match taken.backend.get(&taken.key) {
                    Ok(current) => current,
                    Err(e) => return Ok(Err(atomics::CasError::StoreError(other(e)))),
                };
                let again = self.table.push(Cas { current, ..taken })?;
                Ok(Err(atomics::CasError::CasFailed(again)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(other(e)))),
        }
    }
}

impl atomics::HostCas for State {
    fn new(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, store::Error>> {
        let backend = self.backend(&bucket)?;
        let current = match backend.get(&key) {
            Ok(current) => current,
            Err(e) => return Ok(Err(other(e))),
        };
        Ok(Ok(self.table.push(Cas {
            backend,
            key,
            current,
        })?))
    }

    fn current(
        &mut self,
        cas: Resource<Cas>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        Ok(Ok(self.table.get(&cas)?.current.clone()))
    }

    fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}
