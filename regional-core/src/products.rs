//! The catalogue of record and its merchant API.
//!
//! - `PUT /v1/admin/products/{sku}`: create or replace one product of the token's storefront.
//! - `POST /v1/admin/products:import`: JSON lines, one product each (with `sku`); all or
//!   nothing, every bad line reported with its number.
//! - `GET /v1/admin/products`: the storefront's products.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use deadpool_postgres::GenericClient;
use region_config::{Currency, Slug};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shopper_input::{Paragraphs, Text};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::outbox;
use projections::theme::Image;

/// A product as merchants send it. Prices are per currency, in minor units.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its picture: `url` (https, or a path the storefront serves), `alt`, `width` and
    /// `height` in pixels, optionally `srcset` (`[{url, width}]`, up to 8).
    #[schema(value_type = Option<Object>)]
    pub image: Option<Image>,
    pub unit: String,
    pub tax_category: String,
    pub prices: BTreeMap<String, i64>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// A stored product.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Product {
    pub sku: String,
    pub storefront: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub image: Option<Image>,
    pub unit: String,
    pub tax_category: String,
    pub active: bool,
    pub prices: BTreeMap<String, i64>,
}

/// The SKU rule of the shared input library (`shopper-input`), which the edge uses too.
pub fn valid_sku(sku: &str) -> bool {
    shopper_input::Sku::is_valid(sku)
}

/// Checks everything a product must be before it is written.
pub fn validate(sku: &str, input: &ProductInput) -> Result<(), ApiError> {
    if !valid_sku(sku) {
        return Err(ApiError::field(
            "sku",
            "a SKU is 1 to 64 letters, digits, '.', '_' or '-'",
        ));
    }
    Text::parse("a title", &input.title, 200).map_err(|e| ApiError::input("title", &e))?;
    Paragraphs::parse("a description", &input.description, 5_000)
        .map_err(|e| ApiError::input("description", &e))?;
    if input.category.parse::<Slug>().is_err() {
        return Err(ApiError::field(
            "category",
            "a category is a lowercase slug",
        ));
    }
    if input.tax_category.parse::<Slug>().is_err() {
        return Err(ApiError::field(
            "tax_category",
            "a tax category is a lowercase slug",
        ));
    }
    Text::parse("a unit, e.g. \"500 g\",", &input.unit, 32)
        .map_err(|e| ApiError::input("unit", &e))?;
    if input.tags.len() > 32 {
        return Err(ApiError::field(
            "tags",
            "at most 32 tags of 1 to 32 characters",
        ));
    }
    for tag in &input.tags {
        Text::parse("a tag", tag, 32).map_err(|e| ApiError::input("tags", &e))?;
    }
    if let Some(image) = &input.image {
        image
            .check()
            .map_err(|e| ApiError::field(&e.token, e.to_string()))?;
    }
    if input.prices.is_empty() {
        return Err(ApiError::field(
            "prices",
            "a product has at least one price",
        ));
    }
    for (currency, amount) in &input.prices {
        if currency.parse::<Currency>().is_err() {
            return Err(ApiError::field(
                "prices",
                format!("{currency:?} is not an ISO 4217 currency"),
            ));
        }
        if *amount < 0 || *amount > 10_000_000_000 {
            return Err(ApiError::field(
                "prices",
                "a price is a non-negative integer in minor units",
            ));
        }
    }
    Ok(())
}

/// Writes a product of `storefront`, refusing a SKU that another storefront owns.
async fn upsert(
    client: &impl GenericClient,
    storefront: &str,
    sku: &str,
    input: &ProductInput,
) -> Result<(), ApiError> {
    let owner = client
        .query_opt_cached(
            "SELECT storefront FROM products WHERE sku = $1 FOR UPDATE",
            &[&sku],
        )
        .await?;
    if let Some(owner) = owner
        && owner.get::<_, String>(0) != storefront
    {
        return Err(ApiError::user(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this SKU belongs to another storefront",
        )
        .with("sku", sku));
    }
    client
        .execute_cached(
            "INSERT INTO products (sku, storefront, title, description, category, tags, image,
                                   unit, tax_category, active, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
             ON CONFLICT (sku) DO UPDATE SET title = EXCLUDED.title,
                 description = EXCLUDED.description, category = EXCLUDED.category,
                 tags = EXCLUDED.tags, image = EXCLUDED.image, unit = EXCLUDED.unit,
                 tax_category = EXCLUDED.tax_category, active = EXCLUDED.active, updated_at = now()",
            &[
                &sku,
                &storefront,
                &input.title,
                &input.description,
                &input.category,
                &input.tags,
                &input.image.as_ref().map(|i| serde_json::to_value(i).unwrap_or_default()),
                &input.unit,
                &input.tax_category,
                &input.active,
            ],
        )
        .await?;
    client
        .execute_cached("DELETE FROM product_prices WHERE sku = $1", &[&sku])
        .await?;
    for (currency, amount) in &input.prices {
        client
            .execute_cached(
                "INSERT INTO product_prices (sku, currency, amount_minor) VALUES ($1, $2, $3)",
                &[&sku, currency, amount],
            )
            .await?;
    }
    outbox::enqueue(client, outbox::PRODUCT_CHANGED, json!({ "sku": sku })).await?;
    Ok(())
}

