//! The transactional outbox: a change (stock moved, product changed, order confirmed,
//! promotions changed) writes an event row in the same transaction as the change
//! ([`enqueue`]); the relay ([`crate::relay`]) publishes the rows to the edge. Enqueueing
//! knows nothing of what the relay reads.

use deadpool_postgres::GenericClient;
use serde_json::Value;
use uuid::Uuid;

use crate::db::Cached;

/// Event kinds.
pub const STOCK_CHANGED: &str = "stock_changed";
pub const PRODUCT_CHANGED: &str = "product_changed";
pub const ORDER_CONFIRMED: &str = "order_confirmed";
/// A storefront's promotions changed: its pricing rules are republished.
/// A storefront's hosts or theme changed: `{storefront, removed_hosts}`.
pub const STOREFRONT_CHANGED: &str = "storefront_changed";
pub const PROMOTIONS_CHANGED: &str = "promotions_changed";

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
