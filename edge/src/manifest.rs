//! `spin.toml`, Spin's application manifest version 2: the subset Meridian deploys, parsed
//! strictly. An unknown or unsupported key is an error at start that names it (with line
//! and column), never silently ignored: what this node accepts, Spin runs the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("spin.toml: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("spin.toml: spin_manifest_version must be 2, found {found}")]
    Version { found: u32 },
    #[error("spin.toml: {what} {name:?} is not {rule}")]
    BadName {
        what: &'static str,
        name: String,
        rule: &'static str,
    },
    #[error("spin.toml: variable {name:?} needs a default or `required = true`")]
    VariableWithoutValue { name: String },
    #[error(
        "spin.toml: component {component:?} refers to variable {variable:?}, which [variables] does not declare"
    )]
    UnknownVariable { component: String, variable: String },
    #[error(
        "spin.toml: a trigger for route {route:?} names component {component:?}, which is not declared"
    )]
    UnknownTriggerComponent { route: String, component: String },
    #[error(
        "spin.toml: component {component:?} depends on component {dependency:?}, which is not declared"
    )]
    UnknownDependency {
        component: String,
        dependency: String,
    },
    #[error("spin.toml: route {route:?} must start with `/` (or be `{{ private = true }}`)")]
    BadRoute { route: String },
    /// Spin 4 refuses this too: a dependency is composed into its importer and runs with
    /// the importer's resources, so resources of its own would silently not apply.
    #[error(
        "spin.toml: Dependencies may not have their own resources or permissions. Component {dependency} cannot be used as a dependency of {component} because it specifies: {}. Give them to {component} and let the dependency inherit them (`inherit_configuration`).",
        resources.join(", ")
    )]
    DependencyWithResources {
        component: String,
        dependency: String,
        resources: Vec<&'static str>,
    },
    /// Spin 4 refuses this too: it composes dependencies with wac-graph, registering each
    /// by its WIT package name without version, so a second one from the same package is
    /// "already registered in the graph".
    #[error(
        "spin.toml: component {component:?} takes {} from one WIT package, `{package}`. Spin refuses this (\"package `{package}` has already been registered in the graph\"): it registers each dependency by its package name, so a component can take one dependency per package. Give each providing component's interface a package of its own.",
        imports.join(" and ")
    )]
    DependencyPackageTwice {
        component: String,
        package: String,
        imports: Vec<String>,
    },
    /// Spin 4 refuses this too, for the same reason: the importer is registered under its id.
    #[error(
        "spin.toml: component {component:?} names a dependency `{component}`, its own id. Spin refuses this (\"package `{component}` has already been registered in the graph\"): it registers the importer under its id and each dependency under its name."
    )]
    DependencyNamedLikeImporter { component: String },
    /// Spin 4 refuses this too.
    #[error(
        "spin.toml: component {component:?} sets both `dependencies_inherit_configuration` and a dependency's `inherit_configuration`; use one or the other"
    )]
    InheritConfigurationTwice { component: String },
}

/// The whole manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `spin_manifest_version = 2`
    pub spin_manifest_version: u32,
    /// `[application]`
    pub application: Application,
    /// `[variables]`: application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// `[[trigger.http]]`
    #[serde(default)]
    pub trigger: Triggers,
    /// `[component.<id>]`
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

/// `[application]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
}

/// One entry of `[variables]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub description: Option<String>,
    /// `required = true`: a value must come from the command line, runtime config or
    /// environment.
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    /// `secret = true`: never printed or logged.
    #[serde(default)]
    pub secret: bool,
}

/// `[trigger]`: only HTTP triggers are supported.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    /// `route = "/..."` or `route = { private = true }`.
    pub route: Route,
    /// The component id that handles it.
    pub component: String,
}

/// A trigger's route.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Route {
    /// `"/exact"` or `"/prefix/..."`.
    Path(String),
    /// `{ private = true }`: reachable only by service chaining.
    Private { private: bool },
}

