//! The outbox relay: publishes the outbox's events to the edge key-value store.
//!
//! 1. The relay claims unpublished rows with `FOR UPDATE SKIP LOCKED` (so several replicas
//!    share the work), publishes each, marks it published, and commits. A crash between
//!    publishing and committing publishes again: delivery is at least once.
//! 2. Publishing writes edge projections into the edge key-value store (Redis, raw keys, the
//!    layout Spin's Redis store uses) from the *current* state of the database, so a
//!    replayed or reordered event can never roll a projection back. Keys and value formats
//!    are documented in `docs/projections.md`.
//! 3. The storefronts a batch touched get their derived projections (category and search
//!    indexes, pricing rules, recommendation model) rebuilt in the same transaction
//!    (`edge_index`); those with newly confirmed orders at most once per `MODEL_INTERVAL`,
//!    since that rebuild reads every confirmed order.
//! 5. Storefronts whose hosts or theme changed get their site (hosts and theme) written
//!    under the storefront and under each host; hosts a storefront gave up are deleted, or
//!    rewritten for the storefront that has them now.
//! 4. Storefronts whose delivery slots changed state get their delivery projection
//!    (zones and coming slots) rewritten in the same transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_postgres::{GenericClient, Pool};
use region_config::{Region, RegionId};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::Cached;
use crate::delivery::{self, SLOTS_CHANGED};
use crate::edge_index::{self, Rebuild};
use crate::outbox::{
    ORDER_CONFIRMED, PRODUCT_CHANGED, PROMOTIONS_CHANGED, STOCK_CHANGED, STOREFRONT_CHANGED,
};

/// The edge key of a projection: `meridian/v1/{region}/{storefront}/{kind}/{sku}`.
pub fn projection_key(region: &RegionId, storefront: &str, kind: &str, sku: &str) -> String {
    format!("meridian/v1/{region}/{storefront}/{kind}/{sku}")
}

/// How often, at most, confirmed orders rebuild a storefront's popularity and
/// recommendation model: a rebuild reads every confirmed order, so it must not run for every
/// batch of a busy checkout.
pub const MODEL_INTERVAL: Duration = Duration::from_secs(10);

/// Storefronts with newly confirmed orders, rebuilt at most once per interval.
#[derive(Debug)]
pub struct ModelSchedule {
    pending: BTreeSet<String>,
    last: Option<Instant>,
    interval: Duration,
}

impl ModelSchedule {
    pub fn new(interval: Duration) -> Self {
        Self {
            pending: BTreeSet::new(),
            last: None,
            interval,
        }
    }

    /// The storefronts to rebuild now: all pending ones once the interval has passed since
    /// the last rebuild, none before.
    fn take_due(&mut self, now: Instant) -> Vec<String> {
        if self.pending.is_empty()
            || self
                .last
                .is_some_and(|last| now.duration_since(last) < self.interval)
        {
            return Vec::new();
        }
        self.last = Some(now);
        std::mem::take(&mut self.pending).into_iter().collect()
    }
}

