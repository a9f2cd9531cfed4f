//! The edge node over HTTP, as shoppers reach it: per-request instantiation time, and
//! requests per second with p50/p99 latency at concurrency 1 and 32, for
//!
//! - a trivial component (`/hello`: `components/edge-hello`, which imports only WASI),
//!   and a trivial WASIp3 one (`/p3/hello`: `components/edge-p3`, spin-sdk 7),
//! - a real catalogue read (`/probe/product/{sku}`: the probe calls the catalogue
//!   component through its typed import, which reads the 10,000-SKU projection), and the
//!   same read from a WASIp3 component (`/p3-deps/product/{sku}`: `components/edge-p3-deps`,
//!   whose dependency runs in the request's sidecar store),
//! - the same read by service chaining (`/probe/fetch?http://hidden.spin.internal/...`: the
//!   probe sends an HTTP request to another probe component in process, which reads the
//!   catalogue through its import),
//! - the storefront's pages `/`, `/c/{aisle}` (24 products) and `/p/{sku}`, and the same
//!   pages with OpenTelemetry export on (to an OTLP receiver in this process),
//! - and, as baselines, the trivial and catalogue handlers natively in axum, the trivial
//!   component under `wasmtime serve` when `WASMTIME` names a wasmtime-cli 48 binary, and
//!   the storefront's pages built natively (`web`'s feature `native`: the components'
//!   logic linked in, served by axum) when `NATIVE_STOREFRONT` names that binary,
//! - and Spin itself (`spin up` of the real `spin.toml`) beside a node of ours, both on
//!   Redis, for the storefront's three pages, when `SPIN_BIN` names the Spin CLI.
//!
//! The node, the load generator and (for the baseline) axum share this machine's cores.
//!
//! `cargo bench -p edge --bench node` (BENCH_SECS sets seconds per case, default 3;
//! BENCH_CONCURRENCY the concurrencies, default `1,32`; BENCH_CASES, comma separated, runs
//! only the cases whose names contain one of its parts, e.g. `BENCH_CASES=bakery`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use edge::app::{App, AppOptions};
use edge::data::KeyValue;
use edge::data::{Backend, MemoryBackend};
use edge::region::{DEFAULT_COUNTRY_HEADER, RegionRouting};
use edge::runtime::{Limits, Runtime};
use edge::server::{Node, NodeOptions};
use edge::state::State;
use http_body_util::{BodyExt, Empty};
use meridian_telemetry::Telemetry;
use projections::{Product, decode, keys};
use region_config::RegionConfig;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn seeded() -> anyhow::Result<Arc<dyn Backend>> {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::default());
    for (k, v) in projections::fixtures::demo_storefront(10_000) {
        backend.set(&k, &v)?;
    }
    Ok(backend)
}

fn start(
    rt: &tokio::runtime::Runtime,
    manifest: PathBuf,
    variables: Vec<(String, String)>,
    backend: Arc<dyn Backend>,
    telemetry: Telemetry,
) -> anyhow::Result<(SocketAddr, Arc<Node>)> {
    let limits = Limits {
        max_instances: 256,
        ..Limits::default()
    };
    start_with(rt, manifest, variables, backend, telemetry, limits)
}

fn start_with(
    rt: &tokio::runtime::Runtime,
    manifest: PathBuf,
    variables: Vec<(String, String)>,
    backend: Arc<dyn Backend>,
    telemetry: Telemetry,
    limits: Limits,
) -> anyhow::Result<(SocketAddr, Arc<Node>)> {
    let runtime = Runtime::with_limits(limits, Some(root().join("target/edge-cache-tests")))?;
    let options = AppOptions {
        manifest,
        variables,
        environment: BTreeMap::new(),
        runtime_config: None,
        key_value: KeyValue::Shared(backend),
    };
    let regions = RegionConfig::from_path(&root().join("region-config/regions.toml"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = App::load(&runtime, &options.with_regions(&regions))?;
    let node = Node::with_options(
        runtime,
        app,
        RegionRouting::new(regions, DEFAULT_COUNTRY_HEADER)?,
        NodeOptions {
            telemetry,
            ..NodeOptions::default()
        },
    );
    let serving = node.clone();
    let address = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(serving.serve(listener, std::future::pending()));
        anyhow::Ok(address)
    })?;
    Ok((address, node))
}

