//! Spin's runtime configuration file (`--runtime-config-file`): where each key-value store
//! lives (`[key_value_store.<label>]`) and where variables get values
//! (`[[variables_provider]]`), and the store the node opens for `default` when the file
//! does not say.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;

use crate::data::key_value::{Backend, MemoryBackend, RedisBackend};

/// Where the `default` key-value store lives when runtime configuration does not say.
#[derive(Clone, Default)]
pub enum KeyValue {
    /// In this process (the embedded default): lost when the node stops.
    #[default]
    Memory,
    /// On a Redis server, with Spin's raw key layout.
    Redis(String),
    /// A store this process already holds (the local run's relay and tests share it).
    Shared(Arc<dyn Backend>),
}

impl std::fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A Redis URL may hold a password.
        f.write_str(match self {
            Self::Memory => "Memory",
            Self::Redis(_) => "Redis",
            Self::Shared(_) => "Shared",
        })
    }
}

/// Spin's runtime configuration file: key-value stores and variables providers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, StoreConfig>,
    #[serde(default)]
    variables_provider: Vec<ProviderConfig>,
    /// The file's folder: relative paths in it are relative to it.
    #[serde(skip)]
    folder: PathBuf,
}

/// A `[[variables_provider]]`: where variables get values between `--variable` and
/// `SPIN_VARIABLE_*`, in the file's order.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ProviderConfig {
    /// `PREFIX_NAME` from the environment (`prefix` empty: `NAME`), then from `dotenv_path`.
    Env {
        #[serde(default)]
        prefix: Option<String>,
        #[serde(default)]
        dotenv_path: Option<PathBuf>,
    },
    /// Values written in the file.
    Static {
        values: BTreeMap<String, String>,
    },
    /// Spin's secret stores: they need their services, which this node does not speak.
    Vault {},
    AzureKeyVault {},
}

impl RuntimeConfig {
    /// Reads the file at `path`; no file is an empty configuration.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        let mut config: Self = toml::from_str(&text).with_context(|| {
            format!(
                "{}: not a runtime configuration this node understands",
                path.display()
            )
        })?;
        config.folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (label, store) in &config.key_value_store {
            if let StoreConfig::Redis { url } = store
                && !(url.starts_with("redis://") || url.starts_with("rediss://"))
            {
                bail!(
                    "{}: key_value_store.{label}: url must be redis:// or rediss://",
                    path.display()
                );
            }
        }
        Ok(config)
    }

    /// One lookup per provider, in order, over the process `environment`.
    pub fn providers(
        &self,
        environment: &BTreeMap<String, String>,
    ) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
        let mut out = Vec::new();
        for provider in &self.variables_provider {
            let values = match provider {
                ProviderConfig::Env {
                    prefix,
                    dotenv_path,
                } => {
                    let mut values = BTreeMap::new();
                    if let Some(file) = dotenv_path {
                        let file = self.folder.join(file);
                        let entries = dotenvy::from_path_iter(&file).with_context(|| {
                            format!("variables provider: failed to read {}", file.display())
                        })?;
                        for entry in entries {
                            let (k, v) = entry.with_context(|| {
                                format!(
                                    "variables provider: {} is not a dotenv file",
                                    file.display()
                                )
                            })?;
                            values.insert(k, v);
                        }
                    }
                    // The environment beats the file.
                    values.extend(environment.clone());
                    let prefix = prefix.clone().unwrap_or_else(|| "SPIN_VARIABLE".to_owned());
                    values
                        .into_iter()
                        .filter_map(|(k, v)| {
                            let name = if prefix.is_empty() {
                                Some(k.as_str())
                            } else {
                                k.strip_prefix(prefix.as_str())?.strip_prefix('_')
                            };
                            Some((name?.to_ascii_lowercase(), v))
                        })
                        .collect()
                }
                ProviderConfig::Static { values } => values.clone(),
                ProviderConfig::Vault {} | ProviderConfig::AzureKeyVault {} => bail!(
                    "variables provider {:?} is not supported by this node: use an `env` or `static` provider, or `--variable`",
                    match provider {
                        ProviderConfig::Vault {} => "vault",
                        _ => "azure_key_vault",
                    }
                ),
            };
            out.push(values);
        }
        Ok(out)
    }

    /// Opens every store: `default` where `default` says (unless the file defines it),
    /// then each `[key_value_store.<label>]`.
    pub fn open_stores(
        &self,
        default: &KeyValue,
    ) -> anyhow::Result<HashMap<String, Arc<dyn Backend>>> {
        let mut stores: HashMap<String, Arc<dyn Backend>> = HashMap::new();
        let default: Arc<dyn Backend> = match default {
            KeyValue::Memory => Arc::new(MemoryBackend::default()),
            KeyValue::Redis(url) => Arc::new(
                RedisBackend::open(url).map_err(|e| anyhow!("the Redis key-value store: {e}"))?,
            ),
            KeyValue::Shared(backend) => backend.clone(),
        };
        stores.insert("default".into(), default);
        {
            for (label, store) in &self.key_value_store {
                let backend: Arc<dyn Backend> = match store {
                    StoreConfig::Redis { url } => Arc::new(
                        RedisBackend::open(url)
                            .map_err(|e| anyhow!("key-value store {label:?} on Redis: {e}"))?,
                    ),
                    StoreConfig::Spin { path } => {
                        if path.is_some() {
                            tracing::warn!(%label, "key-value store: `path` is ignored; this node keeps `spin` stores in memory");
                        }
                        Arc::new(MemoryBackend::default())
                    }
                };
                stores.insert(label.clone(), backend);
            }
        }
        Ok(stores)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "snake_case")]
enum StoreConfig {
    Redis {
        url: String,
    },
    /// Spin's own store; here it lives in memory.
    Spin {
        #[serde(default)]
        path: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `tests/ui/runtime-config/NAME.toml` is refused with exactly its `NAME.err`
    /// (the file's folder left out of the text).
    #[test]
    fn every_invalid_runtime_config_is_refused_with_its_exact_message() {
        crate::snapshots::check("runtime-config", 5, |dir, path| {
            let environment = BTreeMap::new();
            match RuntimeConfig::load(Some(path))
                .and_then(|c| c.providers(&environment).map(|_| ()))
            {
                Ok(()) => "accepted\n".to_owned(),
                Err(e) => format!("{e:#}\n").replace(&format!("{}/", dir.display()), ""),
            }
        });
    }
}
