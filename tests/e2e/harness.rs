//! Starts the parts: one regional core per region asked for (in process, each on its own
//! database, relaying to a Redis database of this test binary's own), the sandbox PSP, and
//! an edge node serving the real `spin.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use edge::app::{App, AppOptions};
use edge::data::KeyValue;
use edge::region::{DEFAULT_COUNTRY_HEADER, RegionRouting};
use edge::runtime::{Limits, Runtime};
use edge::server::{Node, NodeOptions};
use meridian_telemetry::Telemetry;
use meridian_telemetry::receiver::Inbox;
use region_config::RegionConfig;
use regional_core::config::{Config, MerchantToken, Secret};
use regional_core::{AppState, Workers};
use serde_json::{Value, json};
use tokio_postgres::NoTls;

pub const GROCER_TOKEN: &str = "grocer-token-0123456789abcdef";
/// The operator token the cores are started with: it creates storefronts.
pub const OPERATOR_TOKEN: &str = "operator-token-0123456789abcdef";
/// The second storefront's merchant token (the Spin conformance walk shops there, so the
/// other tests' products never change its pages mid-walk).
pub const CORNER_TOKEN: &str = "corner-token-0123456789abcdef";
pub const QUOTE_KEY: &str = "e2e-quote-signing-key";
/// This binary's Redis database: the relay writes real region keys, so no other test may
/// share it.
pub const REDIS_DB: u8 = 9;

/// The region ids of the shipped region config, in its order.
pub fn region_ids() -> Vec<String> {
    RegionConfig::from_path(&root().join("region-config/regions.toml"))
        .unwrap()
        .regions()
        .iter()
        .map(|r| r.id.as_str().to_owned())
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn redis_url() -> String {
    let base = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    format!("{}/{REDIS_DB}", base.trim_end_matches('/'))
}

fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub fn pool_for(url: &str) -> Pool {
    let config: tokio_postgres::Config = url.parse().unwrap();
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager).max_size(2).build().unwrap()
}

/// A runtime alive for the whole binary: the cores, the PSP and the node run on it.
fn background() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn on_background<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    background().spawn(async move {
        let _ = sender.send(future.await);
    });
    receiver.recv().unwrap()
}

/// One regional core.
pub struct Core {
    pub region: String,
    pub url: String,
    pub database_url: String,
    pub telemetry: Telemetry,
    /// The maildir of the SMTP receiver this core sends its shoppers' e-mail to.
    pub mailbox: PathBuf,
}

/// Starts a real SMTP receiver (Debian's `python3-aiosmtpd`) keeping messages in a fresh
/// maildir, which dies with this test process; answers its URL and the maildir.
pub fn spawn_mailbox() -> (String, PathBuf) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!(
        "meridian-e2e-mail-{}",
        uuid::Uuid::new_v4().simple()
    ));
    // A watchdog shell: the receiver is killed when the test process is gone.
    let script = format!(
        "/usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:{port} -c aiosmtpd.handlers.Mailbox '{}' & child=$!; \
         while kill -0 $PPID 2>/dev/null; do sleep 1; done; kill $child",
        dir.display()
    );
    let mut watchdog = std::process::Command::new("sh")
        .args(["-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sh runs");
    std::thread::spawn(move || watchdog.wait());
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the SMTP receiver did not start: is python3-aiosmtpd installed? (scripts/test installs it)"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (format!("smtp://127.0.0.1:{port}"), dir)
}

/// Everything started, once per test binary.
pub struct World {
    pub cores: BTreeMap<String, Core>,
    /// The sandbox PSP every core pays through.
    pub psp: String,
    pub otlp_url: String,
    pub edge: String,
    pub edge_telemetry: Telemetry,
    /// What the OTLP receiver has been sent by the node and the cores.
    pub otlp: Inbox,
    /// Everything the node and the cores logged (JSON lines).
    pub logs: LogBuffer,
}