/// Reads one product with its prices.
pub async fn load(
    client: &impl GenericClient,
    sku: &str,
) -> Result<Option<Product>, tokio_postgres::Error> {
    Ok(list_where(client, "p.sku = $1", &sku).await?.pop())
}

/// Every product of `storefront`, active or not, by SKU.
pub async fn load_storefront(
    client: &impl GenericClient,
    storefront: &str,
) -> Result<Vec<Product>, tokio_postgres::Error> {
    list_where(client, "p.storefront = $1", &storefront).await
}

async fn list_where(
    client: &impl GenericClient,
    condition: &str,
    value: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Vec<Product>, tokio_postgres::Error> {
    let rows = client
        .query_cached(
            &format!(
                "SELECT p.sku, p.storefront, p.title, p.description, p.category, p.tags,
                        p.image, p.unit, p.tax_category, p.active,
                        coalesce(jsonb_object_agg(pp.currency, pp.amount_minor)
                                 FILTER (WHERE pp.currency IS NOT NULL), '{{}}')
                 FROM products p LEFT JOIN product_prices pp ON pp.sku = p.sku
                 WHERE {condition} GROUP BY p.sku ORDER BY p.sku"
            ),
            &[value],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Product {
            sku: r.get(0),
            storefront: r.get(1),
            title: r.get(2),
            description: r.get(3),
            category: r.get(4),
            tags: r.get(5),
            image: r
                .get::<_, Option<Value>>(6)
                .and_then(|v| serde_json::from_value(v).ok()),
            unit: r.get(7),
            tax_category: r.get(8),
            active: r.get(9),
            prices: serde_json::from_value(r.get::<_, Value>(10)).unwrap_or_default(),
        })
        .collect())
}

/// `PUT /v1/admin/products/{sku}`: creates or replaces a product of the caller's storefront.
#[utoipa::path(
    put,
    path = "/v1/admin/products/{sku}",
    tag = "merchant",
    params(("sku" = String, Path, description = "1 to 64 letters, digits, '.', '_' or '-'")),
    security(("merchant" = [])),
    request_body = ProductInput,
    responses(
        (status = 200, description = "The product as stored", body = Product),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn put(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(sku): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Product>), ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let input: ProductInput = crate::json_body(&body)?;
    validate(&sku, &input)?;
    let tx = client.transaction().await?;
    upsert(&tx, &storefront, &sku, &input).await?;
    let product = load(&tx, &sku)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    tx.commit().await?;
    Ok((StatusCode::OK, Json(product)))
}

/// One line of an import: `sku` beside every field of `ProductInput`. The product's fields
/// are parsed after the line (so each line's errors are named), which the schema leaves
/// open.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImportLine {
    sku: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    product: Value,
}

/// How many products an import wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    pub imported: usize,
}

/// Every product of the caller's storefront.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductList {
    pub products: Vec<Product>,
}

/// `POST /v1/admin/products:import`: one product per line (JSON lines); all or nothing.
#[utoipa::path(
    post,
    path = "/v1/admin/products:import",
    tag = "merchant",
    security(("merchant" = [])),
    request_body(content = ImportLine, content_type = "application/x-ndjson", description = "One `ImportLine` per line"),
    responses(
        (status = 200, description = "Every line was written", body = Imported),
        (status = 422, description = "Some lines are invalid (each named in `lines`); none was written", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn import(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Imported>, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("malformed_body", "the body is not UTF-8"))?;
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let number = i + 1;
        let result = serde_json::from_str::<ImportLine>(line)
            .map_err(|e| ApiError::bad_request("malformed_json", e.to_string()))
            .and_then(|l| {
                let product: ProductInput = serde_json::from_value(l.product)
                    .map_err(|e| ApiError::unprocessable("invalid_product", e.to_string()))?;
                validate(&l.sku, &product)?;
                Ok((l.sku, product))
            });
        match result {
            Ok(p) => parsed.push(p),
            Err(e) => errors.push(json!({"line": number, "error": e.body()["error"]})),
        }
    }
    if parsed.is_empty() && errors.is_empty() {
        return Err(ApiError::bad_request(
            "empty_import",
            "no product lines in the body",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::unprocessable(
            "invalid_import",
            format!("{} line(s) are invalid; nothing was imported", errors.len()),
        )
        .with("lines", errors));
    }
    let tx = client.transaction().await?;
    for (sku, product) in &parsed {
        upsert(&tx, &storefront, sku, product).await?;
    }
    tx.commit().await?;
    Ok(Json(Imported {
        imported: parsed.len(),
    }))
}

/// `GET /v1/admin/products`: the caller's catalogue.
#[utoipa::path(
    get,
    path = "/v1/admin/products",
    tag = "merchant",
    security(("merchant" = [])),
    responses(
        (status = 200, description = "Every product of the storefront", body = ProductList),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ProductList>, ApiError> {
    let client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let products = list_where(&client, "p.storefront = $1", &storefront).await?;
    Ok(Json(ProductList { products }))
}
