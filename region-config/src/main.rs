//! `region-config`: the compliance staff's command for `regions.toml`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use region_config::{CountryCode, LoadError, RegionConfig};

/// Check, explain and list Meridian's region pinning config.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The config file.
    #[arg(long, global = true, env = "MERIDIAN_REGION_CONFIG", default_value = region_config::DEFAULT_PATH)]
    file: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a file; prints every problem with its line and column, exits 1 if any.
    Check {
        /// The file to check (default: --file).
        path: Option<PathBuf>,
    },
    /// Explain where shoppers from a country are served and where their data is kept.
    Explain {
        /// ISO 3166-1 alpha-2 country code, e.g. DE.
        country: String,
    },
    /// The storefront's view of the regions as JSON: the value of the edge application's
    /// `region_config` variable (`SPIN_VARIABLE_REGION_CONFIG` on Spin).
    StorefrontView,
    /// One line per region.
    List {
        /// Tab-separated `id`, `currency`, `core_url` and comma-separated warehouse ids, for
        /// scripts.
        #[arg(long)]
        plain: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { path } => {
            let path = path.unwrap_or(cli.file);
            match load(&path) {
                Ok(config) => {
                    println!(
                        "{}: ok ({} regions, fallback {})",
                        path.display(),
                        config.regions().len(),
                        config.fallback().id
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprint!("{}", error.render(&path.display().to_string()));
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Explain { country } => {
            let country: CountryCode = country.parse().context("failed to read the country")?;
            let config = load_or_report(&cli.file)?;
            print!("{}", region_config::explain(&config, country));
            Ok(ExitCode::SUCCESS)
        }
        Command::StorefrontView => {
            let config = load_or_report(&cli.file)?;
            println!(
                "{}",
                region_config::storefront::StorefrontView::of(&config).to_json()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::List { plain } => {
            let config = load_or_report(&cli.file)?;
            if plain {
                for region in config.regions() {
                    let url = region.core_url.as_ref().map_or("-", |u| u.as_str());
                    let warehouses: Vec<&str> =
                        region.warehouses.iter().map(|w| w.id.as_str()).collect();
                    println!(
                        "{}\t{}\t{url}\t{}",
                        region.id,
                        region.currency,
                        warehouses.join(",")
                    );
                }
            } else {
                print!("{}", region_config::list(&config));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(path: &std::path::Path) -> Result<RegionConfig, LoadError> {
    RegionConfig::from_path(path)?
        .with_core_url_overrides(|key| std::env::var(key).ok())
        .map_err(LoadError::Override)
}

fn load_or_report(path: &std::path::Path) -> anyhow::Result<RegionConfig> {
    load(path).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a valid region config; run `region-config check`:\n{}",
            path.display(),
            e.render(&path.display().to_string()).trim_end()
        )
    })
}
