//! The payment port: authorise, look up, capture, void and refund through PSPs over HTTP.
//!
//! Providers are tried in configured order. Each has a circuit breaker: after
//! `BREAKER_THRESHOLD` consecutive failures it is skipped for `BREAKER_COOL_DOWN`, and the
//! next provider takes new authorisations. Every call carries an idempotency key derived
//! from the checkout's key, so a retry (by us, by the client, or by the recovery worker)
//! never authorises twice. Card data never reaches the core: only PSP tokens.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const BREAKER_THRESHOLD: u32 = 5;
const BREAKER_COOL_DOWN: Duration = Duration::from_secs(10);
const ATTEMPTS: u32 = 3;

/// The PSP's view of an authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRecord {
    pub id: String,
    pub status: AuthorizationStatus,
    pub amount_minor: i64,
    pub currency: String,
    /// What has been refunded so far, in minor units.
    #[serde(default)]
    pub refunded_minor: i64,
    /// What was captured, when less than the authorised amount was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_minor: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationStatus {
    Authorized,
    Declined,
    Captured,
    Voided,
    Refunded,
    PartiallyRefunded,
}

/// The outcome of asking for an authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    Approved { provider: String, id: String },
    Declined { provider: String },
}

/// The provider did not give an answer we can trust (timeout, 5xx, connection refused).
#[derive(Debug, thiserror::Error)]
#[error("payment provider {provider} unavailable: {reason}")]
pub struct Unavailable {
    pub provider: String,
    pub reason: String,
    /// The provider answered and refused (a 4xx, or no such authorisation): asking again
    /// will not change the answer. Otherwise it may have acted without our hearing it.
    pub refused: bool,
}

/// The PSP idempotency key for an operation of a checkout: never the client's key itself.
pub fn derived_key(operation: &str, idempotency_key: &str) -> String {
    let digest = Sha256::digest(format!("meridian:{operation}:{idempotency_key}").as_bytes());
    hex::encode(&digest[..20])
}

#[derive(Debug)]
struct Provider {
    name: String,
    base: String,
    breaker: Mutex<Breaker>,
}

#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// The payments port over HTTP PSPs.
#[derive(Debug)]
pub struct Payments {
    http: reqwest::Client,
    providers: Vec<Provider>,
}

#[derive(Serialize)]
struct AuthorizeRequest<'a> {
    amount_minor: i64,
    currency: &'a str,
    token: &'a str,
}

impl Payments {
    /// `bases` are the providers' base URLs in failover order; provider names are `psp-1`,
    /// `psp-2`, ... in that order.
    pub fn new(bases: &[String], timeout: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(!bases.is_empty(), "at least one payment provider is needed");
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .build()?;
        let providers = bases
            .iter()
            .enumerate()
            .map(|(i, base)| Provider {
                name: format!("psp-{}", i + 1),
                base: base.trim_end_matches('/').to_owned(),
                breaker: Mutex::new(Breaker::default()),
            })
            .collect();
        Ok(Self { http, providers })
    }

    /// The provider new authorisations go to: the first whose breaker is closed.
    pub fn current_provider(&self) -> &str {
        let now = Instant::now();
        self.providers
            .iter()
            .find(|p| {
                p.breaker
                    .lock()
                    .map(|b| b.open_until.is_none_or(|t| t <= now))
                    .unwrap_or(true)
            })
            .unwrap_or(&self.providers[0])
            .name
            .as_str()
    }

