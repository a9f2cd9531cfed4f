//! The storefront's delivery projection for the edge: per warehouse, its zones and its
//! coming slots with their state (counts become a state; nothing personal).

use deadpool_postgres::GenericClient;
use projections::FORMAT_VERSION;
use projections::delivery::{Delivery, Slot, SlotState, WarehouseSlots, Zone};
use region_config::Region;

use crate::db::Cached;

/// Slots published per storefront, at most (the soonest).
pub const MAX_SLOTS: i64 = 2_000;

/// The projection of `storefront`'s delivery, from the database as it is now.
pub async fn build(
    client: &impl GenericClient,
    region: &Region,
    storefront: &str,
) -> Result<Delivery, tokio_postgres::Error> {
    let zones = client
        .query_cached(
            "SELECT warehouse, country, postal_prefixes FROM delivery_zones
             WHERE storefront = $1 ORDER BY warehouse, country",
            &[&storefront],
        )
        .await?;
    let slots = client
        .query_cached(
            "SELECT s.id::text, s.warehouse,
                    to_char(s.starts_at AT TIME ZONE s.time_zone, 'YYYY-MM-DD'),
                    to_char(s.starts_at AT TIME ZONE s.time_zone, 'HH24:MI'),
                    to_char(s.ends_at AT TIME ZONE s.time_zone, 'HH24:MI'),
                    extract(epoch FROM s.starts_at)::bigint,
                    s.fee_minor, s.booked, s.capacity, s.closed
             FROM delivery_slots s
             WHERE s.storefront = $1 AND s.starts_at > now()
             ORDER BY s.starts_at, s.warehouse LIMIT $2",
            &[&storefront, &MAX_SLOTS],
        )
        .await?;
    let mut warehouses: Vec<WarehouseSlots> = Vec::new();
    let mut entry = |id: &str| -> usize {
        if let Some(i) = warehouses.iter().position(|w| w.warehouse == id) {
            return i;
        }
        warehouses.push(WarehouseSlots {
            warehouse: id.to_owned(),
            zones: Vec::new(),
            slots: Vec::new(),
        });
        warehouses.len() - 1
    };
    let mut placed = Vec::new();
    for row in &zones {
        let i = entry(row.get(0));
        placed.push((
            i,
            None,
            Some(Zone {
                country: row.get(1),
                postal_prefixes: row.get(2),
            }),
        ));
    }
    for row in &slots {
        let i = entry(row.get(1));
        let (booked, capacity): (i32, i32) = (row.get(7), row.get(8));
        placed.push((
            i,
            Some(Slot {
                id: row.get(0),
                date: row.get(2),
                start: row.get(3),
                end: row.get(4),
                starts_at: row.get(5),
                fee_minor: row.get(6),
                state: SlotState::of(booked.into(), capacity.into(), row.get(9)),
            }),
            None,
        ));
    }
    for (i, slot, zone) in placed {
        warehouses[i].slots.extend(slot);
        warehouses[i].zones.extend(zone);
    }
    Ok(Delivery {
        v: FORMAT_VERSION,
        currency: region.currency.to_string(),
        warehouses,
    })
}

/// The storefronts with delivery zones or slots.
pub async fn storefronts(
    client: &impl GenericClient,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = client
        .query_cached(
            "SELECT storefront FROM delivery_zones UNION SELECT storefront FROM slot_templates
             ORDER BY 1",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
