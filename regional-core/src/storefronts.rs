//! Storefronts as data: the operator creates a storefront in the region (its id, which is
//! also its catalogue namespace, its hosts and its merchant token); its merchant then puts
//! its theme and hosts with that token. Every change is an outbox event in the same
//! transaction; the relay publishes the storefront's site (hosts and theme) to the edge,
//! where the storefront reads it per request, so nothing is rebuilt or redeployed.
//!
//! - `POST /v1/operator/storefronts` (the operator token): create.
//! - `GET /v1/admin/storefront`: the caller's storefront, its hosts and theme.
//! - `PUT /v1/admin/storefront/theme`: the theme, checked token by token
//!   (`projections::theme::Theme::check`: WCAG AA contrast, CSS-safe values, safe links).
//! - `PUT /v1/admin/storefront/hosts`: the hosts, each free in the region.
//!
//! A merchant token only ever reaches its own storefront: no route takes a storefront id
//! from a merchant.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use deadpool_postgres::GenericClient;
use projections::theme::{Site, Theme, default_theme, valid_host};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth;
use crate::db::Cached;
use crate::error::{ApiError, ErrorBody};
use crate::outbox;

/// Most hosts one storefront answers on.
pub const MAX_HOSTS: usize = 16;

/// A storefront to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStorefront {
    /// 1 to 40 characters from `a-z 0-9 -`: the storefront's id and catalogue namespace.
    pub id: String,
    /// Host names it answers on (lowercase, no port), each not yet taken in the region.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// The merchant token to give it, at least 16 characters; one is generated when absent.
    /// It is stored hashed and never shown again.
    pub merchant_token: Option<String>,
}

/// A created storefront, with its merchant token (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
    pub hosts: Vec<String>,
    pub merchant_token: String,
}

/// A storefront as its merchant sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StorefrontView {
    pub id: String,
    pub hosts: Vec<String>,
    /// The theme the edge shows: the merchant's, or the plain default until one is put.
    #[schema(value_type = Object)]
    pub theme: Theme,
    /// Whether the merchant has put a theme.
    pub theme_set: bool,
}

/// The hosts to answer on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Hosts {
    pub hosts: Vec<String>,
}

/// The storefront id rule: a slug of at most 40 characters (so every edge key stays short,
/// and `_hosts`, the host map's prefix, can never be one).
pub fn valid_id(id: &str) -> bool {
    projections::valid_slug(id) && id.len() <= 40
}

