//! Meridian's regional core: one service per region that owns the region's PostgreSQL
//! database and everything that must be strongly consistent there (checkout, inventory,
//! payments, orders) plus the merchant API and the outbox relay to the edge.
//!
//! How a checkout flows through it:
//!
//! 1. `checkout` validates the request and refuses shoppers of other regions (421).
//! 2. In one transaction it claims the idempotency key, reprices with `pricing`, reserves
//!    with `inventory` and creates the order (`orders`) with outbox events (`outbox`).
//! 3. `payments` authorises with the PSP under a derived key.
//! 4. `checkout::settle` confirms or declines in one transaction and stores the response.
//! 5. `relay` publishes the outbox's stock and product changes to the edge key-value store;
//!    `recovery` settles checkouts stuck between steps 2 and 4, and unfinished refunds.
//!
//! # Layout
//!
//! - `config`: flags and environment, `Secret`.
//! - `db`: pool and embedded migrations.
//! - `error`: `ApiError`, one helper for a field's 4xx, the middleware that logs internal
//!   errors once, and the one that gives every 4xx the JSON error shape.
//! - `auth`: merchant and order tokens.
//! - `accounts`: shopper accounts, sessions, sign-in limits, saved addresses (home region
//!   only).
//! - `privacy`: export, erasure and the retention sweeper, with the append-only privacy log.
//! - `products`: the catalogue of record (merchant API).
//! - `inventory`: stock, reservations, adjustments.
//! - `delivery`: zones, slot templates and slots (merchant API), booking a slot's capacity
//!   at checkout or before the cart, and its edge projection.
//! - `pricing`: authoritative repricing.
//! - `promotions`: promo codes (merchant API), published in the pricing rules.
//! - `checkout`: the checkout saga; `checkout/request.rs` parses the body and the shopper
//!   (with `shopper-input`), `checkout/idempotency.rs` the key's rule and replays.
//! - `payments`: the PSP port over HTTP, with retries, breaker and failover.
//! - `psp_sandbox`: the sandbox PSP server.
//! - `orders`: the order state machine and order API (get, cancel, fulfil).
//! - `fulfilment`: picking with substitutions, packing (the picked total priced again and
//!   captured), out for delivery, delivered (merchant API).
//! - `refunds`: refunds, once per merchant `Idempotency-Key`, never beyond the capture.
//! - `brand`: a storefront's e-mail letterhead and sender, from its theme.
//! - `mail`: e-mail to shoppers, queued in the causing transaction, sent over SMTP by its
//!   worker with retries.
//! - `notifications`: the e-mail a shopper gets when their order is confirmed, cancelled or
//!   refunded, queued with the transition.
//! - `outbox`: the transactional outbox (`enqueue`, in the caller's transaction).
//! - `relay`: publishes outbox events to the edge key-value store.
//! - `edge_index`: the derived edge projections (category and search indexes, pricing
//!   rules, recommendation model) the relay rebuilds per storefront.
//! - `recovery`: the worker that settles stuck checkouts and unfinished refunds.
//! - `demo`: the demo grocery seeder (`regional-core demo-seed`).
//! - `audit`: the residency proof (canary shoppers, then a search of everything).
//! - `observe`: the log (never with personal data) and OpenTelemetry spans and metrics
//!   (off unless an OTLP endpoint is set).

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod brand;
pub mod checkout;
pub mod config;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod edge_index;
pub mod error;
pub mod fulfilment;
pub mod inventory;
pub mod mail;
pub mod notifications;
pub mod observe;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod pricing;
pub mod privacy;
pub mod products;
pub mod promotions;
pub mod psp_sandbox;
pub mod recovery;
pub mod refunds;
pub mod relay;
pub mod storefronts;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use deadpool_postgres::Pool;
use region_config::{Region, RegionConfig};
use serde_json::json;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    /// This core's region.
    pub region: Arc<Region>,
    /// Every region, to name a shopper's home region.
    pub regions: Arc<RegionConfig>,
    pub payments: Arc<payments::Payments>,
    pub reservation_ttl: Duration,
    /// The key the edge signs quotes with; `None`: quotes are not checked.
    pub quote_signing_key: Option<Arc<config::Secret>>,
    /// Spans and metrics; off unless an OTLP endpoint is configured.
    pub observe: Arc<observe::Observe>,
    /// The token that may create storefronts; `None`: none can be created over the API.
    pub operator_token: Option<Arc<config::Secret>>,
}

