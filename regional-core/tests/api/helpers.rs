//! `spawn_app()`: a core for one test, on its own database and port, with a sandbox PSP
//! child process.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use region_config::RegionConfig;
use regional_core::config::{Config, MerchantToken, Secret};
use regional_core::{AppState, Workers};
use serde_json::{Value, json};
use tokio_postgres::NoTls;

pub const GROCER_TOKEN: &str = "grocer-token-0123456789abcdef";
/// The operator token the cores are started with: it creates storefronts.
pub const OPERATOR_TOKEN: &str = "operator-token-0123456789abcdef";
pub const OTHER_TOKEN: &str = "other-token-0123456789abcdef";

fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, name: &str) -> String {
    let base = url.split('?').next().unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
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
    Pool::builder(manager).max_size(4).build().unwrap()
}

/// A child process killed on drop; its stderr (kept in a file, so a chatty child never
/// blocks on a full pipe) is printed only if the test failed.
pub struct ChildGuard {
    child: Child,
    stderr: PathBuf,
    pub url: String,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
            eprintln!("--- regional-core child stderr ---\n{text}");
        }
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// Starts the sandbox PSP binary on a free port and reads its address back.
pub fn spawn_psp(args: &[&str]) -> ChildGuard {
    let mut all = vec!["psp-sandbox", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    spawn_binary(&all, &[])
}

/// Starts `regional-core ARGS` with `env`, and reads back the URL from its first line of
/// output (`... listening on URL`).
pub fn spawn_binary(args: &[&str], env: &[(&str, &str)]) -> ChildGuard {
    let stderr = std::env::temp_dir().join(format!(
        "regional-core-{}.log",
        uuid::Uuid::new_v4().simple()
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_regional-core"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("failed to start regional-core");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .split_once(" listening on ")
        .unwrap_or_else(|| panic!("unexpected output {line:?}"))
        .1
        .to_owned();
    ChildGuard { child, stderr, url }
}

/// Starts `regional-core serve` for `region` on `database_url` with the sandbox PSP at
/// `psp` and the grocer's merchant token, with `env` added to its environment.
pub fn spawn_core(region: &str, database_url: &str, psp: &str, env: &[(&str, &str)]) -> ChildGuard {
    let config = region_config_path();
    let token = format!("grocer={GROCER_TOKEN}");
    let mut all = vec![("DATABASE_URL", database_url)];
    all.extend_from_slice(env);
    spawn_binary(
        &[
            "serve",
            "--region",
            region,
            "--region-config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--psp-url",
            psp,
            "--merchant-token",
            &token,
        ],
        &all,
    )
}

/// Seeds a loaf (`EUR` 2.14) with `stock` units in `de-fra-1` at the core at `base`;
/// answers its SKU.
pub async fn seed_loaf(base: &str, stock: i32) -> String {
    let http = reqwest::Client::new();
    let loaf = sku();
    let r = http.put(format!("{base}/v1/admin/products/{loaf}")).bearer_auth(GROCER_TOKEN)
        .json(&json!({"title": "Loaf", "category": "bakery", "unit": "1", "tax_category": "food", "prices": {"EUR": 214}}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{base}/v1/admin/stock"))
        .bearer_auth(GROCER_TOKEN)
        .json(&json!({"sku": loaf, "warehouse": "de-fra-1", "delta": stock, "reason": "delivery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    loaf
}

impl ChildGuard {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the process has written to stderr (its log) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

pub struct TestApp {
    /// The test database's name, dropped with the app.
    pub db_name: String,
    pub address: String,
    pub http: reqwest::Client,
    /// The test's own database, for assertions.
    pub db: Pool,
    pub database_url: String,
    pub psp: ChildGuard,
    pub state: AppState,
    pub region: String,
    /// The SMTP receiver the core sends to, when the options asked for one.
    pub mailbox: Option<Mailbox>,
}

pub struct Options {
    pub region: &'static str,
    pub psp_args: Vec<&'static str>,
    /// PSP base URLs in failover order; empty means the test's sandbox alone.
    pub psp_urls: Vec<String>,
    pub reservation_ttl_secs: u64,
    pub redis: bool,
    /// The region's quote signing key; `None`: quotes are not checked.
    pub quote_signing_key: Option<&'static str>,
    /// Start a real SMTP receiver for the core's e-mail (`TestApp::mailbox`).
    pub mail: bool,
    /// Filled by `spawn_app` when `mail` is set.
    pub smtp_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            region: "eu-west",
            psp_args: Vec::new(),
            psp_urls: Vec::new(),
            reservation_ttl_secs: 900,
            redis: false,
            quote_signing_key: None,
            mail: false,
            smtp_url: None,
        }
    }
}

pub fn region_config_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../region-config/regions.toml")
}

/// Creates a fresh database; returns its name and URL.
pub async fn create_database() -> (String, String) {
    let server = server_url();
    let name = format!("core_test_{}", uuid::Uuid::new_v4().simple());
    pool_for(&server)
        .get()
        .await
        .expect("PostgreSQL is not reachable: start it (scripts/test does)")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = with_database(&server, &name);
    (name, url)
}

pub async fn spawn_app(mut options: Options) -> TestApp {
    let mailbox = options.mail.then(Mailbox::spawn);
    options.smtp_url = mailbox.as_ref().map(|m| m.url.clone());
    let (name, database_url) = create_database().await;
    let psp = spawn_psp(&options.psp_args);
    let psp_urls = if options.psp_urls.is_empty() {
        vec![psp.url.clone()]
    } else {
        options.psp_urls.clone()
    };
    let (state, address) = start_core(&options, &database_url, &psp_urls).await;
    TestApp {
        db_name: name,
        address,
        http: reqwest::Client::new(),
        db: pool_for(&database_url),
        database_url,
        psp,
        state,
        region: options.region.to_owned(),
        mailbox,
    }
}

/// Starts a core (in process) on `database_url`; used again to "restart" a core.
pub async fn start_core(
    options: &Options,
    database_url: &str,
    psp_urls: &[String],
) -> (AppState, String) {
    let config = Config {
        region: options.region.parse().unwrap(),
        region_config: region_config_path(),
        database_url: Secret::new(database_url),
        listen: "127.0.0.1:0".parse().unwrap(),
        psp_urls: psp_urls.to_vec(),
        merchant_tokens: vec![
            format!("grocer={GROCER_TOKEN}")
                .parse::<MerchantToken>()
                .unwrap(),
            format!("other={OTHER_TOKEN}")
                .parse::<MerchantToken>()
                .unwrap(),
        ],
        redis_url: None,
        quote_signing_key: options.quote_signing_key.map(Secret::new),
        reservation_ttl_secs: options.reservation_ttl_secs,
        db_pool_size: 16,
        otlp_endpoint: None,
        smtp_url: options.smtp_url.as_deref().map(Secret::new),
        mail_from: "Meridian Grocer <orders@grocer.test>".to_owned(),
        mail_senders: Vec::new(),
        operator_token: Some(Secret::new(OPERATOR_TOKEN)),
    };
    let regions = RegionConfig::from_path(&config.region_config).unwrap();
    let state = AppState::start(&config, regions).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let redis_url = options.redis.then(|| {
        Secret::new(
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned()),
        )
    });
    let workers = Workers {
        retention_interval: Duration::from_secs(3600),
        redis_url,
        relay_interval: Duration::from_millis(20),
        recovery_interval: Duration::from_millis(200),
        recovery_grace: Duration::from_secs(3),
        smtp: config
            .smtp_url
            .clone()
            .map(|url| regional_core::mail::SmtpConfig {
                url,
                from: config.mail_from.clone(),
                senders: Vec::new(),
                region: options.region.to_owned(),
            }),
        mail_interval: Duration::from_millis(50),
    };
    tokio::spawn(regional_core::serve(
        listener,
        state.clone(),
        workers,
        std::future::pending(),
    ));
    (state, address)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop_database(&self.db_name);
    }
}

/// Drops a test's database (on a thread of its own: `Drop` cannot await). A failed test
/// keeps its database for inspection.
pub fn drop_database(name: &str) {
    {
        if std::thread::panicking() {
            eprintln!("kept database {name} for inspection");
            return;
        }
        let name = name.to_owned();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&server_url(), NoTls).await.unwrap();
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .unwrap();
            });
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop a test database");
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Creates a product of `grocer` priced in every region's currency, with `stock` in
    /// the region's first warehouse.
    pub async fn seed(&self, sku: &str, price_minor: i64, stock: i32) {
        let prices: BTreeMap<&str, i64> = ["USD", "EUR", "INR", "BRL", "AUD"]
            .iter()
            .map(|c| (*c, price_minor))
            .collect();
        let response = self
            .http
            .put(self.url(&format!("/v1/admin/products/{sku}")))
            .bearer_auth(GROCER_TOKEN)
            .json(&json!({
                "title": format!("Sourdough loaf {sku}"), "category": "bakery", "unit": "800 g",
                "tax_category": "food", "prices": prices, "tags": ["bread"],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        if stock > 0 {
            self.adjust(sku, &self.warehouse(0), stock).await;
        }
    }

    pub fn warehouse(&self, i: usize) -> String {
        self.state.region.warehouses[i].id.to_string()
    }

    pub async fn adjust(&self, sku: &str, warehouse: &str, delta: i32) -> reqwest::Response {
        self.http
            .post(self.url("/v1/admin/stock"))
            .bearer_auth(GROCER_TOKEN)
            .json(
                &json!({"sku": sku, "warehouse": warehouse, "delta": delta, "reason": "delivery"}),
            )
            .send()
            .await
            .unwrap()
    }

    pub async fn checkout(&self, key: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/v1/checkouts"))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Rows per table of the test database: equal before and after means nothing written.
    pub async fn table_counts(&self) -> BTreeMap<String, i64> {
        let client = self.db.get().await.unwrap();
        let tables = client
            .query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                &[],
            )
            .await
            .unwrap();
        let mut counts = BTreeMap::new();
        for t in tables {
            let name: String = t.get(0);
            let n: i64 = client
                .query_one(&format!("SELECT count(*) FROM {name}"), &[])
                .await
                .unwrap()
                .get(0);
            counts.insert(name, n);
        }
        counts
    }

    /// How many rows of any table hold `needle` in any column.
    pub async fn count_everywhere(&self, needle: &str) -> i64 {
        let client = self.db.get().await.unwrap();
        let tables = client
            .query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                &[],
            )
            .await
            .unwrap();
        let mut total = 0;
        for t in tables {
            let name: String = t.get(0);
            let n: i64 = client
                .query_one(
                    &format!("SELECT count(*) FROM {name} t WHERE t::text LIKE '%' || $1 || '%'"),
                    &[&needle],
                )
                .await
                .unwrap()
                .get(0);
            total += n;
        }
        total
    }

    pub async fn stock_row(&self, sku: &str) -> (i32, i32) {
        let client = self.db.get().await.unwrap();
        let row = client
            .query_one("SELECT coalesce(sum(on_hand), 0)::int, coalesce(sum(reserved), 0)::int FROM stock WHERE sku = $1", &[&sku])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    }

    pub async fn psp_authorizations(&self) -> Vec<Value> {
        let body: Value = self
            .http
            .get(format!("{}/v1/authorizations", self.psp.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["authorizations"].as_array().unwrap().clone()
    }
}

/// A unique key of the right length.
pub fn key() -> String {
    format!("test-key-{}", uuid::Uuid::new_v4().simple())
}

pub fn sku() -> String {
    format!("SKU-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A checkout body for a shopper of `country` buying `quantity` of `sku` in `currency`.
pub fn checkout_body(
    country: &str,
    currency: &str,
    sku: &str,
    quantity: i64,
    token: &str,
) -> Value {
    let postal_code = shopper_input::Country::parse(country)
        .map(shopper_input::PostalCode::example)
        .unwrap_or_default();
    json!({
        "storefront": "grocer",
        "currency": currency,
        "lines": [{"sku": sku, "quantity": quantity}],
        "shopper": {
            "email": "ada@example.org",
            "name": "Ada Lovelace",
            "country": country,
            "address": {"line1": "1 Market Street", "city": "Berlin", "postal_code": postal_code, "country": country},
        },
        "payment": {"method": "card", "token": token},
    })
}

/// A real SMTP receiver (Debian's `python3-aiosmtpd`) keeping every message in a maildir;
/// killed with its folder on drop.
pub struct Mailbox {
    child: Child,
    pub dir: PathBuf,
    pub url: String,
}

impl Mailbox {
    pub fn spawn() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("meridian-mail-{}", uuid::Uuid::new_v4().simple()));
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd is installed (scripts/test installs it)");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the SMTP receiver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            dir,
            url: format!("smtp://127.0.0.1:{port}"),
        }
    }

    /// Every message received so far, raw.
    pub fn messages(&self) -> Vec<String> {
        regional_core::audit::maildir_messages(&self.dir)
            .unwrap_or_default()
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect()
    }

    /// Waits up to 10 s for a message to `to` holding `needle`.
    pub async fn wait_for(&self, to: &str, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(m) = self
                .messages()
                .into_iter()
                .find(|m| m.contains(&format!("To: {to}")) && m.contains(needle))
            {
                return m;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no message to {to} with {needle:?}; received: {:#?}",
                self.messages()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The confirmation code mailed to `to`.
    pub async fn code_for(&self, to: &str) -> String {
        let message = self.wait_for(to, "Your confirmation code: ").await;
        regional_core::audit::confirmation_code(&message).expect("a code in the message")
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
