//! How long a booking at a regional core takes to show on the storefront's checkout page at
//! the edge: the checkout's slot booking crosses "full" and writes an outbox event, the
//! relay (every 50 ms) republishes the storefront's slots, and the next page reads them.
//!
//! `cargo bench -p meridian-tests --bench slot_latency` (BENCH_CHANGES, default 50).
//! One slot of capacity 1 at the Corner Shop in us-east: each change is a checkout through
//! the core's API that fills it, or the cancellation of that order that frees it, and a
//! shopper's checkout page is polled every 5 ms until the slot shows as full, or as open
//! again; the time runs from sending the change to the first page that shows it.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::*;
use serde_json::json;

/// Whether the checkout page shows `slot` as full (its radio disabled).
fn shows_full(page: &str, slot: &str) -> Option<bool> {
    let marker = format!("value=\"{slot}\"");
    let tag = page.split(&marker).nth(1)?.split('>').next()?;
    Some(tag.contains("disabled"))
}

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
        let us = world.core("us-east");
        let sku = "SLOT-BENCH";
        let p = product(sku, "Benchmark berries", "produce", 399, &["fruit"]);
        seed_as(us, CORNER_TOKEN, &p, 10_000, "us-nj-1").await;
        let http = reqwest::Client::new();
        corner_delivers(us, "us-nj-1", "US", "America/New_York", &[("23:00", "23:59", 1, 0)]).await;
        let slot = corner_slots(us)
            .await
            .into_iter()
            .find(|s| s["started"] == false)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        until_published(
            &format!("{}/c/produce", world.edge),
            &[("x-meridian-country", "US"), ("host", "corner.localhost")],
            "Benchmark berries",
        )
        .await;
        let shopper = Shopper::new(&world.edge, "US").on_host("corner.localhost");
        let (_, page) = shopper.get(&format!("/p/{sku}")).await;
        let csrf = hidden(&page, "csrf");
        shopper
            .post("/cart/add", &[("sku", sku), ("quantity", "1"), ("csrf", &csrf)])
            .await;
        let page_shows = |full: bool| {
            let shopper = &shopper;
            let slot = slot.clone();
            async move {
                let started = Instant::now();
                loop {
                    let (_, page) = shopper.get("/checkout").await;
                    if shows_full(&page, &slot) == Some(full) {
                        return;
                    }
                    assert!(started.elapsed() < Duration::from_secs(10), "never showed full={full}");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        page_shows(false).await;
        let mut samples = Vec::with_capacity(changes);
        let mut order: Option<(String, String)> = None;
        for i in 0..changes {
            let started = Instant::now();
            match order.take() {
                None => {
                    let body = json!({
                        "storefront": "corner", "currency": "USD",
                        "lines": [{"sku": sku, "quantity": 1}],
                        "shopper": {"email": format!("slot-bench-{i}@shopper.invalid"), "name": "Bench Shopper", "country": "US",
                                    "address": {"line1": "1 Bench Road", "city": "Newark", "postal_code": "07102", "country": "US"}},
                        "payment": {"method": "card", "token": "tok_approve"},
                        "delivery": {"slot_id": slot},
                    });
                    let r = http
                        .post(format!("{}/v1/checkouts", us.url))
                        .header("Idempotency-Key", format!("slot-bench-{}", uuid::Uuid::new_v4().simple()))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
                    let placed: serde_json::Value = r.json().await.unwrap();
                    order = Some((
                        placed["order_id"].as_str().unwrap().to_owned(),
                        placed["order_access_token"].as_str().unwrap().to_owned(),
                    ));
                    page_shows(true).await;
                }
                Some((id, token)) => {
                    let r = http
                        .post(format!("{}/v1/orders/{id}/cancel", us.url))
                        .bearer_auth(token)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    page_shows(false).await;
                }
            }
            samples.push(started.elapsed());
        }
        print_latencies("slot booking or release to checkout page", &mut samples);
    });
}
