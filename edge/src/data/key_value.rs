//! Key-value stores: the backends (in memory, Redis), the stores one component may open by
//! label, and the open-store resources the host interfaces hand to guests
//! ([`crate::host::keyvalue`], [`crate::host::spin_v3`]).
//!
//! Keys and values are raw, as in Spin's Redis store: the key a component writes is the Redis
//! key, the bytes are the Redis value.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// Why a backend call failed.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("the store's lock was poisoned by a panic")]
    Poisoned,
    #[error("the value of {key} is not an integer")]
    NotAnInteger { key: String },
}

impl<T> From<PoisonError<T>> for BackendError {
    fn from(_: PoisonError<T>) -> Self {
        Self::Poisoned
    }
}

type BackendResult<T> = Result<T, BackendError>;

/// One page of keys, and where the next page starts.
#[derive(Debug, Default)]
pub struct KeyPage {
    pub keys: Vec<String>,
    pub cursor: Option<String>,
}

/// Where a store keeps its entries.
pub trait Backend: Send + Sync + std::fmt::Debug {
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>>;
    fn set(&self, key: &str, value: &[u8]) -> BackendResult<()>;
    fn delete(&self, key: &str) -> BackendResult<()>;
    fn exists(&self, key: &str) -> BackendResult<bool>;
    fn list_keys(&self, cursor: Option<&str>) -> BackendResult<KeyPage>;
    fn get_many(&self, keys: &[String]) -> BackendResult<Vec<Option<Vec<u8>>>>;
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> BackendResult<()>;
    fn delete_many(&self, keys: &[String]) -> BackendResult<()>;
    fn increment(&self, key: &str, delta: i64) -> BackendResult<i64>;
    /// Writes `value` only if the key still holds `expected` (`None`: absent); whether it did.
    fn swap_if(&self, key: &str, expected: Option<&[u8]>, value: &[u8]) -> BackendResult<bool>;
}

/// An in-memory store: the embedded default, shared by every instance of the node.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    entries: Mutex<BTreeMap<String, Vec<u8>>>,
}

/// Keys per page of `list-keys`.
const PAGE: usize = 1_000;

