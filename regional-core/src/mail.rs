//! E-mail to shoppers, from their home region only: the address never leaves it.
//!
//! A message is queued with [`enqueue`] in the transaction that causes it (a transactional
//! outbox: no mail for a rolled-back change, none lost for a committed one). The worker
//! ([`run`]) sends due messages over SMTP with `lettre`, at least once: the row's id is the
//! `Message-ID`, so a retry after a lost answer is the same message in the receiver's eyes.
//! A failed attempt is retried with exponential backoff (10 s doubling to an hour) up to
//! [`MAX_ATTEMPTS`], then the message is marked `failed` for the merchant to see. Once sent
//! or failed, the address and the content are cleared.

use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{GenericClient, Pool};
use lettre::message::{Mailbox, MultiPart, header};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use uuid::Uuid;

use crate::db::Cached;
use crate::error::ApiError;

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i32 = 12;

/// A message to one shopper, with a plain-text and an HTML part.
#[derive(Debug, Clone)]
pub struct Mail {
    pub storefront: String,
    /// What it is about (`account_confirmation`, `account_exists`, ...), for the merchant.
    pub kind: &'static str,
    /// The order it is about, if any.
    pub order_id: Option<Uuid>,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Queues `mail` in `client`'s transaction; answers its id (its `Message-ID`).
pub async fn enqueue(client: &impl GenericClient, mail: &Mail) -> Result<Uuid, ApiError> {
    let id = Uuid::new_v4();
    client
        .execute_cached(
            "INSERT INTO outgoing_mail (id, storefront, kind, order_id, to_address, subject,
                                        text_body, html_body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &id,
                &mail.storefront,
                &mail.kind,
                &mail.order_id,
                &mail.to,
                &mail.subject,
                &mail.text,
                &mail.html,
            ],
        )
        .await?;
    Ok(id)
}

/// One message as its storefront's merchant sees it: what it was about and how sending
/// went, never the address or the content.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MessageStatus {
    pub id: Uuid,
    /// `account_confirmation`, `account_exists`, `order_confirmed`, `order_cancelled`,
    /// `order_refunded`.
    pub kind: String,
    pub order_id: Option<Uuid>,
    /// `queued` (retried with backoff), `sent`, or `failed` (given up).
    pub state: String,
    pub attempts: i32,
    /// The relay's answer code of the last failed attempt.
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// The merchant's view of their storefront's e-mail.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageStatus>,
}

#[derive(Debug, serde::Deserialize)]
pub struct MessageQuery {
    state: Option<String>,
}

/// `GET /v1/admin/mail?state=`: the storefront's last 100 messages, newest first; by
/// default those not sent (queued or failed), so failures are what a merchant sees.
#[utoipa::path(
    get,
    path = "/v1/admin/mail",
    tag = "merchant",
    security(("merchant" = [])),
    params(("state" = Option<String>, Query, description = "`queued`, `sent`, `failed` or `unsent` (the default)")),
    responses(
        (status = 200, description = "The messages", body = MessageList),
        (status = "4XX", description = "Refused", body = crate::error::ErrorBody),
    )
)]
pub async fn list(
    axum::extract::State(app): axum::extract::State<crate::AppState>,
    headers: axum::http::HeaderMap,
    axum::extract::Query(query): axum::extract::Query<MessageQuery>,
) -> Result<axum::Json<MessageList>, ApiError> {
    let state = query.state.unwrap_or_else(|| "unsent".to_owned());
    if !matches!(state.as_str(), "queued" | "sent" | "failed" | "unsent") {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "state is queued, sent, failed or unsent",
        )
        .with("parameter", "state"));
    }
    let client = app.pool.get().await?;
    let storefront = crate::auth::merchant(&client, &headers).await?;
    let rows = client
        .query_cached(
            "SELECT id, kind, order_id, state, attempts, last_error, created_at, sent_at
             FROM outgoing_mail
             WHERE storefront = $1 AND (state = $2 OR ($2 = 'unsent' AND state <> 'sent'))
             ORDER BY created_at DESC LIMIT 100",
            &[&storefront, &state],
        )
        .await?;
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339());
    Ok(axum::Json(MessageList {
        messages: rows
            .iter()
            .map(|r| MessageStatus {
                id: r.get(0),
                kind: r.get(1),
                order_id: r.get(2),
                state: r.get(3),
                attempts: r.get(4),
                last_error: r.get(5),
                created_at: time(r.get(6)).unwrap_or_default(),
                sent_at: time(r.get(7)),
            })
            .collect(),
    }))
}

/// Escapes text for an HTML part.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Where and as whom the worker sends.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain, for a local relay), `smtp://host:port?tls=required`
    /// (STARTTLS) or `smtps://host:port`, with `user:password@` when the relay wants it.
    pub url: crate::config::Secret,
    /// The default sender, e.g. `Meridian <no-reply@meridian.invalid>`: a storefront
    /// without its own sends under its theme's name at this address.
    pub from: String,
    /// Storefronts' own senders: (storefront, mailbox).
    pub senders: Vec<(String, String)>,
    /// The region, in every `Message-ID` (`<id@region.meridian>`).
    pub region: String,
}