/// `concurrency` keep-alive connections sending `GET path` for `secs`; requests/s, p50, p99.
async fn load(
    address: SocketAddr,
    path: &str,
    concurrency: usize,
    secs: u64,
) -> (f64, Duration, Duration) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let path = path.to_owned();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(address)
                .await
                .expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("handshake");
            tokio::spawn(connection);
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let request = http::Request::get(path.as_str())
                    .header("host", "localhost")
                    .header("x-meridian-country", "DE")
                    .body(Empty::<Bytes>::new())
                    .expect("request");
                let started = Instant::now();
                sender.ready().await.expect("connection ready");
                let response = sender.send_request(request).await.expect("send");
                assert!(
                    response.status().is_success(),
                    "{path}: {}",
                    response.status()
                );
                response.into_body().collect().await.expect("body");
                samples.push(started.elapsed());
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort();
    let rate = all.len() as f64 / secs as f64;
    (rate, all[all.len() / 2], all[all.len() * 99 / 100])
}

/// `clients` connections sending `GET path` until `until`, whatever the answers: the noisy
/// neighbours of the well-behaved component.
async fn noise(address: SocketAddr, path: &'static str, clients: usize, until: Instant) {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let Ok(stream) = tokio::net::TcpStream::connect(address).await else {
                    continue;
                };
                let Ok((mut sender, connection)) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                        .await
                else {
                    continue;
                };
                tokio::spawn(connection);
                while Instant::now() < until {
                    // Another merchant's storefront: the node shares by host too.
                    let request = http::Request::get(path)
                        .header("host", "noisy.localhost")
                        .body(Empty::<Bytes>::new())
                        .expect("request");
                    if sender.ready().await.is_err() {
                        break;
                    }
                    match sender.send_request(request).await {
                        Ok(response) => {
                            let _ = response.into_body().collect().await;
                        }
                        Err(_) => break,
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// The trivial and catalogue handlers written natively in axum, over the same store.
async fn native(backend: Arc<dyn Backend>) -> SocketAddr {
    use axum::extract::{Path, State as AxumState};
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/hello", get(|| async { "hello\n" }))
        .route(
            "/probe/product/{sku}",
            get(
                |AxumState(backend): AxumState<Arc<dyn Backend>>, Path(sku): Path<String>| async move {
                    let key = keys::product("eu-west", "grocer", &sku);
                    let bytes = backend.get(&key).ok().flatten().unwrap_or_default();
                    let product: Product = decode(&key, &bytes).expect("product");
                    product.title
                },
            ),
        )
        .with_state(backend);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// The concurrencies to measure (BENCH_CONCURRENCY, comma separated; default 1,32).
fn concurrencies() -> Vec<usize> {
    std::env::var("BENCH_CONCURRENCY")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 32])
}

fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    guest_build::build_all()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let backend = seeded()?;
    let probe_vars = vec![
        ("upstream".to_owned(), "127.0.0.1:9".to_owned()),
        ("secure_upstream".to_owned(), "localhost:9".to_owned()),
        (
            "core_url_eu_west".to_owned(),
            "http://127.0.0.1:7102".to_owned(),
        ),
        (
            "core_url_us_east".to_owned(),
            "http://127.0.0.1:7101".to_owned(),
        ),
    ];
    let (probe, probe_node) = start(
        &rt,
        root().join("edge/tests/node/spin.toml"),
        probe_vars.clone(),
        backend.clone(),
        Telemetry::disabled(),
    )?;
    let regions = RegionConfig::from_path(&root().join("region-config/regions.toml"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut store_vars: Vec<(String, String)> = regions
        .regions()
        .iter()
        .map(|r| {
            let id = r.id.as_str().replace('-', "_");
            (format!("quote_signing_key_{id}"), "bench-key".to_owned())
        })
        .collect();
    // Spin peers get it explicitly; the node would set it from its own regions file.
    store_vars.push((
        region_config::storefront::VARIABLE.to_owned(),
        region_config::storefront::StorefrontView::of(&regions).to_json(),
    ));
    let (storefront, store_node) = start(
        &rt,
        root().join("spin.toml"),
        store_vars.clone(),
        backend.clone(),
        Telemetry::disabled(),
    )?;
    // The same storefront exporting spans and metrics (batched, on the SDK's threads) to a
    // real OTLP receiver in this process.
    let otlp = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(meridian_telemetry::receiver::serve(
            listener,
            meridian_telemetry::receiver::Inbox::default(),
        ));
        anyhow::Ok(url)
    })?;
    let (traced, _) = start(
        &rt,
        root().join("spin.toml"),
        store_vars.clone(),
        backend.clone(),
        Telemetry::new("meridian-edge-bench", &[], Some(&otlp))?,
    )?;
    let axum = rt.block_on(native(backend.clone()));

    // Per-request instantiation: a store with its state, and an instance from the
    // component's pre-instantiated template (pooling allocator).
    for (node, id) in [
        (&probe_node, "hello"),
        (&probe_node, "catalogue"),
        (&store_node, "storefront"),
    ] {
        let component = node.app.components[id].clone();
        let mut samples = Vec::new();
        for _ in 0..2_000 {
            let started = Instant::now();
            let state = State::new(component.stores.clone(), component.variables.clone());
            let mut store = node.runtime.store_for(state);
            let _instance = component.loaded.pre.instantiate(&mut store)?;
            samples.push(started.elapsed());
        }
        samples.sort();
        println!(
            "instantiate {id} (store + instance, pooling): p50 {:.1} µs, p99 {:.1} µs",
            samples[samples.len() / 2].as_secs_f64() * 1e6,
            samples[samples.len() * 99 / 100].as_secs_f64() * 1e6
        );
    }

    // `wasmtime serve` on the same trivial component, when WASMTIME names the binary
    // (wasmtime-cli 48.0.8 is installed for the benchmark only).
    let serve = std::env::var("WASMTIME").ok().map(|wasmtime| {
        spawn_server(&wasmtime, |address| {
            vec![
                "serve".into(),
                "-S".into(),
                "cli".into(),
                "--addr".into(),
                address.to_string(),
                guest_build::component_path("edge-hello")
                    .display()
                    .to_string(),
            ]
        })
    });
    // The storefront built natively, when NATIVE_STOREFRONT names the binary (built for
    // the benchmark only: see docs/benchmarks.md).
    let native_storefront = std::env::var("NATIVE_STOREFRONT")
        .ok()
        .map(|binary| spawn_server(&binary, |address| vec![address.to_string()]));
    // Spin itself on the real `spin.toml`, when SPIN_BIN names the Spin CLI, beside a node of
    // ours on the same manifest: both read the same projections from Redis, so they differ
    // only in the runtime.
    let spin = match std::env::var("SPIN_BIN") {
        Ok(bin) => Some(spin_pair(&rt, &bin, &store_vars)?),
        Err(_) => None,
    };

    println!("| case | concurrency | requests/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    let cases: [(&str, SocketAddr, &str); 12] = [
        ("trivial component (edge node)", probe, "/hello"),
        (
            "trivial WASIp3 component, spin-sdk 7 (edge node)",
            probe,
            "/p3/hello",
        ),
        ("trivial handler (native axum)", axum, "/hello"),
        (
            "catalogue read, typed import (edge node)",
            probe,
            "/probe/product/SKU-00042",
        ),
        (
            "catalogue read, typed import from a WASIp3 component (edge node, sidecar store)",
            probe,
            "/p3-deps/product/SKU-00042",
        ),
        (
            "catalogue read, service chaining (edge node)",
            probe,
            "/probe/fetch?http://hidden.spin.internal/product/SKU-00042",
        ),
        (
            "catalogue read (native axum)",
            axum,
            "/probe/product/SKU-00042",
        ),
        ("storefront `/`", storefront, "/"),
        (
            "storefront `/c/bakery` (24 products)",
            storefront,
            "/c/bakery",
        ),
        ("storefront `/p/{sku}`", storefront, "/p/SKU-00042"),
        ("storefront `/c/bakery`, telemetry on", traced, "/c/bakery"),
        (
            "storefront `/p/{sku}`, telemetry on",
            traced,
            "/p/SKU-00042",
        ),
    ];
    let mut cases = cases.to_vec();
    if let Some((_, address)) = &serve {
        cases.insert(
            1,
            ("trivial component (`wasmtime serve`)", *address, "/hello"),
        );
    }
    if let Some((_, address)) = &native_storefront {
        let at = cases.len() - 2;
        for (i, (name, path)) in [
            ("storefront `/` (native axum)", "/"),
            ("storefront `/c/bakery` (native axum)", "/c/bakery"),
            ("storefront `/p/{sku}` (native axum)", "/p/SKU-00042"),
        ]
        .into_iter()
        .enumerate()
        {
            cases.insert(at + i, (name, *address, path));
        }
    }
    if let Some(pair) = &spin {
        for (path, page) in [
            ("/", "`/`"),
            ("/c/bakery", "`/c/bakery`"),
            ("/p/SKU-00042", "`/p/{sku}`"),
        ] {
            cases.push(leak_case(
                format!("storefront {page} on Redis (edge node)"),
                pair.node,
                path,
            ));
            cases.push(leak_case(
                format!("storefront {page} on Redis (Spin 4.0.2)"),
                pair.spin,
                path,
            ));
        }
    }
    let only = std::env::var("BENCH_CASES").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|w| name.contains(w.trim()));
    for (name, address, path) in cases.into_iter().filter(|(name, _, _)| wanted(name)) {
        for concurrency in concurrencies() {
            let (rate, p50, p99) = rt.block_on(load(address, path, concurrency, secs));
            println!(
                "| {name} | {concurrency} | {rate:.0} | {:.2} | {:.2} |",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
    }
    for (mut child, _) in serve
        .into_iter()
        .chain(native_storefront)
        .chain(spin.map(|pair| (pair.child, pair.spin)))
    {
        let _ = child.kill();
        let _ = child.wait();
    }

    // Noisy neighbours: the trivial component's requests/s and p99 at concurrency 8 alone,
    // then while 16 clients hit a looping component and 16 a memory bomb, on a node with the
    // default limits (CPU budget, shares, quarantine).
    if wanted("noisy") {
        let limits = Limits {
            max_instances: 64,
            ..Limits::default()
        };
        let (noisy, _) = start_with(
            &rt,
            root().join("edge/tests/node/spin.toml"),
            probe_vars.clone(),
            backend.clone(),
            Telemetry::disabled(),
            limits,
        )?;
        let (alone, _, alone_p99) = rt.block_on(load(noisy, "/hello", 8, secs));
        let until = Instant::now() + Duration::from_secs(secs + 2);
        let loops = rt.spawn(noise(noisy, "/probe/loop", 16, until));
        let bombs = rt.spawn(noise(noisy, "/isolated/bomb", 16, until));
        std::thread::sleep(Duration::from_secs(1));
        let (crowded, _, crowded_p99) = rt.block_on(load(noisy, "/hello", 8, secs));
        rt.block_on(async {
            let _ = loops.await;
            let _ = bombs.await;
        });
        println!("| noisy neighbours | `/hello` req/s | p99 ms |");
        println!("|---|---|---|");
        println!(
            "| alone | {alone:.0} | {:.2} |",
            alone_p99.as_secs_f64() * 1e3
        );
        println!(
            "| while 16 loop and 16 bomb | {crowded:.0} ({:.0}%) | {:.2} ({:.1}×) |",
            crowded / alone * 100.0,
            crowded_p99.as_secs_f64() * 1e3,
            crowded_p99.as_secs_f64() / alone_p99.as_secs_f64()
        );
    }

    // Where a listing page's server time goes: its spans (node request, storefront run,
    // each dependency call) over sequential requests, from a traced storefront of its own.
    let inbox = meridian_telemetry::receiver::Inbox::default();
    let received = inbox.clone();
    let breakdown_url = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(meridian_telemetry::receiver::serve(listener, received));
        anyhow::Ok(url)
    })?;
    let telemetry = Telemetry::new("meridian-edge-breakdown", &[], Some(&breakdown_url))?;
    let (breakdown, _) = start(
        &rt,
        root().join("spin.toml"),
        store_vars,
        backend,
        telemetry.clone(),
    )?;
    for path in ["/c/bakery", "/p/SKU-00042"] {
        let before = inbox.spans().len();
        rt.block_on(load(breakdown, path, 1, secs));
        telemetry.flush();
        let mut by_name: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
        for span in inbox.spans().into_iter().skip(before) {
            by_name.entry(span.name).or_default().push(span.duration);
        }
        println!();
        println!("spans of `{path}` at concurrency 1 (telemetry on):");
        println!("| span | count | p50 µs | p99 µs |");
        println!("|---|---|---|---|");
        for (name, mut durations) in by_name {
            durations.sort();
            println!(
                "| {name} | {} | {:.0} | {:.0} |",
                durations.len(),
                durations[durations.len() / 2].as_secs_f64() * 1e6,
                durations[durations.len() * 99 / 100].as_secs_f64() * 1e6
            );
        }
    }
    Ok(())
}

