//! `edge`: Meridian's edge node.
//!
//! ```text
//! edge up --manifest spin.toml --listen 127.0.0.1:3000 --regions region-config/regions.toml
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use edge::app::{App, AppOptions};
use edge::data::KeyValue;
use edge::region::{DEFAULT_COUNTRY_HEADER, RegionRouting};
use edge::runtime::{Limits, Runtime};
use edge::server::{HEALTH_PATH, Node};
use region_config::RegionConfig;

#[derive(Debug, Parser)]
#[command(
    name = "edge",
    about = "Meridian's edge node: runs the components of a spin.toml"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the application's HTTP routes.
    Up(Up),
}

#[derive(Debug, clap::Args)]
struct Up {
    /// The application manifest (Spin manifest version 2).
    #[arg(long, default_value = "spin.toml")]
    manifest: PathBuf,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:3000", env = "MERIDIAN_EDGE_LISTEN")]
    listen: SocketAddr,
    /// Spin runtime configuration: key-value stores (`redis`, `spin`) and variables
    /// providers (`env` with `prefix` and `dotenv_path`, `static`).
    #[arg(long)]
    runtime_config: Option<PathBuf>,
    /// Keep the `default` key-value store on this Redis server instead of in memory.
    #[arg(long, env = "MERIDIAN_EDGE_REDIS_URL")]
    redis_url: Option<String>,
    /// The compliance-owned region configuration.
    #[arg(
        long,
        default_value = "region-config/regions.toml",
        env = "MERIDIAN_REGIONS"
    )]
    regions: PathBuf,
    /// The CDN header carrying the shopper's country (ISO 3166 alpha-2).
    #[arg(long, default_value = DEFAULT_COUNTRY_HEADER)]
    country_header: String,
    /// An application variable, `NAME=VALUE` (repeatable; beats SPIN_VARIABLE_NAME).
    #[arg(long = "variable", value_parser = parse_variable)]
    variables: Vec<(String, String)>,
    /// The most one instance's linear memory may grow to, in MiB.
    #[arg(long, default_value_t = 64)]
    memory_limit_mib: usize,
    /// How long one request may run, in milliseconds, waiting included.
    #[arg(long, default_value_t = 5000)]
    deadline_ms: u64,
    /// How much CPU time one request's guests may use, in milliseconds (waiting on the
    /// network or a store does not count).
    #[arg(long, default_value_t = 50)]
    cpu_budget_ms: u64,
    /// A component's own CPU budget, `ID=MS` (repeatable; its dependencies share it).
    #[arg(long = "component-cpu-budget", value_parser = parse_budget)]
    component_cpu_budgets: Vec<(String, u64)>,
    /// The largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: u64,
    /// How many requests may run at once; more get a fast 503.
    #[arg(long, default_value_t = 64)]
    max_instances: usize,
    /// The most of those one component may hold at once, in percent; more get a fast 503.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u8).range(1..=100))]
    component_share_percent: u8,
    /// A component that hits its CPU budget or memory cap this many times within 10 s runs
    /// one request at a time, at most one a second, for the next `--quarantine-secs`.
    #[arg(long, default_value_t = 5)]
    quarantine_after: usize,
    /// How long a quarantine lasts, in seconds.
    #[arg(long, default_value_t = 30)]
    quarantine_secs: u64,
    /// Where compiled components are cached (default: `target/edge-cache` beside the manifest).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Export traces and metrics over OTLP/HTTP to this collector (e.g.
    /// `http://127.0.0.1:4318`); off when unset.
    #[arg(long, env = meridian_telemetry::ENDPOINT_VAR)]
    otlp_endpoint: Option<String>,
    /// Extra roots for outbound `https` (a PEM file: the private CA of the regional cores'
    /// certificates); the machine's trust store is always used.
    #[arg(long, env = "MERIDIAN_EDGE_CA_CERT")]
    ca_cert: Option<PathBuf>,
}

fn parse_budget(value: &str) -> Result<(String, u64), String> {
    let (id, ms) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not ID=MS"))?;
    let ms = ms
        .parse()
        .map_err(|_| format!("{value:?}: {ms:?} is not a number of milliseconds"))?;
    Ok((id.to_owned(), ms))
}

fn parse_variable(value: &str) -> Result<(String, String), String> {
    value
        .split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{value:?} is not NAME=VALUE"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        // Colour only on a terminal: `scripts/up` writes the log to a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .init();
    let Command::Up(up) = Cli::parse().command;
    up.run().await
}

