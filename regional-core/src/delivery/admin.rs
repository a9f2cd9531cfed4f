//! The merchant's side of delivery: zones and the slot template per warehouse, the slots
//! materialised from it, closing a slot or changing its capacity.
//!
//! - `PUT /v1/admin/warehouses/{warehouse}/zones`
//! - `PUT /v1/admin/warehouses/{warehouse}/slot-template`
//! - `GET /v1/admin/slots`, `PATCH /v1/admin/slots/{id}`
//!
//! Every change writes a [`super::SLOTS_CHANGED`] event in its transaction.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use deadpool_postgres::GenericClient;
use projections::delivery::{SlotState, Zone};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{SLOTS_CHANGED, Template, occurrences};
use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::outbox;

/// A warehouse's delivery zones.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Zones {
    /// One per country, 1 to 50. A country without `postal_prefixes` is delivered whole.
    #[schema(value_type = Vec<Object>)]
    pub zones: Vec<Zone>,
}

/// The template as stored, and how many slots it added.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatePut {
    pub warehouse: String,
    pub template: Template,
    /// Slots materialised now for the coming days.
    pub slots_created: u64,
}

/// A slot as its merchant sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotAdmin {
    pub id: Uuid,
    pub warehouse: String,
    /// Local to the warehouse: `YYYY-MM-DD`, `HH:MM`.
    pub date: String,
    pub start: String,
    pub end: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    pub fee_minor: i64,
    pub currency: String,
    pub capacity: i32,
    /// Units held by shoppers or booked by orders.
    pub booked: i32,
    pub closed: bool,
    /// Under way (started, not ended): no longer offered to shoppers.
    pub started: bool,
    /// `available`, `few_left` or `full`, as the edge shows it.
    pub state: String,
}

/// The storefront's coming slots.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    pub slots: Vec<SlotAdmin>,
}

/// A change to one slot.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotChange {
    /// Not below what is booked.
    #[serde(default)]
    capacity: Option<i32>,
    #[serde(default)]
    closed: Option<bool>,
}

/// The warehouse, if this region has it.
fn warehouse(app: &AppState, id: &str) -> Result<String, ApiError> {
    app.region
        .warehouses
        .iter()
        .find(|w| w.id.as_str() == id)
        .map(|w| w.id.to_string())
        .ok_or_else(|| ApiError::not_found("warehouse"))
}

