//! A model-based concurrency test against real cores (the `regional-core serve` binary) on
//! one PostgreSQL database and the sandbox PSP: concurrent clients run a seeded random mix of
//! checkouts (several lines, several warehouses, three ship-to countries, approvals,
//! declines, slow and lost PSP answers), replays, cancels, fulfilments, partial refunds and
//! stock adjustments, while a core is killed (SIGKILL) and restarted. Then the invariants:
//!
//! - stock: per SKU and warehouse, on hand and reserved equal the sums of their audited
//!   movements, reserved equals the held reservations, and 0 ≤ reserved ≤ on hand;
//! - every held reservation belongs to a confirmed order (none outlives a settled checkout);
//! - refunds: per order, refunded ≤ total, equal to its done refunds and to what the PSP says
//!   it refunded;
//! - one order per acknowledged key, and a replay answers the same order;
//! - the PSP: every captured authorisation is a fulfilled or refunded order, every order
//!   holding a payment has its authorisation;
//! - no answer is a 500.
//!
//! `MODEL_SEED` replays a run (the seed is printed); `MODEL_OPS` sets operations per client.
//! The test command runs a short run with one core and one with two cores for the region
//! (one of them killed); `docs/testing.md` gives the long run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

/// SplitMix64: small, seedable, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const WAREHOUSES: [&str; 3] = ["us-nj-1", "us-ga-1", "ca-on-1"];
const COUNTRIES: [&str; 3] = ["US", "CA", "MX"];

/// What the clients saw, for the invariants.
#[derive(Default)]
struct Seen {
    /// Checkout key → (body, order id of its first 201).
    checkouts: BTreeMap<String, (Value, Option<String>)>,
    orders: Vec<String>,
    /// Answers no client may get.
    violations: Vec<String>,
    answered: usize,
    unanswered: usize,
    /// Answers by operation and status, printed after the run.
    statuses: BTreeMap<(&'static str, u16), usize>,
}

/// The cores of the run: their URLs (a restarted core has a new one) and processes.
struct Cores {
    urls: RwLock<Vec<String>>,
    processes: Mutex<Vec<ChildGuard>>,
    database_url: String,
    psp: String,
}

impl Cores {
    fn spawn(&self) -> ChildGuard {
        spawn_core(
            "us-east",
            &self.database_url,
            &self.psp,
            &[
                ("MERIDIAN_DB_POOL", "6"),
                ("MERIDIAN_RESERVATION_TTL_SECS", "20"),
            ],
        )
    }

    fn url(&self, rng: &mut Rng) -> String {
        let urls = self.urls.read().unwrap();
        rng.pick(&urls).clone()
    }

