//! A checkout request, parsed: the body's shape, the shopper's details (with the input
//! library the storefront's form uses too), the lines, and the countries, refused with a
//! 4xx before anything is written.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use region_config::CountryCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i64 = 1_000;

/// A checkout: the cart's lines, the shopper, the payment.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CheckoutRequest)]
#[serde(deny_unknown_fields)]
pub struct Body {
    pub(super) storefront: String,
    pub(super) lines: Vec<Line>,
    pub(super) currency: String,
    #[serde(default)]
    pub(super) promo_codes: Vec<String>,
    /// The quote the shopper saw (from the edge pricing component), if the storefront sends
    /// it: the checkout is refused when the price changed since.
    #[serde(default)]
    pub(super) quote: Option<SeenQuote>,
    pub(super) shopper: Shopper,
    pub(super) payment: Payment,
    /// The delivery slot. Required when the storefront has slot templates.
    #[serde(default)]
    pub(super) delivery: Option<DeliveryChoice>,
    /// Order even if lines are short in the warehouse (an `out_of_stock` answer named them),
    /// when each allows a substitute: the picker substitutes what is missing.
    #[serde(default)]
    pub(super) allow_short: bool,
}

/// The delivery slot chosen, and the shopper's hold on it if they reserved it before the
/// cart (`POST /v1/slot-holds`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryChoice {
    pub(super) slot_id: String,
    #[serde(default)]
    pub(super) hold_token: Option<String>,
}

/// The part of an edge quote that proves what the shopper saw.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeenQuote {
    pub(super) signature: String,
    pub(super) issued_at: u64,
    pub(super) expires_at: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = CheckoutLine)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub(super) sku: String,
    pub(super) quantity: i64,
    /// Whether the picker may substitute what is missing; the storefront's default when
    /// left out.
    #[serde(default)]
    pub(super) substitute: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[cfg_attr(test, derive(Default))]