/// Runs the relay until the process ends: polls every `interval`, publishing batches. On
/// every (re)connection to the edge store it first rebuilds every storefront's derived
/// projections, so a new or emptied edge store is filled without waiting for a change.
pub async fn relay(pool: Pool, redis: redis::Client, region: Region, interval: Duration) {
    let mut connection = None;
    let mut models = ModelSchedule::new(MODEL_INTERVAL);
    loop {
        if connection.is_none() {
            match redis.get_multiplexed_async_connection().await {
                Ok(mut c) => match publish_all(&pool, &mut c, &region).await {
                    Ok(()) => connection = Some(c),
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "outbox relay cannot publish the storefronts")
                    }
                },
                Err(e) => tracing::warn!(error = %e, "outbox relay cannot reach the edge store"),
            }
        }
        if let Some(conn) = connection.as_mut() {
            match publish_batch(&pool, conn, &region, &mut models).await {
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

/// Rebuilds the derived projections of every storefront (catalogue and model).
pub async fn publish_all(
    pool: &Pool,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &Region,
) -> anyhow::Result<()> {
    let client = pool.get().await.context("no database connection")?;
    let all = Rebuild {
        catalogue: true,
        model: true,
    };
    for storefront in edge_index::storefronts(&client).await? {
        edge_index::publish(&client, redis, region, &storefront, all).await?;
    }
    for storefront in delivery::projection::storefronts(&client).await? {
        publish_delivery(&client, redis, region, &storefront).await?;
    }
    for storefront in crate::storefronts::all(&client).await? {
        publish_site(&client, redis, region, &storefront).await?;
    }
    Ok(())
}

/// Writes the storefront's site under its id and under each of its hosts.
async fn publish_site(
    client: &impl GenericClient,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &Region,
    storefront: &str,
) -> anyhow::Result<()> {
    let Some((site, _)) = crate::storefronts::site(client, storefront).await? else {
        return Ok(());
    };
    let value = serde_json::to_value(&site)?;
    for host in &site.hosts {
        write(
            redis,
            &projections::keys::host(region.id.as_str(), host),
            &value,
        )
        .await?;
    }
    write(
        redis,
        &projections::keys::site(region.id.as_str(), storefront),
        &value,
    )
    .await
}

/// Hosts given up: deleted at the edge, unless a storefront has taken them since (then
/// that storefront's site is written again).
async fn unpublish_hosts(
    client: &impl GenericClient,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &Region,
    hosts: &BTreeSet<String>,
    sites: &mut BTreeSet<String>,
) -> anyhow::Result<()> {
    for host in hosts {
        match client
            .query_opt_cached(
                "SELECT storefront FROM storefront_hosts WHERE host = $1",
                &[host],
            )
            .await?
        {
            Some(row) => {
                sites.insert(row.get(0));
            }
            None => {
                let key = projections::keys::host(region.id.as_str(), host);
                redis::cmd("DEL")
                    .arg(&key)
                    .query_async::<()>(redis)
                    .await
                    .with_context(|| format!("failed to delete projection {key}"))?;
            }
        }
    }
    Ok(())
}

/// Writes the storefront's delivery zones and coming slots.
async fn publish_delivery(
    client: &impl GenericClient,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &Region,
    storefront: &str,
) -> anyhow::Result<()> {
    let value = delivery::projection::build(client, region, storefront).await?;
    let key = projections::keys::delivery(region.id.as_str(), storefront);
    write(redis, &key, &serde_json::to_value(&value)?).await
}

/// Publishes up to 100 events, then rebuilds, in the same transaction, the derived
/// projections of the storefronts whose products changed, and (at most once per the
/// schedule's interval) of those with newly confirmed orders; returns how many events.
pub async fn publish_batch(
    pool: &Pool,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &Region,
    models: &mut ModelSchedule,
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
    let mut rebuild: BTreeMap<String, Rebuild> = BTreeMap::new();
    let mut delivery: BTreeSet<String> = BTreeSet::new();
    let mut sites: BTreeSet<String> = BTreeSet::new();
    let mut removed_hosts: BTreeSet<String> = BTreeSet::new();
    for row in &rows {
        let id: Uuid = row.get(0);
        let kind: String = row.get(1);
        let payload: Value = row.get(2);
        let sku = payload["sku"].as_str().unwrap_or_default();
        match kind.as_str() {
            STOCK_CHANGED => publish_stock(&tx, redis, &region.id, sku, id).await?,
            PRODUCT_CHANGED => {
                if let Some(storefront) = publish_product(&tx, redis, &region.id, sku, id).await? {
                    rebuild.entry(storefront).or_default().catalogue = true;
                }
            }
            SLOTS_CHANGED => {
                if let Some(storefront) = payload["storefront"].as_str() {
                    delivery.insert(storefront.to_owned());
                }
            }
            STOREFRONT_CHANGED => {
                if let Some(storefront) = payload["storefront"].as_str() {
                    sites.insert(storefront.to_owned());
                }
                let removed = payload["removed_hosts"].as_array().into_iter().flatten();
                removed_hosts.extend(removed.filter_map(Value::as_str).map(str::to_owned));
            }
            PROMOTIONS_CHANGED => {
                if let Some(storefront) = payload["storefront"].as_str() {
                    rebuild.entry(storefront.to_owned()).or_default().catalogue = true;
                }
            }
            // Confirmed orders feed the recommendation model and popularity, rebuilt from
            // the orders table once per batch.
            ORDER_CONFIRMED => {
                let order: Option<Uuid> = payload["order_id"].as_str().and_then(|s| s.parse().ok());
                if let Some(row) = tx
                    .query_opt_cached("SELECT storefront FROM orders WHERE id = $1", &[&order])
                    .await?
                {
                    models.pending.insert(row.get(0));
                }
            }
            _ => {}
        }
        tx.execute_cached(
            "UPDATE outbox SET published_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
    }
    let due = models.take_due(Instant::now());
    for storefront in &due {
        let what = rebuild.entry(storefront.clone()).or_default();
        what.model = true;
        what.catalogue = true;
    }
    let published = async {
        for (storefront, what) in rebuild {
            edge_index::publish(&tx, redis, region, &storefront, what).await?;
        }
        for storefront in &delivery {
            publish_delivery(&tx, redis, region, storefront).await?;
        }
        unpublish_hosts(&tx, redis, region, &removed_hosts, &mut sites).await?;
        for storefront in &sites {
            publish_site(&tx, redis, region, storefront).await?;
        }
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    if published.is_err() {
        // Not rebuilt: keep them for the next batch.
        models.pending.extend(due);
    }
    published.map(|()| rows.len())
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

/// Writes a product's projection; returns its storefront.
async fn publish_product(
    tx: &impl GenericClient,
    redis: &mut redis::aio::MultiplexedConnection,
    region: &RegionId,
    sku: &str,
    event: Uuid,
) -> anyhow::Result<Option<String>> {
    let Some(product) = crate::products::load(tx, sku).await? else {
        return Ok(None);
    };
    let key = projection_key(region, &product.storefront, "product", sku);
    let mut value = serde_json::to_value(&product)?;
    value["v"] = json!(1);
    value["event"] = json!(event);
    write(redis, &key, &value).await?;
    Ok(Some(product.storefront))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmed_orders_rebuild_the_model_at_most_once_per_interval() {
        let start = Instant::now();
        let mut models = ModelSchedule::new(Duration::from_secs(10));
        assert!(models.take_due(start).is_empty());
        models.pending.insert("grocer".into());
        assert_eq!(models.take_due(start), ["grocer"]);
        models.pending.insert("grocer".into());
        assert!(models.take_due(start + Duration::from_secs(5)).is_empty());
        assert_eq!(models.take_due(start + Duration::from_secs(10)), ["grocer"]);
        assert!(models.take_due(start + Duration::from_secs(30)).is_empty());
    }
}