/// One `[component.<id>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// `source = "path/to/component.wasm"`, relative to the manifest.
    pub source: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `key_value_stores = ["default"]`
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// `[component.<id>.variables]`: name to a template such as `"{{ app_variable }}"`.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// `allowed_outbound_hosts = ["https://example.com"]`
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// `files = ["static/**/*", { source = "assets", destination = "/assets" }]`: what
    /// the component sees, read-only, under `/`.
    #[serde(default)]
    pub files: Vec<FileMount>,
    /// `exclude_files = ["**/*.bak"]`: patterns taken out of `files`' glob patterns.
    #[serde(default)]
    pub exclude_files: Vec<String>,
    /// `[component.<id>.build]`
    #[serde(default)]
    pub build: Option<Build>,
    /// `[component.<id>.dependencies]`: import name to what satisfies it.
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
    #[serde(default)]
    pub dependencies_inherit_configuration: Option<bool>,
}

/// One entry of a component's `files`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum FileMount {
    /// A glob pattern relative to the manifest; matches keep their relative paths.
    Pattern(String),
    /// A file or directory relative to the manifest, seen at the absolute `destination`.
    Mapping { source: String, destination: String },
}

/// `[component.<id>.build]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub command: toml::Value,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

/// What satisfies a component dependency: another component of the application, or a
/// local file.
#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Dependency {
    Component {
        component: String,
        #[serde(default)]
        export: Option<String>,
        #[serde(default)]
        inherit_configuration: Option<toml::Value>,
    },
    Local {
        path: String,
        #[serde(default)]
        export: Option<String>,
        #[serde(default)]
        inherit_configuration: Option<toml::Value>,
    },
}

impl Component {
    /// The resources and permissions it declares, named as Spin names them, in Spin's order.
    fn resources(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.allowed_outbound_hosts.is_empty() {
            out.push("allowed_outbound_hosts");
        }
        if !self.dependencies.is_empty() {
            out.push("dependencies");
        }
        if !self.environment.is_empty() {
            out.push("environment");
        }
        if !self.files.is_empty() {
            out.push("files");
        }
        if !self.key_value_stores.is_empty() {
            out.push("key_value_stores");
        }
        if !self.variables.is_empty() {
            out.push("variables");
        }
        out
    }
}

impl Dependency {
    fn inherit(&self) -> Option<&toml::Value> {
        match self {
            Self::Component {
                inherit_configuration,
                ..
            }
            | Self::Local {
                inherit_configuration,
                ..
            } => inherit_configuration.as_ref(),
        }
    }
}

/// The name under which Spin registers a dependency in its composition graph: the WIT
/// package of `meridian:catalogue/catalogue@0.1.0` without its version
/// (`meridian:catalogue`), or a plain name as it is.
pub fn dependency_package(import: &str) -> String {
    match import.split_once('/') {
        Some((package, _)) => package.split('@').next().unwrap_or(package).to_owned(),
        None if import.contains(':') => import.split('@').next().unwrap_or(import).to_owned(),
        None => import.to_owned(),
    }
}

