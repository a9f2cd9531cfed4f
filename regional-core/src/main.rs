//! `regional-core`: serve one region's core, or run the sandbox PSP.

use std::collections::BTreeMap;

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
    /// The residency proof: check out one canary shopper per region through the edge, then
    /// search every region's database, the edge key-value store, the logs and the exported
    /// spans and every region's mail for each canary; its erasure round signs canaries up,
    /// has them buy, then erases them. Prints a report; exits 1 unless every canary is
    /// found only in its home region's database, and every erased one nowhere.
    Audit(Audit),
    /// Answer a data-subject request for compliance staff: export or erase everything a
    /// region's core holds under an e-mail address (accounts and guest orders alike).
    #[command(subcommand)]
    Privacy(Privacy),
    /// Receive OTLP/HTTP traces and metrics and append the raw payloads to a file (what
    /// `scripts/up` exports to, so `audit` can search the spans).
    OtlpSink(OtlpSink),
}

#[derive(Debug, clap::Args)]
struct Audit {
    /// The edge node's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    edge_url: String,
    /// The region config file.
    #[arg(long, default_value = region_config::DEFAULT_PATH)]
    region_config: std::path::PathBuf,
    /// A region's database, `REGION=DATABASE_URL` (repeat for every region).
    #[arg(long = "database", value_parser = regional_core::audit::parse_database, required = true)]
    databases: Vec<(region_config::RegionId, String)>,
    /// The edge key-value store's Redis URL.
    #[arg(long)]
    edge_store: String,
    /// A log file of a process to search (repeatable).
    #[arg(long = "log")]
    logs: Vec<std::path::PathBuf>,
    /// A file of exported OTLP payloads to search (repeatable; `otlp-sink` writes them).
    #[arg(long = "telemetry")]
    telemetry: Vec<std::path::PathBuf>,
    /// A region's mail receiver, `REGION=MAILDIR` (repeat for every region): searched, and
    /// read for the erasure canaries' confirmation codes.
    #[arg(long = "mailbox", value_parser = parse_mailbox, required = true)]
    mailboxes: Vec<(region_config::RegionId, std::path::PathBuf)>,
    /// The aisle whose first in-stock product each canary buys.
    #[arg(long, default_value = "bakery")]
    aisle: String,
    /// How long to wait after the checkouts for logs and batched spans to be written.
    #[arg(long, default_value_t = 7)]
    settle_secs: u64,
}

#[derive(Debug, Subcommand)]
enum Privacy {
    /// Print, as JSON, everything the region holds about the shopper (access and
    /// portability). The request is recorded in the privacy log.
    Export(PrivacyRequest),
    /// Delete the shopper's accounts, addresses and sessions and anonymise their orders
    /// (amounts, tax, country and the PSP reference stay). Irreversible; recorded.
    Erase(PrivacyRequest),
}

#[derive(Debug, clap::Args)]
struct PrivacyRequest {
    /// The region whose core holds the data (its database is DATABASE_URL).
    #[arg(long)]
    region: region_config::RegionId,
    /// The shopper's e-mail address, as they gave it (case does not matter).
    #[arg(long)]
    email: String,
    /// Who answers the request (recorded in the privacy log; not personal data of the
    /// shopper): a staff member's handle or the ticket's number.
    #[arg(long = "by")]
    by: String,
    /// The region's database.
    #[arg(long, env = "DATABASE_URL")]
    database_url: regional_core::config::Secret,
    /// The region config file.
    #[arg(long, env = "MERIDIAN_REGION_CONFIG", default_value = region_config::DEFAULT_PATH)]
    region_config: std::path::PathBuf,
}

