//! An application as the node serves it: the manifest's components compiled and linked,
//! their key-value stores opened and variables resolved, their outbound allow-lists parsed,
//! and the routes.
//!
//! Variables resolve as Spin resolves them, first match wins: `--variable NAME=VALUE`, then
//! runtime configuration, then `SPIN_VARIABLE_<NAME>` in the environment, then the
//! manifest's default. A required variable with no value stops the start, naming it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;

use crate::config::Variables;
use crate::kv::{Backend, MemoryBackend, RedisBackend, Stores};
use crate::manifest::{Dependency as ManifestDependency, Manifest};
use crate::outbound::{AllowList, CorePolicy, Origin};
use crate::router::Router;
use crate::runtime::{Dependency, Loaded, Runtime};
use crate::state::Access;

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

/// Everything the node needs to load an application.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub manifest: PathBuf,
    /// `--variable NAME=VALUE`, highest precedence.
    pub variables: Vec<(String, String)>,
    /// The process environment: `SPIN_VARIABLE_*` and what `env` variables providers read.
    pub environment: BTreeMap<String, String>,
    /// Spin runtime configuration (`[key_value_store.<label>]`, `[[variables_provider]]`).
    pub runtime_config: Option<PathBuf>,
    pub key_value: KeyValue,
}

/// A component of the application, ready to run.
pub struct AppComponent {
    pub id: String,
    pub loaded: Loaded,
    /// Set when the component serves HTTP.
    pub http: Option<HttpHandler>,
    pub stores: Stores,
    pub variables: Arc<Variables>,
    pub environment: Vec<(String, String)>,
    pub allowed: Arc<AllowList>,
    /// The files the component sees under `/` (read-only), staged at load; `None` when it
    /// declares none.
    pub files: Option<Arc<tempfile::TempDir>>,
}

impl std::fmt::Debug for AppComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppComponent")
            .field("id", &self.id)
            .field("http", &self.http.is_some())
            .field("stores", &self.stores)
            .field("variables", &self.variables)
            .field("allowed", &self.allowed)
            .finish_non_exhaustive()
    }
}

/// How a component serves HTTP: the `wasi:http` export it has, pre-instantiated.
#[derive(Clone)]
pub enum HttpHandler {
    /// `wasi:http/incoming-handler@0.2` (WASIp2: leptos_wasi, the `wasip2` crate).
    P2(wasmtime_wasi_http::p2::bindings::sync::ProxyPre<crate::state::State>),
    /// `wasi:http/handler@0.3` (WASIp3: spin-sdk 7, Spin 4).
    P3(wasmtime_wasi_http::p3::bindings::ServicePre<crate::state::State>),
}

impl std::fmt::Debug for HttpHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::P2(_) => "wasi:http/incoming-handler@0.2",
            Self::P3(_) => "wasi:http/handler@0.3",
        })
    }
}

/// A loaded application.
#[derive(Debug)]
pub struct App {
    pub name: String,
    pub components: HashMap<String, Arc<AppComponent>>,
    pub router: Router,
    /// Application variables after resolution (for the regional cores' URLs).
    pub variables: BTreeMap<String, String>,
}

