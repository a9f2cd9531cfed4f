//! Component time of the edge components on a 10,000-SKU catalogue, through the edge node's
//! runtime (wasmtime, in-memory key-value store), as the targets are stated: a
//! search must take well under a millisecond of component time.
//!
//! `cargo bench -p edge --bench components` (BENCH_CALLS sets calls per case, default 2,000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use edge::bindings::catalogue::{GuestIndices, PageRequest, Sort};
use edge::bindings::types::Scope;
use edge::data::Variables;
use edge::data::{Backend, MemoryBackend, Stores};
use edge::runtime::Runtime;
use projections::{encode, keys};

use projections::fixtures::demo_catalogue as catalogue;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p) as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "| {name} | {:.1} | {:.1} | {:.1} |",
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.iter().sum::<Duration>().as_secs_f64() * 1e6 / samples.len() as f64,
    );
}

fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let paths = guest_build::build_components()?;
    let runtime = Runtime::new()?;
    let loaded = runtime.load(&paths[0])?;
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    let products = catalogue(10_000);
    for p in &products {
        backend.set(&keys::product("eu-west", "grocer", &p.sku), &encode(p))?;
    }
    let derived = projections::build::storefront("eu-west", "grocer", "EUR", &products);
    let terms = derived
        .iter()
        .filter(|(k, _)| k.contains("/search/term/"))
        .count();
    for (k, v) in &derived {
        backend.set(k, v)?;
    }
    let scope = Scope {
        region: "eu-west".into(),
        storefront: "grocer".into(),
    };
    let stores = Stores::new([("default".to_owned(), backend.clone())]);
    let variables = Arc::new(Variables::default());
    let page = PageRequest {
        page: 1,
        per_page: 24,
        sort: Sort::PriceAscending,
    };
    println!("catalogue: 10,000 products, {terms} terms; {calls} calls per case; times in µs\n");
    println!("| call (one reused instance) | p50 | p99 | mean |");
    println!("|---|---|---|---|");
    let mut store = runtime.store(stores.clone(), variables.clone());
    let instance = loaded.pre.instantiate(&mut store)?;
    let catalogue = GuestIndices::new(&loaded.pre)?.load(&mut store, &instance)?;
    let cases: [(&str, &str); 3] = [
        ("search: 1 rare term (`croissant`)", "croissant"),
        ("search: 2 common terms (`organic milk`)", "organic milk"),
        (
            "search: 3 terms, one very common (`fresh breakfast bagels`)",
            "fresh breakfast bagels",
        ),
    ];
    for (name, query) in cases {
        let mut samples = Vec::with_capacity(calls);
        let mut hits = 0;
        for _ in 0..calls {
            let started = Instant::now();
            let results = catalogue
                .call_search(&mut store, &scope, query, None, page)?
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            samples.push(started.elapsed());
            hits = results.total;
        }
        report(&format!("{name}, {hits} hits"), samples);
    }
    let mut samples = Vec::with_capacity(calls);
    for i in 0..calls {
        let sku = format!("SKU-{:05}", i % 10_000);
        let started = Instant::now();
        catalogue
            .call_product(&mut store, &scope, &sku)?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        samples.push(started.elapsed());
    }
    report("product by SKU", samples);
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        catalogue
            .call_category_page(&mut store, &scope, "dairy", None, page)?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        samples.push(started.elapsed());
    }
    report("category page, 24 of ~1,400, by price", samples);

    println!("\n| fresh instance per call | p50 | p99 | mean |");
    println!("|---|---|---|---|");
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let mut store = runtime.store(stores.clone(), variables.clone());
        let instance = loaded.pre.instantiate(&mut store)?;
        let catalogue = GuestIndices::new(&loaded.pre)?.load(&mut store, &instance)?;
        catalogue
            .call_search(&mut store, &scope, "organic milk", None, page)?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        samples.push(started.elapsed());
    }
    report("instantiate + search (`organic milk`)", samples);
    Ok(())
}
