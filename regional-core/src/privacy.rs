//! Data-subject rights, answered by the home region's core: a machine-readable export of
//! everything held about a shopper, erasure, and the retention periods of `regions.toml`
//! applied by a sweeper. Every export, erasure and sweep that changed something is a row of
//! the append-only `privacy_requests` log: its kind, who asked, when, and counts, never
//! personal data.
//!
//! Erasure anonymises orders, it never deletes them: the account, its addresses, consents and
//! sessions are deleted; every order's name, e-mail address, phone and street lines are
//! replaced and its postal code truncated, while amounts, tax, currency, SKUs, dates,
//! country and the PSP's reference stay for the accounts.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::accounts::{self, addresses, session};
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::{AppState, json_body};

/// Whose data a request concerns.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A shopper with an account.
    Account(Uuid),
    /// Everything under an e-mail address: guest orders, and the accounts of every
    /// storefront of the region with that address (staff requests).
    Email(String),
}

/// What an erasure or sweep changed, in counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Erased {
    pub accounts: i64,
    pub addresses: i64,
    pub sessions: i64,
    pub consents: i64,
    pub orders: i64,
}

impl Erased {
    fn add(&mut self, other: &Erased) {
        self.accounts += other.accounts;
        self.addresses += other.addresses;
        self.sessions += other.sessions;
        self.consents += other.consents;
        self.orders += other.orders;
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Appends to the privacy log.
pub async fn record(
    client: &impl GenericClient,
    kind: &str,
    subject: &str,
    requested_by: &str,
    account_id: Option<Uuid>,
    changes: &Value,
) -> Result<(), ApiError> {
    client
        .execute_cached(
            "INSERT INTO privacy_requests (id, kind, subject, requested_by, account_id, changes)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &Uuid::new_v4(),
                &kind,
                &subject,
                &requested_by,
                &account_id,
                changes,
            ],
        )
        .await?;
    Ok(())
}

/// The accounts a subject names.
async fn accounts_of(
    client: &impl GenericClient,
    subject: &Subject,
) -> Result<Vec<Uuid>, ApiError> {
    let rows = match subject {
        Subject::Account(id) => {
            client
                .query_cached("SELECT id FROM accounts WHERE id = $1", &[id])
                .await?
        }
        Subject::Email(email) => {
            client
                .query_cached(
                    "SELECT id FROM accounts WHERE email_key = lower($1) ORDER BY created_at",
                    &[email],
                )
                .await?
        }
    };
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The orders a subject names: its accounts' orders and, by e-mail, guest orders too.
async fn orders_of(
    client: &impl GenericClient,
    subject: &Subject,
    accounts: &[Uuid],
) -> Result<Vec<Uuid>, ApiError> {
    let email = match subject {
        Subject::Email(e) => Some(e.as_str()),
        Subject::Account(_) => None,
    };
    Ok(client
        .query_cached(
            "SELECT o.id FROM orders o JOIN order_shoppers s ON s.order_id = o.id
             WHERE o.erased_at IS NULL
               AND (o.account_id = ANY($1) OR lower(s.email) = lower($2))
             ORDER BY o.created_at, o.id",
            &[&accounts, &email],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

fn time(row: &tokio_postgres::Row, i: usize) -> Option<String> {
    row.get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)
        .map(|t| t.to_rfc3339())
}

/// Everything held about `subject`, as JSON: accounts with their addresses, consents,
/// sessions (times and browser only) and privacy requests; orders with lines, status
/// history, the shopper's details as given, payments (provider and reference, amounts; a
/// card number is never held) and refunds.
pub async fn export(
    client: &impl GenericClient,
    region: &str,
    subject: &Subject,
) -> Result<Value, ApiError> {
    let accounts = accounts_of(client, subject).await?;
    let mut account_docs = Vec::new();
    for id in &accounts {
        let account = accounts::view(client, region, *id).await?;
        let consents = client
            .query_cached(
                "SELECT kind, granted, at FROM account_consents WHERE account_id = $1 ORDER BY kind",
                &[id],
            )
            .await?
            .iter()
            .map(|r| json!({"kind": r.get::<_, String>(0), "granted": r.get::<_, bool>(1), "at": time(r, 2)}))
            .collect::<Vec<_>>();
        let sessions = client
            .query_cached(
                "SELECT client, created_at, last_used_at, expires_at FROM sessions
                 WHERE account_id = $1 ORDER BY created_at",
                &[id],
            )
            .await?
            .iter()
            .map(|r| {
                json!({"client": r.get::<_, String>(0), "created_at": time(r, 1),
                       "last_used_at": time(r, 2), "expires_at": time(r, 3)})
            })
            .collect::<Vec<_>>();
        let requests = client
            .query_cached(
                "SELECT kind, requested_by, at, changes FROM privacy_requests
                 WHERE account_id = $1 ORDER BY at",
                &[id],
            )
            .await?
            .iter()
            .map(|r| {
                json!({"kind": r.get::<_, String>(0), "requested_by": r.get::<_, String>(1),
                       "at": time(r, 2), "changes": r.get::<_, Value>(3)})
            })
            .collect::<Vec<_>>();
        account_docs.push(json!({
            "account": account,
            "addresses": addresses::list_of(client, *id).await?,
            "consents": consents,
            "sessions": sessions,
            "privacy_requests": requests,
        }));
    }
    let mut order_docs = Vec::new();
    for id in orders_of(client, subject, &accounts).await? {
        let Some(view) = crate::orders::view(client, id).await? else {
            continue;
        };
        let row = client
            .query_one_cached(
                "SELECT s.email, s.name, s.phone, s.country, s.address, o.payment_provider,
                        o.payment_id, o.account_id
                 FROM orders o JOIN order_shoppers s ON s.order_id = o.id WHERE o.id = $1",
                &[&id],
            )
            .await?;
        let refunds = client
            .query_cached(
                "SELECT amount_minor, state, created_at FROM refunds WHERE order_id = $1 ORDER BY created_at",
                &[&id],
            )
            .await?
            .iter()
            .map(|r| json!({"amount_minor": r.get::<_, i64>(0), "state": r.get::<_, String>(1), "at": time(r, 2)}))
            .collect::<Vec<_>>();
        order_docs.push(json!({
            "order": view,
            "account_id": row.get::<_, Option<Uuid>>(7),
            "shopper": {
                "email": row.get::<_, String>(0),
                "name": row.get::<_, String>(1),
                "phone": row.get::<_, Option<String>>(2),
                "country": row.get::<_, String>(3),
                "address": row.get::<_, Value>(4),
            },
            "payment": {
                "provider": row.get::<_, Option<String>>(5),
                "reference": row.get::<_, Option<String>>(6),
                "amount_minor": view.total_minor,
                "currency": view.currency,
                "refunded_minor": view.refunded_minor,
            },
            "refunds": refunds,
        }));
    }
    Ok(json!({
        "format": "meridian-export/1",
        "region": region,
        "exported_at": chrono::Utc::now().to_rfc3339(),
        "accounts": account_docs,
        "orders": order_docs,
    }))
}

/// Anonymises `orders` (their personal fields only) in `client`'s transaction.
async fn anonymise_orders(client: &impl GenericClient, orders: &[Uuid]) -> Result<i64, ApiError> {
    let changed = client
        .execute_cached(
            "WITH s AS (
                 UPDATE order_shoppers
                 SET email = 'erased', name = 'erased', phone = NULL,
                     address = jsonb_build_object(
                         'country', address->>'country',
                         'postal_code', left(regexp_replace(coalesce(address->>'postal_code', ''),
                                                            '[^A-Za-z0-9]', '', 'g'), 2),
                         'erased', true)
                 WHERE order_id = ANY($1))
             UPDATE orders SET erased_at = now(), account_id = NULL, updated_at = now()
             WHERE id = ANY($1) AND erased_at IS NULL",
            &[&orders],
        )
        .await?;
    Ok(i64::try_from(changed).unwrap_or(i64::MAX))
}

/// Drops the subject's e-mail still queued (sent mail keeps no address or content).
async fn forget_mail(
    client: &impl GenericClient,
    subject: &Subject,
    accounts: &[Uuid],
) -> Result<(), ApiError> {
    let email = match subject {
        Subject::Email(e) => Some(e.as_str()),
        Subject::Account(_) => None,
    };
    client
        .execute_cached(
            "DELETE FROM outgoing_mail
             WHERE to_address IS NOT NULL
               AND (lower(to_address) = lower($1)
                    OR lower(to_address) IN (SELECT email_key FROM accounts WHERE id = ANY($2)))",
            &[&email, &accounts],
        )
        .await?;
    Ok(())
}

/// Erases `subject` in `client`'s transaction: deletes its accounts (with addresses,
/// consents and sessions) and anonymises its orders. Records the request.
pub async fn erase(
    client: &impl GenericClient,
    subject: &Subject,
    requested_by: &str,
) -> Result<Erased, ApiError> {
    let accounts = accounts_of(client, subject).await?;
    let orders = orders_of(client, subject, &accounts).await?;
    let mut erased = Erased {
        orders: anonymise_orders(client, &orders).await?,
        ..Erased::default()
    };
    forget_mail(client, subject, &accounts).await?;
    let row = client
        .query_one_cached(
            "WITH ad AS (DELETE FROM account_addresses WHERE account_id = ANY($1) RETURNING 1),
                  co AS (DELETE FROM account_consents WHERE account_id = ANY($1) RETURNING 1),
                  se AS (DELETE FROM sessions WHERE account_id = ANY($1) RETURNING 1)
             SELECT (SELECT count(*) FROM ad), (SELECT count(*) FROM co), (SELECT count(*) FROM se)",
            &[&accounts],
        )
        .await?;
    erased.addresses = row.get(0);
    erased.consents = row.get(1);
    erased.sessions = row.get(2);
    erased.accounts = i64::try_from(
        client
            .execute_cached("DELETE FROM accounts WHERE id = ANY($1)", &[&accounts])
            .await?,
    )
    .unwrap_or(i64::MAX);
    let subject_kind = if accounts.is_empty() {
        "guest"
    } else {
        "account"
    };
    record(
        client,
        "erasure",
        subject_kind,
        requested_by,
        None,
        &serde_json::to_value(&erased).map_err(anyhow::Error::from)?,
    )
    .await?;
    Ok(erased)
}

/// One round of the retention policy of this core's region: guest orders completed longer
/// ago than `guest_order_days` are anonymised, accounts not signed in to for
/// `inactive_account_days` are erased, and expired sessions and old sign-in attempts are
/// forgotten. A round that changed personal data is recorded.
pub async fn sweep(app: &AppState) -> Result<Erased, ApiError> {
    let mut client = app.pool.get().await?;
    limits_and_sessions(&client).await?;
    let Some(retention) = app.region.retention else {
        return Ok(Erased::default());
    };
    let tx = client.transaction().await?;
    let guest_days = i32::try_from(retention.guest_order_days).unwrap_or(i32::MAX);
    let account_days = i32::try_from(retention.inactive_account_days).unwrap_or(i32::MAX);
    let orders: Vec<Uuid> = tx
        .query_cached(
            "SELECT id FROM orders
             WHERE account_id IS NULL AND erased_at IS NULL
               AND status IN ('fulfilled', 'delivered', 'cancelled', 'payment_declined', 'refunded', 'partially_refunded')
               AND updated_at < now() - make_interval(days => $1)
             ORDER BY updated_at LIMIT 1000
             FOR UPDATE SKIP LOCKED",
            &[&guest_days],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut total = Erased {
        orders: anonymise_orders(&tx, &orders).await?,
        ..Erased::default()
    };
    let inactive: Vec<Uuid> = tx
        .query_cached(
            "SELECT id FROM accounts WHERE last_sign_in_at < now() - make_interval(days => $1)
             ORDER BY last_sign_in_at LIMIT 100 FOR UPDATE SKIP LOCKED",
            &[&account_days],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for id in inactive {
        let accounts = [id];
        let orders = orders_of(&tx, &Subject::Account(id), &accounts).await?;
        let mut one = Erased {
            orders: anonymise_orders(&tx, &orders).await?,
            ..Erased::default()
        };
        forget_mail(&tx, &Subject::Account(id), &accounts).await?;
        let row = tx
            .query_one_cached(
                "WITH ad AS (DELETE FROM account_addresses WHERE account_id = $1 RETURNING 1),
                      co AS (DELETE FROM account_consents WHERE account_id = $1 RETURNING 1),
                      se AS (DELETE FROM sessions WHERE account_id = $1 RETURNING 1),
                      ac AS (DELETE FROM accounts WHERE id = $1 RETURNING 1)
                 SELECT (SELECT count(*) FROM ad), (SELECT count(*) FROM co),
                        (SELECT count(*) FROM se), (SELECT count(*) FROM ac)",
                &[&id],
            )
            .await?;
        one.addresses = row.get(0);
        one.consents = row.get(1);
        one.sessions = row.get(2);
        one.accounts = row.get(3);
        total.add(&one);
    }
    if !total.is_empty() {
        let changes = json!({
            "erased": total,
            "guest_order_days": retention.guest_order_days,
            "inactive_account_days": retention.inactive_account_days,
        });
        record(
            &tx,
            "retention",
            "policy",
            "retention sweeper",
            None,
            &changes,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(total)
}

/// Forgets what expires by itself: old sign-in attempts, expired sessions, and sign-ups
/// never confirmed within their code's lifetime.
async fn limits_and_sessions(client: &impl GenericClient) -> Result<(), ApiError> {
    accounts::limits::forget_old(client).await?;
    client
        .execute_cached("DELETE FROM sessions WHERE expires_at < now()", &[])
        .await?;
    client
        .execute_cached(
            "DELETE FROM accounts WHERE confirmed_at IS NULL AND confirmation_expires_at < now()",
            &[],
        )
        .await?;
    Ok(())
}

/// Runs the sweeper every `interval`, forever.
pub async fn run_sweeper(app: AppState, interval: Duration) {
    loop {
        match sweep(&app).await {
            Ok(erased) if !erased.is_empty() => {
                tracing::info!(
                    orders = erased.orders,
                    accounts = erased.accounts,
                    "retention applied"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// `POST /v1/account/erasure`: the password again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    #[schema(format = Password)]
    password: String,
}

/// `GET /v1/account/export`: everything held about the signed-in shopper, as a JSON file.
#[utoipa::path(
    get,
    path = "/v1/account/export",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 200, description = "The export (`format`: meridian-export/1)", body = Object),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn export_mine(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let mut client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    let tx = client.transaction().await?;
    let subject = Subject::Account(me.account_id);
    let document = export(&tx, app.region.id.as_str(), &subject).await?;
    let counts = json!({
        "orders": document["orders"].as_array().map_or(0, Vec::len),
    });
    record(
        &tx,
        "export",
        "account",
        "shopper",
        Some(me.account_id),
        &counts,
    )
    .await?;
    tx.commit().await?;
    Ok((
        [(
            axum::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"meridian-export.json\"",
        )],
        Json(document),
    ))
}

/// `POST /v1/account/erasure`: erases the signed-in shopper's account and anonymises their
/// orders, irreversibly. Needs the password again.
#[utoipa::path(
    post,
    path = "/v1/account/erasure",
    tag = "account",
    security(("session" = [])),
    request_body = ErasureRequest,
    responses(
        (status = 200, description = "Erased: what changed, in counts", body = Erased),
        (status = 403, description = "The password is wrong", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn erase_mine(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Erased>, ApiError> {
    let body: ErasureRequest = json_body(&body)?;
    let mut client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    accounts::confirm_password(&client, &me, Some(&body.password), &headers).await?;
    let tx = client.transaction().await?;
    let erased = erase(&tx, &Subject::Account(me.account_id), "shopper").await?;
    tx.commit().await?;
    Ok(Json(erased))
}