impl AppState {
    /// Connects, migrates, registers merchant tokens and builds the state of `config`.
    pub async fn start(config: &config::Config, regions: RegionConfig) -> anyhow::Result<Self> {
        let region = regions
            .region(&config.region)
            .with_context(|| format!("region {} is not in the region config", config.region))?
            .clone();
        let pool = db::pool(&config.database_url, config.db_pool_size)?;
        db::migrate(&pool).await?;
        db::check_headroom(&pool, config.db_pool_size).await?;
        let client = pool
            .get()
            .await
            .context("failed to connect to the database")?;
        auth::register_storefronts(&client, &config.merchant_tokens)
            .await
            .context("failed to register merchant tokens")?;
        let payments = payments::Payments::new(&config.psp_urls, Duration::from_secs(2))?;
        tokio::task::spawn_blocking(accounts::password::warm)
            .await
            .context("failed to prepare password hashing")?;
        let telemetry = meridian_telemetry::Telemetry::new(
            "meridian-core",
            &[("meridian.region", region.id.as_str().to_owned())],
            config.otlp_endpoint.as_deref(),
        )?;
        Ok(Self {
            pool,
            region: Arc::new(region),
            regions: Arc::new(regions),
            payments: Arc::new(payments),
            reservation_ttl: config.reservation_ttl(),
            quote_signing_key: config.quote_signing_key.clone().map(Arc::new),
            observe: Arc::new(observe::Observe::new(telemetry)),
            operator_token: config.operator_token.clone().map(Arc::new),
        })
    }
}

/// Every route of the core.
pub fn router(state: AppState) -> Router {
    let (routes, _) = api().split_for_parts();
    routes
        .fallback(|| async { ApiError::not_found("route") })
        .layer(axum::middleware::from_fn(error::log_internal_errors))
        .layer(axum::middleware::from_fn(access_log))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::trace_requests,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(error::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(error::json_errors))
        .with_state(state)
}

/// The core's OpenAPI 3.1 document, as `GET /v1/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The routes, each added with its handler's OpenAPI description, so the router and the
/// document cannot disagree.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi_json))
        .routes(routes!(checkout::create))
        .routes(routes!(inventory::get))
        .routes(routes!(orders::get))
        .routes(routes!(orders::cancel))
        .routes(routes!(products::list))
        .routes(routes!(products::import))
        .routes(routes!(products::put))
        .routes(routes!(inventory::adjust))
        .routes(routes!(promotions::list))
        .routes(routes!(promotions::put, promotions::delete))
        .routes(routes!(orders::fulfil))
        .routes(routes!(refunds::refund))
        .routes(routes!(accounts::signup::sign_up))
        .routes(routes!(accounts::signup::confirm))
        .routes(routes!(accounts::signup::request_reset))
        .routes(routes!(accounts::signup::reset_password))
        .routes(routes!(accounts::sign_in, accounts::sign_out_everywhere))
        .routes(routes!(accounts::sign_out))
        .routes(routes!(accounts::get, accounts::update))
        .routes(routes!(accounts::change_password))
        .routes(routes!(accounts::orders))
        .routes(routes!(accounts::order))
        .routes(routes!(accounts::addresses::list, accounts::addresses::add))
        .routes(routes!(
            accounts::addresses::put,
            accounts::addresses::delete
        ))
        .routes(routes!(privacy::export_mine))
        .routes(routes!(privacy::erase_mine))
        .routes(routes!(mail::list))
        .routes(routes!(delivery::admin::put_zones))
        .routes(routes!(delivery::admin::put_template))
        .routes(routes!(delivery::admin::list))
        .routes(routes!(delivery::admin::change))
        .routes(routes!(delivery::booking::hold))
        .routes(routes!(fulfilment::put_settings))
        .routes(routes!(fulfilment::change_status))
        .routes(routes!(fulfilment::put_picks))
        .routes(routes!(storefronts::create))
        .routes(routes!(storefronts::get))
        .routes(routes!(storefronts::put_theme))
        .routes(routes!(storefronts::put_hosts))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Meridian regional core",
        description = "One core per region: checkout, orders, stock and the merchant API. Amounts are integers in the minor units of their currency. Every error has the body `{\"error\": {\"code\", \"message\", ...}}`."
    ),
    modifiers(&Tokens),
    tags(
        (name = "shopper", description = "Called by the storefront for a shopper"),
        (name = "merchant", description = "The merchant API: a storefront's merchant token"),
        (name = "operator", description = "The region's operator: the operator token (creating storefronts)"),
        (name = "account", description = "A shopper's account, in their home region: the session cookie's value as bearer token"),
        (name = "operations", description = "Health and this document")
    )
)]
struct ApiDoc;

/// The bearer tokens the API takes: a storefront's merchant token, an order's access token
/// (from its checkout's answer), or a signed-in shopper's session.
struct Tokens;

impl utoipa::Modify for Tokens {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        for name in ["merchant", "operator", "order_token", "session"] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// `GET /healthz`: the process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Up", body = Object))
)]
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(json!({"status": "ok"}))
}

