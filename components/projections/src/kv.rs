//! The key-value operations the edge components need, as a trait, so their logic is tested
//! natively against [`MemoryKv`] and runs at the edge against the host's store
//! (`wasi:keyvalue`). Values are raw bytes under raw keys, as in Spin's stores.

use std::collections::BTreeMap;
use std::sync::RwLock;

/// A failure of the store itself (not a missing key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key-value store: {0}")]
pub struct KvError(pub String);

/// The outcome of a compare-and-swap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    Done,
    /// Someone else wrote the key since it was read.
    Lost,
}

/// A key-value store.
pub trait Kv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;

    /// Values of `keys`, in order, `None` where missing.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;

    fn delete(&self, key: &str) -> Result<(), KvError>;

    /// Writes `value` only if the key still holds `expected` (`None`: absent).
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<Swap, KvError>;
}

/// An in-memory store for tests and native builds, safe to share between threads.
#[derive(Debug, Default)]
pub struct MemoryKv {
    entries: RwLock<BTreeMap<String, Vec<u8>>>,
}

impl MemoryKv {
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }
}

impl Kv for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.read().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.write().insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), KvError> {
        self.write().remove(key);
        Ok(())
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<Swap, KvError> {
        let mut entries = self.write();
        if entries.get(key).map(Vec::as_slice) != expected {
            return Ok(Swap::Lost);
        }
        entries.insert(key.to_owned(), value.to_vec());
        Ok(Swap::Done)
    }
}
