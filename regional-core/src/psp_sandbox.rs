//! The sandbox payment service provider: a separate HTTP server (`regional-core
//! psp-sandbox`) that behaves like a real PSP for tests, benchmarks and local runs.
//!
//! Test tokens decide what happens to an authorisation:
//!
//! | token | outcome |
//! |---|---|
//! | `tok_approve` (or any other `tok_…`) | authorised |
//! | `tok_decline` | declined |
//! | `tok_timeout` | authorised, but the answer comes only after `--slow-ms` (clients time out) |
//! | `tok_fail_after_commit` | authorised, then answers 500 as if the response was lost |
//!
//! `--fail-after-commit-percent N` makes N% of all authorisations behave like
//! `tok_fail_after_commit`. Every write takes an `Idempotency-Key`: a repeat returns the
//! first result, a different body under the same key is refused with 422.
//! Authorisations live in memory; the sandbox keeps nothing on disk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::payments::{AuthorizationRecord, AuthorizationStatus};

/// How the sandbox misbehaves.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxConfig {
    /// Address to listen on; port 0 picks a free port (printed on start).
    #[arg(long, default_value = "127.0.0.1:7199")]
    pub listen: std::net::SocketAddr,
    /// Percentage of authorisations that commit and then answer 500.
    #[arg(long, default_value_t = 0)]
    pub fail_after_commit_percent: u8,
    /// How long `tok_timeout` authorisations take to answer, in milliseconds.
    #[arg(long, default_value_t = 5_000)]
    pub slow_ms: u64,
}

#[derive(Debug, Clone)]
struct Stored {
    request: serde_json::Value,
    record: AuthorizationRecord,
    key: String,
}

#[derive(Debug, Default)]
struct Ledger {
    by_id: HashMap<String, Stored>,
    by_key: HashMap<String, String>,
    /// Settlement keys already applied: key -> authorisation id.
    settlements: HashMap<String, String>,
    counter: u64,
}

#[derive(Debug, Clone)]
struct Sandbox {
    config: SandboxConfig,
    ledger: Arc<Mutex<Ledger>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizeBody {
    amount_minor: i64,
    currency: String,
    token: String,
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

fn key_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .map(str::to_owned)
}

/// The sandbox's routes, for embedding in a test or serving from the binary.
pub fn router(config: SandboxConfig) -> Router {
    let state = Sandbox {
        config,
        ledger: Arc::default(),
    };
    Router::new()
        .route("/v1/authorizations", post(authorize).get(list))
        .route("/v1/authorizations/by-key/{key}", get(by_key))
        .route("/v1/authorizations/{id}/{operation}", post(settle))
        .with_state(state)
}

/// Serves the sandbox on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SandboxConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn authorize(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: Result<Json<AuthorizeBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Some(key) = key_of(&headers) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "Idempotency-Key is required",
        );
    };
    let Ok(Json(body)) = body else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "expected amount_minor, currency, token",
        );
    };
    if body.amount_minor <= 0 || body.currency.len() != 3 || !body.token.starts_with("tok_") {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            "positive amount, ISO currency and a tok_ token are required",
        );
    }
    let request =
        json!({"amount_minor": body.amount_minor, "currency": body.currency, "token": body.token});
    let (record, fresh) = {
        let Ok(mut ledger) = sandbox.ledger.lock() else {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "ledger poisoned",
            );
        };
        if let Some(id) = ledger.by_key.get(&key).cloned() {
            let stored = &ledger.by_id[&id];
            if stored.request != request {
                return refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this key was used with a different request",
                );
            }
            (stored.record.clone(), false)
        } else {
            ledger.counter += 1;
            let id = format!("auth_{:08}", ledger.counter);
            let status = if body.token == "tok_decline" {
                AuthorizationStatus::Declined
            } else {
                AuthorizationStatus::Authorized
            };
            let record = AuthorizationRecord {
                id: id.clone(),
                status,
                amount_minor: body.amount_minor,
                currency: body.currency.clone(),
                refunded_minor: 0,
                captured_minor: None,
            };
            ledger.by_key.insert(key.clone(), id.clone());
            ledger.by_id.insert(
                id,
                Stored {
                    request,
                    record: record.clone(),
                    key: key.clone(),
                },
            );
            (record, true)
        }
    };
    // Misbehaviour happens after the commit, like a real lost response.
    if fresh {
        if body.token == "tok_timeout" {
            tokio::time::sleep(Duration::from_millis(sandbox.config.slow_ms)).await;
        }
        let unlucky = sandbox.config.fail_after_commit_percent > 0
            && random_percent() < sandbox.config.fail_after_commit_percent;
        if body.token == "tok_fail_after_commit" || unlucky {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "simulated failure after commit",
            );
        }
    }
    (StatusCode::CREATED, Json(record)).into_response()
}

