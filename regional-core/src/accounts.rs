//! Shopper accounts, kept only in the shopper's home region: sign-up (confirmed with a code
//! mailed to the address, so that the answer never says whether it has an account), sign-in
//! and sessions,
//! the account's details and password, saved addresses (`addresses`) and the account's
//! orders. Every answer concerns the signed-in shopper only: another shopper's order,
//! address or session is answered like one that does not exist.
//!
//! - `password`: Argon2id hashes.
//! - `session`: session tokens and the signed-in shopper of a request.
//! - `limits`: brute-force limits per account and per client address.
//! - `addresses`: saved delivery addresses.
//! - `signup`: opening an account (confirmed with a mailed code) and resetting a forgotten
//!   password.

pub mod addresses;
pub mod limits;
pub mod password;
pub mod session;
pub mod signup;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use deadpool_postgres::GenericClient;
use region_config::CountryCode;
use serde::{Deserialize, Serialize};
use shopper_input::{Email, Password, PersonName};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::orders::OrderView;
use crate::{AppState, json_body};

pub use session::SignedIn;

/// `POST /v1/sessions`: signing in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    storefront: String,
    email: String,
    #[schema(format = Password)]
    password: String,
}

/// A signed-in shopper's new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The session cookie's value, `REGION.TOKEN.SIGNATURE`: send it back as the bearer
    /// token. Shown once.
    pub session: String,
    pub expires_at: String,
    pub account: AccountView,
}

/// The signed-in shopper's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    pub storefront: String,
    pub email: String,
    pub name: String,
    pub country: String,
    /// The home region: where the account and its orders live.
    pub region: String,
    pub marketing_emails: bool,
    pub created_at: String,
}

/// `PATCH /v1/account`: what to change; a new e-mail address needs the password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChange {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    marketing_emails: Option<bool>,
    #[serde(default)]
    #[schema(format = Password)]
    current_password: Option<String>,
}

/// `PUT /v1/account/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(format = Password)]
    current_password: String,
    #[schema(format = Password)]
    new_password: String,
}

/// One of the account's orders, in its list.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummary {
    pub order_id: Uuid,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub lines: i64,
    pub created_at: String,
}

/// A page of the account's orders, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

/// How many orders a page lists.
pub const PER_PAGE: i64 = 20;

fn input<T>(field: &str, parsed: Result<T, shopper_input::InputError>) -> Result<T, ApiError> {
    parsed.map_err(|e| ApiError::input(field, &e))
}

/// The country's region must be this core's, as for a checkout.
fn home_country(app: &AppState, field: &str, country: &str) -> Result<CountryCode, ApiError> {
    let country: CountryCode = country
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| ApiError::field(field, "an ISO 3166-1 alpha-2 country code, e.g. DE"))?;
    let home = app.regions.home_region(country);
    if home.id != app.region.id {
        return Err(ApiError::user(
            StatusCode::MISDIRECTED_REQUEST,
            "wrong_region",
            format!("shoppers from {country} are served by region {}", home.id),
        )
        .with("home_region", home.id.as_str()));
    }
    Ok(country)
}

async fn storefront_exists(client: &impl GenericClient, id: &str) -> Result<(), ApiError> {
    client
        .query_opt_cached("SELECT 1 FROM storefronts WHERE id = $1", &[&id])
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::field("storefront", "no such storefront"))
}

/// The account of `account_id`, as its shopper sees it.
pub async fn view(
    client: &impl GenericClient,
    region: &str,
    account_id: Uuid,
) -> Result<AccountView, ApiError> {
    let row = client
        .query_opt_cached(
            "SELECT a.id, a.storefront, a.email, a.name, a.country, a.created_at,
                    coalesce((SELECT granted FROM account_consents c
                              WHERE c.account_id = a.id AND c.kind = 'marketing_emails'), false)
             FROM accounts a WHERE a.id = $1",
            &[&account_id],
        )
        .await?
        .ok_or_else(|| ApiError::not_found("account"))?;
    let created: chrono::DateTime<chrono::Utc> = row.get(5);
    Ok(AccountView {
        id: row.get(0),
        storefront: row.get(1),
        email: row.get(2),
        name: row.get(3),
        country: row.get(4),
        region: region.to_owned(),
        marketing_emails: row.get(6),
        created_at: created.to_rfc3339(),
    })
}

async fn signed_in_answer(
    client: &impl GenericClient,
    app: &AppState,
    account_id: Uuid,
    headers: &HeaderMap,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let issued = session::create(client, app, account_id, headers).await?;
    let body = SessionView {
        session: issued.cookie,
        expires_at: issued.expires_at.to_rfc3339(),
        account: view(client, app.region.id.as_str(), account_id).await?,
    };
    Ok((status, Json(body)).into_response())
}