    fn provider(&self, name: &str) -> Result<&Provider, Unavailable> {
        self.providers
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Unavailable {
                provider: name.to_owned(),
                reason: "not configured".to_owned(),
                refused: true,
            })
    }

    /// Authorises `amount_minor` with `provider` under `key`, retrying transient failures
    /// with the same key.
    pub async fn authorize(
        &self,
        provider: &str,
        key: &str,
        amount_minor: i64,
        currency: &str,
        token: &str,
    ) -> Result<Authorization, Unavailable> {
        let p = self.provider(provider)?;
        let body = AuthorizeRequest {
            amount_minor,
            currency,
            token,
        };
        let record: AuthorizationRecord = self
            .call(p, || {
                self.http
                    .post(format!("{}/v1/authorizations", p.base))
                    .header("Idempotency-Key", key)
                    .json(&body)
            })
            .await?;
        Ok(match record.status {
            AuthorizationStatus::Declined => Authorization::Declined {
                provider: p.name.clone(),
            },
            _ => Authorization::Approved {
                provider: p.name.clone(),
                id: record.id,
            },
        })
    }

    /// What the provider knows of the authorisation made under `key`, if any.
    pub async fn find(
        &self,
        provider: &str,
        key: &str,
    ) -> Result<Option<AuthorizationRecord>, Unavailable> {
        let p = self.provider(provider)?;
        let url = format!("{}/v1/authorizations/by-key/{key}", p.base);
        self.call_opt(p, || self.http.get(&url)).await
    }

    /// Captures, voids or refunds an authorisation (`operation` is `capture`, `void` or
    /// `refund`), under a key derived from `key`.
    pub async fn settle(
        &self,
        provider: &str,
        id: &str,
        operation: &str,
        key: &str,
        amount_minor: Option<i64>,
    ) -> Result<AuthorizationRecord, Unavailable> {
        let p = self.provider(provider)?;
        let url = format!("{}/v1/authorizations/{id}/{operation}", p.base);
        let body = serde_json::json!({ "amount_minor": amount_minor });
        self.call(p, || {
            self.http
                .post(&url)
                .header("Idempotency-Key", key)
                .json(&body)
        })
        .await
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        p: &Provider,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T, Unavailable> {
        self.call_opt(p, request).await?.ok_or_else(|| Unavailable {
            provider: p.name.clone(),
            reason: "not found".to_owned(),
            refused: true,
        })
    }

    async fn call_opt<T: serde::de::DeserializeOwned>(
        &self,
        p: &Provider,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Option<T>, Unavailable> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
            match request().send().await {
                Ok(response) if response.status() == reqwest::StatusCode::NOT_FOUND => {
                    self.record(p, true);
                    return Ok(None);
                }
                Ok(response) if response.status().is_success() => {
                    match response.json::<T>().await {
                        Ok(value) => {
                            self.record(p, true);
                            return Ok(Some(value));
                        }
                        Err(e) => last = format!("unreadable answer: {e}"),
                    }
                }
                Ok(response) if response.status().is_client_error() => {
                    // A 4xx will not change on retry.
                    self.record(p, true);
                    return Err(Unavailable {
                        provider: p.name.clone(),
                        reason: format!("refused with {}", response.status()),
                        refused: true,
                    });
                }
                Ok(response) => last = format!("answered {}", response.status()),
                Err(e) if e.is_timeout() => last = "timed out".to_owned(),
                Err(e) => last = format!("unreachable: {e}"),
            }
            self.record(p, false);
        }
        Err(Unavailable {
            provider: p.name.clone(),
            reason: last,
            refused: false,
        })
    }

    fn record(&self, p: &Provider, ok: bool) {
        let Ok(mut breaker) = p.breaker.lock() else {
            return;
        };
        if ok {
            *breaker = Breaker::default();
        } else {
            breaker.failures += 1;
            if breaker.failures >= BREAKER_THRESHOLD {
                breaker.open_until = Some(Instant::now() + BREAKER_COOL_DOWN);
                tracing::warn!(provider = %p.name, "payment provider breaker opened");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_per_operation_and_hide_the_client_key() {
        let key = "client-key-0123456789abc";
        let auth = derived_key("authorize", key);
        assert_ne!(auth, derived_key("capture", key));
        assert_eq!(auth, derived_key("authorize", key));
        assert!(!auth.contains("client"));
        assert_eq!(auth.len(), 40);
    }

    #[tokio::test]
    async fn an_unreachable_provider_opens_its_breaker_and_the_next_takes_over() {
        let payments = Payments::new(
            &[
                "http://127.0.0.1:9".to_owned(),
                "http://127.0.0.1:10".to_owned(),
            ],
            Duration::from_millis(200),
        )
        .unwrap();
        assert_eq!(payments.current_provider(), "psp-1");
        for _ in 0..2 {
            let _ = payments
                .authorize("psp-1", "k", 100, "EUR", "tok_approve")
                .await;
        }
        assert_eq!(payments.current_provider(), "psp-2");
    }
}