/// The log lines of every part running in this test binary.
#[derive(Clone, Default)]
pub struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// A core of `region`, reading its regions from `regions_file`, on a fresh database.
pub async fn start_core(region: &str, regions_file: &Path, psp: &str, otlp: &str) -> Core {
    let name = format!(
        "e2e_{}_{}",
        region.replace('-', "_"),
        uuid::Uuid::new_v4().simple()
    );
    pool_for(&server_url())
        .get()
        .await
        .expect("PostgreSQL is not reachable: start it (scripts/test does)")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = server_url();
    let (prefix, _) = base.split('?').next().unwrap().rsplit_once('/').unwrap();
    let database_url = format!("{prefix}/{name}");
    let (smtp_url, mailbox) = spawn_mailbox();
    let config = Config {
        region: region.parse().unwrap(),
        region_config: regions_file.to_path_buf(),
        database_url: Secret::new(&database_url),
        listen: "127.0.0.1:0".parse().unwrap(),
        psp_urls: vec![psp.to_owned()],
        merchant_tokens: vec![
            format!("grocer={GROCER_TOKEN}")
                .parse::<MerchantToken>()
                .unwrap(),
            format!("corner={CORNER_TOKEN}")
                .parse::<MerchantToken>()
                .unwrap(),
        ],
        redis_url: Some(Secret::new(redis_url())),
        quote_signing_key: Some(Secret::new(QUOTE_KEY)),
        reservation_ttl_secs: 900,
        db_pool_size: 8,
        otlp_endpoint: Some(otlp.to_owned()),
        smtp_url: Some(Secret::new(&smtp_url)),
        mail_from: "Meridian <no-reply@meridian.invalid>".to_owned(),
        mail_senders: Vec::new(),
        operator_token: Some(Secret::new(OPERATOR_TOKEN)),
    };
    let regions = RegionConfig::from_path(&config.region_config).unwrap();
    let state = AppState::start(&config, regions).await.unwrap();
    let telemetry = state.observe.telemetry().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // The production workers (relay every 50 ms): the stock latency bench measures them.
    let mut workers = Workers::new(config.redis_url.clone());
    workers.smtp = config
        .smtp_url
        .clone()
        .map(|url| regional_core::mail::SmtpConfig {
            url,
            from: config.mail_from.clone(),
            senders: Vec::new(),
            region: region.to_owned(),
        });
    tokio::spawn(regional_core::serve(
        listener,
        state,
        workers,
        std::future::pending(),
    ));
    Core {
        region: region.to_owned(),
        url,
        database_url,
        telemetry,
        mailbox,
    }
}

/// The cores (eu-west and us-east), the PSP and the edge node, started once.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        // Every part logs as in production (JSON, info), into one buffer the residency
        // test searches.
        let logs = LogBuffer::default();
        tracing_subscriber::fmt()
            .json()
            .with_writer(logs.clone())
            .with_env_filter("info,wasmtime=warn,cranelift=warn")
            .try_init()
            .expect("no other log subscriber in the e2e binary");
        guest_build::build_all().unwrap();
        // A clean Redis database for this run's projections.
        let mut redis = redis::Client::open(redis_url())
            .unwrap()
            .get_connection()
            .expect("Redis is not reachable: start it (scripts/test does)");
        let _: () = redis::cmd("FLUSHDB").query(&mut redis).unwrap();
        let otlp = Inbox::default();
        let otlp_url = on_background({
            let otlp = otlp.clone();
            async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let url = format!("http://{}", listener.local_addr().unwrap());
                tokio::spawn(meridian_telemetry::receiver::serve(listener, otlp));
                url
            }
        });
        let otlp_for_cores = otlp_url.clone();
        let (cores, psp) = on_background(async move {
            let otlp_url = otlp_for_cores;
            let psp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let psp = format!("http://{}", psp_listener.local_addr().unwrap());
            let sandbox = regional_core::psp_sandbox::SandboxConfig {
                listen: psp_listener.local_addr().unwrap(),
                fail_after_commit_percent: 0,
                slow_ms: 5_000,
            };
            tokio::spawn(regional_core::psp_sandbox::serve(
                psp_listener,
                sandbox,
                std::future::pending(),
            ));
            let mut cores = BTreeMap::new();
            let shipped = root().join("region-config/regions.toml");
            for region in ["eu-west", "us-east"] {
                let core = start_core(region, &shipped, &psp, &otlp_url).await;
                // The demo's two storefronts get their hosts and themes as `scripts/up`
                // gives them: through the merchant API, published by the relay.
                let http = reqwest::Client::new();
                for (storefront, token) in [
                    (regional_core::demo::STOREFRONTS[0], GROCER_TOKEN),
                    (regional_core::demo::STOREFRONTS[1], CORNER_TOKEN),
                ] {
                    regional_core::demo::set_up_storefront(
                        &http,
                        &core.url,
                        None,
                        token,
                        &storefront,
                    )
                    .await
                    .unwrap();
                    for host in storefront.hosts {
                        wait_for_edge_key(
                            &projections::keys::host(region, host),
                            &format!("\"storefront\":\"{}\"", storefront.id),
                        )
                        .await;
                    }
                }
                cores.insert(region.to_owned(), core);
            }
            (cores, psp)
        });
        let edge_telemetry = Telemetry::new("meridian-edge", &[], Some(&otlp_url)).unwrap();
        let edge = start_edge(
            &root().join("spin.toml"),
            &cores,
            &root().join("region-config/regions.toml"),
            &[],
            edge_telemetry.clone(),
        )
        .unwrap();
        World {
            cores,
            psp,
            otlp_url,
            edge,
            edge_telemetry,
            otlp,
            logs,
        }
    })
}