impl Backend for MemoryBackend {
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>> {
        Ok(self.entries.lock()?.get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> BackendResult<()> {
        self.entries.lock()?.insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> BackendResult<()> {
        self.entries.lock()?.remove(key);
        Ok(())
    }

    fn exists(&self, key: &str) -> BackendResult<bool> {
        Ok(self.entries.lock()?.contains_key(key))
    }

    fn list_keys(&self, cursor: Option<&str>) -> BackendResult<KeyPage> {
        let entries = self.entries.lock()?;
        let start = match cursor {
            Some(after) => std::ops::Bound::Excluded(after.to_owned()),
            None => std::ops::Bound::Unbounded,
        };
        let keys: Vec<String> = entries
            .range((start, std::ops::Bound::Unbounded))
            .take(PAGE + 1)
            .map(|(k, _)| k.clone())
            .collect();
        let more = keys.len() > PAGE;
        let keys: Vec<String> = keys.into_iter().take(PAGE).collect();
        let cursor = if more { keys.last().cloned() } else { None };
        Ok(KeyPage { keys, cursor })
    }

    fn get_many(&self, keys: &[String]) -> BackendResult<Vec<Option<Vec<u8>>>> {
        let entries = self.entries.lock()?;
        Ok(keys.iter().map(|k| entries.get(k).cloned()).collect())
    }

    fn set_many(&self, values: &[(String, Vec<u8>)]) -> BackendResult<()> {
        let mut entries = self.entries.lock()?;
        for (k, v) in values {
            entries.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    fn delete_many(&self, keys: &[String]) -> BackendResult<()> {
        let mut entries = self.entries.lock()?;
        for k in keys {
            entries.remove(k);
        }
        Ok(())
    }

    fn increment(&self, key: &str, delta: i64) -> BackendResult<i64> {
        let mut entries = self.entries.lock()?;
        let current = match entries.get(key) {
            Some(bytes) => std::str::from_utf8(bytes)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| BackendError::NotAnInteger {
                    key: key.to_owned(),
                })?,
            None => 0,
        };
        let next = current.saturating_add(delta);
        entries.insert(key.to_owned(), next.to_string().into_bytes());
        Ok(next)
    }

    fn swap_if(&self, key: &str, expected: Option<&[u8]>, value: &[u8]) -> BackendResult<bool> {
        let mut entries = self.entries.lock()?;
        if entries.get(key).map(Vec::as_slice) != expected {
            return Ok(false);
        }
        entries.insert(key.to_owned(), value.to_vec());
        Ok(true)
    }
}

/// A Redis store with Spin's layout: raw keys, raw byte values, no prefix.
pub struct RedisBackend {
    client: redis::Client,
    idle: Mutex<Vec<redis::Connection>>,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("RedisBackend").finish_non_exhaustive()
    }
}

impl RedisBackend {
    /// A store on the Redis server at `url`; connects lazily, and checks the URL now.
    pub fn open(url: &str) -> BackendResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Runs `f` on a pooled connection; a connection that failed is dropped, not reused.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> BackendResult<T> {
        let pooled = self.idle.lock()?.pop();
        let mut con = match pooled {
            Some(con) => con,
            None => self.client.get_connection()?,
        };
        let out = f(&mut con)?;
        self.idle.lock()?.push(con);
        Ok(out)
    }
}

impl Backend for RedisBackend {
    fn get(&self, key: &str) -> BackendResult<Option<Vec<u8>>> {
        self.with(|c| redis::cmd("GET").arg(key).query(c))
    }

    fn set(&self, key: &str, value: &[u8]) -> BackendResult<()> {
        self.with(|c| redis::cmd("SET").arg(key).arg(value).query(c))
    }

    fn delete(&self, key: &str) -> BackendResult<()> {
        self.with(|c| redis::cmd("DEL").arg(key).query(c))
    }

    fn exists(&self, key: &str) -> BackendResult<bool> {
        self.with(|c| redis::cmd("EXISTS").arg(key).query(c))
    }

    fn list_keys(&self, cursor: Option<&str>) -> BackendResult<KeyPage> {
        let (next, keys): (String, Vec<String>) = self.with(|c| {
            redis::cmd("SCAN")
                .arg(cursor.unwrap_or("0"))
                .arg("COUNT")
                .arg(PAGE)
                .query(c)
        })?;
        Ok(KeyPage {
            keys,
            cursor: (next != "0").then_some(next),
        })
    }

    fn get_many(&self, keys: &[String]) -> BackendResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.with(|c| redis::cmd("MGET").arg(keys).query(c))
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> BackendResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.with(|c| {
            let mut cmd = redis::cmd("MSET");
            for (k, v) in entries {
                cmd.arg(k).arg(v);
            }
            cmd.query(c)
        })
    }

    fn delete_many(&self, keys: &[String]) -> BackendResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.with(|c| redis::cmd("DEL").arg(keys).query(c))
    }

    fn increment(&self, key: &str, delta: i64) -> BackendResult<i64> {
        self.with(|c| redis::cmd("INCRBY").arg(key).arg(delta).query(c))
    }

    fn swap_if(&self, key: &str, expected: Option<&[u8]>, value: &[u8]) -> BackendResult<bool> {
        // WATCH makes EXEC fail if anyone writes the key after we read it.
        self.with(|c| {
            redis::cmd("WATCH").arg(key).query::<()>(c)?;
            let current: Option<Vec<u8>> = redis::cmd("GET").arg(key).query(c)?;
            if current.as_deref() != expected {
                redis::cmd("UNWATCH").query::<()>(c)?;
                return Ok(false);
            }
            let done: Option<((),)> = redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(key)
                .arg(value)
                .query(c)?;
            Ok(done.is_some())
        })
    }
}

/// The stores one component may open, by label.
#[derive(Debug, Clone, Default)]
pub struct Stores(HashMap<String, Arc<dyn Backend>>);

impl Stores {
    pub fn new(stores: impl IntoIterator<Item = (String, Arc<dyn Backend>)>) -> Self {
        Self(stores.into_iter().collect())
    }

    /// The store labelled `label`, if the component may open it.
    pub fn get(&self, label: &str) -> Option<Arc<dyn Backend>> {
        self.0.get(label).cloned()
    }
}

/// An open store (the `bucket` resource).
#[derive(Debug)]
pub struct Bucket {
    pub(crate) backend: Arc<dyn Backend>,
}

/// A compare-and-swap in progress: the key and the value it held when read.
#[derive(Debug)]
pub struct Cas {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) key: String,
    pub(crate) current: Option<Vec<u8>>,
}
