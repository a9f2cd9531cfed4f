//! Brute-force limits on signing in and signing up, checked here at the core (the edge may
//! run anywhere and keeps no state a limit could trust).
//!
//! Every attempt is recorded under two keys before the password is checked: the account's
//! (storefront and lower-cased e-mail, whether or not such an account exists, so that a
//! limit says nothing about existence) and the client address the storefront forwards. An
//! attempt that succeeds is removed again, with the account's earlier failures. Counting
//! attempts before their outcome keeps concurrent guesses within the limit too.

use axum::http::HeaderMap;
use deadpool_postgres::GenericClient;

use crate::auth;
use crate::db::Cached;
use crate::error::ApiError;

/// The window attempts are counted over, in seconds.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Attempts on one account per window.
pub const PER_ACCOUNT: i64 = 5;
/// Attempts from one client address per window.
pub const PER_CLIENT: i64 = 20;

/// The attempt in progress: its rows, and the account key to clear on success.
#[derive(Debug)]
pub struct Attempt {
    ids: Vec<i64>,
    account_key: Option<Vec<u8>>,
}

/// The shopper's address as the storefront forwards it (the first `X-Forwarded-For`
/// entry); requests without one share a single budget.
pub fn client_address(headers: &HeaderMap) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map_or_else(|| "unknown".to_owned(), |v| v.chars().take(64).collect())
}

fn key(kind: &str, value: &str) -> Vec<u8> {
    auth::sha256(&format!("{kind}\n{value}"))
}

/// Records an attempt on `account` (storefront, e-mail key) from `client`, or answers 429
/// with `Retry-After` when either already had its share of the window.
pub async fn begin(
    client: &impl GenericClient,
    account: Option<(&str, &str)>,
    address: &str,
) -> Result<Attempt, ApiError> {
    let account_key =
        account.map(|(storefront, email)| key("account", &format!("{storefront}\n{email}")));
    let client_key = key("client", address);
    let mut keys = vec![client_key.clone()];
    let mut limits = vec![PER_CLIENT];
    if let Some(k) = &account_key {
        keys.push(k.clone());
        limits.push(PER_ACCOUNT);
    }
    let rows = client
        .query_cached(
            "SELECT k.key, k.max, count(a.id), ceil(extract(epoch FROM
                        min(a.at) + make_interval(secs => $3) - now()))::bigint
             FROM unnest($1::bytea[], $2::bigint[]) AS k(key, max)
             LEFT JOIN sign_in_attempts a
                    ON a.key_sha256 = k.key AND a.at > now() - make_interval(secs => $3)
             GROUP BY k.key, k.max",
            &[&keys, &limits, &(WINDOW_SECS as f64)],
        )
        .await?;
    let retry_after = rows
        .iter()
        .filter(|r| r.get::<_, i64>(2) >= r.get::<_, i64>(1))
        .map(|r| r.get::<_, Option<i64>>(3).unwrap_or(WINDOW_SECS).max(1))
        .max();
    if let Some(secs) = retry_after {
        return Err(ApiError::too_many_requests(
            "too_many_attempts",
            "too many attempts; wait before trying again",
            secs,
        ));
    }
    let ids = client
        .query_cached(
            "INSERT INTO sign_in_attempts (key_sha256) SELECT unnest($1::bytea[]) RETURNING id",
            &[&keys],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(Attempt { ids, account_key })
}

/// The attempt succeeded: it and the account's earlier failures no longer count.
pub async fn succeeded(client: &impl GenericClient, attempt: Attempt) -> Result<(), ApiError> {
    client
        .execute_cached(
            "DELETE FROM sign_in_attempts WHERE id = ANY($1) OR key_sha256 = $2",
            &[&attempt.ids, &attempt.account_key],
        )
        .await?;
    Ok(())
}

/// Forgets attempts older than the window (the retention sweeper calls it).
pub async fn forget_old(client: &impl GenericClient) -> Result<u64, ApiError> {
    Ok(client
        .execute_cached(
            "DELETE FROM sign_in_attempts WHERE at < now() - make_interval(secs => $1)",
            &[&(WINDOW_SECS as f64)],
        )
        .await?)
}