/// Spin's runtime configuration file: key-value stores and variables providers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimeConfig {
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
    fn load(options: &AppOptions) -> anyhow::Result<Self> {
        let Some(path) = &options.runtime_config else {
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

    /// One lookup per provider, in order.
    fn providers(&self, options: &AppOptions) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
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
                    values.extend(options.environment.clone());
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

/// Renders `{{ name }}` references with the application's variables.
fn render(template: &str, variables: &BTreeMap<String, String>) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow!("unclosed `{{{{` in {template:?}"))?;
        let name = after[..end].trim();
        let value = variables.get(name).ok_or_else(|| {
            anyhow!("{template:?} refers to variable {name:?}, which has no value")
        })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The application variables' values, by Spin's precedence.
pub fn resolve_variables(
    manifest: &Manifest,
    options: &AppOptions,
) -> anyhow::Result<BTreeMap<String, String>> {
    let providers = RuntimeConfig::load(options)?.providers(options)?;
    let mut values = BTreeMap::new();
    for (name, declared) in &manifest.variables {
        let from_flag = options
            .variables
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let from_provider = || providers.iter().find_map(|p| p.get(name).cloned());
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        let value = from_flag
            .or_else(from_provider)
            .or_else(|| options.environment.get(&env_name).cloned())
            .or_else(|| declared.default.clone());
        match value {
            Some(v) => {
                values.insert(name.clone(), v);
            }
            None => bail!(
                "variable {name:?} is required: set it with `--variable {name}=...` or {env_name}"
            ),
        }
    }
    for (name, _) in &options.variables {
        if !manifest.variables.contains_key(name) {
            bail!("--variable {name}: spin.toml's [variables] does not declare {name:?}");
        }
    }
    Ok(values)
}

fn open_stores(options: &AppOptions) -> anyhow::Result<HashMap<String, Arc<dyn Backend>>> {
    let mut stores: HashMap<String, Arc<dyn Backend>> = HashMap::new();
    let default: Arc<dyn Backend> = match &options.key_value {
        KeyValue::Memory => Arc::new(MemoryBackend::default()),
        KeyValue::Redis(url) => Arc::new(
            RedisBackend::open(url).map_err(|e| anyhow!("the Redis key-value store: {e}"))?,
        ),
        KeyValue::Shared(backend) => backend.clone(),
    };
    stores.insert("default".into(), default);
    {
        let config = RuntimeConfig::load(options)?;
        for (label, store) in config.key_value_store {
            let backend: Arc<dyn Backend> = match store {
                StoreConfig::Redis { url } => Arc::new(
                    RedisBackend::open(&url)
                        .map_err(|e| anyhow!("key-value store {label:?} on Redis: {e}"))?,
                ),
                StoreConfig::Spin { path } => {
                    if path.is_some() {
                        tracing::warn!(%label, "key-value store: `path` is ignored; this node keeps `spin` stores in memory");
                    }
                    Arc::new(MemoryBackend::default())
                }
            };
            stores.insert(label, backend);
        }
    }
    Ok(stores)
}

/// Copies what `files` names (relative to `manifest_dir`, minus `exclude`) into a fresh
/// folder laid out as the component will see it under `/`, as Spin does. Nothing outside
/// the manifest's folder may be named.
fn stage_files(
    manifest_dir: &Path,
    files: &[crate::manifest::FileMount],
    exclude: &[String],
) -> anyhow::Result<tempfile::TempDir> {
    use crate::manifest::FileMount;
    let staged = tempfile::Builder::new().prefix("edge-files-").tempdir()?;
    let inside = |relative: &str| -> anyhow::Result<PathBuf> {
        let path = Path::new(relative);
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!("{relative:?} must be a path inside the manifest's folder");
        }
        Ok(path.to_path_buf())
    };
    let excluded = exclude
        .iter()
        .map(|p| glob::Pattern::new(p).with_context(|| format!("exclude_files: {p:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let copy = |from: &Path, to: &Path| -> anyhow::Result<()> {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to).with_context(|| format!("failed to copy {}", from.display()))?;
        Ok(())
    };
    for mount in files {
        match mount {
            FileMount::Pattern(pattern) => {
                inside(pattern)?;
                let full = manifest_dir.join(pattern);
                let matches = glob::glob(&full.to_string_lossy())
                    .with_context(|| format!("{pattern:?} is not a glob pattern"))?;
                for found in matches {
                    let found = found?;
                    let relative = found.strip_prefix(manifest_dir)?.to_path_buf();
                    if found.is_file() && !excluded.iter().any(|p| p.matches_path(&relative)) {
                        copy(&found, &staged.path().join(&relative))?;
                    }
                }
            }
            FileMount::Mapping {
                source,
                destination,
            } => {
                let source_path = manifest_dir.join(inside(source)?);
                let Some(destination) = destination.strip_prefix('/') else {
                    bail!("destination {destination:?} must be an absolute path");
                };
                let target = staged.path().join(inside(destination)?);
                if source_path.is_dir() {
                    for entry in walk(&source_path)? {
                        copy(&entry, &target.join(entry.strip_prefix(&source_path)?))?;
                    }
                } else if source_path.is_file() {
                    copy(&source_path, &target)?;
                } else {
                    bail!("source {source:?} does not exist");
                }
            }
        }
    }
    Ok(staged)
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

/// What `inherit_configuration` grants a dependency: nothing unless it says so; `true` is
/// everything; a list names parts.
fn inheritance(value: Option<&toml::Value>) -> anyhow::Result<Access> {
    match value {
        None | Some(toml::Value::Boolean(false)) => Ok(Access::NONE),
        Some(toml::Value::Boolean(true)) => Ok(Access::ALL),
        Some(toml::Value::Array(parts)) => {
            let mut access = Access::NONE;
            for part in parts {
                match part.as_str() {
                    Some("key_value_stores") => access.key_value_stores = true,
                    Some("variables") => access.variables = true,
                    Some("allowed_outbound_hosts") => access.allowed_outbound_hosts = true,
                    _ => bail!(
                        "inherit_configuration: {part:?} is not one of key_value_stores, variables, allowed_outbound_hosts"
                    ),
                }
            }
            Ok(access)
        }
        Some(other) => bail!("inherit_configuration must be true, false or a list, not {other:?}"),
    }
}

impl App {
    /// Loads the application: every component compiled (or read from the cache) and
    /// linked, in dependency order.
    pub fn load(runtime: &Runtime, options: &AppOptions) -> anyhow::Result<Self> {
        let manifest = Manifest::from_path(&options.manifest)?;
        let router = Router::from_manifest(&manifest)?;
        let variables = resolve_variables(&manifest, options)?;
        let stores = open_stores(options)?;
        let mut loader = Loader {
            runtime,
            manifest: &manifest,
            manifest_path: &options.manifest,
            variables: &variables,
            stores: &stores,
            router: &router,
            done: HashMap::new(),
            loading: Vec::new(),
        };
        let ids: Vec<String> = manifest.component.keys().cloned().collect();
        for id in &ids {
            loader.load(id)?;
        }
        let components = loader.done;
        Ok(Self {
            name: manifest.application.name.clone(),
            components,
            router,
            variables,
        })
    }

    /// The regional cores' origins: region-config's URLs (after environment overrides) and
    /// the application's `core_url_<region>` variables, so pinning holds whichever the
    /// storefront uses.
    pub fn core_origins(&self, regions: &region_config::RegionConfig) -> Vec<(String, Origin)> {
        let mut cores = Vec::new();
        for region in regions.regions() {
            let id = region.id.as_str().to_owned();
            if let Some(origin) = region.core_url.as_ref().and_then(Origin::of_url) {
                cores.push((id.clone(), origin));
            }
            let name = format!("core_url_{}", id.replace('-', "_"));
            if let Some(origin) = self
                .variables
                .get(&name)
                .and_then(|v| url::Url::parse(v).ok())
                .as_ref()
                .and_then(Origin::of_url)
            {
                cores.push((id, origin));
            }
        }
        cores
    }

    /// A policy for a shopper homed in `home`.
    pub fn core_policy(cores: &[(String, Origin)], home: &str) -> CorePolicy {
        CorePolicy {
            cores: cores.to_vec(),
            home: home.to_owned(),
        }
    }
}

struct Loader<'a> {
    runtime: &'a Runtime,
    manifest: &'a Manifest,
    manifest_path: &'a Path,
    variables: &'a BTreeMap<String, String>,
    stores: &'a HashMap<String, Arc<dyn Backend>>,
    router: &'a Router,
    done: HashMap<String, Arc<AppComponent>>,
    loading: Vec<String>,
}

impl Loader<'_> {
    fn load(&mut self, id: &str) -> anyhow::Result<Arc<AppComponent>> {
        if let Some(done) = self.done.get(id) {
            return Ok(done.clone());
        }
        if self.loading.iter().any(|l| l == id) {
            bail!(
                "spin.toml: component dependencies form a cycle: {} -> {id}",
                self.loading.join(" -> ")
            );
        }
        self.loading.push(id.to_owned());
        let declared = &self.manifest.component[id];
        let path = self
            .manifest
            .source_path(self.manifest_path, id)
            .ok_or_else(|| anyhow!("no component {id:?}"))?;
        let mut dependencies = Vec::new();
        for (import, dependency) in &declared.dependencies {
            let (provider, export, inherit) = match dependency {
                ManifestDependency::Component {
                    component,
                    export,
                    inherit_configuration,
                } => (
                    self.load(component)?.loaded.clone(),
                    export.clone(),
                    inherit_configuration.as_ref(),
                ),
                ManifestDependency::Local {
                    path,
                    export,
                    inherit_configuration,
                } => {
                    let dir = self.manifest_path.parent().unwrap_or(Path::new("."));
                    (
                        self.runtime.load(&dir.join(path))?,
                        export.clone(),
                        inherit_configuration.as_ref(),
                    )
                }
            };
            let access = match (inherit, declared.dependencies_inherit_configuration) {
                (Some(value), _) => inheritance(Some(value))?,
                (None, Some(true)) => Access::ALL,
                (None, _) => Access::NONE,
            };
            dependencies.push(Dependency {
                import: import.clone(),
                export: export.unwrap_or_else(|| import.clone()),
                provider,
                access,
            });
        }
        let loaded = self
            .runtime
            .load_with(&path, &dependencies)
            .with_context(|| format!("component {id:?}"))?;
        let http = if self.router.serves(id) {
            Some(http_pre(id, &loaded)?)
        } else {
            None
        };
        let mut stores = Vec::new();
        for label in &declared.key_value_stores {
            let backend = self.stores.get(label).ok_or_else(|| {
                anyhow!(
                    "component {id:?} uses key-value store {label:?}, which the runtime configuration does not define"
                )
            })?;
            stores.push((label.clone(), backend.clone()));
        }
        let mut variables = Vec::new();
        for (name, template) in &declared.variables {
            variables.push((name.clone(), render(template, self.variables)?));
        }
        let mut allowed = Vec::new();
        for entry in &declared.allowed_outbound_hosts {
            allowed.push(
                render(entry, self.variables)
                    .with_context(|| format!("component {id:?}: allowed_outbound_hosts"))?,
            );
        }
        let allowed = AllowList::parse(allowed.iter().map(String::as_str))
            .with_context(|| format!("component {id:?}"))?;
        let manifest_dir = self.manifest_path.parent().unwrap_or(Path::new("."));
        let files = if declared.files.is_empty() {
            None
        } else {
            Some(Arc::new(
                stage_files(manifest_dir, &declared.files, &declared.exclude_files)
                    .with_context(|| format!("component {id:?}: files"))?,
            ))
        };
        let component = Arc::new(AppComponent {
            id: id.to_owned(),
            files,
            loaded,
            http,
            stores: Stores::new(stores),
            variables: Arc::new(Variables::new(variables)),
            environment: declared
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            allowed: Arc::new(allowed),
        });
        self.loading.pop();
        self.done.insert(id.to_owned(), component.clone());
        Ok(component)
    }
}

/// The HTTP entry point of a component a route names.
fn http_pre(id: &str, loaded: &Loaded) -> anyhow::Result<HttpHandler> {
    if loaded.p3 {
        return wasmtime_wasi_http::p3::bindings::ServicePre::new(loaded.pre.clone())
            .map(HttpHandler::P3)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {id:?}: its wasi:http/handler@0.3 export"));
    }
    wasmtime_wasi_http::p2::bindings::sync::ProxyPre::new(loaded.pre.clone())
        .map(HttpHandler::P2)
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!(
                "component {id:?} has a route but exports neither wasi:http/incoming-handler@0.2 nor wasi:http/handler@0.3"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_and_name_what_is_missing() {
        let vars: BTreeMap<String, String> = [(
            "core_url_eu_west".to_owned(),
            "http://127.0.0.1:7102".to_owned(),
        )]
        .into();
        assert_eq!(
            render("{{ core_url_eu_west }}", &vars).unwrap(),
            "http://127.0.0.1:7102"
        );
        assert_eq!(render("plain", &vars).unwrap(), "plain");
        let e = render("http://{{ nope }}", &vars).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
    }

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
key = { required = true, secret = true }
ttl = { default = "900" }
[component.shop]
source = "shop.wasm"
"#,
        )
        .unwrap()
    }

    fn options(flags: &[(&str, &str)], env: &[(&str, &str)]) -> AppOptions {
        AppOptions {
            manifest: "spin.toml".into(),
            variables: flags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            environment: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            runtime_config: None,
            key_value: KeyValue::Memory,
        }
    }

    #[test]
    fn variables_resolve_flag_then_environment_then_default() {
        let m = manifest();
        let v = resolve_variables(
            &m,
            &options(
                &[("key", "from-flag")],
                &[("SPIN_VARIABLE_KEY", "from-env")],
            ),
        )
        .unwrap();
        assert_eq!((v["key"].as_str(), v["ttl"].as_str()), ("from-flag", "900"));
        let v = resolve_variables(
            &m,
            &options(
                &[],
                &[
                    ("SPIN_VARIABLE_KEY", "from-env"),
                    ("SPIN_VARIABLE_TTL", "60"),
                ],
            ),
        )
        .unwrap();
        assert_eq!((v["key"].as_str(), v["ttl"].as_str()), ("from-env", "60"));
        let e = resolve_variables(&m, &options(&[], &[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"key\" is required"), "{e}");
        let e = resolve_variables(&m, &options(&[("key", "k"), ("typo", "x")], &[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("typo"), "{e}");
    }

    #[test]
    fn runtime_config_providers_come_between_flags_and_spin_variable() {
        let dir = std::env::temp_dir().join(format!("edge-rc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("prod.env"), "SHOP_KEY=from-dotenv\nSHOP_TTL=30\n").unwrap();
        let config = dir.join("runtime-config.toml");
        std::fs::write(
            &config,
            r#"
[[variables_provider]]
type = "env"
prefix = "SHOP"
dotenv_path = "prod.env"

[[variables_provider]]
type = "static"
values = { key = "from-static", ttl = "5" }
"#,
        )
        .unwrap();
        let m = manifest();
        let with = |flags: &[(&str, &str)], env: &[(&str, &str)]| {
            let mut o = options(flags, env);
            o.runtime_config = Some(config.clone());
            resolve_variables(&m, &o).unwrap()
        };
        // The environment beats the dotenv file; both beat the static provider after them.
        let v = with(
            &[],
            &[("SHOP_KEY", "from-env"), ("SPIN_VARIABLE_KEY", "spin")],
        );
        assert_eq!((v["key"].as_str(), v["ttl"].as_str()), ("from-env", "30"));
        let v = with(&[("key", "from-flag")], &[]);
        assert_eq!(v["key"], "from-flag", "a flag beats every provider");
        assert_eq!(with(&[], &[])["key"], "from-dotenv");

        std::fs::write(
            &config,
            "[[variables_provider]]\ntype = \"static\"\nvalues = { ttl = \"5\" }\n",
        )
        .unwrap();
        let v = with(&[], &[("SPIN_VARIABLE_KEY", "spin")]);
        assert_eq!((v["key"].as_str(), v["ttl"].as_str()), ("spin", "5"));

        std::fs::write(
            &config,
            "[[variables_provider]]\ntype = \"vault\"\nurl = \"http://v\"\n",
        )
        .unwrap();
        let mut o = options(&[("key", "k")], &[]);
        o.runtime_config = Some(config.clone());
        let e = resolve_variables(&m, &o).unwrap_err().to_string();
        assert!(e.contains("\"vault\" is not supported"), "{e}");

        std::fs::write(
            &config,
            "[[variables_provider]]\ntype = \"env\"\ndotenv_path = \"missing.env\"\n",
        )
        .unwrap();
        let e = format!("{:#}", resolve_variables(&m, &o).unwrap_err());
        assert!(e.contains("missing.env"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Every `tests/ui/runtime-config/NAME.toml` is refused with exactly its `NAME.err`
    /// (the file's folder left out of the text).
    #[test]
    fn every_invalid_runtime_config_is_refused_with_its_exact_message() {
        crate::snapshots::check("runtime-config", 5, |dir, path| {
            let mut o = options(&[], &[]);
            o.runtime_config = Some(path.to_path_buf());
            match RuntimeConfig::load(&o).and_then(|c| c.providers(&o).map(|_| ())) {
                Ok(()) => "accepted\n".to_owned(),
                Err(e) => format!("{e:#}\n").replace(&format!("{}/", dir.display()), ""),
            }
        });
    }

    #[test]
    fn files_must_stay_inside_the_manifests_folder() {
        use crate::manifest::FileMount;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
        for mount in [
            FileMount::Pattern("../*.rs".into()),
            FileMount::Pattern("/etc/*".into()),
            FileMount::Mapping {
                source: "../../Cargo.toml".into(),
                destination: "/x".into(),
            },
            FileMount::Mapping {
                source: "fixtures".into(),
                destination: "relative".into(),
            },
            FileMount::Mapping {
                source: "no-such-folder".into(),
                destination: "/x".into(),
            },
        ] {
            assert!(
                stage_files(&dir, std::slice::from_ref(&mount), &[]).is_err(),
                "{mount:?}"
            );
        }
        let staged = stage_files(
            &dir,
            &[FileMount::Pattern("fixtures/static/*.txt".into())],
            &["**/secret.txt".into()],
        )
        .unwrap();
        assert!(staged.path().join("fixtures/static/hello.txt").is_file());
        assert!(!staged.path().join("fixtures/static/secret.txt").exists());
    }

    #[test]
    fn inheritance_is_nothing_unless_granted() {
        assert_eq!(inheritance(None).unwrap(), Access::NONE);
        assert_eq!(
            inheritance(Some(&toml::Value::Boolean(true))).unwrap(),
            Access::ALL
        );
        let list = toml::Value::Array(vec!["key_value_stores".into()]);
        let access = inheritance(Some(&list)).unwrap();
        assert!(access.key_value_stores && !access.variables);
        let bad = toml::Value::Array(vec!["sqlite".into()]);
        assert!(inheritance(Some(&bad)).is_err());
    }
}
