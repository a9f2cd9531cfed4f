//! Opening an account and getting back into one. A sign-up answers the same whether or not
//! the address already has an account (no enumeration): the core mails a confirmation code
//! to a new address, or a note to one that has an account, and the account is usable once
//! the code is entered. A forgotten password is replaced the same way, with a code mailed to
//! a confirmed address. Codes are stored as hashes, expire, and their attempts count against
//! the sign-in limits.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shopper_input::{Email, Password, PersonName};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    SessionView, home_country, input, limits, password, signed_in_answer, storefront_exists,
};
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::{AppState, json_body};

/// `POST /v1/accounts`: a new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    storefront: String,
    email: String,
    name: String,
    /// 10 to 128 characters.
    #[schema(format = Password)]
    password: String,
    /// The shopper's country: its region must be this core's.
    country: String,
    /// Must be `true`: the shopper read the privacy notice.
    accept_privacy_notice: bool,
    #[serde(default)]
    marketing_emails: bool,
}

/// What a sign-up answers, whether or not the address already has an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignUpAccepted {
    /// Always `confirmation_sent`: a code went to the address (or, when it already has an
    /// account, a note saying so). Confirm with `POST /v1/accounts/confirm`.
    pub status: &'static str,
    pub code_expires_in_secs: i64,
}

/// `POST /v1/accounts/confirm`: the code from the e-mail.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    storefront: String,
    email: String,
    /// As mailed (`ABCD-2345`); case, spaces and dashes do not matter.
    code: String,
}

/// How long a confirmation code lasts.
pub const CODE_LIFETIME_SECS: i64 = 24 * 3600;

/// A confirmation code: 8 characters from 31 that cannot be confused (no 0, O, 1, I, L),
/// 39 bits; guessing is bounded by the attempt limits.
fn new_code() -> Result<String, ApiError> {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let code: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    Ok(format!("{}-{}", &code[..4], &code[4..]))
}

/// A mailed code as the shopper typed it, normalised, or a 422 naming `code`.
fn typed_code(raw: &str) -> Result<String, ApiError> {
    let code = normal_code(raw);
    if code.len() != 8 || raw.chars().count() > 32 {
        return Err(ApiError::field(
            "code",
            "the code is 8 letters and digits, e.g. ABCD-2345",
        ));
    }
    Ok(code)
}

/// A code as typed, normalised: upper case, without spaces and dashes.
fn normal_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn confirmation_mail(storefront: &str, to: &str, name: &str, code: &str) -> crate::mail::Mail {
    use crate::mail::escape;
    crate::mail::Mail {
        storefront: storefront.to_owned(),
        kind: "account_confirmation",
        order_id: None,
        to: to.to_owned(),
        subject: format!("Your confirmation code: {code}"),
        text: format!(
            "Hello {name},\n\nyour code to confirm your new account is\n\n    {code}\n\nIt expires in 24 hours. If you did not ask for an account, ignore this message: nothing happens without the code.\n"
        ),
        html: format!(
            "<p>Hello {},</p><p>your code to confirm your new account is</p><p style=\"font-size:1.5em;font-family:monospace\">{code}</p><p>It expires in 24 hours. If you did not ask for an account, ignore this message: nothing happens without the code.</p>",
            escape(name)
        ),
    }
}

fn exists_mail(storefront: &str, to: &str) -> crate::mail::Mail {
    crate::mail::Mail {
        storefront: storefront.to_owned(),
        kind: "account_exists",
        order_id: None,
        to: to.to_owned(),
        subject: "You already have an account".to_owned(),
        text: "Someone, perhaps you, asked for a new account with this e-mail address, which already has one. Sign in with your password instead. If it was not you, nothing changed and you need not do anything.\n".to_owned(),
        html: "<p>Someone, perhaps you, asked for a new account with this e-mail address, which already has one. Sign in with your password instead.</p><p>If it was not you, nothing changed and you need not do anything.</p>".to_owned(),
    }
}