/// Checks zones against the region config: only countries it lists, each once; prefixes of
/// 1 to 10 letters and digits.
fn check_zones(app: &AppState, zones: &mut [Zone]) -> Result<(), ApiError> {
    if zones.is_empty() || zones.len() > 50 {
        return Err(ApiError::field("zones", "1 to 50 zones"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, zone) in zones.iter_mut().enumerate() {
        zone.country = zone.country.trim().to_ascii_uppercase();
        let listed = app
            .region
            .countries
            .iter()
            .any(|c| c.as_str() == zone.country);
        if !listed {
            return Err(ApiError::unprocessable(
                "cannot_ship_to",
                format!(
                    "region {} does not ship to this country; its config lists {}",
                    app.region.id,
                    app.region
                        .countries
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with("field", format!("zones[{i}].country")));
        }
        if !seen.insert(zone.country.clone()) {
            return Err(ApiError::field(
                &format!("zones[{i}].country"),
                "each country once; list its prefixes together",
            ));
        }
        if zone.postal_prefixes.len() > 500 {
            return Err(ApiError::field(
                &format!("zones[{i}].postal_prefixes"),
                "at most 500 prefixes",
            ));
        }
        for (j, prefix) in zone.postal_prefixes.iter_mut().enumerate() {
            *prefix = projections::delivery::compact(prefix);
            if !(1..=10).contains(&prefix.len())
                || !prefix.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(ApiError::field(
                    &format!("zones[{i}].postal_prefixes[{j}]"),
                    "1 to 10 letters and digits",
                ));
            }
        }
    }
    Ok(())
}

/// `PUT /v1/admin/warehouses/{warehouse}/zones`: where the warehouse delivers.
#[utoipa::path(
    put,
    path = "/v1/admin/warehouses/{warehouse}/zones",
    tag = "merchant",
    params(("warehouse" = String, Path, description = "A warehouse of this region's config")),
    security(("merchant" = [])),
    request_body = Zones,
    responses(
        (status = 200, description = "The zones as stored", body = Zones),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn put_zones(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Zones>, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let warehouse = warehouse(&app, &id)?;
    let mut input: Zones = crate::json_body(&body)?;
    check_zones(&app, &mut input.zones)?;
    let tx = client.transaction().await?;
    tx.execute_cached(
        "DELETE FROM delivery_zones WHERE storefront = $1 AND warehouse = $2",
        &[&storefront, &warehouse],
    )
    .await?;
    for zone in &input.zones {
        tx.execute_cached(
            "INSERT INTO delivery_zones (storefront, warehouse, country, postal_prefixes)
             VALUES ($1, $2, $3, $4)",
            &[
                &storefront,
                &warehouse,
                &zone.country,
                &zone.postal_prefixes,
            ],
        )
        .await?;
    }
    outbox::enqueue(&tx, SLOTS_CHANGED, json!({ "storefront": storefront })).await?;
    tx.commit().await?;
    Ok(Json(input))
}

/// `PUT /v1/admin/warehouses/{warehouse}/slot-template`: the weekly windows. Coming slots
/// nobody holds are replaced by the new template's; held or booked ones stay as they are.
#[utoipa::path(
    put,
    path = "/v1/admin/warehouses/{warehouse}/slot-template",
    tag = "merchant",
    params(("warehouse" = String, Path, description = "A warehouse of this region's config")),
    security(("merchant" = [])),
    request_body = Template,
    responses(
        (status = 200, description = "The template as stored, and the slots it created", body = TemplatePut),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn put_template(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TemplatePut>, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let warehouse = warehouse(&app, &id)?;
    let template: Template = crate::json_body(&body)?;
    template.parse()?;
    let known = client
        .query_one_cached(
            "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)",
            &[&template.time_zone],
        )
        .await?
        .get::<_, bool>(0);
    if !known {
        return Err(ApiError::field(
            "time_zone",
            "an IANA time zone, e.g. Europe/Paris",
        ));
    }
    let tx = client.transaction().await?;
    tx.execute_cached(
        "INSERT INTO slot_templates (storefront, warehouse, time_zone, days_ahead, hold_minutes, windows)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (storefront, warehouse) DO UPDATE
         SET time_zone = $3, days_ahead = $4, hold_minutes = $5, windows = $6, updated_at = now()",
        &[
            &storefront,
            &warehouse,
            &template.time_zone,
            &template.days_ahead,
            &template.hold_minutes,
            &serde_json::to_value(&template.windows).map_err(anyhow::Error::from)?,
        ],
    )
    .await?;
    tx.execute_cached(
        "DELETE FROM delivery_slots s
         WHERE s.storefront = $1 AND s.warehouse = $2 AND s.starts_at > now()
           AND NOT EXISTS (SELECT 1 FROM slot_holds h WHERE h.slot_id = s.id)
           AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.slot_id = s.id)",
        &[&storefront, &warehouse],
    )
    .await?;
    let slots_created = materialise(&tx, &app, &storefront, &warehouse, &template).await?;
    outbox::enqueue(&tx, SLOTS_CHANGED, json!({ "storefront": storefront })).await?;
    tx.commit().await?;
    Ok(Json(TemplatePut {
        warehouse,
        template,
        slots_created,
    }))
}

/// Adds the template's missing slots for its coming days (local to its time zone); slots
/// already there, and windows already over, are left alone. Returns how many it added.
async fn materialise(
    client: &impl GenericClient,
    app: &AppState,
    storefront: &str,
    warehouse: &str,
    template: &Template,
) -> Result<u64, ApiError> {
    let windows = template.parse()?;
    let today: NaiveDate = client
        .query_one_cached(
            "SELECT (now() AT TIME ZONE $1)::date",
            &[&template.time_zone],
        )
        .await?
        .get(0);
    let slots = occurrences(&windows, today, template.days_ahead);
    let dates: Vec<NaiveDate> = slots.iter().map(|o| o.date).collect();
    let starts: Vec<chrono::NaiveTime> = slots.iter().map(|o| o.start).collect();
    let ends: Vec<chrono::NaiveTime> = slots.iter().map(|o| o.end).collect();
    let fees: Vec<i64> = slots.iter().map(|o| o.fee_minor).collect();
    let capacities: Vec<i32> = slots.iter().map(|o| o.capacity).collect();
    let n = client
        .execute_cached(
            "INSERT INTO delivery_slots (id, storefront, warehouse, time_zone, starts_at, ends_at,
                                         fee_minor, currency, capacity)
             SELECT gen_random_uuid(), $1, $2, $3, (d + s) AT TIME ZONE $3, (d + e) AT TIME ZONE $3,
                    f, $4, c
             FROM unnest($5::date[], $6::time[], $7::time[], $8::bigint[], $9::int[]) AS x(d, s, e, f, c)
             WHERE (d + e) AT TIME ZONE $3 > now()
             ON CONFLICT (storefront, warehouse, starts_at) DO NOTHING",
            &[
                &storefront,
                &warehouse,
                &template.time_zone,
                &app.region.currency.as_str(),
                &dates,
                &starts,
                &ends,
                &fees,
                &capacities,
            ],
        )
        .await?;
    Ok(n)
}

/// Materialises every template's coming days (the day rolls on); returns the slots added.
pub async fn materialise_all(app: &AppState) -> Result<u64, ApiError> {
    let mut client = app.pool.get().await?;
    let rows = client
        .query_cached(
            "SELECT storefront, warehouse, time_zone, days_ahead, hold_minutes, windows
             FROM slot_templates ORDER BY storefront, warehouse",
            &[],
        )
        .await?;
    let mut added = 0;
    for row in rows {
        let storefront: String = row.get(0);
        let warehouse: String = row.get(1);
        let template = Template {
            time_zone: row.get(2),
            days_ahead: row.get(3),
            hold_minutes: row.get(4),
            windows: serde_json::from_value(row.get(5)).map_err(anyhow::Error::from)?,
        };
        let tx = client.transaction().await?;
        let n = materialise(&tx, app, &storefront, &warehouse, &template).await?;
        if n > 0 {
            outbox::enqueue(&tx, SLOTS_CHANGED, json!({ "storefront": storefront })).await?;
        }
        tx.commit().await?;
        added += n;
    }
    Ok(added)
}

const SLOT_COLUMNS: &str = "s.id, s.warehouse,
    to_char(s.starts_at AT TIME ZONE s.time_zone, 'YYYY-MM-DD'),
    to_char(s.starts_at AT TIME ZONE s.time_zone, 'HH24:MI'),
    to_char(s.ends_at AT TIME ZONE s.time_zone, 'HH24:MI'),
    s.starts_at, s.ends_at, s.fee_minor, s.currency, s.capacity, s.booked, s.closed,
    s.starts_at <= now()";

fn slot_admin(row: &tokio_postgres::Row) -> SlotAdmin {
    let starts: chrono::DateTime<chrono::Utc> = row.get(5);
    let ends: chrono::DateTime<chrono::Utc> = row.get(6);
    let (capacity, booked, closed): (i32, i32, bool) = (row.get(9), row.get(10), row.get(11));
    SlotAdmin {
        id: row.get(0),
        warehouse: row.get(1),
        date: row.get(2),
        start: row.get(3),
        end: row.get(4),
        starts_at: starts.to_rfc3339(),
        ends_at: ends.to_rfc3339(),
        fee_minor: row.get(7),
        currency: row.get(8),
        capacity,
        booked,
        closed,
        started: row.get(12),
        state: SlotState::of(booked.into(), capacity.into(), closed)
            .as_str()
            .to_owned(),
    }
}

/// `GET /v1/admin/slots`: the storefront's slots that have not ended, by start.
#[utoipa::path(
    get,
    path = "/v1/admin/slots",
    tag = "merchant",
    security(("merchant" = [])),
    responses(
        (status = 200, description = "Coming slots with their counts", body = SlotList),
        (status = "4XX", description = "Refused", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SlotList>, ApiError> {
    let client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let rows = client
        .query_cached(
            &format!(
                "SELECT {SLOT_COLUMNS} FROM delivery_slots s
                 WHERE s.storefront = $1 AND s.ends_at > now()
                 ORDER BY s.starts_at, s.warehouse LIMIT 2000"
            ),
            &[&storefront],
        )
        .await?;
    Ok(Json(SlotList {
        slots: rows.iter().map(slot_admin).collect(),
    }))
}

/// `PATCH /v1/admin/slots/{id}`: closes or reopens a slot, or changes its capacity (never
/// below what is booked: 409 naming it).
#[utoipa::path(
    patch,
    path = "/v1/admin/slots/{id}",
    tag = "merchant",
    params(("id" = Uuid, Path, description = "The slot")),
    security(("merchant" = [])),
    request_body = SlotChange,
    responses(
        (status = 200, description = "The slot as it now is", body = SlotAdmin),
        (status = 409, description = "The capacity asked is below what is booked", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn change(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<SlotAdmin>, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found("slot"))?;
    let input: SlotChange = crate::json_body(&body)?;
    if input
        .capacity
        .is_some_and(|c| !(0..=super::MAX_CAPACITY).contains(&c))
    {
        return Err(ApiError::field("capacity", "0 to 10,000 orders"));
    }
    let tx = client.transaction().await?;
    let row = tx
        .query_opt_cached(
            "SELECT booked FROM delivery_slots WHERE id = $1 AND storefront = $2 FOR UPDATE",
            &[&id, &storefront],
        )
        .await?
        .ok_or_else(|| ApiError::not_found("slot"))?;
    let booked: i32 = row.get(0);
    if let Some(capacity) = input.capacity.filter(|c| *c < booked) {
        return Err(ApiError::user(
            StatusCode::CONFLICT,
            "capacity_below_booked",
            format!("{booked} orders hold this slot; its capacity cannot go below that"),
        )
        .with("booked", booked)
        .with("capacity", capacity));
    }
    tx.execute_cached(
        "UPDATE delivery_slots SET capacity = coalesce($2, capacity), closed = coalesce($3, closed)
         WHERE id = $1",
        &[&id, &input.capacity, &input.closed],
    )
    .await?;
    outbox::enqueue(&tx, SLOTS_CHANGED, json!({ "storefront": storefront })).await?;
    let row = tx
        .query_one_cached(
            &format!("SELECT {SLOT_COLUMNS} FROM delivery_slots s WHERE s.id = $1"),
            &[&id],
        )
        .await?;
    tx.commit().await?;
    Ok(Json(slot_admin(&row)))
}