/// `GET /v1/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi_json() -> impl axum::response::IntoResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let document = DOCUMENT.get_or_init(|| openapi().to_pretty_json().unwrap_or_default());
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document.as_str(),
    )
}

/// `GET /readyz`: the database answers and is migrated.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Object),
        (status = 503, description = "Not ready", body = error::ErrorBody)
    )
)]
async fn readyz(State(app): State<AppState>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    match db::ready(&app.pool).await {
        Ok(()) => Ok(axum::Json(
            json!({"status": "ready", "region": app.region.id.as_str()}),
        )),
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "not ready");
            Err(ApiError::user(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the database is not reachable or not migrated",
            ))
        }
    }
}

/// One log line per request: method, path (never the query), status, duration. Bodies,
/// headers and cookies are never logged, so no personal data reaches the logs.
async fn access_log(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64, "request");
    response
}

/// Parses a JSON body, answering 400 with the parser's reason, and 422 naming the field
/// for text holding a NUL character ([`refuse_nul`]).
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", e.to_string()))?;
    refuse_nul(&value)?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request("malformed_json", e.to_string()))
}

/// Refuses any string (or object key) in `value` that holds NUL, which PostgreSQL cannot
/// store in `text` or `jsonb`, with a 422 naming where it is (`shopper.name`,
/// `lines.0.sku`). Each field's own rule (the shared input library) refuses other control
/// characters where a person's text cannot hold them; this is the guard for every field.
pub fn refuse_nul(value: &serde_json::Value) -> Result<(), ApiError> {
    fn walk(value: &serde_json::Value, path: &mut Vec<String>) -> Result<(), ApiError> {
        let refuse = |path: &[String]| {
            let field = if path.is_empty() {
                "(body)".to_owned()
            } else {
                path.join(".")
            };
            ApiError::field(&field, "text may not contain a NUL character")
                .with("reason", "control_character")
        };
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Err(refuse(path)),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(item, path)?;
                    path.pop();
                }
                Ok(())
            }
            serde_json::Value::Object(map) => {
                for (key, item) in map {
                    path.push(key.replace('\0', "\\u0000"));
                    if key.contains('\0') {
                        return Err(refuse(path));
                    }
                    walk(item, path)?;
                    path.pop();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut Vec::new())
}

/// How often the background workers run.
#[derive(Debug, Clone)]
pub struct Workers {
    /// Redis URL of the edge key-value store; no outbox relay without one.
    pub redis_url: Option<config::Secret>,
    pub relay_interval: Duration,
    pub recovery_interval: Duration,
    /// How long a checkout may stay `pending_payment` before recovery looks at it; longer
    /// than a checkout's own PSP retries take.
    pub recovery_grace: Duration,
    /// How often the retention policy is applied.
    pub retention_interval: Duration,
    /// The SMTP relay; without one, e-mail stays queued.
    pub smtp: Option<mail::SmtpConfig>,
    /// How often queued e-mail is looked at.
    pub mail_interval: Duration,
}

impl Workers {
    pub fn new(redis_url: Option<config::Secret>) -> Self {
        Self {
            redis_url,
            relay_interval: Duration::from_millis(50),
            recovery_interval: Duration::from_secs(2),
            recovery_grace: Duration::from_secs(10),
            retention_interval: Duration::from_secs(15 * 60),
            smtp: None,
            mail_interval: Duration::from_millis(500),
        }
    }
}

/// Serves the core on `listener`, with its background workers, until `shutdown`
/// resolves; in-flight requests (checkouts) finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    workers_config: Workers,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut workers = tokio::task::JoinSet::new();
    workers.spawn(recovery::run(
        state.clone(),
        workers_config.recovery_interval,
        workers_config.recovery_grace,
    ));
    workers.spawn(delivery::run(
        state.clone(),
        workers_config.recovery_interval,
    ));
    workers.spawn(privacy::run_sweeper(
        state.clone(),
        workers_config.retention_interval,
    ));
    match &workers_config.smtp {
        Some(smtp) => {
            let mailer = mail::Mailer::new(smtp)?;
            workers.spawn(mail::run(
                state.pool.clone(),
                mailer,
                workers_config.mail_interval,
            ));
        }
        None => tracing::warn!("no SMTP relay configured: shoppers' e-mail stays queued"),
    }
    if let Some(url) = &workers_config.redis_url {
        let redis = redis::Client::open(url.expose()).context("failed to parse REDIS_URL")?;
        workers.spawn(relay::relay(
            state.pool.clone(),
            redis,
            Region::clone(&state.region),
            workers_config.relay_interval,
        ));
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("server failed")?;
    workers.abort_all();
    Ok(())
}