#[derive(Debug, clap::Args)]
struct OtlpSink {
    /// Where to listen (OTLP/HTTP's usual port is 4318).
    #[arg(long, default_value = "127.0.0.1:4318")]
    listen: std::net::SocketAddr,
    /// The file the raw payloads are appended to.
    #[arg(long)]
    out: std::path::PathBuf,
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
    /// The demo storefront to set up and fill: `grocer` or `corner`.
    #[arg(long, default_value = "grocer")]
    storefront: String,
    /// The storefront's merchant token (given to it when the operator token creates it).
    #[arg(long, env = "MERIDIAN_DEMO_TOKEN")]
    token: String,
    /// The core's operator token: creates the storefront first when the region lacks it.
    #[arg(long, env = "MERIDIAN_OPERATOR_TOKEN")]
    operator_token: Option<String>,
    /// The generator's seed: the same seed gives the same catalogue.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// How many products.
    #[arg(long, default_value_t = 2_000)]
    products: usize,
    /// How many synthetic orders (they train the recommendation model).
    #[arg(long, default_value_t = 60)]
    orders: usize,
    /// Only create the storefront (when absent) and give it its hosts and theme: for a
    /// region whose catalogue is already there.
    #[arg(long)]
    setup_only: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    regional_core::observe::init_logging();
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
            let mut workers = regional_core::Workers::new(config.redis_url.clone());
            workers.smtp = config
                .smtp_url
                .clone()
                .map(|url| regional_core::mail::SmtpConfig {
                    url,
                    from: config.mail_from.clone(),
                    senders: config
                        .mail_senders
                        .iter()
                        .map(|s| (s.storefront.clone(), s.mailbox.clone()))
                        .collect(),
                    region: config.region.to_string(),
                });
            regional_core::serve(listener, state, workers, shutdown()).await
        }
        Command::DemoSeed(args) => {
            let regions = RegionConfig::from_path(&args.region_config).map_err(|e| {
                anyhow::anyhow!("{}", e.render(&args.region_config.display().to_string()))
            })?;
            let region = regions
                .region(&args.region)
                .with_context(|| format!("region {} is not in the region config", args.region))?;
            let storefront = regional_core::demo::DemoStorefront::named(&args.storefront)?;
            if args.setup_only {
                return regional_core::demo::set_up_storefront(
                    &reqwest::Client::new(),
                    args.core_url.trim_end_matches('/'),
                    args.operator_token.as_deref(),
                    &args.token,
                    &storefront,
                )
                .await;
            }
            regional_core::demo::seed(
                &args.core_url,
                args.operator_token.as_deref(),
                &args.token,
                &regions,
                region,
                &storefront,
                regional_core::demo::SeedPlan {
                    seed: args.seed,
                    products: args.products,
                    orders: args.orders,
                },
            )
            .await
        }
        Command::Audit(args) => audit(args).await,
        Command::Privacy(request) => privacy(request).await,
        Command::OtlpSink(args) => {
            let inbox = meridian_telemetry::receiver::Inbox::appending_to(&args.out)
                .with_context(|| format!("failed to open {}", args.out.display()))?;
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .with_context(|| format!("failed to listen on {}", args.listen))?;
            println!(
                "otlp-sink listening on http://{}, appending to {}",
                listener.local_addr()?,
                args.out.display()
            );
            tokio::select! {
                served = meridian_telemetry::receiver::serve(listener, inbox) => {
                    served.context("the sink failed")
                }
                () = shutdown() => Ok(()),
            }
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

async fn audit(args: Audit) -> anyhow::Result<()> {
    use regional_core::audit;
    let regions = RegionConfig::from_path(&args.region_config)
        .map_err(|e| anyhow::anyhow!("{}", e.render(&args.region_config.display().to_string())))?;
    let searched: std::collections::BTreeSet<_> = args.databases.iter().map(|(r, _)| r).collect();
    let missing: Vec<String> = regions
        .regions()
        .iter()
        .filter(|r| !searched.contains(&r.id))
        .map(|r| r.id.to_string())
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "every region's database must be searched; missing --database for {}",
            missing.join(", ")
        );
    }
    let mailboxes: BTreeMap<_, _> = args.mailboxes.iter().cloned().collect();
    let unsearched: Vec<String> = regions
        .regions()
        .iter()
        .filter(|r| !mailboxes.contains_key(&r.id))
        .map(|r| r.id.to_string())
        .collect();
    if !unsearched.is_empty() {
        anyhow::bail!(
            "every region's mail receiver must be searched; missing --mailbox for {}",
            unsearched.join(", ")
        );
    }
    let tag = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
    let canaries = audit::canaries(&regions, &tag);
    let report = audit::run(
        &args.edge_url,
        &canaries,
        &args.aisle,
        async || {
            tokio::time::sleep(std::time::Duration::from_secs(args.settle_secs)).await;
            let logs = audit::read_files(&args.logs)?
                .into_iter()
                .map(|(name, bytes)| (name, String::from_utf8_lossy(&bytes).into_owned()))
                .collect();
            Ok(audit::Places {
                databases: args.databases.iter().cloned().collect(),
                edge_store: Some(args.edge_store.clone()),
                logs,
                telemetry: audit::read_files(&args.telemetry)?,
                mailboxes: BTreeMap::new(),
            })
        },
        &mailboxes,
    )
    .await?;
    print!("{report}");
    if !report.passes() {
        std::process::exit(1);
    }
    Ok(())
}

fn parse_mailbox(value: &str) -> Result<(region_config::RegionId, std::path::PathBuf), String> {
    let (region, dir) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not REGION=MAILDIR"))?;
    let region = region.parse().map_err(|e| format!("{region:?}: {e}"))?;
    Ok((region, dir.into()))
}

async fn privacy(request: Privacy) -> anyhow::Result<()> {
    use regional_core::privacy::{self, Subject};
    let (erase, args) = match request {
        Privacy::Export(args) => (false, args),
        Privacy::Erase(args) => (true, args),
    };
    let regions = RegionConfig::from_path(&args.region_config)
        .map_err(|e| anyhow::anyhow!("{}", e.render(&args.region_config.display().to_string())))?;
    regions
        .region(&args.region)
        .with_context(|| format!("region {} is not in the region config", args.region))?;
    let email =
        shopper_input::Email::parse(&args.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let by = args.by.trim();
    anyhow::ensure!(
        !by.is_empty() && by.len() <= 100 && !by.contains('@'),
        "--by names who answers (a handle or a ticket number, not an e-mail address)"
    );
    let pool = regional_core::db::pool(&args.database_url, 2)?;
    regional_core::db::migrate(&pool).await?;
    let mut client = pool
        .get()
        .await
        .context("failed to connect to the database")?;
    let tx = client.transaction().await?;
    let subject = Subject::Email(email.as_str().to_owned());
    let requested_by = format!("staff: {by}");
    let output = if erase {
        let erased = privacy::erase(&tx, &subject, &requested_by)
            .await
            .map_err(|e| anyhow::anyhow!("erasure failed: {e}"))?;
        serde_json::to_value(erased)?
    } else {
        let document = privacy::export(&tx, args.region.as_str(), &subject)
            .await
            .map_err(|e| anyhow::anyhow!("export failed: {e}"))?;
        let counts = serde_json::json!({
            "accounts": document["accounts"].as_array().map_or(0, Vec::len),
            "orders": document["orders"].as_array().map_or(0, Vec::len),
        });
        let subject_kind = if counts["accounts"] == 0 {
            "guest"
        } else {
            "account"
        };
        privacy::record(&tx, "export", subject_kind, &requested_by, None, &counts)
            .await
            .map_err(|e| anyhow::anyhow!("recording the export failed: {e}"))?;
        document
    };
    tx.commit().await?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
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