/// `POST /v1/accounts`: asks for an account. The answer is the same whether or not the
/// address has one (no account enumeration): a code is mailed to a new address, a note to
/// an address that has an account. The account is usable once confirmed with the code.
#[utoipa::path(
    post,
    path = "/v1/accounts",
    tag = "account",
    request_body = SignUp,
    responses(
        (status = 202, description = "A code (or a note) was mailed to the address", body = SignUpAccepted),
        (status = 421, description = "The country's home region is another", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn sign_up(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: SignUp = json_body(&body)?;
    let name = input("name", PersonName::parse(&body.name))?;
    let email = input("email", Email::parse(&body.email))?;
    let password = input("password", Password::parse(&body.password))?;
    let country = home_country(&app, "country", &body.country)?;
    if !body.accept_privacy_notice {
        return Err(ApiError::field(
            "accept_privacy_notice",
            "an account needs the privacy notice accepted",
        ));
    }
    let mut client = app.pool.get().await?;
    storefront_exists(&client, &body.storefront).await?;
    // A sign-up counts against its client address's budget, whatever its outcome.
    limits::begin(&client, None, &limits::client_address(&headers)).await?;
    // Both paths hash, write and queue one message: they take as long.
    let hash = password::hash(password).await?;
    let code = new_code()?;
    let tx = client.transaction().await?;
    // A new address, or one whose earlier sign-up was never confirmed: (re)started with
    // this sign-up's details and a new code.
    let started = tx
        .query_opt_cached(
            "INSERT INTO accounts (id, storefront, email, email_key, name, country, password_hash,
                                   confirmation_sha256, confirmation_expires_at)
             VALUES ($1, $2, $3, lower($3), $4, $5, $6, $7, now() + make_interval(secs => $8))
             ON CONFLICT (storefront, email_key) DO UPDATE
                 SET email = EXCLUDED.email, name = EXCLUDED.name, country = EXCLUDED.country,
                     password_hash = EXCLUDED.password_hash,
                     confirmation_sha256 = EXCLUDED.confirmation_sha256,
                     confirmation_expires_at = EXCLUDED.confirmation_expires_at
                 WHERE accounts.confirmed_at IS NULL
             RETURNING id",
            &[
                &Uuid::new_v4(),
                &body.storefront,
                &email.as_str(),
                &name.as_str(),
                &country.as_str(),
                &hash,
                &crate::auth::sha256(&normal_code(&code)),
                &(CODE_LIFETIME_SECS as f64),
            ],
        )
        .await?;
    let mail = match started {
        Some(row) => {
            let id: Uuid = row.get(0);
            tx.execute_cached(
                "INSERT INTO account_consents (account_id, kind, granted)
                 VALUES ($1, 'privacy_notice', true), ($1, 'marketing_emails', $2)
                 ON CONFLICT (account_id, kind) DO UPDATE SET granted = EXCLUDED.granted, at = now()",
                &[&id, &body.marketing_emails],
            )
            .await?;
            confirmation_mail(&body.storefront, email.as_str(), name.as_str(), &code)
        }
        None => exists_mail(&body.storefront, email.as_str()),
    };
    crate::mail::enqueue(&tx, &mail).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SignUpAccepted {
            status: "confirmation_sent",
            code_expires_in_secs: CODE_LIFETIME_SECS,
        }),
    )
        .into_response())
}

/// `POST /v1/accounts/confirm`: confirms a new account with the mailed code and signs the
/// shopper in. A wrong or expired code, and an address without a pending account, get the
/// same answer; attempts count against the sign-in limits.
#[utoipa::path(
    post,
    path = "/v1/accounts/confirm",
    tag = "account",
    request_body = Confirmation,
    responses(
        (status = 201, description = "Confirmed and signed in", body = SessionView),
        (status = 401, description = "The code is wrong or expired", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn confirm(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: Confirmation = json_body(&body)?;
    let email = input("email", Email::parse(&body.email))?;
    let code = typed_code(&body.code)?;
    let client = app.pool.get().await?;
    let email_key = email.as_str().to_lowercase();
    let attempt = limits::begin(
        &client,
        Some((&body.storefront, &email_key)),
        &limits::client_address(&headers),
    )
    .await?;
    let confirmed = client
        .query_opt_cached(
            "UPDATE accounts SET confirmed_at = now(), last_sign_in_at = now(),
                                 confirmation_sha256 = NULL, confirmation_expires_at = NULL
             WHERE storefront = $1 AND email_key = $2 AND confirmed_at IS NULL
               AND confirmation_sha256 = $3 AND confirmation_expires_at > now()
             RETURNING id",
            &[&body.storefront, &email_key, &crate::auth::sha256(&code)],
        )
        .await?;
    let Some(row) = confirmed else {
        return Err(ApiError::user(
            StatusCode::UNAUTHORIZED,
            "invalid_code",
            "the code is wrong or has expired; sign up again for a new one",
        )
        .with("field", "code"));
    };
    limits::succeeded(&client, attempt).await?;
    signed_in_answer(&client, &app, row.get(0), &headers, StatusCode::CREATED).await
}

/// `POST /v1/accounts/password-reset`: asks for a reset code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    storefront: String,
    email: String,
}

/// `POST /v1/accounts/password-reset/confirm`: the mailed code and the new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmation {
    storefront: String,
    email: String,
    code: String,
    #[schema(format = Password)]
    new_password: String,
}

/// How long a password reset code lasts.
pub const RESET_LIFETIME_SECS: i64 = 3600;

