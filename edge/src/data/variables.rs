//! Variables: the application's values resolved as Spin resolves them, first match wins
//! (`--variable NAME=VALUE`, then the runtime configuration's providers, then
//! `SPIN_VARIABLE_<NAME>` in the environment, then the manifest's default), and each
//! component's own variables rendered from them. A required variable with no value stops the
//! start, naming it. Guests read them through [`crate::host::config`] and
//! [`crate::host::spin_v3`].

use std::collections::BTreeMap;

use anyhow::{anyhow, bail};

use crate::data::runtime_config::RuntimeConfig;
use crate::manifest::Manifest;

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

    /// Every variable, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Renders `{{ name }}` references with the application's variables.
pub fn render(template: &str, variables: &BTreeMap<String, String>) -> anyhow::Result<String> {
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
pub fn resolve(
    manifest: &Manifest,
    flags: &[(String, String)],
    environment: &BTreeMap<String, String>,
    runtime_config: &RuntimeConfig,
) -> anyhow::Result<BTreeMap<String, String>> {
    let providers = runtime_config.providers(environment)?;
    let mut values = BTreeMap::new();
    for (name, declared) in &manifest.variables {
        let from_flag = flags
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let from_provider = || providers.iter().find_map(|p| p.get(name).cloned());
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        let value = from_flag
            .or_else(from_provider)
            .or_else(|| environment.get(&env_name).cloned())
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
    for (name, _) in flags {
        if !manifest.variables.contains_key(name) {
            bail!("--variable {name}: spin.toml's [variables] does not declare {name:?}");
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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

    fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// `resolve` with these flags and environment, and the runtime configuration at `config`.
    fn resolve_with(
        m: &Manifest,
        flags: &[(&str, &str)],
        env: &[(&str, &str)],
        config: Option<&Path>,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let environment = pairs(env).into_iter().collect();
        resolve(
            m,
            &pairs(flags),
            &environment,
            &RuntimeConfig::load(config)?,
        )
    }

    #[test]
    fn variables_resolve_flag_then_environment_then_default() {
        let m = manifest();
        let v = resolve_with(
            &m,
            &[("key", "from-flag")],
            &[("SPIN_VARIABLE_KEY", "from-env")],
            None,
        )
        .unwrap();
        assert_eq!((v["key"].as_str(), v["ttl"].as_str()), ("from-flag", "900"));
        let v = resolve_with(
            &m,
            &[],
            &[
                ("SPIN_VARIABLE_KEY", "from-env"),
                ("SPIN_VARIABLE_TTL", "60"),
            ],
            None,
        )
        .unwrap();
        assert_eq!((v["key"].as_str(), v["ttl"].as_str()), ("from-env", "60"));
        let e = resolve_with(&m, &[], &[], None).unwrap_err().to_string();
        assert!(e.contains("\"key\" is required"), "{e}");
        let e = resolve_with(&m, &[("key", "k"), ("typo", "x")], &[], None)
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
            resolve_with(&m, flags, env, Some(&config)).unwrap()
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
        let flags = [("key", "k")];
        let e = resolve_with(&m, &flags, &[], Some(&config))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"vault\" is not supported"), "{e}");

        std::fs::write(
            &config,
            "[[variables_provider]]\ntype = \"env\"\ndotenv_path = \"missing.env\"\n",
        )
        .unwrap();
        let e = format!(
            "{:#}",
            resolve_with(&m, &flags, &[], Some(&config)).unwrap_err()
        );
        assert!(e.contains("missing.env"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