/// The SMTP sender.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    senders: std::collections::BTreeMap<String, Mailbox>,
    region: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.url.expose())
            .context("MERIDIAN_SMTP_URL is not an smtp:// or smtps:// URL")?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        let from = config
            .from
            .parse()
            .with_context(|| format!("MERIDIAN_MAIL_FROM {:?} is not a mailbox", config.from))?;
        let senders = config
            .senders
            .iter()
            .map(|(storefront, mailbox)| {
                let mailbox: Mailbox = mailbox.parse().with_context(|| {
                    format!("the sender of {storefront}, {mailbox:?}, is not a mailbox")
                })?;
                anyhow::Ok((storefront.clone(), mailbox))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            transport,
            from,
            senders,
            region: config.region.clone(),
        })
    }

    /// The message, from the storefront's sender, its HTML in the storefront's letterhead.
    fn message(
        &self,
        id: Uuid,
        brand: &crate::brand::Brand,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> anyhow::Result<Message> {
        let html = brand.letter(html);
        Message::builder()
            .message_id(Some(format!("<{id}@{}.meridian>", self.region)))
            .from(brand.sender(&self.senders, &self.from))
            .to(to.parse().context("the recipient is not a mailbox")?)
            .subject(subject)
            .header(header::MIME_VERSION_1_0)
            .multipart(MultiPart::alternative_plain_html(text.to_owned(), html))
            .context("the message could not be built")
    }
}

/// What went wrong, without the relay's text (which may quote the address).
fn describe(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("the relay answered {code}"),
        None if e.is_timeout() => "the relay did not answer in time".to_owned(),
        None => "the relay could not be reached".to_owned(),
    }
}

/// Sends the due messages once; answers how many were sent.
pub async fn round(pool: &Pool, mailer: &Mailer) -> anyhow::Result<usize> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let due = tx
        .query_cached(
            "SELECT id, to_address, subject, text_body, html_body, attempts, order_id, kind,
                    storefront
             FROM outgoing_mail
             WHERE state = 'queued' AND next_attempt_at <= now()
             ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?;
    let mut sent = 0;
    for row in &due {
        let id: Uuid = row.get(0);
        let attempts: i32 = row.get::<_, i32>(5) + 1;
        // A message queued without content is written now, from its order as it is.
        let content = match (
            row.get::<_, Option<String>>(1),
            row.get::<_, Option<Uuid>>(6),
        ) {
            (Some(to), _) => Some((to, row.get(2), row.get(3), row.get(4))),
            (None, Some(order_id)) => {
                let kind: String = row.get(7);
                crate::notifications::compose(&tx, order_id, &kind)
                    .await
                    .map_err(|e| anyhow::anyhow!("writing the message failed: {e}"))?
                    .map(|m| (m.to, m.subject, m.text, m.html))
            }
            (None, None) => None,
        };
        let outcome = match content {
            Some((to, subject, text, html)) => {
                let storefront: String = row.get(8);
                let brand = crate::brand::Brand::of(&tx, &storefront).await?;
                match mailer.message(id, &brand, &to, &subject, &text, &html) {
                    Ok(message) => mailer
                        .transport
                        .send(message)
                        .await
                        .map(|_| ())
                        .map_err(|e| describe(&e)),
                    Err(_) => Err("the message could not be built".to_owned()),
                }
            }
            None => {
                // Its order's details were erased: nobody to write to, and nothing to retry.
                tx.execute_cached(
                    "UPDATE outgoing_mail SET state = 'failed', attempts = $2,
                            last_error = 'not sent: the order''s details were erased'
                     WHERE id = $1",
                    &[&id, &attempts],
                )
                .await?;
                continue;
            }
        };
        match outcome {
            Ok(()) => {
                sent += 1;
                tx.execute_cached(
                    "UPDATE outgoing_mail SET state = 'sent', sent_at = now(), attempts = $2,
                            to_address = NULL, subject = NULL, text_body = NULL, html_body = NULL,
                            last_error = NULL
                     WHERE id = $1",
                    &[&id, &attempts],
                )
                .await?;
            }
            Err(error) => {
                // The relay's code only: its text may quote the recipient.
                tracing::warn!(message_id = %id, attempts, %error, "sending an e-mail failed");
                let backoff = (10.0 * 2f64.powi(attempts - 1)).min(3600.0);
                tx.execute_cached(
                    "WITH m AS (SELECT $2::int AS attempts, $2::int >= $5::int AS final)
                     UPDATE outgoing_mail
                     SET attempts = m.attempts, last_error = left($3::text, 500),
                         next_attempt_at = now() + make_interval(secs => $4::float8),
                         state = CASE WHEN m.final THEN 'failed' ELSE 'queued' END,
                         to_address = CASE WHEN m.final THEN NULL ELSE to_address END,
                         subject = CASE WHEN m.final THEN NULL ELSE subject END,
                         text_body = CASE WHEN m.final THEN NULL ELSE text_body END,
                         html_body = CASE WHEN m.final THEN NULL ELSE html_body END
                     FROM m
                     WHERE id = $1",
                    &[&id, &attempts, &error, &backoff, &MAX_ATTEMPTS],
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(sent)
}

/// Sends due messages every `interval`, forever.
pub async fn run(pool: Pool, mailer: Mailer, interval: Duration) {
    loop {
        if let Err(e) = round(&pool, &mailer).await {
            tracing::warn!(error = %format!("{e:#}"), "mail round failed");
        }
        tokio::time::sleep(interval).await;
    }
}