/// `POST /v1/accounts/password-reset`: mails a reset code to the address if it has a
/// confirmed account here; the answer is the same either way.
#[utoipa::path(
    post,
    path = "/v1/accounts/password-reset",
    tag = "account",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "A code was mailed if the address has an account", body = SignUpAccepted),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn request_reset(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: ResetRequest = json_body(&body)?;
    let email = input("email", Email::parse(&body.email))?;
    let mut client = app.pool.get().await?;
    limits::begin(&client, None, &limits::client_address(&headers)).await?;
    let code = new_code()?;
    let tx = client.transaction().await?;
    let account = tx
        .query_opt_cached(
            "UPDATE accounts SET reset_sha256 = $3, reset_expires_at = now() + make_interval(secs => $4)
             WHERE storefront = $1 AND email_key = lower($2) AND confirmed_at IS NOT NULL
             RETURNING email, name",
            &[
                &body.storefront,
                &email.as_str(),
                &crate::auth::sha256(&normal_code(&code)),
                &(RESET_LIFETIME_SECS as f64),
            ],
        )
        .await?;
    if let Some(row) = account {
        let (to, name): (String, String) = (row.get(0), row.get(1));
        crate::mail::enqueue(
            &tx,
            &crate::mail::Mail {
                storefront: body.storefront.clone(),
                kind: "password_reset",
                order_id: None,
                to,
                subject: format!("Your password reset code: {code}"),
                text: format!(
                    "Hello {name},\n\nyour code to choose a new password is\n\n    {code}\n\nIt expires in an hour. If you did not ask, ignore this message: your password stays as it is.\n"
                ),
                html: format!(
                    "<p>Hello {},</p><p>your code to choose a new password is</p><p style=\"font-size:1.5em;font-family:monospace\">{code}</p><p>It expires in an hour. If you did not ask, ignore this message: your password stays as it is.</p>",
                    crate::mail::escape(&name)
                ),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SignUpAccepted {
            status: "confirmation_sent",
            code_expires_in_secs: RESET_LIFETIME_SECS,
        }),
    )
        .into_response())
}

/// `POST /v1/accounts/password-reset/confirm`: sets the new password with the mailed code,
/// ends every session and signs the shopper in. A wrong or expired code gets the same answer
/// as an address without a reset; attempts count against the sign-in limits.
#[utoipa::path(
    post,
    path = "/v1/accounts/password-reset/confirm",
    tag = "account",
    request_body = ResetConfirmation,
    responses(
        (status = 201, description = "The new password is set; signed in", body = SessionView),
        (status = 401, description = "The code is wrong or expired", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn reset_password(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: ResetConfirmation = json_body(&body)?;
    let email = input("email", Email::parse(&body.email))?;
    let new = input("new_password", Password::parse(&body.new_password))?;
    let code = typed_code(&body.code)?;
    let mut client = app.pool.get().await?;
    let email_key = email.as_str().to_lowercase();
    let attempt = limits::begin(
        &client,
        Some((&body.storefront, &email_key)),
        &limits::client_address(&headers),
    )
    .await?;
    let hash = password::hash(new).await?;
    let tx = client.transaction().await?;
    let reset = tx
        .query_opt_cached(
            "UPDATE accounts SET password_hash = $4, reset_sha256 = NULL, reset_expires_at = NULL,
                                 last_sign_in_at = now()
             WHERE storefront = $1 AND email_key = $2 AND reset_sha256 = $3
               AND reset_expires_at > now()
             RETURNING id",
            &[
                &body.storefront,
                &email_key,
                &crate::auth::sha256(&code),
                &hash,
            ],
        )
        .await?;
    let Some(row) = reset else {
        return Err(ApiError::user(
            StatusCode::UNAUTHORIZED,
            "invalid_code",
            "the code is wrong or has expired; ask for a new one",
        )
        .with("field", "code"));
    };
    let id: Uuid = row.get(0);
    tx.execute_cached("DELETE FROM sessions WHERE account_id = $1", &[&id])
        .await?;
    limits::succeeded(&tx, attempt).await?;
    let answer = signed_in_answer(&tx, &app, id, &headers, StatusCode::CREATED).await?;
    tx.commit().await?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_code_has_eight_unambiguous_characters_and_is_read_as_typed() {
        for _ in 0..50 {
            let code = new_code().unwrap();
            assert_eq!(code.len(), 9, "{code}");
            assert_eq!(&code[4..5], "-");
            assert!(
                code.chars()
                    .filter(|c| *c != '-')
                    .all(|c| !"01ILO".contains(c)),
                "{code}"
            );
            assert_eq!(normal_code(&code).len(), 8);
        }
        assert_eq!(normal_code(" k7qm 4xzp "), "K7QM4XZP");
        assert_eq!(normal_code("K7QM-4XZP"), normal_code("k7qm4xzp"));
    }
}