/// An edge node serving `manifest` (the real `spin.toml`, or one generated from it) over
/// this run's Redis and `cores`, with its regions from `regions_file`, a quote key for each
/// of them, and `extra` variables (beating the node's own); answers its URL, or why it
/// refused to start.
pub fn start_edge(
    manifest: &Path,
    cores: &BTreeMap<String, Core>,
    regions_file: &Path,
    extra: &[(String, String)],
    telemetry: Telemetry,
) -> anyhow::Result<String> {
    let regions = RegionConfig::from_path(regions_file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut variables: Vec<(String, String)> = regions
        .regions()
        .iter()
        .map(|r| {
            (
                format!("quote_signing_key_{}", r.id.as_str().replace('-', "_")),
                QUOTE_KEY.to_owned(),
            )
        })
        .collect();
    for core in cores.values() {
        variables.push((
            format!("core_url_{}", core.region.replace('-', "_")),
            core.url.clone(),
        ));
    }
    variables.extend(extra.iter().cloned());
    let runtime = Runtime::with_limits(
        Limits::default(),
        Some(root().join("target/edge-cache-tests")),
    )?;
    let options = AppOptions {
        manifest: manifest.to_path_buf(),
        variables,
        environment: BTreeMap::new(),
        runtime_config: None,
        key_value: KeyValue::Redis(redis_url()),
    };
    let app = App::load(&runtime, &options.with_regions(&regions))?;
    app.check_regions(&regions)?;
    let node = Node::with_options(
        runtime,
        app,
        RegionRouting::new(regions, DEFAULT_COUNTRY_HEADER)?,
        NodeOptions {
            telemetry,
            ..NodeOptions::default()
        },
    );
    Ok(on_background(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(node.serve(listener, std::future::pending()));
        url
    }))
}

impl World {
    pub fn core(&self, region: &str) -> &Core {
        &self.cores[region]
    }

    /// Exports every span and metric the node and the cores have recorded so far.
    pub async fn flush_telemetry(&self) {
        let mut all = vec![self.edge_telemetry.clone()];
        all.extend(self.cores.values().map(|c| c.telemetry.clone()));
        tokio::task::spawn_blocking(move || all.iter().for_each(Telemetry::flush))
            .await
            .unwrap();
    }
}

/// Creates (or replaces) a product of `grocer` at `core`, priced in every region's
/// currency, and moves `stock` units into (or, negative, out of) `warehouse`.
pub async fn seed(core: &Core, product: &Value, stock: i32, warehouse: &str) {
    seed_as(core, GROCER_TOKEN, product, stock, warehouse).await;
}

