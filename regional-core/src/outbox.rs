//! The transactional outbox and its relay.
//!
//! 1. A change (stock moved, product changed, order confirmed) writes an event row in the
//!    same transaction as the change (`enqueue`).
//! 2. The relay claims unpublished rows with `FOR UPDATE SKIP LOCKED` (so several replicas
//!    share the work), publishes each, marks it published, and commits. A crash between
//!    publishing and committing publishes again: delivery is at least once.
//! 3. Publishing writes edge projections into the edge key-value store (Redis, raw keys, the
//!    layout Spin's Redis store uses) from the *current* state of the database, so a
//!    replayed or reordered event can never roll a projection back. Keys and value formats
//!    are documented in `docs/projections.md`.

use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{GenericClient, Pool};
use region_config::RegionId;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::Cached;

/// Event kinds.
pub const STOCK_CHANGED: &str = "stock_changed";
pub const PRODUCT_CHANGED: &str = "product_changed";
pub const ORDER_CONFIRMED: &str = "order_confirmed";

/// Writes an event in the caller's transaction.
pub async fn enqueue(
    client: &impl GenericClient,
    kind: &str,
    payload: Value,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute_cached(
            "INSERT INTO outbox (id, kind, payload) VALUES ($1, $2, $3)",
            &[&Uuid::new_v4(), &kind, &payload],
        )
        .await
        .map(|_| ())
}

/// The edge key of a projection: `meridian/v1/{region}/{storefront}/{kind}/{sku}`.
pub fn projection_key(region: &RegionId, storefront: &str, kind: &str, sku: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/{kind}/{sku}")
}

/// Runs the relay until the process ends: polls every `interval`, publishing batches.
pub async fn relay(pool: Pool, redis: redis::Client, region: RegionId, interval: Duration) {
    let mut connection = None;
    loop {
        if connection.is_none() {
            match redis.get_multiplexed_async_connection().await {
                Ok(c) => connection = Some(c),
                Err(e) => tracing::warn!(error = %e, "outbox relay cannot reach the edge store"),
            }
        }
        if let Some(conn) = connection.as_mut() {
            match publish_batch(&pool, conn, &region).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "outbox relay batch failed");
                    connection = None;
                }
            }
        }
        tokio::time::sleep(interval).await;
    }
}

/// Publishes up to 100 events; returns how many.
pub async fn publish_batch(
    pool: &Pool,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &RegionId,
) -> anyhow::Result<usize> {
    let mut client = pool.get().await.context("no database connection")?;
    let tx = client.transaction().await?;
    let rows = tx
        .query_cached(
            "SELECT id, kind, payload FROM outbox WHERE published_at IS NULL
             ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?;
    for row in &rows {
        let id: Uuid = row.get(0);
        let kind: String = row.get(1);
        let payload: Value = row.get(2);
        let sku = payload["sku"].as_str().unwrap_or_default();
        match kind.as_str() {
            STOCK_CHANGED => publish_stock(&tx, redis, region, sku, id).await?,
            PRODUCT_CHANGED => publish_product(&tx, redis, region, sku, id).await?,
            // Confirmed orders feed the recommendation model, which is rebuilt from the
            // orders table; nothing is projected per event.
            _ => {}
        }
        tx.execute_cached(
            "UPDATE outbox SET published_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

async fn publish_stock(
    tx: &impl GenericClient,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &RegionId,
    sku: &str,
    event: Uuid,
) -> anyhow::Result<()> {
    let row = tx
        .query_opt_cached(
            "SELECT p.storefront, coalesce(sum(s.on_hand - s.reserved), 0)::bigint
             FROM products p LEFT JOIN stock s ON s.sku = p.sku
             WHERE p.sku = $1 GROUP BY p.storefront",
            &[&sku],
        )
        .await?;
    let Some(row) = row else { return Ok(()) };
    let storefront: String = row.get(0);
    let available: i64 = row.get(1);
    let value = json!({"v": 1, "sku": sku, "available": available, "event": event});
    let key = projection_key(region, &storefront, "stock", sku);
    write(redis, &key, &value).await
}

async fn publish_product(
    tx: &impl GenericClient,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &RegionId,
    sku: &str,
    event: Uuid,
) -> anyhow::Result<()> {
    let Some(product) = crate::products::load(tx, sku).await? else {
        return Ok(());
    };
    let key = projection_key(region, &product.storefront, "product", sku);
    let mut value = serde_json::to_value(&product)?;
    value["v"] = json!(1);
    value["event"] = json!(event);
    write(redis, &key, &value).await
}

/// Writes one projection as raw JSON bytes under its raw key (Spin's Redis layout).
async fn write(
    redis: &mut redis::aio::MultiplexedConnection,
    key: &str,
    value: &Value,
) -> anyhow::Result<()> {
    redis::cmd("SET")
        .arg(key)
        .arg(serde_json::to_vec(value)?)
        .query_async::<()>(redis)
        .await
        .with_context(|| format!("failed to write projection {key}"))
}