impl Up {
    async fn run(self) -> anyhow::Result<()> {
        let started = Instant::now();
        let regions = RegionConfig::from_path(&self.regions)
            .map_err(|e| anyhow::anyhow!("{}", e.render(&self.regions.display().to_string())))?
            .with_core_url_overrides(|k| std::env::var(k).ok())
            .map_err(|p| anyhow::anyhow!("{p}"))?;
        let regions = RegionRouting::new(regions, &self.country_header)?;
        let limits = Limits {
            memory_bytes: self.memory_limit_mib << 20,
            deadline: Duration::from_millis(self.deadline_ms),
            cpu: Duration::from_millis(self.cpu_budget_ms),
            cpu_per_component: self
                .component_cpu_budgets
                .iter()
                .map(|(id, ms)| (id.clone(), Duration::from_millis(*ms)))
                .collect(),
            body_bytes: self.max_body_bytes,
            max_instances: self.max_instances,
            shares: edge::share::ShareLimits {
                share: f64::from(self.component_share_percent) / 100.0,
                quarantine_after: self.quarantine_after,
                quarantine_for: Duration::from_secs(self.quarantine_secs),
                ..edge::share::ShareLimits::default()
            },
        };
        let cache = self.cache_dir.clone().unwrap_or_else(|| {
            self.manifest
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .join("target/edge-cache")
        });
        let runtime = Runtime::with_limits(limits.clone(), Some(cache.clone()))?;
        let key_value = match &self.redis_url {
            Some(url) => KeyValue::Redis(url.clone()),
            None => KeyValue::Memory,
        };
        let options = AppOptions {
            manifest: self.manifest.clone(),
            variables: self.variables.clone(),
            // `SPIN_VARIABLE_*`, and what `env` variables providers read.
            environment: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            runtime_config: self.runtime_config.clone(),
            key_value,
        }
        .with_regions(&regions.config);
        let app = App::load(&runtime, &options)
            .with_context(|| format!("failed to load {}", self.manifest.display()))?;
        app.check_regions(&regions.config)
            .with_context(|| format!("{}", self.regions.display()))?;
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("failed to listen on {}", self.listen))?;
        let address = listener.local_addr()?;

        println!(
            "edge: application {:?} from {} ({} components, loaded in {} ms; compiled cache in {})",
            app.name,
            self.manifest.display(),
            app.components.len(),
            started.elapsed().as_millis(),
            cache.display()
        );
        let mut ids: Vec<&String> = app.components.keys().collect();
        ids.sort();
        for id in ids {
            let c = &app.components[id];
            println!(
                "  component {id}: {}{}",
                match &c.http {
                    Some(handler) => format!("http ({handler:?})"),
                    None => "library".to_owned(),
                },
                if c.allowed.is_empty() {
                    String::new()
                } else {
                    format!(", outbound {:?}", c.allowed)
                }
            );
        }
        for (route, component) in app.router.routes() {
            println!("  route {route} -> {component}");
        }
        for component in app.router.private() {
            println!("  private route -> {component} (http://{component}.spin.internal)");
        }
        println!(
            "  key-value default store: {}",
            if self.redis_url.is_some() {
                "Redis"
            } else {
                "in memory"
            }
        );
        println!(
            "  limits: {} MiB memory, {} ms per request, {} bytes of body, {} instances at once",
            self.memory_limit_mib, self.deadline_ms, self.max_body_bytes, self.max_instances
        );
        let telemetry = meridian_telemetry::Telemetry::new(
            "meridian-edge",
            &[],
            self.otlp_endpoint.as_deref(),
        )?;
        println!(
            "  telemetry: {}",
            match self
                .otlp_endpoint
                .as_deref()
                .filter(|_| telemetry.is_enabled())
            {
                Some(endpoint) => format!("traces and metrics over OTLP to {endpoint}"),
                None => "off (set OTEL_EXPORTER_OTLP_ENDPOINT to export)".to_owned(),
            }
        );
        println!(
            "edge: listening on http://{address} (health: http://{address}{HEALTH_PATH}); Ctrl-C stops"
        );

        let tls = match &self.ca_cert {
            Some(path) => edge::host::outbound::Tls::with_extra_roots(path)?,
            None => edge::host::outbound::Tls::default(),
        };
        let options = edge::server::NodeOptions {
            telemetry: telemetry.clone(),
            tls,
        };
        let node = Node::with_options(runtime, app, regions, options);
        node.serve(listener, shutdown_signal()).await?;
        telemetry.shutdown();
        println!("edge: stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return interrupt.await.unwrap_or(()),
            };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