#[serde(deny_unknown_fields)]
pub struct Shopper {
    pub(super) email: String,
    pub(super) name: String,
    pub(super) phone: Option<String>,
    pub(super) country: String,
    pub(super) address: Address,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[cfg_attr(test, derive(Default))]
#[serde(deny_unknown_fields)]
pub struct Address {
    line1: String,
    line2: Option<String>,
    pub(super) city: String,
    pub(super) postal_code: String,
    pub(super) country: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    pub(super) method: String,
    pub(super) token: String,
}

/// A checkout request after validation.
#[derive(Debug)]
pub(super) struct Checkout {
    pub(super) body: Body,
    pub(super) country: CountryCode,
    pub(super) ship_to: CountryCode,
    /// (sku, quantity), sorted by SKU.
    pub(super) lines: Vec<(String, i32)>,
    /// Per SKU, the shopper's substitution choice, if they made one.
    pub(super) substitutes: std::collections::BTreeMap<String, bool>,
    /// The delivery slot chosen, if any.
    pub(super) slot: Option<uuid::Uuid>,
}

/// Refuses prices sent by the client before anything else looks at the lines: prices are
/// the core's.
fn refuse_client_prices(value: &Value) -> Result<(), ApiError> {
    const PRICE_KEYS: [&str; 6] = [
        "price",
        "unit_price",
        "unit_price_minor",
        "price_minor",
        "amount_minor",
        "total_minor",
    ];
    let lines = value.get("lines").and_then(Value::as_array);
    for (i, line) in lines.into_iter().flatten().enumerate() {
        if let Some(key) = PRICE_KEYS.iter().find(|k| line.get(**k).is_some()) {
            return Err(ApiError::unprocessable(
                "client_prices_refused",
                "prices are set by the regional core; send SKUs and quantities only",
            )
            .with("line", i)
            .with("field", *key));
        }
    }
    for key in ["total_minor", "subtotal_minor", "tax_minor"] {
        if value.get(key).is_some() {
            return Err(ApiError::unprocessable(
                "client_prices_refused",
                "prices are set by the regional core; send SKUs and quantities only",
            )
            .with("field", key));
        }
    }
    Ok(())
}

pub(super) fn parse(app: &AppState, raw: &Value) -> Result<Checkout, ApiError> {
    crate::refuse_nul(raw)?;
    refuse_client_prices(raw)?;
    if let Some(lines) = raw.get("lines").and_then(Value::as_array) {
        for (i, line) in lines.iter().enumerate() {
            let q = line.get("quantity");
            if !q
                .and_then(Value::as_i64)
                .is_some_and(|q| (1..=MAX_QUANTITY).contains(&q))
            {
                return Err(ApiError::unprocessable(
                    "invalid_quantity",
                    "a quantity is a whole number from 1 to 1000",
                )
                .with("line", i)
                .with("quantity", q.cloned().unwrap_or(Value::Null)));
            }
        }
    }
    let body: Body = serde_json::from_value(raw.clone())
        .map_err(|e| ApiError::bad_request("malformed_body", e.to_string()))?;

    let country: CountryCode = body
        .shopper
        .country
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| {
            ApiError::field(
                "shopper.country",
                "an ISO 3166-1 alpha-2 country code, e.g. DE",
            )
        })?;
    let ship_to: CountryCode = body
        .shopper
        .address
        .country
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| {
            ApiError::field(
                "shopper.address.country",
                "an ISO 3166-1 alpha-2 country code, e.g. DE",
            )
        })?;
    for c in [country, ship_to] {
        let home = app.regions.home_region(c);
        if home.id != app.region.id {
            // Nothing about the shopper is stored or logged: only the home region is named.
            return Err(ApiError::user(
                StatusCode::MISDIRECTED_REQUEST,
                "wrong_region",
                format!("shoppers from {c} are served by region {}", home.id),
            )
            .with("home_region", home.id.as_str())
            .with(
                "home_core_url",
                home.core_url.as_ref().map(|u| u.to_string()),
            ));
        }
    }
    if body.currency != app.region.currency.as_str() {
        return Err(ApiError::unprocessable(
            "currency_not_region",
            format!("region {} sells in {}", app.region.id, app.region.currency),
        )
        .with("currency", app.region.currency.as_str()));
    }
    if body.lines.is_empty() || body.lines.len() > MAX_LINES {
        return Err(ApiError::field("lines", "a checkout has 1 to 100 lines"));
    }
    let mut seen = BTreeSet::new();
    let mut lines = Vec::new();
    let mut substitutes = std::collections::BTreeMap::new();
    for line in &body.lines {
        if !crate::products::valid_sku(&line.sku) {
            return Err(ApiError::unprocessable("unknown_sku", "no such product")
                .with("sku", line.sku.as_str()));
        }
        if !seen.insert(line.sku.clone()) {
            return Err(
                ApiError::unprocessable("duplicate_line", "each SKU appears on one line")
                    .with("sku", line.sku.as_str()),
            );
        }
        let quantity = i32::try_from(line.quantity)
            .map_err(|_| ApiError::field("lines", "quantity out of range"))?;
        lines.push((line.sku.clone(), quantity));
        if let Some(choice) = line.substitute {
            substitutes.insert(line.sku.clone(), choice);
        }
    }
    lines.sort();
    if body.promo_codes.len() > 5 {
        return Err(ApiError::field("promo_codes", "at most 5 promo codes"));
    }
    for code in &body.promo_codes {
        if crate::promotions::normalise_code(code).is_none() {
            return Err(ApiError::unprocessable(
                "unknown_promo_code",
                "this promo code does not exist",
            )
            .with("promo_code", code.as_str()));
        }
    }
    let mut body = body;
    body.shopper = parse_shopper(&body.shopper)?;
    if body.payment.method != "card" {
        return Err(ApiError::field(
            "payment.method",
            "the only payment method is \"card\"",
        ));
    }
    let token = &body.payment.token;
    if !token.starts_with("tok_")
        || token.len() > 64
        || !token.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::field(
            "payment.token",
            "a PSP token (tok_…); card numbers are never accepted",
        ));
    }
    let slot = body
        .delivery
        .as_ref()
        .map(|d| d.slot_id.parse())
        .transpose()
        .map_err(|_| ApiError::field("delivery.slot_id", "a delivery slot's id"))?;
    if body
        .delivery
        .as_ref()
        .and_then(|d| d.hold_token.as_deref())
        .is_some_and(|t| t.is_empty() || t.len() > 128)
    {
        return Err(ApiError::field(
            "delivery.hold_token",
            "the token of a slot hold",
        ));
    }
    Ok(Checkout {
        body,
        country,
        ship_to,
        lines,
        substitutes,
        slot,
    })
}