/// Starts `binary` with the arguments `args` makes for a free local address, and waits
/// until it accepts connections there.
/// A case whose name is made at run time (the case table holds `&'static str`s).
fn leak_case(
    name: String,
    address: SocketAddr,
    path: &'static str,
) -> (&'static str, SocketAddr, &'static str) {
    (Box::leak(name.into_boxed_str()), address, path)
}

/// `spin up` of the storefront and a node of ours on the same manifest, both over one Redis
/// database (BENCH_REDIS_DB, default 14) flushed and seeded with the 10,000-SKU fixtures.
struct SpinPair {
    child: std::process::Child,
    spin: SocketAddr,
    node: SocketAddr,
}

fn spin_pair(
    rt: &tokio::runtime::Runtime,
    bin: &str,
    variables: &[(String, String)],
) -> anyhow::Result<SpinPair> {
    let base = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let db = std::env::var("BENCH_REDIS_DB").unwrap_or_else(|_| "14".into());
    let url = format!("{}/{db}", base.trim_end_matches('/'));
    let mut connection = redis::Client::open(url.as_str())?.get_connection()?;
    redis::cmd("FLUSHDB").query::<()>(&mut connection)?;
    let redis: Arc<dyn Backend> = Arc::new(edge::data::RedisBackend::open(&url)?);
    for (k, v) in projections::fixtures::demo_storefront(10_000) {
        redis.set(&k, &v)?;
    }
    let (node, _) = start(
        rt,
        root().join("spin.toml"),
        variables.to_vec(),
        redis,
        Telemetry::disabled(),
    )?;
    let dir = root().join("target/bench-spin");
    std::fs::create_dir_all(&dir)?;
    let runtime_config = dir.join("runtime-config.toml");
    std::fs::write(
        &runtime_config,
        format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n"),
    )?;
    let (child, spin) = spawn_server(bin, |address| {
        let mut args = vec![
            "up".to_owned(),
            "--from".to_owned(),
            root().join("spin.toml").display().to_string(),
            "--listen".to_owned(),
            address.to_string(),
            "--runtime-config-file".to_owned(),
            runtime_config.display().to_string(),
            "--log-dir".to_owned(),
            dir.join("logs").display().to_string(),
            "--state-dir".to_owned(),
            dir.join("state").display().to_string(),
        ];
        for (name, value) in variables {
            args.push("--variable".to_owned());
            args.push(format!("{name}={value}"));
        }
        args
    });
    Ok(SpinPair { child, spin, node })
}

fn spawn_server(
    binary: &str,
    args: impl FnOnce(SocketAddr) -> Vec<String>,
) -> (std::process::Child, SocketAddr) {
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let child = std::process::Command::new(binary)
        .args(args(address))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary} does not start: {e}"));
    // Spin compiles the storefront and its dependencies before it listens.
    for _ in 0..1200 {
        if std::net::TcpStream::connect(address).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, address)
}
