//! Checkout throughput and latency over HTTP, against real PostgreSQL and the sandbox PSP
//! process (zero added latency).
//!
//! ```sh
//! cargo bench -p regional-core --bench checkout            # 10 s per scenario, 64 clients, pool 32
//! BENCH_SECS=20 BENCH_CLIENTS=128 BENCH_POOL=8 cargo bench -p regional-core --bench checkout
//! ```
//!
//! Scenarios: (a) uncontended, each checkout buys one of 1,000 SKUs at random; (b) one hot
//! SKU that every checkout buys; (c) oversell check: 3,000 checkouts race for 1,000 units
//! of one SKU; (d) as (a), each checkout booking one of ~160 delivery slots; (e) 2,000
//! checkouts race for one slot of capacity 50 (exactly 50 must hold it). The clients run
//! in this process beside the core, so they share its 2 cores.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use region_config::RegionConfig;
use regional_core::config::{Config, MerchantToken, Secret};
use regional_core::{AppState, Workers};
use serde_json::json;

const TOKEN: &str = "bench-token-0123456789abcdef";

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Result {
    ok: u64,
    refused: u64,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn body(sku: &str) -> serde_json::Value {
    with_slot(sku, None)
}

/// A checkout of one `sku`, naming a delivery slot when given.
fn with_slot(sku: &str, slot: Option<&str>) -> serde_json::Value {
    let mut body = json!({
        "storefront": "bench", "currency": "EUR", "lines": [{"sku": sku, "quantity": 1}],
        "shopper": {"email": "bench@example.invalid", "name": "Bench Shopper", "country": "DE",
                    "address": {"line1": "1 Benchstrasse", "city": "Berlin", "postal_code": "10115", "country": "DE"}},
        "payment": {"method": "card", "token": "tok_approve"},
    });
    if let Some(slot) = slot {
        body["delivery"] = json!({ "slot_id": slot });
    }
    body
}

async fn drive(
    http: reqwest::Client,
    base: String,
    clients: u64,
    limit: Option<u64>,
    duration: Duration,
    pick: Arc<dyn Fn(u64) -> serde_json::Value + Send + Sync>,
) -> Result {
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, base, counter, pick) =
            (http.clone(), base.clone(), counter.clone(), pick.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let (mut ok, mut refused) = (0u64, 0u64);
            loop {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if limit.is_some_and(|l| n >= l)
                    || (limit.is_none() && started.elapsed() >= duration)
                {
                    break;
                }
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/v1/checkouts"))
                    .header(
                        "Idempotency-Key",
                        format!("bench-{}", uuid::Uuid::new_v4().simple()),
                    )
                    .json(&pick(n))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                latencies.push(t.elapsed());
                match status {
                    201 => ok += 1,
                    409 => refused += 1,
                    other => panic!("unexpected status {other}"),
                }
            }
            (ok, refused, latencies)
        });
    }
    let mut result = Result {
        ok: 0,
        refused: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    while let Some(r) = tasks.join_next().await {
        let (ok, refused, latencies) = r.unwrap();
        result.ok += ok;
        result.refused += refused;
        result.latencies.extend(latencies);
    }
    result.elapsed = started.elapsed();
    result.latencies.sort();
    result
}

