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
    /// Rewrites the per-region parts of the edge application's manifest (between its
    /// `# BEGIN region-config: …` and `# END region-config: …` lines) from the config, as
    /// read without environment overrides.
    SpinManifest {
        /// The manifest, e.g. spin.toml.
        path: PathBuf,
        /// Change nothing; exit 1 if the manifest is not what the config generates.
        #[arg(long)]
        check: bool,
    },
    /// What changing OLD into NEW does: regions, countries moving home, pinning, currencies,
    /// taxes, core URLs, warehouses, edge caching. Marks what needs a human decision; exits
    /// 1 when anything does, 2 when a file is invalid.
    Diff { old: PathBuf, new: PathBuf },
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
        Command::SpinManifest { path, check } => {
            let config = RegionConfig::from_path(&cli.file)
                .map_err(|e| anyhow::anyhow!("{}", e.render(&cli.file.display().to_string())))?;
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            let generated = region_config::spin_manifest::apply(&text, &config)
                .with_context(|| path.display().to_string())?;
            if generated == text {
                println!("{}: up to date with {}", path.display(), cli.file.display());
                return Ok(ExitCode::SUCCESS);
            }
            if check {
                eprintln!(
                    "{}: its per-region parts differ from what {} generates; run `region-config spin-manifest {}`",
                    path.display(),
                    cli.file.display(),
                    path.display()
                );
                return Ok(ExitCode::FAILURE);
            }
            std::fs::write(&path, generated)
                .with_context(|| format!("failed to write {}", path.display()))?;
            println!("{}: rewritten from {}", path.display(), cli.file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { old, new } => {
            let (old_config, new_config) = (load_or_report(&old)?, load_or_report(&new)?);
            let changes = region_config::diff::diff(&old_config, &new_config);
            for change in &changes {
                println!("{change}");
            }
            let decisions = changes.iter().filter(|c| c.decision.is_some()).count();
            println!(
                "{} -> {}: {} changes, {decisions} needing a decision",
                old.display(),
                new.display(),
                changes.len()
            );
            Ok(if decisions == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
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
