//! Tokens: merchant API tokens (stored hashed, scoped to one storefront) and order access
//! tokens (random, 256 bits, stored hashed).

use axum::http::{HeaderMap, StatusCode};
use deadpool_postgres::GenericClient;
use sha2::{Digest, Sha256};

use crate::db::Cached;
use crate::error::ApiError;

pub fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// A fresh unguessable token: 32 random bytes, hex.
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex::encode(bytes))
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn unauthorized() -> ApiError {
    ApiError::user(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "a valid merchant bearer token is required",
    )
}

/// The storefront a merchant request's bearer token belongs to.
pub async fn merchant(
    client: &impl GenericClient,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let token = bearer(headers).ok_or_else(unauthorized)?;
    let row = client
        .query_opt_cached(
            "SELECT id FROM storefronts WHERE token_sha256 = $1",
            &[&sha256(token)],
        )
        .await?;
    row.map(|r| r.get(0)).ok_or_else(unauthorized)
}

/// Registers (or re-keys) the configured storefronts' tokens.
pub async fn register_storefronts(
    client: &impl GenericClient,
    tokens: &[crate::config::MerchantToken],
) -> anyhow::Result<()> {
    for t in tokens {
        client
            .execute_cached(
                "INSERT INTO storefronts (id, token_sha256) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256",
                &[&t.storefront, &sha256(t.token.expose())],
            )
            .await?;
    }
    Ok(())
}