/// The hosts, checked, lower-cased and without repeats, in the order given.
fn check_hosts(hosts: &[String]) -> Result<Vec<String>, ApiError> {
    if hosts.len() > MAX_HOSTS {
        return Err(ApiError::field(
            "hosts",
            format!("at most {MAX_HOSTS} hosts"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for host in hosts {
        let host = host.trim().to_ascii_lowercase();
        if !valid_host(&host) {
            return Err(ApiError::field(
                "hosts",
                "a host is a name like shop.example.com: letters, digits, '-' and '.', no port",
            )
            .with("host", host));
        }
        if !out.contains(&host) {
            out.push(host);
        }
    }
    Ok(out)
}

fn host_taken(host: &str) -> ApiError {
    ApiError::user(
        StatusCode::CONFLICT,
        "host_taken",
        "another storefront in this region answers on this host",
    )
    .with("host", host)
}

/// The operator's bearer token must be the configured one.
fn operator(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = auth::bearer(headers).map(auth::sha256);
    let expected = app
        .operator_token
        .as_ref()
        .map(|t| auth::sha256(t.expose()));
    match (given, expected) {
        (Some(given), Some(expected)) if given == expected => Ok(()),
        _ => Err(ApiError::user(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the operator token is required to create storefronts",
        )),
    }
}

/// Gives `storefront` exactly `hosts`, in order; 409 when another storefront has one.
/// Answers the hosts it no longer has, for the relay to remove from the edge.
async fn set_hosts(
    client: &impl GenericClient,
    storefront: &str,
    hosts: &[String],
) -> Result<Vec<String>, ApiError> {
    let taken = client
        .query_cached(
            "SELECT host FROM storefront_hosts WHERE host = ANY($1) AND storefront <> $2
             ORDER BY host LIMIT 1",
            &[&hosts, &storefront],
        )
        .await?;
    if let Some(row) = taken.first() {
        return Err(host_taken(&row.get::<_, String>(0)));
    }
    let removed: Vec<String> = client
        .query_cached(
            "DELETE FROM storefront_hosts WHERE storefront = $1 AND NOT (host = ANY($2))
             RETURNING host",
            &[&storefront, &hosts],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for (position, host) in hosts.iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        // A host another storefront took since the check above is a unique violation: 409.
        client
            .execute_cached(
                "INSERT INTO storefront_hosts (host, storefront, position) VALUES ($1, $2, $3)
                 ON CONFLICT (host) DO UPDATE SET position = EXCLUDED.position
                 WHERE storefront_hosts.storefront = EXCLUDED.storefront",
                &[host, &storefront, &position],
            )
            .await?;
        let owner = client
            .query_one_cached(
                "SELECT storefront FROM storefront_hosts WHERE host = $1",
                &[host],
            )
            .await?;
        if owner.get::<_, String>(0) != storefront {
            return Err(host_taken(host));
        }
    }
    Ok(removed)
}

async fn changed(
    client: &impl GenericClient,
    storefront: &str,
    removed_hosts: &[String],
) -> Result<(), ApiError> {
    client
        .execute_cached(
            "UPDATE storefronts SET updated_at = now() WHERE id = $1",
            &[&storefront],
        )
        .await?;
    outbox::enqueue(
        client,
        outbox::STOREFRONT_CHANGED,
        json!({ "storefront": storefront, "removed_hosts": removed_hosts }),
    )
    .await?;
    Ok(())
}

/// `POST /v1/operator/storefronts`: creates a storefront in this region.
#[utoipa::path(
    post,
    path = "/v1/operator/storefronts",
    tag = "operator",
    security(("operator" = [])),
    request_body = NewStorefront,
    responses(
        (status = 201, description = "Created; the merchant token is shown this once", body = Created),
        (status = 409, description = "The id or a host is taken; nothing was written", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    operator(&app, &headers)?;
    let new: NewStorefront = crate::json_body(&body)?;
    if !valid_id(&new.id) {
        return Err(ApiError::field(
            "id",
            "a storefront id is 1 to 40 characters from a-z, 0-9 and '-'",
        ));
    }
    let hosts = check_hosts(&new.hosts)?;
    let token = match new.merchant_token {
        Some(token)
            if token.len() < 16 || token.len() > 200 || token.contains(char::is_whitespace) =>
        {
            return Err(ApiError::field(
                "merchant_token",
                "a merchant token is 16 to 200 characters without spaces",
            ));
        }
        Some(token) => token,
        None => auth::random_token().map_err(ApiError::Internal)?,
    };
    let mut client = app.pool.get().await?;
    let tx = client.transaction().await?;
    let inserted = tx
        .execute_cached(
            "INSERT INTO storefronts (id, token_sha256) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            &[&new.id, &auth::sha256(&token)],
        )
        .await?;
    if inserted == 0 {
        return Err(ApiError::user(
            StatusCode::CONFLICT,
            "storefront_exists",
            "a storefront with this id exists in this region",
        )
        .with("id", new.id));
    }
    let token_taken = tx
        .query_opt_cached(
            "SELECT 1 FROM storefronts WHERE token_sha256 = $1 AND id <> $2",
            &[&auth::sha256(&token), &new.id],
        )
        .await?;
    if token_taken.is_some() {
        return Err(ApiError::field(
            "merchant_token",
            "choose another merchant token",
        ));
    }
    set_hosts(&tx, &new.id, &hosts).await?;
    changed(&tx, &new.id, &[]).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: new.id,
            hosts,
            merchant_token: token,
        }),
    ))
}

/// The site of `storefront` as the edge gets it: its hosts and its theme (the default one
/// until its merchant puts one).
pub async fn site(
    client: &impl GenericClient,
    storefront: &str,
) -> anyhow::Result<Option<(Site, bool)>> {
    let Some(row) = client
        .query_opt_cached(
            "SELECT s.theme,
                    coalesce(array_agg(h.host ORDER BY h.position) FILTER (WHERE h.host IS NOT NULL), '{}')
             FROM storefronts s LEFT JOIN storefront_hosts h ON h.storefront = s.id
             WHERE s.id = $1 GROUP BY s.id",
            &[&storefront],
        )
        .await?
    else {
        return Ok(None);
    };
    let stored: Option<Value> = row.get(0);
    let theme = stored
        .clone()
        .and_then(|v| serde_json::from_value::<Theme>(v).ok());
    let set = theme.is_some();
    let theme = theme.unwrap_or_else(|| default_theme(storefront));
    Ok(Some((Site::new(storefront, row.get(1), theme), set)))
}

async fn view(client: &impl GenericClient, storefront: &str) -> Result<StorefrontView, ApiError> {
    let (site, theme_set) = site(client, storefront)
        .await
        .map_err(ApiError::Internal)?
        .ok_or_else(|| ApiError::not_found("storefront"))?;
    Ok(StorefrontView {
        id: site.storefront,
        hosts: site.hosts,
        theme: site.theme,
        theme_set,
    })
}

/// `GET /v1/admin/storefront`: the caller's storefront.
#[utoipa::path(
    get,
    path = "/v1/admin/storefront",
    tag = "merchant",
    security(("merchant" = [])),
    responses(
        (status = 200, description = "The storefront, its hosts and theme", body = StorefrontView),
        (status = "4XX", description = "Refused", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<StorefrontView>, ApiError> {
    let client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    Ok(Json(view(&client, &storefront).await?))
}

/// `PUT /v1/admin/storefront/theme`: the caller's theme. A token that fails its check is a
/// 422 whose `field` names it (`colors.text`, `hero.cta_href`); nothing is written.
#[utoipa::path(
    put,
    path = "/v1/admin/storefront/theme",
    tag = "merchant",
    security(("merchant" = [])),
    request_body(content = Object, description = "The theme: name, logo_text, logo_url?, hero, colors, fonts, shape, layout"),
    responses(
        (status = 200, description = "The storefront with its new theme", body = StorefrontView),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn put_theme(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<StorefrontView>, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let theme: Theme = crate::json_body(&body)?;
    theme
        .check()
        .map_err(|e| ApiError::field(&e.token, e.to_string()))?;
    let tx = client.transaction().await?;
    tx.execute_cached(
        "UPDATE storefronts SET theme = $2 WHERE id = $1",
        &[
            &storefront,
            &serde_json::to_value(&theme).map_err(|e| ApiError::Internal(e.into()))?,
        ],
    )
    .await?;
    changed(&tx, &storefront, &[]).await?;
    let answer = view(&tx, &storefront).await?;
    tx.commit().await?;
    Ok(Json(answer))
}

/// `PUT /v1/admin/storefront/hosts`: the hosts the caller's storefront answers on, replacing
/// the previous ones. A host another storefront has is a 409; nothing is written.
#[utoipa::path(
    put,
    path = "/v1/admin/storefront/hosts",
    tag = "merchant",
    security(("merchant" = [])),
    request_body = Hosts,
    responses(
        (status = 200, description = "The storefront with its new hosts", body = StorefrontView),
        (status = 409, description = "A host is another storefront's; nothing was written", body = ErrorBody),
        (status = "4XX", description = "Refused; nothing was written", body = ErrorBody),
        (status = "5XX", description = "Ours; retry", body = ErrorBody),
    )
)]
pub async fn put_hosts(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<StorefrontView>, ApiError> {
    let mut client = app.pool.get().await?;
    let storefront = auth::merchant(&client, &headers).await?;
    let hosts: Hosts = crate::json_body(&body)?;
    let hosts = check_hosts(&hosts.hosts)?;
    let tx = client.transaction().await?;
    let removed = set_hosts(&tx, &storefront, &hosts).await?;
    changed(&tx, &storefront, &removed).await?;
    let answer = view(&tx, &storefront).await?;
    tx.commit().await?;
    Ok(Json(answer))
}

/// Every storefront of the region, for the relay's full publish.
pub async fn all(client: &impl GenericClient) -> Result<Vec<String>, tokio_postgres::Error> {
    Ok(client
        .query_cached("SELECT id FROM storefronts ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_slugs_that_cannot_be_the_host_map() {
        assert!(valid_id("corner"));
        assert!(valid_id("shop-2"));
        assert!(!valid_id("_hosts"));
        assert!(!valid_id("Corner"));
        assert!(!valid_id(&"a".repeat(41)));
    }

    #[test]
    fn hosts_are_checked_lowered_and_deduplicated() {
        let hosts = check_hosts(&["Shop.Example".into(), "shop.example".into()]).expect("fine");
        assert_eq!(hosts, vec!["shop.example".to_owned()]);
        assert!(check_hosts(&["shop.example:3000".into()]).is_err());
        assert!(check_hosts(&vec!["a.example".to_owned(); MAX_HOSTS + 1]).is_err());
    }
}
