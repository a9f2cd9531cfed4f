//! The data a component runs with, made once when the application loads and shared by
//! every request: its key-value stores ([`key_value`]), its variables ([`variables`]),
//! Spin's runtime configuration that says where both come from ([`runtime_config`]), and
//! its staged `files` ([`files`]). Nothing here knows about wasmtime's host traits: the
//! interfaces that hand these to guests are in [`crate::host`].

pub mod files;
pub mod key_value;
pub mod runtime_config;
pub mod variables;

pub use key_value::{Backend, MemoryBackend, RedisBackend, Stores};
pub use runtime_config::KeyValue;
pub use variables::Variables;
