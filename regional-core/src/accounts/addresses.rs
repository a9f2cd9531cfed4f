//! Saved delivery addresses of an account: at most [`MAX`], one of them the default (the
//! first saved one until the shopper picks another). Only addresses in countries this
//! region serves can be saved, since only those can be delivered to from here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use shopper_input::address::AddressInput;
use shopper_input::{PersonName, Phone, PostalAddress};
use utoipa::ToSchema;
use uuid::Uuid;

use super::session;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::{AppState, json_body};

/// The most addresses an account keeps.
pub const MAX: i64 = 20;

/// A delivery address as sent to save it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    /// Who receives the delivery.
    name: String,
    #[serde(default)]
    phone: Option<String>,
    line1: String,
    #[serde(default)]
    line2: Option<String>,
    city: String,
    postal_code: String,
    country: String,
    /// Make it the default (prefilled at checkout).
    #[serde(default)]
    default: bool,
}

/// A saved delivery address.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressView {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub default: bool,
}

/// The account's addresses.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressList {
    pub addresses: Vec<AddressView>,
}

/// An address parsed with the shared input library, trimmed as it is stored.
struct Parsed {
    name: PersonName,
    phone: Option<Phone>,
    address: PostalAddress,
    default: bool,
}

fn parse(app: &AppState, body: &AddressBody) -> Result<Parsed, ApiError> {
    let name = PersonName::parse(&body.name).map_err(|e| ApiError::input("name", &e))?;
    let phone = Phone::parse_optional(body.phone.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::input("phone", &e))?;
    let address = PostalAddress::parse(AddressInput {
        line1: &body.line1,
        line2: body.line2.as_deref().unwrap_or(""),
        city: &body.city,
        postal_code: &body.postal_code,
        country: &body.country,
    })
    .map_err(|(field, e)| ApiError::input(field, &e))?;
    let country: region_config::CountryCode =
        address.country.as_str().parse().map_err(|_| {
            ApiError::field("country", "an ISO 3166-1 alpha-2 country code, e.g. DE")
        })?;
    let home = app.regions.home_region(country);
    if home.id != app.region.id {
        return Err(ApiError::unprocessable(
            "address_outside_region",
            format!(
                "region {} does not deliver to {country}; it is served by region {}",
                app.region.id, home.id
            ),
        )
        .with("field", "country"));
    }
    Ok(Parsed {
        name,
        phone,
        address,
        default: body.default,
    })
}

const COLUMNS: &str = "id, name, phone, line1, line2, city, postal_code, country, is_default";

fn to_view(r: &tokio_postgres::Row) -> AddressView {
    AddressView {
        id: r.get(0),
        name: r.get(1),
        phone: r.get(2),
        line1: r.get(3),
        line2: r.get(4),
        city: r.get(5),
        postal_code: r.get(6),
        country: r.get(7),
        default: r.get(8),
    }
}

/// The addresses of `account_id`, the default first.
pub async fn list_of(
    client: &impl GenericClient,
    account_id: Uuid,
) -> Result<Vec<AddressView>, ApiError> {
    Ok(client
        .query_cached(
            &format!(
                "SELECT {COLUMNS} FROM account_addresses WHERE account_id = $1
                 ORDER BY is_default DESC, created_at, id"
            ),
            &[&account_id],
        )
        .await?
        .iter()
        .map(to_view)
        .collect())
}

