//! `wasi:config/store`: a component's variables (Spin maps `wasi:config` keys to the
//! application's variables), or none for a dependency whose `inherit_configuration` leaves
//! them out.

use crate::bindings::wasi::config::store as wit;
use crate::state::State;

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
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()))
    }
}
