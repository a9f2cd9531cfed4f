//! The on-disk cache of compiled components, so a restart does not compile again.

use std::path::Path;

use anyhow::Context;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Writes `component`'s compiled form to `file` in `dir`, atomically (a reader never sees
/// half a file).
pub(crate) fn store(dir: &Path, file: &Path, component: &Component) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let bytes = component.serialize().map_err(anyhow::Error::from)?;
    let partial = file.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, bytes)
        .with_context(|| format!("failed to write {}", partial.display()))?;
    std::fs::rename(&partial, file)
        .with_context(|| format!("failed to write {}", file.display()))?;
    Ok(())
}

/// Reads a compiled component that [`store`] wrote.
#[allow(unsafe_code)]
pub(crate) fn deserialize(engine: &Engine, file: &Path) -> anyhow::Result<Component> {
    // SAFETY: wasmtime trusts a serialized component to be its own output. This file is
    // named by the SHA-256 of the component's bytes and the engine's compatibility hash,
    // was written by `store` above with a rename (never partially), and lives in the
    // node's own cache folder, which only the node writes. wasmtime still checks the
    // header and engine compatibility, refusing anything from another version or config.
    unsafe { Component::deserialize_file(engine, file) }.map_err(anyhow::Error::from)
}
