//! Meridian's edge node: a wasmtime host for the components that `spin.toml` declares.
//!
//! One request flows down through these rooms; no file imports one above it:
//!
//! 1. [`server`]: the HTTP server (hyper): limits, the region, the `spin-*` headers
//!    ([`router`], [`region`]), the access log; it hands the request to a [`handler`].
//! 2. [`handler`]: one request on a fresh instance, per ABI (`p2`: `wasi:http@0.2`, `p3`:
//!    `wasi:http@0.3`), and the one place a request's store is built.
//! 3. [`app`]: the loaded application: components compiled, linked to their
//!    [`dependency`]s, with their data; [`runtime`]: the engine, the two linkers, the limits.
//! 4. [`dependency`]: imports satisfied by other components (typed calls, the WASIp3
//!    sidecar store).
//! 5. [`host`]: each host interface a guest may import (`wasi:keyvalue`, `wasi:config`,
//!    Spin's v3 key-value and variables, outbound `wasi:http`), over [`state`].
//! 6. [`state`]: one store's state: WASI, `wasi:http`, the resource table, what the running
//!    code may use, the memory limiter.
//! 7. [`data`]: what components run with: key-value backends, variables, Spin's runtime
//!    configuration, staged files.
//!
//! Beside them: [`manifest`] (`spin.toml`, manifest version 2, parsed strictly with Spin 4's
//! rules), [`bindings`] (the `bindgen!` output for Meridian's WIT world `edge-host`),
//! [`share`] (each component's share of the node's instances, and quarantine of one that
//! keeps hitting limits), `cache` (compiled components on disk), [`observe`] (OpenTelemetry spans and metrics, off
//! unless an OTLP endpoint is set). Building the guests for tests and benchmarks is the
//! `guest-build` crate's job, not the node's.

pub mod app;
pub mod bindings;
mod cache;
pub mod data;
pub mod dependency;
pub mod handler;
pub mod host;
pub mod manifest;
pub mod observe;
pub mod region;
pub mod router;
pub mod runtime;
pub mod server;
pub mod share;
#[cfg(test)]
mod snapshots;
pub mod state;

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    /// Every `.rs` file under `dir`, as its module path (`data/key_value`, `handler`).
    fn modules(dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("edge/src") {
            let path = entry.expect("an entry").path();
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                modules(&path, &format!("{prefix}{name}/"), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = match name {
                    "mod" => prefix.trim_end_matches('/').to_owned(),
                    _ => format!("{prefix}{name}"),
                };
                out.insert(module, path);
            }
        }
    }

    /// The modules a file uses: every `crate::a::b` path outside comments and tests, and
    /// every `mod x;` it declares, resolved to the deepest module that exists.
    fn uses(module: &str, text: &str, known: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
        let mut found = BTreeSet::new();
        for line in code.lines().map(str::trim) {
            if line.starts_with("//") {
                continue;
            }
            if let Some(child) = line
                .trim_start_matches("pub ")
                .trim_start_matches("pub(crate) ")
                .strip_prefix("mod ")
                .and_then(|r| r.strip_suffix(';'))
            {
                let parent = if module == "lib" { "" } else { module };
                found.insert(
                    format!("{parent}/{child}")
                        .trim_start_matches('/')
                        .to_owned(),
                );
            }
            for (i, _) in line.match_indices("crate::") {
                let path: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
                let target = (1..=parts.len())
                    .rev()
                    .map(|n| parts[..n].join("/"))
                    .find(|m| known.contains_key(m));
                if let Some(target) = target
                    && target != module
                {
                    found.insert(target);
                }
            }
        }
        found
    }

    /// No file of the node imports a file that imports it back, however indirectly: each
    /// room stands on the ones below it (see the list at the top of this file).
    #[test]
    fn no_import_loop_between_files() {
        let mut known = BTreeMap::new();
        modules(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            "",
            &mut known,
        );
        let graph: BTreeMap<String, BTreeSet<String>> = known
            .iter()
            .map(|(m, path)| {
                let text = std::fs::read_to_string(path).expect("a source file");
                (m.clone(), uses(m, &text, &known))
            })
            .collect();
        assert!(
            graph["host/keyvalue"].contains("state"),
            "the scan sees imports"
        );
        for start in graph.keys() {
            let mut stack = vec![vec![start.clone()]];
            while let Some(trail) = stack.pop() {
                for next in &graph[trail.last().expect("a trail")] {
                    assert!(
                        next != start,
                        "import loop: {} -> {start}",
                        trail.join(" -> ")
                    );
                    if !trail.contains(next) {
                        let mut longer = trail.clone();
                        longer.push(next.clone());
                        stack.push(longer);
                    }
                }
            }
        }
    }
}