    /// Kills core `i` (SIGKILL), waits a moment, starts it again.
    async fn crash_and_restart(&self, i: usize) {
        self.processes.lock().unwrap()[i].kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let fresh = self.spawn();
        self.urls.write().unwrap()[i] = fresh.url.clone();
        self.processes.lock().unwrap()[i] = fresh;
    }
}

fn seed() -> u64 {
    std::env::var("MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

fn ops_per_client() -> usize {
    std::env::var("MODEL_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40)
}

async fn run(cores_in_region: usize) {
    let seed = seed();
    eprintln!("model run: MODEL_SEED={seed} cores={cores_in_region}");
    let (db_name, database_url) = create_database().await;
    // Slow answers (tok_timeout) take longer than the core waits, so it retries.
    let psp = spawn_psp(&["--slow-ms", "2500"]);
    let cores = Arc::new(Cores {
        urls: RwLock::new(Vec::new()),
        processes: Mutex::new(Vec::new()),
        database_url: database_url.clone(),
        psp: psp.url.clone(),
    });
    for _ in 0..cores_in_region {
        let core = cores.spawn();
        cores.urls.write().unwrap().push(core.url.clone());
        cores.processes.lock().unwrap().push(core);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    // Six SKUs, each stocked in two or three warehouses.
    let skus: Vec<String> = (0..6).map(|_| sku()).collect();
    let base = cores.urls.read().unwrap()[0].clone();
    for (i, item) in skus.iter().enumerate() {
        let r = http.put(format!("{base}/v1/admin/products/{item}")).bearer_auth(GROCER_TOKEN)
            .json(&json!({"title": format!("Model item {i}"), "category": "pantry", "unit": "1", "tax_category": "food", "prices": {"USD": 150 + 25 * i as i64}}))
            .send().await.unwrap();
        assert_eq!(r.status(), 200);
        for warehouse in WAREHOUSES.iter().skip(i % 2) {
            let r = http
                .post(format!("{base}/v1/admin/stock"))
                .bearer_auth(GROCER_TOKEN)
                .json(
                    &json!({"sku": item, "warehouse": warehouse, "delta": 6, "reason": "delivery"}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }

    let seen = Arc::new(Mutex::new(Seen::default()));
    let ops = ops_per_client();
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..8u64 {
        let (cores, seen, http, skus) = (cores.clone(), seen.clone(), http.clone(), skus.clone());
        clients.spawn(async move {
            let mut rng = Rng(seed ^ (client + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
            for _ in 0..ops {
                operation(&mut rng, &cores, &seen, &http, &skus).await;
            }
        });
    }
    // Crashes: a core killed and restarted every 1.5 s while the clients run (at least once).
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let killer = {
        let (cores, running) = (cores.clone(), running.clone());
        tokio::spawn(async move {
            let mut crashes = 0;
            loop {
                tokio::time::sleep(Duration::from_millis(if crashes == 0 { 700 } else { 1500 }))
                    .await;
                if crashes > 0 && !running.load(std::sync::atomic::Ordering::Relaxed) {
                    return crashes;
                }
                cores.crash_and_restart(crashes % cores_in_region).await;
                crashes += 1;
            }
        })
    };
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    let crashes = killer.await.unwrap();
    eprintln!("cores crashed and restarted: {crashes}");

    let db = pool_for(&database_url);
    settle(&db).await;
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    eprintln!(
        "answers {} (unanswered {}): {:?}",
        seen.answered, seen.unanswered, seen.statuses
    );
    let mut violations = seen.violations.clone();
    violations.extend(check(&db, &http, &psp.url, &seen).await);
    assert!(
        seen.answered > ops * 4,
        "MODEL_SEED={seed}: only {} answers ({} unanswered)",
        seen.answered,
        seen.unanswered
    );
    assert!(
        violations.is_empty(),
        "MODEL_SEED={seed}:\n{}",
        violations.join("\n")
    );
    drop(cores);
    drop(psp);
    drop_database(&db_name);
}

/// One random operation against one of the cores.
async fn operation(
    rng: &mut Rng,
    cores: &Cores,
    seen: &Mutex<Seen>,
    http: &reqwest::Client,
    skus: &[String],
) {
    let base = cores.url(rng);
    let known_order = {
        let s = seen.lock().unwrap();
        (!s.orders.is_empty()).then(|| rng.pick(&s.orders).clone())
    };
    let roll = rng.below(100);
    let request = if roll < 45 || known_order.is_none() {
        // A checkout of one to three lines.
        let mut lines = BTreeMap::new();
        for _ in 0..=rng.below(3) {
            lines.insert(rng.pick(skus).clone(), 1 + rng.below(3) as i64);
        }
        let country = *rng.pick(&COUNTRIES);
        let token = *rng.pick(&[
            "tok_approve",
            "tok_approve",
            "tok_approve",
            "tok_approve",
            "tok_decline",
            "tok_fail_after_commit",
            "tok_timeout",
        ]);
        let mut body = checkout_body(country, "USD", "x", 1, token);
        body["lines"] = lines
            .iter()
            .map(|(s, q)| json!({"sku": s, "quantity": q}))
            .collect();
        let key = key();
        seen.lock()
            .unwrap()
            .checkouts
            .insert(key.clone(), (body.clone(), None));
        Request::Checkout(key, body)
    } else if roll < 55 {
        // A replay of an earlier checkout, same key and body.
        let s = seen.lock().unwrap();
        let keys: Vec<&String> = s.checkouts.keys().collect();
        let key = (*rng.pick(&keys)).clone();
        Request::Checkout(key.clone(), s.checkouts[&key].0.clone())
    } else {
        let order = known_order.unwrap_or_default();
        match roll {
            55..65 => Request::Merchant(format!("/v1/orders/{order}/cancel"), None, key()),
            65..77 => Request::Merchant(format!("/v1/admin/orders/{order}/fulfil"), None, key()),
            77..90 => Request::Merchant(
                format!("/v1/admin/orders/{order}/refund"),
                Some(json!({"amount_minor": 1 + rng.below(400) as i64})),
                key(),
            ),
            _ => {
                let delta = rng.below(9) as i64 - 3;
                Request::Stock(json!({
                    "sku": rng.pick(skus), "warehouse": rng.pick(&WAREHOUSES),
                    "delta": if delta == 0 { 2 } else { delta }, "reason": "count",
                }))
            }
        }
    };
    // A client whose core is down retries, as clients do, with the same request and key
    // (the answer that counts is the one it finally gets); a stock adjustment has no key, so
    // it is never sent twice.
    let mut base = base;
    let mut attempts = 0;
    let response = loop {
        let sent = match &request {
            Request::Checkout(key, body) => http
                .post(format!("{base}/v1/checkouts"))
                .header("Idempotency-Key", key)
                .json(body),
            Request::Merchant(path, body, key) => {
                let r = http
                    .post(format!("{base}{path}"))
                    .bearer_auth(GROCER_TOKEN)
                    .header("Idempotency-Key", key);
                match body {
                    Some(b) => r.json(b),
                    None => r,
                }
            }
            Request::Stock(body) => http
                .post(format!("{base}/v1/admin/stock"))
                .bearer_auth(GROCER_TOKEN)
                .json(body),
        };
        match sent.send().await {
            Ok(response) => break response,
            Err(_) if attempts < 40 && !matches!(request, Request::Stock(_)) => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                base = cores.url(rng);
            }
            Err(_) => {
                // The core was killed under it: the outcome is unknown, which is allowed.
                seen.lock().unwrap().unanswered += 1;
                return;
            }
        }
    };
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let mut s = seen.lock().unwrap();
    s.answered += 1;
    *s.statuses.entry((request.kind(), status)).or_insert(0) += 1;
    // 502 is the documented "PSP did not answer, retry"; 409 in flight is a retry answer.
    if status >= 500 && status != 502 {
        s.violations
            .push(format!("{request:?} answered {status}: {body}"));
    }
    if let (Request::Checkout(key, _), 201) = (&request, status) {
        let order = body["order_id"].as_str().unwrap_or_default().to_owned();
        let entry = s.checkouts.get_mut(key).unwrap();
        match &entry.1 {
            Some(first) if *first != order => {
                let first = first.clone();
                s.violations
                    .push(format!("key {key} answered order {order}, first {first}"));
            }
            Some(_) => {}
            None => {
                entry.1 = Some(order.clone());
                s.orders.push(order);
            }
        }
    }
}

#[derive(Debug)]
enum Request {
    Checkout(String, Value),
    /// Path, body, `Idempotency-Key`.
    Merchant(String, Option<Value>, String),
    Stock(Value),
}

impl Request {
    fn kind(&self) -> &'static str {
        match self {
            Self::Checkout(..) => "checkout",
            Self::Merchant(path, ..) if path.ends_with("/cancel") => "cancel",
            Self::Merchant(path, ..) if path.ends_with("/fulfil") => "fulfil",
            Self::Merchant(..) => "refund",
            Self::Stock(_) => "stock",
        }
    }
}

/// Waits until recovery has settled every checkout and refund a crash left in flight.
async fn settle(db: &deadpool_postgres::Pool) {
    let started = Instant::now();
    loop {
        let client = db.get().await.unwrap();
        let open: i64 = client
            .query_one(
                "SELECT (SELECT count(*) FROM orders WHERE status = 'pending_payment')
                      + (SELECT count(*) FROM refunds WHERE state = 'pending')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if open == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{open} checkouts or refunds never settled"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The invariants; each broken one is a line.
async fn check(
    db: &deadpool_postgres::Pool,
    http: &reqwest::Client,
    psp: &str,
    seen: &Seen,
) -> Vec<String> {
    let mut broken = Vec::new();
    let client = db.get().await.unwrap();
    // Stock against its movements and reservations.
    let rows = client
        .query(
            "SELECT s.sku, s.warehouse, s.on_hand, s.reserved,
                    coalesce((SELECT sum(on_hand_delta) FROM stock_movements m
                              WHERE m.sku = s.sku AND m.warehouse = s.warehouse), 0)::int,
                    coalesce((SELECT sum(reserved_delta) FROM stock_movements m
                              WHERE m.sku = s.sku AND m.warehouse = s.warehouse), 0)::int,
                    coalesce((SELECT sum(quantity) FROM reservations r
                              WHERE r.sku = s.sku AND r.warehouse = s.warehouse
                                AND r.state = 'held'), 0)::int
             FROM stock s",
            &[],
        )
        .await
        .unwrap();
    for r in rows {
        let (sku, warehouse): (String, String) = (r.get(0), r.get(1));
        let (on_hand, reserved, moved, moved_reserved, held): (i32, i32, i32, i32, i32) =
            (r.get(2), r.get(3), r.get(4), r.get(5), r.get(6));
        if on_hand != moved || reserved != moved_reserved || reserved != held {
            broken.push(format!(
                "{sku}@{warehouse}: on hand {on_hand} (movements {moved}), reserved {reserved} (movements {moved_reserved}, held {held})"
            ));
        }
        if reserved < 0 || reserved > on_hand {
            broken.push(format!(
                "{sku}@{warehouse}: reserved {reserved} of {on_hand}"
            ));
        }
    }
    let stray: i64 = client
        .query_one(
            "SELECT count(*) FROM reservations r JOIN orders o ON o.id = r.order_id
             WHERE r.state = 'held' AND o.status <> 'confirmed'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    if stray > 0 {
        broken.push(format!(
            "{stray} reservations held for orders not confirmed"
        ));
    }
    // Refunds against the orders and the PSP.
    let authorizations: Value = http
        .get(format!("{psp}/v1/authorizations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at_psp: BTreeMap<String, Value> = authorizations["authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["authorization"]["id"].as_str().unwrap().to_owned(),
                a["authorization"].clone(),
            )
        })
        .collect();
    let orders = client
        .query(
            "SELECT o.id::text, o.status, o.total_minor, o.refunded_minor, o.payment_id,
                    coalesce((SELECT sum(amount_minor) FROM refunds f
                              WHERE f.order_id = o.id AND f.state = 'done'), 0)::bigint,
                    o.idempotency_key
             FROM orders o",
            &[],
        )
        .await
        .unwrap();
    let mut keys = BTreeSet::new();
    let mut paid = BTreeSet::new();
    for o in &orders {
        let (id, status, total, refunded, payment, done): (
            String,
            String,
            i64,
            i64,
            Option<String>,
            i64,
        ) = (o.get(0), o.get(1), o.get(2), o.get(3), o.get(4), o.get(5));
        let key: String = o.get(6);
        if !keys.insert(key.clone()) {
            broken.push(format!("two orders for key {key}"));
        }
        if let Some((_, Some(acknowledged))) = seen.checkouts.get(&key)
            && *acknowledged != id
        {
            broken.push(format!("key {key} was answered {acknowledged}, holds {id}"));
        }
        if refunded > total || refunded != done {
            broken.push(format!(
                "order {id}: refunded {refunded} of {total}, done refunds {done}"
            ));
        }
        let holds_payment = matches!(
            status.as_str(),
            "confirmed" | "fulfilled" | "partially_refunded" | "refunded"
        );
        match (&payment, holds_payment) {
            (Some(p), true) => {
                paid.insert(p.clone());
                let Some(auth) = at_psp.get(p) else {
                    broken.push(format!("order {id} ({status}) has no authorisation {p}"));
                    continue;
                };
                let expected = match status.as_str() {
                    "confirmed" => "authorized",
                    "fulfilled" => "captured",
                    other => other,
                };
                if auth["status"] != expected {
                    broken.push(format!(
                        "order {id} is {status}, its authorisation {}",
                        auth["status"]
                    ));
                }
                if auth["refunded_minor"].as_i64().unwrap_or(0) != refunded {
                    broken.push(format!(
                        "order {id}: refunded {refunded}, the PSP {}",
                        auth["refunded_minor"]
                    ));
                }
            }
            (None, true) => broken.push(format!("order {id} is {status} without a payment")),
            _ => {}
        }
    }
    for (id, auth) in &at_psp {
        let taken = matches!(
            auth["status"].as_str(),
            Some("captured" | "refunded" | "partially_refunded")
        );
        if taken && !paid.contains(id) {
            broken.push(format!(
                "authorisation {id} is {} but no order holds it",
                auth["status"]
            ));
        }
    }
    // Every acknowledged checkout is an order.
    for (key, (_, order)) in &seen.checkouts {
        if order.is_some() && !keys.contains(key) {
            broken.push(format!("key {key} was acknowledged but has no order"));
        }
    }
    broken
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_random_mix_with_a_crashed_core_keeps_every_invariant() {
    run(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cores_of_one_region_on_one_database_keep_every_invariant() {
    run(2).await;
}
