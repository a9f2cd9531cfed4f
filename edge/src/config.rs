//! Variables, resolved before a component runs, and the `wasi:config/store` interface that
//! reads them (Spin maps `wasi:config` keys to the application's variables).

use std::collections::BTreeMap;

use crate::bindings::wasi::config::store as wit;
use crate::state::State;

/// The variables one component may read: name to value.
#[derive(Clone, Default)]
pub struct Variables(BTreeMap<String, String>);

// Values may be secrets (signing keys): never print them.
impl std::fmt::Debug for Variables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Variables {
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(values.into_iter().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl wit::Host for State {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, wit::Error>> {
        if !self.access.variables {
            return Ok(Ok(None));
        }
        Ok(Ok(self.variables.get(&key).map(str::to_owned)))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, wit::Error>> {
        if !self.access.variables {
            return Ok(Ok(Vec::new()));
        }
        Ok(Ok(self
            .variables
            .0
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}