fn report(name: &str, r: &Result) {
    println!(
        "| {name} | {} | {} | {:.0} | {:.2} | {:.2} |",
        r.ok,
        r.refused,
        r.ok as f64 / r.elapsed.as_secs_f64(),
        percentile(&r.latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&r.latencies, 0.99).as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let secs = env_or("BENCH_SECS", 10);
    let clients = env_or("BENCH_CLIENTS", 64);
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("core_bench_{}", uuid::Uuid::new_v4().simple());
    let (admin, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL is not reachable");
    tokio::spawn(conn);
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let database_url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);

    let mut psp = Command::new(env!("CARGO_BIN_EXE_regional-core"))
        .args(["psp-sandbox", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(psp.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let psp_url = line
        .trim()
        .trim_start_matches("psp-sandbox listening on ")
        .to_owned();

    let config = Config {
        region: "eu-west".parse().unwrap(),
        region_config: concat!(env!("CARGO_MANIFEST_DIR"), "/../region-config/regions.toml").into(),
        database_url: Secret::new(&database_url),
        listen: "127.0.0.1:0".parse().unwrap(),
        psp_urls: vec![psp_url],
        merchant_tokens: vec![format!("bench={TOKEN}").parse::<MerchantToken>().unwrap()],
        redis_url: None,
        quote_signing_key: None,
        reservation_ttl_secs: 900,
        db_pool_size: env_or("BENCH_POOL", 32) as usize,
        otlp_endpoint: None,
        smtp_url: None,
        mail_from: "Meridian <no-reply@meridian.invalid>".to_owned(),
        mail_senders: Vec::new(),
        operator_token: None,
    };
    let regions = RegionConfig::from_path(&config.region_config).unwrap();
    let state = AppState::start(&config, regions).await.unwrap();
    let warehouse = state.region.warehouses[0].id.to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(regional_core::serve(
        listener,
        state,
        Workers::new(None),
        std::future::pending(),
    ));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()
        .unwrap();

    // Seed 1,000 SKUs with plenty of stock, one hot SKU, and one scarce SKU.
    let mut lines = String::new();
    for i in 0..1002 {
        let p = json!({"sku": format!("B-{i}"), "title": "Bench loaf", "category": "bakery", "unit": "1", "tax_category": "food", "prices": {"EUR": 214}});
        lines.push_str(&format!("{p}\n"));
    }
    let r = http
        .post(format!("{base}/v1/admin/products:import"))
        .bearer_auth(TOKEN)
        .body(lines)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for i in 0..1002 {
        let delta = match i {
            1001 => 1_000,
            _ => 1_000_000,
        };
        let r = http
            .post(format!("{base}/v1/admin/stock"))
            .bearer_auth(TOKEN)
            .json(&json!({"sku": format!("B-{i}"), "warehouse": warehouse, "delta": delta, "reason": "bench"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    println!(
        "checkout benchmark: {clients} clients, {secs} s per scenario, sandbox PSP at zero latency"
    );
    println!("| scenario | confirmed | refused (409) | checkouts/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    let duration = Duration::from_secs(secs);
    let uncontended = drive(
        http.clone(),
        base.clone(),
        clients,
        None,
        duration,
        Arc::new(|n| body(&format!("B-{}", (n * 7919) % 1000))),
    )
    .await;
    report("(a) uncontended, 1,000 SKUs", &uncontended);
    let hot = drive(
        http.clone(),
        base.clone(),
        clients,
        None,
        duration,
        Arc::new(|_| body("B-1000")),
    )
    .await;
    report("(b) one hot SKU", &hot);
    let scarce = drive(
        http.clone(),
        base.clone(),
        clients,
        Some(3_000),
        duration,
        Arc::new(|_| body("B-1001")),
    )
    .await;
    report("(c) 3,000 racing for 1,000 units", &scarce);

    // (a) again just before the slots, so (d) is compared on a database of the same size.
    let before_slots = drive(
        http.clone(),
        base.clone(),
        clients,
        None,
        duration,
        Arc::new(|n| body(&format!("B-{}", (n * 7919) % 1000))),
    )
    .await;
    report("(a) again, just before (d)", &before_slots);

    // Delivery slots: one-hour windows all week, so (d) spreads over many slots; then one
    // slot of capacity 50 for (e).
    let windows: Vec<serde_json::Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .flat_map(|day| {
            (0..23).map(move |h| {
                json!({"day": day, "start": format!("{h:02}:00"), "end": format!("{:02}:00", h + 1),
                       "capacity": 10_000, "fee_minor": 299})
            })
        })
        .collect();
    for (path, body) in [
        ("zones", json!({"zones": [{"country": "DE"}]})),
        (
            "slot-template",
            json!({"time_zone": "Europe/Berlin", "days_ahead": 7, "windows": windows}),
        ),
    ] {
        let r = http
            .put(format!("{base}/v1/admin/warehouses/{warehouse}/{path}"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let listed: serde_json::Value = http
        .get(format!("{base}/v1/admin/slots"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slots: Arc<Vec<String>> = Arc::new(
        listed["slots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["started"] == false)
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect(),
    );
    let spread = slots.clone();
    let with_slots = drive(
        http.clone(),
        base.clone(),
        clients,
        None,
        duration,
        Arc::new(move |n| {
            let slot = &spread[1 + (n as usize % (spread.len() - 1))];
            with_slot(&format!("B-{}", (n * 7919) % 1000), Some(slot))
        }),
    )
    .await;
    report("(d) uncontended with a slot each", &with_slots);
    let hot_slot = slots[0].clone();
    let r = http
        .patch(format!("{base}/v1/admin/slots/{hot_slot}"))
        .bearer_auth(TOKEN)
        .json(&json!({"capacity": 50}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let slot_for_race = hot_slot.clone();
    let race = drive(
        http.clone(),
        base.clone(),
        clients.max(2_000),
        Some(2_000),
        duration,
        Arc::new(move |n| with_slot(&format!("B-{}", (n * 7919) % 1000), Some(&slot_for_race))),
    )
    .await;
    report("(e) 2,000 racing for one slot of 50", &race);
    println!(
        "slots: (d) is {:.0}% of the throughput of (a) just before it",
        100.0 * (with_slots.ok as f64 / with_slots.elapsed.as_secs_f64())
            / (before_slots.ok as f64 / before_slots.elapsed.as_secs_f64())
    );

    let client = {
        let (c, conn) = tokio_postgres::connect(&database_url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        c
    };
    let row = client
        .query_one(
            "SELECT on_hand, reserved FROM stock WHERE sku = 'B-1001'",
            &[],
        )
        .await
        .unwrap();
    let (on_hand, reserved): (i32, i32) = (row.get(0), row.get(1));
    println!(
        "oversell check: on_hand {on_hand}, reserved {reserved}, confirmed {} (must equal reserved and be <= on_hand)",
        scarce.ok
    );
    assert_eq!(i64::from(reserved), scarce.ok as i64);
    assert!(reserved <= on_hand);
    let row = client
        .query_one(
            "SELECT s.booked, s.capacity, (SELECT count(*) FROM orders o WHERE o.slot_id = s.id AND o.status = 'confirmed')
             FROM delivery_slots s WHERE s.id = $1::text::uuid",
            &[&hot_slot],
        )
        .await
        .unwrap();
    let (booked, capacity, orders): (i32, i32, i64) = (row.get(0), row.get(1), row.get(2));
    println!(
        "slot check: capacity {capacity}, booked {booked}, confirmed orders {orders}, confirmed answers {} (all must be 50)",
        race.ok
    );
    assert_eq!((booked, capacity, orders, race.ok), (50, 50, 50, 50));
    let _ = psp.kill();
    let _ = psp.wait();
    drop(client);
    let _ = admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await;
}