fn random_percent() -> u8 {
    let mut byte = [0u8; 2];
    let _ = getrandom::fill(&mut byte);
    (u16::from_le_bytes(byte) % 100) as u8
}

async fn by_key(State(sandbox): State<Sandbox>, Path(key): Path<String>) -> Response {
    let Ok(ledger) = sandbox.ledger.lock() else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "ledger poisoned",
        );
    };
    match ledger.by_key.get(&key) {
        Some(id) => Json(ledger.by_id[id].record.clone()).into_response(),
        None => refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "no authorisation under this key",
        ),
    }
}

/// Every authorisation with its idempotency key, for tests and audits.
async fn list(State(sandbox): State<Sandbox>) -> Response {
    let Ok(ledger) = sandbox.ledger.lock() else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "ledger poisoned",
        );
    };
    let mut all: Vec<_> = ledger
        .by_id
        .values()
        .map(|s| json!({"key": s.key, "authorization": s.record}))
        .collect();
    all.sort_by_key(|v| v["authorization"]["id"].as_str().map(str::to_owned));
    Json(json!({ "authorizations": all })).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettleBody {
    amount_minor: Option<i64>,
}

async fn settle(
    State(sandbox): State<Sandbox>,
    Path((id, operation)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let body: SettleBody = if body.is_empty() {
        SettleBody { amount_minor: None }
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(_) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    "expected {\"amount_minor\": integer or null}",
                );
            }
        }
    };
    let Some(key) = key_of(&headers) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "Idempotency-Key is required",
        );
    };
    let Ok(mut ledger) = sandbox.ledger.lock() else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "ledger poisoned",
        );
    };
    let Some(stored) = ledger.by_id.get(&id) else {
        return refuse(StatusCode::NOT_FOUND, "not_found", "no such authorisation");
    };
    if ledger.settlements.get(&key) == Some(&id) {
        return Json(stored.record.clone()).into_response();
    }
    use AuthorizationStatus as S;
    let current = stored.record.status;
    // Like a real PSP, never capture more than was authorised (less releases the rest), and
    // never refund more than was captured.
    let captured = stored
        .record
        .captured_minor
        .unwrap_or(stored.record.amount_minor);
    let refundable = captured - stored.record.refunded_minor;
    let refund = body.amount_minor.unwrap_or(refundable);
    let capture = body.amount_minor.unwrap_or(stored.record.amount_minor);
    let next = match (operation.as_str(), current) {
        ("capture", S::Authorized) if capture <= 0 || capture > stored.record.amount_minor => {
            return refuse(
                StatusCode::CONFLICT,
                "capture_exceeds_authorisation",
                "a capture is 1 to the authorised amount",
            );
        }
        ("capture", S::Authorized) => S::Captured,
        ("void", S::Authorized) => S::Voided,
        ("refund", S::Captured | S::PartiallyRefunded) if refund <= 0 || refund > refundable => {
            return refuse(
                StatusCode::CONFLICT,
                "refund_exceeds_capture",
                "a refund cannot exceed what is left of the captured amount",
            );
        }
        ("refund", S::Captured | S::PartiallyRefunded) if refund == refundable => S::Refunded,
        ("refund", S::Captured | S::PartiallyRefunded) => S::PartiallyRefunded,
        ("capture" | "void" | "refund", _) => {
            return refuse(
                StatusCode::CONFLICT,
                "invalid_state",
                "the authorisation is not in a state for this",
            );
        }
        _ => return refuse(StatusCode::NOT_FOUND, "not_found", "unknown operation"),
    };
    let record = {
        let Some(stored) = ledger.by_id.get_mut(&id) else {
            return refuse(StatusCode::NOT_FOUND, "not_found", "no such authorisation");
        };
        stored.record.status = next;
        if operation == "refund" {
            stored.record.refunded_minor += refund;
        }
        if operation == "capture" {
            stored.record.captured_minor = Some(capture);
        }
        stored.record.clone()
    };
    ledger.settlements.insert(key, id);
    Json(record).into_response()
}
