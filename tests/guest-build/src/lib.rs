//! Builds Meridian's wasm guests from `components/` for tests and benchmarks: `cargo build --release --target wasm32-wasip2`, which skips what is up to date, so
//! calling it once per process costs about a second when nothing changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The edge components, each a crate of `components/`.
pub const COMPONENTS: [&str; 4] = ["catalogue", "cart", "pricing", "personalisation"];

/// The `components/` folder of this checkout.
pub fn components_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../components")
}

/// Where component `name` is once built.
pub fn component_path(name: &str) -> PathBuf {
    let file = name.replace('-', "_");
    components_dir().join(format!("target/wasm32-wasip2/release/{file}.wasm"))
}

/// The storefront (`web/`), built in the components' workspace.
pub const STOREFRONT: &str = "storefront";

/// Guests that exist only for the edge node's own tests and benchmarks
/// (`components/edge-probe`, `components/edge-hello`, and `components/edge-p3` and
/// `components/edge-p3-deps`, WASIp3 guests built with spin-sdk 7).
pub const TEST_GUESTS: [&str; 4] = ["edge-probe", "edge-hello", "edge-p3", "edge-p3-deps"];

/// Builds every component; returns their paths in [`COMPONENTS`] order.
pub fn build_components() -> anyhow::Result<Vec<PathBuf>> {
    build(&COMPONENTS)?;
    Ok(COMPONENTS.iter().map(|c| component_path(c)).collect())
}

/// Builds the components, the storefront and the test guests in one cargo run.
pub fn build_all() -> anyhow::Result<()> {
    let all: Vec<&str> = COMPONENTS
        .iter()
        .chain([STOREFRONT].iter())
        .chain(TEST_GUESTS.iter())
        .copied()
        .collect();
    build(&all)
}

/// Builds the named crates of `components/` for `wasm32-wasip2`.
pub fn build(packages: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.current_dir(components_dir()).args([
        "build",
        "--locked",
        "--release",
        "--target",
        "wasm32-wasip2",
    ]);
    for c in packages {
        build.args(["-p", c]);
    }
    let status = build
        .status()
        .context("failed to run cargo to build the components")?;
    if !status.success() {
        bail!(
            "building the components failed ({status}); is the wasm32-wasip2 target installed? `rustup target add wasm32-wasip2`"
        );
    }
    Ok(())
}