/// Like [`seed`], for the storefront whose merchant token is `token`.
pub async fn seed_as(core: &Core, token: &str, product: &Value, stock: i32, warehouse: &str) {
    let http = reqwest::Client::new();
    let sku = product["sku"].as_str().unwrap();
    let mut body = product.clone();
    body.as_object_mut().unwrap().remove("sku");
    let response = http
        .put(format!("{}/v1/admin/products/{sku}", core.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    if stock != 0 {
        let response = http
            .post(format!("{}/v1/admin/stock", core.url))
            .bearer_auth(token)
            .json(
                &json!({"sku": sku, "warehouse": warehouse, "delta": stock, "reason": "delivery"}),
            )
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }
}

/// A grocery product priced alike in every currency.
pub fn product(sku: &str, title: &str, category: &str, price: i64, tags: &[&str]) -> Value {
    let prices: BTreeMap<&str, i64> = ["USD", "EUR", "INR", "BRL", "AUD"]
        .iter()
        .map(|c| (*c, price))
        .collect();
    json!({
        "sku": sku,
        "title": title,
        "description": format!("{title}, fresh from our {category} aisle."),
        "category": category,
        "unit": "1 piece",
        "tax_category": "food",
        "prices": prices,
        "tags": tags,
    })
}

/// Waits until `url` (an edge page) answers 200 and contains `needle`: the relay has
/// published what a test just seeded.
pub async fn until_published(url: &str, headers: &[(&str, &str)], needle: &str) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let mut request = http.get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        if status == 200 && text.contains(needle) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{url} never showed {needle:?}: {status} {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A shopper's browser: keeps cookies, does not follow redirects, sends a country.
pub struct Shopper {
    pub http: reqwest::Client,
    pub base: String,
    pub country: &'static str,
    /// The `Host` to send (which storefront), when not the base URL's.
    pub host: Option<&'static str>,
}

impl Shopper {
    pub fn new(base: &str, country: &'static str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            country,
            host: None,
        }
    }

    /// The same shopper on the storefront served at `host`.
    pub fn on_host(mut self, host: &'static str) -> Self {
        self.host = Some(host);
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-meridian-country", self.country);
        match self.host {
            Some(host) => request.header("host", host),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Posts a form; answers the status, the `Location` header and the body.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let response = self
            .request(reqwest::Method::POST, path)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (status, location, response.text().await.unwrap())
    }
}

/// The account confirmation code a core mailed to `to`, from its receiver's maildir.
pub async fn mailed_code(mailbox: &Path, to: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let code = regional_core::audit::maildir_messages(mailbox)
            .unwrap_or_default()
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .find(|m| m.contains(&format!("To: {to}")))
            .and_then(|m| regional_core::audit::confirmation_code(&m));
        if let Some(code) = code {
            return code;
        }
        assert!(
            Instant::now() < deadline,
            "no code for {to} in {}",
            mailbox.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the hidden input `name` in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Counts the values of every text column of every table of a core's database that hold
/// `needle` (the residency audit's search).
pub async fn count_in_database(database_url: &str, needle: &str) -> usize {
    regional_core::audit::database_texts(database_url)
        .await
        .unwrap()
        .iter()
        .filter(|t| t.contains(needle))
        .count()
}

/// Counts keys and values in this binary's Redis database holding `needle`.
pub async fn count_in_edge_store(needle: &str) -> usize {
    use regional_core::audit::holds;
    regional_core::audit::edge_store_entries(&redis_url())
        .await
        .unwrap()
        .iter()
        .filter(|(k, v)| holds(k, needle) || holds(v, needle))
        .count()
}

/// Waits until the edge store's `key` holds `needle` (the relay has published it).
pub async fn wait_for_edge_key(key: &str, needle: &str) {
    let started = Instant::now();
    let mut redis = redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    loop {
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut redis)
            .await
            .unwrap();
        if value.is_some_and(|v| String::from_utf8_lossy(&v).contains(needle)) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{key} never held {needle:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Gives the Corner Shop's `warehouse` at `core` its delivery: all of `country`, and every
/// day the `windows` (start, end, capacity, fee in minor units), local to `time_zone`, three
/// days ahead.
pub async fn corner_delivers(
    core: &Core,
    warehouse: &str,
    country: &str,
    time_zone: &str,
    windows: &[(&str, &str, i32, i64)],
) {
    let windows: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .flat_map(|day| {
            windows.iter().map(move |(start, end, capacity, fee)| {
                json!({"day": day, "start": start, "end": end, "capacity": capacity, "fee_minor": fee})
            })
        })
        .collect();
    let http = reqwest::Client::new();
    for (path, body) in [
        ("zones", json!({"zones": [{"country": country}]})),
        (
            "slot-template",
            json!({"time_zone": time_zone, "days_ahead": 3, "windows": windows}),
        ),
    ] {
        let r = http
            .put(format!(
                "{}/v1/admin/warehouses/{warehouse}/{path}",
                core.url
            ))
            .bearer_auth(CORNER_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
}

/// The Corner Shop's slots at `core`, as its merchant sees them (with counts; started ones
/// too, marked `started`).
pub async fn corner_slots(core: &Core) -> Vec<Value> {
    let listed: Value = reqwest::Client::new()
        .get(format!("{}/v1/admin/slots", core.url))
        .bearer_auth(CORNER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed["slots"].as_array().unwrap().clone()
}

/// Prints a freshness benchmark's figures: `what` (e.g. "stock change to product page"),
/// then p50, p90, p99 and max of `samples`, in milliseconds.
// The freshness benchmarks' (tests/benches/*_latency.rs, which include this file).
#[allow(dead_code)]
pub fn print_latencies(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: usize| ms(samples[(samples.len() * q / 100).min(samples.len() - 1)]);
    println!(
        "{what}, {} changes: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        samples.len(),
        at(50),
        at(90),
        at(99),
        ms(samples[samples.len() - 1]),
    );
}