/// Writes `parsed` as address `id` of `account_id` (a new one when `new`), keeping exactly
/// one default.
async fn write(
    client: &impl GenericClient,
    account_id: Uuid,
    id: Uuid,
    parsed: &Parsed,
    new: bool,
) -> Result<Option<AddressView>, ApiError> {
    if parsed.default {
        client
            .execute_cached(
                "UPDATE account_addresses SET is_default = false
                 WHERE account_id = $1 AND is_default AND id <> $2",
                &[&account_id, &id],
            )
            .await?;
    }
    let a = &parsed.address;
    let values: [&(dyn tokio_postgres::types::ToSql + Sync); 10] = [
        &id,
        &account_id,
        &parsed.name.as_str(),
        &parsed.phone.as_ref().map(Phone::as_str),
        &a.line1.as_str(),
        &a.line2.as_ref().map(shopper_input::Text::as_str),
        &a.city.as_str(),
        &a.postal_code.as_str(),
        &a.country.as_str(),
        &parsed.default,
    ];
    let sql = if new {
        format!(
            "INSERT INTO account_addresses (id, account_id, name, phone, line1, line2, city,
                                            postal_code, country, is_default)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                     $10 OR NOT EXISTS (SELECT 1 FROM account_addresses
                                        WHERE account_id = $2 AND is_default))
             RETURNING {COLUMNS}"
        )
    } else {
        format!(
            "UPDATE account_addresses
             SET name = $3, phone = $4, line1 = $5, line2 = $6, city = $7, postal_code = $8,
                 country = $9, is_default = is_default OR $10
             WHERE id = $1 AND account_id = $2
             RETURNING {COLUMNS}"
        )
    };
    Ok(client
        .query_opt_cached(&sql, &values)
        .await?
        .as_ref()
        .map(to_view))
}

/// `GET /v1/account/addresses`.
#[utoipa::path(
    get,
    path = "/v1/account/addresses",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 200, description = "The saved addresses, the default first", body = AddressList),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<AddressList>, ApiError> {
    let client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    Ok(Json(AddressList {
        addresses: list_of(&client, me.account_id).await?,
    }))
}

/// `POST /v1/account/addresses`: saves a new address.
#[utoipa::path(
    post,
    path = "/v1/account/addresses",
    tag = "account",
    security(("session" = [])),
    request_body = AddressBody,
    responses(
        (status = 201, description = "Saved", body = AddressView),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn add(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<AddressView>), ApiError> {
    let body: AddressBody = json_body(&body)?;
    let parsed = parse(&app, &body)?;
    let mut client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    let tx = client.transaction().await?;
    // The account's row lock orders concurrent saves, so the count below holds.
    tx.execute_cached(
        "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE",
        &[&me.account_id],
    )
    .await?;
    let count: i64 = tx
        .query_one_cached(
            "SELECT count(*) FROM account_addresses WHERE account_id = $1",
            &[&me.account_id],
        )
        .await?
        .get(0);
    if count >= MAX {
        return Err(ApiError::unprocessable(
            "too_many_addresses",
            format!("an account keeps at most {MAX} addresses; remove one first"),
        ));
    }
    let saved = write(&tx, me.account_id, Uuid::new_v4(), &parsed, true)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the inserted address was not returned"))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// `PUT /v1/account/addresses/{id}`: replaces a saved address.
#[utoipa::path(
    put,
    path = "/v1/account/addresses/{id}",
    tag = "account",
    security(("session" = [])),
    params(("id" = Uuid, Path, description = "The address")),
    request_body = AddressBody,
    responses(
        (status = 200, description = "Saved", body = AddressView),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn put(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<AddressView>, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found("address"))?;
    let body: AddressBody = json_body(&body)?;
    let parsed = parse(&app, &body)?;
    let mut client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    let tx = client.transaction().await?;
    let saved = write(&tx, me.account_id, id, &parsed, false)
        .await?
        .ok_or_else(|| ApiError::not_found("address"))?;
    tx.commit().await?;
    Ok(Json(saved))
}

/// `DELETE /v1/account/addresses/{id}`: removes a saved address; when it was the default,
/// the oldest remaining one becomes the default.
#[utoipa::path(
    delete,
    path = "/v1/account/addresses/{id}",
    tag = "account",
    security(("session" = [])),
    params(("id" = Uuid, Path, description = "The address")),
    responses(
        (status = 204, description = "Removed"),
        (status = "4XX", description = "Not signed in, or not this account's address", body = ErrorBody),
    )
)]
pub async fn delete(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found("address"))?;
    let mut client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    let tx = client.transaction().await?;
    let removed = tx
        .execute_cached(
            "DELETE FROM account_addresses WHERE id = $1 AND account_id = $2",
            &[&id, &me.account_id],
        )
        .await?;
    if removed == 0 {
        return Err(ApiError::not_found("address"));
    }
    tx.execute_cached(
        "UPDATE account_addresses SET is_default = true
         WHERE id = (SELECT id FROM account_addresses WHERE account_id = $1
                     ORDER BY created_at, id LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM account_addresses WHERE account_id = $1 AND is_default)",
        &[&me.account_id],
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
