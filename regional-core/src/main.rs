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
