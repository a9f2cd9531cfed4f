//! Sessions: a random token per sign-in, stored as its SHA-256 with an expiry and its last
//! use. The shopper holds it inside the signed cookie the edge routes by
//! (`pricing_rules::session`); the storefront sends that cookie's value as the bearer token.

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::ApiError;

/// How long a session lasts from sign-in.
pub const LIFETIME_DAYS: i32 = 30;

/// A session issued at sign-in or sign-up.
#[derive(Debug)]
pub struct Issued {
    /// The cookie value: `REGION.TOKEN.SIGNATURE`.
    pub cookie: String,
    pub expires_at: DateTime<Utc>,
}

/// The signed-in shopper of a request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account_id: Uuid,
    pub storefront: String,
    pub(crate) token_sha256: Vec<u8>,
}

fn cookie_for(app: &AppState, token: &str) -> String {
    let region = app.region.id.as_str();
    match &app.quote_signing_key {
        Some(key) => pricing_rules::session::issue(key.expose().as_bytes(), region, token),
        // Without a key nothing at the edge can check a signature; the token still is the
        // credential, and a zero signature keeps the cookie's shape.
        None => format!("{region}.{token}.{}", "0".repeat(64)),
    }
}

/// Starts a session for `account_id` from the browser named by `headers`.
pub async fn create(
    client: &impl GenericClient,
    app: &AppState,
    account_id: Uuid,
    headers: &HeaderMap,
) -> Result<Issued, ApiError> {
    let token = auth::random_token()?;
    let browser: String = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let row = client
        .query_one_cached(
            "INSERT INTO sessions (token_sha256, account_id, client, expires_at)
             VALUES ($1, $2, $3, now() + make_interval(days => $4))
             RETURNING expires_at",
            &[&auth::sha256(&token), &account_id, &browser, &LIFETIME_DAYS],
        )
        .await?;
    Ok(Issued {
        cookie: cookie_for(app, &token),
        expires_at: row.get(0),
    })
}

fn signed_out(message: &str) -> ApiError {
    ApiError::user(
        StatusCode::UNAUTHORIZED,
        "not_signed_in",
        message.to_owned(),
    )
}

/// The signed-in shopper of `headers` (`Authorization: Bearer REGION.TOKEN.SIGNATURE`):
/// 401 without a valid, unexpired session; 421 naming the home region when the session is
/// another region's. Notes the session's use at most once a minute.
pub async fn current(
    client: &impl GenericClient,
    app: &AppState,
    headers: &HeaderMap,
) -> Result<SignedIn, ApiError> {
    let value = auth::bearer(headers).ok_or_else(|| signed_out("sign in first"))?;
    let session = pricing_rules::session::parse(value)
        .ok_or_else(|| signed_out("the session is not valid; sign in again"))?;
    if session.region != app.region.id.as_str() {
        let known = app
            .regions
            .regions()
            .iter()
            .find(|r| r.id.as_str() == session.region);
        return Err(match known {
            Some(home) => ApiError::user(
                StatusCode::MISDIRECTED_REQUEST,
                "wrong_region",
                format!("this account is served by region {}", home.id),
            )
            .with("home_region", home.id.as_str()),
            None => signed_out("the session is not valid; sign in again"),
        });
    }
    if let Some(key) = &app.quote_signing_key
        && !pricing_rules::session::verify(key.expose().as_bytes(), &session)
    {
        return Err(signed_out("the session is not valid; sign in again"));
    }
    let hash = auth::sha256(session.token);
    let row = client
        .query_opt_cached(
            "WITH s AS (
                 SELECT token_sha256, account_id, expires_at > now() AS live,
                        last_used_at < now() - interval '1 minute' AS stale
                 FROM sessions WHERE token_sha256 = $1),
             touched AS (
                 UPDATE sessions SET last_used_at = now()
                 WHERE token_sha256 = (SELECT token_sha256 FROM s WHERE live AND stale))
             SELECT s.account_id, s.live, a.storefront
             FROM s JOIN accounts a ON a.id = s.account_id",
            &[&hash],
        )
        .await?
        .ok_or_else(|| signed_out("the session has ended; sign in again"))?;
    if !row.get::<_, bool>(1) {
        client
            .execute_cached("DELETE FROM sessions WHERE token_sha256 = $1", &[&hash])
            .await?;
        return Err(signed_out("the session has expired; sign in again"));
    }
    Ok(SignedIn {
        account_id: row.get(0),
        storefront: row.get(2),
        token_sha256: hash,
    })
}
