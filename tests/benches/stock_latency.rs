//! How long a stock change at a regional core takes to show on the product page at the
//! edge: the core's outbox relay (production settings, every 50 ms) publishes the stock hint
//! to Redis, and the edge node's catalogue component reads it on the next page.
//!
//! `cargo bench -p meridian-tests --bench stock_latency` (BENCH_CHANGES, default 100).
//! Each change moves the product between "Only 3 left" and "Only 4 left" with the merchant
//! stock API and polls the page every 5 ms until it shows; the time runs from sending the
//! change to the first page that shows it.
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
        .unwrap_or(100);
    let world = world();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let eu = world.core("eu-west");
        let sku = "STOCK-BENCH";
        seed(eu, &product(sku, "Benchmark baguette", "bakery", 129, &["bread"]), 4, "de-fra-1").await;
        let page = format!("{}/p/{sku}", world.edge);
        let france = [("x-meridian-country", "FR")];
        until_published(&page, &france, "Only 4 left").await;
        let http = reqwest::Client::new();
        let mut samples = Vec::with_capacity(changes);
        for i in 0..changes {
            let (delta, shows) = if i % 2 == 0 { (-1, "Only 3 left") } else { (1, "Only 4 left") };
            let started = Instant::now();
            let response = http
                .post(format!("{}/v1/admin/stock", eu.url))
                .bearer_auth(GROCER_TOKEN)
                .json(&serde_json::json!({"sku": sku, "warehouse": "de-fra-1", "delta": delta, "reason": "bench"}))
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            loop {
                let text = http
                    .get(&page)
                    .header("x-meridian-country", "FR")
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                if text.contains(shows) {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(10), "never showed {shows}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            samples.push(started.elapsed());
        }
        print_latencies("stock change to product page", &mut samples);
    });
}
