//! The shopper's walks in a real browser (Debian's Chromium, driven by Playwright from
//! `tests/browser/`), with JavaScript disabled and enabled: the storefront needs none. One
//! buys as a guest; one signs up, buys, travels, exports and erases their account.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::*;

fn walk(edge: &str, sku: &str, mode: &str) -> String {
    node("walk.mjs", &[edge, sku, mode])
}

pub(crate) fn node(script: &str, args: &[&str]) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci` in tests/browser (scripts/test does)"
    );
    let output = Command::new("node")
        .current_dir(&dir)
        .arg(script)
        .args(args)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_signs_up_buys_abroad_exports_and_erases_in_chromium() {
    let world = world();
    seed(
        world.core("eu-west"),
        &product("ACCOUNT-BRIOCHE", "Brioche", "bakery", 349, &["bread"]),
        50,
        "fr-lyo-1",
    )
    .await;
    until_published(
        &format!("{}/p/ACCOUNT-BRIOCHE", world.edge),
        &[("x-meridian-country", "FR")],
        "In stock",
    )
    .await;
    for mode in ["nojs", "js"] {
        let tag = format!("acct{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let (edge, t) = (world.edge.clone(), tag.clone());
        let maildir = world.core("eu-west").mailbox.display().to_string();
        let out = tokio::task::spawn_blocking(move || {
            node(
                "account.mjs",
                &[&edge, "ACCOUNT-BRIOCHE", mode, &t, &maildir],
            )
        })
        .await
        .unwrap();
        assert!(out.contains("\"order\":"), "{mode}: {out}");
        // Erased: the canary is in no database (its home region's included), nor at the edge.
        for core in world.cores.values() {
            assert_eq!(
                count_in_database(&core.database_url, &tag).await,
                0,
                "{mode}: {} still holds the canary",
                core.region
            );
        }
        assert_eq!(count_in_edge_store(&tag).await, 0, "{mode}");
        assert!(
            !world.logs.text().contains(&tag),
            "{mode}: the canary is in a log"
        );
    }
}
