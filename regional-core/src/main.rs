//! `regional-core`: serve one region's core, or run the sandbox PSP.

use anyhow::Context;
use clap::{Parser, Subcommand};
use region_config::RegionConfig;
use regional_core::{AppState, config::Config, psp_sandbox};

/// Meridian's regional core.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve one region: checkout, inventory, payments, orders, merchant API.
    Serve(Config),
    /// Run the sandbox payment service provider.
    PspSandbox(psp_sandbox::SandboxConfig),
    /// Load the demo grocery (deterministic products, stock, synthetic orders) into a
    /// running core through its merchant and checkout APIs.
    DemoSeed(DemoSeed),
}

#[derive(Debug, clap::Args)]
struct DemoSeed {
    /// The core's base URL.
    #[arg(long)]
    core_url: String,
    /// The region the core serves.
    #[arg(long)]
    region: region_config::RegionId,
    /// The region config file.
    #[arg(long, default_value = region_config::DEFAULT_PATH)]
    region_config: std::path::PathBuf,
    /// The `grocer` storefront's merchant token.
    #[arg(long, env = "MERIDIAN_DEMO_TOKEN")]
    token: String,
    /// The generator's seed: the same seed gives the same catalogue.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How many products.
    #[arg(long, default_value_t = 2_000)]
    products: usize,
    /// How many synthetic orders (they train the recommendation model).
    #[arg(long, default_value_t = 60)]
    orders: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(config) => {
            let regions = RegionConfig::from_path(&config.region_config)
                .map_err(|e| {
                    anyhow::anyhow!("{}", e.render(&config.region_config.display().to_string()))
                })
                .context("failed to load the region config")?
                .with_core_url_overrides(|k| std::env::var(k).ok())
                .context("failed to apply core URL overrides")?;
            let state = AppState::start(&config, regions).await?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("failed to listen on {}", config.listen))?;
            let address = listener.local_addr()?;
            println!(
                "regional-core {} listening on http://{address}",
                config.region
            );
            let workers = regional_core::Workers::new(config.redis_url.clone());
            regional_core::serve(listener, state, workers, shutdown()).await
        }
        Command::DemoSeed(args) => {
            let regions = RegionConfig::from_path(&args.region_config).map_err(|e| {
                anyhow::anyhow!("{}", e.render(&args.region_config.display().to_string()))
            })?;
            let region = regions
                .region(&args.region)
                .with_context(|| format!("region {} is not in the region config", args.region))?;
            regional_core::demo::seed(
                &args.core_url,
                &args.token,
                region,
                args.seed,
                args.products,
                args.orders,
            )
            .await
        }
        Command::PspSandbox(config) => {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("failed to listen on {}", config.listen))?;
            println!("psp-sandbox listening on http://{}", listener.local_addr()?);
            psp_sandbox::serve(listener, config, shutdown())
                .await
                .context("sandbox failed")
        }
    }
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