/// The shopper's details parsed with the input library the storefront's checkout form uses
/// too (`shopper-input`), so the form and this API accept exactly the same inputs; trimmed
/// and normalised as they are stored.
fn parse_shopper(s: &Shopper) -> Result<Shopper, ApiError> {
    use shopper_input::address::AddressInput;
    use shopper_input::{Email, PersonName, Phone, PostalAddress};
    let name = PersonName::parse(&s.name).map_err(|e| ApiError::input("shopper.name", &e))?;
    let email = Email::parse(&s.email).map_err(|e| ApiError::input("shopper.email", &e))?;
    let phone = Phone::parse_optional(s.phone.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::input("shopper.phone", &e))?;
    let a = &s.address;
    let address = PostalAddress::parse(AddressInput {
        line1: &a.line1,
        line2: a.line2.as_deref().unwrap_or(""),
        city: &a.city,
        postal_code: &a.postal_code,
        country: &a.country,
    })
    .map_err(|(field, e)| ApiError::input(&format!("shopper.address.{field}"), &e))?;
    Ok(Shopper {
        email: email.into_string(),
        name: name.into_string(),
        phone: phone.map(Phone::into_string),
        country: s.country.clone(),
        address: Address {
            line1: address.line1.into_string(),
            line2: address.line2.map(shopper_input::Text::into_string),
            city: address.city.into_string(),
            postal_code: address.postal_code.into_string(),
            country: address.country.as_str().to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_api_accepts_exactly_what_the_shared_input_table_says() {
        // The storefront's checkout form runs the same table (`web/src/app.rs`).
        for row in shopper_input::table::rows() {
            let f: std::collections::BTreeMap<&str, String> =
                shopper_input::table::shopper(&row).into_iter().collect();
            let shopper = Shopper {
                email: f["email"].clone(),
                name: f["name"].clone(),
                phone: Some(f["phone"].clone()),
                country: f["country"].clone(),
                address: Address {
                    line1: f["line1"].clone(),
                    line2: Some(f["line2"].clone()),
                    city: f["city"].clone(),
                    postal_code: f["postal_code"].clone(),
                    country: f["country"].clone(),
                },
            };
            match parse_shopper(&shopper) {
                Ok(_) => assert!(row.accepted, "{row:?} was accepted"),
                Err(e) => {
                    assert!(!row.accepted, "{row:?}: {e}");
                    let body = e.body();
                    let field = body["error"]["field"].as_str().unwrap();
                    assert!(field.ends_with(row.field), "{row:?} refused as {field}");
                }
            }
        }
    }

    #[test]
    fn a_nul_anywhere_in_a_body_is_refused_naming_the_field() {
        let body =
            serde_json::json!({"shopper": {"name": "Ada\u{0}Lovelace"}, "lines": [{"sku": "A"}]});
        let e = crate::refuse_nul(&body).unwrap_err();
        assert_eq!(e.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body()["error"]["field"], "shopper.name");
        let body = serde_json::json!({"lines": [{"sku": "A"}, {"sku": "B\u{0}"}]});
        assert_eq!(
            crate::refuse_nul(&body).unwrap_err().body()["error"]["field"],
            "lines.1.sku"
        );
        assert!(crate::refuse_nul(&serde_json::json!({"ok": ["fine"]})).is_ok());
    }
}
