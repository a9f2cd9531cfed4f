//! Promotions, per storefront and region: the codes shoppers type.
//!
//! - `PUT /v1/admin/promotions/{code}`: create or replace one (merchant token).
//! - `DELETE /v1/admin/promotions/{code}`: withdraw it.
//! - `GET /v1/admin/promotions`: the storefront's promotions.
//!
//! A change is an outbox event in the same transaction: the relay republishes the
//! storefront's pricing rules, so the edge pricing component quotes with the same
//! promotions checkout applies. Rules and precedence are the `pricing-rules` library's.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use deadpool_postgres::GenericClient;
use pricing_rules::{Promotion, Rule};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::outbox;

/// A promotion as a merchant sends it; the code is in the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionInput {
    rule: Rule,
    #[serde(default)]
    min_spend_minor: i64,
    /// Unix seconds after which the code is refused.
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    stacks: bool,
}

/// A promo code: 1 to 32 letters, digits or dashes; stored upper-case.
pub fn normalise_code(code: &str) -> Option<String> {
    let ok = (1..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| code.to_ascii_uppercase())
}

fn validate(input: &PromotionInput) -> Result<(), ApiError> {
    match &input.rule {
        Rule::PercentOff { bp } if !(1..=10_000).contains(bp) => {
            return Err(ApiError::field(
                "rule.bp",
                "a percentage in basis points, 1 to 10,000",
            ));
        }
        Rule::AmountOff { minor } if *minor <= 0 => {
            return Err(ApiError::field(
                "rule.minor",
                "a positive amount in minor units",
            ));
        }
        Rule::BuyXGetY { sku, buy, get } => {
            if *buy == 0 || *get == 0 || *buy > 1_000 || *get > 1_000 {
                return Err(ApiError::field("rule", "buy and get are 1 to 1,000 units"));
            }
            if !crate::products::valid_sku(sku) {
                return Err(ApiError::field("rule.sku", "a SKU"));
            }
        }
        _ => {}
    }
    if input.min_spend_minor < 0 {
        return Err(ApiError::field(
            "min_spend_minor",
            "zero or a positive amount in minor units",
        ));
    }
    if input.expires_at.is_some_and(|t| t <= 0) {
        return Err(ApiError::field("expires_at", "Unix seconds"));
    }
    Ok(())
}

/// The storefront's promotions, by code.
pub async fn for_storefront(
    client: &impl GenericClient,
    storefront: &str,
) -> Result<Vec<Promotion>, ApiError> {
    let rows = client
        .query_cached(
            "SELECT promotion FROM promotions WHERE storefront = $1 ORDER BY code",
            &[&storefront],
        )
        .await?;
    rows.iter()
        .map(|r| {
            serde_json::from_value(r.get::<_, Value>(0))
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored promotion: {e}")))
        })
        .collect()
}

/// The storefront's promo codes.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionList {
    pub promotions: Vec<Promotion>,
}

const CODE: &str = "1 to 32 letters, digits or dashes; case-insensitive";

/// `PUT /v1/admin/promotions/{code}`: creates or replaces a promo code.
#[utoipa::path(
    put,
    path = "/v1/admin/promotions/{code}",
    tag = "merchant",
    params(("code" = String, Path, description = CODE)),
    security(("merchant" = [])),
    request_body = PromotionInput,
    responses(
        (status = 200, description = "The promotion as stored", body = Promotion),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn put(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<Json<Promotion>, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let code = normalise_code(&code).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_promo_code",
            "a promo code is 1 to 32 letters, digits or dashes",
        )
    })?;
    let input: PromotionInput = crate::json_body(&body)?;
    validate(&input)?;
    let tx = client.transaction().await?;
    if let Rule::BuyXGetY { sku, .. } = &input.rule {
        let known = tx
            .query_opt_cached(
                "SELECT 1 FROM products WHERE sku = $1 AND storefront = $2",
                &[&sku, &storefront],
            )
            .await?;
        if known.is_none() {
            return Err(ApiError::unprocessable(
                "unknown_sku",
                "no such product in this storefront",
            )
            .with("sku", sku.as_str()));
        }
    }
    let promotion = Promotion {
        code: code.clone(),
        rule: input.rule,
        min_spend_minor: input.min_spend_minor,
        expires_at: input.expires_at,
        stacks: input.stacks,
    };
    let stored = serde_json::to_value(&promotion).map_err(anyhow::Error::from)?;
    tx.execute_cached(
        "INSERT INTO promotions (storefront, code, promotion) VALUES ($1, $2, $3)
         ON CONFLICT (storefront, code) DO UPDATE SET promotion = $3, updated_at = now()",
        &[&storefront, &code, &stored],
    )
    .await?;
    outbox::enqueue(
        &tx,
        outbox::PROMOTIONS_CHANGED,
        json!({ "storefront": storefront }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(promotion))
}

/// `DELETE /v1/admin/promotions/{code}`: withdraws a promo code.
#[utoipa::path(
    delete,
    path = "/v1/admin/promotions/{code}",
    tag = "merchant",
    params(("code" = String, Path, description = CODE)),
    security(("merchant" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn delete(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let code = normalise_code(&code).ok_or_else(|| ApiError::not_found("promotion"))?;
    let tx = client.transaction().await?;
    let deleted = tx
        .execute_cached(
            "DELETE FROM promotions WHERE storefront = $1 AND code = $2",
            &[&storefront, &code],
        )
        .await?;
    if deleted == 0 {
        return Err(ApiError::not_found("promotion"));
    }
    outbox::enqueue(
        &tx,
        outbox::PROMOTIONS_CHANGED,
        json!({ "storefront": storefront }),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/admin/promotions`: the storefront's promo codes.
#[utoipa::path(
    get,
    path = "/v1/admin/promotions",
    tag = "merchant",
    security(("merchant" = [])),
    responses(
        (status = 200, description = "Every promo code of the storefront", body = PromotionList),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours or the payment provider's; retry", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<PromotionList>, ApiError> {
    let client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let promotions = for_storefront(&client, &storefront).await?;
    Ok(Json(PromotionList { promotions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_plain_and_upper_case() {
        assert_eq!(normalise_code("welcome-10").as_deref(), Some("WELCOME-10"));
        assert_eq!(normalise_code(""), None);
        assert_eq!(normalise_code("NO SPACES"), None);
        assert_eq!(normalise_code(&"X".repeat(33)), None);
    }
}