fn lower_snake(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn kebab(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The application variables a template such as `"https://{{ host }}/x"` refers to.
pub fn template_references(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    out
}

impl Manifest {
    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Self = toml::from_str(text)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads, parses and validates the manifest at `path`.
    pub fn from_path(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    fn validate(&self) -> Result<(), ManifestError> {
        if self.spin_manifest_version != 2 {
            return Err(ManifestError::Version {
                found: self.spin_manifest_version,
            });
        }
        for (name, variable) in &self.variables {
            if !lower_snake(name) {
                return Err(ManifestError::BadName {
                    what: "variable",
                    name: name.clone(),
                    rule: "lower_snake_case",
                });
            }
            if !variable.required && variable.default.is_none() {
                return Err(ManifestError::VariableWithoutValue { name: name.clone() });
            }
        }
        for (id, component) in &self.component {
            if !kebab(id) {
                return Err(ManifestError::BadName {
                    what: "component id",
                    name: id.clone(),
                    rule: "kebab-case",
                });
            }
            for (name, template) in &component.variables {
                if !lower_snake(name) {
                    return Err(ManifestError::BadName {
                        what: "component variable",
                        name: name.clone(),
                        rule: "lower_snake_case",
                    });
                }
                for variable in template_references(template) {
                    if !self.variables.contains_key(&variable) {
                        return Err(ManifestError::UnknownVariable {
                            component: id.clone(),
                            variable,
                        });
                    }
                }
            }
            self.validate_dependencies(id, component)?;
        }
        for trigger in &self.trigger.http {
            let route = match &trigger.route {
                Route::Path(path) => {
                    if !path.starts_with('/') {
                        return Err(ManifestError::BadRoute {
                            route: path.clone(),
                        });
                    }
                    path.clone()
                }
                Route::Private { .. } => "(private)".to_owned(),
            };
            if !self.component.contains_key(&trigger.component) {
                return Err(ManifestError::UnknownTriggerComponent {
                    route,
                    component: trigger.component.clone(),
                });
            }
        }
        Ok(())
    }

    /// Spin's rules for `[component.<id>.dependencies]`, which it checks when it loads the
    /// application (its manifest normalisation and its composition of dependencies).
    fn validate_dependencies(&self, id: &str, component: &Component) -> Result<(), ManifestError> {
        if component.dependencies_inherit_configuration.is_some()
            && component
                .dependencies
                .values()
                .any(|d| d.inherit().is_some())
        {
            return Err(ManifestError::InheritConfigurationTwice {
                component: id.to_owned(),
            });
        }
        let mut packages: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (import, dependency) in &component.dependencies {
            let package = dependency_package(import);
            let imports = packages.entry(package.clone()).or_default();
            imports.push(import.clone());
            // The importer itself is registered in the graph under its component id.
            if package == id {
                return Err(ManifestError::DependencyNamedLikeImporter {
                    component: id.to_owned(),
                });
            }
            if imports.len() > 1 {
                return Err(ManifestError::DependencyPackageTwice {
                    component: id.to_owned(),
                    package,
                    imports: imports.clone(),
                });
            }
            let Dependency::Component { component: dep, .. } = dependency else {
                continue;
            };
            let Some(provider) = self.component.get(dep) else {
                return Err(ManifestError::UnknownDependency {
                    component: id.to_owned(),
                    dependency: dep.clone(),
                });
            };
            let resources = provider.resources();
            if !resources.is_empty() {
                return Err(ManifestError::DependencyWithResources {
                    component: id.to_owned(),
                    dependency: dep.clone(),
                    resources,
                });
            }
        }
        Ok(())
    }

    /// Where component `id`'s source is, relative to the manifest at `manifest_path`.
    pub fn source_path(&self, manifest_path: &Path, id: &str) -> Option<PathBuf> {
        let component = self.component.get(id)?;
        let dir = manifest_path.parent().unwrap_or(Path::new("."));
        Some(dir.join(&component.source))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
key = { required = true, secret = true }
[component.shop]
source = "shop.wasm"
variables = { k = "{{ key }}" }
[[trigger.http]]
route = "/..."
component = "shop"
"#;

    #[test]
    fn a_minimal_manifest_parses() {
        let m = Manifest::parse(MINIMAL).unwrap();
        assert_eq!(m.component["shop"].source, "shop.wasm");
        assert!(m.variables["key"].secret);
    }

    /// Every `tests/ui/manifest/NAME.toml` is refused with exactly its `NAME.err`. Spin 4.0.2
    /// refuses each of these manifests too (`tests/e2e/spin.rs` runs it on them).
    #[test]
    fn every_invalid_manifest_is_refused_with_its_exact_message() {
        crate::snapshots::check("manifest", 10, |_, path| match Manifest::from_path(path) {
            Ok(_) => "accepted\n".to_owned(),
            Err(e) => format!("{e}\n"),
        });
    }

    #[test]
    fn spin_registers_a_dependency_by_its_package_without_version() {
        assert_eq!(
            dependency_package("meridian:catalogue/catalogue@0.1.0"),
            "meridian:catalogue"
        );
        assert_eq!(dependency_package("meridian:cart@0.1.0"), "meridian:cart");
        assert_eq!(dependency_package("meridian:cart"), "meridian:cart");
        assert_eq!(dependency_package("plain-name"), "plain-name");
    }

    #[test]
    fn templates_name_their_variables() {
        assert_eq!(
            template_references("https://{{ host }}/{{port}}"),
            ["host", "port"]
        );
        assert!(template_references("plain").is_empty());
    }
}