/// A signed-in change to an address that has another account.
fn email_taken() -> ApiError {
    ApiError::user(
        StatusCode::CONFLICT,
        "email_taken",
        "an account with this e-mail address exists; sign in instead",
    )
    .with("field", "email")
}

fn wrong_credentials() -> ApiError {
    ApiError::user(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "the e-mail address or the password is wrong",
    )
}

/// `POST /v1/sessions`: signs a shopper in. An unknown address and a wrong password get the
/// same answer after the same work.
#[utoipa::path(
    post,
    path = "/v1/sessions",
    tag = "account",
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in", body = SessionView),
        (status = 401, description = "Wrong e-mail address or password", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn sign_in(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: SignIn = json_body(&body)?;
    let email = input("email", Email::parse(&body.email))?;
    let password = input("password", Password::parse(&body.password))
        // A password that could never have been set is simply wrong: the same answer.
        .map_err(|_| wrong_credentials())?;
    let client = app.pool.get().await?;
    let email_key = email.as_str().to_lowercase();
    let attempt = limits::begin(
        &client,
        Some((&body.storefront, &email_key)),
        &limits::client_address(&headers),
    )
    .await?;
    let row = client
        .query_opt_cached(
            "SELECT id, password_hash FROM accounts
             WHERE storefront = $1 AND email_key = $2 AND confirmed_at IS NOT NULL",
            &[&body.storefront, &email_key],
        )
        .await?;
    let (id, stored) = match &row {
        Some(r) => (Some(r.get::<_, Uuid>(0)), Some(r.get::<_, String>(1))),
        None => (None, None),
    };
    let matches = password::verify(password, stored).await?;
    let Some(id) = id.filter(|_| matches) else {
        return Err(wrong_credentials());
    };
    limits::succeeded(&client, attempt).await?;
    client
        .execute_cached(
            "UPDATE accounts SET last_sign_in_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
    signed_in_answer(&client, &app, id, &headers, StatusCode::CREATED).await
}

/// `DELETE /v1/sessions/current`: signs this session out.
#[utoipa::path(
    delete,
    path = "/v1/sessions/current",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn sign_out(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    end_sessions(&app, &headers, false).await
}

/// `DELETE /v1/sessions`: signs every session of the account out, this one included.
#[utoipa::path(
    delete,
    path = "/v1/sessions",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 204, description = "Every session signed out"),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn sign_out_everywhere(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    end_sessions(&app, &headers, true).await
}

/// Ends the request's session, or every session of its account.
async fn end_sessions(
    app: &AppState,
    headers: &HeaderMap,
    all: bool,
) -> Result<StatusCode, ApiError> {
    let client = app.pool.get().await?;
    let me = session::current(&client, app, headers).await?;
    client
        .execute_cached(
            "DELETE FROM sessions WHERE CASE WHEN $3 THEN account_id = $1 ELSE token_sha256 = $2 END",
            &[&me.account_id, &me.token_sha256, &all],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/account`: the signed-in shopper's account.
#[utoipa::path(
    get,
    path = "/v1/account",
    tag = "account",
    security(("session" = [])),
    responses(
        (status = 200, description = "The account", body = AccountView),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<AccountView>, ApiError> {
    let client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    Ok(Json(
        view(&client, app.region.id.as_str(), me.account_id).await?,
    ))
}

/// Checks the signed-in shopper's password again (for a new e-mail address, a new password
/// or erasure); a wrong one is a 403 that counts against the sign-in limit.
pub async fn confirm_password(
    client: &impl GenericClient,
    me: &SignedIn,
    given: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let given = given.ok_or_else(|| {
        ApiError::field("current_password", "confirm with the account's password")
    })?;
    let row = client
        .query_one_cached(
            "SELECT email_key, password_hash FROM accounts WHERE id = $1",
            &[&me.account_id],
        )
        .await?;
    let email_key: String = row.get(0);
    let attempt = limits::begin(
        client,
        Some((&me.storefront, &email_key)),
        &limits::client_address(headers),
    )
    .await?;
    let right = match Password::parse(given) {
        Ok(p) => password::verify(p, Some(row.get(1))).await?,
        Err(_) => false,
    };
    if !right {
        return Err(ApiError::user(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the password is wrong",
        )
        .with("field", "current_password"));
    }
    limits::succeeded(client, attempt).await
}

/// `PATCH /v1/account`: changes the name, the e-mail address (with the password) or the
/// marketing consent.
#[utoipa::path(
    patch,
    path = "/v1/account",
    tag = "account",
    security(("session" = [])),
    request_body = AccountChange,
    responses(
        (status = 200, description = "The changed account", body = AccountView),
        (status = 409, description = "The new e-mail address has an account here", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn update(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AccountView>, ApiError> {
    let body: AccountChange = json_body(&body)?;
    let name = body
        .name
        .as_deref()
        .map(|n| input("name", PersonName::parse(n)))
        .transpose()?;
    let email = body
        .email
        .as_deref()
        .map(|e| input("email", Email::parse(e)))
        .transpose()?;
    let mut client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    if email.is_some() {
        confirm_password(&client, &me, body.current_password.as_deref(), &headers).await?;
    }
    let tx = client.transaction().await?;
    if let Some(name) = &name {
        tx.execute_cached(
            "UPDATE accounts SET name = $2 WHERE id = $1",
            &[&me.account_id, &name.as_str()],
        )
        .await?;
    }
    if let Some(email) = &email {
        let taken = tx
            .query_opt_cached(
                "SELECT 1 FROM accounts WHERE storefront = $1 AND email_key = lower($2) AND id <> $3",
                &[&me.storefront, &email.as_str(), &me.account_id],
            )
            .await?
            .is_some();
        if taken {
            return Err(email_taken());
        }
        tx.execute_cached(
            "UPDATE accounts SET email = $2, email_key = lower($2) WHERE id = $1",
            &[&me.account_id, &email.as_str()],
        )
        .await?;
    }
    if let Some(granted) = body.marketing_emails {
        tx.execute_cached(
            "INSERT INTO account_consents (account_id, kind, granted) VALUES ($1, 'marketing_emails', $2)
             ON CONFLICT (account_id, kind) DO UPDATE SET granted = EXCLUDED.granted, at = now()",
            &[&me.account_id, &granted],
        )
        .await?;
    }
    let view = view(&tx, app.region.id.as_str(), me.account_id).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// `PUT /v1/account/password`: a new password; every other session is signed out.
#[utoipa::path(
    put,
    path = "/v1/account/password",
    tag = "account",
    security(("session" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; other sessions signed out"),
        (status = 403, description = "The current password is wrong", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
    )
)]
pub async fn change_password(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body: PasswordChange = json_body(&body)?;
    let new = input("new_password", Password::parse(&body.new_password))?;
    let client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    confirm_password(&client, &me, Some(&body.current_password), &headers).await?;
    let hash = password::hash(new).await?;
    client
        .execute_cached(
            "WITH a AS (UPDATE accounts SET password_hash = $2 WHERE id = $1)
             DELETE FROM sessions WHERE account_id = $1 AND token_sha256 <> $3",
            &[&me.account_id, &hash, &me.token_sha256],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/account/orders`: the account's orders, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/account/orders",
    tag = "account",
    security(("session" = [])),
    params(("page" = Option<i64>, Query, description = "1-based; 1 when absent")),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn orders(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let page = query.page.unwrap_or(1);
    if !(1..=10_000).contains(&page) {
        return Err(
            ApiError::bad_request("invalid_parameter", "page is from 1 to 10000")
                .with("parameter", "page"),
        );
    }
    let client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    let rows = client
        .query_cached(
            "SELECT o.id, o.status, o.currency, o.total_minor, o.created_at,
                    (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id),
                    count(*) OVER ()
             FROM orders o WHERE o.account_id = $1
             ORDER BY o.created_at DESC, o.id LIMIT $2 OFFSET $3",
            &[&me.account_id, &PER_PAGE, &((page - 1) * PER_PAGE)],
        )
        .await?;
    let total = match rows.first() {
        Some(r) => r.get(6),
        None => client
            .query_one_cached(
                "SELECT count(*) FROM orders WHERE account_id = $1",
                &[&me.account_id],
            )
            .await?
            .get(0),
    };
    Ok(Json(OrderPage {
        orders: rows
            .iter()
            .map(|r| {
                let at: chrono::DateTime<chrono::Utc> = r.get(4);
                OrderSummary {
                    order_id: r.get(0),
                    status: r.get(1),
                    currency: r.get(2),
                    total_minor: r.get(3),
                    lines: r.get(5),
                    created_at: at.to_rfc3339(),
                }
            })
            .collect(),
        page,
        per_page: PER_PAGE,
        total,
    }))
}

/// `GET /v1/account/orders/{id}`: one of the account's orders.
#[utoipa::path(
    get,
    path = "/v1/account/orders/{id}",
    tag = "account",
    security(("session" = [])),
    params(("id" = Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = "4XX", description = "Not signed in, or not this account's order", body = ErrorBody),
    )
)]
pub async fn order(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order_id = crate::orders::parse_id(&id)?;
    let client = app.pool.get().await?;
    let me = session::current(&client, &app, &headers).await?;
    let mine = client
        .query_opt_cached(
            "SELECT 1 FROM orders WHERE id = $1 AND account_id = $2",
            &[&order_id, &me.account_id],
        )
        .await?
        .is_some();
    if !mine {
        return Err(ApiError::not_found("order"));
    }
    crate::orders::view(&client, order_id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("order"))
}
