//! An application as the node serves it: the manifest's components compiled and linked
//! to their dependencies, their key-value stores opened and variables resolved
//! ([`crate::data`]), their outbound allow-lists parsed, and the routes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use region_config::storefront;

use crate::data::files;
use crate::data::key_value::{Backend, Stores};
use crate::data::runtime_config::{KeyValue, RuntimeConfig};
use crate::data::variables::{self, Variables};
use crate::dependency::Dependency;
use crate::host::outbound::{AllowList, CorePolicy, Origin};
use crate::manifest::{Dependency as ManifestDependency, Manifest};
use crate::router::Router;
use crate::runtime::{Loaded, Runtime};
use crate::state::Access;

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

impl AppOptions {
    /// Gives the application what `regions` says, as environment variables
    /// (`SPIN_VARIABLE_*`, so a `--variable` or a runtime-config provider still wins): the
    /// storefront's view as `region_config` ([`App::check_regions`] then compares a value
    /// set otherwise), and each region's core URL (after `MERIDIAN_CORE_URL_*` overrides) as
    /// `core_url_<region>`, so the storefront sends checkouts to the cores this node pins.
    #[must_use]
    pub fn with_regions(mut self, regions: &region_config::RegionConfig) -> Self {
        let name = format!(
            "SPIN_VARIABLE_{}",
            storefront::VARIABLE.to_ascii_uppercase()
        );
        self.environment
            .entry(name)
            .or_insert_with(|| storefront::StorefrontView::of(regions).to_json());
        for region in regions.regions() {
            if let Some(url) = &region.core_url {
                let name = format!(
                    "SPIN_VARIABLE_CORE_URL_{}",
                    region.id.as_str().replace('-', "_").to_ascii_uppercase()
                );
                self.environment
                    .entry(name)
                    .or_insert_with(|| url.as_str().trim_end_matches('/').to_owned());
            }
        }
        self
    }
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
        let config = RuntimeConfig::load(options.runtime_config.as_deref())?;
        let variables =
            variables::resolve(&manifest, &options.variables, &options.environment, &config)?;
        let stores = config.open_stores(&options.key_value)?;
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

    /// Refuses an application whose `region_config` variable (if it declares one) describes
    /// other regions than `regions`, the node's own: the storefront would show shoppers one
    /// region while the node routes them to another.
    pub fn check_regions(&self, regions: &region_config::RegionConfig) -> anyhow::Result<()> {
        let Some(value) = self.variables.get(storefront::VARIABLE) else {
            return Ok(());
        };
        let ours = storefront::StorefrontView::of(regions).fingerprint;
        match storefront::fingerprint_of(value) {
            Some(theirs) if theirs == ours => Ok(()),
            Some(theirs) => bail!(
                "the {} variable describes regions {theirs}, but this node's region config is {ours}: set it from the same regions.toml (`region-config storefront-view`), or leave it unset and the node sets it",
                storefront::VARIABLE
            ),
            None => bail!(
                "the {} variable is not region-config's storefront view (`region-config storefront-view`)",
                storefront::VARIABLE
            ),
        }
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
        let loaded = crate::dependency::load(self.runtime, &path, &dependencies)
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
        let mut own = Vec::new();
        for (name, template) in &declared.variables {
            own.push((name.clone(), variables::render(template, self.variables)?));
        }
        let mut allowed = Vec::new();
        for entry in &declared.allowed_outbound_hosts {
            allowed.push(
                variables::render(entry, self.variables)
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
                files::stage(manifest_dir, &declared.files, &declared.exclude_files)
                    .with_context(|| format!("component {id:?}: files"))?,
            ))
        };
        let component = Arc::new(AppComponent {
            id: id.to_owned(),
            files,
            loaded,
            http,
            stores: Stores::new(stores),
            variables: Arc::new(Variables::new(own)),
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
