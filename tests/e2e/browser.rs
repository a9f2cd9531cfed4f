//! The shopper's walk in a real browser (Debian's Chromium, driven by Playwright from
//! `tests/browser/`), with JavaScript disabled and enabled: the storefront needs none.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::*;

fn walk(edge: &str, sku: &str, mode: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci` in tests/browser (scripts/test does)"
    );
    let output = Command::new("node")
        .current_dir(&dir)
        .args(["walk.mjs", edge, sku, mode])
        .output()
        .expect("node runs (scripts/test installs it with Chromium)");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_walks_through_in_chromium_with_and_without_javascript() {
    let world = world();
    seed(
        world.core("eu-west"),
        &product(
            "BAGUETTE-BR",
            "Crusty baguette",
            "bakery",
            129,
            &["bread", "baguette"],
        ),
        50,
        "fr-lyo-1",
    )
    .await;
    // The product and its stock hint come in separate relay batches: wait for the hint.
    until_published(
        &format!("{}/p/BAGUETTE-BR", world.edge),
        &[("x-meridian-country", "FR")],
        "In stock",
    )
    .await;
    let edge = world.edge.clone();
    for mode in ["nojs", "js"] {
        let edge = edge.clone();
        let out = tokio::task::spawn_blocking(move || walk(&edge, "BAGUETTE-BR", mode))
            .await
            .unwrap();
        assert!(out.contains("\"order\":\"/orders/"), "{mode}: {out}");
    }
}
