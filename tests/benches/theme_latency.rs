//! How long a merchant's theme change at a regional core takes to show on the storefront's
//! pages at the edge: `PUT /v1/admin/storefront/theme` writes an outbox event, the relay
//! (every 50 ms) republishes the storefront's site under each of its hosts, and the next
//! page reads it.
//!
//! `cargo bench -p meridian-tests --bench theme_latency` (BENCH_CHANGES, default 50).
//! The Corner Shop in eu-west: each change puts its theme with another primary colour, and
//! its home page is polled every 5 ms until it carries that colour; the time runs from
//! sending the change to the first page that shows it.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::*;

fn main() {
    let changes: usize = std::env::var("BENCH_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let world = world();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let eu = world.core("eu-west");
        let http = reqwest::Client::new();
        let mut theme = regional_core::demo::STOREFRONTS[1].theme().unwrap();
        let shopper = Shopper::new(&world.edge, "FR").on_host("corner.localhost");
        let mut samples = Vec::with_capacity(changes);
        for i in 0..changes {
            // Dark enough on white for WCAG AA, different every time.
            let primary = format!("#{:02x}2b{:02x}", 0x20 + i % 64, 0x60 + i % 32);
            theme["colors"]["primary"] = serde_json::json!(primary);
            let started = Instant::now();
            let r = http
                .put(format!("{}/v1/admin/storefront/theme", eu.url))
                .bearer_auth(CORNER_TOKEN)
                .json(&theme)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            let needle = format!("--color-primary:{primary}");
            loop {
                let (_, page) = shopper.get("/").await;
                if page.contains(&needle) {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "{primary} never showed"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            samples.push(started.elapsed());
        }
        print_latencies("theme change to storefront page", &mut samples);
    });
}
